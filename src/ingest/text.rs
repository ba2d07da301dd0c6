//! Reads one text file: decodes it, sniffs XML or JSON, frames records and parses them.

use super::csv::{CsvRows, looks_like_splunk_csv};
use super::decode::TextDecoder;
use super::json::frames::JsonFramer;
use super::prefilter::{self, JsonKeys, Verdict};
use super::raw_event::Producer;
use super::residue::{self, Collected, Item, Summary};
use super::xml::frames::XmlFramer;
use super::{IngestStats, Piece, Position, RawEvent, is_record_marker, json, preview, xml};

/// How much text is examined before a file is declared of unknown format.
const MAX_SNIFF_BYTES: usize = 64 << 10;

enum Reader {
    /// Decoded text held until the format is known.
    Sniffing(Vec<u8>),
    Xml(XmlFramer),
    Json(JsonFramer),
    /// A Splunk CSV export; decoded text waits in `pending` for the row parser.
    Csv(Box<CsvRows>, Vec<u8>),
    /// Nothing more is read from this file; `stats.error` says why.
    Unreadable,
}

/// Reads one text file incrementally; events go to the callback as they complete.
pub struct TextIngest {
    decoder: TextDecoder,
    reader: Reader,
    /// Whether events the detections never read are counted without parsing, and plain
    /// XML events and JSON records built in one pass; without it every event goes through the parser
    /// (the reference the fast paths are tested against).
    prefilter: bool,
    /// When collecting: the records to parse and the skips met, for the first reader.
    residue: Option<Collected>,
    /// Newlines fed, counted only when collecting.
    lines: u64,
    /// The richest XML layout seen by later parts absorbed as residues.
    absorbed_layout: &'static str,
    pub stats: IngestStats,
}

impl TextIngest {
    pub fn new(prefilter: bool) -> Self {
        Self {
            decoder: TextDecoder::new(),
            reader: Reader::Sniffing(Vec::new()),
            prefilter,
            residue: None,
            lines: 0,
            absorbed_layout: "",
            stats: IngestStats::default(),
        }
    }

    /// A reader for a later part of the same file, which counts that part's lines from 1:
    /// `None` unless the file is UTF-8 XML events or JSON Lines. Valid from a point where
    /// this reader [`is_idle`](Self::is_idle); what it reads goes back with [`Self::absorb`].
    pub fn continuing(&self) -> Option<Self> {
        let reader = match &self.reader {
            Reader::Xml(_) => Reader::Xml(XmlFramer::new()),
            Reader::Json(framer) => Reader::Json(framer.continuing()?),
            _ => return None,
        };
        Some(Self {
            decoder: self.decoder.continuing()?,
            reader,
            prefilter: self.prefilter,
            residue: None,
            lines: 0,
            absorbed_layout: "",
            // A JSON file's shape, decided by its first record, picks the prefilter's keys.
            stats: IngestStats {
                format: self.stats.format,
                ..IngestStats::default()
            },
        })
    }

    /// True when the bytes fed so far end between records, with nothing held back.
    pub fn is_idle(&self) -> bool {
        match &self.reader {
            Reader::Xml(framer) => framer.is_idle(),
            Reader::Json(framer) => framer.is_idle(),
            _ => false,
        }
    }

    /// Puts a [`continuing`](Self::continuing) reader in collecting mode: it frames,
    /// prefilters and counts as usual, but keeps each record that needs parsing, and each
    /// skip, for the first reader ([`residue`]); it hands on no events.
    pub fn collecting(mut self) -> Self {
        self.residue = Some(Collected::default());
        self
    }

    /// What a collecting reader found, encoded; `at_eof` when its part ends the file.
    pub fn into_residue(mut self, at_eof: bool) -> Vec<u8> {
        if at_eof {
            self.finish(&mut |_, _| {});
        }
        let (kind, layout) = match &self.reader {
            Reader::Xml(framer) => ("xml", framer.format_name()),
            _ => ("json", ""),
        };
        let summary = Summary {
            kind: kind.into(),
            format: self.stats.format.into(),
            bytes: self.stats.bytes,
            lines: self.lines,
            sysmon_events: std::mem::take(&mut self.stats.sysmon_events),
            layout: layout.into(),
            idle: self.is_idle(),
        };
        self.residue.take().unwrap_or_default().encode(&summary)
    }

    /// Takes back what a collecting reader of the part after `lines_before` lines of the
    /// file found, from where this reader [`is_idle`](Self::is_idle): its records are
    /// parsed here, in order, with their events going to `on_event`. Returns the part's
    /// summary; refused (nothing taken) when the residue is not one of this file's parts.
    pub fn absorb_residue(
        &mut self,
        encoded: &[u8],
        lines_before: u64,
        on_event: &mut dyn FnMut(RawEvent, u64),
    ) -> Result<Summary, String> {
        let (summary, items) = residue::decode(encoded)?;
        let same_kind = matches!(
            (&self.reader, summary.kind.as_str()),
            (Reader::Xml(_), "xml") | (Reader::Json(_), "json")
        );
        if !same_kind || self.continuing().is_none() {
            return Err(format!("a {} residue does not continue this reader", summary.kind));
        }
        for item in items {
            match item {
                Item::Record(line, text) => self.parse_record(text, line + lines_before, on_event),
                Item::Skip(line, reason) => self.stats.skip(line + lines_before, reason.to_string()),
            }
        }
        self.stats.bytes += summary.bytes;
        for (&event_id, &count) in &summary.sysmon_events {
            *self.stats.sysmon_events.entry(event_id).or_default() += count;
        }
        self.absorbed_layout = richer_layout(self.absorbed_layout, &summary.layout);
        Ok(summary)
    }

    /// Parses one record the prefilter did not count, as [`push`](Self::push) does.
    fn parse_record(&mut self, text: &[u8], line: u64, on_event: &mut dyn FnMut(RawEvent, u64)) {
        let stats = &mut self.stats;
        match &self.reader {
            Reader::Xml(_) => match utf8(text) {
                Ok(text) => parse_xml(stats, text, line, self.prefilter, on_event),
                Err(err) => stats.skip(line, invalid_utf8(&err)),
            },
            _ => parse_json(stats, text, line, self.prefilter, on_event),
        }
    }

    /// Takes in what a [`continuing`](Self::continuing) reader found after
    /// `lines_before` lines of the file.
    pub fn absorb(&mut self, later: TextIngest, lines_before: u64) {
        if let (Reader::Xml(mine), Reader::Xml(theirs)) = (&mut self.reader, &later.reader) {
            mine.merge_layout(theirs);
        }
        if self.stats.format.is_empty() {
            self.stats.format = later.stats.format;
        }
        self.stats.absorb(later.stats, lines_before);
    }

    /// Feeds the next chunk of the file; Sysmon events go to `on_event` with their line.
    pub fn feed(&mut self, chunk: &[u8], on_event: &mut dyn FnMut(RawEvent, u64)) {
        self.stats.bytes += chunk.len() as u64;
        if self.residue.is_some() {
            self.lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
        }
        self.push(chunk, false, on_event);
    }

    /// Ends the file: flushes held bytes and reports a truncated last record.
    pub fn finish(&mut self, on_event: &mut dyn FnMut(RawEvent, u64)) {
        self.push(&[], true, on_event);
        if let Reader::Xml(framer) = &self.reader {
            self.stats.format = richer_layout(framer.format_name(), self.absorbed_layout);
        }
        if self.stats.format.is_empty() {
            self.stats.format = "unknown";
        }
        self.stats.encoding = self.decoder.encoding();
        // An unreadable file is decoded only as far as sniffing went, which depends on how
        // its bytes arrived: its error says all there is to say.
        let readable = !matches!(self.reader, Reader::Unreadable);
        if let Some(at) = self.decoder.first_invalid_at.filter(|_| readable) {
            let what = format!(
                "{} invalid UTF-16 sequence(s) replaced with U+FFFD, the first at byte {at}; the events holding them are kept",
                self.decoder.replaced_invalid
            );
            self.stats.note_repair_at(Position::Byte(at), what);
        }
    }

    fn push(&mut self, chunk: &[u8], at_eof: bool, on_event: &mut dyn FnMut(RawEvent, u64)) {
        let stats = &mut self.stats;
        match &mut self.reader {
            Reader::Unreadable => {}
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
                                "not a Sysmon log in a format this tool reads (tried: XML events, JSON records, Splunk CSV export, gzip, zip, tar); it starts with {}",
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
                    Sniffed::Csv => {
                        stats.format = "splunk-export-csv";
                        self.reader = Reader::Csv(Box::default(), std::mem::take(text));
                        self.push(&[], at_eof, on_event);
                    }
                }
            }
            Reader::Xml(framer) => {
                self.decoder.decode(chunk, &mut framer.buf);
                if at_eof {
                    self.decoder.finish(&mut framer.buf);
                }
                let prefilter = self.prefilter;
                let residue = &mut self.residue;
                framer.drain(at_eof, &mut |piece| match piece {
                    Piece::Record { text, line } => match utf8(text) {
                        Ok(valid) if prefilter && let Verdict::CountOnly(event_id) = prefilter::xml_event(valid) => {
                            stats.count_sysmon(event_id)
                        }
                        Ok(text) => match residue {
                            Some(residue) => residue.record(line, text.as_bytes()),
                            None => parse_xml(stats, text, line, prefilter, on_event),
                        },
                        Err(err) => skip(stats, residue, line, invalid_utf8(&err)),
                    },
                    Piece::Skipped { line, reason } => skip(stats, residue, line, reason),
                });
            }
            Reader::Csv(rows, pending) => {
                self.decoder.decode(chunk, pending);
                if at_eof {
                    self.decoder.finish(pending);
                }
                rows.feed(pending, at_eof, &mut |line, parsed| match parsed {
                    Ok(event) => accept(stats, event, None, line, on_event),
                    Err(reason) => stats.skip(line, reason),
                });
                pending.clear();
            }
            Reader::Json(framer) => {
                self.decoder.decode(chunk, &mut framer.buf);
                if at_eof {
                    self.decoder.finish(&mut framer.buf);
                }
                let keys = self.prefilter.then(|| JsonKeys::of(stats.format)).flatten();
                let residue = &mut self.residue;
                let prefilter = self.prefilter;
                framer.drain(at_eof, &mut |piece| match piece {
                    Piece::Record { text, .. }
                        if let Some(Verdict::CountOnly(event_id)) = keys.map(|keys| keys.record(text)) =>
                    {
                        stats.count_sysmon(event_id)
                    }
                    Piece::Record { text, line } => match residue {
                        Some(residue) => residue.record(line, text),
                        None => parse_json(stats, text, line, prefilter, on_event),
                    },
                    Piece::Skipped { line, reason } => skip(stats, residue, line, reason),
                });
            }
        }
    }
}

/// Parses an XML event the prefilter did not count, and takes it in.
fn parse_xml(stats: &mut IngestStats, text: &str, line: u64, prefilter: bool, on_event: &mut dyn FnMut(RawEvent, u64)) {
    let parsed = if prefilter {
        xml::read_event(text)
    } else {
        xml::parse::parse_event(text)
    };
    match parsed {
        Ok(event) => accept(stats, event, Some(text.as_bytes()), line, on_event),
        Err(reason) => stats.skip(line, reason),
    }
}

/// Reads a JSON record the prefilter did not count (extracted when it is plain, unless
/// the prefilter is off), and takes in its events.
fn parse_json(
    stats: &mut IngestStats,
    text: &[u8],
    line: u64,
    prefilter: bool,
    on_event: &mut dyn FnMut(RawEvent, u64),
) {
    let parsed = if prefilter {
        json::read_record(text)
    } else {
        json::parse_record(text)
    };
    match parsed {
        Ok(parsed) => {
            if stats.format.is_empty() {
                stats.format = parsed.format;
            }
            for event in parsed.events {
                accept(stats, event, Some(text), line, on_event);
            }
        }
        Err(reason) => stats.skip(line, reason),
    }
}

/// A skip, kept in the residue when collecting.
fn skip(stats: &mut IngestStats, residue: &mut Option<Collected>, line: u64, reason: String) {
    match residue {
        Some(residue) => residue.skip(line, &reason),
        None => stats.skip(line, reason),
    }
}

fn invalid_utf8(err: &std::str::Utf8Error) -> String {
    format!("invalid UTF-8 at byte {} of the event", err.valid_up_to())
}

/// The richer of two XML layout names: a root seen anywhere makes the file
/// `xml-events`, else an event on several lines or sharing one makes it `xml-rootless`.
fn richer_layout(mine: &'static str, theirs: &str) -> &'static str {
    let rank = |name: &str| match name {
        "xml-events" => 2,
        "xml-rootless" => 1,
        _ => 0,
    };
    match rank(theirs) {
        theirs_rank if theirs_rank <= rank(mine) => mine,
        2 => "xml-events",
        _ => "xml-rootless",
    }
}

/// Checks UTF-8 with SIMD; std's slower check runs only to say where it fails.
fn utf8(text: &[u8]) -> Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(text).or_else(|_| std::str::from_utf8(text))
}

/// Counts a parsed event and hands on network flows and the Sysmon events the detections
/// read, with its `record` text when a detection may report it.
pub(super) fn accept(
    stats: &mut IngestStats,
    mut event: RawEvent,
    record: Option<&[u8]>,
    line: u64,
    on_event: &mut dyn FnMut(RawEvent, u64),
) {
    if let Some(record) = record {
        event.keep_record(record);
    }
    if let Some(what) = event.repaired.take() {
        stats.note_repair(line, what);
    }
    if event.producer == Producer::CiscoNvm {
        stats.flow_records += 1;
        return on_event(event, line);
    }
    if !event.is_sysmon() {
        stats.other_events += 1;
        return;
    }
    match event.event_id {
        Some(id) => {
            stats.count_sysmon(id);
            if prefilter::is_read_by_detections(id) {
                on_event(event, line);
            }
        }
        None => stats.skip(line, "Sysmon event without a numeric EventID".into()),
    }
}

enum Sniffed {
    NeedMore,
    Xml,
    Json,
    Csv,
    Unknown,
}

/// Decides the format from the first bytes that are not blank lines or `Record N` markers.
///
/// Only the first [`MAX_SNIFF_BYTES`] are looked at, and a decision is made only on what
/// more bytes could not change: a whole first line, or every byte up to the limit or the
/// end. So the same file gives the same format however its bytes arrive.
fn sniff(text: &[u8], at_eof: bool) -> Sniffed {
    let complete = at_eof || text.len() >= MAX_SNIFF_BYTES;
    let text = &text[..text.len().min(MAX_SNIFF_BYTES)];
    let mut rest = text;
    loop {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len());
        rest = &rest[start..];
        match rest.first() {
            None if complete => return Sniffed::Unknown,
            None => return Sniffed::NeedMore,
            Some(b'<') => return Sniffed::Xml,
            Some(b'{' | b'[') => return Sniffed::Json,
            Some(_) => {
                let line = match memchr::memchr(b'\n', rest) {
                    Some(end) => &rest[..end],
                    None if complete => rest,
                    None => return Sniffed::NeedMore,
                };
                if looks_like_splunk_csv(line) {
                    return Sniffed::Csv;
                }
                if !is_record_marker(line.trim_ascii()) {
                    break;
                }
                rest = &rest[(line.len() + 1).min(rest.len())..];
            }
        }
    }
    // Text first (a key=value block, a banner): events or JSON lines further on, whichever
    // comes first (a first occurrence found in a prefix stays the first in more bytes).
    let event = memchr::memmem::find(text, b"<Event");
    let json_line = memchr::memmem::find(text, b"\n{");
    match (event, json_line) {
        (Some(event), Some(json)) if json < event => Sniffed::Json,
        (Some(_), _) => Sniffed::Xml,
        (None, Some(_)) => Sniffed::Json,
        (None, None) if complete => Sniffed::Unknown,
        (None, None) => Sniffed::NeedMore,
    }
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
