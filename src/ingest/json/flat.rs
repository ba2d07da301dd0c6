//! Flat records: every field at the top level beside the event's id.
//!
//! NXLog `im_msvistalog` and older OTRF datasets (`EventID`, `SourceName`, `Channel`,
//! `Hostname`); newer OTRF records whose `EventData` is an XML string; PowerShell's
//! `Get-WinEvent | ConvertTo-Json` (`Id`, `ProviderName`, `MachineName`, `Message`);
//! and EventData-only exports such as eqllib's (`EventId`, Sysmon's fields, no
//! provider, time only in `UtcTime`). Where a flat record lost a Sysmon field to a
//! shipper's own field of the same name in another case (NXLog's `ProcessID`
//! swallowing Sysmon's `ProcessId`), the value is recovered from the rendered
//! `Message`.

use super::{JsonValue, Parsed, message_fields, scalars};
use crate::ingest::raw_event::Producer;
use crate::ingest::{RawEvent, xml};

/// A record with `EventID` or `EventId` ([`super::Shape::Flat`]).
pub fn event<'a, J: JsonValue<'a>>(record: J) -> Parsed {
    let text = |key: &str| record.get(key).and_then(J::scalar);
    let first = |keys: &[&'static str]| keys.iter().find_map(|key| text(key));
    let id = record.get("EventID").or_else(|| record.get("EventId"));
    let shipper_time = ["@timestamp", "EventTime", "TimeCreated", "TimeGenerated"]
        .into_iter()
        .find_map(|key| text(key).map(|value| (key, value)));
    let mut event = RawEvent {
        event_id: id.and_then(J::event_id),
        provider: first(&["SourceName", "ProviderName", "Source", "Provider_Name"]),
        channel: first(&["Channel", "EventLog", "LogName"]),
        computer: first(&["Hostname", "Computer", "MachineName", "ComputerName"]),
        security_user_id: text("UserID"),
        shipper_time,
        data: scalars(record),
        ..RawEvent::default()
    };
    let embedded_xml = text("EventData").filter(|data| data.trim_start().starts_with('<'));
    if let Some(xml) = &embedded_xml
        && let Ok(embedded) = xml::parse::parse_event(xml)
    {
        for (name, value) in embedded.data {
            event.fill(&name, Some(value));
        }
        event.repaired = embedded.repaired;
    }
    // NXLog's own `ProcessID` takes the place of Sysmon's `ProcessId` (its field names
    // ignore case); parsing every Message would cost more than the rest of the record.
    let lost_to_nxlog = record.get("ProcessID").is_some() && event.get("ProcessId").is_none();
    if event.is_sysmon() && (lost_to_nxlog || event.get("UtcTime").is_none()) {
        recover_from_message(&mut event, record);
    }
    let has_source = event.provider.is_some() || event.channel.is_some();
    if !has_source && event.get("UtcTime").is_some() {
        event.producer = Producer::Sysmon;
    }
    let format = if !has_source {
        "eventdata-json"
    } else if record.get("EventTime").is_some() || record.get("SourceModuleName").is_some() {
        "nxlog"
    } else {
        "otrf"
    };
    Parsed::one(event, format)
}

/// `Get-WinEvent | ConvertTo-Json`: EventData survives only in the rendered `Message`.
pub fn powershell<'a, J: JsonValue<'a>>(record: J) -> Parsed {
    let text = |key: &str| record.get(key).and_then(J::scalar);
    let time = text("TimeCreated").map(|time| dotnet_date(&time).unwrap_or(time));
    let user_id = record
        .get("UserId")
        .and_then(|user| user.get("Value").and_then(J::scalar).or_else(|| user.scalar()));
    let mut event = RawEvent {
        event_id: record.get("Id").and_then(J::event_id),
        provider: text("ProviderName"),
        channel: text("LogName"),
        computer: text("MachineName"),
        security_user_id: user_id,
        shipper_time: time.map(|time| ("TimeCreated", time)),
        ..RawEvent::default()
    };
    recover_from_message(&mut event, record);
    Parsed::one(event, "powershell")
}

/// Fills Sysmon fields missing from the record with those rendered in its `Message`.
fn recover_from_message<'a, J: JsonValue<'a>>(event: &mut RawEvent, record: J) {
    if let Some(message) = record.get("Message").and_then(J::as_text) {
        for (name, value) in message_fields(&message) {
            event.fill(&name, Some(value));
        }
    }
}

/// ConvertTo-Json in Windows PowerShell writes dates as `/Date(milliseconds)/`.
fn dotnet_date(text: &str) -> Option<String> {
    let millis: i64 = text
        .strip_prefix("/Date(")?
        .strip_suffix(")/")?
        .split(['+', '-'])
        .next()?
        .parse()
        .ok()?;
    jiff::Timestamp::from_millisecond(millis).ok().map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use crate::ingest::json::parse_record;

    #[test]
    fn flat_otrf_record() {
        let text = br#"{"@timestamp":"2020-10-23T02:36:43.542Z","EventID":"1","SourceName":"Microsoft-Windows-Sysmon","Hostname":"W5","Image":"C:\\a.exe"}"#;
        let parsed = parse_record(text).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(parsed.format, "otrf");
        assert_eq!(event.event_id, Some(1));
        assert_eq!(event.computer.as_deref(), Some("W5"));
        assert_eq!(
            event.shipper_time,
            Some(("@timestamp", "2020-10-23T02:36:43.542Z".into()))
        );
        assert_eq!(event.get("Image"), Some("C:\\a.exe"));
    }

    #[test]
    fn nxlog_process_id_is_recovered_from_the_message() {
        let text = br#"{"EventTime":"2020-08-01 05:46:46","Hostname":"dc","EventID":1,"SourceName":"Microsoft-Windows-Sysmon","ProcessID":2740,
            "Message":"Process Create:\r\nRuleName: \r\nProcessId: 2968\r\nImage: C:\\x.exe","Image":"C:\\x.exe"}"#;
        let parsed = parse_record(text).expect("parses");
        assert_eq!(parsed.format, "nxlog");
        assert_eq!(parsed.events[0].get("ProcessId"), Some("2968"));
        assert_eq!(parsed.events[0].get("ProcessID"), Some("2740"));
    }

    #[test]
    fn event_data_only_records_are_sysmon() {
        let parsed = parse_record(br#"{"EventId": 1, "UtcTime": "2018-12-04 00:37:01.887", "Image": "C:\\a.exe"}"#)
            .expect("parses");
        assert_eq!(parsed.format, "eventdata-json");
        assert!(parsed.events[0].is_sysmon());
        let other = parse_record(br#"{"EventId": 4688, "NewProcessName": "C:\\a.exe"}"#).expect("parses");
        assert!(!other.events[0].is_sysmon());
    }

    #[test]
    fn event_data_as_an_xml_string() {
        let text = br#"{"TimeGenerated":"2021-01-01T00:00:00Z","Computer":"W1","EventID":1,"Source":"Microsoft-Windows-Sysmon",
            "EventData":"<EventData><Data Name='Image'>C:\\cmd.exe</Data><Data Name='ProcessId'>7</Data></EventData>"}"#;
        let event = &parse_record(text).expect("parses").events[0];
        assert_eq!(
            (event.get("Image"), event.get("ProcessId")),
            (Some("C:\\cmd.exe"), Some("7"))
        );
        assert!(event.is_sysmon());
    }

    #[test]
    fn powershell_get_winevent_export() {
        let text = br#"{"Id":1,"ProviderName":"Microsoft-Windows-Sysmon","LogName":"Microsoft-Windows-Sysmon/Operational",
            "MachineName":"W2","TimeCreated":"/Date(1543883821887)/","Message":"Process Create:\r\nProcessId: 42\r\nImage: C:\\cmd.exe"}"#;
        let parsed = parse_record(text).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(parsed.format, "powershell");
        assert_eq!(event.get("ProcessId"), Some("42"));
        assert_eq!(
            event.shipper_time,
            Some(("TimeCreated", "2018-12-04T00:37:01.887Z".into()))
        );
    }
}
