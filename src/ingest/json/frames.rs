//! Finds each JSON record's bytes in a stream of JSON text.
//!
//! Accepts JSON Lines, concatenated or pretty-printed objects (evtx_dump's `-o json`,
//! with its `Record N` lines) and a top-level array of objects. Only string, escape
//! and bracket state is tracked here; serde_json parses each record afterwards. In
//! JSON Lines a line that does not close its object is reported and reading goes on
//! at the next line.

use crate::ingest::lines::LineCounter;
use crate::ingest::{MAX_RECORD_BYTES, Piece, preview};

const NOT_CLOSED_ON_ITS_LINE: &str = "JSON record is not closed at the end of its line";
const TRUNCATED_BY_EOF: &str = "truncated JSON record: the file ends inside it";

/// The skip reason of a record larger than [`MAX_RECORD_BYTES`], decided by its size
/// alone (not by how much of it one chunk held).
fn too_large() -> String {
    format!("JSON record larger than {} MiB skipped", MAX_RECORD_BYTES >> 20)
}

/// A line of text is classified once this long, even without its newline.
const MAX_NOISE_LINE: usize = 1 << 20;

#[derive(Clone, Copy, Debug)]
enum State {
    Between,
    InRecord {
        start: usize,
        depth: u32,
        in_string: bool,
        escaped: bool,
    },
    /// Text that is not JSON, up to the end of its line.
    Noise {
        start: usize,
        reported: bool,
    },
    /// A record already larger than [`MAX_RECORD_BYTES`], which started on `line`, whose
    /// bytes are dropped until it closes (or its line ends, in JSON Lines); what is
    /// reported then is what framing it whole would report.
    Discarding {
        depth: u32,
        in_string: bool,
        escaped: bool,
        line: u64,
    },
}

/// Splits JSON text into records.
pub struct JsonFramer {
    pub buf: Vec<u8>,
    lines: LineCounter,
    pos: usize,
    state: State,
    in_array: bool,
    /// Decided by the first record: true when it opened and closed on one line.
    json_lines: Option<bool>,
}

impl Default for JsonFramer {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonFramer {
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            lines: LineCounter::new(),
            pos: 0,
            state: State::Between,
            in_array: false,
            json_lines: None,
        }
    }

    /// A framer for a later part of a JSON Lines file, from a point where this one is
    /// idle ([`Self::is_idle`]); `None` for other layouts, whose records may span lines.
    pub fn continuing(&self) -> Option<Self> {
        (self.json_lines == Some(true) && !self.in_array).then(|| Self {
            json_lines: Some(true),
            ..Self::new()
        })
    }

    /// True when every byte so far is framed and no record, noise line or array is open.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Between) && self.pos == self.buf.len() && !self.in_array
    }

    /// Emits every complete record in the buffer, then drops the bytes no longer needed.
    pub fn drain(&mut self, at_eof: bool, emit: &mut dyn FnMut(Piece<'_>)) {
        let len = self.buf.len();
        while self.pos < len {
            let byte = self.buf[self.pos];
            match self.state {
                State::Between => {
                    if byte == b'{' && self.json_lines == Some(true) {
                        match self.whole_line_record(at_eof) {
                            Some(LineRecord::Emit(end)) => {
                                let line = self.lines.line_at(&self.buf, self.pos);
                                emit(Piece::Record {
                                    text: self.buf[self.pos..end].trim_ascii_end(),
                                    line,
                                });
                                self.pos = end;
                                continue;
                            }
                            Some(LineRecord::NeedMore) => break,
                            None => {}
                        }
                    }
                    match byte {
                        // In JSON Lines a top-level array is a (wrong-shaped) record of its own.
                        b'{' | b'[' if byte == b'{' || self.json_lines == Some(true) => {
                            self.state = State::InRecord {
                                start: self.pos,
                                depth: 1,
                                in_string: false,
                                escaped: false,
                            }
                        }
                        b'[' if !self.in_array => self.in_array = true,
                        b',' | b']' if self.in_array => self.in_array = byte == b',',
                        b' ' | b'\t' | b'\r' | b'\n' => {}
                        _ => {
                            self.state = State::Noise {
                                start: self.pos,
                                reported: false,
                            }
                        }
                    }
                    self.pos += 1;
                }
                State::Noise { start, reported } => match memchr::memchr(b'\n', &self.buf[self.pos..]) {
                    Some(at) => {
                        if !reported {
                            self.report_noise(start, self.pos + at, emit);
                        }
                        self.pos += at + 1;
                        self.state = State::Between;
                    }
                    None => {
                        if !reported && len - start > MAX_NOISE_LINE {
                            self.report_noise(start, len, emit);
                            self.state = State::Noise {
                                start: len,
                                reported: true,
                            };
                        }
                        self.pos = len;
                    }
                },
                State::InRecord {
                    start,
                    depth,
                    in_string,
                    escaped,
                } => {
                    let json_lines = self.json_lines == Some(true);
                    let (next, stop) = scan(&self.buf, self.pos, depth, in_string, escaped, json_lines);
                    self.pos = next.pos;
                    match stop {
                        Stop::Closed if self.pos - start > MAX_RECORD_BYTES => {
                            let line = self.lines.line_at(&self.buf, start);
                            emit(Piece::Skipped {
                                line,
                                reason: too_large(),
                            });
                            self.state = State::Between;
                        }
                        Stop::Closed => {
                            let text = &self.buf[start..self.pos];
                            let line = self.lines.line_at(&self.buf, start);
                            if self.json_lines.is_none() {
                                self.json_lines = Some(!self.in_array && memchr::memchr(b'\n', text).is_none());
                            }
                            emit(Piece::Record {
                                text: &self.buf[start..self.pos],
                                line,
                            });
                            self.state = State::Between;
                        }
                        Stop::LineEnded => {
                            let line = self.lines.line_at(&self.buf, start);
                            emit(Piece::Skipped {
                                line,
                                reason: NOT_CLOSED_ON_ITS_LINE.into(),
                            });
                            self.state = State::Between;
                        }
                        Stop::NeedMore if len - start > MAX_RECORD_BYTES => {
                            self.state = State::Discarding {
                                depth: next.depth,
                                in_string: next.in_string,
                                escaped: next.escaped,
                                line: self.lines.line_at(&self.buf, start),
                            };
                        }
                        Stop::NeedMore => {
                            self.state = State::InRecord {
                                start,
                                depth: next.depth,
                                in_string: next.in_string,
                                escaped: next.escaped,
                            }
                        }
                    }
                }
                State::Discarding {
                    depth,
                    in_string,
                    escaped,
                    line,
                } => {
                    let json_lines = self.json_lines == Some(true);
                    let (next, stop) = scan(&self.buf, self.pos, depth, in_string, escaped, json_lines);
                    self.pos = next.pos;
                    let reason = match stop {
                        Stop::NeedMore => {
                            self.state = State::Discarding {
                                depth: next.depth,
                                in_string: next.in_string,
                                escaped: next.escaped,
                                line,
                            };
                            continue;
                        }
                        Stop::Closed => too_large(),
                        Stop::LineEnded => NOT_CLOSED_ON_ITS_LINE.into(),
                    };
                    emit(Piece::Skipped { line, reason });
                    self.state = State::Between;
                }
            }
        }
        if at_eof {
            match self.state {
                State::InRecord { start, .. } => {
                    let line = self.lines.line_at(&self.buf, start);
                    emit(Piece::Skipped {
                        line,
                        reason: TRUNCATED_BY_EOF.into(),
                    });
                }
                State::Discarding { line, .. } => emit(Piece::Skipped {
                    line,
                    reason: TRUNCATED_BY_EOF.into(),
                }),
                State::Noise { start, reported: false } => self.report_noise(start, len, emit),
                _ => {}
            }
            self.state = State::Between;
        }
        self.compact();
    }

    /// In JSON Lines, a line from `pos` that ends in `}` is taken whole, found with one
    /// newline search instead of tracking strings and brackets byte by byte; serde_json
    /// still rejects a line that is not exactly one object. `None`: scan it instead.
    fn whole_line_record(&self, at_eof: bool) -> Option<LineRecord> {
        let rest = &self.buf[self.pos..];
        let end = match memchr::memchr(b'\n', rest) {
            Some(at) => at,
            None if at_eof || rest.len() > MAX_RECORD_BYTES => return None,
            None => return Some(LineRecord::NeedMore),
        };
        let ends_in_brace = rest[..end].trim_ascii_end().ends_with(b"}");
        (ends_in_brace && end <= MAX_RECORD_BYTES).then_some(LineRecord::Emit(self.pos + end))
    }

    fn report_noise(&mut self, start: usize, end: usize, emit: &mut dyn FnMut(Piece<'_>)) {
        let text = self.buf[start..end].trim_ascii();
        if crate::ingest::is_record_marker(text) {
            return;
        }
        let line = self.lines.line_at(&self.buf, start);
        emit(Piece::Skipped {
            line,
            reason: format!("not JSON: {}", preview(text)),
        });
    }

    fn compact(&mut self) {
        let keep_from = match self.state {
            State::InRecord { start, .. } => start,
            State::Noise { start, reported: false } => start.min(self.pos),
            _ => self.pos,
        };
        if keep_from == 0 {
            return;
        }
        self.lines.drained(&self.buf, keep_from);
        self.buf.drain(..keep_from);
        self.pos -= keep_from;
        match &mut self.state {
            State::InRecord { start, .. } | State::Noise { start, .. } => *start = start.saturating_sub(keep_from),
            _ => {}
        }
    }
}

enum LineRecord {
    /// The record ends where its line does, at this offset.
    Emit(usize),
    NeedMore,
}

struct ScanState {
    pos: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
}

enum Stop {
    /// The record's outermost bracket closed; `pos` is just past it.
    Closed,
    /// JSON Lines only: a newline came before the record closed; `pos` is past it.
    LineEnded,
    NeedMore,
}

/// Tracks brackets outside strings from `pos` until the record closes or the buffer ends.
fn scan(buf: &[u8], pos: usize, depth: u32, in_string: bool, escaped: bool, json_lines: bool) -> (ScanState, Stop) {
    let mut s = ScanState {
        pos,
        depth,
        in_string,
        escaped,
    };
    while s.pos < buf.len() {
        if s.in_string && !s.escaped {
            // Jump to the next byte that can end the string (or, in JSON Lines, the line).
            let rest = &buf[s.pos..];
            let next = if json_lines {
                memchr::memchr3(b'"', b'\\', b'\n', rest)
            } else {
                memchr::memchr2(b'"', b'\\', rest)
            };
            match next {
                Some(skip) => s.pos += skip,
                None => {
                    s.pos = buf.len();
                    break;
                }
            }
        }
        let byte = buf[s.pos];
        s.pos += 1;
        if s.in_string {
            if s.escaped {
                s.escaped = false;
            } else if byte == b'\\' {
                s.escaped = true;
            } else if byte == b'"' {
                s.in_string = false;
            } else if byte == b'\n' && json_lines {
                return (s, Stop::LineEnded);
            }
            continue;
        }
        match byte {
            b'"' => s.in_string = true,
            b'{' | b'[' => s.depth += 1,
            b'}' | b']' => {
                s.depth = s.depth.saturating_sub(1);
                if s.depth == 0 {
                    return (s, Stop::Closed);
                }
            }
            b'\n' if json_lines => return (s, Stop::LineEnded),
            _ => {}
        }
    }
    (s, Stop::NeedMore)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str, piece: usize) -> Vec<String> {
        let mut framer = JsonFramer::new();
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
        out
    }

    fn all_piece_sizes(text: &str) -> Vec<String> {
        let whole = frame(text, usize::MAX);
        for piece in [1, 2, 5, 64] {
            assert_eq!(frame(text, piece), whole, "piece size {piece}");
        }
        whole
    }

    #[test]
    fn json_lines_with_braces_in_strings() {
        let text = "{\"a\":\"}{\\\"\"}\n{\"b\":[1,{\"c\":2}]}\n";
        assert_eq!(
            all_piece_sizes(text),
            ["1:{\"a\":\"}{\\\"\"}", "2:{\"b\":[1,{\"c\":2}]}"]
        );
    }

    #[test]
    fn pretty_objects_with_record_lines() {
        let text = "Record 1\n{\n  \"Event\": {\n    \"x\": 1\n  }\n}\nRecord 2\n{\n}\n";
        assert_eq!(
            all_piece_sizes(text),
            ["2:{\n  \"Event\": {\n    \"x\": 1\n  }\n}", "8:{\n}"]
        );
    }

    #[test]
    fn array_of_objects() {
        let text = "[\n  {\"a\": 1},\n  {\"b\": {\"c\": []}}\n]";
        assert_eq!(all_piece_sizes(text), ["2:{\"a\": 1}", "3:{\"b\": {\"c\": []}}"]);
    }

    #[test]
    fn unclosed_line_is_skipped_and_reading_goes_on() {
        let text = "{\"a\":1}\n{\"b\":\"cut\n{\"c\":3}\nnot json at all\n{\"d\":4";
        assert_eq!(
            all_piece_sizes(text),
            ["1:{\"a\":1}", "skip@2", "3:{\"c\":3}", "skip@4", "skip@5"]
        );
    }
}
