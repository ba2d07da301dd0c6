//! Lone UTF-16 surrogate escapes: serde_json refuses a string holding `\ud800` without
//! its pair, which would drop the whole record, so a process creation could hide behind
//! one. They are rewritten to `\ufffd` (U+FFFD) and the record is read again.

use memchr::{memchr, memchr2};

const LEADING: std::ops::RangeInclusive<u16> = 0xD800..=0xDBFF;
const TRAILING: std::ops::RangeInclusive<u16> = 0xDC00..=0xDFFF;

/// The record with every lone surrogate escape (a leading `\uD800`–`\uDBFF` not followed
/// by a trailing `\uDC00`–`\uDFFF`, or a trailing one alone) replaced with `\ufffd`, and
/// a note saying what was replaced; `None` when it has none.
pub fn replace_lone_surrogates(text: &[u8]) -> Option<(Vec<u8>, String)> {
    memchr::memmem::find(text, b"\\u")?;
    let mut out = Vec::with_capacity(text.len());
    let mut copied = 0;
    let mut first: Option<String> = None;
    let mut replaced = 0;
    let mut key: &[u8] = b"";
    let mut at = 0;
    // Outside strings no token holds a quote, so the next quote opens a string.
    while let Some(open) = memchr(b'"', &text[at..]) {
        let start = at + open + 1;
        let mut i = start;
        let end = loop {
            let next = i + memchr2(b'"', b'\\', &text[i..])?;
            if text[next] == b'"' {
                break next;
            }
            match hex_escape(text, next) {
                Some(unit)
                    if LEADING.contains(&unit) && hex_escape(text, next + 6).is_some_and(|u| TRAILING.contains(&u)) =>
                {
                    i = next + 12
                }
                Some(unit) if LEADING.contains(&unit) || TRAILING.contains(&unit) => {
                    out.extend_from_slice(&text[copied..next]);
                    out.extend_from_slice(b"\\ufffd");
                    copied = next + 6;
                    replaced += 1;
                    first.get_or_insert_with(|| {
                        let escape = String::from_utf8_lossy(&text[next..next + 6]);
                        let place = String::from_utf8_lossy(key);
                        format!("lone surrogate {escape} in {place} replaced with U+FFFD")
                    });
                    i = next + 6;
                }
                Some(_) => i = next + 6,
                None => i = next + 2,
            }
        };
        at = end + 1;
        let after = text[at..].iter().find(|b| !b.is_ascii_whitespace());
        if after == Some(&b':') {
            key = &text[start..end];
        }
    }
    let mut note = first?;
    if replaced > 1 {
        note.push_str(&format!(" (and {} more)", replaced - 1));
    }
    out.extend_from_slice(&text[copied..]);
    Some((out, note))
}

/// The code unit of a `\uXXXX` escape at `at`, if one is there.
fn hex_escape(text: &[u8], at: usize) -> Option<u16> {
    let digits = text.get(at..at + 6)?.strip_prefix(b"\\u")?;
    let digits = std::str::from_utf8(digits).ok()?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replaced(text: &str) -> Option<(String, String)> {
        replace_lone_surrogates(text.as_bytes()).map(|(text, note)| (String::from_utf8(text).expect("UTF-8"), note))
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let (text, note) = replaced(r#"{"Image":"cmd.exe","CommandLine":"cmd.exe /c \ud800 whoami"}"#).expect("one");
        assert_eq!(text, r#"{"Image":"cmd.exe","CommandLine":"cmd.exe /c \ufffd whoami"}"#);
        assert_eq!(note, r"lone surrogate \ud800 in CommandLine replaced with U+FFFD");
        let (text, note) = replaced(r#"{"a":"\uDC00\uD83D\uDE00\uDBFF\u0041", "b" : ["\ud800"]}"#).expect("three");
        assert_eq!(text, r#"{"a":"\ufffd\uD83D\uDE00\ufffd\u0041", "b" : ["\ufffd"]}"#);
        assert_eq!(note, r"lone surrogate \uDC00 in a replaced with U+FFFD (and 2 more)");
    }

    #[test]
    fn pairs_escaped_backslashes_and_plain_escapes_are_kept() {
        for text in [
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":"\\ud800"}"#,
            r#"{"a":"\u0041\"\ud800"}"#.replace(r"\ud800", r"\\ud800").as_str(),
            r#"{"a":"no escapes"}"#,
        ] {
            assert_eq!(replaced(text), None, "{text}");
        }
    }

    #[test]
    fn parsed_again_with_a_note() {
        let text = br##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1},"EventData":{"CommandLine":"cmd.exe /c \ud800 whoami"}}}"##;
        let parsed = crate::ingest::json::parse_record(text).expect("kept");
        let event = &parsed.events[0];
        assert_eq!(event.get("CommandLine"), Some("cmd.exe /c \u{FFFD} whoami"));
        assert_eq!(
            event.repaired.as_deref(),
            Some(r"lone surrogate \ud800 in CommandLine replaced with U+FFFD")
        );
        let still_malformed = br#"{"EventID":1,"CommandLine":"\ud800",}"#;
        let err = crate::ingest::json::parse_record(still_malformed)
            .err()
            .expect("malformed");
        assert!(err.contains("trailing comma"), "{err}");
    }
}
