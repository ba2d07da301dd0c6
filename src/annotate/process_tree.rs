//! The process tree around a finding: ancestors, the finding's process, its siblings
//! and children, and each one's network connections.
//!
//! Built at the end from the arena's rows ([`crate::normalize::arena`]), which keep
//! every process creation and network connection. Parents are found by
//! ParentProcessGuid, or by host, parent pid and the latest start before the child
//! when GUIDs are absent; each process's parent is worked out once, in one pass.

use crate::normalize::arena::{Arena, ConnectionEntry, ProcessEntry};
use crate::normalize::intern::Sym;
use crate::normalize::lookup::{ConnectionLookup, Key, Lookup};
use crate::normalize::{Origin, basename};
use foldhash::fast::FixedState;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

const MAX_ANCESTORS: usize = 6;
const MAX_SIBLINGS: usize = 12;
const MAX_CHILDREN: usize = 24;
const MAX_CONNECTIONS_PER_PROCESS: usize = 8;
/// No row: a process without a parent in the log.
const NONE: u32 = u32::MAX;

/// A process in a finding's tree.
#[derive(Clone, Debug, Serialize)]
pub struct TreeNode {
    pub id: usize,
    /// "ancestor", "process" (the finding's own), "sibling" or "child".
    pub role: &'static str,
    pub host: String,
    pub image: Option<String>,
    pub name: Option<String>,
    pub pid: Option<String>,
    pub user: Option<String>,
    pub command_line: Option<String>,
    pub time: Option<String>,
    #[serde(skip)]
    pub event: Option<Origin>,
    /// Where its process creation event is ("file, line N"), when it was logged.
    pub location: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TreeConnection {
    /// The node that made it.
    pub node: usize,
    pub time: Option<String>,
    pub dest_ip: Option<String>,
    pub dest_port: Option<String>,
    pub dest_host: Option<String>,
    #[serde(skip)]
    pub event: Origin,
    pub location: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ProcessTree {
    pub nodes: Vec<TreeNode>,
    /// (parent node, child node).
    pub edges: Vec<(usize, usize)>,
    pub connections: Vec<TreeConnection>,
    /// What the tree leaves out or stops at: bounds reached, parent links that loop.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Parents, children and lookups over the arena, for building many trees.
pub struct TreeIndex<'a> {
    arena: &'a Arena,
    lookup: &'a Lookup,
    connections: ConnectionLookup,
    /// Each process's parent row, or [`NONE`].
    parents: Vec<u32>,
    /// Processes that have a parent, by parent, then in row order.
    children: Vec<u32>,
}

impl<'a> TreeIndex<'a> {
    pub fn new(arena: &'a Arena, lookup: &'a Lookup) -> Self {
        let mut index = Self {
            arena,
            lookup,
            connections: ConnectionLookup::new(arena, lookup),
            parents: Vec::new(),
            children: Vec::new(),
        };
        index.parents = index.find_parents();
        let mut counts = vec![0u32; arena.processes.len() + 1];
        for &parent in index.parents.iter().filter(|&&parent| parent != NONE) {
            counts[parent as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        index.children = vec![0; counts[counts.len() - 1] as usize];
        for (child, &parent) in (0..).zip(&index.parents).filter(|(_, parent)| **parent != NONE) {
            let next = &mut counts[parent as usize];
            index.children[*next as usize] = child;
            *next += 1;
        }
        index
    }

    /// Each process's parent: the last process with its host and ParentProcessGuid, or,
    /// without that GUID, the latest process with its host and parent pid started
    /// before it. A process is never its own parent.
    fn find_parents(&self) -> Vec<u32> {
        let (arena, lookup) = (self.arena, self.lookup);
        let strings = &arena.strings;
        let fold = |sym| lookup.fold(strings, sym);
        let key = |host: Option<Sym>, guid| (host.map(fold), fold(guid));
        // The last process per (host, GUID): GUIDs kept as numbers by their table index,
        // the rest (GUIDs kept as text, a GUID seen on two hosts) in a map.
        let mut by_index = vec![NONE; strings.guid_count()];
        let mut others: HashMap<Key, u32, FixedState> = HashMap::default();
        let key_of = |row: u32| {
            let p = &arena.processes[row as usize];
            p.guid.map(|guid| key(p.host, guid))
        };
        for (row, p) in (0..).zip(&arena.processes) {
            let Some(guid) = p.guid else { continue };
            let found = key(p.host, guid);
            match strings.guid_index(found.1) {
                Some(at) if by_index[at] == NONE || key_of(by_index[at]) == Some(found) => by_index[at] = row,
                _ => {
                    others.insert(found, row);
                }
            }
        }
        let by_guid = |found: Key| {
            let dense = strings
                .guid_index(found.1)
                .map(|at| by_index[at])
                .filter(|&row| row != NONE && key_of(row) == Some(found));
            dense.or_else(|| others.get(&found).copied())
        };
        (0..)
            .zip(&arena.processes)
            .map(|(row, p): (u32, &ProcessEntry)| {
                let parent = match p.parent_guid {
                    Some(guid) => by_guid(key(p.host, guid)).map(|row| row as usize),
                    None => p
                        .parent_pid
                        .and_then(|pid| self.by_pid_before((p.host.map(fold), pid), arena.time(p.time))),
                };
                parent
                    .filter(|&parent| parent != row as usize)
                    .map_or(NONE, |parent| parent as u32)
            })
            .collect()
    }

    /// Each process row's parent row, `u32::MAX` for none.
    pub fn into_parents(self) -> Vec<u32> {
        self.parents
    }

    /// The process row that made connection `c`: the latest with its host and pid
    /// started at or before it.
    pub fn maker_of(&self, c: &ConnectionEntry) -> Option<usize> {
        let host = c.host.map(|host| self.lookup.fold(&self.arena.strings, host));
        self.by_pid_before((host, c.pid?), self.arena.time(c.time))
    }

    fn parent_of(&self, i: usize) -> Option<usize> {
        Some(self.parents[i])
            .filter(|&parent| parent != NONE)
            .map(|parent| parent as usize)
    }

    /// The children of process `parent`, in row order.
    fn children_of(&self, parent: usize) -> &[u32] {
        let parent_of = |child: &u32| self.parents[*child as usize] as usize;
        let start = self.children.partition_point(|child| parent_of(child) < parent);
        let end = self.children.partition_point(|child| parent_of(child) <= parent);
        &self.children[start..end]
    }

    fn text(&self, sym: Option<Sym>) -> Option<String> {
        sym.map(|sym| self.arena.strings.text(sym).into_owned())
    }

    /// The latest process with this (folded) host and pid that started at or before `at`.
    fn by_pid_before(&self, key: Key, at: Option<Timestamp>) -> Option<usize> {
        let processes = &self.arena.processes;
        self.lookup
            .processes_with_pid(self.arena, key)
            .filter(|&i| match (self.arena.time(processes[i].time), at) {
                (Some(start), Some(at)) => start <= at,
                _ => true,
            })
            .max_by_key(|&i| self.arena.time(processes[i].time))
    }

    fn connections_of(&self, i: usize) -> impl Iterator<Item = &ConnectionEntry> {
        let (arena, lookup) = (self.arena, self.lookup);
        let p = &arena.processes[i];
        let fold = |sym| lookup.fold(&arena.strings, sym);
        let host = p.host.map(fold);
        let guid = move |guid: Option<Sym>| guid.map(fold);
        self.connections
            .with(
                arena,
                lookup,
                guid(p.guid).map(|g| (host, g)),
                p.pid.map(|pid| (host, pid)),
            )
            .into_iter()
            .map(|c| &arena.connections[c])
            .filter(move |c| {
                if c.host.map(fold) != host {
                    return false;
                }
                match (guid(c.guid), guid(p.guid)) {
                    (Some(a), Some(b)) => a == b,
                    _ => match c.pid {
                        Some(pid) => c.pid == p.pid && self.by_pid_before((host, pid), arena.time(c.time)) == Some(i),
                        None => false,
                    },
                }
            })
            .take(MAX_CONNECTIONS_PER_PROCESS)
    }

    /// The tree around the process whose creation event is at `process_event`, or, when
    /// that was never logged, around the connection at `connection_event` (made by `image`).
    pub fn tree(
        &self,
        process_event: Option<Origin>,
        connection_event: Option<Origin>,
        image: Option<String>,
    ) -> ProcessTree {
        let subject = process_event.and_then(|origin| self.lookup.process_at(self.arena, origin));
        if let Some(subject) = subject {
            return self.tree_of(subject);
        }
        let mut tree = ProcessTree::default();
        {
            // Only the connection is known: one node for the process that made it.
            let connections = &self.arena.connections;
            if let Some(c) =
                connection_event.and_then(|o| connections.iter().find(|c| self.arena.origin(c.origin) == o))
            {
                tree.nodes.push(TreeNode {
                    id: 0,
                    role: "process",
                    host: self.text(c.host).unwrap_or_default(),
                    name: image.as_deref().map(|i| basename(i).to_string()),
                    image,
                    pid: self.text(c.pid),
                    user: None,
                    command_line: None,
                    time: None,
                    event: None,
                    location: None,
                });
                tree.connections.push(self.connection(0, c));
            }
        }
        tree
    }

    /// The tree around process row `subject`.
    pub fn tree_of(&self, subject: usize) -> ProcessTree {
        let mut tree = ProcessTree::default();
        let mut ids: HashMap<usize, usize> = HashMap::new();
        // Ancestors, oldest first. A log may name parents that loop (A's parent is B,
        // B's is A): a process is never its own ancestor, so the chain stops there.
        let mut chain = vec![subject];
        while let Some(parent) = self.parent_of(chain[chain.len() - 1]) {
            if chain.contains(&parent) {
                tree.notes.push(format!(
                    "the log's parent links loop back to {}; ancestors stop there",
                    self.describe(parent)
                ));
                break;
            }
            if chain.len() > MAX_ANCESTORS {
                tree.notes
                    .push(format!("older ancestors not shown (at most {MAX_ANCESTORS})"));
                break;
            }
            chain.push(parent);
        }
        let mut previous = None;
        for &i in chain.iter().rev() {
            let id = self.add_node(
                &mut tree,
                &mut ids,
                i,
                if i == subject { "process" } else { "ancestor" },
            );
            if let Some(parent) = previous {
                tree.edges.push((parent, id));
            }
            previous = Some(id);
        }
        if let Some(&parent) = chain.get(1) {
            self.add_family(&mut tree, &mut ids, parent, "sibling");
        }
        self.add_family(&mut tree, &mut ids, subject, "child");
        for (&i, &id) in &ids {
            for c in self.connections_of(i) {
                tree.connections.push(self.connection(id, c));
            }
        }
        tree.connections
            .sort_by(|a, b| (a.node, &a.time).cmp(&(b.node, &b.time)));
        tree
    }
}

impl TreeIndex<'_> {
    /// Adds the children of process `parent` under its node as `role`, at most `max` of
    /// them; a process already in the tree (the subject, an ancestor named again by
    /// looping links) is not added twice, so the tree never has a cycle. Only the first
    /// `max` are visited: a parent with 50,000 children costs no more than one with 50.
    fn add_family(&self, tree: &mut ProcessTree, ids: &mut HashMap<usize, usize>, parent: usize, role: &'static str) {
        let max = if role == "sibling" { MAX_SIBLINGS } else { MAX_CHILDREN };
        let members = self.children_of(parent);
        let already = ids.keys().filter(|&&i| self.parent_of(i) == Some(parent)).count();
        let parent_id = ids[&parent];
        let new: Vec<usize> = members
            .iter()
            .map(|&i| i as usize)
            .filter(|i| !ids.contains_key(i))
            .take(max)
            .collect();
        for i in new {
            let id = self.add_node(tree, ids, i, role);
            tree.edges.push((parent_id, id));
        }
        let left = members.len().saturating_sub(already + max);
        if left > 0 {
            tree.notes
                .push(format!("{left} more {role} processes not shown (at most {max})"));
        }
    }

    /// A process as a note names it: image name and pid.
    fn describe(&self, i: usize) -> String {
        let p = &self.arena.processes[i];
        let image = self.text(p.image);
        let name = image.as_deref().map_or("a process", basename);
        match self.text(p.pid) {
            Some(pid) => format!("{name} (pid {pid})"),
            None => name.to_string(),
        }
    }

    /// Adds process `i` once, returning its node id.
    fn add_node(&self, tree: &mut ProcessTree, ids: &mut HashMap<usize, usize>, i: usize, role: &'static str) -> usize {
        *ids.entry(i).or_insert_with(|| {
            let p = &self.arena.processes[i];
            let id = tree.nodes.len();
            let image = self.text(p.image);
            tree.nodes.push(TreeNode {
                id,
                role,
                host: self.text(p.host).unwrap_or_default(),
                name: image.as_deref().map(|image| basename(image).to_string()),
                image,
                pid: self.text(p.pid),
                user: self.text(p.user),
                command_line: self.text(p.command_line),
                time: self.arena.time(p.time).map(|t| t.to_string()),
                event: Some(self.arena.origin(p.origin)),
                location: None,
            });
            id
        })
    }

    fn connection(&self, node: usize, c: &ConnectionEntry) -> TreeConnection {
        TreeConnection {
            node,
            time: self.arena.time(c.time).map(|t| t.to_string()),
            dest_ip: self.text(c.dest_ip),
            dest_port: self.text(c.dest_port),
            dest_host: self.text(c.dest_host),
            event: self.arena.origin(c.origin),
            location: None,
        }
    }
}
