//! EVTX files, read chunk by chunk as their bytes arrive.
//!
//! An EVTX file is a 4 KiB header and then 64 KiB chunks, each parsed on its own by the
//! `evtx` crate. The header's chunk count is not trusted (files copied from live
//! systems have stale headers): every complete chunk that carries the `ElfChnk` magic is
//! read, zeroed chunks are passed over, and a corrupt chunk is reported and skipped.
//!
//! The results are those of the same events exported from Event Viewer: a record is
//! rendered as XML by the crate and read like an exported XML event. Rendering and
//! re-reading every record was most of the time an EVTX file took, though (about 4x
//! `evtx_dump`'s own time), and most records are only counted, so with the prefilter
//! on a chunk is first planned (`plan`): records whose binary XML has a plain shape
//! (`binxml`) are read from their templates and substitution values (`walk`,
//! `value_text`) into what the XML path would give (a count by EventID, an event of
//! another provider, or the event of a process creation or network connection) and
//! never rendered; any other record, and every record with the prefilter off, is
//! rendered and read as XML. Such a reading accepts only what the crate reads without
//! error, so a chunk whose records are all read so is not walked by the crate; any
//! other chunk is, and its unreadable records are reported as before.

mod binxml;
mod plan;
mod value_text;
mod walk;

#[cfg(test)]
mod tests;

use super::input::Sink;
use super::prefilter::{self, Verdict};
use super::text::accept;
use super::xml;
use super::{Numbering, Position};
use evtx::{EvtxChunkData, ParserSettings, SerializedEvtxRecord};
use plan::{Decision, Planner};
use std::sync::Arc;

const FILE_HEADER_BYTES: usize = 4096;
const CHUNK_BYTES: usize = 65536;

pub struct Evtx {
    member: usize,
    buffer: Vec<u8>,
    header_read: bool,
    chunks: u64,
    settings: Arc<ParserSettings>,
    planner: Planner,
}

impl Evtx {
    pub fn new(member: usize) -> Self {
        Self {
            member,
            buffer: Vec::with_capacity(CHUNK_BYTES),
            header_read: false,
            chunks: 0,
            settings: Arc::new(ParserSettings::new().num_threads(1)),
            planner: Planner::default(),
        }
    }

    pub fn feed(&mut self, mut bytes: &[u8], sink: &mut Sink<'_>) {
        sink.members[self.member].stats.bytes += bytes.len() as u64;
        while !bytes.is_empty() {
            let want = if self.header_read {
                CHUNK_BYTES
            } else {
                FILE_HEADER_BYTES
            };
            let take = (want - self.buffer.len()).min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() == want {
                let block = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
                if self.header_read {
                    self.read_chunk(block, sink);
                } else {
                    self.header_read = true;
                }
            }
        }
    }

    pub fn finish(&mut self, sink: &mut Sink<'_>) {
        let stats = &mut sink.members[self.member].stats;
        stats.format = "evtx";
        stats.numbering = Numbering::Records;
        stats.encoding = super::decode::Encoding::Utf16Le;
        if self.buffer.iter().any(|&b| b != 0) {
            stats.skip_at(
                Position::Chunk(self.chunks),
                format!(
                    "the file ends inside a chunk ({} of {CHUNK_BYTES} bytes)",
                    self.buffer.len()
                ),
            );
        }
    }

    fn read_chunk(&mut self, data: Vec<u8>, sink: &mut Sink<'_>) {
        let index = self.chunks;
        self.chunks += 1;
        if !data.starts_with(b"ElfChnk\0") {
            if data.iter().any(|&b| b != 0) {
                let stats = &mut sink.members[self.member].stats;
                stats.skip_at(
                    Position::Chunk(index),
                    "not an EVTX chunk (no ElfChnk signature); skipped".into(),
                );
            }
            return;
        }
        let member = self.member;
        let mut chunk_data = match EvtxChunkData::new(data, false) {
            Ok(chunk) => chunk,
            Err(err) => {
                return sink.members[member]
                    .stats
                    .skip_at(Position::Chunk(index), format!("corrupt chunk: {err}"));
            }
        };
        let plan = match sink.prefilter {
            true => self.planner.plan(&chunk_data.data, &chunk_data.header),
            false => None,
        };
        let mut chunk = match chunk_data.parse(Arc::clone(&self.settings)) {
            Ok(chunk) => chunk,
            Err(err) => {
                return sink.members[member]
                    .stats
                    .skip_at(Position::Chunk(index), format!("corrupt chunk: {err}"));
            }
        };
        sink.members[member].stats.format = "evtx";
        sink.members[member].stats.numbering = Numbering::Records;
        let before = sink.members[member].stats.records();
        match plan {
            // Every record is read from its binary XML. The plan takes only records the crate
            // reads without error, within a budget it cannot spend, so it need not walk them.
            Some(plan) if plan.iter().all(|planned| !needs_rendering(&planned.decision)) => {
                for planned in plan.drain(..) {
                    take(planned.decision, member, planned.record_id, sink);
                }
            }
            plan => {
                let mut plan = plan.map(|plan| plan.drain(..));
                let mut last_record = None;
                for record in chunk.iter() {
                    // The plan frames records as the crate does: each item is the next planned one.
                    let planned = plan.as_mut().and_then(Iterator::next);
                    let read = record.and_then(|record| {
                        let decision = match planned {
                            Some(planned) if planned.binxml_offset as u64 == record.binxml_offset => planned.decision,
                            // Never seen: read the rest of the chunk the ordinary way.
                            Some(_) => {
                                plan = None;
                                Decision::Render
                            }
                            None => Decision::Render,
                        };
                        if take(decision, member, record.event_record_id, sink) {
                            return Ok(Read::Taken(record.event_record_id));
                        }
                        record.into_xml().map(Read::Rendered)
                    });
                    match read {
                        Ok(Read::Taken(id)) => last_record = Some(id),
                        Ok(Read::Rendered(record)) => {
                            last_record = Some(record.event_record_id);
                            read_xml(&record.data, member, record.event_record_id, sink);
                        }
                        Err(err) => {
                            let position = Position::RecordAfter {
                                chunk: index,
                                after: last_record,
                            };
                            sink.members[member]
                                .stats
                                .skip_at(position, format!("unreadable record: {err}"));
                        }
                    }
                }
            }
        }
        *sink.records += sink.members[member].stats.records() - before;
    }
}

/// A record of a chunk: taken as planned, or rendered.
enum Read {
    Taken(u64),
    Rendered(SerializedEvtxRecord<String>),
}

/// True when a record is to be rendered: the plan says so, or a detection may report its event.
fn needs_rendering(decision: &Decision) -> bool {
    match decision {
        Decision::Render => true,
        Decision::Event(event) => crate::detect::may_back_finding(event),
        _ => false,
    }
}

/// Does what `decision` says with the record at `line`; false when it is to be rendered.
fn take(decision: Decision, member: usize, line: u64, sink: &mut Sink<'_>) -> bool {
    let stats = &mut sink.members[member].stats;
    match decision {
        Decision::Render => return false,
        Decision::Count(event_id) => stats.count_sysmon(event_id),
        Decision::Other => stats.other_events += 1,
        // An event a detection may report is rendered, to keep its record as XML.
        Decision::Event(event) if crate::detect::may_back_finding(&event) => return false,
        Decision::Event(event) => accept(stats, *event, None, line, &mut |event, line| {
            (sink.on_event)(event, member, line)
        }),
    }
    true
}

/// Reads a rendered record as an exported XML event.
fn read_xml(xml: &str, member: usize, line: u64, sink: &mut Sink<'_>) {
    let stats = &mut sink.members[member].stats;
    if sink.prefilter
        && let Verdict::CountOnly(event_id) = prefilter::xml_event(xml)
    {
        return stats.count_sysmon(event_id);
    }
    match xml::parse::parse_event(xml) {
        Ok(event) => accept(stats, event, Some(xml.as_bytes()), line, &mut |event, line| {
            (sink.on_event)(event, member, line)
        }),
        Err(reason) => stats.skip(line, reason),
    }
}
