//! Command-line adapter: reads files and directories, feeds the core in chunks and
//! prints the report as a table, one JSON document, or CSV.
//!
//! Exit status: 0 when there are no findings, 1 when there are, 2 on an error.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use sysmon_lens::detect::Mode;
use sysmon_lens::generate::{Plan, Shape, generate};
use sysmon_lens::{Analyzer, Report};

/// Files are read in slices of this size, as the page reads them.
const CHUNK_BYTES: usize = 1 << 20;

#[derive(Parser)]
#[command(
    name = "sysmon-lens",
    version,
    about = "Finds msiexec abuse (ATT&CK T1218.007) in Sysmon logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze Sysmon logs (files or directories, walked recursively) as one data set.
    Scan {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Print bytes, events, seconds, MB/s and events/s to standard error.
        #[arg(long)]
        timing: bool,
        /// Parse every event in full, without the prefilter (same report, slower; for comparison).
        #[arg(long)]
        parse_everything: bool,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the built-in demonstration sample (Sysmon XML) to standard output.
    Demo,
    /// Write a generated Sysmon log with planted scenarios, for benchmarks and large tests.
    Generate {
        /// The log's shape.
        #[arg(long, value_parser = parse_shape, default_value = "xml")]
        shape: Shape,
        /// About how many bytes to write: 500M, 4G, 1000000 …
        #[arg(long, value_parser = parse_size)]
        size: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the log.
        #[arg(long)]
        out: PathBuf,
        /// Where to write what was planted and the counts by EventID (JSON).
        #[arg(long)]
        manifest: Option<PathBuf>,
    },
}

fn parse_shape(name: &str) -> Result<Shape, String> {
    Shape::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Shape::ALL.iter().map(|shape| shape.name()).collect();
        format!("unknown shape {name:?}; one of: {}", names.join(", "))
    })
}

fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, scale) = match text.trim().to_ascii_uppercase() {
        t if t.ends_with('G') => (t[..t.len() - 1].to_string(), 1 << 30),
        t if t.ends_with('M') => (t[..t.len() - 1].to_string(), 1 << 20),
        t if t.ends_with('K') => (t[..t.len() - 1].to_string(), 1 << 10),
        t => (t, 1),
    };
    digits
        .parse::<u64>()
        .map(|n| n * scale)
        .map_err(|_| format!("not a size: {text:?} (examples: 500M, 4G)"))
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Table,
    Json,
    Csv,
}

fn main() -> ExitCode {
    let (format, paths, scan_options) = match Cli::parse().command {
        Command::Scan {
            format,
            timing,
            parse_everything,
            paths,
        } => (format, paths, (timing, parse_everything)),
        Command::Demo => {
            print!("{}", sysmon_lens::demo::sample());
            return ExitCode::from(0);
        }
        Command::Generate {
            shape,
            size,
            seed,
            out,
            manifest,
        } => {
            return match write_generated(Plan::new(shape, size, seed), &out, manifest.as_deref()) {
                Ok(()) => ExitCode::from(0),
                Err(err) => {
                    eprintln!("sysmon-lens: {err:#}");
                    ExitCode::from(2)
                }
            };
        }
    };
    match scan(&paths, scan_options).and_then(|report| print(&report, format).map(|()| report)) {
        Ok(report) if report.findings.is_empty() => ExitCode::from(0),
        Ok(_) => ExitCode::from(1),
        Err(err) => {
            eprintln!("sysmon-lens: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn scan(paths: &[PathBuf], (timing, parse_everything): (bool, bool)) -> Result<Report> {
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files)?;
    }
    if files.is_empty() {
        bail!(
            "no files found under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let started = std::time::Instant::now();
    let mut analyzer = Analyzer::new();
    if parse_everything {
        analyzer = analyzer.without_prefilter();
    }
    let mut chunk = vec![0; CHUNK_BYTES];
    let mut bytes = 0u64;
    for path in &files {
        let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        analyzer.begin_file(&path.display().to_string());
        loop {
            let read = file
                .read(&mut chunk)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if read == 0 {
                break;
            }
            analyzer.feed(&chunk[..read]);
            bytes += read as u64;
        }
        analyzer.end_file();
    }
    let events = analyzer.events_read();
    let report = analyzer.finish();
    if timing {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{bytes} bytes, {events} events in {seconds:.3} s: {:.0} MB/s, {:.0} events/s{}",
            bytes as f64 / 1e6 / seconds,
            events as f64 / seconds,
            if parse_everything { " (every event parsed)" } else { "" }
        );
    }
    for file in &report.files {
        if let Some(error) = &file.ingest.error {
            eprintln!("{}: {error}", file.name);
        }
        for skip in &file.ingest.skipped {
            eprintln!("{}: {}: {}", file.name, skip.position, skip.reason);
        }
        let unlisted = file.ingest.skipped_count - file.ingest.skipped.len() as u64;
        if unlisted > 0 {
            eprintln!("{}: {unlisted} more records skipped", file.name);
        }
    }
    Ok(report)
}

fn write_generated(plan: Plan, out: &Path, manifest_path: Option<&Path>) -> Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let manifest = generate(plan, &mut writer).with_context(|| format!("cannot write {}", out.display()))?;
    writer.flush()?;
    eprintln!(
        "{}: {} bytes, {} events, {} planted scenarios ({})",
        out.display(),
        manifest.bytes,
        manifest.events,
        manifest.planted.len(),
        manifest.shape
    );
    if let Some(path) = manifest_path {
        let text = serde_json::to_string_pretty(&manifest)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A file, or every file under a directory in name order.
fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries = std::fs::read_dir(path)
        .with_context(|| format!("cannot list {}", path.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort();
    for entry in entries {
        collect_files(&entry, files)?;
    }
    Ok(())
}

fn print(report: &Report, format: OutputFormat) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut out, report)?;
            writeln!(out)?;
        }
        OutputFormat::Csv => print_csv(report, &mut out)?,
        OutputFormat::Table => print_table(report, &mut out)?,
    }
    Ok(())
}

/// Every row field any detection prints, in first-seen order.
fn row_columns(report: &Report) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for finding in &report.findings {
        for key in finding.row.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    columns
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

fn print_csv(report: &Report, out: &mut impl Write) -> Result<()> {
    let columns = row_columns(report);
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec![
        "detection_id",
        "detection",
        "mode",
        "severity",
        "risk_score",
        "risk_message",
    ];
    header.extend(columns.iter().map(String::as_str));
    writer.write_record(&header)?;
    for finding in &report.findings {
        let mut record = vec![
            finding.detection_id.to_string(),
            finding.detection.to_string(),
            serde_json::to_value(finding.mode)?
                .as_str()
                .unwrap_or_default()
                .to_string(),
            finding.risk.severity.to_string(),
            finding.risk.score.to_string(),
            finding.risk.message.clone(),
        ];
        record.extend(columns.iter().map(|column| text(finding.row.get(column))));
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

fn print_table(report: &Report, out: &mut impl Write) -> Result<()> {
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
            .map(|c| format!(" in {c}"))
            .unwrap_or_default();
        let encoding = serde_json::to_value(ingest.encoding)?;
        writeln!(
            out,
            "  {}  [{}{container}, {}]  {}  other: {}  skipped: {}",
            file.name,
            ingest.format,
            encoding.as_str().unwrap_or_default(),
            if events.is_empty() {
                "no Sysmon events".to_string()
            } else {
                events.join(", ")
            },
            ingest.other_events,
            ingest.skipped_count
        )?;
        if let Some(error) = &ingest.error {
            writeln!(out, "      not read: {error}")?;
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
            writeln!(out, "      cannot see: {gap}")?;
        }
    }
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "No findings.")?;
        return Ok(());
    }
    for detection in &report.detections {
        let findings: Vec<_> = report
            .findings
            .iter()
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
                finding.risk.severity, finding.risk.score, finding.risk.message
            )?;
            for note in &finding.explanation.notes {
                writeln!(out, "    note   {note}")?;
            }
            let width = finding.row.keys().map(String::len).max().unwrap_or(0);
            for (key, value) in &finding.row {
                writeln!(out, "    {key:width$}  {}", text(Some(value)))?;
            }
            for event in &finding.events {
                writeln!(
                    out,
                    "    event  {} {} (EID {})",
                    event.file, event.position, event.event_id
                )?;
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "Risk by object")?;
    for total in &report.risk_totals {
        let plural = if total.findings == 1 { "" } else { "s" };
        writeln!(
            out,
            "  {:>4}  {:6}  {}  ({} finding{plural})",
            total.score, total.kind, total.object, total.findings
        )?;
    }
    Ok(())
}
