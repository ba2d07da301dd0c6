use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use sysmon_lens::{Analyzer, Report};

pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// Every case directory, in name order.
pub fn case_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cases_dir())
        .expect("tests/cases exists")
        .map(|entry| entry.expect("readable entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A case's input files (everything but expected.json), in name order.
pub fn case_inputs(case: &str) -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(cases_dir().join(case))
        .expect("case directory exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.file_name().is_some_and(|name| name != "expected.json"))
        .collect();
    inputs.sort();
    inputs
}

/// Analyzes files, feeding each in chunks of `chunk` bytes; files are named by basename.
pub fn analyze_files(paths: &[PathBuf], chunk: usize) -> Report {
    analyze_files_with(paths, chunk, Analyzer::new())
}

/// The same, every event parsed in full (no prefilter).
pub fn analyze_files_parsing_everything(paths: &[PathBuf], chunk: usize) -> Report {
    analyze_files_with(paths, chunk, Analyzer::new().without_prefilter())
}

fn analyze_files_with(paths: &[PathBuf], chunk: usize, mut analyzer: Analyzer) -> Report {
    for path in paths {
        let bytes = std::fs::read(path).expect("input readable");
        analyzer.begin_file(&path.file_name().expect("file name").to_string_lossy());
        for piece in bytes.chunks(chunk.max(1)) {
            analyzer.feed(piece);
        }
        analyzer.end_file();
    }
    analyzer.finish()
}

pub fn analyze_case(case: &str) -> Report {
    analyze_files(&case_inputs(case), 64 << 10)
}

/// The part of a report a case pins down: per-file ingest results and each finding's row.
pub fn projection(report: &Report) -> Value {
    let report = serde_json::to_value(report).expect("report serializes");
    let files: Vec<Value> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|file| {
            let mut projected = json!({
                "name": file["name"], "format": file["format"], "container": file["container"],
                "encoding": file["encoding"], "sysmon_events": file["sysmon_events"],
                "flow_records": file["flow_records"], "other_events": file["other_events"],
                "skipped_count": file["skipped_count"], "skipped": file["skipped"], "error": file["error"],
                "time_sources": file["time_sources"], "time_skew_events": file["time_skew_events"],
                "missing_fields": file["missing_fields"],
            });
            if let Some(repaired) = file.get("repaired") {
                projected["repaired"] = repaired.clone();
            }
            projected
        })
        .collect();
    let findings: Vec<Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            let events: Vec<Value> = finding["events"]
                .as_array()
                .expect("events")
                .iter()
                .map(|event| json!({"file": event["file"], "position": event["position"]}))
                .collect();
            json!({
                "detection": finding["detection"], "mode": finding["mode"], "row": finding["row"],
                "risk_message": finding["risk"]["message"], "notes": finding["explanation"]["notes"], "events": events,
            })
        })
        .collect();
    json!({ "files": files, "findings": findings })
}
