//! evtx_dump's JSON: `Event.System` with attributes under `#attributes`, and
//! `Event.EventData` flattened by name; `EventID` is a number or `{"#text": n}`.

use super::JsonValue;
use crate::ingest::RawEvent;

/// evtx_dump: attributes under `#attributes`, `EventID` a number or `{"#text": …}`.
pub fn event<'a, J: JsonValue<'a>>(record: J) -> RawEvent {
    let event = record.get("Event");
    let system = event.and_then(|event| event.get("System"));
    let attribute = |element: &str, name: &str| {
        system
            .and_then(|system| system.get(element))
            .and_then(|e| e.get("#attributes"))
            .and_then(|a| a.get(name))
            .and_then(J::scalar)
    };
    let system_text = |key: &str| system.and_then(|system| system.get(key)).and_then(J::scalar);
    let event_id = system
        .and_then(|system| system.get("EventID"))
        .map(|id| id.get("#text").unwrap_or(id));
    let data = match event.and_then(|event| event.get("EventData")) {
        Some(fields) => super::scalars(fields),
        None => Vec::new(),
    };
    RawEvent {
        event_id: event_id.and_then(J::event_id),
        provider: attribute("Provider", "Name"),
        channel: system_text("Channel"),
        computer: system_text("Computer"),
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
