use crate::support::{analyze_files, case_inputs, case_names};

#[test]
fn chunk_size_does_not_change_the_report() {
    for case in case_names() {
        let inputs = case_inputs(&case);
        let whole = serde_json::to_value(analyze_files(&inputs, usize::MAX)).expect("serializes");
        for chunk in [1, 7, 64 << 10] {
            let pieces = serde_json::to_value(analyze_files(&inputs, chunk)).expect("serializes");
            assert!(
                pieces == whole,
                "case {case}: {chunk}-byte chunks give a different report"
            );
        }
    }
}
