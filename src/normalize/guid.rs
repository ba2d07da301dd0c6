//! GUIDs as 16 bytes: Sysmon writes one per process (`{8-4-4-4-12}` in hex), and a
//! table of millions of them is a third smaller as bytes than as text.
//!
//! Only a text that formats back to itself exactly is read as bytes: braces or none,
//! and hex letters all upper or all lower case. Anything else stays text.

/// How a GUID was written, so it is written back the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub lower: bool,
    pub braces: bool,
}

const DASHES: [usize; 4] = [8, 13, 18, 23];

/// The GUID's bytes and how it was written, when `text` formats back to itself.
pub fn parse(text: &str) -> Option<([u8; 16], Style)> {
    let inner = match text.len() {
        38 => text.strip_prefix('{')?.strip_suffix('}')?,
        36 => text,
        _ => return None,
    };
    let (mut upper, mut lower) = (false, false);
    let mut nibbles = [0u8; 32];
    let mut next = 0;
    for (at, byte) in inner.bytes().enumerate() {
        if DASHES.contains(&at) {
            if byte != b'-' {
                return None;
            }
            continue;
        }
        nibbles[next] = match byte {
            b'0'..=b'9' => byte - b'0',
            b'A'..=b'F' => {
                upper = true;
                byte - b'A' + 10
            }
            b'a'..=b'f' => {
                lower = true;
                byte - b'a' + 10
            }
            _ => return None,
        };
        next += 1;
    }
    if upper && lower {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (byte, pair) in bytes.iter_mut().zip(nibbles.chunks_exact(2)) {
        *byte = pair[0] << 4 | pair[1];
    }
    let braces = text.len() == 38;
    Some((bytes, Style { lower, braces }))
}

/// True when the GUID's text has a hex letter (its case can differ).
pub fn has_letters(bytes: &[u8; 16]) -> bool {
    bytes.iter().any(|byte| byte >> 4 > 9 || byte & 15 > 9)
}

/// The text `parse` read these bytes from.
pub fn format(bytes: &[u8; 16], style: Style) -> String {
    let digits: &[u8; 16] = if style.lower {
        b"0123456789abcdef"
    } else {
        b"0123456789ABCDEF"
    };
    let mut text = String::with_capacity(38);
    if style.braces {
        text.push('{');
    }
    for (at, byte) in bytes.iter().enumerate() {
        if matches!(at, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(digits[usize::from(byte >> 4)]));
        text.push(char::from(digits[usize::from(byte & 15)]));
    }
    if style.braces {
        text.push('}');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sysmon_guids_round_trip() {
        for text in [
            "{4B1A7E3C-5248-D49D-96E4-D49D58B70FE2}",
            "{4b1a7e3c-5248-d49d-96e4-d49d58b70fe2}",
            "4B1A7E3C-5248-D49D-96E4-D49D58B70FE2",
            "{00000000-0000-0000-0000-000000000000}",
        ] {
            let (bytes, style) = parse(text).expect(text);
            assert_eq!(format(&bytes, style), text);
        }
        assert!(has_letters(
            &parse("{4B1A7E3C-5248-D49D-96E4-D49D58B70FE2}").expect("guid").0
        ));
        assert!(!has_letters(&[0x12; 16]));
    }

    #[test]
    fn anything_else_stays_text() {
        for text in [
            "{4B1A7E3C-5248-d49d-96E4-D49D58B70FE2}",
            "{4B1A7E3C-5248-D49D-96E4-D49D58B70FE2",
            "4B1A7E3C-5248-D49D-96E4-D49D58B70FE2}",
            "(4B1A7E3C-5248-D49D-96E4-D49D58B70FE2)",
            "{4B1A7E3C+5248-D49D-96E4-D49D58B70FE2}",
            "{4B1A7E3C-5248-D49D-96E4-D49D58B70FG2}",
            "{4B1A7E3C-5248-D49D-96E4-D49D58B70FE}",
            "{4B1A7E3C-5248-D49D-96E4-D49D58B70FE2é}",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn parse_is_exact(text in "\\{?[0-9A-Fa-f-]{36}\\}?") {
            if let Some((bytes, style)) = parse(&text) {
                prop_assert_eq!(format(&bytes, style), text);
            }
        }
    }
}
