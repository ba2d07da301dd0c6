//! The report as a table for a terminal: per file what was read, then the findings by
//! detection (those no suppression rule hides), then risk by object. Every string that
//! came from the input is printed through [`visible`], so the logs cannot drive the terminal.

use crate::visible::visible;
use serde_json::Value;
use std::io::{self, Write};
use sysmon_lens::Report;
use sysmon_lens::detect::Mode;
use sysmon_lens::ingest::decode::Encoding;

pub fn print_table(report: &Report, out: &mut impl Write) -> io::Result<()> {
    print_files(report, out)?;
    writeln!(out)?;
    if let Some(suppression) = &report.suppression {
        let rules = suppression.rules.len();
        writeln!(
            out,
            "Suppressed: {} of {} findings, by {rules} rule{} (listed in the JSON report).\n",
            suppression.suppressed,
            report.findings.len(),
            if rules == 1 { "" } else { "s" }
        )?;
    }
    if report.active_findings().next().is_none() {
        return writeln!(out, "No findings.");
    }
    print_findings(report, out)?;
    writeln!(out, "Risk by object")?;
    for total in &report.risk_totals {
        let plural = if total.findings == 1 { "" } else { "s" };
        writeln!(
            out,
            "  {:>4}  {:6}  {}  ({} finding{plural})",
            total.score,
            total.kind,
            visible(&total.object),
            total.findings
        )?;
    }
    Ok(())
}

fn print_files(report: &Report, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "Files")?;
    for file in &report.files {
        let ingest = &file.ingest;
        let mut events: Vec<String> = ingest
            .sysmon_events
            .iter()
            .map(|(id, n)| format!("EID {id}: {n}"))
            .collect();
        if ingest.flow_records > 0 {
            events.push(format!("Cisco NVM flows: {}", ingest.flow_records));
        }
        let container = ingest
            .container
            .as_ref()
            .map(|c| format!(" in {}", visible(c)))
            .unwrap_or_default();
        writeln!(
            out,
            "  {}  [{}{container}, {}]  {}  other: {}  skipped: {}",
            visible(&file.name),
            ingest.format,
            encoding_name(ingest.encoding),
            if events.is_empty() {
                "no Sysmon events".to_string()
            } else {
                events.join(", ")
            },
            ingest.other_events,
            ingest.skipped_count
        )?;
        if let Some(error) = &ingest.error {
            writeln!(out, "      not read: {}", visible(error))?;
        }
        let sources: Vec<String> = file
            .coverage
            .time_sources
            .iter()
            .map(|(field, n)| format!("{field} ({n})"))
            .collect();
        if !sources.is_empty() {
            let skew = file.coverage.time_skew_events;
            let skew = if skew > 0 {
                format!("; {skew} events disagree with UtcTime by over 1 s")
            } else {
                String::new()
            };
            writeln!(out, "      _time from {}{skew}", sources.join(", "))?;
        }
        for gap in &file.coverage.missing_fields {
            writeln!(out, "      cannot see: {}", visible(gap))?;
        }
    }
    Ok(())
}

fn print_findings(report: &Report, out: &mut impl Write) -> io::Result<()> {
    for detection in &report.detections {
        let findings: Vec<_> = report
            .active_findings()
            .filter(|f| f.detection_id == detection.id)
            .collect();
        if findings.is_empty() {
            continue;
        }
        let count = |mode: Mode| findings.iter().filter(|f| f.mode == mode).count();
        let (published, hardened) = (count(Mode::AsPublished), count(Mode::Hardened));
        writeln!(
            out,
            "{} ({}): {published} as published, {hardened} hardened",
            detection.name, detection.kind
        )?;
        for finding in findings {
            let mode = if finding.mode == Mode::AsPublished {
                "as published"
            } else {
                "hardened"
            };
            writeln!(
                out,
                "  [{} {}, {mode}] {}",
                finding.risk.severity,
                finding.risk.score,
                visible(&finding.risk.message)
            )?;
            for note in &finding.explanation.notes {
                writeln!(out, "    note   {}", visible(note))?;
            }
            let width = finding.row.keys().map(String::len).max().unwrap_or(0);
            for (key, value) in &finding.row {
                writeln!(out, "    {key:width$}  {}", visible(&text(value)))?;
            }
            for event in &finding.events {
                writeln!(
                    out,
                    "    event  {} {} (EID {})",
                    visible(&event.file),
                    visible(&event.position),
                    event.event_id
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The encoding as the report JSON names it (`utf-16le`).
fn encoding_name(encoding: Encoding) -> String {
    match serde_json::to_value(encoding) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
