//! Text from the logs, made safe to print on a terminal.
//!
//! Event fields, archive member names and file names are written by the machine that was
//! logged. Printed raw, an escape sequence in a CommandLine retitles or clears the analyst's
//! terminal, a `\r` overwrites the line it is on, and a bidi override reorders what is shown.
//! Each such character is shown as an escape instead: `\x1b`, `\r`, `\u{202e}`. Backslashes
//! are left alone (Windows paths stay readable), so the JSON output is the exact record.

use std::fmt;

/// `text` as the terminal should show it: every control and bidi-override character escaped.
pub fn visible(text: &str) -> Visible<'_> {
    Visible(text)
}

pub struct Visible<'a>(&'a str);

impl fmt::Display for Visible<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(needs_escape) {
            out.write_str(&rest[..at])?;
            let Some(unsafe_char) = rest[at..].chars().next() else {
                break;
            };
            match unsafe_char {
                '\t' => out.write_str("\\t")?,
                '\n' => out.write_str("\\n")?,
                '\r' => out.write_str("\\r")?,
                c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32)?,
                c => write!(out, "\\u{{{:x}}}", c as u32)?,
            }
            rest = &rest[at + unsafe_char.len_utf8()..];
        }
        out.write_str(rest)
    }
}

/// C0 controls, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn controls_and_bidi_overrides_become_escapes() {
        let shown =
            visible("a\u{1b}]0;owned\u{7}b\u{1b}[2Jc\rd\ne\tf\u{7f}g\u{9b}h\u{202e}i\u{2066}j\u{0}").to_string();
        assert_eq!(
            shown,
            r"a\x1b]0;owned\x07b\x1b[2Jc\rd\ne\tf\x7fg\u{9b}h\u{202e}i\u{2066}j\x00"
        );
    }

    #[test]
    fn printable_text_is_unchanged() {
        for text in ["C:\\Windows\\System32\\cmd.exe /c dir", "Zoë 東京 \u{200d}", ""] {
            assert_eq!(visible(text).to_string(), text);
        }
    }
}
