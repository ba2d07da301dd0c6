//! JSON records: finding each one ([`frames`]), then reading it by its shape.
//!
//! Each shape maps its own field names onto Sysmon's, so one [`RawEvent`] comes out
//! whatever shipped the event: evtx_dump, Winlogbeat (6.x and 7/8), ECS documents
//! after the Winlogbeat sysmon module or Elastic Agent, NXLog and OTRF flat records,
//! PowerShell exports, Splunk search exports and Cisco NVM flow records.

mod cisco_nvm;
mod evtx_dump;
mod flat;
pub mod frames;
pub mod splunk;
mod winlogbeat;

use super::RawEvent;
use serde_json::{Map, Value};

/// What one JSON record held: events (a Splunk export may hold many) and its shape's name.
pub struct Parsed {
    pub events: Vec<RawEvent>,
    pub format: &'static str,
}

impl Parsed {
    fn one(event: RawEvent, format: &'static str) -> Self {
        Self {
            events: vec![event],
            format,
        }
    }
}

/// Parses one record, recognising its shape from the fields it has.
pub fn parse_record(text: &[u8]) -> Result<Parsed, String> {
    let value: Value = serde_json::from_slice(text).map_err(|err| format!("malformed JSON: {err}"))?;
    let Some(record) = value.as_object() else {
        return Err("JSON record is not an object".into());
    };
    if record.get("Event").and_then(|event| event.get("System")).is_some() {
        return Ok(Parsed::one(evtx_dump::event(record), "evtx-dump-json"));
    }
    if record.contains_key("result") || record.contains_key("results") {
        return splunk::events(record);
    }
    if record.get("winlog").is_some_and(Value::is_object) {
        return Ok(winlogbeat::modern(&value));
    }
    let legacy_system = ["source_name", "log_name", "computer_name"]
        .iter()
        .any(|key| record.contains_key(*key));
    if record.contains_key("event_id") && legacy_system {
        return Ok(Parsed::one(winlogbeat::legacy(record), "winlogbeat"));
    }
    if cisco_nvm::is_flow(record) {
        return Ok(Parsed::one(cisco_nvm::flow(&value), "cisco-nvm"));
    }
    if let Some(parsed) = flat::event(record) {
        return Ok(parsed);
    }
    let keys: Vec<&str> = record.keys().take(6).map(String::as_str).collect();
    Err(format!(
        "JSON record of an unknown shape (tried evtx_dump, Splunk export, Winlogbeat, ECS, Cisco NVM, flat EventID records; keys: {})",
        keys.join(", ")
    ))
}

/// The value at a dotted path of object keys.
fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

/// The text at a path, if it is a scalar.
fn text_at(value: &Value, path: &[&str]) -> Option<String> {
    at(value, path).and_then(scalar)
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

/// Reads Windows' rendered `Message` ("Key: value" per line) into name/value pairs.
fn message_fields(message: &str) -> Vec<(String, String)> {
    message
        .lines()
        .filter_map(|line| {
            let (key, value) = line
                .split_once(": ")
                .or_else(|| line.strip_suffix(':').map(|key| (key, "")))?;
            let key = key.trim();
            let simple = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric());
            simple.then(|| (key.to_string(), value.trim_end_matches('\r').to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_shape_and_bad_json_are_errors() {
        let err = parse_record(br#"{"foo":1}"#).err().expect("shape");
        assert!(err.contains("unknown shape (tried evtx_dump"), "{err}");
        assert!(
            parse_record(br#"{"EventID":1,}"#)
                .err()
                .expect("syntax")
                .contains("malformed JSON")
        );
        assert!(parse_record(b"[1]").is_err());
    }

    #[test]
    fn message_lines_become_fields() {
        let fields =
            message_fields("Process Create:\r\nRuleName: \r\nProcessId: 2968\r\nImage: C:\\a b.exe\r\nnot a field");
        assert_eq!(
            fields,
            [
                ("RuleName".to_string(), String::new()),
                ("ProcessId".into(), "2968".into()),
                ("Image".into(), "C:\\a b.exe".into())
            ]
        );
    }
}
