use crate::support::case_inputs;
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
