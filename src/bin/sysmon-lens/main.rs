//! Command-line adapter: reads files and directories, feeds the core in chunks and
//! prints the report as a table, one JSON document, or CSV.
//!
//! Exit status, as ripgrep's, decided once the report is printed: 0 when there are no
//! findings (none but suppressed ones), 1 when there are, 2 when a path could not be read, a file named on the command
//! line gave nothing to analyze (empty, not a log), or the arguments or the output failed.

mod scan;
mod table;
mod visible;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use scan::{Options, Scanned, scan, shown};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use sysmon_lens::Report;
use sysmon_lens::generate::{Plan, Shape, generate};
use sysmon_lens::report::csv::findings_csv;
use sysmon_lens::report::suppress::{Rule, parse_rules};
use visible::visible;

const NO_FINDINGS: u8 = 0;
const FINDINGS: u8 = 1;
const ERROR: u8 = 2;

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
        /// Parse every event in full with the parser, without the prefilter or the one-pass XML and JSON readers (same report, slower; the reference).
        #[arg(long)]
        parse_everything: bool,
        /// Suppression rules to apply: a JSON list of {detection_id, field, match, value}, as the page exports them. Suppressed findings stay in the JSON report, marked; the table and CSV leave them out, and risk is totalled without them.
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Threads a large XML or JSON Lines log is read on (same report with any number).
        #[arg(long, default_value_t = default_threads(), value_parser = clap::value_parser!(u16).range(1..=256))]
        threads: u16,
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

/// Every core the machine offers.
fn default_threads() -> u16 {
    std::thread::available_parallelism().map_or(1, |n| u16::try_from(n.get()).unwrap_or(u16::MAX).min(256))
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
    let (format, paths, rules, options) = match Cli::parse().command {
        Command::Scan {
            format,
            timing,
            parse_everything,
            rules,
            threads,
            paths,
        } => (
            format,
            paths,
            rules,
            Options {
                timing,
                parse_everything,
                threads: usize::from(threads),
            },
        ),
        Command::Demo => {
            print!("{}", sysmon_lens::demo::sample());
            return ExitCode::from(NO_FINDINGS);
        }
        Command::Generate {
            shape,
            size,
            seed,
            out,
            manifest,
        } => {
            return match write_generated(Plan::new(shape, size, seed), &out, manifest.as_deref()) {
                Ok(()) => ExitCode::from(NO_FINDINGS),
                Err(err) => {
                    eprintln!("sysmon-lens: {err:#}");
                    ExitCode::from(ERROR)
                }
            };
        }
    };
    let rules = match rules.as_deref().map(read_rules).transpose() {
        Ok(rules) => rules,
        Err(err) => {
            eprintln!("sysmon-lens: {err:#}");
            return ExitCode::from(ERROR);
        }
    };
    let scanned = scan(&paths, options).map(|mut scanned| {
        if let Some(rules) = rules {
            scanned.report.suppress(rules);
        }
        scanned
    });
    match scanned.and_then(|scanned| print(&scanned.report, format).map(|()| scanned)) {
        Ok(scanned) => ExitCode::from(exit_status(&scanned)),
        Err(err) => {
            eprintln!("sysmon-lens: {err:#}");
            ExitCode::from(ERROR)
        }
    }
}

/// The exit status of a scan whose report has been printed.
fn exit_status(scanned: &Scanned) -> u8 {
    let unread = scanned.unread_named_files();
    if !unread.is_empty() {
        let names: Vec<String> = unread.iter().map(|name| visible(name).to_string()).collect();
        eprintln!("sysmon-lens: nothing could be read from {}", names.join(", "));
    }
    if scanned.failures > 0 || !unread.is_empty() {
        ERROR
    } else if scanned.report.active_findings().next().is_none() {
        NO_FINDINGS
    } else {
        FINDINGS
    }
}

/// The suppression rules in `path`, or why they cannot be used.
fn read_rules(path: &Path) -> Result<Vec<Rule>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", shown(path)))?;
    parse_rules(&text).with_context(|| format!("{}: suppression rules refused", shown(path)))
}

fn write_generated(plan: Plan, out: &Path, manifest_path: Option<&Path>) -> Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("cannot create {}", shown(out)))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    let manifest = generate(plan, &mut writer).with_context(|| format!("cannot write {}", shown(out)))?;
    writer.flush()?;
    eprintln!(
        "{}: {} bytes, {} events, {} planted scenarios ({})",
        shown(out),
        manifest.bytes,
        manifest.events,
        manifest.planted.len(),
        manifest.shape
    );
    if let Some(path) = manifest_path {
        let text = serde_json::to_string_pretty(&manifest)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", shown(path)))?;
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
        OutputFormat::Csv => {
            let findings = report
                .active_findings()
                .map(serde_json::to_value)
                .collect::<serde_json::Result<Vec<_>>>()?;
            out.write_all(findings_csv(&findings).as_bytes())?;
        }
        OutputFormat::Table => table::print_table(report, &mut out)?,
    }
    out.flush()?;
    Ok(())
}
