//! Writes one generated event in each of the main shapes Sysmon logs arrive in.

use super::activity::{Event, system_time};
use serde_json::{Map, Value, json};
use std::io::Write;

const NAMESPACE: &str = "http://schemas.microsoft.com/win/2004/08/events/event";
const PROVIDER: &str = "Microsoft-Windows-Sysmon";
const PROVIDER_GUID: &str = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}";
const CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One `<Event>` element per line, as `wevtutil qe /f:xml` or a forwarder writes.
    XmlLines,
    /// evtx_dump's JSON Lines (`-o jsonl`): `Event.System` with `#attributes`.
    EvtxDumpJsonl,
    /// Flat records, every field at the top level (OTRF/Mordor, NXLog).
    FlatJson,
    /// Winlogbeat 8 after the Sysmon module's ECS pipeline.
    Ecs,
}

impl Shape {
    pub const ALL: [Shape; 4] = [Shape::XmlLines, Shape::EvtxDumpJsonl, Shape::FlatJson, Shape::Ecs];

    pub fn name(self) -> &'static str {
        match self {
            Shape::XmlLines => "xml",
            Shape::EvtxDumpJsonl => "evtx-jsonl",
            Shape::FlatJson => "flat-json",
            Shape::Ecs => "ecs",
        }
    }

    pub fn from_name(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|shape| shape.name() == name)
    }

    /// Appends the event, without a line end.
    pub fn write(self, event: &Event, out: &mut Vec<u8>) {
        match self {
            Shape::XmlLines => xml(event, out),
            Shape::EvtxDumpJsonl => json_line(&evtx_dump(event), out),
            Shape::FlatJson => json_line(&flat(event), out),
            Shape::Ecs => json_line(&ecs(event), out),
        }
    }
}

fn json_line(value: &Value, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}

fn xml(event: &Event, out: &mut Vec<u8>) {
    let _ = write!(
        out,
        "<Event xmlns='{NAMESPACE}'><System><Provider Name='{PROVIDER}' Guid='{PROVIDER_GUID}'/>\
         <EventID>{id}</EventID><Version>5</Version><Level>4</Level><Task>{id}</Task><Opcode>0</Opcode>\
         <Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='{time}'/><EventRecordID>{record}</EventRecordID>\
         <Correlation/><Execution ProcessID='3140' ThreadID='4012'/><Channel>{CHANNEL}</Channel>\
         <Computer>{host}</Computer><Security UserID='S-1-5-18'/></System><EventData>",
        id = event.id,
        time = system_time(event.micros),
        record = event.record,
        host = event.host,
    );
    for (name, value) in &event.data {
        let _ = write!(out, "<Data Name='{name}'>");
        let escaped = quick_xml::escape::partial_escape(value.as_str());
        out.extend_from_slice(escaped.as_bytes());
        out.extend_from_slice(b"</Data>");
    }
    out.extend_from_slice(b"</EventData></Event>");
}

/// EventData values as evtx_dump types them: numbers and booleans where Sysmon logs those.
fn typed(name: &str, value: &str) -> Value {
    let numeric = name.ends_with("ProcessId") || name.ends_with("Port") || name == "SourceThreadId";
    match value.parse::<u64>() {
        Ok(number) if numeric => json!(number),
        _ if matches!(value, "true" | "false") && name != "Signed" => json!(value == "true"),
        _ => json!(value),
    }
}

fn evtx_dump(event: &Event) -> Value {
    let data: Map<String, Value> = event
        .data
        .iter()
        .map(|(name, value)| (name.to_string(), typed(name, value)))
        .collect();
    json!({"Event": {
        "#attributes": {"xmlns": NAMESPACE},
        "System": {
            "Provider": {"#attributes": {"Name": PROVIDER, "Guid": PROVIDER_GUID}},
            "EventID": event.id,
            "Version": 5,
            "Level": 4,
            "Task": event.id,
            "Opcode": 0,
            "Keywords": "0x8000000000000000",
            "TimeCreated": {"#attributes": {"SystemTime": system_time(event.micros)}},
            "EventRecordID": event.record,
            "Correlation": null,
            "Execution": {"#attributes": {"ProcessID": 3140, "ThreadID": 4012}},
            "Channel": CHANNEL,
            "Computer": event.host,
            "Security": {"#attributes": {"UserID": "S-1-5-18"}}
        },
        "EventData": data
    }})
}

fn flat(event: &Event) -> Value {
    let mut record = Map::new();
    let time = system_time(event.micros);
    for (key, value) in [
        ("@timestamp", json!(time)),
        ("Hostname", json!(event.host)),
        ("EventID", json!(event.id)),
        ("SourceName", json!(PROVIDER)),
        ("Channel", json!(CHANNEL)),
        ("EventRecordID", json!(event.record)),
        ("Task", json!(event.id)),
        ("Version", json!(5)),
        ("Level", json!(4)),
        ("ExecutionProcessID", json!(3140)),
        ("ThreadID", json!(4012)),
        ("UserID", json!("S-1-5-18")),
    ] {
        record.insert(key.into(), value);
    }
    for (name, value) in &event.data {
        record.insert(name.to_string(), json!(value));
    }
    Value::Object(record)
}

/// Sysmon fields the ECS pipeline moves out of `winlog.event_data`, and where to.
const ECS_FIELDS: [(&str, &[&str]); 15] = [
    ("Image", &["process", "executable"]),
    ("CommandLine", &["process", "command_line"]),
    ("ProcessId", &["process", "pid"]),
    ("ProcessGuid", &["process", "entity_id"]),
    ("CurrentDirectory", &["process", "working_directory"]),
    ("OriginalFileName", &["process", "pe", "original_file_name"]),
    ("ParentImage", &["process", "parent", "executable"]),
    ("ParentCommandLine", &["process", "parent", "command_line"]),
    ("ParentProcessId", &["process", "parent", "pid"]),
    ("ParentProcessGuid", &["process", "parent", "entity_id"]),
    ("DestinationIp", &["destination", "ip"]),
    ("DestinationPort", &["destination", "port"]),
    ("SourceIp", &["source", "ip"]),
    ("SourcePort", &["source", "port"]),
    ("Protocol", &["network", "transport"]),
];

fn insert_at(document: &mut Value, path: &[&str], value: Value) {
    let mut at = document;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
}

fn ecs(event: &Event) -> Value {
    let time = system_time(event.micros);
    let mut document = json!({
        "@timestamp": time,
        "agent": {"type": "winlogbeat", "version": "8.11.0"},
        "ecs": {"version": "8.0.0"},
        "event": {"code": event.id.to_string(), "kind": "event", "module": "sysmon", "provider": PROVIDER},
        "host": {"name": event.host.to_ascii_lowercase()},
        "winlog": {
            "api": "wineventlog",
            "channel": CHANNEL,
            "computer_name": event.host,
            "event_id": event.id.to_string(),
            "provider_guid": PROVIDER_GUID,
            "provider_name": PROVIDER,
            "record_id": event.record.to_string(),
            "process": {"pid": 3140, "thread": {"id": 4012}},
            "user": {"identifier": "S-1-5-18"},
            "event_data": {}
        }
    });
    for (name, value) in &event.data {
        match ECS_FIELDS.iter().find(|(field, _)| field == name) {
            Some((_, path)) => {
                let value = value.parse::<u64>().map_or_else(|_| json!(value), |n| json!(n));
                insert_at(&mut document, path, value);
            }
            None if *name == "User" => {
                let (domain, user) = value.split_once('\\').unwrap_or(("", value));
                insert_at(&mut document, &["user", "domain"], json!(domain));
                insert_at(&mut document, &["user", "name"], json!(user));
            }
            None => insert_at(&mut document, &["winlog", "event_data", name], json!(value)),
        }
    }
    document
}
