//! `UPDATE_EXPECTED=1 cargo test --test integration cases` rewrites expected.json files;
//! review the diff before committing it.

use crate::support::{analyze_case, case_names, cases_dir, projection};
use pretty_assertions::assert_eq;

#[test]
fn every_case_matches_its_expected_report() {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let names = case_names();
    assert!(
        names.len() >= 20,
        "expected the case directories, found {}",
        names.len()
    );
    for case in names {
        let actual = projection(&analyze_case(&case));
        let path = cases_dir().join(&case).join("expected.json");
        if update {
            let text = serde_json::to_string_pretty(&actual).expect("serializes") + "\n";
            std::fs::write(&path, text).expect("expected.json writable");
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{case}: no expected.json"));
        let expected: serde_json::Value = serde_json::from_str(&text).expect("expected.json is JSON");
        assert_eq!(actual, expected, "case {case}");
    }
}

/// A suppression rule may name only a detection's output fields: every row of every case
/// holds no other.
#[test]
fn every_finding_row_holds_only_its_detections_output_fields() {
    let mut rows = 0;
    for case in case_names() {
        let report = analyze_case(&case);
        for finding in &report.findings {
            let info = report
                .detections
                .iter()
                .find(|d| d.id == finding.detection_id)
                .expect("the finding's detection is listed");
            for field in finding.row.keys() {
                assert!(
                    info.output_fields.contains(&field.as_str()),
                    "{case}: {field} of {}",
                    info.name
                );
            }
            rows += 1;
        }
    }
    assert!(rows >= 50, "{rows} rows");
}
