//! Lookups over the arena's rows, built once when the input has ended: processes by
//! host and pid or by where their event is, connections by host and GUID or pid
//! (built apart, once the detections' state is freed, as only trees ask for them).
//!
//! Each is an array of row numbers sorted by key (4 bytes a row) and searched by
//! halving, where a map of strings cost a hundred bytes a row; they answer the few
//! questions process trees and the hardened join ask. Hosts and GUIDs compare
//! ignoring ASCII case, as Splunk compares them; pids exactly.

use super::Origin;
use super::arena::{Arena, ProcessEntry};
use super::chunked::Chunked;
use super::intern::{Strings, Sym};
use foldhash::fast::FixedState;
use std::collections::HashMap;
use std::ops::Range;

/// A host and an id (GUID or pid), folded as lookups compare them.
pub type Key = (Option<Sym>, Sym);

/// Processes by host and pid and by origin, and the folds lookups key rows by.
pub struct Lookup {
    /// [`Strings::fold`] of each host and text GUID the rows hold.
    folds: HashMap<Sym, Sym, FixedState>,
    processes_by_pid: Vec<u32>,
    /// Empty when the rows are already in the order of their events.
    processes_by_origin: Vec<u32>,
}

/// Connections by host and GUID, and by host and pid.
pub struct ConnectionLookup {
    by_guid: Vec<u32>,
    by_pid: Vec<u32>,
}

impl Lookup {
    /// Folds the rows' hosts and GUIDs (interning their lower case), then sorts.
    pub fn new(arena: &mut Arena) -> Self {
        let Arena {
            strings,
            processes,
            connections,
            ..
        } = arena;
        let mut folds = HashMap::default();
        let hosts = processes
            .iter()
            .map(|p| p.host)
            .chain(connections.iter().map(|c| c.host));
        let guids = processes
            .iter()
            .flat_map(|p| [p.guid, p.parent_guid])
            .chain(connections.iter().map(|c| c.guid));
        for sym in hosts.chain(guids).flatten() {
            if strings.fold_packed(sym).is_none() && !folds.contains_key(&sym) {
                folds.insert(sym, strings.fold(sym));
            }
        }
        let mut lookup = Self {
            folds,
            processes_by_pid: Vec::new(),
            processes_by_origin: Vec::new(),
        };
        let arena = &*arena;
        let fold = |sym| lookup.fold(&arena.strings, sym);
        let processes_by_pid = sorted(&arena.processes, |p| Some((p.host.map(fold), p.pid?)));
        lookup.processes_by_pid = processes_by_pid;
        let origin = |p: &ProcessEntry| arena.origin(p.origin);
        if !arena.processes.iter().is_sorted_by_key(origin) {
            lookup.processes_by_origin = sorted(&arena.processes, |p| Some(origin(p)));
        }
        lookup
    }

    /// A host or GUID of the rows, folded ([`Strings::fold`]).
    pub fn fold(&self, strings: &Strings, sym: Sym) -> Sym {
        strings
            .fold_packed(sym)
            .unwrap_or_else(|| self.folds.get(&sym).copied().unwrap_or(sym))
    }

    /// Processes with this folded host and pid, in row order.
    pub fn processes_with_pid<'a>(&'a self, arena: &'a Arena, key: Key) -> impl Iterator<Item = usize> + 'a {
        let found = find(
            &self.processes_by_pid,
            |i| {
                let p = &arena.processes[i];
                p.pid
                    .map(|pid| (p.host.map(|host| self.fold(&arena.strings, host)), pid))
            },
            &key,
        );
        self.processes_by_pid[found].iter().map(|&i| i as usize)
    }

    /// The last process whose creation event is at `origin`.
    pub fn process_at(&self, arena: &Arena, origin: Origin) -> Option<usize> {
        let at = |i: usize| arena.origin(arena.processes[i].origin);
        let i = if self.processes_by_origin.is_empty() {
            arena
                .processes
                .partition_point(|p| arena.origin(p.origin) <= origin)
                .checked_sub(1)?
        } else {
            let end = self.processes_by_origin.partition_point(|&i| at(i as usize) <= origin);
            self.processes_by_origin[end.checked_sub(1)?] as usize
        };
        (at(i) == origin).then_some(i)
    }
}

impl ConnectionLookup {
    pub fn new(arena: &Arena, lookup: &Lookup) -> Self {
        let strings = &arena.strings;
        let fold = |sym| lookup.fold(strings, sym);
        Self {
            by_guid: sorted(&arena.connections, |c| Some((c.host.map(fold), fold(c.guid?)))),
            by_pid: sorted(&arena.connections, |c| Some((c.host.map(fold), c.pid?))),
        }
    }

    /// Connections with this folded host and GUID, and those with this host and pid,
    /// in row order.
    pub fn with(&self, arena: &Arena, lookup: &Lookup, guid: Option<Key>, pid: Option<Key>) -> Vec<usize> {
        let strings = &arena.strings;
        let fold = |sym| lookup.fold(strings, sym);
        let connection = |i: usize| &arena.connections[i];
        let by_guid = guid.map(|key| {
            let found = find(
                &self.by_guid,
                |i| {
                    let c = connection(i);
                    Some((c.host.map(fold), fold(c.guid?)))
                },
                &key,
            );
            &self.by_guid[found]
        });
        let by_pid = pid.map(|key| {
            let found = find(
                &self.by_pid,
                |i| {
                    let c = connection(i);
                    Some((c.host.map(fold), c.pid?))
                },
                &key,
            );
            &self.by_pid[found]
        });
        let mut found: Vec<usize> = by_guid
            .into_iter()
            .chain(by_pid)
            .flatten()
            .map(|&i| i as usize)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Row numbers of the rows that have a key, sorted by key then row.
fn sorted<T, K: Ord>(rows: &Chunked<T>, key: impl Fn(&T) -> Option<K>) -> Vec<u32> {
    let mut keyed: Vec<(K, u32)> = Vec::with_capacity(rows.len());
    keyed.extend(rows.iter().zip(0..).filter_map(|(row, i)| Some((key(row)?, i))));
    keyed.sort_unstable();
    let mut rows = Vec::with_capacity(keyed.len());
    rows.extend(keyed.iter().map(|&(_, i)| i));
    rows
}

/// The range of `sorted` whose rows have key `key`.
fn find<K: Ord>(sorted: &[u32], key_of: impl Fn(usize) -> Option<K>, key: &K) -> Range<usize> {
    let start = sorted.partition_point(|&i| key_of(i as usize).as_ref() < Some(key));
    let end = sorted.partition_point(|&i| key_of(i as usize).as_ref() <= Some(key));
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{Cim, ProcessRow, TrafficRow};

    fn process(arena: &mut Arena, host: &str, pid: &str, line: u64) {
        let row = ProcessRow {
            dest: Some(host.into()),
            process_id: Some(pid.into()),
            ..ProcessRow::default()
        };
        arena.observe(&Cim::Process(row), None, Origin { file: 0, line });
    }

    #[test]
    fn hosts_fold_and_pids_do_not() {
        let mut arena = Arena::default();
        process(&mut arena, "WS1", "10", 5);
        process(&mut arena, "ws1", "10", 3);
        process(&mut arena, "WS1", "0x0A", 4);
        process(&mut arena, "WS2", "10", 1);
        let traffic = TrafficRow {
            dvc: Some("Ws1".into()),
            process_id: Some("10".into()),
            process_guid: Some("{4B1A7E3C-5248-D49D-96E4-D49D58B70FE2}".into()),
            ..TrafficRow::default()
        };
        arena.observe(&Cim::Traffic(traffic), None, Origin { file: 0, line: 9 });
        let lookup = Lookup::new(&mut arena);
        let ws1 = arena.strings.intern("ws1");
        let key = (Some(lookup.fold(&arena.strings, ws1)), arena.strings.intern("10"));
        assert_eq!(lookup.processes_with_pid(&arena, key).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(lookup.process_at(&arena, Origin { file: 0, line: 4 }), Some(2));
        assert_eq!(lookup.process_at(&arena, Origin { file: 0, line: 2 }), None);
        let guid = arena.strings.intern("{4b1a7e3c-5248-d49d-96e4-d49d58b70fe2}");
        let guid = lookup.fold(&arena.strings, guid);
        let connections = ConnectionLookup::new(&arena, &lookup);
        let found = connections.with(&arena, &lookup, Some((key.0, guid)), Some(key));
        assert_eq!(found, [0]);
    }
}
