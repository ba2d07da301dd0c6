//! The text the XML parser reads back from a value the `evtx` crate writes into XML.
//!
//! The crate escapes `&`, `<`, `>` (and quotes in attributes), which the parser
//! unescapes, and writes `_` for what XML cannot hold: C0 controls other than tab,
//! line feed and carriage return, lone surrogates, U+FFFE and U+FFFF. Numbers, GUIDs,
//! SIDs, hex values and FILETIMEs are written as its `ValueRenderer` writes them. The
//! parser then folds line ends (and, in attributes, tabs and line feeds into spaces):
//! a value holding a carriage return, or a tab or line feed in an attribute, gives
//! `None` here, as do reals and SYSTEMTIMEs, and the record is rendered instead.

use super::binxml::{Value, until_nul};
use super::walk::Text;
use std::fmt::Write;

/// Where a value is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Element,
    Attribute,
}

/// The text the parser reads for `text`, or `None` when it is not worked out here.
pub fn read(text: Text<'_>, place: Place) -> Option<String> {
    match text {
        Text::Empty => Some(String::new()),
        Text::Literal(units) => utf16(units, place),
        Text::Value(Value::String(units)) => utf16(until_nul(units), place),
        Text::Value(value) => {
            let mut out = String::with_capacity(40);
            write_value(value, &mut out)?;
            Some(out)
        }
    }
}

/// At most how many bytes the crate writes for `value` (its escapes included).
pub fn written_bound(value: &Value<'_>) -> usize {
    match value {
        Value::Null | Value::Nested(_) => 0,
        // `&quot;` is six bytes for one code unit.
        Value::String(units) => 3 * units.len(),
        Value::Binary(bytes) => 2 * bytes.len(),
        Value::Sid(bytes) => 24 + 3 * bytes.len(),
        Value::Signed(_) | Value::Unsigned(_) | Value::Bool(_) | Value::Hex(_) => 20,
        Value::Guid(_) | Value::FileTime(_) => 40,
        Value::Unread(bound) => *bound,
    }
}

fn write_value(value: Value<'_>, out: &mut String) -> Option<()> {
    match value {
        Value::Null => {}
        Value::String(_) | Value::Unread(_) | Value::Nested(_) => return None,
        Value::Signed(number) => signed(number, out),
        Value::Unsigned(number) => digits(number, 10, out),
        Value::Bool(0) => out.push_str("false"),
        Value::Bool(1) => out.push_str("true"),
        Value::Bool(number) => signed(i64::from(number), out),
        Value::Binary(bytes) => bytes.iter().for_each(|&byte| hex_byte(byte, UPPER_HEX, out)),
        Value::Guid(bytes) => guid(bytes, out)?,
        Value::FileTime(ticks) => file_time(ticks, out)?,
        Value::Sid(bytes) => sid(bytes, out)?,
        Value::Hex(number) => {
            out.push_str("0x");
            digits(number, 16, out);
        }
    }
    Some(())
}

const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";
const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `number` in base 10 or 16 (lowercase), without leading zeros.
fn digits(mut number: u64, base: u64, out: &mut String) {
    let mut buffer = [0u8; 20];
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = LOWER_HEX[(number % base) as usize];
        number /= base;
        if number == 0 {
            break;
        }
    }
    buffer[at..].iter().for_each(|&digit| out.push(char::from(digit)));
}

fn signed(number: i64, out: &mut String) {
    if number < 0 {
        out.push('-');
    }
    digits(number.unsigned_abs(), 10, out);
}

fn hex_byte(byte: u8, alphabet: &[u8; 16], out: &mut String) {
    out.push(char::from(alphabet[usize::from(byte >> 4)]));
    out.push(char::from(alphabet[usize::from(byte & 0x0f)]));
}

/// UTF-16LE code units as written (with `_` for what XML cannot hold) and read back.
fn utf16(units: &[u8], place: Place) -> Option<String> {
    // Printable ASCII, nearly all of it, is read back as is: four code units at a time while
    // their high bytes are zero and their low bytes from ' ' to '~', then one at a time.
    let mut ascii = Vec::with_capacity(units.len() / 2);
    let mut at = 0;
    while let Some(word) = units.get(at..at + 8) {
        let lanes = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        const LOW_BITS: u64 = 0x0080_0080_0080_0080;
        let printable = lanes & 0xff00_ff00_ff00_ff00 == 0
            && lanes.wrapping_add(0x0060_0060_0060_0060) & LOW_BITS == LOW_BITS
            && lanes.wrapping_add(0x0001_0001_0001_0001) & LOW_BITS == 0;
        if !printable {
            break;
        }
        ascii.extend_from_slice(&[word[0], word[2], word[4], word[6]]);
        at += 8;
    }
    let mut rest = &units[at..];
    while let [low @ b' '..=b'~', 0, tail @ ..] = rest {
        ascii.push(*low);
        rest = tail;
    }
    let mut out = String::from_utf8(ascii).ok()?;
    let rest = rest.chunks_exact(2).map(|unit| u16::from_le_bytes([unit[0], unit[1]]));
    for decoded in char::decode_utf16(rest) {
        let c = match decoded {
            Ok('\r') => return None,
            Ok('\t' | '\n') if place == Place::Attribute => return None,
            Ok(c @ ('\t' | '\n')) => c,
            Ok(c) if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => '_',
            Ok(c) => c,
            Err(_) => '_',
        };
        out.push(c);
    }
    Some(out)
}

/// `{d1-d2-d3-d4[0..2]-d4[2..8]}` in lowercase, the first three fields little-endian.
fn guid(bytes: &[u8], out: &mut String) -> Option<()> {
    let order = [
        3,
        2,
        1,
        0,
        usize::MAX,
        5,
        4,
        usize::MAX,
        7,
        6,
        usize::MAX,
        8,
        9,
        usize::MAX,
    ];
    out.push('{');
    for index in order.into_iter().chain(10..16) {
        match index {
            usize::MAX => out.push('-'),
            index => hex_byte(*bytes.get(index)?, LOWER_HEX, out),
        }
    }
    out.push('}');
    Some(())
}

/// `S-revision-authority-sub…`: the authority 48 bits big-endian, each sub-authority 32
/// bits little-endian.
fn sid(bytes: &[u8], out: &mut String) -> Option<()> {
    let (&[revision, count], rest) = bytes.split_first_chunk::<2>()?;
    let (authority, subs) = rest.split_first_chunk::<6>()?;
    let mut wide = [0; 8];
    wide[2..].copy_from_slice(authority);
    write!(out, "S-{revision}-{}", u64::from_be_bytes(wide)).ok()?;
    for sub in subs.chunks_exact(4).take(usize::from(count)) {
        write!(out, "-{}", u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]])).ok()?;
    }
    Some(())
}

/// FILETIME ticks (100 ns since 1601-01-01 UTC) as `YYYY-MM-DDTHH:MM:SS.fffffffZ`: the
/// proleptic Gregorian date, years past 9999 keeping their last four digits, and zeros
/// for a value past `i64::MAX`.
fn file_time(ticks: u64, out: &mut String) -> Option<()> {
    const TICKS_PER_SECOND: u64 = 10_000_000;
    const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SECOND;
    if ticks > i64::MAX as u64 {
        out.push_str("0000-00-00T00:00:00.0000000Z");
        return Some(());
    }
    let (year, month, day) = civil_from_days_since_1601(ticks / TICKS_PER_DAY);
    let of_day = ticks % TICKS_PER_DAY;
    let seconds = of_day / TICKS_PER_SECOND;
    write!(
        out,
        "{:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:07}Z",
        year % 10_000,
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60,
        of_day % TICKS_PER_SECOND
    )
    .ok()
}

/// The date `days` after 1601-01-01, by Howard Hinnant's `civil_from_days`, counting from
/// 0000-03-01 (584,694 days earlier) in 400-year eras of 146,097 days.
fn civil_from_days_since_1601(days: u64) -> (u64, u64, u64) {
    let z = days + 584_694;
    let (era, day_of_era) = (z / 146_097, z % 146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    (era * 400 + year_of_era + u64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use evtx::binxml::value_variant::FileTime;

    fn utf16le(text: &[u16]) -> Vec<u8> {
        text.iter().flat_map(|unit| unit.to_le_bytes()).collect()
    }

    #[test]
    fn strings_read_back_as_the_parser_reads_them() {
        let read = |units: &[u16], place| utf16(&utf16le(units), place);
        let plain: Vec<u16> = "a&<>\"' é日".encode_utf16().collect();
        assert_eq!(read(&plain, Place::Attribute).as_deref(), Some("a&<>\"' é日"));
        assert_eq!(
            read(&[0x61, 0x01, 0x1f, 0xfffe, 0xffff, 0x62], Place::Element).as_deref(),
            Some("a____b")
        );
        // A lone surrogate, high or low, and a pair.
        assert_eq!(read(&[0xd800, 0x61, 0xdc00], Place::Element).as_deref(), Some("_a_"));
        assert_eq!(read(&[0xd83d, 0xde00], Place::Element).as_deref(), Some("😀"));
        assert_eq!(read(&[0x61, 0x09, 0x0a], Place::Element).as_deref(), Some("a\t\n"));
        assert_eq!(read(&[0x0a], Place::Attribute), None);
        assert_eq!(read(&[0x0d], Place::Element), None);
        // Every code unit below 0x100 in each of four places of a word read four at a time.
        for unit in 0..=0xffu8 {
            for place in 0..4 {
                let mut units: Vec<u16> = "abcdefgh".encode_utf16().collect();
                units[place] = u16::from(unit);
                let expected = match char::from(unit) {
                    '\r' => None,
                    c @ ('\t' | '\n') => Some(c),
                    c if c < ' ' => Some('_'),
                    c => Some(c),
                };
                let text = read(&units, Place::Element);
                assert_eq!(
                    text.map(|text| text.chars().nth(place)),
                    expected.map(Some),
                    "{unit:#x}"
                );
            }
        }
    }

    #[test]
    fn values_are_written_as_the_crate_writes_them() {
        let write = |value| {
            let mut out = String::new();
            write_value(value, &mut out).map(|()| out)
        };
        let guid = [
            0x3a, 0x1c, 0x42, 0xe4, 0xb5, 0x56, 0x2a, 0x62, 0x18, 0x03, 0, 0, 0, 0, 0x03, 0,
        ];
        assert_eq!(
            write(Value::Guid(&guid)).as_deref(),
            Some("{e4421c3a-56b5-622a-1803-000000000300}")
        );
        let sid = [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
        assert_eq!(write(Value::Sid(&sid)).as_deref(), Some("S-1-5-18"));
        assert_eq!(write(Value::Hex(0x3e7)).as_deref(), Some("0x3e7"));
        assert_eq!(write(Value::Hex(0)).as_deref(), Some("0x0"));
        assert_eq!(write(Value::Bool(1)).as_deref(), Some("true"));
        assert_eq!(write(Value::Bool(0)).as_deref(), Some("false"));
        assert_eq!(write(Value::Bool(-2)).as_deref(), Some("-2"));
        assert_eq!(write(Value::Binary(&[0xab, 0x01])).as_deref(), Some("AB01"));
        assert_eq!(write(Value::Signed(-5)).as_deref(), Some("-5"));
        assert_eq!(write(Value::Signed(i64::MIN)).as_deref(), Some("-9223372036854775808"));
        assert_eq!(write(Value::Unsigned(0)).as_deref(), Some("0"));
        assert_eq!(
            write(Value::Unsigned(u64::MAX)).as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(write(Value::Hex(u64::MAX)).as_deref(), Some("0xffffffffffffffff"));
        assert_eq!(write(Value::Unread(40)), None);
    }

    #[test]
    fn file_times_agree_with_jiff_over_the_whole_range() {
        let mut ticks: u64 = 1;
        while ticks < i64::MAX as u64 / 2 {
            let mut out = String::new();
            file_time(ticks, &mut out).expect("written");
            if let Some(timestamp) = FileTime(ticks).to_timestamp() {
                let time = evtx::Offset::UTC.to_datetime(timestamp);
                let expected = format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
                    time.year(),
                    time.month(),
                    time.day(),
                    time.hour(),
                    time.minute(),
                    time.second(),
                    ticks % 10_000_000
                );
                assert_eq!(out, expected, "{ticks}");
            }
            ticks += ticks / 4 + 7_919;
        }
        let mut out = String::new();
        file_time(u64::MAX, &mut out).expect("written");
        assert_eq!(out, "0000-00-00T00:00:00.0000000Z");
    }
}
