//! evtx_dump's JSON: `Event.System` with attributes under `#attributes`, and
//! `Event.EventData` flattened by name; `EventID` is a number or `{"#text": n}`.

use super::{event_id_of, scalar, scalars};
use crate::ingest::RawEvent;
use serde_json::{Map, Value};

/// evtx_dump: attributes under `#attributes`, `EventID` a number or `{"#text": …}`.
pub fn event(record: &Map<String, Value>) -> RawEvent {
    let system = record
        .get("Event")
        .and_then(|event| event.get("System"))
        .unwrap_or(&Value::Null);
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
        ..RawEvent::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::ingest::json::parse_record;

    #[test]
    fn evtx_dump_document() {
        let text = br##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},
            "EventID":{"#text":3},"TimeCreated":{"#attributes":{"SystemTime":"2026-08-11T08:30:09.2485781Z"}},
            "Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"H","Security":{"#attributes":{"UserID":"S-1-5-18"}}},
            "EventData":{"ProcessId":11056,"Image":"C:\\x.exe","Initiated":true,"Empty":null}}}"##;
        let parsed = parse_record(text).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(parsed.format, "evtx-dump-json");
        assert_eq!(event.event_id, Some(3));
        assert_eq!(event.computer.as_deref(), Some("H"));
        assert_eq!(event.system_time.as_deref(), Some("2026-08-11T08:30:09.2485781Z"));
        assert_eq!(event.get("ProcessId"), Some("11056"));
        assert_eq!(event.get("Initiated"), Some("true"));
        assert_eq!(event.get("Empty"), None);
        assert!(event.is_sysmon());
    }
}
