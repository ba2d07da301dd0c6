//! What to do with each record of a chunk before the `evtx` crate renders any: count
//! it, take its event, or render it.
//!
//! The records are framed as the crate's iterator frames them, from the first after
//! the chunk header to the chunk's last record or its free space; a chunk that frames
//! otherwise (a bad record header, a record past the chunk) is left to the crate
//! whole. Each record read here ([`binxml`], [`walk`]) is decided as the XML path
//! would decide it, [`prefilter::is_read_by_detections`] included: a non-Sysmon event
//! is counted as other, a Sysmon event of an EventID no detection reads is counted,
//! and a Sysmon process creation or network connection becomes its event. A record
//! read here is one the crate reads without error too ([`binxml`] reads the same bytes
//! and accepts less), and one it renders without error ([`walk`] gives up on what the
//! renderer refuses).
//!
//! Rendering costs the crate a chunk-wide budget (output bytes and tree nodes), which
//! fails the chunk's later records once spent, so leaving records unrendered could let
//! a later record render that otherwise would not. A chunk is therefore planned only
//! when rendering all its records could not spend that budget: a bound on what each
//! record read here may cost, and the most any other record may cost, sum to less
//! than the crate allows. Real chunks cost a few hundred kilobytes; the bound is tens
//! of megabytes.

use super::binxml::{Record, Templates, Value};
use super::value_text::{self, Place};
use super::walk::{self, Reading, Text};
use crate::ingest::RawEvent;
use crate::ingest::prefilter;
use evtx::EvtxChunkHeader;
use evtx::binxml::value_variant::FileTime;

const CHUNK_HEADER_BYTES: usize = 512;
const RECORD_HEADER_BYTES: usize = 24;

/// What the crate lets one pass over a chunk spend before it fails the next record
/// (evtx 0.15: `MAX_CHUNK_OUTPUT` less `MAX_RECORD_OUTPUT` bytes, `MAX_CHUNK_NODES` less
/// `MAX_RENDER_NODES` nodes), with a margin.
const CHUNK_OUTPUT: usize = 44 << 20;
const CHUNK_NODES: usize = 700_000;
/// The most a record not read here may cost: a record's whole node budget, and its output
/// limit with as much again for what a failing record writes past it.
const OTHER_RECORD_OUTPUT: usize = 32 << 20;
const OTHER_RECORD_NODES: usize = 1 << 18;

/// What to do with one record.
pub enum Decision {
    /// Render it and read the XML, as for any record not read here.
    Render,
    /// A Sysmon event of this EventID, which no detection reads.
    Count(u32),
    /// An event of another provider.
    Other,
    /// A Sysmon event the detections read.
    Event(Box<RawEvent>),
}

/// One record as framed, with its decision.
pub struct Planned {
    /// Where its binary XML starts in the chunk (the crate's `EvtxRecord::binxml_offset`).
    pub binxml_offset: usize,
    pub record_id: u64,
    pub decision: Decision,
}

/// Plans chunks, keeping its buffers from one chunk to the next.
#[derive(Default)]
pub struct Planner {
    templates: Templates,
    planned: Vec<Planned>,
}

impl Planner {
    /// The chunk's records in order with their decisions, or `None` when the chunk is left
    /// to the crate whole.
    pub fn plan(&mut self, data: &[u8], header: &EvtxChunkHeader) -> Option<&mut Vec<Planned>> {
        self.templates.clear();
        self.planned.clear();
        let mut record = Record::default();
        let mut reading = Reading::default();
        let (mut output, mut nodes) = (0usize, 0usize);
        for (record_id, stream) in frames(data, header)? {
            let (decision, cost) = if record.read(data, stream.clone(), &mut self.templates) {
                let cost = self.cost(&record);
                let decision = if walk::read(data, &self.templates, &record, &mut reading) {
                    decide(&reading).unwrap_or(Decision::Render)
                } else {
                    Decision::Render
                };
                (decision, cost)
            } else {
                (Decision::Render, (OTHER_RECORD_OUTPUT, OTHER_RECORD_NODES))
            };
            output = output.saturating_add(cost.0);
            nodes = nodes.saturating_add(cost.1);
            if output > CHUNK_OUTPUT || nodes > CHUNK_NODES {
                return None;
            }
            self.planned.push(Planned {
                binxml_offset: stream.start,
                record_id,
                decision,
            });
        }
        Some(&mut self.planned)
    }

    /// A bound on the output bytes and nodes rendering `record` costs the chunk.
    fn cost(&self, record: &Record<'_>) -> (usize, usize) {
        let templates = record
            .instances
            .iter()
            .filter_map(|instance| self.templates.get(instance.template));
        let depth: usize = templates.clone().map(|template| template.depth).sum();
        let (mut output, mut nodes) = (64, 64);
        for template in templates {
            // Each element's two lines indented by up to twice the depth, two bytes a level.
            output += template.output + template.elements * 4 * (depth + 1);
            nodes += 4 * template.nodes;
        }
        let values: usize = record.values.iter().map(value_text::written_bound).sum();
        (output + values, nodes)
    }
}

/// The id and binary XML of each record of the chunk, framed as the crate's iterator
/// frames them; `None` when a record header is not one it reads without error.
fn frames(data: &[u8], header: &EvtxChunkHeader) -> Option<Vec<(u64, std::ops::Range<usize>)>> {
    let live_end = (header.free_space_offset as usize).min(data.len());
    let mut streams = Vec::new();
    let mut at = CHUNK_HEADER_BYTES;
    while at < live_end {
        let record = data.get(at..at.checked_add(RECORD_HEADER_BYTES)?)?;
        let field = |from: usize, to: usize| record[from..to].iter().rev().fold(0u64, |n, &b| n << 8 | u64::from(b));
        let (magic, size, id, written) = (field(0, 4), field(4, 8) as usize, field(8, 16), field(16, 24));
        if magic != 0x2a2a || size < RECORD_HEADER_BYTES + 4 || FileTime(written).to_timestamp().is_none() {
            return None;
        }
        let start = at + RECORD_HEADER_BYTES;
        let end = start
            .checked_add(size - RECORD_HEADER_BYTES - 4)
            .filter(|&end| end <= data.len())?;
        streams.push((id, start..end));
        if id == header.last_event_record_id {
            break;
        }
        at = at.checked_add(size)?;
    }
    Some(streams)
}

/// What the XML path would do with the event `reading` holds, if it is worked out here.
fn decide(reading: &Reading<'_>) -> Option<Decision> {
    // A field that is there but not worked out here gives up; one that is not there is `None`.
    let field = |text: Option<Text<'_>>, place| match text {
        Some(text) => value_text::read(text, place).map(Some),
        None => Some(None),
    };
    let attribute = |text: &Option<Text<'_>>| field(*text, Place::Attribute);
    let element = |text: &Option<Text<'_>>| field(*text, Place::Element);
    let mut event = RawEvent {
        provider: attribute(&reading.provider)?,
        channel: element(&reading.channel)?,
        ..RawEvent::default()
    };
    if !event.is_sysmon() {
        return Some(Decision::Other);
    }
    let event_id = match reading.event_id? {
        Text::Value(Value::Unsigned(number)) => u32::try_from(number).ok(),
        text => value_text::read(text, Place::Element)?.trim().parse().ok(),
    }?;
    if !prefilter::is_read_by_detections(event_id) {
        return Some(Decision::Count(event_id));
    }
    event.event_id = Some(event_id);
    event.computer = element(&reading.computer)?;
    event.system_time = attribute(&reading.system_time)?;
    event.security_user_id = attribute(&reading.user_id)?;
    event.data = Vec::with_capacity(reading.data.len());
    for &(name, text) in &reading.data {
        let name = value_text::read(name, Place::Attribute)?;
        event.data.push((name, value_text::read(text, Place::Element)?));
    }
    Some(Decision::Event(Box::new(event)))
}
