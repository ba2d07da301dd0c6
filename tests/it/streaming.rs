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

#[test]
fn chunk_size_does_not_change_the_report_on_archives_and_binaries() {
    let Some(dir) = std::env::var_os("SYSMON_LENS_DATASETS")
        .map(std::path::PathBuf::from)
        .or_else(|| Some(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets")))
        .filter(|dir| dir.join("SOURCES.md").is_file())
    else {
        eprintln!("SKIPPED: no datasets beside the checkout");
        return;
    };
    let inputs = [
        "otrf_security_datasets/empire_enable_rdp.tar.gz",
        "otrf_security_datasets/psh_mavinject_dll_notepad.zip",
        "sbousseaden_evtx_attack_samples/DE_sysmon-3-rdp-tun.evtx",
    ]
    .map(|path| dir.join(path));
    let whole = serde_json::to_value(analyze_files(&inputs, usize::MAX)).expect("serializes");
    for chunk in [7, 4096, 64 << 10] {
        let pieces = serde_json::to_value(analyze_files(&inputs, chunk)).expect("serializes");
        assert!(pieces == whole, "{chunk}-byte chunks give a different report");
    }
}
