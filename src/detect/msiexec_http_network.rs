//! Windows HTTP Network Communication From MSIExec (b0fd38c7), as published.
//!
//! Processes where `process_name=msiexec.exe OR original_file_name=msiexec.exe`,
//! grouped by `_time` and nineteen fields, `join process_id` with All_Traffic rows to
//! ports 80/443 grouped by their own nineteen fields. Splunk's join defaults apply:
//! `max=1` keeps the first traffic row per process id, in the subsearch's sorted order,
//! and `overwrite=true` lets its `dest` and `user` replace the process's. The join is
//! on the PID alone, across hosts and time — that is what the search does.
//!
//! Since `max=1` only ever uses the first traffic row per process id, only that row
//! is kept per PID, its values interned: memory grows with the number of PIDs seen
//! talking to 80/443, not with the number of connections. `by _time` without a span
//! is taken as one-second buckets.

use super::kept::KeptEvent;
use super::meta::{DetectionMeta, HTTP_FROM_MSIEXEC};
use super::{Evidence, Match, Mode, Seen, Why, fill_null, keep_evidence, null_filled, same, splunk_order};
use crate::normalize::intern::{Strings, Sym};
use crate::normalize::time::ctime;
use crate::normalize::{ProcessRow, TrafficRow};
use foldhash::fast::FixedState;
use serde_json::{Map, Value};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

/// The process search's `by` fields after `_time`, in the SPL's order.
const PROCESS_BY: [&str; 20] = [
    "action",
    "dest",
    "original_file_name",
    "parent_process",
    "parent_process_exec",
    "parent_process_guid",
    "parent_process_id",
    "parent_process_name",
    "parent_process_path",
    "process",
    "process_exec",
    "process_guid",
    "process_hash",
    "process_id",
    "process_integrity_level",
    "process_name",
    "process_path",
    "user",
    "user_id",
    "vendor_product",
];

/// The traffic subsearch's `by` fields, in the SPL's order.
const TRAFFIC_BY: [&str; 19] = [
    "action",
    "app",
    "bytes",
    "bytes_in",
    "bytes_out",
    "dest",
    "dest_ip",
    "dest_port",
    "dvc",
    "protocol",
    "protocol_version",
    "src",
    "src_ip",
    "src_port",
    "transport",
    "user",
    "vendor_product",
    "direction",
    "process_id",
];

/// The row fields the join takes from the traffic subsearch (`overwrite=true`): all of
/// its `by` fields but the join key, `process_id`, which is last.
pub fn joined_fields() -> &'static [&'static str] {
    &TRAFFIC_BY[..TRAFFIC_BY.len() - 1]
}

const PORTS: [&str; 2] = ["80", "443"];

type ProcessKey = (String, [String; 20]);
type TrafficKey = [String; 19];

/// The smallest traffic row of a process id (in tstats' sorted order), with its events.
struct FirstTraffic {
    key: [Sym; 19],
    evidence: Vec<KeptEvent>,
    /// How many distinct traffic rows the process id had.
    rows: u64,
}

/// msiexec process rows, and per process id the port 80/443 row the join would use.
#[derive(Default)]
pub struct HttpFromMsiexec {
    processes: BTreeMap<ProcessKey, Vec<KeptEvent>>,
    /// By process_id, filled with "null" when missing.
    first_traffic: HashMap<Sym, FirstTraffic, FixedState>,
}

impl HttpFromMsiexec {
    pub fn meta() -> &'static DetectionMeta {
        &HTTP_FROM_MSIEXEC
    }

    /// The `process_msiexec` macro.
    pub fn is_msiexec(row: &ProcessRow) -> bool {
        same(&row.process_name, "msiexec.exe") || same(&row.original_file_name, "msiexec.exe")
    }

    pub fn observe_process(&mut self, row: &ProcessRow, seen: &Seen, strings: &mut Strings) {
        if !Self::is_msiexec(row) {
            return;
        }
        let second = seen.time.map_or_else(|| "null".to_string(), |t| ctime(t.at));
        let fields = [
            &row.action,
            &row.dest,
            &row.original_file_name,
            &row.parent_process,
            &row.parent_process_exec,
            &row.parent_process_guid,
            &row.parent_process_id,
            &row.parent_process_name,
            &row.parent_process_path,
            &row.process,
            &row.process_exec,
            &row.process_guid,
            &row.process_hash,
            &row.process_id,
            &row.process_integrity_level,
            &row.process_name,
            &row.process_path,
            &row.user,
            &row.user_id,
            &row.vendor_product,
        ]
        .map(fill_null);
        keep_evidence(self.processes.entry((second, fields)).or_default(), seen, strings);
    }

    pub fn observe_traffic(&mut self, row: &TrafficRow, seen: &Seen, strings: &mut Strings) {
        if !PORTS.iter().any(|port| row.dest_port.as_deref() == Some(port)) {
            return;
        }
        let none = None;
        let key = [
            &none, // action: not set by the Sysmon add-on for EID 3
            &row.app,
            &none, // bytes, bytes_in, bytes_out: Sysmon does not count bytes
            &none,
            &none,
            &row.dest,
            &row.dest_ip,
            &row.dest_port,
            &row.dvc,
            &none, // protocol, protocol_version: not in Sysmon EID 3
            &none,
            &row.src,
            &row.src_ip,
            &row.src_port,
            &row.transport,
            &row.user,
            &row.vendor_product,
            &row.direction,
            &row.process_id,
        ]
        .map(null_filled);
        let pid = strings.intern(key[TRAFFIC_BY.len() - 1]);
        let new = |strings: &mut Strings| FirstTraffic {
            key: key.map(|value| strings.intern(value)),
            evidence: vec![seen.keep(strings)],
            rows: 1,
        };
        match self.first_traffic.entry(pid) {
            Entry::Vacant(slot) => {
                slot.insert(new(strings));
            }
            Entry::Occupied(mut slot) => {
                let first = slot.get_mut();
                let kept = first.key.map(|value| strings.text(value));
                match splunk_order(&key, &kept) {
                    std::cmp::Ordering::Less => {
                        let rows = first.rows + 1;
                        *first = FirstTraffic { rows, ..new(strings) };
                    }
                    std::cmp::Ordering::Equal if key.iter().zip(&kept).all(|(a, b)| a == b) => {
                        keep_evidence(&mut first.evidence, seen, strings)
                    }
                    _ => first.rows += 1,
                }
            }
        }
    }

    pub fn finish(self, strings: &Strings) -> Vec<Match> {
        let pid_at = TRAFFIC_BY.len() - 1;
        let field = |key: &TrafficKey, name: &str| {
            let at = TRAFFIC_BY.iter().position(|by| *by == name).unwrap_or(pid_at);
            Value::String(key[at].clone())
        };
        let process_field = |fields: &[String; 20], name: &str| {
            let at = PROCESS_BY.iter().position(|by| *by == name).unwrap_or(0);
            Value::String(fields[at].clone())
        };
        let mut processes: Vec<_> = self.processes.iter().collect();
        processes.sort_by(|((t1, a), _), ((t2, b), _)| t1.cmp(t2).then_with(|| splunk_order(a, b)));
        let mut matches = Vec::new();
        for ((second, fields), process_evidence) in processes {
            let pid = process_field(fields, "process_id");
            let first = pid.as_str().and_then(|pid| strings.get(pid));
            let Some(first) = first.and_then(|pid| self.first_traffic.get(&pid)) else {
                continue;
            };
            let traffic: &TrafficKey = &first.key.map(|value| strings.text(value).into_owned());
            let traffic_evidence: Vec<Evidence> = first.evidence.iter().map(|kept| kept.evidence(strings)).collect();
            let mut row = Map::new();
            row.insert("_time".into(), second.clone().into());
            row.insert("user".into(), field(traffic, "user"));
            row.insert("dest".into(), field(traffic, "dest"));
            for name in [
                "parent_process_name",
                "process_name",
                "process_path",
                "process",
                "process_id",
            ] {
                row.insert(name.into(), process_field(fields, name));
            }
            row.insert("dest_port".into(), field(traffic, "dest_port"));
            row.insert("dest_ip".into(), field(traffic, "dest_ip"));
            let why = why(fields, traffic, &traffic_evidence, first.rows);
            let evidence = process_evidence
                .iter()
                .map(|kept| kept.evidence(strings))
                .chain(traffic_evidence)
                .collect();
            matches.push(Match {
                detection: Self::meta(),
                mode: Mode::AsPublished,
                row,
                evidence,
                why,
            });
        }
        matches
    }
}

/// The published row's conditions, and where the published join parts from what it means.
fn why(process: &[String; 20], traffic: &TrafficKey, traffic_evidence: &[Evidence], rows: u64) -> Why {
    let process_field = |name: &str| {
        PROCESS_BY
            .iter()
            .position(|by| *by == name)
            .map_or("null", |at| process[at].as_str())
    };
    let traffic_field = |name: &str| {
        TRAFFIC_BY
            .iter()
            .position(|by| *by == name)
            .map_or("null", |at| traffic[at].as_str())
    };
    let (pid, name, host) = (
        process_field("process_id"),
        process_field("process_name"),
        process_field("dest"),
    );
    let msiexec = if name.eq_ignore_ascii_case("msiexec.exe") {
        format!("process_name {name} = msiexec.exe")
    } else {
        format!(
            "original_file_name {} = msiexec.exe",
            process_field("original_file_name")
        )
    };
    let conditions = vec![
        msiexec,
        format!(
            "a connection to port {} has process_id {pid} (join process_id)",
            traffic_field("dest_port")
        ),
    ];
    let mut notes = Vec::new();
    let app = traffic_field("app")
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or("null")
        .to_string();
    let connection_guid = traffic_evidence
        .first()
        .and_then(|e| e.fields.iter().find(|(k, _)| k == "ProcessGuid"))
        .map(|(_, v)| v.as_str());
    let process_guid = process_field("process_guid");
    if !traffic_field("dvc").eq_ignore_ascii_case(host) {
        notes.push(format!(
            "published: joined on pid {pid} only — this connection came from {app} on {}, not from {name} on {host}",
            traffic_field("dvc")
        ));
    } else if connection_guid.is_some_and(|guid| process_guid != "null" && !guid.eq_ignore_ascii_case(process_guid))
        || !app.eq_ignore_ascii_case(name)
    {
        notes.push(format!(
            "published: joined on pid {pid} only — this connection came from another process with that pid ({app}), not from this {name}"
        ));
    }
    notes.push(format!(
        "published: dest {} and user {} come from the connection (join overwrite=true); the endpoint is {host}",
        traffic_field("dest"),
        traffic_field("user")
    ));
    if rows > 1 {
        notes.push(format!(
            "published: one connection kept (join max=1); {} other connections to 80/443 with pid {pid} are not shown",
            rows - 1
        ));
    }
    Why { conditions, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_msiexec_macro() {
        let by_name = ProcessRow {
            process_name: Some("MsiExec.exe".into()),
            ..ProcessRow::default()
        };
        let by_ofn = ProcessRow {
            process_name: Some("renamed.exe".into()),
            original_file_name: Some("msiexec.exe".into()),
            ..ProcessRow::default()
        };
        assert!(HttpFromMsiexec::is_msiexec(&by_name));
        assert!(HttpFromMsiexec::is_msiexec(&by_ofn));
        assert!(!HttpFromMsiexec::is_msiexec(&ProcessRow::default()));
    }
}
