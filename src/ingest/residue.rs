//! What a reader of a later part of a file leaves for the first reader to finish, as bytes.
//!
//! In the page, parts of one file are read by separate workers, and events cannot cross
//! between them cheaply. A collecting reader ([`TextIngest::collecting`]) frames and
//! prefilters its part as usual and counts what the prefilter counts, but keeps each
//! record that needs parsing, and each skip, in order: its residue, a few percent of the
//! part's bytes. The first reader takes the residue back ([`TextIngest::absorb_residue`]),
//! parsing those records itself, so the report is the one reading in order gives.
//!
//! Layout: a `u32` (little-endian) length, the [`Summary`] as JSON, then the items, each
//! a tag byte (0 a record, 1 a skip), its line in the part (`u64`), a `u32` length and
//! that many bytes (the record, or the skip's reason).
//!
//! [`TextIngest::collecting`]: super::text::TextIngest::collecting
//! [`TextIngest::absorb_residue`]: super::text::TextIngest::absorb_residue

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const RECORD: u8 = 0;
const SKIP: u8 = 1;

/// Everything of a part other than its records and skips.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// `xml` or `json`: the framing the part was read with.
    pub kind: String,
    /// The format name the part's reader ended with (a JSON shape, an XML layout, or empty).
    pub format: String,
    pub bytes: u64,
    /// Newlines in the part.
    pub lines: u64,
    /// Sysmon events the prefilter counted, by EventID.
    pub sysmon_events: BTreeMap<u32, u64>,
    /// The XML layout name the part's framer saw (`xml-lines`, `xml-rootless`, `xml-events`).
    pub layout: String,
    /// Whether the part ended between records.
    pub idle: bool,
}

/// One item of a residue, in the order it was met.
#[derive(Debug, PartialEq)]
pub enum Item<'a> {
    /// A record the first reader parses: its line in the part, its bytes.
    Record(u64, &'a [u8]),
    /// A skip: its line in the part, its reason.
    Skip(u64, &'a str),
}

/// The items of a part as they are collected, already encoded.
#[derive(Default)]
pub struct Collected {
    items: Vec<u8>,
}

impl Collected {
    pub fn record(&mut self, line: u64, text: &[u8]) {
        self.push(RECORD, line, text);
    }

    pub fn skip(&mut self, line: u64, reason: &str) {
        self.push(SKIP, line, reason.as_bytes());
    }

    fn push(&mut self, tag: u8, line: u64, bytes: &[u8]) {
        // A record is at most MAX_RECORD_BYTES, far below u32::MAX; a reason is short.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.items.push(tag);
        self.items.extend_from_slice(&line.to_le_bytes());
        self.items.extend_from_slice(&len.to_le_bytes());
        self.items.extend_from_slice(&bytes[..len as usize]);
    }

    /// The residue: the summary, then the items.
    pub fn encode(self, summary: &Summary) -> Vec<u8> {
        let head = serde_json::to_vec(summary).unwrap_or_default();
        let mut out = Vec::with_capacity(4 + head.len() + self.items.len());
        out.extend_from_slice(&u32::try_from(head.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&head);
        out.extend_from_slice(&self.items);
        out
    }
}

/// Reads a residue back: its summary and its items, or why it is not one.
pub fn decode(encoded: &[u8]) -> Result<(Summary, Vec<Item<'_>>), String> {
    let mut rest = encoded;
    let head_len = take_u32(&mut rest)? as usize;
    let head = take(&mut rest, head_len)?;
    let summary = serde_json::from_slice(head).map_err(|err| format!("residue summary: {err}"))?;
    let mut items = Vec::new();
    while let Some((&tag, after)) = rest.split_first() {
        rest = after;
        let line = u64::from_le_bytes(take(&mut rest, 8)?.try_into().map_err(|_| "residue line")?);
        let len = take_u32(&mut rest)? as usize;
        let bytes = take(&mut rest, len)?;
        items.push(match tag {
            RECORD => Item::Record(line, bytes),
            SKIP => Item::Skip(
                line,
                std::str::from_utf8(bytes).map_err(|_| "residue skip reason is not UTF-8")?,
            ),
            other => return Err(format!("residue item of unknown kind {other}")),
        });
    }
    Ok((summary, items))
}

fn take<'a>(rest: &mut &'a [u8], len: usize) -> Result<&'a [u8], String> {
    if rest.len() < len {
        return Err("residue cut short".into());
    }
    let (taken, after) = rest.split_at(len);
    *rest = after;
    Ok(taken)
}

fn take_u32(rest: &mut &[u8]) -> Result<u32, String> {
    Ok(u32::from_le_bytes(
        take(rest, 4)?.try_into().map_err(|_| "residue length")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::segments::cuts;
    use super::super::text::TextIngest;
    use super::super::{IngestStats, RawEvent};
    use std::path::{Path, PathBuf};

    type Read = (Vec<(RawEvent, u64)>, serde_json::Value);

    fn report(events: Vec<(RawEvent, u64)>, stats: &IngestStats) -> Read {
        (events, serde_json::to_value(stats).expect("serializes"))
    }

    fn in_order(bytes: &[u8]) -> Read {
        let mut reader = TextIngest::new(true);
        let mut events = Vec::new();
        let mut keep = |event, line| events.push((event, line));
        for chunk in bytes.chunks(4096) {
            reader.feed(chunk, &mut keep);
        }
        reader.finish(&mut keep);
        report(events, &reader.stats)
    }

    /// Reads the head in order and each later part through a residue; how many residues.
    fn through_residues(bytes: &[u8], cuts: &[u64]) -> (Read, usize) {
        let mut first = TextIngest::new(true);
        let mut events = Vec::new();
        let mut keep = |event, line| events.push((event, line));
        let ends: Vec<usize> = cuts.iter().map(|&cut| cut as usize).chain([bytes.len()]).collect();
        first.feed(&bytes[..ends[0]], &mut keep);
        let mut lines_before = memchr::memchr_iter(b'\n', &bytes[..ends[0]]).count() as u64;
        let mut residues = 0;
        let mut part = 0;
        while part + 1 < ends.len() {
            let from = ends[part];
            let Some(reader) = first.continuing().filter(|_| first.is_idle()) else {
                first.feed(&bytes[from..], &mut keep);
                break;
            };
            let mut reader = reader.collecting();
            let mut to = ends[part + 1];
            for chunk in bytes[from..to].chunks(1000) {
                reader.feed(chunk, &mut |_, _| panic!("a collecting reader hands on no events"));
            }
            if !reader.is_idle() {
                // The cut after this part is no record boundary: its reader reads on.
                reader.feed(&bytes[to..], &mut |_, _| panic!("no events"));
                to = bytes.len();
            }
            let encoded = reader.into_residue(to == bytes.len());
            let summary = first
                .absorb_residue(&encoded, lines_before, &mut keep)
                .expect("absorbed");
            assert_eq!(summary.bytes, (to - from) as u64);
            lines_before += summary.lines;
            residues += 1;
            part = ends.iter().position(|&end| end == to).expect("an end");
        }
        first.finish(&mut keep);
        (report(events, &first.stats), residues)
    }

    fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    #[test]
    fn residues_give_the_report_of_reading_in_order() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        files_under(&root.join("tests/cases"), &mut paths);
        files_under(&root.join("../shared/datasets"), &mut paths);
        let mut inputs: Vec<(String, Vec<u8>)> = paths
            .iter()
            .map(|path| (path.display().to_string(), std::fs::read(path).expect("readable")))
            .collect();
        for shape in crate::generate::Shape::ALL {
            let mut bytes = Vec::new();
            crate::generate::generate(crate::generate::Plan::new(shape, 20_000, 5), &mut bytes).expect("in memory");
            inputs.push((format!("generated.{}", shape.name()), bytes));
        }
        let mut residues = 0;
        for (name, bytes) in &inputs {
            let whole = in_order(bytes);
            for part_bytes in [61, 997, 8192, 100_000] {
                let cuts = cuts(&bytes.as_slice(), part_bytes).expect("in memory");
                if cuts.is_empty() {
                    continue;
                }
                let (parts, taken) = through_residues(bytes, &cuts);
                assert!(parts.1 == whole.1, "{name}, parts of {part_bytes}: stats differ");
                assert!(parts.0 == whole.0, "{name}, parts of {part_bytes}: events differ");
                residues += taken;
            }
        }
        assert!(residues > 500, "{residues} residues absorbed");
    }

    #[test]
    fn a_residue_round_trips_and_a_damaged_one_is_refused() {
        let mut collected = super::Collected::default();
        collected.record(3, b"<Event/>");
        collected.skip(7, "why");
        let summary = super::Summary {
            kind: "xml".into(),
            lines: 9,
            ..Default::default()
        };
        let encoded = collected.encode(&summary);
        let (decoded, items) = super::decode(&encoded).expect("decodes");
        assert_eq!(decoded, summary);
        assert_eq!(
            items,
            [super::Item::Record(3, b"<Event/>"), super::Item::Skip(7, "why")]
        );
        assert!(super::decode(&encoded[..encoded.len() - 1]).is_err());
        let mut json_reader = TextIngest::new(true);
        json_reader.feed(b"{\"EventID\":1}\n", &mut |_, _| {});
        assert!(
            json_reader.absorb_residue(&encoded, 1, &mut |_, _| {}).is_err(),
            "an XML residue into a JSON reader"
        );
    }
}
