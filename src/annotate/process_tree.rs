//! The process tree around a finding: ancestors, the finding's process, its siblings
//! and children, and each one's network connections.
//!
//! Every process creation and network connection is kept in a compact table while the
//! input streams (a few short strings each, never the raw event), and trees are built
//! only for the findings at the end. Parents are found by ParentProcessGuid, or by host,
//! parent pid and the latest start before the child when GUIDs are absent.

use crate::normalize::{Cim, EventTime, Origin, basename};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

const MAX_ANCESTORS: usize = 6;
const MAX_SIBLINGS: usize = 12;
const MAX_CHILDREN: usize = 24;
const MAX_CONNECTIONS_PER_PROCESS: usize = 8;

/// Strings are boxed (no spare capacity): the table holds one per process creation.
struct Process {
    host: Box<str>,
    guid: Option<Box<str>>,
    pid: Option<Box<str>>,
    parent_guid: Option<Box<str>>,
    parent_pid: Option<Box<str>>,
    image: Option<Box<str>>,
    command_line: Option<Box<str>>,
    user: Option<Box<str>>,
    time: Option<Timestamp>,
    origin: Origin,
}

struct Connection {
    host: Box<str>,
    guid: Option<Box<str>>,
    pid: Option<Box<str>>,
    time: Option<Timestamp>,
    dest_ip: Option<Box<str>>,
    dest_port: Option<Box<str>>,
    dest_host: Option<Box<str>>,
    origin: Origin,
}

/// Processes and connections seen so far, for building trees at the end.
#[derive(Default)]
pub struct ProcessTable {
    processes: Vec<Process>,
    connections: Vec<Connection>,
}

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

fn lower(value: &Option<Box<str>>) -> Option<String> {
    value.as_deref().map(str::to_ascii_lowercase)
}

fn text(value: &Option<Box<str>>) -> Option<String> {
    value.as_deref().map(str::to_string)
}

impl ProcessTable {
    pub fn observe(&mut self, cim: &Cim, time: Option<&EventTime>, origin: Origin) {
        let at = time.map(|t| t.at);
        let boxed = |value: &Option<String>| value.as_deref().map(Box::from);
        match cim {
            Cim::Process(row) => self.processes.push(Process {
                host: row.dest.as_deref().unwrap_or_default().into(),
                guid: boxed(&row.process_guid),
                pid: boxed(&row.process_id),
                parent_guid: boxed(&row.parent_process_guid),
                parent_pid: boxed(&row.parent_process_id),
                image: boxed(&row.process_path),
                command_line: boxed(&row.process),
                user: boxed(&row.user),
                time: at,
                origin,
            }),
            Cim::Traffic(row) => self.connections.push(Connection {
                host: row.dvc.as_deref().unwrap_or_default().into(),
                guid: boxed(&row.process_guid),
                pid: boxed(&row.process_id),
                time: at,
                dest_ip: boxed(&row.dest_ip),
                dest_port: boxed(&row.dest_port),
                dest_host: boxed(&row.dest.clone().filter(|dest| Some(dest) != row.dest_ip.as_ref())),
                origin,
            }),
            Cim::Other => {}
        }
    }

    /// An index for building many trees.
    pub fn index(&self) -> TreeIndex<'_> {
        let mut by_guid = HashMap::new();
        let mut by_pid: HashMap<(String, String), Vec<usize>> = HashMap::new();
        let mut by_origin = HashMap::new();
        for (i, p) in self.processes.iter().enumerate() {
            let host = p.host.to_ascii_lowercase();
            if let Some(guid) = lower(&p.guid) {
                by_guid.insert((host.clone(), guid), i);
            }
            if let Some(pid) = &p.pid {
                by_pid.entry((host, pid.to_string())).or_default().push(i);
            }
            by_origin.insert(p.origin, i);
        }
        let mut connections_by_key: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, c) in self.connections.iter().enumerate() {
            let host = c.host.to_ascii_lowercase();
            for id in [lower(&c.guid), text(&c.pid)].into_iter().flatten() {
                connections_by_key.entry((host.clone(), id)).or_default().push(i);
            }
        }
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        let index = TreeIndex {
            table: self,
            by_guid,
            by_pid,
            by_origin,
            connections_by_key,
            children: HashMap::new(),
        };
        for i in 0..self.processes.len() {
            if let Some(parent) = index.parent_of(i) {
                children.entry(parent).or_default().push(i);
            }
        }
        TreeIndex { children, ..index }
    }
}

/// Lookups over a [`ProcessTable`].
pub struct TreeIndex<'a> {
    table: &'a ProcessTable,
    by_guid: HashMap<(String, String), usize>,
    by_pid: HashMap<(String, String), Vec<usize>>,
    by_origin: HashMap<Origin, usize>,
    /// (host, GUID) and (host, pid) → connections with that key.
    connections_by_key: HashMap<(String, String), Vec<usize>>,
    children: HashMap<usize, Vec<usize>>,
}

impl TreeIndex<'_> {
    /// The latest process with this pid on this host that started at or before `at`.
    fn by_pid_before(&self, host: &str, pid: &str, at: Option<Timestamp>) -> Option<usize> {
        let candidates = self.by_pid.get(&(host.to_ascii_lowercase(), pid.to_string()))?;
        candidates
            .iter()
            .copied()
            .filter(|&i| match (self.table.processes[i].time, at) {
                (Some(start), Some(at)) => start <= at,
                _ => true,
            })
            .max_by_key(|&i| self.table.processes[i].time)
    }

    fn parent_of(&self, i: usize) -> Option<usize> {
        let p = &self.table.processes[i];
        let host = p.host.to_ascii_lowercase();
        let parent = match lower(&p.parent_guid) {
            Some(guid) => self.by_guid.get(&(host, guid)).copied(),
            None => self.by_pid_before(&p.host, p.parent_pid.as_deref()?, p.time),
        };
        parent.filter(|&parent| parent != i)
    }

    fn connections_of(&self, i: usize) -> impl Iterator<Item = &Connection> {
        let p = &self.table.processes[i];
        let host = p.host.to_ascii_lowercase();
        let mut candidates: Vec<usize> = [lower(&p.guid), text(&p.pid)]
            .into_iter()
            .flatten()
            .filter_map(|id| self.connections_by_key.get(&(host.clone(), id)))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .map(|c| &self.table.connections[c])
            .filter(move |c| {
                if !c.host.eq_ignore_ascii_case(&p.host) {
                    return false;
                }
                match (lower(&c.guid), lower(&p.guid)) {
                    (Some(a), Some(b)) => a == b,
                    _ => {
                        c.pid.is_some()
                            && c.pid == p.pid
                            && self.by_pid_before(&c.host, c.pid.as_deref().unwrap_or(""), c.time) == Some(i)
                    }
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
        let mut tree = ProcessTree::default();
        let subject = process_event.and_then(|origin| self.by_origin.get(&origin).copied());
        let Some(subject) = subject else {
            // Only the connection is known: one node for the process that made it.
            if let Some(c) = connection_event.and_then(|o| self.table.connections.iter().find(|c| c.origin == o)) {
                tree.nodes.push(TreeNode {
                    id: 0,
                    role: "process",
                    host: c.host.to_string(),
                    name: image.as_deref().map(|i| basename(i).to_string()),
                    image,
                    pid: text(&c.pid),
                    user: None,
                    command_line: None,
                    time: None,
                    event: None,
                    location: None,
                });
                tree.connections.push(connection(0, c));
            }
            return tree;
        };
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
                tree.connections.push(connection(id, c));
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
        let members = self.children.get(&parent).map_or(&[][..], Vec::as_slice);
        let already = ids.keys().filter(|&&i| self.parent_of(i) == Some(parent)).count();
        let parent_id = ids[&parent];
        let new: Vec<usize> = members
            .iter()
            .copied()
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
        let p = &self.table.processes[i];
        let name = p.image.as_deref().map_or("a process", basename);
        match &p.pid {
            Some(pid) => format!("{name} (pid {pid})"),
            None => name.to_string(),
        }
    }

    /// Adds process `i` once, returning its node id.
    fn add_node(&self, tree: &mut ProcessTree, ids: &mut HashMap<usize, usize>, i: usize, role: &'static str) -> usize {
        *ids.entry(i).or_insert_with(|| {
            let p = &self.table.processes[i];
            let id = tree.nodes.len();
            tree.nodes.push(TreeNode {
                id,
                role,
                host: p.host.to_string(),
                name: p.image.as_deref().map(|image| basename(image).to_string()),
                image: text(&p.image),
                pid: text(&p.pid),
                user: text(&p.user),
                command_line: text(&p.command_line),
                time: p.time.map(|t| t.to_string()),
                event: Some(p.origin),
                location: None,
            });
            id
        })
    }
}

fn connection(node: usize, c: &Connection) -> TreeConnection {
    TreeConnection {
        node,
        time: c.time.map(|t| t.to_string()),
        dest_ip: text(&c.dest_ip),
        dest_port: text(&c.dest_port),
        dest_host: text(&c.dest_host),
        event: c.origin,
        location: None,
    }
}
