//! Cisco Network Visibility Module flow records (`cisco:nvm:flowdata`), the second data
//! source the HTTP-from-msiexec detection names for Network_Traffic.
//!
//! Keys follow Cisco's nvzFlow export (`fv` = "nvzFlow_v…"): `sa`/`sp` source address
//! and port, `da`/`dp` destination address and port, `dh` destination hostname, `pr`
//! IP protocol number, `pn`/`pid` process name and id, `ppn`/`ppid` its parent, `pa`
//! the process account, `liuid` the logged-in user, `vsn` the endpoint's name, `fss`
//! the flow start (epoch seconds). They are mapped to Sysmon's EID 3 names so that
//! normalization turns them into the same All_Traffic row.

use super::{JsonValue, text_at};
use crate::ingest::RawEvent;
use crate::ingest::raw_event::Producer;

/// How the `fv` key of a flow record begins; a record is also a flow when it has
/// `pn`, `da` and `dp` ([`super::Shape`]).
pub const VERSION_PREFIX: &str = "nvzFlow";

pub(super) fn flow<'a, J: JsonValue<'a>>(document: J) -> RawEvent {
    let text = |key: &str| text_at(document, &[key]);
    let start = document
        .get("fss")
        .and_then(J::scalar)
        .and_then(|secs| secs.parse::<i64>().ok())
        .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
        .map(|time| ("fss", time.to_string()));
    let protocol = text("pr").map(|number| match number.as_str() {
        "6" => "tcp".to_string(),
        "17" => "udp".to_string(),
        _ => number,
    });
    let mut event = RawEvent {
        event_id: Some(3),
        provider: Some("Cisco Network Visibility Module".into()),
        computer: text("vsn"),
        shipper_time: start,
        producer: Producer::CiscoNvm,
        ..RawEvent::default()
    };
    let mappings = [
        ("Image", text("pn")),
        ("ProcessId", text("pid")),
        ("ParentImage", text("ppn")),
        ("ParentProcessId", text("ppid")),
        ("User", text("pa").or_else(|| text("liuid"))),
        ("Protocol", protocol),
        ("SourceIp", text("sa")),
        ("SourcePort", text("sp")),
        ("DestinationIp", text("da")),
        ("DestinationPort", text("dp")),
        ("DestinationHostname", text("dh")),
    ];
    for (name, value) in mappings {
        event.fill(name, value);
    }
    event
}

#[cfg(test)]
mod tests {
    use crate::ingest::json::parse_record;

    #[test]
    fn nvzflow_record_maps_to_a_network_connection() {
        let text = br#"{"fv":"nvzFlow_v4","vsn":"WS-07","udid":"1DD7","sa":"10.1.2.3","sp":50123,"da":"93.184.216.34","dp":443,
            "pr":6,"dh":"evil.example","pn":"msiexec.exe","pid":4242,"ppn":"cmd.exe","ppid":900,"pa":"CORP\\alice","fss":1714557600}"#;
        let parsed = parse_record(text).expect("parses");
        let event = &parsed.events[0];
        assert_eq!(parsed.format, "cisco-nvm");
        assert_eq!(event.event_id, Some(3));
        assert!(!event.is_sysmon());
        assert_eq!(event.computer.as_deref(), Some("WS-07"));
        assert_eq!(event.get("Image"), Some("msiexec.exe"));
        assert_eq!(event.get("ProcessId"), Some("4242"));
        assert_eq!(event.get("DestinationPort"), Some("443"));
        assert_eq!(event.get("Protocol"), Some("tcp"));
        assert_eq!(event.shipper_time, Some(("fss", "2024-05-01T10:00:00Z".into())));
    }
}
