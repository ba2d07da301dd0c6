//! What one file's process creation and network events let the detections see: where `_time` came from, how often
//! timestamps disagreed, and which fields the detections need but the data lacks, named by
//! their raw Sysmon field from the CIM table.

use crate::normalize::cim::{CimField, DataModel, all_traffic, processes};
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
    present: BTreeMap<(DataModel, &'static str), u64>,
}

/// A field the detections read, and what its absence costs.
struct Need {
    field: CimField,
    consequence: &'static str,
}

const PROCESS_NEEDS: [Need; 6] = [
    Need {
        field: processes::PARENT_PROCESS_NAME,
        consequence: "the discovery-command detection cannot fire",
    },
    Need {
        field: processes::PROCESS_NAME,
        consequence: "neither detection can match a process",
    },
    Need {
        field: processes::ORIGINAL_FILE_NAME,
        consequence: "the HTTP detection's original_file_name=msiexec.exe condition cannot fire; rows show null",
    },
    Need {
        field: processes::PROCESS_ID,
        consequence: "the HTTP detection's join on process_id cannot match",
    },
    Need {
        field: processes::USER,
        consequence: "user is null in rows and in the user risk object",
    },
    Need {
        field: processes::PROCESS,
        consequence: "process (the command line) is null in rows",
    },
];

const TRAFFIC_NEEDS: [Need; 3] = [
    Need {
        field: all_traffic::DEST_PORT,
        consequence: "the HTTP detection cannot select ports 80/443",
    },
    Need {
        field: all_traffic::PROCESS_ID,
        consequence: "the HTTP detection's join on process_id cannot match",
    },
    Need {
        field: all_traffic::DEST_IP,
        consequence: "dest_ip is null in rows",
    },
];

impl Coverage {
    pub fn observe(&mut self, cim: &Cim, time: Option<&EventTime>) {
        if let Some(time) = time {
            *self.time_sources.entry(time.source).or_default() += 1;
            self.time_skew_events += u64::from(time.skewed);
        }
        let (needs, count): (&[Need], _) = match cim {
            Cim::Process(_) => (&PROCESS_NEEDS, &mut self.processes),
            Cim::Traffic(_) => (&TRAFFIC_NEEDS, &mut self.traffic),
            Cim::Other => return,
        };
        *count += 1;
        for need in needs {
            if need.field.value(cim).is_some_and(Option::is_some) {
                *self.present.entry((need.field.model, need.field.name)).or_default() += 1;
            }
        }
    }

    /// Plain statements of what the detections cannot see in this file.
    pub fn missing_fields(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        let mut check = |events: u64, kind: &str, needs: &[Need]| {
            for need in needs {
                let have = self
                    .present
                    .get(&(need.field.model, need.field.name))
                    .copied()
                    .unwrap_or(0);
                let raw = need.field.raw.unwrap_or(need.field.name);
                if have == 0 {
                    gaps.push(format!("no {raw} in any {kind} event: {}", need.consequence));
                } else if have < events {
                    gaps.push(format!(
                        "{raw} missing in {} of {events} {kind} events: {}",
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
    use crate::ingest::RawEvent;
    use crate::normalize::{ProcessRow, to_cim};

    #[test]
    fn a_missing_raw_field_is_named_as_the_table_names_it() {
        for (event_id, needs) in [(1, &PROCESS_NEEDS[..]), (3, &TRAFFIC_NEEDS[..])] {
            for need in needs {
                let Some(raw) = need.field.raw else {
                    panic!("{} has no raw field", need.field.name)
                };
                let others = needs.iter().filter_map(|n| n.field.raw).filter(|r| *r != raw);
                let event = RawEvent {
                    event_id: Some(event_id),
                    data: others.map(|r| (r.to_string(), "1".to_string())).collect(),
                    ..RawEvent::default()
                };
                let mut coverage = Coverage::default();
                coverage.observe(&to_cim(&event), None);
                let gaps = coverage.missing_fields();
                assert_eq!(gaps.len(), 1, "{raw}: {gaps:?}");
                assert!(gaps[0].starts_with(&format!("no {raw} in any ")), "{}", gaps[0]);
            }
        }
    }

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
