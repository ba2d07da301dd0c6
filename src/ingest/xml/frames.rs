//! Finds each `<Event>…</Event>` element's bytes in a stream of XML text.
//!
//! Framing is kept apart from parsing so that a later prefilter can look at an
//! event's raw bytes before paying for a full parse. Whatever lies between events
//! (`<?xml?>` declarations, an `<Events>` root, `Record N` lines from evtx_dump) is
//! expected; any other text is reported once per block as skipped.

use crate::ingest::lines::LineCounter;
use crate::ingest::{MAX_RECORD_BYTES, Piece, preview};
use memchr::memmem::Finder;
use std::sync::LazyLock;

const OPEN: &[u8] = b"<Event";
const CLOSE: &[u8] = b"</Event>";
/// Built once: building a searcher costs more than searching one event.
static OPEN_FINDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(OPEN));
static CLOSE_FINDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(CLOSE));
const TRUNCATED_BY_NEXT: &str = "truncated event: a new <Event> starts before this one's </Event>";
const TRUNCATED_BY_EOF: &str = "truncated event: the file ends before </Event>";

/// The skip reason of an event larger than [`MAX_RECORD_BYTES`], decided by its size
/// alone (not by how much of it one chunk held).
fn too_large() -> String {
    format!("event larger than {} MiB skipped", MAX_RECORD_BYTES >> 20)
}

/// Between-text is classified line by line; a line longer than this is classified early.
const MAX_PENDING_TEXT: usize = 1 << 20;

#[derive(Clone, Copy, Debug)]
enum State {
    /// Looking for the next `<Event`; `from` is where to look next.
    Seeking { from: usize },
    /// Inside an event that started at `start`; no `</Event>` before `scan`.
    InEvent { start: usize, scan: usize },
    /// Dropping an event already larger than [`MAX_RECORD_BYTES`], which started on
    /// `line`, up to its `</Event>` (or the next `<Event`, or the end); what is reported
    /// then is what framing it whole would report.
    Discarding { scan: usize, line: u64 },
}

/// Splits XML text into event elements.
pub struct XmlFramer {
    pub buf: Vec<u8>,
    lines: LineCounter,
    state: State,
    /// Start of between-event text not yet classified.
    text_from: usize,
    /// True while inside a block of unexpected text already reported.
    in_noise: bool,
    saw_events_root: bool,
    saw_multiline_event: bool,
    saw_shared_line: bool,
    last_event_end_line: u64,
}

impl Default for XmlFramer {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlFramer {
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            lines: LineCounter::new(),
            state: State::Seeking { from: 0 },
            text_from: 0,
            in_noise: false,
            saw_events_root: false,
            saw_multiline_event: false,
            saw_shared_line: false,
            last_event_end_line: 0,
        }
    }

    /// The report's name for the layout seen so far.
    pub fn format_name(&self) -> &'static str {
        if self.saw_events_root {
            "xml-events"
        } else if self.saw_multiline_event || self.saw_shared_line {
            "xml-rootless"
        } else {
            "xml-lines"
        }
    }

    /// True when no event is open, no block of unexpected text is being passed over, and
    /// only blanks wait to be classified: a new framer given the bytes from here on
    /// frames them as this one would.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Seeking { .. })
            && !self.in_noise
            && self.buf[self.text_from..].iter().all(u8::is_ascii_whitespace)
    }

    /// Takes in the layout a framer of a later part of the same file saw.
    pub fn merge_layout(&mut self, later: &XmlFramer) {
        self.saw_events_root |= later.saw_events_root;
        self.saw_multiline_event |= later.saw_multiline_event;
        self.saw_shared_line |= later.saw_shared_line;
    }

    /// Emits every complete event in the buffer, then drops the bytes no longer needed.
    pub fn drain(&mut self, at_eof: bool, emit: &mut dyn FnMut(Piece<'_>)) {
        loop {
            let len = self.buf.len();
            match self.state {
                State::Seeking { from } => match self.find_open(from, at_eof) {
                    Found::At(start) => {
                        self.classify_text(start, emit);
                        self.state = State::InEvent {
                            start,
                            scan: start + OPEN.len(),
                        };
                    }
                    Found::NeedMore(at) => {
                        self.classify_complete_lines(at, emit);
                        self.state = State::Seeking { from: at };
                        break;
                    }
                    Found::Nothing => {
                        let safe = if at_eof {
                            len
                        } else {
                            len.saturating_sub(OPEN.len() - 1)
                        };
                        if at_eof {
                            self.classify_text(len, emit);
                        } else {
                            self.classify_complete_lines(safe, emit);
                        }
                        self.state = State::Seeking { from: safe };
                        break;
                    }
                },
                State::InEvent { start, scan } => {
                    let close = CLOSE_FINDER.find(&self.buf[scan..]).map(|at| scan + at);
                    let limit = close.unwrap_or(len);
                    if let Some(next) = self.next_open_in(scan, limit) {
                        let line = self.lines.line_at(&self.buf, start);
                        emit(Piece::Skipped {
                            line,
                            reason: TRUNCATED_BY_NEXT.into(),
                        });
                        self.text_from = next;
                        self.state = State::InEvent {
                            start: next,
                            scan: next + OPEN.len(),
                        };
                        continue;
                    }
                    match close {
                        Some(at) if at + CLOSE.len() - start > MAX_RECORD_BYTES => {
                            let line = self.lines.line_at(&self.buf, start);
                            self.skip_to(at + CLOSE.len(), line, too_large(), emit);
                        }
                        Some(at) => {
                            let end = at + CLOSE.len();
                            self.emit_event(start, end, emit);
                            self.text_from = end;
                            self.state = State::Seeking { from: end };
                        }
                        None if at_eof => {
                            let line = self.lines.line_at(&self.buf, start);
                            self.skip_to(len, line, TRUNCATED_BY_EOF.into(), emit);
                            break;
                        }
                        None if len - start > MAX_RECORD_BYTES => {
                            let line = self.lines.line_at(&self.buf, start);
                            let scan = len.saturating_sub(CLOSE.len() - 1);
                            self.text_from = scan;
                            self.state = State::Discarding { scan, line };
                            break;
                        }
                        None => {
                            let scan = len.saturating_sub(CLOSE.len() - 1).max(start + OPEN.len());
                            self.state = State::InEvent { start, scan };
                            break;
                        }
                    }
                }
                State::Discarding { scan, line } => match CLOSE_FINDER.find(&self.buf[scan..]).map(|at| scan + at) {
                    // An oversized event left unclosed: the next event starts before any </Event>.
                    close if let Some(next) = self.next_open_in(scan, close.unwrap_or(len)) => {
                        self.skip_to(next, line, TRUNCATED_BY_NEXT.into(), emit);
                    }
                    Some(at) => self.skip_to(at + CLOSE.len(), line, too_large(), emit),
                    None if at_eof => {
                        self.skip_to(len, line, TRUNCATED_BY_EOF.into(), emit);
                        break;
                    }
                    None => {
                        let scan = len.saturating_sub(CLOSE.len() - 1);
                        self.text_from = scan;
                        self.state = State::Discarding { scan, line };
                        break;
                    }
                },
            }
        }
        self.compact();
    }

    /// Reports the event that started on `line` as skipped and looks for the next from `resume`.
    fn skip_to(&mut self, resume: usize, line: u64, reason: String, emit: &mut dyn FnMut(Piece<'_>)) {
        emit(Piece::Skipped { line, reason });
        self.text_from = resume;
        self.state = State::Seeking { from: resume };
    }

    fn emit_event(&mut self, start: usize, end: usize, emit: &mut dyn FnMut(Piece<'_>)) {
        let line = self.lines.line_at(&self.buf, start);
        let end_line = self.lines.line_at(&self.buf, end);
        self.saw_multiline_event |= end_line != line;
        self.saw_shared_line |= line == self.last_event_end_line;
        self.last_event_end_line = end_line;
        self.in_noise = false;
        emit(Piece::Record {
            text: &self.buf[start..end],
            line,
        });
    }

    /// Finds the next `<Event` start tag (not `<Events`, `<EventData`, `<EventID`).
    fn find_open(&mut self, from: usize, at_eof: bool) -> Found {
        let mut at = from;
        while let Some(hit) = OPEN_FINDER.find(&self.buf[at..]) {
            let start = at + hit;
            match self.buf.get(start + OPEN.len()) {
                None if at_eof => return Found::Nothing,
                None => return Found::NeedMore(start),
                Some(b' ' | b'>' | b'\t' | b'\r' | b'\n' | b'/') => return Found::At(start),
                Some(b's') => self.saw_events_root = true,
                Some(_) => {}
            }
            at = start + OPEN.len();
        }
        Found::Nothing
    }

    /// An `<Event` start tag wholly inside `from..limit`.
    fn next_open_in(&self, from: usize, limit: usize) -> Option<usize> {
        let mut at = from;
        while let Some(hit) = OPEN_FINDER.find(&self.buf[at..limit]) {
            let start = at + hit;
            if let Some(b' ' | b'>' | b'\t' | b'\r' | b'\n') = self.buf.get(start + OPEN.len()) {
                return Some(start);
            }
            at = start + OPEN.len();
        }
        None
    }

    /// Classifies between-text up to the last newline before `limit`.
    fn classify_complete_lines(&mut self, limit: usize, emit: &mut dyn FnMut(Piece<'_>)) {
        if limit <= self.text_from {
            return;
        }
        match memchr::memrchr(b'\n', &self.buf[self.text_from..limit]) {
            Some(at) => self.classify_text(self.text_from + at + 1, emit),
            None if limit - self.text_from > MAX_PENDING_TEXT => self.classify_text(limit, emit),
            None => {}
        }
    }

    /// Reports unexpected text in `text_from..end`, once per block between events.
    fn classify_text(&mut self, end: usize, emit: &mut dyn FnMut(Piece<'_>)) {
        let from = self.text_from;
        if end <= from {
            return;
        }
        self.text_from = end;
        if self.in_noise {
            return;
        }
        let mut offset = from;
        for piece in self.buf[from..end].split(|&b| b == b'\n') {
            let here = offset;
            offset += piece.len() + 1;
            let text = piece.trim_ascii();
            if is_expected_between_events(text) {
                if text.starts_with(b"<Events") {
                    self.saw_events_root = true;
                }
                continue;
            }
            let line = self.lines.line_at(&self.buf, here);
            emit(Piece::Skipped {
                line,
                reason: format!("text outside any <Event> element: {}", preview(text)),
            });
            self.in_noise = true;
            return;
        }
    }

    fn compact(&mut self) {
        let keep_from = match self.state {
            State::Seeking { from } => from.min(self.text_from),
            State::InEvent { start, .. } => start.min(self.text_from),
            State::Discarding { scan, .. } => scan.min(self.text_from),
        };
        if keep_from == 0 {
            return;
        }
        self.lines.drained(&self.buf, keep_from);
        self.buf.drain(..keep_from);
        self.text_from -= keep_from;
        self.state = match self.state {
            State::Seeking { from } => State::Seeking { from: from - keep_from },
            State::InEvent { start, scan } => State::InEvent {
                start: start - keep_from,
                scan: scan - keep_from,
            },
            State::Discarding { scan, line } => State::Discarding {
                scan: scan - keep_from,
                line,
            },
        };
    }
}

enum Found {
    At(usize),
    /// A possible start tag at this offset whose next byte has not arrived yet.
    NeedMore(usize),
    Nothing,
}

/// Text that legitimately sits between events in the XML shapes we read.
fn is_expected_between_events(line: &[u8]) -> bool {
    line.is_empty()
        || line.starts_with(b"<?")
        || line.starts_with(b"<!--")
        || line.starts_with(b"-->")
        || line.starts_with(b"<Events")
        || line.starts_with(b"</Events")
        || crate::ingest::is_record_marker(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames `text` fed in pieces of `piece` bytes; records as strings, skips as "skip@line".
    fn frame(text: &str, piece: usize) -> (Vec<String>, &'static str) {
        let mut framer = XmlFramer::new();
        let mut out = Vec::new();
        let mut emit = |p: Piece<'_>| match p {
            Piece::Record { text, line } => out.push(format!("{line}:{}", String::from_utf8_lossy(text))),
            Piece::Skipped { line, .. } => out.push(format!("skip@{line}")),
        };
        for chunk in text.as_bytes().chunks(piece) {
            framer.buf.extend_from_slice(chunk);
            framer.drain(false, &mut emit);
        }
        framer.drain(true, &mut emit);
        (out, framer.format_name())
    }

    fn all_piece_sizes(text: &str) -> (Vec<String>, &'static str) {
        let whole = frame(text, usize::MAX);
        for piece in [1, 2, 3, 7, 64] {
            assert_eq!(frame(text, piece), whole, "piece size {piece}");
        }
        whole
    }

    #[test]
    fn one_event_per_line() {
        let (events, format) = all_piece_sizes("<Event a='1'><EventData/></Event>\r\n<Event><x/></Event>\n");
        assert_eq!(events, ["1:<Event a='1'><EventData/></Event>", "2:<Event><x/></Event>"]);
        assert_eq!(format, "xml-lines");
    }

    #[test]
    fn events_root_and_declaration_are_expected() {
        let text = "<?xml version=\"1.0\"?>\n<Events>\n<Event>\n <EventID>1</EventID>\n</Event>\n</Events>\n";
        let (events, format) = all_piece_sizes(text);
        assert_eq!(events, ["3:<Event>\n <EventID>1</EventID>\n</Event>"]);
        assert_eq!(format, "xml-events");
    }

    #[test]
    fn evtx_dump_record_lines_are_expected() {
        let text = "Record 1\n<?xml version=\"1.0\"?>\n<Event>\n</Event>\nRecord 2\n<Event>\n</Event>";
        let (events, format) = all_piece_sizes(text);
        assert_eq!(events, ["3:<Event>\n</Event>", "6:<Event>\n</Event>"]);
        assert_eq!(format, "xml-rootless");
    }

    #[test]
    fn concatenated_events_are_rootless() {
        let (events, format) = all_piece_sizes("<Event>a</Event><Event>b</Event>");
        assert_eq!(events.len(), 2);
        assert_eq!(format, "xml-rootless");
    }

    #[test]
    fn an_unclosed_event_does_not_swallow_the_next() {
        let (events, _) = all_piece_sizes("<Event><a>unclosed\n<Event><b/></Event>\n");
        assert_eq!(events, ["skip@1", "2:<Event><b/></Event>"]);
        let oversized = format!("<Event>{}\n<Event><b/></Event>\n", "x".repeat(MAX_RECORD_BYTES + 10));
        for piece in [oversized.len(), 1 << 20, 4099] {
            assert_eq!(
                frame(&oversized, piece).0,
                ["skip@1", "2:<Event><b/></Event>"],
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn key_value_block_is_one_skip() {
        let text = "<Event>a</Event>\n01/14/2021 PM\nLogName=Security\nMessage=x\n<Event>b</Event>\n";
        let (events, _) = all_piece_sizes(text);
        assert_eq!(events, ["1:<Event>a</Event>", "skip@2", "5:<Event>b</Event>"]);
    }

    #[test]
    fn truncated_event_is_skipped_and_the_next_one_kept() {
        let text = "<Event><EventData><Data Name='x'>cut\n<Event>ok</Event>\n<Event>tail";
        let (events, _) = all_piece_sizes(text);
        assert_eq!(events, ["skip@1", "2:<Event>ok</Event>", "skip@3"]);
    }

    #[test]
    fn oversized_event_is_skipped_with_bounded_buffer() {
        let mut framer = XmlFramer::new();
        let mut skipped = 0;
        let mut records = Vec::new();
        let mut emit = |p: Piece<'_>| match p {
            Piece::Record { text, .. } => records.push(text.to_vec()),
            Piece::Skipped { .. } => skipped += 1,
        };
        framer.buf.extend_from_slice(b"<Event>");
        let block = vec![b'x'; 1 << 20];
        let mut peak = 0;
        for _ in 0..(MAX_RECORD_BYTES >> 20) + 4 {
            framer.buf.extend_from_slice(&block);
            framer.drain(false, &mut emit);
            peak = peak.max(framer.buf.len());
        }
        framer.buf.extend_from_slice(b"</Event><Event>y</Event>");
        framer.drain(true, &mut emit);
        assert_eq!(skipped, 1);
        assert_eq!(records, [b"<Event>y</Event>".to_vec()]);
        assert!(peak <= MAX_RECORD_BYTES + (2 << 20), "buffer grew to {peak}");
    }

    #[test]
    fn long_garbage_line_keeps_buffer_small() {
        let mut framer = XmlFramer::new();
        let mut pieces = 0;
        let mut emit = |_: Piece<'_>| pieces += 1;
        framer.buf.extend_from_slice(b"<Event>a</Event>");
        for _ in 0..8 {
            framer.buf.extend_from_slice(&vec![b'z'; 1 << 20]);
            framer.drain(false, &mut emit);
            assert!(framer.buf.len() < 3 << 20);
        }
        framer.drain(true, &mut emit);
        assert_eq!(pieces, 2);
    }
}
