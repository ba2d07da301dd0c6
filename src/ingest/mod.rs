//! Ingest: file bytes in, [`RawEvent`]s out, one file at a time and chunk by chunk.
//!
//! An [`Input`] unwraps containers ([`containers`]) down to text files; each text
//! file goes through three steps kept apart: decoding to UTF-8 ([`decode`]), finding
//! each record's bytes ([`xml::frames`], [`json::frames`]) and parsing one record
//! ([`xml::parse`], [`json`]). Formats are sniffed from the first bytes. Bad
//! records become [`Skip`]s with a line number; reading always goes on.

pub mod containers;
pub mod csv;
pub mod decode;
pub mod evtx;
pub mod input;
pub mod json;
pub mod lines;
pub mod position;
pub mod prefilter;
pub mod raw_event;
pub mod residue;
pub mod segments;
pub mod text;
pub mod xml;

use decode::Encoding;
pub use input::{Input, Member};
pub use position::{Numbering, Position};
pub use raw_event::RawEvent;
use serde::Serialize;
use std::collections::BTreeMap;

/// A record larger than this is skipped rather than buffered.
pub const MAX_RECORD_BYTES: usize = 8 << 20;
/// How many skipped records are listed per file (all are counted).
const MAX_LISTED_SKIPS: usize = 20;

/// What a framer hands on: one record's bytes, or a reason some bytes were skipped.
pub enum Piece<'a> {
    Record { text: &'a [u8], line: u64 },
    Skipped { line: u64, reason: String },
}

/// A record that could not be analyzed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Skip {
    /// Where it starts, printed e.g. "line 17".
    pub position: Position,
    pub reason: String,
}

/// What reading one file found, beside its events.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestStats {
    pub format: &'static str,
    /// How its records are numbered (EVTX: by record id).
    #[serde(skip)]
    pub numbering: Numbering,
    /// The containers the file was found in, outermost first (`gzip/tar`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub encoding: Encoding,
    pub bytes: u64,
    /// Sysmon events read, by EventID.
    pub sysmon_events: BTreeMap<u32, u64>,
    /// Records of other providers (or Sysmon-less sources), counted and never matched.
    pub other_events: u64,
    /// Cisco NVM flow records, read as network connections.
    #[serde(skip_serializing_if = "is_zero")]
    pub flow_records: u64,
    pub skipped_count: u64,
    pub skipped: Vec<Skip>,
    /// Events kept after a repair (e.g. an invalid escape replaced by U+FFFD), each
    /// with what was repaired; all are counted, the first few listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub repaired_count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repaired: Vec<Skip>,
    /// Why the file could not be read at all, when it could not.
    pub error: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl IngestStats {
    /// Records read so far: Sysmon events, other providers' events and flows.
    pub fn records(&self) -> u64 {
        self.sysmon_events.values().sum::<u64>() + self.other_events + self.flow_records
    }

    fn count_sysmon(&mut self, event_id: u32) {
        *self.sysmon_events.entry(event_id).or_default() += 1;
    }

    fn skip(&mut self, line: u64, reason: String) {
        self.skipped_count += 1;
        let skip = self.numbered(line, reason);
        listed(&mut self.skipped, skip);
    }

    /// Records that the event at `line` was kept after a repair.
    fn note_repair(&mut self, line: u64, what: String) {
        self.repaired_count += 1;
        let repair = self.numbered(line, what);
        listed(&mut self.repaired, repair);
    }

    fn note_repair_at(&mut self, position: Position, what: String) {
        self.repaired_count += 1;
        listed(&mut self.repaired, Skip { position, reason: what });
    }

    fn numbered(&self, line: u64, reason: String) -> Skip {
        Skip {
            position: self.numbering.at(line),
            reason,
        }
    }

    /// Adds what a later part of the same file found, read on its own from its line 1;
    /// `lines_before` is how many lines the file has before that part.
    pub fn absorb(&mut self, later: IngestStats, lines_before: u64) {
        self.bytes += later.bytes;
        for (event_id, count) in later.sysmon_events {
            *self.sysmon_events.entry(event_id).or_default() += count;
        }
        self.other_events += later.other_events;
        self.flow_records += later.flow_records;
        self.skipped_count += later.skipped_count;
        self.repaired_count += later.repaired_count;
        for (mine, theirs) in [(&mut self.skipped, later.skipped), (&mut self.repaired, later.repaired)] {
            for skip in theirs {
                let position = skip.position.shifted(lines_before);
                listed(mine, Skip { position, ..skip });
            }
        }
    }

    /// Records a skip at a position that is not a record's number (a chunk, a container).
    pub fn skip_at(&mut self, position: Position, reason: String) {
        self.skipped_count += 1;
        listed(&mut self.skipped, Skip { position, reason });
    }
}

/// Adds to a list of skips or repairs while it is short enough to list.
fn listed(list: &mut Vec<Skip>, skip: Skip) {
    if list.len() < MAX_LISTED_SKIPS {
        list.push(skip);
    }
}

/// evtx_dump writes `Record N` before each record.
pub fn is_record_marker(line: &[u8]) -> bool {
    line.strip_prefix(b"Record ")
        .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

/// A short, printable rendering of bytes for messages: quoted, control bytes escaped.
pub fn preview(bytes: &[u8]) -> String {
    const MAX_CHARS: usize = 60;
    let text = String::from_utf8_lossy(bytes);
    let mut shown: String = text.chars().take(MAX_CHARS).flat_map(char::escape_debug).collect();
    if text.chars().count() > MAX_CHARS {
        shown.push('…');
    }
    format!("\"{shown}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one input in pieces; every member's stats, and events as (member, line).
    fn read_all(name: &str, bytes: &[u8], piece: usize) -> (Vec<Member>, Vec<(usize, u64)>) {
        let mut input = Input::new(name);
        let mut events = Vec::new();
        for chunk in bytes.chunks(piece) {
            input.feed(chunk, &mut |_, member, line| events.push((member, line)));
        }
        let members = input.finish(&mut |_, member, line| events.push((member, line)));
        (members, events)
    }

    fn read(bytes: &[u8], piece: usize) -> (IngestStats, Vec<(RawEvent, u64)>) {
        let mut input = Input::new("f");
        let mut events = Vec::new();
        for chunk in bytes.chunks(piece) {
            input.feed(chunk, &mut |event, _, line| events.push((event, line)));
        }
        let members = input.finish(&mut |event, _, line| events.push((event, line)));
        assert_eq!(members.len(), 1);
        (members[0].stats.clone(), events)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).expect("gzip");
        encoder.finish().expect("gzip")
    }

    fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, bytes) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *bytes).expect("tar entry");
        }
        builder.into_inner().expect("tar")
    }

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            writer
                .start_file(*name, zip::write::SimpleFileOptions::default())
                .expect("zip entry");
            writer.write_all(bytes).expect("zip data");
        }
        writer.finish().expect("zip").into_inner()
    }

    fn summary(members: &[Member]) -> Vec<(String, Option<String>, u64, Option<String>)> {
        members
            .iter()
            .map(|m| {
                let events = m.stats.sysmon_events.values().sum();
                (m.name.clone(), m.stats.container.clone(), events, m.stats.error.clone())
            })
            .collect()
    }

    const SYSMON: &str =
        "<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID></System></Event>";
    const SECURITY: &str =
        "<Event><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>1</EventID></System></Event>";

    #[test]
    fn other_providers_are_counted_not_passed_on() {
        let text = format!("{SYSMON}\n{SECURITY}\n{SYSMON}\n");
        for piece in [1, 5, 4096] {
            let (stats, events) = read(text.as_bytes(), piece);
            assert_eq!(stats.sysmon_events, BTreeMap::from([(1, 2)]));
            assert_eq!(stats.other_events, 1);
            assert_eq!(events.iter().map(|(_, line)| *line).collect::<Vec<_>>(), [1, 3]);
            assert_eq!(stats.format, "xml-lines");
        }
    }

    #[test]
    fn gzip_tar_zip_and_tar_gz_unwrap_to_their_members() {
        let xml = format!("{SYSMON}\n{SYSMON}\n");
        let json = "{\"EventID\":3,\"SourceName\":\"Microsoft-Windows-Sysmon\"}\n";
        let archive = tar(&[
            ("logs/a.xml", xml.as_bytes()),
            ("._a.xml", b"mac"),
            ("b.json", json.as_bytes()),
        ]);
        for piece in [1, 100, 1 << 20] {
            let (members, events) = read_all("x.xml.gz", &gzip(xml.as_bytes()), piece);
            assert_eq!(summary(&members), [("x.xml.gz".into(), Some("gzip".into()), 2, None)]);
            assert_eq!(events, [(0, 1), (0, 2)]);

            let (members, _) = read_all("x.tar", &archive, piece);
            assert_eq!(
                summary(&members),
                [
                    ("x.tar/logs/a.xml".into(), Some("tar".into()), 2, None),
                    ("x.tar/b.json".into(), Some("tar".into()), 1, None)
                ]
            );

            let (members, events) = read_all("x.tgz", &gzip(&archive), piece);
            assert_eq!(members.len(), 2);
            assert_eq!(members[1].stats.container.as_deref(), Some("gzip/tar"));
            assert_eq!(events, [(0, 1), (0, 2), (1, 1)]);

            let (members, _) = read_all(
                "x.zip",
                &zip(&[("a.xml", xml.as_bytes()), ("b.json.gz", &gzip(json.as_bytes()))]),
                piece,
            );
            assert_eq!(
                summary(&members),
                [
                    ("x.zip/a.xml".into(), Some("zip".into()), 2, None),
                    ("x.zip/b.json.gz".into(), Some("zip/gzip".into()), 1, None)
                ]
            );
        }
    }

    #[test]
    fn gzip_trailing_bytes_are_tolerated_and_truncation_reported() {
        let xml = format!("{SYSMON}\n{SYSMON}\n");
        let mut bytes = gzip(xml.as_bytes());
        bytes.push(0);
        let (members, events) = read_all("t.gz", &bytes, 7);
        assert_eq!(events.len(), 2);
        assert_eq!(
            members[0].stats.skipped[0].reason,
            "1 bytes after the end of the gzip stream were ignored"
        );

        let many = SYSMON.repeat(2000);
        let bytes = gzip(many.as_bytes());
        let (members, events) = read_all("cut.gz", &bytes[..bytes.len() / 2], 4096);
        assert!(!events.is_empty() && events.len() < 2000, "{} events", events.len());
        assert!(
            members[0]
                .stats
                .skipped
                .iter()
                .any(|s| s.reason.starts_with("gzip stream is truncated"))
        );
    }

    #[test]
    fn decompression_bomb_is_stopped_and_what_was_read_kept() {
        let mut text = format!("{SYSMON}\n");
        text.push_str(&" ".repeat(300 << 20));
        let bytes = gzip(text.as_bytes());
        let (members, events) = read_all("bomb.gz", &bytes, 1 << 16);
        assert_eq!(events.len(), 1);
        let problem = &members[0].stats.skipped[0].reason;
        assert!(problem.starts_with("decompression stopped"), "{problem}");
    }

    #[test]
    fn containers_nest_one_level_only() {
        let inner = gzip(&gzip(SYSMON.as_bytes()));
        let (members, events) = read_all("twice.gz.gz", &tar(&[("a.gz.gz", &inner)]), 512);
        assert!(events.is_empty());
        assert!(
            members[0]
                .stats
                .error
                .as_deref()
                .is_some_and(|e| e.contains("nested this deep")),
            "{:?}",
            members[0].stats
        );
    }

    #[test]
    fn binary_and_unknown_inputs_are_named() {
        // An EVTX header cut short: read as EVTX, and the missing chunk data is no record.
        let (stats, events) = read(b"ElfFile\0\x01\x02", 3);
        assert_eq!((stats.format, stats.error, events.len()), ("evtx", None, 0));
        let (stats, _) = read(b"7z\xBC\xAF\x27\x1C\x00\x04", 3);
        assert_eq!(
            stats.error.as_deref(),
            Some("7-Zip archives are not opened; extract them first")
        );
        let (stats, _) = read(b"hello world\x00\x01\x02", 4);
        let error = stats.error.expect("unknown format");
        assert!(
            error.ends_with("it starts with binary data: 68 65 6c 6c 6f 20 77 6f 72 6c 64 00 01 02"),
            "{error}"
        );
        let (stats, _) = read(b"just some text\nand more\n", 4);
        assert!(
            stats
                .error
                .expect("unknown format")
                .ends_with("it starts with \"just some text\\nand more\\n\"")
        );
        let (stats, events) = read(b"", 1);
        assert_eq!((stats.format, events.len()), ("unknown", 0));
        assert_eq!(stats.error.as_deref(), Some("empty file: nothing to analyze"));
    }

    #[test]
    fn invalid_utf8_inside_an_event_skips_only_that_event() {
        let mut bytes = SYSMON.as_bytes().to_vec();
        bytes.extend_from_slice(b"\n<Event>\xff\xfe</Event>\n");
        bytes.extend_from_slice(SYSMON.as_bytes());
        let (stats, events) = read(&bytes, 7);
        assert_eq!(events.len(), 2);
        assert_eq!(
            stats.skipped,
            [Skip {
                position: Position::Line(2),
                reason: "invalid UTF-8 at byte 7 of the event".into(),
            }]
        );
    }

    /// A record just over the size limit is skipped with the same reason, and the record
    /// after it read, whether it arrives whole or in chunks (that split it anywhere).
    #[test]
    fn oversized_records_are_reported_the_same_whatever_the_chunking() {
        let filler = "x".repeat(MAX_RECORD_BYTES);
        let json = "{\"EventID\":3,\"SourceName\":\"Microsoft-Windows-Sysmon\"}";
        let inputs = [
            (
                format!("{SYSMON}\n<Event><Data>{filler}</Data></Event>\n{SYSMON}\n"),
                "event larger than 8 MiB skipped",
            ),
            (
                format!("{SYSMON}\n<Event><Data>{filler}</Data>\n{SYSMON}\n"),
                "truncated event: a new <Event> starts before this one's </Event>",
            ),
            (
                format!("{SYSMON}\n{SYSMON}\n<Event><Data>{filler}</Data>"),
                "truncated event: the file ends before </Event>",
            ),
            (
                format!("{json}\n{{\"a\":\"{filler}\"}}\n{json}\n"),
                "JSON record larger than 8 MiB skipped",
            ),
            (
                format!("{json}\n{{\"a\":\"{filler}\"\n{json}\n"),
                "JSON record is not closed at the end of its line",
            ),
            (
                format!("{json}\n{json}\n{{\"a\":\"{filler}\""),
                "truncated JSON record: the file ends inside it",
            ),
        ];
        for (text, reason) in inputs {
            let (whole, events) = read(text.as_bytes(), usize::MAX);
            assert_eq!(events.len(), 2, "{reason}");
            assert_eq!(
                whole.skipped.iter().map(|s| s.reason.as_str()).collect::<Vec<_>>(),
                [reason]
            );
            for piece in [65536, 1 << 20, 3_000_001] {
                let (stats, chunked) = read(text.as_bytes(), piece);
                assert_eq!(stats.skipped, whole.skipped, "{reason}, {piece}-byte chunks");
                assert_eq!(chunked, events, "{reason}, {piece}-byte chunks");
            }
        }
    }

    #[test]
    fn record_markers_before_json() {
        let (stats, events) = read(
            b"Record 1\n{\"EventID\":3,\"SourceName\":\"Microsoft-Windows-Sysmon\"}\n",
            2,
        );
        assert_eq!((stats.format, events.len(), stats.skipped_count), ("otrf", 1, 0));
    }
}
