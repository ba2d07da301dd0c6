//! The browser adapter: the only code that names wasm-bindgen or JS types.
//!
//! The page's worker creates one [`WasmAnalyzer`] per analysis, feeds it file slices and
//! finishes it into a [`WasmReport`], which stays here while the worker pulls it in parts
//! of bounded size: 100 k findings are over half a gigabyte of JSON, more than one JS
//! string can hold. Every part is JSON serialized as the CLI serializes the report, so the
//! document the parts make up is the CLI's byte for byte.

use crate::report::{Finding, Report};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

/// The wasm memory past which the analyzer stops reading and keeps what it has read:
/// wasm32 addresses at most 4 GiB, and finishing the report needs room of its own.
const DEFAULT_MEMORY_LIMIT_BYTES: u64 = 3 << 30;
const WASM_PAGE_BYTES: u64 = 64 << 10;

/// The lists of the report that can grow with the data, in the order the report holds them.
const LONG_LISTS: [&str; 3] = ["files", "findings", "risk_totals"];

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

fn js_error(err: impl std::fmt::Display) -> JsError {
    JsError::new(&err.to_string())
}

/// The wasm memory in use, in bytes.
fn memory_bytes() -> u64 {
    core::arch::wasm32::memory_size::<0>() as u64 * WASM_PAGE_BYTES
}

/// The constructor's options: the page's own, and the detections' (every other key).
#[derive(Deserialize)]
struct AnalyzerOptions {
    memory_limit_bytes: Option<u64>,
    #[serde(flatten)]
    detection: Map<String, Value>,
}

/// A streaming analysis of any number of files.
#[wasm_bindgen(js_name = Analyzer)]
pub struct WasmAnalyzer {
    inner: Option<crate::Analyzer>,
    memory_limit_bytes: u64,
    /// Newlines of the open file fed with `feedCounting`: where a later part's lines start.
    lines_fed: u64,
}

#[wasm_bindgen(js_class = Analyzer)]
impl WasmAnalyzer {
    /// `options` is JSON such as `{"discovery_programs": [{"file_name": …, "original_file_name": …}]}`,
    /// and may set `memory_limit_bytes` (default 3 GiB); empty for the defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<String>) -> Result<WasmAnalyzer, JsError> {
        let invalid = |err: serde_json::Error| JsError::new(&format!("invalid options: {err}"));
        let options = match options.filter(|text| !text.trim().is_empty()) {
            Some(text) => serde_json::from_str(&text).map_err(invalid)?,
            None => AnalyzerOptions {
                memory_limit_bytes: None,
                detection: Map::new(),
            },
        };
        let detection = if options.detection.is_empty() {
            crate::detect::Options::default()
        } else {
            serde_json::from_value(Value::Object(options.detection)).map_err(invalid)?
        };
        Ok(Self {
            inner: Some(crate::Analyzer::with_options(detection)),
            memory_limit_bytes: options.memory_limit_bytes.unwrap_or(DEFAULT_MEMORY_LIMIT_BYTES),
            lines_fed: 0,
        })
    }

    #[wasm_bindgen(js_name = beginFile)]
    pub fn begin_file(&mut self, name: &str) {
        if let Some(inner) = &mut self.inner {
            inner.begin_file(name);
        }
        self.lines_fed = 0;
    }

    /// As `feed`, counting the slice's lines: for the part of a file before a cut.
    #[wasm_bindgen(js_name = feedCounting)]
    pub fn feed_counting(&mut self, chunk: &[u8]) -> bool {
        let fed = self.feed(chunk);
        if fed {
            self.lines_fed += memchr::memchr_iter(b'\n', chunk).count() as u64;
        }
        fed
    }

    /// Whether the rest of the open file, from a line starting a record, can be read by a
    /// [`WasmPartReader`] (a UTF-8 XML or JSON Lines log, known from what was fed).
    pub fn splittable(&mut self) -> bool {
        self.text().is_some_and(|text| text.continuing().is_some())
    }

    /// Whether what was fed ends between records, so a part read from here can be absorbed.
    #[wasm_bindgen(js_name = isIdle)]
    pub fn is_idle(&mut self) -> bool {
        self.text()
            .is_some_and(|text| text.is_idle() && text.continuing().is_some())
    }

    /// Takes back the rest of the open file, read by a [`WasmPartReader`] from where
    /// `feedCounting` stopped while [`is_idle`](Self::is_idle). False, with nothing taken,
    /// once the wasm memory has passed the limit (as `feed`); an error if it is not a
    /// residue of this file.
    pub fn absorb(&mut self, residue: &[u8]) -> Result<bool, JsError> {
        if memory_bytes() > self.memory_limit_bytes {
            return Ok(false);
        }
        let lines_before = self.lines_fed;
        let Some(inner) = &mut self.inner else {
            return Ok(false);
        };
        let Some(mut file) = inner.current.take() else {
            return Err(JsError::new("no file is open"));
        };
        let (first, coverage) = (file.first_member, &mut file.coverage);
        let absorbed = match file.input.plain_text() {
            Some(text) => text.absorb_residue(residue, lines_before, &mut |event, line| {
                inner.observe(coverage, first, 0, line, event)
            }),
            None => Err("this file is not read as plain text".to_string()),
        };
        inner.current = Some(file);
        absorbed.map(|_| true).map_err(js_error)
    }

    /// Feeds the next slice of the open file. False once the wasm memory has passed the
    /// limit: the slice was not read, nor will any other be; finish to keep what was read.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        let Some(inner) = &mut self.inner else {
            return false;
        };
        if memory_bytes() > self.memory_limit_bytes {
            return false;
        }
        inner.feed(chunk);
        true
    }

    #[wasm_bindgen(js_name = endFile)]
    pub fn end_file(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.end_file();
        }
    }

    fn text(&mut self) -> Option<&mut crate::ingest::text::TextIngest> {
        self.inner.as_mut()?.current.as_mut()?.input.plain_text()
    }

    /// Records read so far (events only counted by the prefilter included).
    #[wasm_bindgen(js_name = eventsRead)]
    pub fn events_read(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |inner| inner.events_read() as f64)
    }

    /// The wasm memory past which `feed` stops reading, in bytes.
    #[wasm_bindgen(getter, js_name = memoryLimitBytes)]
    pub fn memory_limit_bytes(&self) -> f64 {
        self.memory_limit_bytes as f64
    }

    /// Ends the analysis; the report stays in wasm memory, to be read in parts.
    pub fn finish(&mut self) -> Result<WasmReport, JsError> {
        let inner = self
            .inner
            .take()
            .ok_or_else(|| JsError::new("analysis already finished"))?;
        let (report, browse) = inner.finish_browsable();
        Ok(WasmReport { report, browse })
    }
}

/// Reads a later part of a file in another worker, keeping for the first worker's
/// analyzer only what it must parse ([`crate::ingest::residue`]).
#[wasm_bindgen(js_name = PartReader)]
pub struct WasmPartReader {
    reader: Option<crate::ingest::text::TextIngest>,
}

#[wasm_bindgen(js_class = PartReader)]
impl WasmPartReader {
    /// `head` is the start of the file, as fed to the first worker's analyzer before it
    /// was found [`splittable`](WasmAnalyzer::splittable): it tells the format.
    #[wasm_bindgen(constructor)]
    pub fn new(head: &[u8]) -> Result<WasmPartReader, JsError> {
        let mut sniffer = crate::ingest::text::TextIngest::new(true);
        sniffer.feed(head, &mut |_, _| {});
        let reader = sniffer
            .continuing()
            .ok_or_else(|| JsError::new("not a UTF-8 XML or JSON Lines log"))?;
        Ok(Self {
            reader: Some(reader.collecting()),
        })
    }

    /// Reads the next slice of the part.
    pub fn feed(&mut self, chunk: &[u8]) {
        if let Some(reader) = &mut self.reader {
            reader.feed(chunk, &mut |_, _| {});
        }
    }

    /// Ends the part, which ends the file: its residue, for `Analyzer.absorb`.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsError> {
        let reader = self
            .reader
            .take()
            .ok_or_else(|| JsError::new("part already finished"))?;
        Ok(reader.into_residue(true))
    }
}

/// A finding as the page lists, filters, suppresses and totals it: the finding's own JSON
/// without its process tree, events and reasons, which are fetched when it is opened;
/// of its events only the names of their files, which the page's filter searches.
#[derive(Serialize)]
struct FindingBrief<'a> {
    detection_id: &'a str,
    detection: &'a str,
    mode: crate::detect::Mode,
    row: &'a Map<String, Value>,
    risk: &'a crate::annotate::Risk,
    annotations: &'a crate::annotate::Annotations,
    explanation: ExplanationBrief<'a>,
    event_files: Vec<&'a str>,
}

#[derive(Serialize)]
struct ExplanationBrief<'a> {
    notes: &'a [String],
}

impl<'a> From<&'a Finding> for FindingBrief<'a> {
    fn from(finding: &'a Finding) -> Self {
        Self {
            detection_id: finding.detection_id,
            detection: finding.detection,
            mode: finding.mode,
            row: &finding.row,
            risk: &finding.risk,
            annotations: &finding.annotations,
            explanation: ExplanationBrief {
                notes: &finding.explanation.notes,
            },
            event_files: event_files(finding),
        }
    }
}

/// The files of a finding's events, each once, in the order first seen.
fn event_files(finding: &Finding) -> Vec<&str> {
    let mut files: Vec<&str> = Vec::new();
    for event in &finding.events {
        if !files.contains(&event.file.as_str()) {
            files.push(&event.file);
        }
    }
    files
}

/// A finished analysis's report, held in wasm memory and read in parts.
#[wasm_bindgen(js_name = Report)]
pub struct WasmReport {
    report: Report,
    /// The process creations and connections, listed beyond the findings.
    browse: crate::browse::Browse,
}

#[wasm_bindgen(js_class = Report)]
impl WasmReport {
    /// The report as JSON with its long lists (files, findings, risk totals) empty.
    pub fn head(&mut self) -> Result<String, JsError> {
        let lists = (
            std::mem::take(&mut self.report.files),
            std::mem::take(&mut self.report.findings),
            std::mem::take(&mut self.report.risk_totals),
        );
        let head = serde_json::to_string(&self.report).map_err(js_error);
        (self.report.files, self.report.findings, self.report.risk_totals) = lists;
        head
    }

    /// The CLI's document around its long lists: `[text, list, text, list, …, text]`, where
    /// each `list` names the list (`files`, `findings`, `risk_totals`) whose items, separated
    /// by commas, go between the texts beside it.
    #[wasm_bindgen(js_name = documentFrame)]
    pub fn document_frame(&mut self) -> Result<Vec<String>, JsError> {
        let mut rest = self.head()?;
        let mut frame = Vec::new();
        for list in LONG_LISTS {
            let marker = format!("\"{list}\":[]");
            // An object key cannot occur inside a JSON string, whose quotes are escaped.
            let at = rest
                .find(&marker)
                .ok_or_else(|| JsError::new(&format!("no {list} in the report")))?;
            let tail = rest.split_off(at + marker.len() - 1);
            frame.extend([rest, list.to_string()]);
            rest = tail;
        }
        frame.push(rest);
        Ok(frame)
    }

    #[wasm_bindgen(getter, js_name = findingCount)]
    pub fn finding_count(&self) -> usize {
        self.report.findings.len()
    }

    /// Items of `list` from `start` as a JSON array of about `max_bytes` (one item at
    /// least, while any are left), and the index after the last: `[json, end]`.
    /// `list` is one of `files`, `findings`, `finding_briefs` and `risk_totals`.
    pub fn items(&self, list: &str, start: usize, max_bytes: usize) -> Result<Vec<JsValue>, JsError> {
        let report = &self.report;
        let (json, end) = match list {
            "files" => json_array(&report.files, start, max_bytes, |file| file),
            "findings" => json_array(&report.findings, start, max_bytes, |finding| finding),
            "finding_briefs" => json_array(&report.findings, start, max_bytes, FindingBrief::from),
            "risk_totals" => json_array(&report.risk_totals, start, max_bytes, |total| total),
            other => return Err(JsError::new(&format!("no list {other} in the report"))),
        }?;
        Ok(vec![JsValue::from(json), JsValue::from(end as f64)])
    }

    /// What suppression rules (JSON, as the page keeps them) do to this report, as JSON:
    /// `{by: [rule index or null per finding], risk_totals}` (see `Report::suppression_of`).
    pub fn suppression(&self, rules: &str) -> Result<String, JsError> {
        let rules = crate::report::suppress::parse_rules(rules).map_err(js_error)?;
        serde_json::to_string(&self.report.suppression_of(&rules)).map_err(js_error)
    }

    /// The findings at `indexes`, as a JSON array in that order; indexes past the end are left out.
    #[wasm_bindgen(js_name = findingsAt)]
    pub fn findings_at(&self, indexes: &[u32]) -> Result<String, JsError> {
        let findings: Vec<&Finding> = self.chosen(indexes).collect();
        serde_json::to_string(&findings).map_err(js_error)
    }

    /// The findings CSV (the CLI's) of the findings at `indexes`.
    #[wasm_bindgen(js_name = findingsCsv)]
    pub fn findings_csv(&self, indexes: &[u32]) -> Result<String, JsError> {
        let findings = self
            .chosen(indexes)
            .map(|finding| serde_json::to_value(FindingBrief::from(finding)))
            .collect::<Result<Vec<Value>, _>>()
            .map_err(js_error)?;
        Ok(crate::report::csv::findings_csv(&findings))
    }

    /// Rows `start..start + count` (at most 200) of the process creations or connections
    /// `query` (JSON: `{"list", "filter", "sort", "descending"}`) keeps, as a JSON page.
    #[wasm_bindgen(js_name = browsePage)]
    pub fn browse_page(&self, query: &str, start: usize, count: usize) -> Result<String, JsError> {
        let query: crate::browse::Query = serde_json::from_str(query).map_err(js_error)?;
        serde_json::to_string(&self.browse.page(&query, start, count)).map_err(js_error)
    }

    /// The process tree (as findings carry it) of row `row` of `list` (`processes` or
    /// `connections`), as JSON; `null` past the end of the list.
    #[wasm_bindgen(js_name = browseTree)]
    pub fn browse_tree(&self, list: &str, row: usize) -> Result<String, JsError> {
        let list: crate::browse::List = serde_json::from_value(Value::from(list)).map_err(js_error)?;
        serde_json::to_string(&self.browse.tree(list, row, &self.report.files)).map_err(js_error)
    }

    /// The whole report as the CLI prints it, in one string: for small reports (tests).
    #[wasm_bindgen(js_name = toString)]
    pub fn to_json(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.report).map_err(js_error)
    }
}

impl WasmReport {
    fn chosen<'a>(&'a self, indexes: &'a [u32]) -> impl Iterator<Item = &'a Finding> + 'a {
        indexes
            .iter()
            .filter_map(|&index| self.report.findings.get(index as usize))
    }
}

/// `items[start..]` as a JSON array, as long as it stays under `max_bytes` (one item at
/// least), and the index after its last item.
fn json_array<'a, T, S: Serialize>(
    items: &'a [T],
    start: usize,
    max_bytes: usize,
    view: impl Fn(&'a T) -> S,
) -> Result<(String, usize), JsError> {
    let mut json = vec![b'['];
    let mut end = start;
    for item in items.iter().skip(start) {
        if end > start {
            if json.len() >= max_bytes {
                break;
            }
            json.push(b',');
        }
        serde_json::to_writer(&mut json, &view(item)).map_err(js_error)?;
        end += 1;
    }
    json.push(b']');
    Ok((String::from_utf8(json).map_err(js_error)?, end))
}

/// The built-in demonstration sample (Sysmon XML).
#[wasm_bindgen(js_name = demoSample)]
pub fn demo_sample() -> String {
    crate::demo::sample()
}

/// Each detection the core runs, `[{id, name, output_fields}]`, as JSON: the page's rule
/// form and its checks take them from here.
#[wasm_bindgen(js_name = detectionList)]
pub fn detection_list() -> Result<String, JsError> {
    #[derive(Serialize)]
    struct Detection {
        id: &'static str,
        name: &'static str,
        output_fields: &'static [&'static str],
    }
    let list: Vec<Detection> = crate::detect::meta::ALL
        .iter()
        .map(|meta| Detection {
            id: meta.id,
            name: meta.name,
            output_fields: meta.output_fields,
        })
        .collect();
    serde_json::to_string(&list).map_err(js_error)
}

/// The default extended discovery list of the hardened reading, as JSON.
#[wasm_bindgen(js_name = defaultOptions)]
pub fn default_options() -> Result<String, JsError> {
    serde_json::to_string(&crate::detect::Options::default()).map_err(js_error)
}
