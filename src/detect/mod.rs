//! Detect: the two searches, as published and hardened, fed one event at a time.
//!
//! Each detection keeps only what its search needs (matching process rows, candidate
//! connections) and turns it into output rows at [`Detections::finish`], so the input
//! never has to be held. Published rows are shaped exactly as the SPL prints them;
//! hardened rows say what the SPL means, and every row says why it matched.

pub mod discovery_programs;
pub mod http_connections;
pub mod kept;
pub mod meta;
pub mod msiexec_http_network;
pub mod msiexec_http_network_hardened;
pub mod msiexec_spawn_discovery;
pub mod msiexec_spawn_discovery_hardened;

use crate::ingest::RawEvent;
use crate::normalize::arena::Arena;
use crate::normalize::intern::Strings;
use crate::normalize::lookup::Lookup;
use crate::normalize::{Cim, EventTime, Origin};
use kept::KeptEvent;
pub use meta::DetectionMeta;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// How many contributing events a row keeps in full (all are counted).
const MAX_EVIDENCE: usize = 20;

/// A contributing event: where it is and its raw fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub origin: Origin,
    pub event_id: u32,
    pub time: Option<String>,
    /// The field `_time` came from.
    pub time_source: Option<&'static str>,
    pub fields: Vec<(String, String)>,
}

impl Evidence {
    fn of(event: &RawEvent, time: Option<&EventTime>, origin: Origin) -> Self {
        let computer = event.computer.as_ref();
        let fields: Vec<_> = computer
            .map(|computer| ("Computer".to_string(), computer.clone()))
            .into_iter()
            .chain(event.data.iter().cloned())
            .collect();
        Self {
            origin,
            event_id: event.event_id.unwrap_or_default(),
            time: time.map(|t| t.at.to_string()),
            time_source: time.map(|t| t.source),
            fields,
        }
    }
}

/// One output row of one search, with the events behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub detection: &'static DetectionMeta,
    pub mode: Mode,
    /// The output fields, in the SPL's order, with its names.
    pub row: Map<String, Value>,
    pub evidence: Vec<Evidence>,
    pub why: Why,
}

impl Match {
    /// The row fields taken from the `Network_Traffic.All_Traffic` events the row joins,
    /// where `Endpoint.Processes` has a field of the same name.
    pub fn joined_fields(&self) -> &'static [&'static str] {
        match (self.detection.id == meta::HTTP_FROM_MSIEXEC.id, self.mode) {
            (false, _) => &[],
            (true, Mode::AsPublished) => msiexec_http_network::joined_fields(),
            (true, Mode::Hardened) => &msiexec_http_network_hardened::JOINED_FIELDS,
        }
    }
}

/// Why a row matched, and how the two readings differ on it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Why {
    /// Each condition of the search, as this row met it.
    pub conditions: Vec<String>,
    /// Where the published and hardened readings part, for this row.
    pub notes: Vec<String>,
}

/// Which reading of a detection produced a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Faithful to the published SPL, quirks included.
    AsPublished,
    /// What the SPL means, without its quirks.
    Hardened,
}

/// What a user may change about the hardened readings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Options {
    pub discovery_programs: Vec<discovery_programs::DiscoveryProgram>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            discovery_programs: discovery_programs::default_programs(),
        }
    }
}

/// True when a detection may report `event` as one behind a finding, judged on the event
/// alone (the searches' where-clauses, loosened): a process creation that names msiexec
/// (as image, parent or original file name), or a connection to port 80 or 443. Ingest
/// keeps only these events' records; [`RecordFilter`] narrows the connections.
pub fn may_back_finding(event: &RawEvent) -> bool {
    match event.event_id {
        Some(1) => names_msiexec(event),
        Some(3) => matches!(event.get("DestinationPort"), Some("80" | "443")),
        _ => false,
    }
}

fn names_msiexec(event: &RawEvent) -> bool {
    ["Image", "ParentImage", "OriginalFileName"].into_iter().any(|name| {
        event
            .get(name)
            .is_some_and(|value| contains_ignore_ascii_case(value, "msiexec"))
    })
}

fn contains_ignore_ascii_case(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Which records of [`may_back_finding`] events an analysis keeps: every msiexec
/// process creation, and a port 80/443 connection when it names msiexec or no program,
/// or its pid is one an msiexec process had (the published search joins on the pid
/// alone, so another program's connection can stand behind its finding). Memory: the
/// msiexec pids seen.
#[derive(Default)]
pub struct RecordFilter {
    msiexec_pids: std::collections::HashSet<String>,
}

impl RecordFilter {
    pub fn keeps(&mut self, event: &RawEvent) -> bool {
        match event.event_id {
            Some(1) => {
                let msiexec = |name| {
                    event
                        .get(name)
                        .is_some_and(|value| contains_ignore_ascii_case(value, "msiexec"))
                };
                if (msiexec("Image") || msiexec("OriginalFileName"))
                    && let Some(pid) = event.get("ProcessId")
                    && !self.msiexec_pids.contains(pid)
                {
                    self.msiexec_pids.insert(pid.to_string());
                }
                names_msiexec(event)
            }
            Some(3) => {
                let image = event.get("Image").unwrap_or("");
                image.is_empty()
                    || contains_ignore_ascii_case(image, "msiexec")
                    || event
                        .get("ProcessId")
                        .is_some_and(|pid| self.msiexec_pids.contains(pid))
            }
            _ => false,
        }
    }
}

/// Both detections' state, in both readings, across every file of one analysis.
#[derive(Default)]
pub struct Detections {
    spawn_discovery: msiexec_spawn_discovery::SpawnDiscovery,
    spawn_discovery_hardened: msiexec_spawn_discovery_hardened::SpawnDiscoveryHardened,
    http_network: msiexec_http_network::HttpFromMsiexec,
    http_network_hardened: msiexec_http_network_hardened::HttpFromMsiexecHardened,
}

impl Detections {
    pub fn new(options: Options) -> Self {
        Self {
            spawn_discovery_hardened: msiexec_spawn_discovery_hardened::SpawnDiscoveryHardened::new(
                options.discovery_programs,
            ),
            ..Self::default()
        }
    }

    /// Reads one event; `row` is the number of its row among the arena's of its kind.
    pub fn observe(
        &mut self,
        event: &RawEvent,
        cim: &Cim,
        time: Option<&EventTime>,
        origin: Origin,
        row: Option<u32>,
        arena: &mut Arena,
    ) {
        let strings = &mut arena.strings;
        let seen = Seen { event, time, origin };
        match cim {
            Cim::Process(process) => {
                self.spawn_discovery.observe(process, &seen, strings);
                self.spawn_discovery_hardened.observe(process, &seen, strings);
                self.http_network.observe_process(process, &seen, strings);
                self.http_network_hardened.observe_process(process, &seen, strings);
            }
            Cim::Traffic(traffic) => {
                self.http_network.observe_traffic(traffic, &seen, strings);
                if let Some(row) = row {
                    self.http_network_hardened.observe_traffic(traffic, &seen, row, arena);
                }
            }
            Cim::Other => {}
        }
    }

    /// Published rows first, then hardened ones, per detection.
    pub fn finish(self, arena: &mut Arena, lookup: &Lookup) -> Vec<Match> {
        let mut matches = self.spawn_discovery.finish(&arena.strings);
        matches.extend(self.spawn_discovery_hardened.finish(&arena.strings));
        matches.extend(self.http_network.finish(&arena.strings));
        matches.extend(self.http_network_hardened.finish(arena, lookup));
        matches
    }
}

/// An event being read, with its time and place.
pub struct Seen<'a> {
    pub event: &'a RawEvent,
    pub time: Option<&'a EventTime>,
    pub origin: Origin,
}

impl Seen<'_> {
    fn keep(&self, strings: &mut Strings) -> KeptEvent {
        KeptEvent::new(self.event, self.time, self.origin, strings)
    }
}

/// A group-by value as tstats shows it: `fillnull_value=null` turns a missing one into "null".
fn fill_null(value: &Option<String>) -> String {
    null_filled(value).to_string()
}

/// [`fill_null`], borrowed.
fn null_filled(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("null")
}

/// The order tstats returns rows in: by each `by` field in turn, numbers compared as
/// numbers (so port 80 sorts before 443) and everything else as text.
fn splunk_order(a: &[impl AsRef<str>], b: &[impl AsRef<str>]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a.as_ref(), b.as_ref()))
        .map(|(a, b)| match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => a.cmp(b),
        })
        .find(|order| order.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Case-insensitive equality, as Splunk compares field values in a search.
fn same(value: &Option<String>, expected: &str) -> bool {
    value
        .as_deref()
        .is_some_and(|value| value.eq_ignore_ascii_case(expected))
}

/// Keeps the first few contributing events in full.
fn keep_evidence(list: &mut Vec<KeptEvent>, seen: &Seen, strings: &mut Strings) {
    if list.len() < MAX_EVIDENCE {
        list.push(seen.keep(strings));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn numbers_sort_as_numbers_and_text_as_text() {
        assert_eq!(splunk_order(&row(&["a", "80"]), &row(&["a", "443"])), Ordering::Less);
        assert_eq!(
            splunk_order(&row(&["a", "9999"]), &row(&["a", "10000"])),
            Ordering::Less
        );
        assert_eq!(
            splunk_order(&row(&["WS-01", "1"]), &row(&["WS-02", "0"])),
            Ordering::Less
        );
        assert_eq!(splunk_order(&row(&["null"]), &row(&["443"])), Ordering::Greater);
        assert_eq!(splunk_order(&row(&["x", "1"]), &row(&["x", "1"])), Ordering::Equal);
    }
}
