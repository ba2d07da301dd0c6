//! What one file's process creation and network events let the detections see: where `_time` came from, how often
//! timestamps disagreed, and which fields the detections need but the data lacks.

use crate::normalize::{Cim, EventTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// Counted per file while its events are read.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    pub time_sources: BTreeMap<&'static str, u64>,
    pub time_skew_events: u64,
    processes: u64,
    traffic: u64,
    /// CIM field → how many events had it.
    present: BTreeMap<&'static str, u64>,
}

/// A field the detections read, and what its absence costs.
struct Need {
    field: &'static str,
    raw: &'static str,
    consequence: &'static str,
}

const PROCESS_NEEDS: [Need; 6] = [
    Need {
        field: "parent_process_name",
        raw: "ParentImage",
        consequence: "the discovery-command detection cannot fire",
    },
    Need {
        field: "process_name",
        raw: "Image",
        consequence: "neither detection can match a process",
    },
    Need {
        field: "original_file_name",
        raw: "OriginalFileName",
        consequence: "the HTTP detection's original_file_name=msiexec.exe condition cannot fire; rows show null",
    },
    Need {
        field: "process_id",
        raw: "ProcessId",
        consequence: "the HTTP detection's join on process_id cannot match",
    },
    Need {
        field: "user",
        raw: "User",
        consequence: "user is null in rows and in the user risk object",
    },
    Need {
        field: "process",
        raw: "CommandLine",
        consequence: "process (the command line) is null in rows",
    },
];

const TRAFFIC_NEEDS: [Need; 3] = [
    Need {
        field: "dest_port",
        raw: "DestinationPort",
        consequence: "the HTTP detection cannot select ports 80/443",
    },
    Need {
        field: "traffic_process_id",
        raw: "ProcessId",
        consequence: "the HTTP detection's join on process_id cannot match",
    },
    Need {
        field: "dest_ip",
        raw: "DestinationIp",
        consequence: "dest_ip is null in rows",
    },
];

impl Coverage {
    pub fn observe(&mut self, cim: &Cim, time: Option<&EventTime>) {
        if let Some(time) = time {
            *self.time_sources.entry(time.source).or_default() += 1;
            self.time_skew_events += u64::from(time.skewed);
        }
        let mut saw = |field: &'static str, value: &Option<String>| {
            if value.is_some() {
                *self.present.entry(field).or_default() += 1;
            }
        };
        match cim {
            Cim::Process(row) => {
                saw("parent_process_name", &row.parent_process_name);
                saw("process_name", &row.process_name);
                saw("original_file_name", &row.original_file_name);
                saw("process_id", &row.process_id);
                saw("user", &row.user);
                saw("process", &row.process);
                self.processes += 1;
            }
            Cim::Traffic(row) => {
                saw("dest_port", &row.dest_port);
                saw("traffic_process_id", &row.process_id);
                saw("dest_ip", &row.dest_ip);
                self.traffic += 1;
            }
            Cim::Other => {}
        }
    }

    /// Plain statements of what the detections cannot see in this file.
    pub fn missing_fields(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        let mut check = |events: u64, kind: &str, needs: &[Need]| {
            for need in needs {
                let have = self.present.get(need.field).copied().unwrap_or(0);
                if have == 0 {
                    gaps.push(format!("no {} in any {kind} event: {}", need.raw, need.consequence));
                } else if have < events {
                    gaps.push(format!(
                        "{} missing in {} of {events} {kind} events: {}",
                        need.raw,
                        events - have,
                        need.consequence
                    ));
                }
            }
        };
        if self.processes > 0 {
            check(self.processes, "process creation (EID 1)", &PROCESS_NEEDS);
        }
        if self.traffic > 0 {
            check(self.traffic, "network connection", &TRAFFIC_NEEDS);
        }
        gaps
    }
}

/// The per-file part of the report this module fills.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CoverageReport {
    /// How many process and network events took `_time` from each field.
    pub time_sources: BTreeMap<&'static str, u64>,
    /// Events whose `UtcTime` and another timestamp (SystemTime or a shipper's) differ by over a second.
    pub time_skew_events: u64,
    /// Fields the detections need that this file's events lack, and what that costs.
    pub missing_fields: Vec<String>,
    /// Whether the file held process creation (EID 1) and network (EID 3 or flow) events.
    pub has_process_events: bool,
    pub has_network_events: bool,
}

impl From<Coverage> for CoverageReport {
    fn from(coverage: Coverage) -> Self {
        Self {
            missing_fields: coverage.missing_fields(),
            has_process_events: coverage.processes > 0,
            has_network_events: coverage.traffic > 0,
            time_sources: coverage.time_sources,
            time_skew_events: coverage.time_skew_events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::ProcessRow;

    #[test]
    fn names_missing_original_file_name_and_partial_users() {
        let mut coverage = Coverage::default();
        let row = ProcessRow {
            parent_process_name: Some("a".into()),
            process_name: Some("b".into()),
            process_id: Some("1".into()),
            process: Some("b".into()),
            ..ProcessRow::default()
        };
        coverage.observe(
            &Cim::Process(ProcessRow {
                user: Some("u".into()),
                ..row.clone()
            }),
            None,
        );
        coverage.observe(&Cim::Process(row), None);
        assert_eq!(
            coverage.missing_fields(),
            [
                "no OriginalFileName in any process creation (EID 1) event: the HTTP detection's original_file_name=msiexec.exe condition cannot fire; rows show null",
                "User missing in 1 of 2 process creation (EID 1) events: user is null in rows and in the user risk object",
            ]
        );
    }
}
