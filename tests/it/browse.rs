use serde_json::{Value, json};
use sysmon_lens::Analyzer;
use sysmon_lens::browse::{Browse, Column, List, Query};

fn browse(files: &[(&str, &[u8])]) -> (sysmon_lens::Report, Browse) {
    let mut analyzer = Analyzer::new();
    for (name, bytes) in files {
        analyzer.begin_file(name);
        analyzer.feed(bytes);
    }
    analyzer.finish_browsable()
}

fn query(list: List, filter: &str, sort: Column, descending: bool) -> Query {
    Query {
        list,
        filter: filter.to_string(),
        sort,
        descending,
    }
}

fn page(browse: &Browse, query: &Query, start: usize, count: usize) -> Value {
    serde_json::to_value(browse.page(query, start, count)).expect("a page is JSON")
}

fn texts(page: &Value, key: &str) -> Vec<String> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row[key].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_demo_lists_every_process_creation_and_connection_the_summary_counts() {
    let sample = sysmon_lens::demo::sample();
    let (report, browse) = browse(&[("demo.xml", sample.as_bytes())]);
    let counted = |id: u32| report.summary.sysmon_events.get(&id).copied().unwrap_or_default() as usize;
    assert!(counted(1) > 0 && counted(3) > 0);
    for (list, id) in [(List::Processes, 1), (List::Connections, 3)] {
        let all = page(&browse, &query(list, "", Column::Time, false), 0, usize::MAX);
        assert_eq!(all["total"], json!(counted(id)));
        assert_eq!(all["matching"], json!(counted(id)));
        assert_eq!(all["rows"].as_array().map(Vec::len), Some(counted(id).min(200)));
        let times = texts(&all, "time");
        assert!(times.is_sorted(), "sorted by time: {times:?}");
    }
    let connections = page(
        &browse,
        &query(List::Connections, "", Column::Destination, false),
        0,
        200,
    );
    for row in connections["rows"].as_array().expect("rows") {
        assert!(row["destination"].as_str().is_some_and(|d| d.contains(':')), "{row}");
        let tree = browse
            .tree(
                List::Connections,
                row["row"].as_u64().expect("row") as usize,
                &report.files,
            )
            .expect("a tree for each connection");
        assert!(!tree.nodes.is_empty());
        assert!(!tree.connections.is_empty(), "the connection is in its tree");
    }
}

#[test]
fn processes_sort_filter_page_and_open_their_tree() {
    let input = std::fs::read(crate::support::cases_dir().join("d1_each_listed_child/input.log")).expect("case input");
    let (report, browse) = browse(&[("input.log", &input)]);
    let every = page(&browse, &query(List::Processes, "", Column::Image, false), 0, 200);
    assert_eq!(every["total"], json!(5));
    let images = texts(&every, "image");
    let folded: Vec<String> = images.iter().map(|i| i.to_lowercase()).collect();
    assert!(folded.is_sorted(), "{images:?}");
    let backwards = page(&browse, &query(List::Processes, "", Column::Image, true), 0, 200);
    let mut reversed = texts(&backwards, "image");
    reversed.reverse();
    assert_eq!(reversed.iter().map(|i| i.to_lowercase()).collect::<Vec<_>>(), folded);

    // Pages of 2: the same rows in the same order.
    let sorted = query(List::Processes, "", Column::Pid, false);
    let pids: Vec<String> = (0..3)
        .flat_map(|n| texts(&page(&browse, &sorted, n * 2, 2), "pid"))
        .collect();
    assert_eq!(pids, texts(&page(&browse, &sorted, 0, 200), "pid"));
    let numbers: Vec<u64> = pids.iter().map(|p| p.parse().expect("pid")).collect();
    assert!(numbers.is_sorted(), "{pids:?}");

    // The filter ignores case and searches the parent too.
    let powershell = page(
        &browse,
        &query(List::Processes, "POWERSHELL.EXE", Column::Time, false),
        0,
        200,
    );
    let matching = powershell["matching"].as_u64().expect("matching");
    assert!((1..5).contains(&matching), "{powershell}");
    for row in powershell["rows"].as_array().expect("rows") {
        assert!(row.to_string().to_lowercase().contains("powershell.exe"), "{row}");
    }
    let none = page(
        &browse,
        &query(List::Processes, "no such text", Column::Time, false),
        0,
        200,
    );
    assert_eq!((none["matching"].clone(), none["total"].clone()), (json!(0), json!(5)));

    assert!(browse.tree(List::Processes, 5, &report.files).is_none());
}
