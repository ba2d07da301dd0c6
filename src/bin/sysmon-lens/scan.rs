//! Reads the paths named on the command line, files and directories walked in name order,
//! into one analysis, on several threads: a large plain text log cut into parts
//! ([`Analyzer::read_file`]), smaller files a file to a thread ([`Analyzer::read_files`]).
//!
//! A path that cannot be opened, listed or read is reported on standard error at once and
//! the others are still read, as ripgrep does; each such failure makes the exit status 2.

use crate::visible::visible;
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use sysmon_lens::ingest::segments::{Failure, PART_BYTES, Source};
use sysmon_lens::{Analyzer, Report};

pub struct Options {
    /// Print bytes, events and rates to standard error.
    pub timing: bool,
    /// Turn the prefilter off.
    pub parse_everything: bool,
    /// Threads a large plain text log is read on.
    pub threads: usize,
}

pub struct Scanned {
    pub report: Report,
    /// How many paths could not be opened, listed or read.
    pub failures: usize,
    /// The files named on the command line (not met in a directory), as the report names them.
    named_files: Vec<String>,
}

impl Scanned {
    /// Named files of which nothing could be read: empty, not a log, or an archive none of
    /// whose members is one. Files met while walking a directory are only listed.
    pub fn unread_named_files(&self) -> Vec<&str> {
        self.named_files
            .iter()
            .filter(|name| {
                self.report
                    .files
                    .iter()
                    .filter(|file| is_from(&file.name, name))
                    .all(|file| file.ingest.error.is_some())
            })
            .map(String::as_str)
            .collect()
    }
}

/// Whether the report's file `member` is the file `name` or a member of that archive.
fn is_from(member: &str, name: &str) -> bool {
    member
        .strip_prefix(name)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

struct ToRead {
    path: PathBuf,
    named: bool,
    /// Its size when listed: a file this large is read in parts, smaller ones whole.
    size: u64,
}

/// Files from this size on are cut into parts ([`Analyzer::read_file`]); smaller ones are
/// read whole, several at a time ([`Analyzer::read_files`]).
const PARTS_FROM_BYTES: u64 = 2 * PART_BYTES;

pub fn scan(paths: &[PathBuf], options: Options) -> Result<Scanned> {
    let mut failures = 0;
    let mut files = Vec::new();
    for path in paths {
        failures += collect_files(path, true, &mut files);
    }
    if files.is_empty() {
        if failures > 0 {
            bail!("no file could be read");
        }
        let names: Vec<String> = paths.iter().map(|p| shown(p)).collect();
        bail!("no files found under {}", names.join(", "));
    }
    let started = std::time::Instant::now();
    let mut analyzer = Analyzer::new();
    if options.parse_everything {
        analyzer = analyzer.without_prefilter();
    }
    let mut read = Reading {
        analyzer,
        failures,
        bytes: 0,
        named_files: Vec::new(),
    };
    let mut from = 0;
    while from < files.len() {
        // A run of files read whole (several at a time), or one file read in parts.
        let whole = files[from..]
            .iter()
            .take_while(|file| options.threads > 1 && file.size < PARTS_FROM_BYTES)
            .count();
        if whole > 0 {
            read.whole_files(&files[from..from + whole], options.threads);
            from += whole;
        } else {
            read.in_parts(&files[from], options.threads);
            from += 1;
        }
    }
    let Reading {
        analyzer,
        failures,
        bytes,
        named_files,
    } = read;
    let events = analyzer.events_read();
    let report = analyzer.finish();
    if options.timing {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{bytes} bytes, {events} events in {seconds:.3} s: {:.0} MB/s, {:.0} events/s{}",
            bytes as f64 / 1e6 / seconds,
            events as f64 / seconds,
            if options.parse_everything {
                " (every event parsed)"
            } else {
                ""
            }
        );
    }
    print_file_notes(&report);
    Ok(Scanned {
        report,
        failures,
        named_files,
    })
}

/// The analysis as files are read into it, and what the command reports of them.
struct Reading {
    analyzer: Analyzer,
    failures: usize,
    bytes: u64,
    named_files: Vec<String>,
}

impl Reading {
    /// One file, cut into parts read on `threads` threads when it is a large plain log.
    fn in_parts(&mut self, file: &ToRead, threads: usize) {
        let source = match OnDisk::open(&file.path) {
            Ok(source) => source,
            Err(err) => return self.failed("open", &file.path, &err),
        };
        let name = file.path.display().to_string();
        if let Err(err) = self.analyzer.read_file(&name, &source, threads, PART_BYTES) {
            self.failed("read", &file.path, &err);
        }
        self.analyzer.end_file();
        self.bytes += source.size;
        if file.named {
            self.named_files.push(name);
        }
    }

    /// Files read whole, a file to each of `threads` threads.
    fn whole_files(&mut self, files: &[ToRead], threads: usize) {
        let names: Vec<String> = files.iter().map(|file| file.path.display().to_string()).collect();
        let open = |index: usize| OnDisk::open(&files[index].path).map(|source| Box::new(source) as Box<dyn Source>);
        let mut unopened = vec![false; files.len()];
        let mut failures = Vec::new();
        self.analyzer.read_files(&names, &open, threads, &mut |index, failure| {
            let (verb, err) = match failure {
                Failure::Open(err) => {
                    unopened[index] = true;
                    ("open", err)
                }
                Failure::Read(err) => ("read", err),
            };
            failures.push((index, verb, err.to_string()));
        });
        for (index, verb, err) in failures {
            self.failed(verb, &files[index].path, &err);
        }
        for ((file, name), unopened) in files.iter().zip(names).zip(unopened) {
            if !unopened {
                self.bytes += file.size;
                if file.named {
                    self.named_files.push(name);
                }
            }
        }
    }

    /// Reports a path that could not be opened or read; the exit status will say so.
    fn failed(&mut self, verb: &str, path: &Path, err: &dyn std::fmt::Display) {
        self.failures += 1;
        eprintln!("sysmon-lens: cannot {verb} {}: {err}", shown(path));
    }
}

/// A file read at any offset, from any thread (`pread`), as [`Analyzer::read_file`] reads it.
struct OnDisk {
    file: std::fs::File,
    /// Its size when opened: a log still being written is read up to there.
    size: u64,
}

impl OnDisk {
    fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        Ok(Self { file, size })
    }
}

impl Source for OnDisk {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        #[cfg(unix)]
        return std::os::unix::fs::FileExt::read_at(&self.file, buf, offset);
        #[cfg(windows)]
        return std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset);
    }
}

/// Per file, on standard error: why it was not read, and the records skipped.
fn print_file_notes(report: &Report) {
    for file in &report.files {
        let name = visible(&file.name);
        if let Some(error) = &file.ingest.error {
            eprintln!("{name}: {}", visible(error));
        }
        for skip in &file.ingest.skipped {
            eprintln!(
                "{name}: {}: {}",
                visible(&skip.position.to_string()),
                visible(&skip.reason)
            );
        }
        let unlisted = file.ingest.skipped_count - file.ingest.skipped.len() as u64;
        if unlisted > 0 {
            eprintln!("{name}: {unlisted} more records skipped");
        }
    }
}

/// Adds a file, or every file under a directory in name order; returns how many paths
/// could not be read, each already reported.
fn collect_files(path: &Path, named: bool, files: &mut Vec<ToRead>) -> usize {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) => {
            eprintln!("sysmon-lens: cannot read {}: {err}", shown(path));
            return 1;
        }
    };
    if !meta.is_dir() {
        files.push(ToRead {
            path: path.to_path_buf(),
            named,
            size: meta.len(),
        });
        return 0;
    }
    let listed = std::fs::read_dir(path).and_then(|entries| {
        entries
            .map(|entry| entry.map(|e| e.path()))
            .collect::<std::io::Result<Vec<_>>>()
    });
    let mut entries = match listed {
        Ok(entries) => entries,
        Err(err) => {
            eprintln!("sysmon-lens: cannot list {}: {err}", shown(path));
            return 1;
        }
    };
    entries.sort();
    entries.iter().map(|entry| collect_files(entry, false, files)).sum()
}

/// A path as the terminal should show it.
pub fn shown(path: &Path) -> String {
    visible(&path.display().to_string()).to_string()
}
