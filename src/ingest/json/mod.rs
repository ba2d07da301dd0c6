//! JSON records: finding each one ([`frames`]), then reading it by its shape.
//!
//! Each shape maps its own field names onto Sysmon's, so one [`RawEvent`] comes out
//! whatever shipped the event: evtx_dump, Winlogbeat (6.x and 7/8), ECS documents
//! after the Winlogbeat sysmon module or Elastic Agent, NXLog and OTRF flat records,
//! PowerShell exports, Splunk search exports and Cisco NVM flow records.

mod cisco_nvm;
mod escapes;
mod evtx_dump;
pub mod extract;
mod flat;
pub mod frames;
pub mod plain;
pub mod proof;
pub mod splunk;
mod winlogbeat;

use super::{RawEvent, xml};
use serde_json::Value;
use std::borrow::Cow;

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

/// Parses one record, recognising its shape from the fields it has. A lone UTF-16
/// surrogate escape (`\ud800`), which serde_json refuses, becomes U+FFFD and the
/// events say so.
pub fn parse_record(text: &[u8]) -> Result<Parsed, String> {
    let malformed = |err: serde_json::Error| format!("malformed JSON: {err}");
    let (value, repaired) = match serde_json::from_slice::<Value>(text) {
        Ok(value) => (value, None),
        Err(err) => match escapes::replace_lone_surrogates(text) {
            Some((text, note)) => (serde_json::from_slice(&text).map_err(malformed)?, Some(note)),
            None => return Err(malformed(err)),
        },
    };
    let mut parsed = parse_value(&value)?;
    if let Some(note) = repaired {
        for event in &mut parsed.events {
            event.repaired = Some(match event.repaired.take() {
                Some(inner) => format!("{note}; {inner}"),
                None => note.clone(),
            });
        }
    }
    Ok(parsed)
}

/// Reads one record as [`parse_record`] does: straight from its bytes when it is plain
/// JSON ([`extract`]), else with serde_json.
pub fn read_record(text: &[u8]) -> Result<Parsed, String> {
    extract::extract_record(text).map_or_else(|| parse_record(text), Ok)
}

fn parse_value(value: &Value) -> Result<Parsed, String> {
    let Some(record) = value.as_object() else {
        return Err("JSON record is not an object".into());
    };
    read_shape(Shape::of(value), value, xml::parse::parse_event).unwrap_or_else(|| {
        let keys: Vec<&str> = record.keys().take(6).map(String::as_str).collect();
        Err(format!(
            "JSON record of an unknown shape (tried evtx_dump, Splunk export, Winlogbeat, ECS, Cisco NVM, flat EventID records; keys: {})",
            keys.join(", ")
        ))
    })
}

/// Reads a record of a known shape, a Splunk export's `_raw` XML with `read_xml`;
/// `None` for an unknown shape.
fn read_shape<'a, J: JsonValue<'a>>(shape: Shape, record: J, read_xml: ReadXml) -> Option<Result<Parsed, String>> {
    Some(Ok(match shape {
        Shape::EvtxDump => Parsed::one(evtx_dump::event(record), "evtx-dump-json"),
        Shape::SplunkExport => return Some(splunk::events(record, read_xml)),
        Shape::Winlogbeat => winlogbeat::modern(record),
        Shape::WinlogbeatLegacy => Parsed::one(winlogbeat::legacy(record), "winlogbeat"),
        Shape::CiscoNvm => Parsed::one(cisco_nvm::flow(record), "cisco-nvm"),
        Shape::PowerShell => flat::powershell(record),
        Shape::Flat => flat::event(record),
        Shape::Unknown => return None,
    }))
}

/// How an event's XML is read: by the parser, or as [`xml::read_event`] reads it.
type ReadXml = fn(&str) -> Result<RawEvent, String>;

/// A JSON value as the shape readers see it: serde's [`Value`], or a record
/// [`extract`]ed in one pass with its strings borrowed. Both answer alike for the same
/// record, so a reader written once gives the same event from either.
pub trait JsonValue<'a>: Copy {
    /// The value of `key` when this is an object holding it.
    fn get(self, key: &str) -> Option<Self>;
    /// The object's keys and values in document order; `None` when this is no object.
    fn fields(self) -> Option<impl Iterator<Item = (&'a str, Self)>>;
    /// The string this is, if it is one.
    fn as_text(self) -> Option<Cow<'a, str>>;
    /// A scalar as the text Splunk would index; `null` and containers give `None`.
    fn scalar(self) -> Option<String>;
    /// A number, or a string holding one, as an EventID.
    fn event_id(self) -> Option<u32>;
    /// The boolean this is, if it is one.
    fn as_bool(self) -> Option<bool>;
    /// The array's elements in order; `None` when this is no array.
    fn items(self) -> Option<impl Iterator<Item = Self>>;

    fn is_object(self) -> bool {
        self.fields().is_some()
    }
}

impl<'a> JsonValue<'a> for &'a Value {
    fn get(self, key: &str) -> Option<Self> {
        Value::get(self, key)
    }

    fn fields(self) -> Option<impl Iterator<Item = (&'a str, Self)>> {
        self.as_object()
            .map(|fields| fields.iter().map(|(key, value)| (key.as_str(), value)))
    }

    fn as_text(self) -> Option<Cow<'a, str>> {
        self.as_str().map(Cow::Borrowed)
    }

    fn scalar(self) -> Option<String> {
        scalar(self)
    }

    fn event_id(self) -> Option<u32> {
        event_id_of(self)
    }

    fn as_bool(self) -> Option<bool> {
        Value::as_bool(self)
    }

    fn items(self) -> Option<impl Iterator<Item = Self>> {
        self.as_array().map(|items| items.iter())
    }
}

/// Which reader a record goes to, tried in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    EvtxDump,
    SplunkExport,
    Winlogbeat,
    WinlogbeatLegacy,
    CiscoNvm,
    PowerShell,
    Flat,
    Unknown,
}

/// What decides a record's shape; [`proof`] finds the same facts without building the record.
#[derive(Clone, Copy, Debug, Default)]
struct ShapeFacts {
    /// `Event` is an object with a `System` key.
    event_system: bool,
    /// `result` or `results` is a key.
    splunk_result: bool,
    /// `winlog` is an object.
    winlog_object: bool,
    /// `event_id` is a key, and so is one of `source_name`, `log_name`, `computer_name`.
    legacy_winlogbeat: bool,
    /// `fv` is a string naming an nvzFlow version, or `pn`, `da` and `dp` are all keys.
    cisco_flow: bool,
    /// `Id` and `ProviderName` are keys.
    powershell: bool,
    /// `EventID` or `EventId` is a key.
    event_id: bool,
}

impl ShapeFacts {
    fn shape(self) -> Shape {
        if self.event_system {
            Shape::EvtxDump
        } else if self.splunk_result {
            Shape::SplunkExport
        } else if self.winlog_object {
            Shape::Winlogbeat
        } else if self.legacy_winlogbeat {
            Shape::WinlogbeatLegacy
        } else if self.cisco_flow {
            Shape::CiscoNvm
        } else if self.powershell {
            Shape::PowerShell
        } else if self.event_id {
            Shape::Flat
        } else {
            Shape::Unknown
        }
    }
}

impl Shape {
    fn of<'a, J: JsonValue<'a>>(record: J) -> Shape {
        let has = |key: &str| record.get(key).is_some();
        let fv = record.get("fv").and_then(J::as_text).unwrap_or_default();
        ShapeFacts {
            event_system: record.get("Event").and_then(|event| event.get("System")).is_some(),
            splunk_result: has("result") || has("results"),
            winlog_object: record.get("winlog").is_some_and(J::is_object),
            legacy_winlogbeat: has("event_id") && (has("source_name") || has("log_name") || has("computer_name")),
            cisco_flow: fv.starts_with(cisco_nvm::VERSION_PREFIX) || (has("pn") && has("da") && has("dp")),
            powershell: has("Id") && has("ProviderName"),
            event_id: has("EventID") || has("EventId"),
        }
        .shape()
    }
}

/// The value at a dotted path of object keys.
fn at<'a, J: JsonValue<'a>>(value: J, path: &[&str]) -> Option<J> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

/// The text at a path, if it is a scalar.
fn text_at<'a, J: JsonValue<'a>>(value: J, path: &[&str]) -> Option<String> {
    at(value, path).and_then(J::scalar)
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

/// An object's scalar fields as name/value pairs, in document order.
fn scalars<'a, J: JsonValue<'a>>(object: J) -> Vec<(String, String)> {
    object
        .fields()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| value.scalar().map(|text| (key.to_string(), text)))
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
