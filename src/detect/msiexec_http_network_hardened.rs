//! Windows HTTP Network Communication From MSIExec, hardened: what the search means.
//!
//! A connection to port 80/443 belongs to an msiexec process when both were logged by
//! the same host and carry the same ProcessGuid; without GUIDs, when the host and
//! process id match and no other process took that pid between the msiexec start and
//! the connection. Every connection is kept; `dest` stays the endpoint and the remote
//! side is `dest_ip`/`dest_host`. An msiexec connection whose process creation was
//! never logged still fires.
//!
//! Memory: the msiexec processes, a start time per (host, pid) seen, and the port
//! 80/443 connections: nine short raw values each (all raw fields only for msiexec's
//! own), from which the joined ones' rows and evidence are rebuilt at the end.

use super::msiexec_http_network::HttpFromMsiexec;
use super::{Evidence, Match, Mode, Why, fill_null, same};
use crate::ingest::RawEvent;
use crate::normalize::time::ctime;
use crate::normalize::{self, Cim, EventTime, Origin, ProcessRow, TrafficRow, basename};
use jiff::Timestamp;
use serde_json::{Map, Value};
use std::collections::HashMap;

struct MsiexecProcess {
    row: ProcessRow,
    start: Option<Timestamp>,
    evidence: Evidence,
}

/// The raw fields a connection keeps: what the join and a finding's row read.
const KEPT: [&str; 9] = [
    "Computer",
    "UtcTime",
    "ProcessGuid",
    "ProcessId",
    "Image",
    "User",
    "DestinationIp",
    "DestinationHostname",
    "DestinationPort",
];

struct Connection {
    origin: Origin,
    event_id: u32,
    time: Option<Timestamp>,
    time_source: Option<&'static str>,
    /// (index in [`KEPT`], raw value), in the event's order.
    fields: Box<[(u8, Box<str>)]>,
    /// Every raw field, kept for msiexec's own connections only.
    all_fields: Option<Evidence>,
}

impl Connection {
    fn new(event: &RawEvent, time: Option<&EventTime>, origin: Origin, keep_all: bool) -> Self {
        let kept = |name: &str| KEPT.iter().position(|kept| *kept == name).map(|i| i as u8);
        let computer = event.computer.as_deref().map(|computer| ("Computer", computer));
        let fields = computer
            .into_iter()
            .chain(event.data.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .filter_map(|(name, value)| Some((kept(name)?, Box::from(value))))
            .collect();
        Self {
            origin,
            event_id: event.event_id.unwrap_or_default(),
            time: time.map(|t| t.at),
            time_source: time.map(|t| t.source),
            fields,
            all_fields: keep_all.then(|| Evidence::of(event, time, origin)),
        }
    }

    /// A kept raw value, when present and not empty (as CIM fields are read).
    fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(i, _)| KEPT[usize::from(*i)] == name)
            .map(|(_, value)| &**value)
            .filter(|value| !value.is_empty())
    }

    /// The kept fields as an event, to map to CIM and to show as evidence.
    fn event(&self) -> RawEvent {
        let named = |(i, value): &(u8, Box<str>)| (KEPT[usize::from(*i)].to_string(), value.to_string());
        RawEvent {
            event_id: Some(self.event_id),
            computer: self.fields.iter().find(|(i, _)| *i == 0).map(|(_, v)| v.to_string()),
            data: self.fields.iter().filter(|(i, _)| *i != 0).map(named).collect(),
            ..RawEvent::default()
        }
    }

    fn row(&self) -> TrafficRow {
        match normalize::to_cim(&self.event()) {
            Cim::Traffic(row) => row,
            _ => TrafficRow::default(),
        }
    }

    fn evidence(&self) -> Evidence {
        self.all_fields.clone().unwrap_or_else(|| {
            let mut evidence = Evidence::of(&self.event(), None, self.origin);
            evidence.time = self.time.map(|at| at.to_string());
            evidence.time_source = self.time_source;
            evidence
        })
    }
}

#[derive(Default)]
pub struct HttpFromMsiexecHardened {
    processes: Vec<MsiexecProcess>,
    /// (host, pid) → when each process with that pid started on that host.
    starts: HashMap<(String, String), Vec<Timestamp>>,
    connections: Vec<Connection>,
}

fn host_pid(host: &Option<String>, pid: &Option<String>) -> Option<(String, String)> {
    Some((host.as_ref()?.to_ascii_lowercase(), pid.clone()?))
}

impl HttpFromMsiexecHardened {
    pub fn observe_process(&mut self, row: &ProcessRow, event: &RawEvent, time: Option<&EventTime>, origin: Origin) {
        if let (Some(key), Some(time)) = (host_pid(&row.dest, &row.process_id), time) {
            self.starts.entry(key).or_default().push(time.at);
        }
        if HttpFromMsiexec::is_msiexec(row) {
            let evidence = Evidence::of(event, time, origin);
            self.processes.push(MsiexecProcess {
                row: row.clone(),
                start: time.map(|t| t.at),
                evidence,
            });
        }
    }

    pub fn observe_traffic(&mut self, row: &TrafficRow, event: &RawEvent, time: Option<&EventTime>, origin: Origin) {
        if !matches!(row.dest_port.as_deref(), Some("80" | "443")) {
            return;
        }
        // Most of these belong to other programs: keep only what a join or a row needs.
        let own = row
            .process_name
            .as_deref()
            .is_some_and(|name| name.eq_ignore_ascii_case("msiexec.exe"));
        self.connections.push(Connection::new(event, time, origin, own));
    }

    /// How `connection` belongs to `process`, if it does.
    fn joined_by(&self, process: &MsiexecProcess, connection: &Connection) -> Option<String> {
        let (p, c) = (&process.row, connection);
        let host = p
            .dest
            .as_ref()
            .filter(|host| c.value("Computer").is_some_and(|dvc| dvc.eq_ignore_ascii_case(host)))?;
        if let (Some(process_guid), Some(connection_guid)) = (&p.process_guid, c.value("ProcessGuid")) {
            return process_guid
                .eq_ignore_ascii_case(connection_guid)
                .then(|| format!("joined on host {host} and ProcessGuid {process_guid}"));
        }
        let pid = p
            .process_id
            .as_ref()
            .filter(|pid| c.value("ProcessId") == Some(pid.as_str()))?;
        let (start, at) = (process.start?, connection.time?);
        let reused = self
            .starts
            .get(&(host.to_ascii_lowercase(), pid.clone()))
            .is_some_and(|starts| starts.iter().any(|other| *other > start && *other <= at));
        (start <= at && !reused).then(|| {
            format!("joined on host {host} and process id {pid} within the process's lifetime (no ProcessGuid)")
        })
    }

    /// Every msiexec process each connection joins, in process order; looked up by
    /// host and GUID or pid, so the work grows with the connections, not their product
    /// with the processes.
    fn joins(&self) -> Vec<Vec<(usize, String)>> {
        let key = |host: &str, id: &str| (host.to_ascii_lowercase(), id.to_ascii_lowercase());
        let mut by_guid: HashMap<(String, String), Vec<usize>> = HashMap::new();
        let mut by_pid: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, process) in self.processes.iter().enumerate() {
            let Some(host) = &process.row.dest else { continue };
            if let Some(guid) = &process.row.process_guid {
                by_guid.entry(key(host, guid)).or_default().push(i);
            }
            if let Some(pid) = &process.row.process_id {
                by_pid.entry(key(host, pid)).or_default().push(i);
            }
        }
        self.connections
            .iter()
            .map(|connection| {
                let Some(host) = connection.value("Computer") else {
                    return Vec::new();
                };
                let mut candidates = Vec::new();
                for (index, field) in [(&by_guid, "ProcessGuid"), (&by_pid, "ProcessId")] {
                    if let Some(found) = connection.value(field).and_then(|id| index.get(&key(host, id))) {
                        candidates.extend_from_slice(found);
                    }
                }
                candidates.sort_unstable();
                candidates.dedup();
                candidates
                    .into_iter()
                    .filter_map(|i| self.joined_by(&self.processes[i], connection).map(|how| (i, how)))
                    .collect()
            })
            .collect()
    }

    pub fn finish(self) -> Vec<Match> {
        let mut matches = Vec::new();
        let joins = self.joins();
        let mut joined_per_process = vec![0usize; self.processes.len()];
        for (i, _) in joins.iter().flatten() {
            joined_per_process[*i] += 1;
        }
        for (connection, joins) in self.connections.iter().zip(joins) {
            let owner = joins.into_iter().next();
            let (process_row, process_evidence, conditions, notes) = match owner {
                Some((i, how)) => {
                    let process = &self.processes[i];
                    let msiexec = if same(&process.row.process_name, "msiexec.exe") {
                        format!("process_name {} = msiexec.exe", fill_null(&process.row.process_name))
                    } else {
                        format!(
                            "original_file_name {} = msiexec.exe",
                            fill_null(&process.row.original_file_name)
                        )
                    };
                    let siblings = joined_per_process[i];
                    let notes = if siblings > 1 {
                        vec![format!(
                            "every one of this process's {siblings} connections to 80/443 is kept; the published join shows one (max=1)"
                        )]
                    } else {
                        Vec::new()
                    };
                    (
                        process.row.clone(),
                        Some(process.evidence.clone()),
                        vec![msiexec, how],
                        notes,
                    )
                }
                None if connection.all_fields.is_some() => {
                    let c = connection.row();
                    let row = ProcessRow {
                        dest: c.dvc.clone(),
                        user: c.user.clone(),
                        process_path: c.app.clone(),
                        process_name: c.app.as_deref().map(|app| basename(app).to_string()),
                        process_id: c.process_id.clone(),
                        ..ProcessRow::default()
                    };
                    let conditions = vec![
                        format!("the connection's Image {} is msiexec.exe", fill_null(&c.app)),
                        "no process creation event for it was read: fired from the network event alone".to_string(),
                    ];
                    let notes =
                        vec!["hardened only: the published search needs msiexec's process creation event".to_string()];
                    (row, None, conditions, notes)
                }
                None => continue,
            };
            let c = connection.row();
            let mut conditions = conditions;
            conditions.push(format!("dest_port {} is 80 or 443", fill_null(&c.dest_port)));
            let remote_host = c.dest.clone().filter(|dest| Some(dest) != c.dest_ip.as_ref());
            let mut row = Map::new();
            row.insert("_time".into(), connection.time.map_or(Value::Null, |t| ctime(t).into()));
            row.insert(
                "user".into(),
                fill_null(&process_row.user.clone().or_else(|| c.user.clone())).into(),
            );
            row.insert("dest".into(), fill_null(&process_row.dest).into());
            row.insert(
                "parent_process_name".into(),
                fill_null(&process_row.parent_process_name).into(),
            );
            row.insert("process_name".into(), fill_null(&process_row.process_name).into());
            row.insert("process_path".into(), fill_null(&process_row.process_path).into());
            row.insert("process".into(), fill_null(&process_row.process).into());
            row.insert("process_id".into(), fill_null(&process_row.process_id).into());
            row.insert("dest_port".into(), fill_null(&c.dest_port).into());
            row.insert("dest_ip".into(), fill_null(&c.dest_ip).into());
            row.insert("dest_host".into(), fill_null(&remote_host).into());
            let evidence = process_evidence.into_iter().chain([connection.evidence()]).collect();
            matches.push(Match {
                detection: HttpFromMsiexec::meta(),
                mode: Mode::Hardened,
                row,
                evidence,
                why: Why { conditions, notes },
            });
        }
        matches.sort_by(|a, b| {
            let key = |m: &Match| {
                (
                    m.row["_time"].as_str().map(str::to_string),
                    m.evidence.last().map(|e| e.origin),
                )
            };
            key(a).cmp(&key(b))
        });
        matches
    }
}
