//! The process creations and network connections of an analysis, listed for browsing
//! beyond the findings: filtered and sorted over the arena's rows, read a page at a
//! time, and any row's process tree built on demand.
//!
//! Nothing is copied per row: a query keeps the row numbers it matched (4 bytes each),
//! in order, so paging through them costs only the page's strings. Text columns sort by
//! the rank of each distinct string, so a sort compares numbers, not texts.

use crate::annotate::process_tree::{ProcessTree, TreeIndex};
use crate::normalize::arena::Arena;
use crate::normalize::intern::Sym;
use crate::normalize::lookup::Lookup;
use crate::report::FileReport;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The most rows one page holds.
pub const MAX_PAGE_ROWS: usize = 200;
/// No row: a process without a parent, a connection without a known process.
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum List {
    Processes,
    Connections,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Time,
    Host,
    Image,
    CommandLine,
    User,
    Pid,
    Parent,
    Destination,
}

/// Which rows, in which order.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Query {
    pub list: List,
    /// Kept are rows where one of the listed texts holds it, ignoring case; empty keeps all.
    #[serde(default)]
    pub filter: String,
    pub sort: Column,
    #[serde(default)]
    pub descending: bool,
}

/// Rows `start..` of the rows a query matched.
#[derive(Debug, Serialize)]
pub struct Page {
    /// Rows of the list.
    pub total: usize,
    /// Rows the filter kept.
    pub matching: usize,
    pub start: usize,
    pub rows: Vec<Row>,
}

/// A row as listed; `row` names it for [`Browse::tree`].
#[derive(Debug, Serialize)]
pub struct Row {
    pub row: usize,
    pub time: Option<String>,
    pub host: Option<String>,
    pub image: Option<String>,
    pub command_line: Option<String>,
    pub user: Option<String>,
    pub pid: Option<String>,
    pub parent: Option<String>,
    pub parent_pid: Option<String>,
    pub destination: Option<String>,
}

/// The arena's rows, kept past the report for browsing.
pub struct Browse {
    arena: Arena,
    lookup: Lookup,
    /// Each process's parent row.
    parents: Vec<u32>,
    /// Each connection's process row.
    makers: Vec<u32>,
    /// The last query and the rows it matched, in order.
    last: RefCell<Option<(Query, Vec<u32>)>>,
}

impl Browse {
    pub fn new(arena: Arena, lookup: Lookup) -> Self {
        let index = TreeIndex::new(&arena, &lookup);
        let makers = arena
            .connections
            .iter()
            .map(|c| index.maker_of(c).map_or(NONE, |row| row as u32))
            .collect();
        let parents = index.into_parents();
        Self {
            arena,
            lookup,
            parents,
            makers,
            last: RefCell::new(None),
        }
    }

    pub fn len(&self, list: List) -> usize {
        match list {
            List::Processes => self.arena.processes.len(),
            List::Connections => self.arena.connections.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.arena.processes.is_empty() && self.arena.connections.is_empty()
    }

    /// Up to `count` (at most [`MAX_PAGE_ROWS`]) rows from `start` of those `query` matches.
    pub fn page(&self, query: &Query, start: usize, count: usize) -> Page {
        let mut last = self.last.borrow_mut();
        if last.as_ref().is_none_or(|(held, _)| held != query) {
            *last = Some((query.clone(), self.matching(query)));
        }
        let rows = last.as_ref().map_or(&[][..], |(_, rows)| rows.as_slice());
        let end = rows.len().min(start.saturating_add(count.min(MAX_PAGE_ROWS)));
        Page {
            total: self.len(query.list),
            matching: rows.len(),
            start,
            rows: rows
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .map(|&row| self.row(query.list, row as usize))
                .collect(),
        }
    }

    /// The tree around a row's process (for a connection, the process that made it),
    /// with where each event is in `files`; `None` past the end of the list.
    pub fn tree(&self, list: List, row: usize, files: &[FileReport]) -> Option<ProcessTree> {
        let index = TreeIndex::new(&self.arena, &self.lookup);
        let mut tree = match list {
            List::Processes => (row < self.arena.processes.len()).then(|| index.tree_of(row))?,
            List::Connections => {
                let c = (row < self.arena.connections.len()).then(|| &self.arena.connections[row])?;
                match self.makers[row] {
                    NONE => index.tree(None, Some(self.arena.origin(c.origin)), None),
                    maker => index.tree_of(maker as usize),
                }
            }
        };
        crate::report::locate(&mut tree, files);
        Some(tree)
    }

    /// The rows `query` keeps, in its order.
    fn matching(&self, query: &Query) -> Vec<u32> {
        let needle = query.filter.trim().to_lowercase();
        let mut holds: HashMap<Sym, bool> = HashMap::new();
        let strings = &self.arena.strings;
        let mut kept = |sym: Sym| {
            *holds
                .entry(sym)
                .or_insert_with(|| strings.text(sym).to_lowercase().contains(&needle))
        };
        let mut rows: Vec<u32> = (0..self.len(query.list) as u32)
            .filter(|&row| {
                needle.is_empty()
                    || self
                        .texts(query.list, row as usize)
                        .into_iter()
                        .flatten()
                        .any(&mut kept)
            })
            .collect();
        self.sort(&mut rows, query);
        rows
    }

    /// Every text of a row the filter searches.
    fn texts(&self, list: List, i: usize) -> [Option<Sym>; 8] {
        match list {
            List::Processes => {
                let p = &self.arena.processes[i];
                let parent = self.process(self.parents[i]);
                [
                    p.host,
                    p.image,
                    p.command_line,
                    p.user,
                    p.pid,
                    p.parent_pid,
                    parent.and_then(|parent| parent.image),
                    None,
                ]
            }
            List::Connections => {
                let c = &self.arena.connections[i];
                let maker = self.process(self.makers[i]);
                [
                    c.host,
                    maker.and_then(|p| p.image),
                    maker.and_then(|p| p.command_line),
                    maker.and_then(|p| p.user),
                    c.pid,
                    c.dest_ip,
                    c.dest_port,
                    c.dest_host,
                ]
            }
        }
    }

    fn process(&self, row: u32) -> Option<&crate::normalize::arena::ProcessEntry> {
        (row != NONE).then(|| &self.arena.processes[row as usize])
    }

    /// The text a row sorts by in a text column.
    fn sort_text(&self, list: List, column: Column, i: usize) -> Option<Sym> {
        let texts = self.texts(list, i);
        match (list, column) {
            (_, Column::Host) => texts[0],
            (_, Column::Image) => texts[1],
            (_, Column::CommandLine) => texts[2],
            (_, Column::User) => texts[3],
            (List::Processes, Column::Parent) => texts[6],
            (List::Connections, Column::Destination) => texts[7].or(texts[5]),
            _ => None,
        }
    }

    fn sort(&self, rows: &mut [u32], query: &Query) {
        let list = query.list;
        let arena = &self.arena;
        let time = |i: u32| match list {
            List::Processes => arena.time(arena.processes[i as usize].time),
            List::Connections => arena.time(arena.connections[i as usize].time),
        };
        let number = |sym: Option<Sym>| sym.and_then(|sym| arena.strings.text(sym).trim().parse::<u64>().ok());
        let pid = |i: u32| number(self.texts(list, i as usize)[4]);
        let port = |i: u32| match list {
            List::Processes => None,
            List::Connections => number(arena.connections[i as usize].dest_port),
        };
        let order: Box<dyn Fn(u32, u32) -> Ordering> = match query.sort {
            Column::Time => Box::new(|a, b| time(a).cmp(&time(b))),
            Column::Pid => Box::new(|a, b| pid(a).cmp(&pid(b))),
            column => {
                let ranks = self.ranks(rows, list, column);
                let rank = move |i: u32| self.sort_text(list, column, i as usize).map(|sym| ranks[&sym]);
                Box::new(move |a, b| rank(a).cmp(&rank(b)).then_with(|| port(a).cmp(&port(b))))
            }
        };
        // Rows without the value first (ascending); ties in row order.
        rows.sort_by(|&a, &b| {
            let ordered = order(a, b);
            let ordered = if query.descending { ordered.reverse() } else { ordered };
            ordered.then(a.cmp(&b))
        });
    }

    /// Each distinct text of `column` in `rows`, by its rank in ASCII-case-blind order.
    fn ranks(&self, rows: &[u32], list: List, column: Column) -> HashMap<Sym, u32> {
        let strings = &self.arena.strings;
        let mut texts: Vec<(Cow<'_, str>, Sym)> = Vec::new();
        let mut seen: HashMap<Sym, u32> = HashMap::new();
        for &row in rows {
            if let Some(sym) = self.sort_text(list, column, row as usize)
                && seen.insert(sym, 0).is_none()
            {
                texts.push((strings.text(sym), sym));
            }
        }
        texts.sort_by(|a, b| {
            let fold = |text: &str| text.bytes().map(|b| b.to_ascii_lowercase()).collect::<Vec<u8>>();
            fold(&a.0).cmp(&fold(&b.0)).then_with(|| a.0.cmp(&b.0))
        });
        for (rank, (_, sym)) in (0..).zip(&texts) {
            seen.insert(*sym, rank);
        }
        seen
    }

    fn row(&self, list: List, i: usize) -> Row {
        let arena = &self.arena;
        let text = |sym: Option<Sym>| sym.map(|sym| arena.strings.text(sym).into_owned());
        let texts = self.texts(list, i);
        match list {
            List::Processes => {
                let p = &arena.processes[i];
                Row {
                    row: i,
                    time: arena.time(p.time).map(|t| t.to_string()),
                    host: text(p.host),
                    image: text(p.image),
                    command_line: text(p.command_line),
                    user: text(p.user),
                    pid: text(p.pid),
                    parent: text(texts[6]),
                    parent_pid: text(p.parent_pid),
                    destination: None,
                }
            }
            List::Connections => {
                let c = &arena.connections[i];
                let address = match (text(c.dest_ip), text(c.dest_port)) {
                    (Some(ip), Some(port)) => Some(format!("{ip}:{port}")),
                    (ip, port) => ip.or(port),
                };
                let destination = match (text(c.dest_host), address) {
                    (Some(host), Some(address)) => Some(format!("{host} ({address})")),
                    (host, address) => host.or(address),
                };
                Row {
                    row: i,
                    time: arena.time(c.time).map(|t| t.to_string()),
                    host: text(c.host),
                    image: text(texts[1]),
                    command_line: text(texts[2]),
                    user: text(texts[3]),
                    pid: text(c.pid),
                    parent: None,
                    parent_pid: None,
                    destination,
                }
            }
        }
    }
}
