//! Turns a file's bytes into UTF-8, chunk by chunk.
//!
//! UTF-8 (with or without BOM) passes through untouched; UTF-16LE/BE, recognised by
//! their BOM or by the `<\0` / `\0<` pattern of BOM-less XML, is transcoded. A code
//! unit or surrogate pair split across chunks is carried to the next chunk. Only
//! UTF-16 is ever transcoded, so std's `char` conversions do it: a general decoder
//! such as encoding_rs would add every legacy encoding's tables to the page's wasm.

use serde::Serialize;

/// The text encoding a file was read in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Encoding {
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "utf-16le")]
    Utf16Le,
    #[serde(rename = "utf-16be")]
    Utf16Be,
}

enum State {
    /// Fewer than four bytes seen: the encoding is not known yet.
    Sniffing(Vec<u8>),
    Utf8,
    Utf16(Utf16),
}

/// UTF-16 decoding state carried between chunks.
struct Utf16 {
    big_endian: bool,
    /// The first byte of a code unit whose second byte is in the next chunk.
    odd_byte: Option<u8>,
    /// A high surrogate waiting for its low half.
    high_surrogate: Option<u16>,
    /// Bytes of the file decoded so far (the BOM included).
    offset: u64,
}

/// A streaming decoder that writes UTF-8 into a caller's buffer.
pub struct TextDecoder {
    state: State,
    encoding: Encoding,
    /// Malformed UTF-16 sequences replaced by U+FFFD, and the file offset of the first.
    pub replaced_invalid: u64,
    pub first_invalid_at: Option<u64>,
}

impl Default for TextDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl TextDecoder {
    pub fn new() -> Self {
        Self {
            state: State::Sniffing(Vec::new()),
            encoding: Encoding::Utf8,
            replaced_invalid: 0,
            first_invalid_at: None,
        }
    }

    /// A decoder for a later part of the same file, when it is UTF-8 (passed through as is).
    pub fn continuing(&self) -> Option<Self> {
        matches!(self.state, State::Utf8).then(|| Self {
            state: State::Utf8,
            ..Self::new()
        })
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Decodes `chunk`, appending UTF-8 to `out`.
    pub fn decode(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if let State::Sniffing(head) = &mut self.state {
            head.extend_from_slice(chunk);
            if head.len() < 4 {
                return;
            }
            let head = std::mem::take(head);
            self.choose(&head, out);
            return;
        }
        self.decode_known(chunk, out, false);
    }

    /// Flushes whatever is held back at the end of the file.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if let State::Sniffing(head) = &mut self.state {
            let head = std::mem::take(head);
            self.choose(&head, out);
        }
        self.decode_known(&[], out, true);
    }

    fn choose(&mut self, head: &[u8], out: &mut Vec<u8>) {
        let (encoding, skip) = match head {
            [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8, 3),
            [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
            [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
            [a, 0, b, 0, ..] if a.is_ascii() && b.is_ascii() && *a != 0 => (Encoding::Utf16Le, 0),
            [0, a, 0, b, ..] if a.is_ascii() && b.is_ascii() && *a != 0 => (Encoding::Utf16Be, 0),
            _ => (Encoding::Utf8, 0),
        };
        self.encoding = encoding;
        self.state = match encoding {
            Encoding::Utf8 => State::Utf8,
            Encoding::Utf16Le | Encoding::Utf16Be => State::Utf16(Utf16 {
                big_endian: encoding == Encoding::Utf16Be,
                odd_byte: None,
                high_surrogate: None,
                offset: skip as u64,
            }),
        };
        self.decode_known(&head[skip..], out, false);
    }

    fn decode_known(&mut self, input: &[u8], out: &mut Vec<u8>, last: bool) {
        match &mut self.state {
            State::Sniffing(_) => {}
            State::Utf8 => out.extend_from_slice(input),
            State::Utf16(state) => {
                let (replaced, first_at) = state.decode(input, out, last);
                self.replaced_invalid += replaced;
                self.first_invalid_at = self.first_invalid_at.or(first_at);
            }
        }
    }
}

impl Utf16 {
    /// Appends the UTF-8 for `input`; returns how many malformed sequences were replaced
    /// by U+FFFD, and the file offset of the first.
    fn decode(&mut self, mut input: &[u8], out: &mut Vec<u8>, last: bool) -> (u64, Option<u64>) {
        let (mut replaced, mut first_at) = (0, None);
        let mut note = |bad: bool, at: u64| {
            if bad {
                replaced += 1;
                first_at = first_at.or(Some(at));
            }
        };
        out.reserve(input.len() * 3 / 2);
        if let (Some(first), Some(&second)) = (self.odd_byte, input.first()) {
            self.odd_byte = None;
            input = &input[1..];
            let at = self.offset - 1;
            note(self.unit(self.pair(first, second), out), at);
            self.offset += 1;
        }
        let mut pairs = input.chunks_exact(2);
        for pair in &mut pairs {
            note(self.unit(self.pair(pair[0], pair[1]), out), self.offset);
            self.offset += 2;
        }
        if let [odd] = pairs.remainder() {
            self.odd_byte = Some(*odd);
            self.offset += 1;
        }
        if last && (self.odd_byte.take().is_some() | self.high_surrogate.take().is_some()) {
            push_char(char::REPLACEMENT_CHARACTER, out);
            note(true, self.offset);
        }
        (replaced, first_at)
    }

    fn pair(&self, first: u8, second: u8) -> u16 {
        if self.big_endian {
            u16::from_be_bytes([first, second])
        } else {
            u16::from_le_bytes([first, second])
        }
    }

    /// Decodes one code unit; returns true if a malformed sequence was replaced.
    fn unit(&mut self, unit: u16, out: &mut Vec<u8>) -> bool {
        let mut replaced = false;
        if let Some(high) = self.high_surrogate.take() {
            if (0xDC00..0xE000).contains(&unit) {
                let code = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                push_char(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER), out);
                return false;
            }
            push_char(char::REPLACEMENT_CHARACTER, out);
            replaced = true;
        }
        match unit {
            0xD800..0xDC00 => self.high_surrogate = Some(unit),
            0xDC00..0xE000 => {
                push_char(char::REPLACEMENT_CHARACTER, out);
                replaced = true;
            }
            _ => push_char(
                char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
                out,
            ),
        }
        replaced
    }
}

fn push_char(c: char, out: &mut Vec<u8>) {
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(bytes: &[u8], piece: usize) -> (Encoding, String) {
        let mut decoder = TextDecoder::new();
        let mut out = Vec::new();
        for chunk in bytes.chunks(piece) {
            decoder.decode(chunk, &mut out);
        }
        decoder.finish(&mut out);
        (
            decoder.encoding(),
            String::from_utf8(out).expect("decoder output is UTF-8"),
        )
    }

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut bytes = if bom { vec![0xFF, 0xFE] } else { vec![] };
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    #[test]
    fn utf8_bom_is_dropped() {
        assert_eq!(
            decode_in_pieces("\u{feff}<Event/>".as_bytes(), 1),
            (Encoding::Utf8, "<Event/>".into())
        );
    }

    #[test]
    fn utf16le_with_and_without_bom_in_odd_chunks() {
        let text = "<Event>é ünïcode 🚀</Event>";
        for bom in [true, false] {
            for piece in [1, 3, 7, 64] {
                assert_eq!(
                    decode_in_pieces(&utf16le(text, bom), piece),
                    (Encoding::Utf16Le, text.into())
                );
            }
        }
    }

    #[test]
    fn utf16be_with_bom() {
        let mut bytes = vec![0xFE, 0xFF];
        bytes.extend("<Events/>".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode_in_pieces(&bytes, 5), (Encoding::Utf16Be, "<Events/>".into()));
    }

    #[test]
    fn unpaired_surrogate_is_replaced_and_flagged() {
        let mut bytes = utf16le("<a>", true);
        bytes.extend([0x00, 0xD8]); // a lone high surrogate
        bytes.extend(utf16le("</a>", false));
        let mut decoder = TextDecoder::new();
        let mut out = Vec::new();
        decoder.decode(&bytes, &mut out);
        decoder.finish(&mut out);
        assert!(decoder.replaced_invalid > 0);
        assert_eq!(String::from_utf8(out).expect("utf-8"), "<a>\u{fffd}</a>");
    }

    #[test]
    fn lone_low_surrogate_and_odd_trailing_byte_are_replaced() {
        let mut bytes = utf16le("a", true);
        bytes.extend([0x00, 0xDC]); // a lone low surrogate
        bytes.extend(utf16le("b", false));
        bytes.push(0x41); // half a code unit at the end
        for piece in [1, 2, 3] {
            let (_, text) = decode_in_pieces(&bytes, piece);
            assert_eq!(text, "a\u{fffd}b\u{fffd}");
        }
    }

    #[test]
    fn short_file_is_still_decoded() {
        assert_eq!(decode_in_pieces(b"{}", 1), (Encoding::Utf8, "{}".into()));
    }
}
