//! Parses one JSON record with serde_json into a [`RawEvent`].
//!
//! Two shapes are read: evtx_dump's nested `Event.System` / `Event.EventData`
//! document, and the flat records of NXLog and older OTRF datasets, where every
//! field sits at the top level beside `EventID`, `SourceName`, `Channel`, `Hostname`.

use super::raw_event::RawEvent;
use serde_json::{Map, Value};

/// Parses one record; also returns the report's name for its shape.
pub fn parse_record(text: &[u8]) -> Result<(RawEvent, &'static str), String> {
    let value: Value = serde_json::from_slice(text).map_err(|err| format!("malformed JSON: {err}"))?;
    let Value::Object(record) = value else {
        return Err("JSON record is not an object".into());
    };
    if let Some(system) = record.get("Event").and_then(|event| event.get("System")) {
        return Ok((evtx_dump_event(&record, system), "evtx-dump-json"));
    }
    if record.contains_key("EventID") {
        let format = if record.contains_key("EventTime") || record.contains_key("SourceModuleName") {
            "nxlog"
        } else {
            "otrf"
        };
        return Ok((flat_event(&record), format));
    }
    let keys: Vec<&str> = record.keys().take(6).map(String::as_str).collect();
    Err(format!(
        "JSON record of an unknown shape: no Event.System and no EventID (keys: {})",
        keys.join(", ")
    ))
}

/// evtx_dump: attributes under `#attributes`, `EventID` a number or `{"#text": …}`.
fn evtx_dump_event(record: &Map<String, Value>, system: &Value) -> RawEvent {
    let attribute = |element: &str, name: &str| {
        system
            .get(element)
            .and_then(|e| e.get("#attributes"))
            .and_then(|a| a.get(name))
            .and_then(scalar)
    };
    let event_id = system.get("EventID").map(|id| id.get("#text").unwrap_or(id));
    let data = match record.get("Event").and_then(|event| event.get("EventData")) {
        Some(Value::Object(fields)) => scalars(fields),
        _ => Vec::new(),
    };
    RawEvent {
        event_id: event_id.and_then(event_id_of),
        provider: attribute("Provider", "Name"),
        channel: system.get("Channel").and_then(scalar),
        computer: system.get("Computer").and_then(scalar),
        system_time: attribute("TimeCreated", "SystemTime"),
        security_user_id: attribute("Security", "UserID"),
        shipper_time: None,
        data,
    }
}

/// Flat records: Sysmon's EventData names at the top level.
fn flat_event(record: &Map<String, Value>) -> RawEvent {
    let text = |key: &str| record.get(key).and_then(scalar);
    let shipper_time = ["@timestamp", "EventTime", "TimeCreated"]
        .into_iter()
        .find_map(|key| text(key).map(|value| (key, value)));
    RawEvent {
        event_id: record.get("EventID").and_then(event_id_of),
        provider: text("SourceName").or_else(|| text("ProviderName")),
        channel: text("Channel"),
        computer: text("Hostname").or_else(|| text("Computer")),
        system_time: None,
        security_user_id: text("UserID"),
        shipper_time,
        data: scalars(record),
    }
}

fn event_id_of(value: &Value) -> Option<u32> {
    match value {
        Value::Number(number) => number.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON scalar as the text Splunk would index; `null` and containers give `None`.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn scalars(fields: &Map<String, Value>) -> Vec<(String, String)> {
    fields
        .iter()
        .filter_map(|(key, value)| scalar(value).map(|text| (key.clone(), text)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evtx_dump_document() {
        let text = br##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},
            "EventID":{"#text":3},"TimeCreated":{"#attributes":{"SystemTime":"2026-08-11T08:30:09.2485781Z"}},
            "Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"H","Security":{"#attributes":{"UserID":"S-1-5-18"}}},
            "EventData":{"ProcessId":11056,"Image":"C:\\x.exe","Initiated":true,"Empty":null}}}"##;
        let (event, format) = parse_record(text).expect("parses");
        assert_eq!(format, "evtx-dump-json");
        assert_eq!(event.event_id, Some(3));
        assert_eq!(event.computer.as_deref(), Some("H"));
        assert_eq!(event.system_time.as_deref(), Some("2026-08-11T08:30:09.2485781Z"));
        assert_eq!(event.get("ProcessId"), Some("11056"));
        assert_eq!(event.get("Initiated"), Some("true"));
        assert_eq!(event.get("Empty"), None);
        assert!(event.is_sysmon());
    }

    #[test]
    fn flat_otrf_record() {
        let text = br#"{"@timestamp":"2020-10-23T02:36:43.542Z","EventID":"1","SourceName":"Microsoft-Windows-Sysmon","Hostname":"W5","Image":"C:\\a.exe"}"#;
        let (event, format) = parse_record(text).expect("parses");
        assert_eq!(format, "otrf");
        assert_eq!(event.event_id, Some(1));
        assert_eq!(event.computer.as_deref(), Some("W5"));
        assert_eq!(
            event.shipper_time,
            Some(("@timestamp", "2020-10-23T02:36:43.542Z".into()))
        );
        assert_eq!(event.get("Image"), Some("C:\\a.exe"));
    }

    #[test]
    fn unknown_shape_and_bad_json_are_errors() {
        assert!(
            parse_record(br#"{"foo":1}"#)
                .expect_err("shape")
                .contains("unknown shape")
        );
        assert!(
            parse_record(br#"{"EventID":1,}"#)
                .expect_err("syntax")
                .contains("malformed JSON")
        );
        assert!(parse_record(b"[1]").is_err());
    }
}
