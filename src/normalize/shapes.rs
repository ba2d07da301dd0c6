//! Texts of three shapes Sysmon writes by the million, read as numbers so that a
//! table of them is a half to a third smaller than the text: GUIDs (`{8-4-4-4-12}`
//! hex, one per process) as 16 bytes, `UtcTime`s (`YYYY-MM-DD HH:MM:SS.fff`, one per
//! event) as their 17 digits, and IPv4 addresses (one per connection) as 4 bytes.
//!
//! Only a text that formats back to itself exactly is read as a number: a GUID with
//! braces or none and hex letters all upper or all lower case, digits where a time
//! has digits, octets without leading zeros. Anything else stays text.

/// A text read as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packed {
    Guid([u8; 16], Style),
    /// The 17 digits of `YYYY-MM-DD HH:MM:SS.fff`, as one decimal number.
    UtcTime(u64),
    Ipv4([u8; 4]),
}

impl Packed {
    /// Reads `text` as a number, when it formats back to itself.
    pub fn parse(text: &str) -> Option<Self> {
        match text.len() {
            36 | 38 => parse(text).map(|(bytes, style)| Self::Guid(bytes, style)),
            23 => utc_time(text).map(Self::UtcTime),
            7..=15 => ipv4(text).map(Self::Ipv4),
            _ => None,
        }
    }

    /// The text `parse` read.
    pub fn format(&self) -> String {
        match self {
            Self::Guid(bytes, style) => format(bytes, *style),
            Self::UtcTime(digits) => {
                let digits = format!("{digits:017}");
                let part = |range: std::ops::Range<usize>| &digits[range];
                format!(
                    "{}-{}-{} {}:{}:{}.{}",
                    part(0..4),
                    part(4..6),
                    part(6..8),
                    part(8..10),
                    part(10..12),
                    part(12..14),
                    part(14..17)
                )
            }
            Self::Ipv4([a, b, c, d]) => format!("{a}.{b}.{c}.{d}"),
        }
    }
}

/// Where `YYYY-MM-DD HH:MM:SS.fff` has separators, and which.
const TIME_SEPARATORS: [(usize, u8); 6] = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':'), (19, b'.')];

fn utc_time(text: &str) -> Option<u64> {
    let mut digits = 0u64;
    for (at, byte) in text.bytes().enumerate() {
        match TIME_SEPARATORS.iter().find(|(place, _)| *place == at) {
            Some(&(_, separator)) if byte == separator => {}
            Some(_) => return None,
            None if byte.is_ascii_digit() => digits = digits * 10 + u64::from(byte - b'0'),
            None => return None,
        }
    }
    Some(digits)
}

fn ipv4(text: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        let canonical = part.len() == 1 || (part.len() <= 3 && !part.starts_with('0'));
        if !canonical || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(octets)
}

/// How a GUID was written, so it is written back the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub lower: bool,
    pub braces: bool,
}

const DASHES: [usize; 4] = [8, 13, 18, 23];

/// The GUID's bytes and how it was written, when `text` formats back to itself.
fn parse(text: &str) -> Option<([u8; 16], Style)> {
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

/// The text `parse` read these bytes from.
fn format(bytes: &[u8; 16], style: Style) -> String {
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

    #[test]
    fn times_and_addresses_round_trip() {
        for text in [
            "2026-03-02 08:00:00.143",
            "0000-00-00 00:00:00.000",
            "9999-99-99 99:99:99.999",
        ] {
            assert!(matches!(Packed::parse(text), Some(Packed::UtcTime(_))), "{text}");
        }
        for text in ["0.0.0.0", "10.20.7.17", "255.255.255.255", "1.22.103.4"] {
            assert!(matches!(Packed::parse(text), Some(Packed::Ipv4(_))), "{text}");
        }
        for text in [
            "2026-03-02T08:00:00.143",
            "2026-03-02 08:00:00,143",
            "2026-03-02 08:00:0a.143",
            "256.1.1.1",
            "01.1.1.1",
            "1.1.1",
            "1.1.1.1.",
            "1.1.1.+1",
            "::1",
            "-",
        ] {
            assert_eq!(Packed::parse(text), None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn parse_is_exact(text in "\\{?[0-9A-Fa-f-]{36}\\}?|[0-9 :.-]{23}|[0-9.]{7,15}") {
            if let Some(packed) = Packed::parse(&text) {
                prop_assert_eq!(packed.format(), text);
            }
        }
    }
}
