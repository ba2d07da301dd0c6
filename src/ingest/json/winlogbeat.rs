//! Winlogbeat: 6.x (`event_data`, `event_id`, `computer_name`, `source_name`) and 7/8
//! (`winlog.*`), and ECS documents after the Winlogbeat sysmon module or Elastic
//! Agent, where the pipeline moved Sysmon's fields to `process.*`, `destination.*`,
//! `user.*`. The endpoint is `computer_name`, never the shipper's `host.name` or
//! `beat.hostname`; the top-level `user` of 6.x is the Security principal, not
//! Sysmon's `User`.

use super::{JsonValue, Parsed, at, scalars, text_at};
use crate::ingest::RawEvent;

/// Winlogbeat 6.x.
pub fn legacy<'a, J: JsonValue<'a>>(record: J) -> RawEvent {
    let text = |key: &str| record.get(key).and_then(J::scalar);
    RawEvent {
        event_id: record.get("event_id").and_then(J::event_id),
        provider: text("source_name"),
        channel: text("log_name"),
        computer: text("computer_name"),
        security_user_id: record
            .get("user")
            .and_then(|user| user.get("identifier"))
            .and_then(J::scalar),
        shipper_time: text("@timestamp").map(|time| ("@timestamp", time)),
        data: event_data(record.get("event_data")),
        ..RawEvent::default()
    }
}

/// Winlogbeat 7/8, raw or after the ECS pipeline.
pub fn modern<'a, J: JsonValue<'a>>(document: J) -> Parsed {
    let winlog = |path: &[&str]| {
        let mut full = vec!["winlog"];
        full.extend_from_slice(path);
        text_at(document, &full)
    };
    let mut event = RawEvent {
        event_id: at(document, &["winlog", "event_id"]).and_then(J::event_id),
        provider: winlog(&["provider_name"]),
        channel: winlog(&["channel"]),
        computer: winlog(&["computer_name"]).or_else(|| text_at(document, &["host", "name"])),
        security_user_id: winlog(&["user", "identifier"]),
        shipper_time: text_at(document, &["@timestamp"]).map(|time| ("@timestamp", time)),
        data: event_data(at(document, &["winlog", "event_data"])),
        ..RawEvent::default()
    };
    let format = if fill_from_ecs(&mut event, document) {
        "ecs"
    } else {
        "winlogbeat"
    };
    Parsed::one(event, format)
}

fn event_data<'a, J: JsonValue<'a>>(value: Option<J>) -> Vec<(String, String)> {
    value.map(scalars).unwrap_or_default()
}

/// Puts ECS fields back under Sysmon's names where the event lacks them; true if any were.
fn fill_from_ecs<'a, J: JsonValue<'a>>(event: &mut RawEvent, document: J) -> bool {
    let before = event.data.len();
    let ecs = |path: &[&str]| text_at(document, path);
    let user = match (ecs(&["user", "domain"]), ecs(&["user", "name"])) {
        (Some(domain), Some(name)) => Some(format!("{domain}\\{name}")),
        (None, name) => name,
        (Some(_), None) => None,
    };
    let mappings: [(&str, Option<String>); 19] = [
        ("Image", ecs(&["process", "executable"])),
        ("CommandLine", ecs(&["process", "command_line"])),
        ("ProcessId", ecs(&["process", "pid"])),
        ("ProcessGuid", ecs(&["process", "entity_id"])),
        ("CurrentDirectory", ecs(&["process", "working_directory"])),
        ("OriginalFileName", ecs(&["process", "pe", "original_file_name"])),
        ("ParentImage", ecs(&["process", "parent", "executable"])),
        ("ParentCommandLine", ecs(&["process", "parent", "command_line"])),
        ("ParentProcessId", ecs(&["process", "parent", "pid"])),
        ("ParentProcessGuid", ecs(&["process", "parent", "entity_id"])),
        ("User", user),
        ("Hashes", hashes(document)),
        ("DestinationIp", ecs(&["destination", "ip"])),
        ("DestinationPort", ecs(&["destination", "port"])),
        ("DestinationHostname", ecs(&["destination", "domain"])),
        ("SourceIp", ecs(&["source", "ip"])),
        ("SourcePort", ecs(&["source", "port"])),
        ("SourceHostname", ecs(&["source", "domain"])),
        ("Protocol", ecs(&["network", "transport"])),
    ];
    for (name, value) in mappings {
        event.fill(name, value);
    }
    let initiated = ecs(&["network", "direction"]).map(|direction| match direction.as_str() {
        "egress" | "outbound" => "true".to_string(),
        _ => "false".to_string(),
    });
    event.fill("Initiated", initiated);
    event.data.len() > before
}

/// ECS `process.hash.*` back in Sysmon's `Hashes` form (`SHA256=…,MD5=…`).
fn hashes<'a, J: JsonValue<'a>>(document: J) -> Option<String> {
    let hashes = at(document, &["process", "hash"])?.fields()?;
    let parts: Vec<String> = hashes
        .filter_map(|(kind, value)| {
            value
                .scalar()
                .map(|value| format!("{}={}", kind.to_ascii_uppercase(), value.to_ascii_uppercase()))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

#[cfg(test)]
mod tests {
    use crate::ingest::json::parse_record;

    #[test]
    fn winlogbeat_6_uses_event_data_user_and_computer_name() {
        let text = br#"{"@timestamp":"2019-05-18T20:36:46.254Z","user":{"name":"SYSTEM","domain":"NT AUTHORITY","identifier":"S-1-5-18"},
            "beat":{"hostname":"WECserver"},"host":{"name":"WECserver"},"computer_name":"HFDC01.shire.com","source_name":"Microsoft-Windows-Sysmon",
            "log_name":"Microsoft-Windows-Sysmon/Operational","event_id":3,"event_data":{"ProcessId":"292","User":"NT AUTHORITY\\NETWORK SERVICE"}}"#;
        let parsed = parse_record(text).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(parsed.format, "winlogbeat");
        assert_eq!(event.computer.as_deref(), Some("HFDC01.shire.com"));
        assert_eq!(event.get("User"), Some("NT AUTHORITY\\NETWORK SERVICE"));
        assert_eq!(event.security_user_id.as_deref(), Some("S-1-5-18"));
        assert!(event.is_sysmon());
    }

    #[test]
    fn winlogbeat_7_raw_event_id_as_string() {
        let text = br#"{"winlog":{"event_id":"1","provider_name":"Microsoft-Windows-Sysmon","computer_name":"vagrant",
            "event_data":{"Image":"C:\\cmd.exe","ProcessId":"3616"}},"host":{"name":"collector"}}"#;
        let parsed = parse_record(text).expect("parses");
        assert_eq!(parsed.format, "winlogbeat");
        assert_eq!(parsed.events[0].event_id, Some(1));
        assert_eq!(parsed.events[0].computer.as_deref(), Some("vagrant"));
    }

    #[test]
    fn ecs_fields_are_mapped_back() {
        let text = br#"{"winlog":{"event_id":3,"provider_name":"Microsoft-Windows-Sysmon","computer_name":"W1","event_data":{"RuleName":"-"}},
            "process":{"executable":"C:\\msiexec.exe","pid":1600},"user":{"domain":"CORP","name":"ann"},
            "destination":{"ip":"40.77.226.250","port":443,"domain":"x.example"},"source":{"ip":"10.0.0.1","port":1138},
            "network":{"transport":"tcp","direction":"egress"}}"#;
        let parsed = parse_record(text).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(parsed.format, "ecs");
        assert_eq!(event.get("Image"), Some("C:\\msiexec.exe"));
        assert_eq!(event.get("ProcessId"), Some("1600"));
        assert_eq!(event.get("DestinationPort"), Some("443"));
        assert_eq!(event.get("DestinationHostname"), Some("x.example"));
        assert_eq!(event.get("User"), Some("CORP\\ann"));
        assert_eq!(event.get("Initiated"), Some("true"));
    }
}
