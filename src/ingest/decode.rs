//! Turns a file's bytes into UTF-8, chunk by chunk.
//!
//! UTF-8 (with or without BOM) passes through untouched; UTF-16LE/BE, recognised by
//! their BOM or by the `<\0` / `\0<` pattern of BOM-less XML, is transcoded with
//! `encoding_rs`, whose decoder keeps split code units across chunk boundaries.

use encoding_rs::{Decoder, UTF_16BE, UTF_16LE};
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
    Utf16(Box<Decoder>),
}

/// A streaming decoder that writes UTF-8 into a caller's buffer.
pub struct TextDecoder {
    state: State,
    encoding: Encoding,
    /// Set when a UTF-16 sequence was malformed and replaced by U+FFFD.
    pub replaced_invalid: bool,
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
            replaced_invalid: false,
        }
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
            Encoding::Utf16Le => State::Utf16(Box::new(UTF_16LE.new_decoder_without_bom_handling())),
            Encoding::Utf16Be => State::Utf16(Box::new(UTF_16BE.new_decoder_without_bom_handling())),
        };
        self.decode_known(&head[skip..], out, false);
    }

    fn decode_known(&mut self, mut input: &[u8], out: &mut Vec<u8>, last: bool) {
        match &mut self.state {
            State::Sniffing(_) => {}
            State::Utf8 => out.extend_from_slice(input),
            State::Utf16(decoder) => loop {
                let room = decoder
                    .max_utf8_buffer_length(input.len())
                    .unwrap_or(input.len() * 3 + 16);
                let start = out.len();
                out.resize(start + room, 0);
                let (result, read, written, replaced) = decoder.decode_to_utf8(input, &mut out[start..], last);
                out.truncate(start + written);
                self.replaced_invalid |= replaced;
                input = &input[read..];
                if matches!(result, encoding_rs::CoderResult::InputEmpty) {
                    break;
                }
            },
        }
    }
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
        assert!(decoder.replaced_invalid);
        assert_eq!(String::from_utf8(out).expect("utf-8"), "<a>\u{fffd}</a>");
    }

    #[test]
    fn short_file_is_still_decoded() {
        assert_eq!(decode_in_pieces(b"{}", 1), (Encoding::Utf8, "{}".into()));
    }
}
