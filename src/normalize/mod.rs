//! Normalize: Sysmon events to the Splunk CIM fields the detections read.
//!
//! EID 1 becomes an `Endpoint.Processes` row and EID 3 a `Network_Traffic.All_Traffic`
//! row, mapped as the Splunk Add-on for Sysmon maps them. A field Sysmon left empty
//! stays `None`; the detections decide how Splunk would show it.

pub mod arena;
pub mod chunked;
pub mod cim;
pub mod intern;
pub mod lookup;
pub mod shapes;
pub mod time;

use crate::ingest::RawEvent;
use serde::Serialize;
pub use time::EventTime;

/// Where an event came from: the file's index in the analysis and the line it starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    pub file: usize,
    pub line: u64,
}

/// `Endpoint.Processes`, from Sysmon EID 1.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProcessRow {
    pub dest: Option<String>,
    pub user: Option<String>,
    pub user_id: Option<String>,
    pub process_path: Option<String>,
    pub process_name: Option<String>,
    pub process_exec: Option<String>,
    pub process: Option<String>,
    pub process_id: Option<String>,
    pub process_guid: Option<String>,
    pub process_hash: Option<String>,
    pub process_integrity_level: Option<String>,
    pub original_file_name: Option<String>,
    pub parent_process_path: Option<String>,
    pub parent_process_name: Option<String>,
    pub parent_process_exec: Option<String>,
    pub parent_process: Option<String>,
    pub parent_process_id: Option<String>,
    pub parent_process_guid: Option<String>,
    pub action: Option<String>,
    pub vendor_product: Option<String>,
}

/// `Network_Traffic.All_Traffic`, from Sysmon EID 3.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TrafficRow {
    /// The remote host: `DestinationHostname`, else `DestinationIp`.
    pub dest: Option<String>,
    pub dest_ip: Option<String>,
    pub dest_port: Option<String>,
    /// The endpoint that logged the connection (`Computer`).
    pub dvc: Option<String>,
    pub src: Option<String>,
    pub src_ip: Option<String>,
    pub src_port: Option<String>,
    pub transport: Option<String>,
    pub direction: Option<String>,
    pub process_id: Option<String>,
    pub process_guid: Option<String>,
    pub process_name: Option<String>,
    pub app: Option<String>,
    pub user: Option<String>,
    pub vendor_product: Option<String>,
}

/// What one Sysmon event means to the detections.
#[derive(Clone, Debug, PartialEq)]
pub enum Cim {
    Process(ProcessRow),
    Traffic(TrafficRow),
    /// An EventID neither detection reads.
    Other,
}

/// Maps a Sysmon event to its CIM row, each field as [`cim`]'s table derives it.
pub fn to_cim(event: &RawEvent) -> Cim {
    match event.event_id {
        Some(1) => {
            use cim::processes as p;
            Cim::Process(ProcessRow {
                dest: p::DEST.read(event),
                user: p::USER.read(event),
                user_id: p::USER_ID.read(event),
                process_path: p::PROCESS_PATH.read(event),
                process_name: p::PROCESS_NAME.read(event),
                process_exec: p::PROCESS_EXEC.read(event),
                process: p::PROCESS.read(event),
                process_id: p::PROCESS_ID.read(event),
                process_guid: p::PROCESS_GUID.read(event),
                process_hash: p::PROCESS_HASH.read(event),
                process_integrity_level: p::PROCESS_INTEGRITY_LEVEL.read(event),
                original_file_name: p::ORIGINAL_FILE_NAME.read(event),
                parent_process_path: p::PARENT_PROCESS_PATH.read(event),
                parent_process_name: p::PARENT_PROCESS_NAME.read(event),
                parent_process_exec: p::PARENT_PROCESS_EXEC.read(event),
                parent_process: p::PARENT_PROCESS.read(event),
                parent_process_id: p::PARENT_PROCESS_ID.read(event),
                parent_process_guid: p::PARENT_PROCESS_GUID.read(event),
                action: p::ACTION.read(event),
                vendor_product: p::VENDOR_PRODUCT.read(event),
            })
        }
        Some(3) => {
            use cim::all_traffic as t;
            Cim::Traffic(TrafficRow {
                dest: t::DEST.read(event),
                dest_ip: t::DEST_IP.read(event),
                dest_port: t::DEST_PORT.read(event),
                dvc: t::DVC.read(event),
                src: t::SRC.read(event),
                src_ip: t::SRC_IP.read(event),
                src_port: t::SRC_PORT.read(event),
                transport: t::TRANSPORT.read(event),
                direction: t::DIRECTION.read(event),
                process_id: t::PROCESS_ID.read(event),
                process_guid: t::PROCESS_GUID.read(event),
                process_name: t::PROCESS_NAME.read(event),
                app: t::APP.read(event),
                user: t::USER.read(event),
                vendor_product: t::VENDOR_PRODUCT.read(event),
            })
        }
        _ => Cim::Other,
    }
}

/// The last path component, splitting on `\` and `/`.
pub fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sysmon(event_id: u32, data: &[(&str, &str)]) -> RawEvent {
        RawEvent {
            event_id: Some(event_id),
            computer: Some("WS1".into()),
            data: data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..RawEvent::default()
        }
    }

    #[test]
    fn process_create_maps_to_processes() {
        let event = sysmon(
            1,
            &[
                ("Image", "C:\\Windows\\SysWOW64\\cmd.exe"),
                ("ParentImage", "C:/Windows/System32/msiexec.exe"),
                ("OriginalFileName", "-"),
                ("ProcessId", "42"),
                ("User", ""),
            ],
        );
        let Cim::Process(row) = to_cim(&event) else {
            panic!("EID 1 is a process")
        };
        assert_eq!(row.dest.as_deref(), Some("WS1"));
        assert_eq!(row.process_name.as_deref(), Some("cmd.exe"));
        assert_eq!(row.parent_process_name.as_deref(), Some("msiexec.exe"));
        assert_eq!(row.original_file_name, None);
        assert_eq!(row.user, None);
        assert_eq!(row.process_id.as_deref(), Some("42"));
    }

    #[test]
    fn network_connect_maps_remote_side_to_dest() {
        let event = sysmon(
            3,
            &[
                ("DestinationHostname", "-"),
                ("DestinationIp", "10.0.0.9"),
                ("DestinationPort", "443"),
                ("Initiated", "true"),
            ],
        );
        let Cim::Traffic(row) = to_cim(&event) else {
            panic!("EID 3 is traffic")
        };
        assert_eq!(row.dest.as_deref(), Some("10.0.0.9"));
        assert_eq!(row.dvc.as_deref(), Some("WS1"));
        assert_eq!(row.direction.as_deref(), Some("outbound"));
    }

    #[test]
    fn basenames() {
        assert_eq!(basename("C:\\a\\b.exe"), "b.exe");
        assert_eq!(basename("/usr/bin/x"), "x");
        assert_eq!(basename("plain.exe"), "plain.exe");
        assert_eq!(basename("-"), "-");
    }
}
