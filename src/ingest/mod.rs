//! Ingest: file bytes in, [`RawEvent`]s out, one file at a time and chunk by chunk.
//!
//! Three steps, kept apart: decoding to UTF-8 ([`decode`]), finding each record's
//! bytes ([`xml_frames`], [`json_frames`]) and parsing one record ([`parse_xml`],
//! [`parse_json`]). The format is sniffed from the first meaningful bytes. Bad
//! records become [`Skip`]s with a line number; reading always goes on.

pub mod decode;
pub mod json_frames;
pub mod lines;
pub mod parse_json;
pub mod parse_xml;
pub mod raw_event;
pub mod xml_frames;

use decode::{Encoding, TextDecoder};
use json_frames::JsonFramer;
pub use raw_event::RawEvent;
use serde::Serialize;
use std::collections::BTreeMap;
use xml_frames::XmlFramer;

/// A record larger than this is skipped rather than buffered.
pub const MAX_RECORD_BYTES: usize = 8 << 20;
/// How much text is examined before a file is declared of unknown format.
const MAX_SNIFF_BYTES: usize = 64 << 10;
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
    /// Where it starts, e.g. "line 17".
    pub position: String,
    pub reason: String,
}

/// What reading one file found, beside its events.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestStats {
    pub format: &'static str,
    pub encoding: Encoding,
    pub bytes: u64,
    /// Sysmon events read, by EventID.
    pub sysmon_events: BTreeMap<u32, u64>,
    /// Records of other providers (or Sysmon-less sources), counted and never matched.
    pub other_events: u64,
    pub skipped_count: u64,
    pub skipped: Vec<Skip>,
    /// Why the file could not be read at all, when it could not.
    pub error: Option<String>,
}

impl IngestStats {
    fn skip(&mut self, line: u64, reason: String) {
        self.skipped_count += 1;
        if self.skipped.len() < MAX_LISTED_SKIPS {
            self.skipped.push(Skip {
                position: format!("line {line}"),
                reason,
            });
        }
    }
}

enum Reader {
    /// Raw bytes held until container magic numbers can be checked.
    Start(Vec<u8>),
    /// Decoded text held until the format is known.
    Sniffing(Vec<u8>),
    Xml(XmlFramer),
    Json(JsonFramer),
    /// Nothing more is read from this file; `stats.error` says why.
    Unreadable,
}

/// Reads one file incrementally; events go to the callback as they complete.
pub struct FileIngest {
    decoder: TextDecoder,
    reader: Reader,
    pub stats: IngestStats,
}

impl Default for FileIngest {
    fn default() -> Self {
        Self::new()
    }
}

impl FileIngest {
    pub fn new() -> Self {
        Self {
            decoder: TextDecoder::new(),
            reader: Reader::Start(Vec::new()),
            stats: IngestStats::default(),
        }
    }

    /// Feeds the next chunk of the file; Sysmon events go to `on_event` with their line.
    pub fn feed(&mut self, chunk: &[u8], on_event: &mut dyn FnMut(RawEvent, u64)) {
        self.stats.bytes += chunk.len() as u64;
        self.push(chunk, false, on_event);
    }

    /// Ends the file: flushes held bytes and reports a truncated last record.
    pub fn finish(&mut self, on_event: &mut dyn FnMut(RawEvent, u64)) {
        self.push(&[], true, on_event);
        if let Reader::Xml(framer) = &self.reader {
            self.stats.format = framer.format_name();
        }
        if self.stats.format.is_empty() {
            self.stats.format = "unknown";
        }
        self.stats.encoding = self.decoder.encoding();
        if self.decoder.replaced_invalid {
            self.stats
                .skip(0, "invalid UTF-16 sequences were replaced with U+FFFD".into());
        }
    }

    fn push(&mut self, chunk: &[u8], at_eof: bool, on_event: &mut dyn FnMut(RawEvent, u64)) {
        if let Reader::Start(head) = &mut self.reader {
            head.extend_from_slice(chunk);
            if head.len() < 8 && !at_eof {
                return;
            }
            let head = std::mem::take(head);
            if let Some(kind) = binary_container(&head) {
                self.stats.format = "unsupported";
                self.stats.error = Some(format!(
                    "{kind} files are not read yet; export the events as XML or JSON"
                ));
                self.reader = Reader::Unreadable;
                return;
            }
            self.reader = Reader::Sniffing(Vec::new());
            return self.push(&head, at_eof, on_event);
        }
        let stats = &mut self.stats;
        match &mut self.reader {
            Reader::Start(_) | Reader::Unreadable => {}
            Reader::Sniffing(text) => {
                self.decoder.decode(chunk, text);
                if at_eof {
                    self.decoder.finish(text);
                }
                match sniff(text, at_eof) {
                    Sniffed::NeedMore => {}
                    Sniffed::Unknown => {
                        stats.format = "unknown";
                        stats.error = Some(if stats.bytes == 0 {
                            "empty file: nothing to analyze".to_string()
                        } else {
                            format!(
                                "not a Sysmon log in a format this tool reads (XML events or JSON records); it starts with {}",
                                first_bytes(text)
                            )
                        });
                        self.reader = Reader::Unreadable;
                    }
                    Sniffed::Xml => {
                        let mut framer = XmlFramer::new();
                        framer.buf = std::mem::take(text);
                        self.reader = Reader::Xml(framer);
                        self.push(&[], at_eof, on_event);
                    }
                    Sniffed::Json => {
                        let mut framer = JsonFramer::new();
                        framer.buf = std::mem::take(text);
                        self.reader = Reader::Json(framer);
                        self.push(&[], at_eof, on_event);
                    }
                }
            }
            Reader::Xml(framer) => {
                self.decoder.decode(chunk, &mut framer.buf);
                if at_eof {
                    self.decoder.finish(&mut framer.buf);
                }
                framer.drain(at_eof, &mut |piece| match piece {
                    Piece::Record { text, line } => match std::str::from_utf8(text) {
                        Ok(text) => accept(stats, parse_xml::parse_event(text), line, on_event),
                        Err(err) => stats.skip(
                            line,
                            format!("invalid UTF-8 at byte {} of the event", err.valid_up_to()),
                        ),
                    },
                    Piece::Skipped { line, reason } => stats.skip(line, reason),
                });
            }
            Reader::Json(framer) => {
                self.decoder.decode(chunk, &mut framer.buf);
                if at_eof {
                    self.decoder.finish(&mut framer.buf);
                }
                framer.drain(at_eof, &mut |piece| match piece {
                    Piece::Record { text, line } => {
                        let parsed = parse_json::parse_record(text).map(|(event, format)| {
                            if stats.format.is_empty() {
                                stats.format = format;
                            }
                            event
                        });
                        accept(stats, parsed, line, on_event)
                    }
                    Piece::Skipped { line, reason } => stats.skip(line, reason),
                });
            }
        }
    }
}

/// Counts a parsed record and hands Sysmon events on.
fn accept(
    stats: &mut IngestStats,
    parsed: Result<RawEvent, String>,
    line: u64,
    on_event: &mut dyn FnMut(RawEvent, u64),
) {
    match parsed {
        Err(reason) => stats.skip(line, reason),
        Ok(event) if !event.is_sysmon() => stats.other_events += 1,
        Ok(event) => match event.event_id {
            Some(id) => {
                *stats.sysmon_events.entry(id).or_default() += 1;
                on_event(event, line);
            }
            None => stats.skip(line, "Sysmon event without a numeric EventID".into()),
        },
    }
}

/// Binary formats recognised by their magic number, which this reader does not open.
fn binary_container(head: &[u8]) -> Option<&'static str> {
    match head {
        [b'E', b'l', b'f', b'F', b'i', b'l', b'e', 0, ..] => Some("EVTX"),
        [0x1F, 0x8B, ..] => Some("gzip"),
        [b'P', b'K', 3, 4, ..] => Some("zip"),
        [b'7', b'z', 0xBC, 0xAF, ..] => Some("7-Zip"),
        _ => None,
    }
}

enum Sniffed {
    NeedMore,
    Xml,
    Json,
    Unknown,
}

/// Decides the format from the first bytes that are not blank lines or `Record N` markers.
fn sniff(text: &[u8], at_eof: bool) -> Sniffed {
    let mut rest = text;
    loop {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len());
        rest = &rest[start..];
        let line_end = memchr::memchr(b'\n', rest);
        match rest.first() {
            None if at_eof => return Sniffed::Unknown,
            None => return Sniffed::NeedMore,
            Some(b'<') => return Sniffed::Xml,
            Some(b'{' | b'[') => return Sniffed::Json,
            Some(b'R') if line_end.is_none() && !at_eof && rest.len() < 32 => return Sniffed::NeedMore,
            Some(_) => match line_end {
                Some(end) if is_record_marker(rest[..end].trim_ascii()) => rest = &rest[end + 1..],
                _ => break,
            },
        }
    }
    // Text first (a key=value block, a banner): look further for events or JSON lines.
    if memchr::memmem::find(text, b"<Event").is_some() {
        return Sniffed::Xml;
    }
    if memchr::memmem::find(text, b"\n{").is_some() {
        return Sniffed::Json;
    }
    if at_eof || text.len() >= MAX_SNIFF_BYTES || text.contains(&0) {
        Sniffed::Unknown
    } else {
        Sniffed::NeedMore
    }
}

/// evtx_dump writes `Record N` before each record.
pub fn is_record_marker(line: &[u8]) -> bool {
    line.strip_prefix(b"Record ")
        .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

/// The start of an unrecognised file: as text when it is text, else as hex bytes.
fn first_bytes(text: &[u8]) -> String {
    let head = &text[..text.len().min(48)];
    let printable = std::str::from_utf8(head).is_ok_and(|t| t.chars().all(|c| !c.is_control() || c.is_whitespace()));
    if printable {
        preview(head)
    } else {
        let hex: Vec<String> = head.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("binary data: {}", hex.join(" "))
    }
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

    fn read(bytes: &[u8], piece: usize) -> (IngestStats, Vec<(RawEvent, u64)>) {
        let mut file = FileIngest::new();
        let mut events = Vec::new();
        for chunk in bytes.chunks(piece) {
            file.feed(chunk, &mut |event, line| events.push((event, line)));
        }
        file.finish(&mut |event, line| events.push((event, line)));
        (file.stats, events)
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
    fn binary_and_unknown_inputs_are_named() {
        let (stats, _) = read(b"ElfFile\0\x01\x02", 3);
        assert_eq!(
            stats.error.as_deref(),
            Some("EVTX files are not read yet; export the events as XML or JSON")
        );
        let (stats, _) = read(b"hello world\x00\x01\x02", 4);
        let error = stats.error.expect("unknown format");
        assert!(
            error.ends_with("it starts with binary data: 68 65 6c 6c 6f 20 77 6f 72 6c 64 00"),
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
                position: "line 2".into(),
                reason: "invalid UTF-8 at byte 7 of the event".into()
            }]
        );
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
