//! Windows MSIExec Spawn Discovery Command (e9d05aa2), as published.
//!
//! `tstats count min(_time) max(_time) from Endpoint.Processes where
//! parent_process_name=msiexec.exe process_name IN (…) by` eight fields: one row per
//! distinct combination, missing values filled with "null" so the row is kept.

use super::kept::KeptEvent;
use super::meta::{DetectionMeta, SPAWN_DISCOVERY};
use super::{Match, Mode, Seen, Why, fill_null, keep_evidence, same, splunk_order};
use crate::normalize::ProcessRow;
use crate::normalize::intern::Strings;
use crate::normalize::time::ctime;
use jiff::Timestamp;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The published search's child process list.
pub const DISCOVERY_CHILDREN: [&str; 5] = [
    "powershell.exe",
    "cmd.exe",
    "nltest.exe",
    "ipconfig.exe",
    "systeminfo.exe",
];

/// The eight `by` fields, in the SPL's order.
const GROUP_BY: [&str; 8] = [
    "dest",
    "user",
    "parent_process_name",
    "process_name",
    "original_file_name",
    "process",
    "process_id",
    "parent_process_id",
];

struct Group {
    count: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    evidence: Vec<KeptEvent>,
    why: Why,
}

/// Rows grouped as tstats groups them; shared by both readings, which differ only in
/// which processes they let in.
#[derive(Default)]
pub struct Rows {
    groups: BTreeMap<[String; 8], Group>,
}

impl Rows {
    /// Counts a matching process; `why` is asked for only when its row is new.
    pub fn add(&mut self, row: &ProcessRow, seen: &Seen, strings: &mut Strings, why: impl FnOnce() -> Why) {
        let key = [
            &row.dest,
            &row.user,
            &row.parent_process_name,
            &row.process_name,
            &row.original_file_name,
            &row.process,
            &row.process_id,
            &row.parent_process_id,
        ]
        .map(fill_null);
        let group = self.groups.entry(key).or_insert_with(|| Group {
            count: 0,
            first: None,
            last: None,
            evidence: Vec::new(),
            why: why(),
        });
        group.count += 1;
        if let Some(time) = seen.time {
            group.first = Some(group.first.map_or(time.at, |first| first.min(time.at)));
            group.last = Some(group.last.map_or(time.at, |last| last.max(time.at)));
        }
        keep_evidence(&mut group.evidence, seen, strings);
    }

    pub fn finish(self, mode: Mode, strings: &Strings) -> Vec<Match> {
        let mut groups: Vec<_> = self.groups.into_iter().collect();
        groups.sort_by(|(a, _), (b, _)| splunk_order(a, b));
        groups
            .into_iter()
            .map(|(key, group)| {
                let mut row: Map<String, Value> = GROUP_BY
                    .iter()
                    .zip(key)
                    .map(|(name, value)| (name.to_string(), Value::String(value)))
                    .collect();
                row.insert("count".into(), group.count.into());
                row.insert("firstTime".into(), group.first.map_or(Value::Null, |t| ctime(t).into()));
                row.insert("lastTime".into(), group.last.map_or(Value::Null, |t| ctime(t).into()));
                Match {
                    detection: &SPAWN_DISCOVERY,
                    mode,
                    row,
                    evidence: group.evidence.iter().map(|kept| kept.evidence(strings)).collect(),
                    why: group.why,
                }
            })
            .collect()
    }
}

/// The published reading.
#[derive(Default)]
pub struct SpawnDiscovery {
    rows: Rows,
}

impl SpawnDiscovery {
    pub fn meta() -> &'static DetectionMeta {
        &SPAWN_DISCOVERY
    }

    /// The published `where` clause.
    pub fn matches(row: &ProcessRow) -> bool {
        same(&row.parent_process_name, "msiexec.exe")
            && DISCOVERY_CHILDREN.iter().any(|child| same(&row.process_name, child))
    }

    pub fn observe(&mut self, row: &ProcessRow, seen: &Seen, strings: &mut Strings) {
        if Self::matches(row) {
            self.rows.add(row, seen, strings, || Why {
                conditions: vec![
                    format!(
                        "parent_process_name {} = msiexec.exe",
                        fill_null(&row.parent_process_name)
                    ),
                    format!(
                        "process_name {} is one of {}",
                        fill_null(&row.process_name),
                        DISCOVERY_CHILDREN.join(", ")
                    ),
                ],
                notes: Vec::new(),
            });
        }
    }

    pub fn finish(self, strings: &Strings) -> Vec<Match> {
        self.rows.finish(Mode::AsPublished, strings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(parent: &str, child: &str) -> ProcessRow {
        ProcessRow {
            parent_process_name: Some(parent.into()),
            process_name: Some(child.into()),
            ..ProcessRow::default()
        }
    }

    #[test]
    fn published_where_clause() {
        for child in DISCOVERY_CHILDREN {
            assert!(SpawnDiscovery::matches(&row("msiexec.exe", child)), "{child}");
        }
        assert!(SpawnDiscovery::matches(&row("MsiExec.exe", "PowerShell.EXE")));
        assert!(!SpawnDiscovery::matches(&row("msiexec.exe", "whoami.exe")));
        assert!(!SpawnDiscovery::matches(&row("explorer.exe", "cmd.exe")));
        assert!(!SpawnDiscovery::matches(&ProcessRow::default()));
    }
}
