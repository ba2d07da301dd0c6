//! Real Sysmon logs from public sources, in ../shared/datasets beside the checkout.
//! A clone without them skips these tests with a message; CI sets
//! SYSMON_LENS_REQUIRE_DATASETS=1 so that their absence fails instead.

use crate::support::analyze_files;
use std::collections::BTreeMap;
use std::path::PathBuf;
use sysmon_lens::detect::Mode;
use sysmon_lens::ingest::Position;

pub(crate) fn datasets_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SYSMON_LENS_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"));
    if dir.join("SOURCES.md").is_file() {
        return Some(dir);
    }
    if std::env::var_os("SYSMON_LENS_REQUIRE_DATASETS").is_some() {
        panic!(
            "datasets not found at {} (SYSMON_LENS_REQUIRE_DATASETS is set)",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: datasets not found at {}; set SYSMON_LENS_DATASETS to run these tests",
        dir.display()
    );
    None
}

/// A file's expected figures, from SOURCES.md.
struct Expected {
    path: &'static str,
    /// For an archive, the member the figures are about, as the report names it.
    member: Option<&'static str>,
    container: Option<&'static str>,
    format: &'static str,
    encoding: &'static str,
    /// Sysmon EventIDs with the counts SOURCES.md gives (`None`: listed without a count).
    sysmon: &'static [(u32, Option<u64>)],
    /// Events of every provider, where SOURCES.md gives the total.
    total_events: Option<u64>,
    other_events: Option<u64>,
}

const SIGMA: &str = "sigmahq_regression_data/";
const EXPECTED: &[Expected] = &[
    Expected {
        member: None,
        container: None,
        path: "splunk_attack_data/certutil_exe_certificate_extraction.raw",
        format: "xml-lines",
        encoding: "utf-8",
        sysmon: &[(1, Some(20))],
        total_events: Some(40),
        other_events: Some(20),
    },
    Expected {
        member: None,
        container: None,
        path: "otrf_security_datasets/cmd_bitsadmin_download_psh_script_2020-10-2302365189.json",
        format: "otrf",
        encoding: "utf-8",
        sysmon: &[
            (1, Some(2)),
            (3, Some(8)),
            (5, None),
            (7, None),
            (9, None),
            (10, None),
            (11, None),
            (12, None),
            (13, None),
            (18, None),
            (22, None),
            (23, None),
        ],
        total_events: Some(424),
        other_events: None,
    },
    Expected {
        member: None,
        container: None,
        path: "otrf_security_datasets/psh_mavinject_dll_notepad_2020-10-2121410529.json",
        format: "otrf",
        encoding: "utf-8",
        sysmon: &[
            (1, Some(2)),
            (3, Some(2)),
            (7, None),
            (8, None),
            (9, None),
            (10, None),
            (11, None),
            (12, None),
            (13, None),
            (22, None),
            (24, None),
        ],
        total_events: Some(509),
        other_events: None,
    },
    Expected {
        member: None,
        container: None,
        path: "sbousseaden_evtx_attack_samples/Exec_sysmon_meterpreter_reversetcp_msipackage.evtx_dump.derived.xml",
        format: "xml-rootless",
        encoding: "utf-8",
        sysmon: &[(1, Some(4)), (2, Some(2)), (7, None), (13, None)],
        total_events: Some(8),
        other_events: Some(0),
    },
    Expected {
        member: None,
        container: None,
        path: "jymcheong_sysmonresources/schtasksPersistence.utf16le.xml",
        format: "xml-lines",
        encoding: "utf-16le",
        sysmon: &[
            (1, Some(4)),
            (3, Some(5)),
            (5, Some(2)),
            (9, Some(2)),
            (10, Some(2)),
            (11, Some(1)),
            (17, Some(2)),
            (18, Some(6)),
        ],
        total_events: Some(24),
        other_events: Some(0),
    },
    Expected {
        member: None,
        container: None,
        path: "wagga40_zircolite/xml_events_sample.xml",
        format: "xml-rootless",
        encoding: "utf-8",
        sysmon: &[],
        total_events: None,
        other_events: Some(2),
    },
    Expected {
        path: "otrf_security_datasets/cmd_bitsadmin_download_psh_script.zip",
        member: Some("cmd_bitsadmin_download_psh_script.zip/cmd_bitsadmin_download_psh_script_2020-10-2302365189.json"),
        container: Some("zip"),
        format: "otrf",
        encoding: "utf-8",
        sysmon: &[
            (1, Some(2)),
            (3, Some(8)),
            (5, None),
            (7, None),
            (9, None),
            (10, None),
            (11, None),
            (12, None),
            (13, None),
            (18, None),
            (22, None),
            (23, None),
        ],
        total_events: Some(424),
        other_events: None,
    },
    Expected {
        path: "otrf_security_datasets/psh_mavinject_dll_notepad.zip",
        member: Some("psh_mavinject_dll_notepad.zip/psh_mavinject_dll_notepad_2020-10-2121410529.json"),
        container: Some("zip"),
        format: "otrf",
        encoding: "utf-8",
        sysmon: &[
            (1, Some(2)),
            (3, Some(2)),
            (7, None),
            (8, None),
            (9, None),
            (10, None),
            (11, None),
            (12, None),
            (13, None),
            (22, None),
            (24, None),
        ],
        total_events: Some(509),
        other_events: None,
    },
    Expected {
        path: "otrf_security_datasets/empire_enable_rdp.tar.gz",
        member: Some("empire_enable_rdp.tar.gz/empire_enable_rdp_2019-05-18203650.json"),
        container: Some("gzip/tar"),
        format: "winlogbeat",
        encoding: "utf-8",
        sysmon: &[
            (1, Some(11)),
            (3, Some(89)),
            (5, None),
            (7, None),
            (9, None),
            (10, None),
            (11, None),
            (12, None),
            (13, None),
            (17, None),
            (18, None),
        ],
        total_events: Some(2668),
        other_events: None,
    },
    Expected {
        path: "splunk_attack_data/T1027_atomic_red_team_attack_data.tar.gz",
        member: Some("T1027_atomic_red_team_attack_data.tar.gz/attack_data.txt"),
        container: Some("gzip/tar"),
        format: "nxlog",
        encoding: "utf-8",
        sysmon: &[
            (1, Some(324)),
            (3, Some(21)),
            (5, None),
            (6, None),
            (10, Some(6602)),
            (11, None),
            (12, None),
            (13, None),
            (22, None),
        ],
        total_events: Some(7959),
        other_events: None,
    },
    Expected {
        path: "endgameinc_eqllib/sysmon-atomic-red-team.json.gz",
        member: Some("sysmon-atomic-red-team.json.gz"),
        container: Some("gzip"),
        format: "eventdata-json",
        encoding: "utf-8",
        sysmon: &[
            (1, Some(435)),
            (3, Some(23)),
            (5, None),
            (7, None),
            (8, None),
            (9, None),
            (10, None),
            (11, None),
            (12, None),
            (13, None),
            (17, None),
            (18, None),
            (19, None),
            (20, None),
            (21, None),
        ],
        total_events: Some(19882),
        other_events: Some(0),
    },
    Expected {
        path: "elastic_beats/collection__sysmon-12-processcreate.evtx.golden.json",
        member: None,
        container: None,
        format: "winlogbeat",
        encoding: "utf-8",
        sysmon: &[(1, Some(1))],
        total_events: Some(1),
        other_events: Some(0),
    },
    Expected {
        path: "elastic_beats/ingest__sysmon-12-processcreate.golden.json",
        member: None,
        container: None,
        format: "ecs",
        encoding: "utf-8",
        sysmon: &[(1, Some(1))],
        total_events: Some(1),
        other_events: Some(0),
    },
    Expected {
        path: "elastic_beats/ingest__sysmon-9.01.golden.excerpt.derived.json",
        member: None,
        container: None,
        format: "ecs",
        encoding: "utf-8",
        sysmon: &[(1, Some(1)), (3, Some(2))],
        total_events: Some(3),
        other_events: Some(0),
    },
    Expected {
        path: "wagga40_zircolite/winlogbeat_sysmon_sample.json",
        member: None,
        container: None,
        format: "ecs",
        encoding: "utf-8",
        sysmon: &[(11, Some(1)), (13, Some(1))],
        total_events: Some(2),
        other_events: Some(0),
    },
];

const SIGMA_JSON: [&str; 6] = [
    "proc_creation_win_credential_guard_registry_tampering__c17d47b7-dcd6-4109-87eb-d1817bd4cbc9.json",
    "proc_creation_win_findstr_recon_pipe_output__ccb5742c-c248-4982-8c5c-5571b9275ad3.json",
    "proc_creation_win_msiexec_embedding__4a2a2c3e-209f-4d01-b513-4155a540b469.json",
    "proc_creation_win_msiexec_execute_dll__6f4191bb-912b-48a8-9ce7-682769541e6d.json",
    "proc_creation_win_msiexec_install_quiet__79a87aa6-e4bd-42fc-a5bb-5e6fbdcd62f5.json",
    "proc_creation_win_powershell_base64_invoke__6385697e-9f1b-40bd-8817-f4a91f40508e.json",
];

/// Every dataset file whose format this build reads.
fn readable_files(dir: &std::path::Path) -> Vec<PathBuf> {
    EXPECTED
        .iter()
        .map(|e| e.path.to_string())
        .chain(SIGMA_JSON.iter().map(|name| format!("{SIGMA}{name}")))
        .map(|path| dir.join(path))
        .collect()
}

#[test]
fn per_event_id_counts_match_sources_md() {
    let Some(dir) = datasets_dir() else { return };
    for expected in EXPECTED {
        let report = analyze_files(&[dir.join(expected.path)], 1 << 16);
        let path = expected.path;
        let wanted = expected
            .member
            .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
        let member = report.files.iter().find(|f| f.name == wanted);
        let file = &member.unwrap_or_else(|| panic!("{path}: no member {wanted}")).ingest;
        assert_eq!(file.container.as_deref(), expected.container, "{path}");
        assert_eq!((file.format, file.error.as_deref()), (expected.format, None), "{path}");
        assert_eq!(
            serde_json::to_value(file.encoding).expect("json"),
            expected.encoding,
            "{path}"
        );
        let ids: Vec<u32> = file.sysmon_events.keys().copied().collect();
        let expected_ids: Vec<u32> = expected.sysmon.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, expected_ids, "{path}: Sysmon EventIDs");
        for (id, count) in expected.sysmon {
            if let Some(count) = count {
                assert_eq!(file.sysmon_events[id], *count, "{path}: EventID {id}");
            }
        }
        let sysmon_total: u64 = file.sysmon_events.values().sum();
        if let Some(total) = expected.total_events {
            assert_eq!(
                sysmon_total + file.other_events,
                total,
                "{path}: events of all providers"
            );
        }
        if let Some(other) = expected.other_events {
            assert_eq!(file.other_events, other, "{path}: other providers");
        }
    }
    for name in SIGMA_JSON {
        let report = analyze_files(&[dir.join(SIGMA).join(name)], 1 << 16);
        let file = &report.files[0].ingest;
        assert_eq!(file.format, "evtx-dump-json", "{name}");
        assert_eq!(file.sysmon_events, BTreeMap::from([(1, 1)]), "{name}");
    }
}

#[test]
fn the_only_finding_is_the_sigma_msiexec_embedding_event() {
    let Some(dir) = datasets_dir() else { return };
    let report = analyze_files(&readable_files(&dir), 1 << 20);
    assert!(report.files.iter().all(|f| f.ingest.error.is_none()));
    let modes: Vec<Mode> = report.findings.iter().map(|f| f.mode).collect();
    assert_eq!(
        modes,
        [Mode::AsPublished, Mode::Hardened],
        "{:#?}",
        report.findings.iter().map(|f| &f.row).collect::<Vec<_>>()
    );
    assert_eq!(
        report.findings[0].row, report.findings[1].row,
        "the hardened reading agrees on the one real positive"
    );
    let finding = &report.findings[0];
    assert_eq!(finding.detection, "Windows MSIExec Spawn Discovery Command");
    let row = &finding.row;
    assert_eq!(row["process_name"], "powershell.exe");
    assert_eq!(row["process_id"], "11056");
    assert_eq!(row["parent_process_name"], "msiexec.exe");
    assert_eq!(row["parent_process_id"], "11232");
    assert_eq!(row["dest"], "SigmaCatchVm");
    assert_eq!(row["user"], "SigmaCatchVm\\frack113");
    assert_eq!(row["original_file_name"], "PowerShell.EXE");
    assert_eq!(row["count"], 1);
    assert_eq!(row["firstTime"], "2026-08-11T08:30:09");
    assert_eq!(
        finding.risk.message,
        "An instance of msiexec.exe spawning powershell.exe was identified on endpoint SigmaCatchVm by user SigmaCatchVm\\frack113 running different discovery commands."
    );
    assert_eq!(finding.events.len(), 1);
    assert!(finding.events[0].file.contains("msiexec_embedding"));
}

#[test]
fn every_dataset_file_at_once_gives_the_one_finding_and_reads_every_file() {
    let Some(dir) = datasets_dir() else { return };
    let all = every_dataset_file(&dir);
    let report = analyze_files(&all, 1 << 20);
    for file in &report.files {
        assert_eq!(file.ingest.error, None, "{}", file.name);
        assert_ne!(file.ingest.format, "unknown", "{}", file.name);
        // Only the classic key=value blocks between XML events, and one byte after a gzip stream.
        let expects_skips = file.name.ends_with("certutil_exe_certificate_extraction.raw")
            || file.name.ends_with("empire_enable_rdp_2019-05-18203650.json");
        assert_eq!(file.ingest.skipped_count > 0, expects_skips, "{}", file.name);
    }
    // The positive is in the SigmaHQ JSON and in its EVTX: one row per reading, counted twice.
    assert_eq!(
        report.findings.len(),
        2,
        "{:#?}",
        report.findings.iter().map(|f| &f.row).collect::<Vec<_>>()
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.row["process_id"] == "11056" && f.row["count"] == 2)
    );
    assert!(
        !report.summary.hosts.contains("WECserver"),
        "the Winlogbeat collector is not an endpoint"
    );
    assert!(report.summary.hosts.contains("HFDC01.shire.com"));
}

#[test]
fn evtx_files_are_read_chunk_by_chunk_despite_stale_headers() {
    let Some(dir) = datasets_dir() else { return };
    let counts = |path: &str| {
        let report = analyze_files(&[dir.join(path)], 1 << 16);
        let file = &report.files[0].ingest;
        assert_eq!(
            (file.format, file.error.as_deref(), file.skipped_count),
            ("evtx", None, 0),
            "{path}"
        );
        file.sysmon_events.clone()
    };
    // SOURCES.md: the header says 1 chunk; 26 hold records 1-1402, 7 are zeroed.
    assert_eq!(
        counts("dfirartifactmuseum/APTSimulatorVM_Win10_Microsoft-Windows-Sysmon-Operational.evtx"),
        BTreeMap::from([(1, 681), (4, 1), (5, 719), (16, 1)])
    );
    assert_eq!(
        counts("sbousseaden_evtx_attack_samples/DE_sysmon-3-rdp-tun.evtx"),
        BTreeMap::from([(1, 13), (3, 42), (5, 12), (6, 6)])
    );
    assert_eq!(
        counts("sbousseaden_evtx_attack_samples/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx"),
        BTreeMap::from([(1, 4), (3, 3), (11, 1)])
    );
    for name in SIGMA_JSON {
        assert_eq!(
            counts(&format!("{SIGMA}{}", name.replace(".json", ".evtx"))),
            BTreeMap::from([(1, 1)]),
            "{name}"
        );
    }
}

#[test]
fn evtx_gives_what_the_same_events_exported_as_xml_give() {
    let Some(dir) = datasets_dir() else { return };
    let evtx = analyze_files(
        &[dir.join("sbousseaden_evtx_attack_samples/Exec_sysmon_meterpreter_reversetcp_msipackage.evtx")],
        1 << 16,
    );
    let xml = analyze_files(
        &[dir.join(
            "sbousseaden_evtx_attack_samples/Exec_sysmon_meterpreter_reversetcp_msipackage.evtx_dump.derived.xml",
        )],
        1 << 16,
    );
    assert_eq!(evtx.files[0].ingest.sysmon_events, xml.files[0].ingest.sysmon_events);
    assert_eq!(evtx.summary.hosts, xml.summary.hosts);
    assert_eq!(
        (evtx.summary.first_time.clone(), evtx.summary.last_time.clone()),
        (xml.summary.first_time, xml.summary.last_time)
    );
    let name = "proc_creation_win_msiexec_embedding__4a2a2c3e-209f-4d01-b513-4155a540b469";
    let from_evtx = analyze_files(&[dir.join(format!("{SIGMA}{name}.evtx"))], 4096);
    let from_json = analyze_files(&[dir.join(format!("{SIGMA}{name}.json"))], 4096);
    let rows = |report: &sysmon_lens::Report| {
        report
            .findings
            .iter()
            .map(|f| (f.mode, f.row.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&from_evtx), rows(&from_json));
}

#[test]
fn a_corrupt_evtx_chunk_is_reported_and_the_rest_read() {
    let Some(dir) = datasets_dir() else { return };
    let mut bytes =
        std::fs::read(dir.join("dfirartifactmuseum/APTSimulatorVM_Win10_Microsoft-Windows-Sysmon-Operational.evtx"))
            .expect("evtx");
    let second_chunk = 4096 + 65536;
    bytes[second_chunk..second_chunk + 8].copy_from_slice(b"garbage!");
    let path = std::env::temp_dir().join(format!("sysmon-lens-corrupt-{}.evtx", std::process::id()));
    std::fs::write(&path, &bytes).expect("write");
    let report = analyze_files(std::slice::from_ref(&path), 1 << 16);
    std::fs::remove_file(&path).expect("cleanup");
    let file = &report.files[0].ingest;
    assert_eq!(file.skipped[0].position, Position::Chunk(1));
    assert!(
        file.skipped[0].reason.contains("no ElfChnk signature"),
        "{}",
        file.skipped[0].reason
    );
    let read: u64 = file.sysmon_events.values().sum();
    assert!(read > 1300 && read < 1402, "the other chunks are read: {read} of 1402");
}

#[test]
fn nxlog_process_ids_are_sysmons_not_nxlogs() {
    let Some(dir) = datasets_dir() else { return };
    let bytes =
        std::fs::read(dir.join("splunk_attack_data/T1027_atomic_red_team_attack_data.tar.gz")).expect("dataset");
    let mut input = sysmon_lens::ingest::Input::new("t1027.tar.gz");
    let (mut checked, mut differs) = (0, 0);
    let mut check = |event: sysmon_lens::ingest::RawEvent, _: usize, _: u64| {
        if event.event_id != Some(1) {
            return;
        }
        let from_message = event
            .get("Message")
            .and_then(|m| m.lines().find_map(|l| l.strip_prefix("ProcessId: ")))
            .map(|v| v.trim().to_string());
        assert_eq!(event.get("ProcessId").map(str::to_string), from_message);
        differs += usize::from(event.get("ProcessId") != event.get("ProcessID"));
        checked += 1;
    };
    input.feed(&bytes, &mut check);
    input.finish(&mut check);
    assert_eq!(checked, 324);
    assert!(
        differs > 300,
        "NXLog's own ProcessID differs from Sysmon's in {differs} of 324 events"
    );
}

#[test]
fn prefilter_on_and_off_give_identical_reports_on_every_dataset() {
    let Some(dir) = datasets_dir() else { return };
    let all = every_dataset_file(&dir);
    let counted = serde_json::to_value(analyze_files(&all, 1 << 16)).expect("serializes");
    let parsed =
        serde_json::to_value(crate::support::analyze_files_parsing_everything(&all, 1 << 16)).expect("serializes");
    assert!(all.len() > 20);
    for (a, b) in counted["files"]
        .as_array()
        .expect("files")
        .iter()
        .zip(parsed["files"].as_array().expect("files"))
    {
        pretty_assertions::assert_eq!(a, b);
    }
    assert!(counted == parsed);
}

#[test]
fn every_dataset_read_in_parts_on_two_threads_gives_the_one_thread_report() {
    let Some(dir) = datasets_dir() else { return };
    let mut parts_on_threads = 0;
    for path in every_dataset_file(&dir) {
        let bytes = std::fs::read(&path).expect("readable");
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        let whole = serde_json::to_value(analyze_files(std::slice::from_ref(&path), 1 << 20)).expect("serializes");
        for part_bytes in [4096, 100_000] {
            let mut analyzer = sysmon_lens::Analyzer::new();
            parts_on_threads += analyzer
                .read_file(&name, &bytes.as_slice(), 2, part_bytes)
                .expect("in memory");
            let report = serde_json::to_value(analyzer.finish()).expect("serializes");
            pretty_assertions::assert_eq!(report, whole, "{name} in parts of {part_bytes} bytes");
        }
    }
    assert!(parts_on_threads > 100, "{parts_on_threads} parts read on other threads");
}

#[test]
fn every_dataset_read_a_file_to_a_thread_gives_the_one_thread_report() {
    let Some(dir) = datasets_dir() else { return };
    let all = every_dataset_file(&dir);
    let names: Vec<String> = all
        .iter()
        .map(|path| path.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    let bytes: Vec<Vec<u8>> = all.iter().map(|path| std::fs::read(path).expect("readable")).collect();
    let open = |index: usize| -> std::io::Result<Box<dyn sysmon_lens::ingest::segments::Source + '_>> {
        Ok(Box::new(bytes[index].as_slice()))
    };
    let one_by_one = serde_json::to_value(analyze_files(&all, 1 << 20)).expect("serializes");
    for threads in [2, 3] {
        let mut analyzer = sysmon_lens::Analyzer::new();
        analyzer.read_files(&names, &open, threads, &mut |index, _| {
            panic!("{} failed", names[index])
        });
        let report = serde_json::to_value(analyzer.finish()).expect("serializes");
        pretty_assertions::assert_eq!(report, one_by_one, "{threads} threads");
    }
}

/// Every file of every dataset, in path order.
pub(crate) fn every_dataset_file(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("datasets dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            for file in std::fs::read_dir(&path).expect("dataset subdir") {
                all.push(file.expect("entry").path());
            }
        }
    }
    all.sort();
    all
}
