//! Each event behind a finding carries its record as it was in the file: the XML or
//! JSON record from its line on, a Splunk CSV row's `_raw`, an EVTX record as the evtx
//! crate renders it. Checked against the files read independently (archives unpacked
//! here, UTF-16 decoded here).

use crate::support::{analyze_case, analyze_files, case_names, cases_dir};
use std::io::Read;
use std::path::Path;
use sysmon_lens::report::EventRef;

/// Reads a gzip stream as far as it goes (a corrupt one is read up to its damage, a byte
/// at a time so that nothing before the damage is lost).
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes);
    let mut block = [0u8; 1];
    while let Ok(n) = decoder.read(&mut block) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&block[..n]);
    }
    out
}

/// The bytes of `file` as the report names it: a file of the case, or a member of one
/// of its archives (`logs.tar.gz/logs/a.json`, `logs.zip/b.json.gz`).
fn member_bytes(case_dir: &Path, file: &str) -> Vec<u8> {
    let (outer, inner) = file.split_once('/').unwrap_or((file, ""));
    let bytes = std::fs::read(case_dir.join(outer)).expect("the case's file");
    let unpacked = if outer.ends_with(".tar.gz") {
        let tar = gunzip(&bytes);
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut entries = archive.entries().expect("a tar");
        let mut entry = entries
            .find_map(|entry| {
                entry
                    .ok()
                    .filter(|e| e.path().is_ok_and(|p| p.to_string_lossy() == inner))
            })
            .expect("the member");
        let mut out = Vec::new();
        entry.read_to_end(&mut out).expect("readable member");
        return out;
    } else if outer.ends_with(".zip") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        let mut out = Vec::new();
        archive
            .by_name(inner)
            .expect("the member")
            .read_to_end(&mut out)
            .expect("readable member");
        out
    } else {
        bytes
    };
    if file.ends_with(".gz") {
        gunzip(&unpacked)
    } else {
        unpacked
    }
}

/// Text as the file holds it: UTF-16 by its byte order mark, else UTF-8 (a BOM dropped).
fn decode(bytes: &[u8]) -> String {
    let utf16 = |big_endian: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|pair| {
                if big_endian {
                    u16::from_be_bytes([pair[0], pair[1]])
                } else {
                    u16::from_le_bytes([pair[0], pair[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(false),
        [0xFE, 0xFF, ..] => utf16(true),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn line_number(event: &EventRef) -> u64 {
    event
        .position
        .strip_prefix("line ")
        .or_else(|| event.position.strip_prefix("record "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a numbered position: {}", event.position))
}

/// The `_raw` of the CSV row starting at `line`, read with an independent CSV reader
/// (its positions are where each read began, before the line end that ends a row).
fn csv_raw(bytes: &[u8], line: u64) -> String {
    let starting_line = |byte: u64| {
        let mut start = byte as usize;
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        1 + bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64
    };
    let mut reader = csv::Reader::from_reader(bytes);
    let column = reader
        .headers()
        .expect("a header")
        .iter()
        .position(|h| h == "_raw")
        .expect("a _raw column");
    reader
        .records()
        .map(|record| record.expect("a CSV row"))
        .find(|record| record.position().is_some_and(|p| starting_line(p.byte()) == line))
        .and_then(|record| record.get(column).map(str::to_string))
        .unwrap_or_else(|| panic!("no row at line {line}"))
}

/// Checks that `raw` is the text record that starts on `line` of `text`, whole.
fn assert_record_at(text: &str, line: u64, raw: &str, context: &str) {
    let start: usize = text.split_inclusive('\n').take(line as usize - 1).map(str::len).sum();
    let from_line = text[start..].trim_start_matches(|c: char| c.is_whitespace() || c == '[' || c == ',');
    assert!(
        from_line.starts_with(raw),
        "{context}: the record is not the text at line {line}:\n{raw}"
    );
    let after = from_line[raw.len()..].trim_start();
    assert!(
        // What may follow a record: the next one, a list's comma or end, evtx_dump's `Record N` line.
        after.is_empty() || after.starts_with([',', ']', '<', '{']) || after.starts_with("Record "),
        "{context}: the record stops before its end: …{}",
        &after[..after.len().min(60)]
    );
    let whole =
        (raw.starts_with("<Event") && raw.ends_with("</Event>")) || (raw.starts_with('{') && raw.ends_with('}'));
    assert!(whole, "{context}: not a whole record");
}

#[test]
fn every_finding_event_of_every_case_has_its_record_from_the_file() {
    let mut checked = 0;
    for case in case_names() {
        let report = analyze_case(&case);
        let dir = cases_dir().join(&case);
        for finding in &report.findings {
            for event in &finding.events {
                let context = format!("{case}: {} {}", event.file, event.position);
                let raw = event
                    .raw
                    .as_ref()
                    .unwrap_or_else(|| panic!("{context}: no record kept"));
                assert!(
                    !raw.truncated && raw.bytes == raw.text.len(),
                    "{context}: a whole record"
                );
                let bytes = member_bytes(&dir, &event.file);
                let line = line_number(event);
                if event.file.ends_with(".csv") {
                    assert_eq!(raw.text, csv_raw(&bytes, line), "{context}");
                } else {
                    assert_record_at(&decode(&bytes), line, &raw.text, &context);
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 90, "{checked} finding events checked");
}

#[test]
fn an_evtx_finding_event_is_its_record_rendered_as_xml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/sigmahq_regression_data");
    let path = dir.join("proc_creation_win_msiexec_embedding__4a2a2c3e-209f-4d01-b513-4155a540b469.evtx");
    if !path.exists() {
        println!("SKIPPED: {} not found", path.display());
        return;
    }
    let report = analyze_files(std::slice::from_ref(&path), 4096);
    assert_eq!(report.findings.len(), 2, "the one real positive, in both readings");
    let bytes = std::fs::read(&path).expect("readable");
    let mut parser = evtx::EvtxParser::from_buffer(bytes).expect("an EVTX file");
    let rendered: Vec<(u64, String)> = parser
        .records()
        .filter_map(Result::ok)
        .map(|record| (record.event_record_id, record.data))
        .collect();
    for finding in &report.findings {
        let event = &finding.events[0];
        let record = line_number(event);
        let raw = event.raw.as_ref().expect("the record kept");
        let (_, xml) = rendered
            .iter()
            .find(|(id, _)| *id == record)
            .expect("the record in the file");
        assert_eq!(&raw.text, xml);
        assert!(raw.text.contains("<EventID>1</EventID>") && raw.text.contains("msiexec.exe"));
    }
}

#[test]
fn a_record_longer_than_the_cap_is_cut_and_says_so() {
    let template = std::fs::read_to_string(cases_dir().join("d1_each_listed_child/input.log")).expect("case");
    let event = template.lines().nth(1).expect("the msiexec → cmd.exe event");
    let long = event.replace(
        "</EventData>",
        &format!("<Data Name='Padding'>{}</Data></EventData>", "é".repeat(40_000)),
    );
    let report = sysmon_lens::analyze([("long.log", long.as_bytes())]);
    let raw = report.findings[0].events[0].raw.as_ref().expect("kept");
    assert!(raw.truncated);
    assert_eq!(raw.bytes, long.len());
    assert!(raw.text.len() <= sysmon_lens::ingest::raw_event::MAX_RECORD_TEXT && raw.text.len() > 65_530);
    assert!(long.starts_with(&raw.text));
}

#[test]
fn record_text_kept_on_every_dataset_file_is_a_few_kilobytes() {
    let Some(dir) = crate::datasets::datasets_dir() else {
        return;
    };
    let all = crate::datasets::every_dataset_file(&dir);
    let mut analyzer = sysmon_lens::Analyzer::new();
    let mut read = 0;
    for path in &all {
        let bytes = std::fs::read(path).expect("readable");
        read += bytes.len();
        analyzer.begin_file(&path.file_name().expect("name").to_string_lossy());
        analyzer.feed(&bytes);
    }
    let kept = analyzer.record_text_bytes();
    let report = analyzer.finish();
    let shown: usize = report
        .findings
        .iter()
        .flat_map(|finding| &finding.events)
        .map(|event| event.raw.as_ref().expect("the record kept").text.len())
        .sum();
    println!(
        "record text kept: {kept} bytes of {read} bytes read in {} files; {shown} bytes behind the findings",
        all.len()
    );
    assert!(shown > 0 && shown <= kept);
    assert!(kept < 64 << 10, "{kept} bytes kept: only events a detection may report");
}
