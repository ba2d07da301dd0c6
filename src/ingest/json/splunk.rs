//! Splunk search exports: `{"result": {...}}` per line, or `{"results": [...]}`, whose
//! `_raw` holds the event's XML as Splunk indexed it. `_time` (with its offset) is kept
//! as the shipper's time; the event's own `SystemTime` still comes first.

use super::{JsonValue, Parsed, ReadXml};
use crate::ingest::{RawEvent, xml};

/// The record's events, each result's `_raw` read with `read_xml`.
pub(super) fn events<'a, J: JsonValue<'a>>(record: J, read_xml: ReadXml) -> Result<Parsed, String> {
    if record.get("preview").and_then(J::as_bool) == Some(true) {
        // Preview rows are repeated by the final results; reading both would count twice.
        return Ok(Parsed {
            events: Vec::new(),
            format: "splunk-export",
        });
    }
    let results: Vec<J> = match (record.get("result"), record.get("results")) {
        (Some(result), _) => vec![result],
        (None, Some(results)) => results.items().into_iter().flatten().collect(),
        _ => Vec::new(),
    };
    let mut events = Vec::new();
    let mut first_error = None;
    for result in results {
        match event(result, read_xml) {
            Ok(event) => events.push(event),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) if events.is_empty() => Err(err),
        _ => Ok(Parsed {
            events,
            format: "splunk-export",
        }),
    }
}

/// One search result whose `_raw` is an event's XML.
fn event<'a, J: JsonValue<'a>>(result: J, read_xml: ReadXml) -> Result<RawEvent, String> {
    let raw = result
        .get("_raw")
        .and_then(J::as_text)
        .ok_or("Splunk result without _raw")?;
    read_beside(
        &raw,
        result.get("_time").and_then(J::scalar),
        result.get("host").and_then(J::scalar),
        read_xml,
    )
}

/// An event from a result's `_raw` XML, with Splunk's `_time` and `host` beside it.
pub fn event_from(raw: &str, time: Option<String>, host: Option<String>) -> Result<RawEvent, String> {
    read_beside(raw, time, host, xml::parse::parse_event)
}

/// [`event_from`], the XML read by `read_xml`.
fn read_beside(raw: &str, time: Option<String>, host: Option<String>, read_xml: ReadXml) -> Result<RawEvent, String> {
    if !raw.trim_start().starts_with('<') {
        return Err("Splunk result's _raw is not an XML event (only XmlWinEventLog exports are read)".into());
    }
    let mut event = read_xml(raw)?;
    event.shipper_time = time.map(|time| ("_time", time));
    if event.computer.is_none() {
        event.computer = host;
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use crate::ingest::json::parse_record;

    const RAW: &str = "<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><Computer>W3</Computer></System><EventData><Data Name='Image'>C:\\\\cmd.exe</Data></EventData></Event>";

    #[test]
    fn result_lines_and_results_arrays() {
        let line = format!(
            r#"{{"preview":false,"offset":0,"result":{{"_raw":"{RAW}","_time":"2024-05-01T19:00:00.123+09:00"}}}}"#
        );
        let parsed = parse_record(line.as_bytes()).expect("parses");
        assert_eq!(parsed.format, "splunk-export");
        assert_eq!(parsed.events[0].computer.as_deref(), Some("W3"));
        assert_eq!(
            parsed.events[0].shipper_time,
            Some(("_time", "2024-05-01T19:00:00.123+09:00".into()))
        );
        let array = format!(r#"{{"results":[{{"_raw":"{RAW}"}},{{"_raw":"{RAW}"}}]}}"#);
        assert_eq!(parse_record(array.as_bytes()).expect("parses").events.len(), 2);
        let preview = format!(r#"{{"preview":true,"result":{{"_raw":"{RAW}"}}}}"#);
        assert!(parse_record(preview.as_bytes()).expect("parses").events.is_empty());
    }

    #[test]
    fn non_xml_raw_is_an_error() {
        let err = parse_record(br#"{"result":{"_raw":"01/14/2021 LogName=Security"}}"#)
            .err()
            .expect("error");
        assert!(err.contains("not an XML event"), "{err}");
    }
}
