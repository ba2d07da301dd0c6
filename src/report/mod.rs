//! Report: the one JSON document the CLI prints, the page exports and the tests compare.
//!
//! Per file, what was read and skipped; per finding, the output row, its annotations,
//! risk and contributing events; across findings, risk totalled per risk object.

pub mod coverage;
pub mod csv;
pub mod suppress;

use crate::annotate::process_tree::{ProcessTree, TreeIndex};
use crate::annotate::{self, Annotations, Risk};
use crate::detect::{DetectionMeta, Match, Mode, meta};
use crate::ingest::IngestStats;
use crate::ingest::raw_event::RecordText;
use crate::normalize::Origin;
use crate::normalize::arena::Arena;
use crate::normalize::cim::{self, CimField, DataModel, Derivation};
use crate::normalize::lookup::Lookup;
use coverage::CoverageReport;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use suppress::Rule;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub tool: Tool,
    pub files: Vec<FileReport>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub risk_totals: Vec<RiskTotal>,
    pub detections: Vec<DetectionInfo>,
    /// The suppression rules applied (`scan --rules`), when any were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
}

/// Rules applied to a report: its findings are kept, each suppressed one marked with
/// its rule, and risk is totalled without them.
#[derive(Clone, Debug, Serialize)]
pub struct Suppression {
    pub rules: Vec<Rule>,
    /// How many findings a rule suppressed.
    pub suppressed: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// What reading one file found.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub name: String,
    #[serde(flatten)]
    pub ingest: IngestStats,
    #[serde(flatten)]
    pub coverage: CoverageReport,
}

/// Totals across every file of the analysis.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub sysmon_events: BTreeMap<u32, u64>,
    pub other_events: u64,
    pub skipped: u64,
    /// Hosts, users and the time range of the events the detections read (process
    /// creations and network connections); other EventIDs are counted, not parsed.
    pub hosts: BTreeSet<String>,
    pub users: BTreeSet<String>,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
}

/// One output row of one detection, annotated.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub detection_id: &'static str,
    pub detection: &'static str,
    pub version: u32,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub mode: Mode,
    pub row: Map<String, Value>,
    pub risk: Risk,
    pub annotations: Annotations,
    pub explanation: Explanation,
    pub process_tree: ProcessTree,
    pub events: Vec<EventRef>,
    /// The index of the rule that suppressed it, when rules were applied and one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<usize>,
}

/// Why a finding fired: the conditions it met, where each output field came from,
/// and where the published and hardened readings part.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub conditions: Vec<String>,
    pub notes: Vec<String>,
    /// The field `_time` (and so firstTime/lastTime) came from.
    pub time_source: Option<&'static str>,
    pub provenance: Vec<Provenance>,
}

/// One output field traced back to the raw event field it was mapped from.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    pub field: String,
    /// "EventID 1" or "EventID 3": which of the finding's events holds the raw field.
    pub event: String,
    pub raw_field: &'static str,
    pub raw_value: Option<String>,
}

/// A contributing event: its file, position, raw fields and record as it was in the file.
#[derive(Clone, Debug, Serialize)]
pub struct EventRef {
    pub file: String,
    pub position: String,
    pub event_id: u32,
    #[serde(rename = "_time")]
    pub time: Option<String>,
    pub fields: Map<String, Value>,
    /// The record's text (null when the analysis's budget for record text was spent).
    pub raw: Option<RecordText>,
}

/// The record text of the events a detection may report, by where they are, within a
/// total budget: an event past it keeps none.
#[derive(Default)]
pub struct Records {
    by_origin: HashMap<Origin, RecordText>,
    bytes: usize,
}

impl Records {
    /// Keeps `record` for the event at `origin` unless it would pass `budget` bytes in all.
    pub fn keep(&mut self, origin: Origin, record: RecordText, budget: usize) {
        if self.by_origin.contains_key(&origin) || self.bytes + record.text.len() > budget {
            return;
        }
        self.bytes += record.text.len();
        self.by_origin.insert(origin, record);
    }

    /// Bytes of record text kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn get(&self, origin: Origin) -> Option<RecordText> {
        self.by_origin.get(&origin).cloned()
    }
}

/// Risk summed per risk object across findings, as ES risk-based alerting does.
#[derive(Clone, Debug, Serialize)]
pub struct RiskTotal {
    pub object: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub score: u64,
    pub findings: usize,
    /// Indexes into the report's findings.
    pub contributing: Vec<usize>,
}

/// A detection's published description, shown once rather than per finding.
#[derive(Clone, Debug, Serialize)]
pub struct DetectionInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub version: u32,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub author: &'static str,
    pub description: &'static str,
    pub how_to_implement: &'static str,
    pub known_false_positives: &'static str,
    pub published_quirks: &'static [&'static str],
    pub analytic_story: &'static [&'static str],
    pub references: &'static [&'static str],
    pub data_sources: &'static [&'static str],
    pub search: &'static str,
    /// The fields of its output rows: those a suppression rule can test.
    pub output_fields: &'static [&'static str],
}

impl From<&DetectionMeta> for DetectionInfo {
    fn from(meta: &DetectionMeta) -> Self {
        Self {
            id: meta.id,
            name: meta.name,
            version: meta.version,
            kind: meta.kind,
            author: meta.author,
            description: meta.description,
            how_to_implement: meta.how_to_implement,
            known_false_positives: meta.known_false_positives,
            published_quirks: meta.published_quirks,
            analytic_story: meta.analytic_stories,
            references: meta.references,
            data_sources: meta.data_sources,
            search: meta.search,
            output_fields: meta.output_fields,
        }
    }
}

/// Assembles the report from per-file results and the detections' matches, with
/// process trees from the arena's rows.
pub fn build(
    files: Vec<FileReport>,
    mut summary: Summary,
    matches: Vec<Match>,
    arena: &Arena,
    lookup: &Lookup,
    records: &Records,
) -> Report {
    summary.files = files.len();
    for file in &files {
        for (id, count) in &file.ingest.sysmon_events {
            *summary.sysmon_events.entry(*id).or_default() += count;
        }
        summary.other_events += file.ingest.other_events;
        summary.skipped += file.ingest.skipped_count;
    }
    let findings: Vec<Finding> = if matches.is_empty() {
        Vec::new()
    } else {
        let index = TreeIndex::new(arena, lookup);
        matches
            .into_iter()
            .map(|m| finding(m, &files, &index, records))
            .collect()
    };
    let risk_totals = risk_totals(&findings, |_| true);
    Report {
        tool: Tool {
            name: "sysmon-lens",
            version: env!("CARGO_PKG_VERSION"),
        },
        files,
        summary,
        findings,
        risk_totals,
        detections: meta::ALL.iter().map(|meta| DetectionInfo::from(*meta)).collect(),
        suppression: None,
    }
}

/// What suppression rules do to a report: per finding the index of the rule that
/// suppresses it, and risk totalled without the suppressed findings.
#[derive(Clone, Debug, Serialize)]
pub struct Suppressed {
    pub by: Vec<Option<usize>>,
    pub risk_totals: Vec<RiskTotal>,
}

impl Report {
    /// What `rules` would suppress, the report unchanged (the page asks this of its report
    /// each time its rules change).
    pub fn suppression_of(&self, rules: &[Rule]) -> Suppressed {
        let by = suppress::suppressed_by(self.findings.iter().map(|f| (f.detection_id, &f.row)), rules);
        let risk_totals = risk_totals(&self.findings, |index| by[index].is_none());
        Suppressed { by, risk_totals }
    }

    /// Applies suppression rules: marks each finding a rule suppresses and totals risk
    /// without them, as the page does with the same rules.
    pub fn suppress(&mut self, rules: Vec<Rule>) {
        let Suppressed { by, risk_totals } = self.suppression_of(&rules);
        for (finding, rule) in self.findings.iter_mut().zip(by) {
            finding.suppressed_by = rule;
        }
        self.risk_totals = risk_totals;
        let suppressed = self.findings.iter().filter(|f| f.suppressed_by.is_some()).count();
        self.suppression = Some(Suppression { rules, suppressed });
    }

    /// The findings no rule suppressed.
    pub fn active_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed_by.is_none())
    }
}

fn finding(found: Match, files: &[FileReport], index: &TreeIndex<'_>, records: &Records) -> Finding {
    let meta = found.detection;
    let explanation = explain(&found);
    let first = |event_id: u32| found.evidence.iter().find(|e| e.event_id == event_id);
    let image = found
        .row
        .get("process_path")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut process_tree = index.tree(first(1).map(|e| e.origin), first(3).map(|e| e.origin), image);
    locate(&mut process_tree, files);
    let events = found
        .evidence
        .into_iter()
        .map(|evidence| EventRef {
            file: files
                .get(evidence.origin.file)
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            position: position(files, evidence.origin),
            event_id: evidence.event_id,
            time: evidence.time,
            fields: evidence
                .fields
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
            raw: records.get(evidence.origin),
        })
        .collect();
    Finding {
        detection_id: meta.id,
        detection: meta.name,
        version: meta.version,
        kind: meta.kind,
        mode: found.mode,
        risk: annotate::risk(meta, &found.row),
        annotations: annotate::annotations(meta),
        explanation,
        process_tree,
        row: found.row,
        events,
        suppressed_by: None,
    }
}

/// Where an event is in its file: a line of text files, a record of EVTX files.
/// Names where each event of `tree` is ("file, line N").
pub fn locate(tree: &mut ProcessTree, files: &[FileReport]) {
    let location = |origin: Origin| {
        let file = files.get(origin.file).map_or("", |f| f.name.as_str());
        format!("{file}, {}", position(files, origin))
    };
    for node in &mut tree.nodes {
        node.location = node.event.map(location);
    }
    for connection in &mut tree.connections {
        connection.location = Some(location(connection.event));
    }
}

/// Where an event is in its file, as that file numbers its records.
fn position(files: &[FileReport], origin: Origin) -> String {
    let numbering = files.get(origin.file).map(|f| f.ingest.numbering).unwrap_or_default();
    numbering.at(origin.line).to_string()
}

/// Risk per object from the findings as published for which `counted(index)` holds.
fn risk_totals(findings: &[Finding], counted: impl Fn(usize) -> bool) -> Vec<RiskTotal> {
    let mut totals: BTreeMap<(&'static str, String), (u64, Vec<usize>)> = BTreeMap::new();
    let findings = findings.iter().enumerate();
    for (index, finding) in findings.filter(|(index, f)| f.mode == Mode::AsPublished && counted(*index)) {
        for object in &finding.risk.risk_objects {
            let total = totals.entry((object.kind, object.value.clone())).or_default();
            total.0 += u64::from(object.score);
            total.1.push(index);
        }
    }
    let mut totals: Vec<RiskTotal> = totals
        .into_iter()
        .map(|((kind, object), (score, contributing))| RiskTotal {
            object,
            kind,
            score,
            findings: contributing.len(),
            contributing,
        })
        .collect();
    totals.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.object.cmp(&b.object)));
    totals
}

/// The table's entry for an output field: from the joined `All_Traffic` events when the
/// detection takes it from them, else from `Endpoint.Processes` when that has it.
fn cim_source(found: &Match, field: &str) -> Option<&'static CimField> {
    let processes = cim::find(DataModel::Processes, field);
    let traffic = cim::find(DataModel::AllTraffic, field);
    if found.joined_fields().contains(&field) {
        traffic.or(processes)
    } else {
        processes.or(traffic)
    }
}

fn explain(found: &Match) -> Explanation {
    let first_of = |event_id: u32| found.evidence.iter().find(|e| e.event_id == event_id);
    // The row's fields in its order, its time last; tstats' own (count, firstTime, …) have none.
    let (time, fields): (Vec<&String>, Vec<&String>) = found.row.keys().partition(|field| *field == "_time");
    let provenance = fields
        .into_iter()
        .chain(time)
        .filter_map(|field| {
            let source = cim_source(found, field)?;
            let raw_field = source.raw?;
            let event_id = source.model.event_id();
            let event = first_of(event_id)?;
            let raw = |name: &str| event.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            // A host name Sysmon left as "-" or empty: the CIM value came from the IP field.
            let (raw_field, raw_value) = match source.derivation {
                Derivation::HostElse(ip) if raw(raw_field).is_none_or(|v| v == "-" || v.is_empty()) => (ip, raw(ip)),
                _ => (raw_field, raw(raw_field)),
            };
            Some(Provenance {
                field: field.clone(),
                event: format!("EventID {event_id}"),
                raw_field,
                raw_value,
            })
        })
        .collect();
    Explanation {
        conditions: found.why.conditions.clone(),
        notes: found.why.notes.clone(),
        time_source: found.evidence.first().and_then(|e| e.time_source),
        provenance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tstats' own output fields, which no event holds.
    const AGGREGATES: [&str; 3] = ["count", "firstTime", "lastTime"];

    fn demo_report() -> Report {
        let sample = crate::demo::sample();
        crate::analyze([("demo.xml", sample.as_bytes())])
    }

    #[test]
    fn the_cim_table_covers_every_output_field_of_every_reading() {
        let report = demo_report();
        let readings: BTreeSet<_> = report.findings.iter().map(|f| (f.detection_id, f.mode as u8)).collect();
        assert_eq!(readings.len(), 2 * meta::ALL.len(), "the sample fires every reading");
        let in_table = |field: &str| {
            [DataModel::Processes, DataModel::AllTraffic]
                .into_iter()
                .any(|model| cim::find(model, field).is_some_and(|source| source.raw.is_some()))
        };
        for finding in &report.findings {
            for field in finding.row.keys().filter(|f| !AGGREGATES.contains(&f.as_str())) {
                assert!(in_table(field), "{}: {field}", finding.detection);
            }
            for entry in &finding.explanation.provenance {
                assert!(
                    finding.row.contains_key(&entry.field),
                    "{}: {}",
                    finding.detection,
                    entry.field
                );
            }
        }
        for detection in meta::ALL {
            let risk = &detection.risk;
            let tokens = risk.message.split('$').skip(1).step_by(2);
            let named = risk.objects.iter().map(|(field, _)| *field);
            for field in tokens.chain(named).chain(risk.threat_objects.iter().copied()) {
                assert!(in_table(field), "{}: {field}", detection.name);
            }
        }
    }

    #[test]
    fn provenance_names_the_raw_field_the_table_gives() {
        for finding in demo_report().findings {
            for entry in &finding.explanation.provenance {
                let model = if entry.event == "EventID 1" {
                    DataModel::Processes
                } else {
                    DataModel::AllTraffic
                };
                let Some(source) = cim::find(model, &entry.field) else {
                    panic!("{} has no {model:?} source", entry.field)
                };
                let fallback = match source.derivation {
                    Derivation::HostElse(ip) => Some(ip),
                    _ => None,
                };
                assert!(
                    source.raw == Some(entry.raw_field) || fallback == Some(entry.raw_field),
                    "{}: {} from {}",
                    finding.detection,
                    entry.field,
                    entry.raw_field
                );
            }
        }
    }
}
