//! Windows HTTP Network Communication From MSIExec, hardened: what the search means.
//!
//! A connection to port 80/443 belongs to an msiexec process when both were logged by
//! the same host and carry the same ProcessGuid; without GUIDs, when the host and
//! process id match and no other process took that pid between the msiexec start and
//! the connection. Every connection is kept; `dest` stays the endpoint and the remote
//! side is `dest_ip`/`dest_host`. An msiexec connection whose process creation was
//! never logged still fires.
//!
//! Memory: the msiexec processes, and the port 80/443 connections, compactly
//! ([`super::http_connections`]); whether a pid was taken by another process in
//! between is asked of the arena's rows at the end.

use super::http_connections::{HttpConnection, HttpConnections};
use super::kept::KeptEvent;
use super::msiexec_http_network::HttpFromMsiexec;
use super::{Match, Mode, Seen, Why, fill_null, same};
use crate::normalize::arena::{Arena, ConnectionEntry};
use crate::normalize::chunked::Chunked;
use crate::normalize::intern::{Strings, Sym};
use crate::normalize::lookup::{Key, Lookup};
use crate::normalize::time::ctime;
use crate::normalize::{self, Cim, ProcessRow, TrafficRow, basename};
use foldhash::fast::FixedState;
use jiff::Timestamp;
use serde_json::{Map, Value};
use std::collections::HashMap;

struct MsiexecProcess {
    row: ProcessRow,
    start: Option<Timestamp>,
    evidence: KeptEvent,
}

#[derive(Default)]
pub struct HttpFromMsiexecHardened {
    processes: Vec<MsiexecProcess>,
    connections: HttpConnections,
}

/// The msiexec processes by host and GUID, and by host and pid, each folded.
#[derive(Default)]
struct Candidates {
    by_guid: HashMap<Key, Vec<usize>, FixedState>,
    by_pid: HashMap<Key, Vec<usize>, FixedState>,
    /// Each one's folded host and exact pid, to ask the arena which processes
    /// started with that pid.
    starts: Vec<Option<Key>>,
}

/// What the joins read: the analysis's rows and strings, and the candidates.
struct Join<'a> {
    arena: &'a Arena,
    lookup: &'a Lookup,
    processes: &'a [MsiexecProcess],
    candidates: Candidates,
    folds: HashMap<Sym, Sym, FixedState>,
}

impl HttpFromMsiexecHardened {
    pub fn observe_process(&mut self, row: &ProcessRow, seen: &Seen, strings: &mut Strings) {
        if HttpFromMsiexec::is_msiexec(row) {
            self.processes.push(MsiexecProcess {
                row: row.clone(),
                start: seen.time.map(|t| t.at),
                evidence: seen.keep(strings),
            });
        }
    }

    /// Reads a connection whose arena row is number `row`.
    pub fn observe_traffic(&mut self, traffic: &TrafficRow, seen: &Seen, row: u32, arena: &mut Arena) {
        if !matches!(traffic.dest_port.as_deref(), Some("80" | "443")) {
            return;
        }
        // Most of these belong to other programs: keep only what a join or a row needs.
        let own = traffic
            .process_name
            .as_deref()
            .is_some_and(|name| name.eq_ignore_ascii_case("msiexec.exe"));
        let entry = arena.connections[row as usize];
        self.connections.push(seen, (row, &entry), own, &mut arena.strings);
    }

    /// The msiexec processes' keys, folded with every text a key holds interned.
    fn candidates(&self, strings: &mut Strings) -> Candidates {
        let mut candidates = Candidates::default();
        let fold = |strings: &mut Strings, text: &str| {
            let sym = strings.intern(text);
            strings.fold(sym)
        };
        for (i, process) in self.processes.iter().enumerate() {
            let Some(host) = &process.row.dest else {
                candidates.starts.push(None);
                continue;
            };
            let host = Some(fold(strings, host));
            if let Some(guid) = &process.row.process_guid {
                candidates
                    .by_guid
                    .entry((host, fold(strings, guid)))
                    .or_default()
                    .push(i);
            }
            let pid = process.row.process_id.as_deref();
            if let Some(pid) = pid {
                candidates.by_pid.entry((host, fold(strings, pid))).or_default().push(i);
            }
            candidates.starts.push(pid.map(|pid| (host, strings.intern(pid))));
        }
        candidates
    }

    /// Folds of the texts with upper case the connections' keys hold (hosts, mostly).
    fn connection_folds(
        &self,
        strings: &mut Strings,
        rows: &Chunked<ConnectionEntry>,
    ) -> HashMap<Sym, Sym, FixedState> {
        let mut folds = HashMap::default();
        for connection in self.connections.iter(rows) {
            let syms = KEY_FIELDS.map(|name| connection.sym(strings, name));
            for sym in syms.into_iter().flatten() {
                if folds.contains_key(&sym) || strings.fold_packed(sym).is_some() {
                    continue;
                }
                if strings.text(sym).bytes().any(|b| b.is_ascii_uppercase()) {
                    folds.insert(sym, strings.fold(sym));
                }
            }
        }
        folds
    }

    pub fn finish(self, arena: &mut Arena, lookup: &Lookup) -> Vec<Match> {
        let candidates = self.candidates(&mut arena.strings);
        let folds = self.connection_folds(&mut arena.strings, &arena.connections);
        let join = Join {
            arena,
            lookup,
            processes: &self.processes,
            candidates,
            folds,
        };
        let strings = &arena.strings;
        let mut joined_per_process = vec![0usize; self.processes.len()];
        for connection in self.connections.iter(&arena.connections) {
            for (i, _) in join.joins(&connection) {
                joined_per_process[i] += 1;
            }
        }
        let mut matches = Vec::new();
        for connection in self.connections.iter(&arena.connections) {
            let owner = join.joins(&connection).into_iter().next();
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
                        Some(process.evidence.evidence(strings)),
                        vec![msiexec, how],
                        notes,
                    )
                }
                None if connection.all_fields.is_some() => {
                    let c = traffic_row(&connection, strings);
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
            let entry = connection.entry;
            let c = traffic_row(&connection, strings);
            let mut conditions = conditions;
            conditions.push(format!("dest_port {} is 80 or 443", fill_null(&c.dest_port)));
            let remote_host = c.dest.clone().filter(|dest| Some(dest) != c.dest_ip.as_ref());
            let mut row = Map::new();
            row.insert(
                "_time".into(),
                arena.time(entry.time).map_or(Value::Null, |t| ctime(t).into()),
            );
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
            let evidence = process_evidence
                .into_iter()
                .chain([connection.evidence(strings, arena.time(entry.time), arena.origin(entry.origin))])
                .collect();
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

/// The row fields taken from the connection where the process has them too: a row is
/// timed by its connection.
pub const JOINED_FIELDS: [&str; 1] = ["_time"];

/// The fields a connection is looked up by.
const KEY_FIELDS: [&str; 3] = ["Computer", "ProcessGuid", "ProcessId"];

fn traffic_row(connection: &HttpConnection, strings: &Strings) -> TrafficRow {
    match normalize::to_cim(&connection.event(strings)) {
        Cim::Traffic(row) => row,
        _ => TrafficRow::default(),
    }
}

impl Join<'_> {
    /// A key's text folded: every text with upper case a connection's key holds was
    /// folded beforehand, and a GUID kept as bytes folds without a lookup.
    fn fold(&self, sym: Sym) -> Sym {
        let strings = &self.arena.strings;
        strings
            .fold_packed(sym)
            .or_else(|| self.folds.get(&sym).copied())
            .unwrap_or(sym)
    }

    /// Every msiexec process `connection` joins, in process order; looked up by host
    /// and GUID or pid, so the work grows with the connections, not their product
    /// with the processes.
    fn joins(&self, connection: &HttpConnection) -> Vec<(usize, String)> {
        let strings = &self.arena.strings;
        let Some(host) = connection.sym(strings, "Computer") else {
            return Vec::new();
        };
        let host = Some(self.fold(host));
        let mut found = Vec::new();
        for (index, field) in [
            (&self.candidates.by_guid, "ProcessGuid"),
            (&self.candidates.by_pid, "ProcessId"),
        ] {
            let id = connection.sym(strings, field);
            if let Some(processes) = id.and_then(|id| index.get(&(host, self.fold(id)))) {
                found.extend_from_slice(processes);
            }
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .filter_map(|i| self.joined_by(i, connection).map(|how| (i, how)))
            .collect()
    }

    /// How `connection` belongs to msiexec process `i`, if it does.
    fn joined_by(&self, i: usize, connection: &HttpConnection) -> Option<String> {
        let strings = &self.arena.strings;
        let (process, c) = (&self.processes[i], connection);
        let p = &process.row;
        let dvc = c.value(strings, "Computer");
        let host = p
            .dest
            .as_ref()
            .filter(|host| dvc.is_some_and(|dvc| dvc.eq_ignore_ascii_case(host)))?;
        if let (Some(process_guid), Some(connection_guid)) = (&p.process_guid, c.value(strings, "ProcessGuid")) {
            return process_guid
                .eq_ignore_ascii_case(&connection_guid)
                .then(|| format!("joined on host {host} and ProcessGuid {process_guid}"));
        }
        let pid = p
            .process_id
            .as_ref()
            .filter(|pid| c.value(strings, "ProcessId").as_deref() == Some(pid.as_str()))?;
        let (start, at) = (process.start?, self.arena.time(c.entry.time)?);
        let key = self.candidates.starts[i];
        let processes = &self.arena.processes;
        let reused = key.is_some_and(|key| {
            self.lookup
                .processes_with_pid(self.arena, key)
                .filter_map(|other| self.arena.time(processes[other].time))
                .any(|other| other > start && other <= at)
        });
        (start <= at && !reused).then(|| {
            format!("joined on host {host} and process id {pid} within the process's lifetime (no ProcessGuid)")
        })
    }
}
