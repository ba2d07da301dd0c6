use crate::support::{analyze_files, analyze_files_parsing_everything, case_inputs, case_names};
use proptest::prelude::*;
use sysmon_lens::Analyzer;
use sysmon_lens::generate::{Plan, Shape, generate};

#[test]
fn chunk_size_and_prefilter_do_not_change_the_report() {
    for case in case_names() {
        let inputs = case_inputs(&case);
        let whole = serde_json::to_value(analyze_files(&inputs, usize::MAX)).expect("serializes");
        for chunk in [1, 7, 64 << 10] {
            let pieces = serde_json::to_value(analyze_files(&inputs, chunk)).expect("serializes");
            assert!(
                pieces == whole,
                "case {case}: {chunk}-byte chunks give a different report"
            );
            let parsed = serde_json::to_value(analyze_files_parsing_everything(&inputs, chunk)).expect("serializes");
            assert!(
                parsed == whole,
                "case {case}: parsing every event ({chunk}-byte chunks) gives a different report"
            );
        }
    }
}

/// A generated log of every shape with hand-written events appended that hide msiexec
/// behind `&#…;` and `\u…` escapes.
fn generated_with_escapes() -> Vec<(String, Vec<u8>)> {
    Shape::ALL
        .into_iter()
        .map(|shape| {
            let mut bytes = Vec::new();
            generate(Plan::new(shape, 60_000, 3), &mut bytes).expect("in memory");
            let escaped: &[u8] = match shape {
                Shape::XmlLines => br"<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>&#49;</EventID><Computer>ESC-1</Computer></System><EventData><Data Name='Image'>C:\Windows\System32\cmd.exe</Data><Data Name='ParentImage'>C:\Windows\System32\&#109;siexec.exe</Data></EventData></Event>",
                Shape::EvtxDumpJsonl => br##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Computer":"ESC-1"},"EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\System32\\\u006dsiexec.exe"}}}"##,
                Shape::FlatJson => br#"{"EventID":1,"SourceName":"Microsoft-Windows-Sysmon","Hostname":"ESC-1","Image":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\System32\\\u006dsiexec.exe"}"#,
                Shape::Ecs => br#"{"winlog":{"event_id":"1","provider_name":"Microsoft-Windows-Sysmon","computer_name":"ESC-1","event_data":{"Image":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\System32\\\u006dsiexec.exe"}}}"#,
            };
            let host = format!("ESC-{}", shape.name());
            bytes.extend_from_slice(&String::from_utf8_lossy(escaped).replace("ESC-1", &host).into_bytes());
            bytes.push(b'\n');
            (format!("generated.{}", shape.name()), bytes)
        })
        .collect()
}

fn report_of(files: &[(String, Vec<u8>)], cuts: &[usize], prefilter: bool) -> serde_json::Value {
    let mut analyzer = if prefilter {
        Analyzer::new()
    } else {
        Analyzer::new().without_prefilter()
    };
    for (name, bytes) in files {
        analyzer.begin_file(name);
        let mut at = 0;
        for cut in cuts.iter().map(|cut| cut % (bytes.len() + 1)).chain([bytes.len()]) {
            if cut > at {
                analyzer.feed(&bytes[at..cut]);
                at = cut;
            }
        }
        analyzer.end_file();
    }
    serde_json::to_value(analyzer.finish()).expect("serializes")
}

#[test]
fn escapes_cannot_hide_msiexec_from_the_prefilter() {
    let files = generated_with_escapes();
    let report = report_of(&files, &[], true);
    for shape in Shape::ALL {
        let host = format!("ESC-{}", shape.name());
        let found: Vec<_> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["row"]["dest"] == host.as_str())
            .map(|f| (f["mode"].as_str(), f["row"]["parent_process_name"].as_str()))
            .collect();
        // The escaped event: one published and one hardened spawn finding.
        assert_eq!(
            found,
            [
                (Some("as_published"), Some("msiexec.exe")),
                (Some("hardened"), Some("msiexec.exe"))
            ],
            "{host}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Any way of cutting the input into chunks gives the report of feeding it whole,
    /// with the prefilter on or off.
    #[test]
    fn any_chunking_gives_the_whole_input_report(mut cuts in proptest::collection::vec(0usize..70_000, 0..40), prefilter: bool) {
        let files = generated_with_escapes();
        cuts.sort_unstable();
        let whole = report_of(&files, &[], true);
        prop_assert!(report_of(&files, &cuts, prefilter) == whole);
    }
}

/// A small real-shaped log behind arbitrary leading bytes (NULs, binary, half a tag),
/// optionally gzipped and then damaged at one byte.
fn hostile_input(prefix: &[u8], gzip: bool, damage: Option<(usize, u8)>) -> Vec<(String, Vec<u8>)> {
    use std::io::Write;
    let log = std::fs::read(crate::support::cases_dir().join("d1_each_listed_child/input.log")).expect("case readable");
    let mut bytes = [prefix, &log].concat();
    let mut name = "hostile.log".to_string();
    if gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&bytes).expect("in memory");
        bytes = encoder.finish().expect("in memory");
        name.push_str(".gz");
    }
    if let Some((at, value)) = damage {
        let at = at % bytes.len();
        bytes[at] ^= value.max(1);
    }
    vec![(name, bytes)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Binary prefixes and damaged gzip streams give one report however the bytes arrive.
    #[test]
    fn hostile_bytes_give_one_report_whatever_the_chunking(
        prefix in proptest::collection::vec(any::<u8>(), 0..48),
        gzip: bool,
        damage in proptest::option::of((any::<usize>(), any::<u8>())),
        mut cuts in proptest::collection::vec(0usize..20_000, 0..24),
        prefilter: bool,
    ) {
        let files = hostile_input(&prefix, gzip, damage);
        cuts.sort_unstable();
        let whole = report_of(&files, &[], true);
        prop_assert!(report_of(&files, &cuts, prefilter) == whole);
        let ones: Vec<usize> = (1..files[0].1.len().min(4096)).collect();
        prop_assert!(report_of(&files, &ones, !prefilter) == whole);
    }
}

#[test]
fn one_byte_seven_byte_and_64k_chunks_match_with_and_without_prefilter() {
    let files = generated_with_escapes();
    let whole = report_of(&files, &[], true);
    for step in [1usize, 7, 64 << 10] {
        let longest = files.iter().map(|(_, bytes)| bytes.len()).max().unwrap_or(0);
        let cuts: Vec<usize> = (step..longest).step_by(step).collect();
        for prefilter in [true, false] {
            assert!(
                report_of(&files, &cuts, prefilter) == whole,
                "{step}-byte chunks, prefilter {prefilter}"
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

/// The report of reading each file with [`Analyzer::read_file`] on `threads` threads in
/// parts of about `part_bytes`, and how many parts other threads read.
fn report_in_parts(files: &[(String, Vec<u8>)], threads: usize, part_bytes: u64) -> (serde_json::Value, usize) {
    let mut analyzer = Analyzer::new();
    let mut parts = 0;
    for (name, bytes) in files {
        parts += analyzer
            .read_file(name, &bytes.as_slice(), threads, part_bytes)
            .expect("in memory");
        analyzer.end_file();
    }
    (serde_json::to_value(analyzer.finish()).expect("serializes"), parts)
}

fn named_inputs(paths: &[std::path::PathBuf]) -> Vec<(String, Vec<u8>)> {
    paths
        .iter()
        .map(|path| {
            let name = path.file_name().expect("file name").to_string_lossy().into_owned();
            (name, std::fs::read(path).expect("input readable"))
        })
        .collect()
}

#[test]
fn threads_and_parts_do_not_change_the_report_of_any_case() {
    let mut parts_on_threads = 0;
    for case in case_names() {
        let files = named_inputs(&case_inputs(&case));
        let whole = report_of(&files, &[], true);
        for (threads, part_bytes) in [(2, 61), (2, 997), (3, 8192), (1, 61)] {
            let (report, parts) = report_in_parts(&files, threads, part_bytes);
            assert!(
                report == whole,
                "case {case}: {threads} threads, parts of {part_bytes} bytes give a different report"
            );
            assert!(threads > 1 || parts == 0, "one thread reads alone");
            parts_on_threads += parts;
        }
    }
    assert!(parts_on_threads > 100, "{parts_on_threads} parts read on other threads");
}

#[test]
fn generated_logs_read_in_parts_give_the_one_thread_report() {
    let files = generated_with_escapes();
    let whole = report_of(&files, &[], true);
    for part_bytes in [4096, 20_000] {
        let (report, _) = report_in_parts(&files, 2, part_bytes);
        assert!(report == whole, "parts of {part_bytes} bytes");
        // XML and the three JSON Lines shapes are each cut and read on other threads.
        for file in &files {
            let (_, parts) = report_in_parts(std::slice::from_ref(file), 2, part_bytes);
            assert!(parts >= 2, "{}: {parts} parts on other threads", file.0);
        }
    }
}

#[test]
fn a_record_across_a_cut_is_read_on_by_the_part_before_it() {
    // The first half of the log is plain; in the second half each event starts after a
    // blank and its text holds a line that looks like a record start, so every cut
    // there lands inside an event.
    let event = "<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><Computer>H</Computer></System><EventData><Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data><Data Name='CommandLine'>CMD</Data><Data Name='ParentImage'>C:\\Windows\\System32\\msiexec.exe</Data></EventData></Event>\n";
    let spanning = format!(" {}", event.replace("CMD", "<![CDATA[a\n<Eventful>]]>"));
    let log = format!("{}{}", event.replace("CMD", "a").repeat(100), spanning.repeat(100));
    let files = vec![("spanning.xml".to_string(), log.into_bytes())];
    let whole = report_of(&files, &[], true);
    assert!(
        whole["findings"]
            .as_array()
            .is_some_and(|findings| !findings.is_empty())
    );
    for part_bytes in [300, 1000, 5000] {
        let cuts = sysmon_lens::ingest::segments::cuts(&files[0].1.as_slice(), part_bytes).expect("in memory");
        let (report, parts) = report_in_parts(&files, 2, part_bytes);
        assert!(report == whole, "parts of {part_bytes} bytes");
        assert!(
            0 < parts && parts < cuts.len(),
            "{parts} of {} parts on other threads",
            cuts.len()
        );
    }
    let second_half_only = vec![("spanning.xml".to_string(), spanning.repeat(100).into_bytes())];
    let (report, parts) = report_in_parts(&second_half_only, 2, 1000);
    assert!(report == report_of(&second_half_only, &[], true));
    assert_eq!(parts, 0, "the first part's reader reads on from its first cut");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Hostile bytes read in parts on two threads give the report of reading them in order.
    #[test]
    fn hostile_bytes_in_parts_give_the_one_thread_report(
        prefix in proptest::collection::vec(any::<u8>(), 0..48),
        damage in proptest::option::of((any::<usize>(), any::<u8>())),
        part_bytes in 40u64..5000,
    ) {
        let files = hostile_input(&prefix, false, damage);
        prop_assert!(report_in_parts(&files, 2, part_bytes).0 == report_of(&files, &[], true));
    }
}
