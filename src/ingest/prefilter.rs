//! The event-level prefilter: most Sysmon events are EventIDs neither detection
//! reads, so each event's EventID and provider are looked up on its raw bytes and
//! such an event is only counted, never built.
//!
//! It decides "count only" only when it can prove the full parser would read exactly
//! one Sysmon event of that EventID from the record, with no error and no repair, so
//! the report is the same with the prefilter on or off. Process creation and network
//! connection events (EIDs 1 and 3) are always parsed, whatever they contain, so the
//! analysis's compact rows ([`crate::normalize::arena`]) and the hardened
//! join keep every row they need.
//!
//! An XML event written in plain XML is proven in one pass that also reads its
//! EventID and provider from the root's `System` children ([`plain_event`]). Any other
//! XML event gets a quick look at the bytes — the EventID element occurs exactly once,
//! holds plain ASCII digits, and the provider is written out as
//! `Microsoft-Windows-Sysmon` — and then the parser's own reader loop keeping no value
//! ([`parses_cleanly`]), which must find it well-formed, repair nothing, and meet that
//! EventID and Provider among the root's `System` children. A JSON record written in
//! plain JSON is likewise proven in one pass ([`json::plain`]), which finds the shape
//! `parse_record` would give it and reads the EventID and provider from the places
//! that shape's reader takes them from; any other record gets the quick look at its
//! keys (and is parsed if it holds a `\u` escape), then is visited once by
//! [`json::proof`], which checks its syntax as serde_json does and answers the same.

use super::json;
use super::xml::parse::{Clean, parses_cleanly};
use super::xml::plain::plain_event;
use crate::detect::meta;
use memchr::memmem::Finder;
use std::sync::LazyLock;

/// EventIDs the detections read (today process creation and network connection), as
/// each detection's metadata lists them.
pub fn is_read_by_detections(event_id: u32) -> bool {
    meta::ALL
        .iter()
        .any(|detection| detection.event_ids.contains(&event_id))
}

/// What the prefilter decided for one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A Sysmon event of this EventID, which no detection reads: count it only.
    CountOnly(u32),
    /// Parse it fully.
    Parse,
}

const SYSMON: &[u8] = b"Microsoft-Windows-Sysmon";

struct Needles {
    event_id: Finder<'static>,
    provider: Finder<'static>,
}

static XML: LazyLock<Needles> = LazyLock::new(|| Needles {
    event_id: Finder::new("EventID"),
    provider: Finder::new("Provider"),
});

/// An XML `<Event>` element.
pub fn xml_event(text: &str) -> Verdict {
    let event = text.as_bytes();
    if let Some(facts) = plain_event(event) {
        return match facts.event_id {
            Some(id) if facts.sysmon && !is_read_by_detections(id) => Verdict::CountOnly(id),
            _ => Verdict::Parse,
        };
    }
    let needles = &*XML;
    let Some(id) = needles.event_id.find(event) else {
        return Verdict::Parse;
    };
    // `<EventID>digits</EventID>`, and no other mention of EventID after it.
    if id == 0 || event[id - 1] != b'<' || event.get(id + 7) != Some(&b'>') {
        return Verdict::Parse;
    }
    let Some((event_id, digits_end)) = digits(event, id + 8) else {
        return Verdict::Parse;
    };
    let Some(rest) = event[digits_end..].strip_prefix(b"</EventID>") else {
        return Verdict::Parse;
    };
    if is_read_by_detections(event_id) || needles.event_id.find(rest).is_some() {
        return Verdict::Parse;
    }
    // `<Provider Name='Microsoft-Windows-Sysmon'`, the only Provider element.
    let Some(provider) = needles.provider.find(event) else {
        return Verdict::Parse;
    };
    let after = &event[provider + 8..];
    let sysmon = provider > 0
        && event[provider - 1] == b'<'
        && after.strip_prefix(b" Name=").is_some_and(|value| quoted(value, SYSMON))
        && needles.provider.find(after).is_none();
    // The only EventID and Provider in the bytes are those above, so an EventID and a
    // Provider element among the root's System children are these two.
    let proven = Clean {
        system_event_id: true,
        system_provider: true,
    };
    if sysmon && parses_cleanly(text) == Some(proven) {
        Verdict::CountOnly(event_id)
    } else {
        Verdict::Parse
    }
}

/// The JSON keys one shape keeps its EventID and provider under.
pub struct JsonKeys {
    event_id: Finder<'static>,
    provider: Finder<'static>,
    /// What follows the provider key when the provider is Sysmon.
    sysmon: &'static [u8],
}

static EVTX_DUMP: LazyLock<JsonKeys> = LazyLock::new(|| JsonKeys {
    event_id: Finder::new("\"EventID\":"),
    provider: Finder::new("\"Provider\":"),
    sysmon: b"{\"#attributes\":{\"Name\":\"Microsoft-Windows-Sysmon\"",
});
static WINLOGBEAT: LazyLock<JsonKeys> = LazyLock::new(|| JsonKeys {
    event_id: Finder::new("\"event_id\":"),
    provider: Finder::new("\"provider_name\":"),
    sysmon: b"\"Microsoft-Windows-Sysmon\"",
});
static FLAT: LazyLock<JsonKeys> = LazyLock::new(|| JsonKeys {
    event_id: Finder::new("\"EventID\":"),
    provider: Finder::new("\"SourceName\":"),
    sysmon: b"\"Microsoft-Windows-Sysmon\"",
});
static UNICODE_ESCAPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\\u"));

impl JsonKeys {
    /// The keys of a JSON shape (as the report names it), if the prefilter knows it.
    pub fn of(format: &str) -> Option<&'static JsonKeys> {
        match format {
            "evtx-dump-json" => Some(&EVTX_DUMP),
            "winlogbeat" | "ecs" => Some(&WINLOGBEAT),
            "otrf" | "nxlog" => Some(&FLAT),
            _ => None,
        }
    }

    /// One JSON record of this shape: the one-pass plain check first; a record it
    /// leaves open is looked at for its keys, then proven by serde.
    pub fn record(&self, record: &[u8]) -> Verdict {
        let read = json::plain::sysmon_event_id(record).unwrap_or_else(|| {
            let event_id = unique_value(&self.event_id, record)?;
            let quoted_digits = event_id.strip_prefix(b"\"").map(|inner| (inner, true));
            let (text, quoted) = quoted_digits.unwrap_or((event_id, false));
            let (id, end) = digits(text, 0)?;
            let closed = matches!(
                (quoted, text.get(end)),
                (true, Some(b'"')) | (false, Some(b',' | b'}' | b' ' | b'\t' | b'\r' | b'\n'))
            );
            let sysmon = || unique_value(&self.provider, record).is_some_and(|value| value.starts_with(self.sysmon));
            if !closed || is_read_by_detections(id) || UNICODE_ESCAPE.find(record).is_some() || !sysmon() {
                return None;
            }
            json::proof::sysmon_event_id(record).filter(|&read| read == id)
        });
        match read {
            Some(id) if !is_read_by_detections(id) => Verdict::CountOnly(id),
            _ => Verdict::Parse,
        }
    }
}

/// What follows the only occurrence of `key` (after blanks), if it occurs exactly once.
fn unique_value<'a>(key: &Finder<'_>, record: &'a [u8]) -> Option<&'a [u8]> {
    let at = key.find(record)? + key.needle().len();
    let rest = &record[at..];
    if key.find(rest).is_some() {
        return None;
    }
    Some(rest.trim_ascii_start())
}

/// 1–9 ASCII digits at `from`: their value and where they end.
fn digits(text: &[u8], from: usize) -> Option<(u32, usize)> {
    let run = text[from.min(text.len())..]
        .iter()
        .take(10)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if run == 0 || run > 9 {
        return None;
    }
    let value = text[from..from + run]
        .iter()
        .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    Some((value, from + run))
}

/// True when `text` starts with `value` in matching single or double quotes.
fn quoted(text: &[u8], value: &[u8]) -> bool {
    match text.first() {
        Some(&quote @ (b'\'' | b'"')) => text[1..].starts_with(value) && text.get(1 + value.len()) == Some(&quote),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<Event xmlns='x'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F}'/><EventID>10</EventID><Computer>H</Computer></System><EventData><Data Name='Image'>a</Data></EventData></Event>";

    #[test]
    fn xml_plain_irrelevant_events_are_counted_only() {
        assert_eq!(xml_event(XML), Verdict::CountOnly(10));
        for relevant in ["<EventID>1</EventID>", "<EventID>3</EventID>"] {
            let event = XML.replace("<EventID>10</EventID>", relevant);
            assert_eq!(xml_event(&event), Verdict::Parse, "{relevant}");
        }
    }

    #[test]
    fn xml_anything_unusual_is_parsed() {
        for (from, to) in [
            ("<EventID>10</EventID>", "<EventID>&#49;</EventID>"),
            ("<EventID>10</EventID>", "<EventID> 10</EventID>"),
            ("<EventID>10</EventID>", "<e:EventID>10</e:EventID>"),
            ("<Computer>", "<!--<EventID>1</EventID>--><Computer>"),
            (
                "Name='Microsoft-Windows-Sysmon'",
                "Name='Microsoft-Windows-Security-Auditing'",
            ),
            ("Name='Microsoft-Windows-Sysmon'", "Name='Microsoft-Windows-&#83;ysmon'"),
            ("Name='Microsoft-Windows-Sysmon'", "Name='Microsoft-Windows-Sysmon2'"),
            ("<Computer>", "<Provider Name='Other'/><Computer>"),
            // Malformed or repaired: the parser skips or notes it, so it is parsed.
            ("<Computer>H</Computer>", "<Computer>H</Computr>"),
            ("<Data Name='Image'>a</Data>", "<Data Name='Image'>a&foo;</Data>"),
            ("<Data Name='Image'>a</Data>", "<Data Name='Image'>&#xD800;</Data>"),
            ("<Data Name='Image'>", "<Data Name=Image>"),
            ("Guid='{5770385F}'", "Guid='{5770385F}"),
            ("<Computer>", "<TimeCreated SystemTime='&#0;'/><Computer>"),
            ("</Event>", "</Event><"),
        ] {
            let event = XML.replace(from, to);
            assert_ne!(event, XML);
            assert_eq!(xml_event(&event), Verdict::Parse, "{to}");
        }
    }

    #[test]
    fn json_shapes() {
        let evtx = br##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":7},"EventData":{"Image":"a"}}}"##;
        assert_eq!(
            JsonKeys::of("evtx-dump-json").expect("known").record(evtx),
            Verdict::CountOnly(7)
        );
        let ecs = br#"{"winlog":{"event_id": "13","provider_name":"Microsoft-Windows-Sysmon"}}"#;
        assert_eq!(JsonKeys::of("ecs").expect("known").record(ecs), Verdict::CountOnly(13));
        let flat = JsonKeys::of("otrf").expect("known");
        assert_eq!(
            flat.record(br#"{"EventID":22,"SourceName":"Microsoft-Windows-Sysmon"}"#),
            Verdict::CountOnly(22)
        );
        for parsed in [
            &br#"{"EventID":1,"SourceName":"Microsoft-Windows-Sysmon"}"#[..],
            br#"{"EventID":3,"SourceName":"Microsoft-Windows-Sysmon"}"#,
            br#"{"EventID":22.0,"SourceName":"Microsoft-Windows-Sysmon"}"#,
            br#"{"EventID":"22 ","SourceName":"Microsoft-Windows-Sysmon"}"#,
            br#"{"EventID":22,"SourceName":"Microsoft-Windows-\u0053ysmon"}"#,
            br#"{"EventID":22,"SourceName":"Microsoft-Windows-Sysmon","Image":"\u006dsiexec.exe"}"#,
            br#"{"EventID":22,"SourceName":"Microsoft-Windows-Security-Auditing"}"#,
            br#"{"EventID":22}"#,
        ] {
            assert_eq!(
                flat.record(parsed),
                Verdict::Parse,
                "{}",
                String::from_utf8_lossy(parsed)
            );
        }
        assert!(JsonKeys::of("splunk-export").is_none());
        // Another EventID deeper down is not the one flat records read.
        let nested = r#"{"EventID":22,"x":{"EventID":1},"SourceName":"Microsoft-Windows-Sysmon"}"#;
        assert_eq!(json_verdict("otrf", nested), Verdict::CountOnly(22));
    }

    /// A record counted only must be one the parser reads as exactly one Sysmon event of
    /// that EventID, without error or repair.
    fn assert_agrees(verdict: Verdict, parsed: Result<Vec<crate::ingest::RawEvent>, String>, record: &str) {
        if let Verdict::CountOnly(id) = verdict {
            let events = parsed.unwrap_or_else(|err| panic!("counted but the parser says {err}: {record}"));
            assert_eq!(events.len(), 1, "{record}");
            assert!(events[0].is_sysmon(), "{record}");
            assert_eq!(events[0].event_id, Some(id), "{record}");
            assert_eq!(events[0].repaired, None, "{record}");
        }
    }

    fn xml_verdict(event: &str) -> Verdict {
        let verdict = xml_event(event);
        assert_agrees(
            verdict,
            crate::ingest::xml::parse::parse_event(event).map(|e| vec![e]),
            event,
        );
        verdict
    }

    fn json_verdict(format: &str, record: &str) -> Verdict {
        let verdict = JsonKeys::of(format).expect("known shape").record(record.as_bytes());
        let parsed = crate::ingest::json::parse_record(record.as_bytes()).map(|parsed| parsed.events);
        assert_agrees(verdict, parsed, record);
        verdict
    }

    #[test]
    fn xml_plain_events_are_read_as_the_parser_reads_them() {
        // The one-pass scan reads an EventID with attributes (as EVTX renders Qualifiers)
        // and a Provider with attributes in any order, as the parser does.
        for (from, to) in [
            ("<EventID>10</EventID>", "<EventID Qualifiers=''>10</EventID>"),
            (
                "<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F}'/>",
                "<Provider Guid='{5770385F}' Name=\"Microsoft-Windows-Sysmon\"/>",
            ),
        ] {
            let event = XML.replace(from, to);
            assert_eq!(xml_verdict(&event), Verdict::CountOnly(10), "{to}");
        }
    }

    #[test]
    fn xml_system_fields_outside_the_roots_system_are_parsed() {
        assert_eq!(xml_verdict(XML), Verdict::CountOnly(10));
        let wrapped = XML
            .replace("<System>", "<W><System>")
            .replace("</System>", "</System></W>");
        let user_data = XML
            .replace("<System>", "<UserData>")
            .replace("</System>", "</UserData>");
        let provider_outside = XML
            .replace("<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F}'/>", "")
            .replace("</Event>", "<Provider Name='Microsoft-Windows-Sysmon'/></Event>");
        for event in [wrapped, user_data, provider_outside] {
            assert_eq!(xml_verdict(&event), Verdict::Parse, "{event}");
        }
    }

    const EVTX: &str = r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":10,"Computer":"H"},"EventData":{"Image":"C:\\a.exe","n":[1,{"b":null}]}}}"##;
    const ECS: &str = r#"{"@timestamp":"2024-05-01T10:00:00Z","winlog":{"event_id":"13","provider_name":"Microsoft-Windows-Sysmon","event_data":{"a":"b"}},"host":{"os":{"name":"w"}},"event":{"code":"13"}}"#;
    const FLAT: &str = r#"{"EventID":22,"SourceName":"Microsoft-Windows-Sysmon","Hostname":"H","EventData":"<EventData><Data Name='QueryName'>x</Data></EventData>"}"#;

    #[test]
    fn json_records_of_the_files_shape_are_counted_only() {
        assert_eq!(json_verdict("evtx-dump-json", EVTX), Verdict::CountOnly(10));
        assert_eq!(json_verdict("ecs", ECS), Verdict::CountOnly(13));
        assert_eq!(json_verdict("otrf", FLAT), Verdict::CountOnly(22));
        // Beyond plain JSON (an exponent), serde's proof still counts it.
        let exponent = EVTX.replace(r#""Computer":"H""#, r#""Computer":1e5"#);
        assert_eq!(json::plain::sysmon_event_id(exponent.as_bytes()), None);
        assert_eq!(json_verdict("evtx-dump-json", &exponent), Verdict::CountOnly(10));
    }

    #[test]
    fn json_records_read_elsewhere_by_the_parser_are_parsed() {
        let flat_with = |keys: &str| FLAT.replace(r#""Hostname""#, &format!("{keys},\"Hostname\""));
        for (format, record) in [
            // EventID and provider not where evtx_dump's reader takes them.
            (
                "evtx-dump-json",
                r##"{"Event":{"System":{}},"x":{"EventID":10,"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}}}}"##.to_string(),
            ),
            (
                "evtx-dump-json",
                r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}}}},"EventID":10}"##.to_string(),
            ),
            ("evtx-dump-json", EVTX.replace(r#"{"Event":{"#, r#"{"Event":[{"#).replace("}}}", "}}]}")),
            ("evtx-dump-json", EVTX.replace("}}}", r#"}},"Event":{"Other":1}}"#)),
            // Winlogbeat keys without a `winlog` object: no shape the parser knows.
            ("ecs", r#"{"event_id":10,"provider_name":"Microsoft-Windows-Sysmon"}"#.to_string()),
            ("ecs", r#"{"winlog":"x","event_id":10,"provider_name":"Microsoft-Windows-Sysmon"}"#.to_string()),
            ("ecs", ECS.replace(r#""@timestamp""#, r#""Event":{"System":1},"@timestamp""#)),
            ("ecs", ECS.replace(r#""@timestamp""#, r#""result":null,"@timestamp""#)),
            // Flat records another reader takes first, or whose EventData may be repaired.
            ("otrf", flat_with(r#""Id":22,"ProviderName":"x""#)),
            ("otrf", flat_with(r#""fv":"nvzFlow_v4""#)),
            ("otrf", flat_with(r#""pn":1,"da":2,"dp":3"#)),
            ("otrf", flat_with(r#""event_id":1,"log_name":2"#)),
            ("otrf", flat_with(r#""winlog":{}"#)),
            ("otrf", FLAT.replace(">x<", ">a&foo;<")),
        ] {
            assert_eq!(json_verdict(format, &record), Verdict::Parse, "{record}");
        }
    }

    #[test]
    fn json_records_serde_json_refuses_are_parsed() {
        let deep = format!(r#""Computer":{}{}"#, "[".repeat(130), "]".repeat(130));
        for record in [
            EVTX.replace(r#""Computer":"H""#, r#""Computer":1e400"#),
            EVTX.replace(r#""Computer":"H""#, &deep),
            EVTX.replace(r#""Computer":"H""#, r#""Computer":"a\x""#),
            EVTX.replace(r#""Computer":"H""#, "\"Computer\":\"a\tb\""),
            EVTX.replace("}}}", "}}},"),
            EVTX.replace("}}}", "}}} x"),
            EVTX.replace(r#""Computer":"H""#, r#""Computer":"H",}"#),
        ] {
            assert_eq!(json_verdict("evtx-dump-json", &record), Verdict::Parse, "{record}");
        }
        let mut invalid_utf8 = EVTX.as_bytes().to_vec();
        let at = EVTX.find("\"H\"").expect("computer") + 1;
        invalid_utf8[at] = 0xff;
        let keys = JsonKeys::of("evtx-dump-json").expect("known");
        assert_eq!(keys.record(&invalid_utf8), Verdict::Parse);
        assert!(crate::ingest::json::parse_record(&invalid_utf8).is_err());
    }
}
