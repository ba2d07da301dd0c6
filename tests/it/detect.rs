use crate::support::analyze_case;
use sysmon_lens::detect::Mode;
use sysmon_lens::ingest::Position;
use sysmon_lens::report::Finding;

const D1: &str = "e9d05aa2-32f0-411b-930c-5b8ca5c4fcee";
const D2: &str = "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99";

/// The case's findings of one detection as published.
fn findings(case: &str, detection_id: &str) -> Vec<Finding> {
    in_mode(case, detection_id, Mode::AsPublished)
}

fn in_mode(case: &str, detection_id: &str, mode: Mode) -> Vec<Finding> {
    let report = analyze_case(case);
    report
        .findings
        .into_iter()
        .filter(|f| f.detection_id == detection_id && f.mode == mode)
        .collect()
}

fn published(report: &sysmon_lens::Report) -> usize {
    report.findings.iter().filter(|f| f.mode == Mode::AsPublished).count()
}

fn field<'a>(finding: &'a Finding, name: &str) -> &'a str {
    finding.row[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not a string in {:?}", finding.row))
}

#[test]
fn d1_fires_for_each_of_the_five_listed_children() {
    let found = findings("d1_each_listed_child", D1);
    let mut children: Vec<&str> = found.iter().map(|f| field(f, "process_name")).collect();
    children.sort();
    assert_eq!(
        children,
        [
            "cmd.exe",
            "ipconfig.exe",
            "nltest.exe",
            "powershell.exe",
            "systeminfo.exe"
        ]
    );
    assert!(findings("d1_each_listed_child", D2).is_empty());
}

#[test]
fn d1_near_misses_give_nothing_as_published() {
    assert_eq!(published(&analyze_case("d1_near_misses")), 0);
}

#[test]
fn identical_events_group_into_one_row_with_count_two() {
    let found = findings("d1_identical_events_count_two", D1);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].row["count"], 2);
    assert_eq!(field(&found[0], "firstTime"), "2024-05-01T10:03:00");
    assert_eq!(field(&found[0], "lastTime"), "2024-05-01T10:03:30");
    assert_eq!(found[0].events.len(), 2);
}

#[test]
fn missing_values_and_dash_original_file_name_become_null() {
    let found = findings("d1_missing_values_are_null", D1);
    assert_eq!(found.len(), 1);
    assert_eq!(field(&found[0], "original_file_name"), "null");
    assert_eq!(field(&found[0], "user"), "null");
    assert_eq!(found[0].risk.risk_objects[1].value, "null");
}

#[test]
fn mixed_case_and_syswow64_paths_match() {
    let found = findings("d1_mixed_case_syswow64", D1);
    assert_eq!(found.len(), 1);
    assert_eq!(field(&found[0], "parent_process_name"), "MsiExec.exe");
    assert_eq!(field(&found[0], "process_name"), "PowerShell.EXE");
}

#[test]
fn d2_joins_an_msiexec_process_to_its_https_connection() {
    let found = findings("d2_hit", D2);
    assert_eq!(found.len(), 1);
    let row = &found[0];
    assert_eq!(field(row, "_time"), "2024-05-01T10:10:00");
    assert_eq!(field(row, "process_name"), "msiexec.exe");
    assert_eq!(field(row, "process_id"), "4242");
    assert_eq!(field(row, "dest_port"), "443");
    assert_eq!(field(row, "dest_ip"), "93.184.216.34");
    // overwrite=true: the connection's dest (the remote host) and user replace the process's.
    assert_eq!(field(row, "dest"), "evil.example");
    assert_eq!(field(row, "user"), "NT AUTHORITY\\SYSTEM");
    assert_eq!(row.risk.score, 20);
    assert_eq!(row.risk.severity, "informational");
    assert_eq!(row.events.len(), 2);
}

#[test]
fn d2_ignores_port_8080() {
    assert!(
        analyze_case("d2_port_8080_no_hit").findings.is_empty(),
        "in either reading"
    );
}

#[test]
fn d2_published_join_attaches_another_hosts_connection_by_pid() {
    let found = findings("d2_pid_collision_across_hosts", D2);
    assert_eq!(found.len(), 1, "the published search joins on process_id alone");
    let row = &found[0];
    assert_eq!(field(row, "process_name"), "msiexec.exe");
    assert_eq!(field(row, "dest"), "www.google.com");
    assert_eq!(field(row, "user"), "CORP\\bob");
    let files_and_hosts: Vec<&str> = row
        .events
        .iter()
        .map(|e| e.fields["Computer"].as_str().expect("Computer"))
        .collect();
    assert_eq!(files_and_hosts, ["WS-03", "SRV-FILE01"]);
}

#[test]
fn d2_joins_across_files_of_one_analysis() {
    let found = findings("d2_join_across_files", D2);
    assert_eq!(found.len(), 1);
    let files: Vec<&str> = found[0].events.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(files, ["a_processes.log", "b_network.json"]);
    assert_eq!(field(&found[0], "dest_port"), "80");
}

#[test]
fn every_shape_gives_the_same_finding_and_ignores_other_providers() {
    let shapes = [
        "archive_gzip",
        "archive_tar_gz_two_shapes",
        "archive_zip_nested_gzip",
        "format_ecs",
        "format_evtx_dump_json",
        "format_evtx_dump_jsonl",
        "format_nxlog",
        "format_otrf",
        "format_otrf_eventdata_xml",
        "format_powershell",
        "format_splunk_export_csv",
        "format_splunk_export_json",
        "format_winlogbeat6",
        "format_winlogbeat7_raw",
        "format_xml_events_utf16le",
        "format_xml_lines",
        "format_xml_lines_utf16be",
        "format_xml_rootless_utf8bom",
    ];
    let reference = findings("format_xml_lines", D1);
    assert_eq!(reference.len(), 1);
    for shape in shapes {
        let report = analyze_case(shape);
        for file in &report.files {
            assert_eq!(
                file.ingest.other_events, 2,
                "{shape}: the Security events are counted, not matched"
            );
        }
        let found: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.detection_id == D1 && f.mode == Mode::AsPublished)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{shape}: one row, even when two files hold the same event"
        );
        let mut expected = reference[0].row.clone();
        // An archive of two shapes holds the event twice: one row, counted twice, as one index would.
        expected["count"] = report.files.len().into();
        assert_eq!(found[0].row, expected, "{shape}");
    }
    // EventData-only exports carry no Computer: the same row, with dest null.
    let found = findings("format_eventdata_json", D1);
    let mut expected = reference[0].row.clone();
    expected["dest"] = "null".into();
    assert_eq!(found[0].row, expected);
}

#[test]
fn winlogbeat6_endpoint_and_user_are_the_events_not_the_shippers() {
    let found = findings("format_winlogbeat6", D1);
    assert_eq!(
        field(&found[0], "dest"),
        "WS-01",
        "not the collector's host.name WECserver"
    );
    assert_eq!(
        field(&found[0], "user"),
        "CORP\\alice",
        "Sysmon's User, not the top-level Security principal"
    );
}

#[test]
fn nxlog_process_id_recovered_from_the_message_lets_the_join_match() {
    let found = findings("trap_nxlog_processid_only_in_message", D2);
    assert_eq!(found.len(), 1);
    assert_eq!(
        field(&found[0], "process_id"),
        "4242",
        "Sysmon's ProcessId, not NXLog's ProcessID 2468"
    );
}

#[test]
fn destination_hostname_dash_means_absent() {
    let found = findings("d2_join_across_files", D2);
    assert_eq!(field(&found[0], "dest"), "203.0.113.7");
}

#[test]
fn cisco_nvm_flows_are_a_network_source_for_d2() {
    let report = analyze_case("d2_cisco_nvm_flow");
    assert_eq!(report.files[1].ingest.flow_records, 2);
    let found: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.detection_id == D2 && f.mode == Mode::AsPublished)
        .collect();
    assert_eq!(found.len(), 1, "the 8443 flow is not a port of the search");
    assert_eq!(field(found[0], "dest"), "evil.example");
    assert_eq!(field(found[0], "dest_port"), "443");
    assert_eq!(field(found[0], "process_id"), "4242");
}

#[test]
fn fractional_seconds_of_any_length_parse() {
    let found = findings("trap_fractional_second_digits", D1);
    let times: Vec<&str> = found.iter().map(|f| field(f, "firstTime")).collect();
    assert_eq!(
        times,
        [
            "2024-05-01T10:30:01",
            "2024-05-01T10:30:02",
            "2024-05-01T10:30:03",
            "2024-05-01T10:30:04",
            "2024-05-01T10:30:05"
        ]
    );
}

#[test]
fn zoneless_and_mislabelled_shipper_times_are_flagged_not_used() {
    let report = analyze_case("trap_zoneless_and_mislabelled_times");
    for file in &report.files {
        assert_eq!(file.coverage.time_sources.get("UtcTime"), Some(&1), "{}", file.name);
        assert_eq!(file.coverage.time_skew_events, 1, "{}: 9 hours off UtcTime", file.name);
    }
    for finding in &report.findings {
        assert_eq!(field(finding, "firstTime"), "2024-05-01T10:00:00", "{:?}", finding.mode);
    }
}

#[test]
fn bad_records_are_reported_and_good_ones_still_analyzed() {
    let report = analyze_case("bad_truncated_xml");
    assert_eq!(report.files[0].ingest.skipped_count, 2);
    assert_eq!(report.files[0].ingest.skipped[0].position, Position::Line(2));
    assert_eq!(
        published(&report),
        2,
        "the two complete events around the truncated one"
    );

    let report = analyze_case("bad_invalid_utf8");
    assert_eq!(report.files[0].ingest.skipped[0].position, Position::Line(2));
    assert!(report.files[0].ingest.skipped[0].reason.contains("invalid UTF-8"));
    assert_eq!(published(&report), 2);

    let report = analyze_case("bad_json_records");
    let positions: Vec<Position> = report.files[0]
        .ingest
        .skipped
        .iter()
        .map(|s| s.position.clone())
        .collect();
    assert_eq!(positions, [Position::Line(2), Position::Line(3), Position::Line(4)]);
    assert_eq!(published(&report), 2);

    let report = analyze_case("bad_binary_and_empty");
    let errors: Vec<Option<&str>> = report.files.iter().map(|f| f.ingest.error.as_deref()).collect();
    assert_eq!(errors[0], Some("empty file: nothing to analyze"));
    assert!(
        errors[1].is_some_and(|e| e.contains("it starts with binary data: 0b 30 55 7a")),
        "garbage: {errors:?}"
    );
    assert_eq!(errors[2], None);
    assert_eq!(published(&report), 1);
}

#[test]
fn event_text_is_kept_verbatim() {
    let found = findings("d1_html_in_command_line", D1);
    assert_eq!(field(&found[0], "process"), "<img src=x onerror=alert(1)>");
    assert_eq!(field(&found[0], "user"), "<b>CORP</b>\\eve");
}

#[test]
fn d2_join_max_one_keeps_the_first_connection_in_sorted_order() {
    // max=1 takes the subsearch's first row, and tstats sorts by its by-fields (app, …, dest, …):
    // alpha.example sorts before zeta.example although it came later; 8443 is not a port of the search.
    let found = findings("d2_join_keeps_first_connection_in_sorted_order", D2);
    assert_eq!(found.len(), 1);
    assert_eq!(field(&found[0], "dest"), "alpha.example");
    assert_eq!(field(&found[0], "dest_port"), "80");
    let lines: Vec<&str> = found[0].events.iter().map(|e| e.position.as_str()).collect();
    assert_eq!(lines, ["line 1", "line 3"]);
}

#[test]
fn hardened_d1_sees_renamed_and_extended_discovery_children() {
    let published = findings("d1_near_misses", D1);
    assert!(published.is_empty());
    let hardened = in_mode("d1_near_misses", D1, Mode::Hardened);
    let children: Vec<&str> = hardened.iter().map(|f| field(f, "process_name")).collect();
    assert_eq!(
        children,
        ["whoami.exe"],
        "notepad.exe and explorer's cmd.exe stay near misses"
    );
    assert!(hardened[0].explanation.notes[0].starts_with("hardened only: the published search lists"));
    // Every published row is also a hardened row.
    assert_eq!(in_mode("d1_each_listed_child", D1, Mode::Hardened).len(), 5);
}

#[test]
fn hardened_d2_joins_on_host_and_guid_and_explains_the_published_collision() {
    let published = findings("d2_pid_collision_across_hosts", D2);
    let note = &published[0].explanation.notes[0];
    assert_eq!(
        note,
        "published: joined on pid 4242 only — this connection came from chrome.exe on SRV-FILE01, not from msiexec.exe on WS-03"
    );
    assert!(
        in_mode("d2_pid_collision_across_hosts", D2, Mode::Hardened).is_empty(),
        "the chrome.exe connection is not msiexec's"
    );

    let hardened = in_mode("d2_hit", D2, Mode::Hardened);
    assert_eq!(hardened.len(), 1);
    assert_eq!(
        field(&hardened[0], "dest"),
        "WS-02",
        "the endpoint, not the remote host"
    );
    assert_eq!(field(&hardened[0], "dest_host"), "evil.example");
    assert_eq!(field(&hardened[0], "user"), "CORP\\alice", "the process's user");
    assert!(hardened[0].explanation.conditions[1].starts_with("joined on host WS-02 and ProcessGuid"));
}

#[test]
fn hardened_d2_keeps_every_connection() {
    let hardened = in_mode("d2_join_keeps_first_connection_in_sorted_order", D2, Mode::Hardened);
    let hosts: Vec<&str> = hardened.iter().map(|f| field(f, "dest_host")).collect();
    assert_eq!(
        hosts,
        ["zeta.example", "alpha.example"],
        "both 80/443 connections, in time order; 8443 is not a port of the search"
    );
    assert!(hardened[0].explanation.notes[0].contains("the published join shows one (max=1)"));
}

#[test]
fn explanation_traces_fields_to_raw_values_and_time() {
    let found = findings("d2_hit", D2);
    let explanation = &found[0].explanation;
    assert_eq!(explanation.time_source, Some("System/TimeCreated/@SystemTime"));
    let dest = explanation
        .provenance
        .iter()
        .find(|p| p.field == "dest")
        .expect("dest provenance");
    assert_eq!(
        (dest.event.as_str(), dest.raw_field, dest.raw_value.as_deref()),
        ("EventID 3", "DestinationHostname", Some("evil.example"))
    );
    let pid = explanation
        .provenance
        .iter()
        .find(|p| p.field == "process_id")
        .expect("pid provenance");
    assert_eq!(
        (pid.event.as_str(), pid.raw_value.as_deref()),
        ("EventID 1", Some("4242"))
    );
}

#[test]
fn hardened_only_rows_say_why_the_published_search_misses_them() {
    let renamed = in_mode("hardened_renamed_discovery_child", D1, Mode::Hardened);
    assert_eq!(field(&renamed[0], "original_file_name"), "Cmd.Exe");
    assert!(findings("hardened_renamed_discovery_child", D1).is_empty());

    let orphan = in_mode("hardened_msiexec_connection_without_process", D2, Mode::Hardened);
    assert_eq!(
        (field(&orphan[0], "dest"), field(&orphan[0], "dest_host")),
        ("WS-11", "cdn.evil.example")
    );
    assert!(findings("hardened_msiexec_connection_without_process", D2).is_empty());

    // The pid was taken by updater.exe before the connection: the published join attaches it anyway.
    let published = findings("hardened_pid_reused_before_the_connection", D2);
    assert!(published[0].explanation.notes[0].contains("came from another process with that pid (updater.exe)"));
    assert!(in_mode("hardened_pid_reused_before_the_connection", D2, Mode::Hardened).is_empty());
}

#[test]
fn process_tree_of_a_known_family() {
    let found = findings("tree_msiexec_family", D1);
    let cmd = found
        .iter()
        .find(|f| field(f, "process_id") == "5000")
        .expect("cmd.exe 5000");
    let tree = &cmd.process_tree;
    let label = |id: usize| {
        let node = &tree.nodes[id];
        format!(
            "{} {} {}",
            node.role,
            node.name.as_deref().unwrap_or("?"),
            node.pid.as_deref().unwrap_or("?")
        )
    };
    let nodes: Vec<String> = (0..tree.nodes.len()).map(label).collect();
    assert_eq!(
        nodes,
        [
            "ancestor explorer.exe 1200",
            "ancestor cmd.exe 900",
            "ancestor msiexec.exe 4242",
            "process cmd.exe 5000",
            "sibling ipconfig.exe 5001",
            "child whoami.exe 5100",
        ]
    );
    let edges: Vec<(String, String)> = tree.edges.iter().map(|&(a, b)| (label(a), label(b))).collect();
    assert_eq!(edges.len(), 5);
    assert!(edges.contains(&("ancestor msiexec.exe 4242".into(), "sibling ipconfig.exe 5001".into())));
    assert!(edges.contains(&("process cmd.exe 5000".into(), "child whoami.exe 5100".into())));
    let connections: Vec<(String, Option<&str>)> = tree
        .connections
        .iter()
        .map(|c| (label(c.node), c.dest_host.as_deref()))
        .collect();
    assert_eq!(
        connections,
        [("ancestor msiexec.exe 4242".to_string(), Some("evil.example"))]
    );
    assert_eq!(tree.nodes[3].location.as_deref(), Some("input.log, line 5"));
}

/// A tree is a tree whatever the log claims: every node has one parent edge, none is
/// its own ancestor, and what was left out is said.
fn assert_acyclic(tree: &sysmon_lens::annotate::process_tree::ProcessTree) {
    let mut parents = vec![None; tree.nodes.len()];
    for &(parent, child) in &tree.edges {
        assert!(parents[child].replace(parent).is_none(), "node {child} has two parents");
    }
    for start in 0..tree.nodes.len() {
        let (mut at, mut steps) = (start, 0);
        while let Some(parent) = parents[at] {
            at = parent;
            steps += 1;
            assert!(steps <= tree.nodes.len(), "node {start} is its own ancestor");
        }
    }
}

#[test]
fn parents_that_name_each_other_give_a_tree_that_says_so() {
    for case in ["tree_cycle_by_guid", "tree_cycle_by_pid"] {
        let found = in_mode(case, D1, Mode::Hardened);
        assert!(!found.is_empty(), "{case}");
        for finding in &found {
            let tree = &finding.process_tree;
            assert_acyclic(tree);
            assert_eq!(tree.nodes.len(), 3, "{case}: svchost, msiexec and whoami once each");
            assert!(
                tree.notes
                    .iter()
                    .any(|note| note.contains("loop back to msiexec.exe (pid 900)")),
                "{case}: {:?}",
                tree.notes
            );
        }
    }
}

#[test]
fn a_parent_with_thousands_of_children_gives_bounded_trees() {
    let event = |pid: u32, image: &str, parent: u32, parent_image: &str, time: &str| {
        format!(
            "<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><Computer>WS</Computer>\
             <TimeCreated SystemTime='2024-05-01T{time}Z'/></System><EventData><Data Name='ProcessId'>{pid}</Data>\
             <Data Name='Image'>C:\\Windows\\System32\\{image}</Data><Data Name='CommandLine'>{image} {pid}</Data>\
             <Data Name='ParentProcessId'>{parent}</Data><Data Name='ParentImage'>C:\\Windows\\{parent_image}</Data></EventData></Event>\n"
        )
    };
    let parent = event(900, "msiexec.exe", 800, "explorer.exe", "10:49:00");
    let children = (1000..4000).map(|pid| event(pid, "cmd.exe", 900, "System32\\msiexec.exe", "10:50:00"));
    let log: String = std::iter::once(parent).chain(children).collect();
    let report = sysmon_lens::analyze([("many.xml", log.as_bytes())]);
    assert_eq!(report.findings.len(), 6000, "3,000 children, each in both readings");
    for finding in [&report.findings[0], &report.findings[5999]] {
        let tree = &finding.process_tree;
        assert_acyclic(tree);
        assert_eq!(tree.nodes.len(), 2 + 12, "msiexec, the process and at most 12 siblings");
        assert_eq!(tree.notes, ["2987 more sibling processes not shown (at most 12)"]);
    }
}
