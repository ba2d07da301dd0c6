//! Sysmon Lens finds msiexec abuse (MITRE ATT&CK T1218.007) in Sysmon logs with
//! Splunk's two published detections, and annotates findings as Splunk ES does.
//!
//! The pipeline is ingest → normalize → detect → annotate → report. It works on bytes
//! only: an [`Analyzer`] is fed each file's chunks and finishes into a [`Report`], so
//! a file larger than memory is read without being held. Files of one analysis are
//! one data set: a process in one file joins its connections in another.
//!
//! ```
//! let xml = br#"<Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID>
//! <Computer>WS1</Computer></System><EventData><Data Name='Image'>C:\Windows\System32\cmd.exe</Data>
//! <Data Name='ParentImage'>C:\Windows\System32\msiexec.exe</Data></EventData></Event>"#;
//! let report = sysmon_lens::analyze([("a.xml", &xml[..])]);
//! // One row as the published search prints it, and the same row in the hardened reading.
//! assert_eq!(report.findings.len(), 2);
//! assert_eq!(report.findings[0].row["process_name"], "cmd.exe");
//! ```

pub mod annotate;
pub mod browse;
pub mod demo;
pub mod detect;
#[cfg(feature = "generate")]
pub mod generate;
pub mod ingest;
pub mod normalize;
pub mod report;
#[cfg(target_arch = "wasm32")]
mod wasm;

use detect::Detections;
use ingest::segments::{self, Source};
use ingest::{Input, RawEvent};
use normalize::arena::Arena;
use normalize::lookup::Lookup;
use normalize::{Cim, Origin, time};
pub use report::Report;
use report::coverage::Coverage;
use report::{FileReport, Summary};

/// How many distinct users the summary lists.
const MAX_SUMMARY_USERS: usize = 1000;
/// How many bytes of record text an analysis keeps, over all events a detection may report.
pub const MAX_RECORD_TEXT_TOTAL: usize = 16 << 20;

/// One analysis over any number of files, fed in chunks.
#[derive(Default)]
pub struct Analyzer {
    files: Vec<FileReport>,
    current: Option<OpenFile>,
    detections: Detections,
    /// Every process creation and network connection, for process trees and joins.
    arena: Arena,
    summary: Summary,
    first: Option<jiff::Timestamp>,
    last: Option<jiff::Timestamp>,
    /// Records read in files already ended.
    records_done: u64,
    /// The record text of each event a detection may report, while the total allows.
    records: report::Records,
    /// Which of the events ingest kept a record for are worth keeping it.
    record_filter: detect::RecordFilter,
    /// True to parse every event in full (the prefilter's reference, for tests and benchmarks).
    parse_everything: bool,
}

struct OpenFile {
    input: Input,
    /// Index in the report's file list of this input's first member.
    first_member: usize,
    /// Per member of the input.
    coverage: Vec<Coverage>,
}

impl Analyzer {
    pub fn new() -> Self {
        Self::default()
    }

    /// An analysis whose hardened readings use `options` (e.g. the user's discovery list).
    pub fn with_options(options: detect::Options) -> Self {
        Self {
            detections: Detections::new(options),
            ..Self::default()
        }
    }

    /// Parses every event in full with the parser, instead of counting those no
    /// detection reads and building plain XML events and JSON records in one pass; the
    /// report is the same, only slower ([`ingest::prefilter`], [`ingest::xml::extract`],
    /// [`ingest::json::extract`]).
    pub fn without_prefilter(mut self) -> Self {
        self.parse_everything = true;
        self
    }

    /// Starts a new file (a log, or an archive of logs); a file still open is ended first.
    pub fn begin_file(&mut self, name: &str) {
        self.end_file();
        self.current = Some(OpenFile {
            input: Input::with_prefilter(name, !self.parse_everything),
            first_member: self.files.len(),
            coverage: Vec::new(),
        });
    }

    /// Feeds the open file's next bytes (any chunk size, including one byte).
    pub fn feed(&mut self, chunk: &[u8]) {
        let Some(mut file) = self.current.take() else {
            return;
        };
        let (first, coverage) = (file.first_member, &mut file.coverage);
        file.input.feed(chunk, &mut |event, member, line| {
            self.observe(coverage, first, member, line, event)
        });
        self.current = Some(file);
    }

    /// Ends the open file, reporting a truncated last record if there is one.
    pub fn end_file(&mut self) {
        let Some(file) = self.current.take() else {
            return;
        };
        let (first, mut coverage) = (file.first_member, file.coverage);
        let members = file
            .input
            .finish(&mut |event, member, line| self.observe(&mut coverage, first, member, line, event));
        self.add_members(members, coverage);
    }

    /// Reads whole files (each opened by `open`) on `threads` threads, a file to a thread,
    /// taken back in order: the report is the one reading them one after another gives.
    /// `failed` hears of each file that could not be opened (it is left out) or read to
    /// its end (what was read is kept).
    pub fn read_files<'a>(
        &mut self,
        names: &[String],
        open: &(dyn Fn(usize) -> std::io::Result<Box<dyn Source + 'a>> + Sync),
        threads: usize,
        failed: &mut dyn FnMut(usize, &segments::Failure),
    ) {
        self.end_file();
        segments::read_whole_files(names, open, !self.parse_everything, threads, &mut |index, file| {
            if let Some(failure) = &file.failure {
                failed(index, failure);
            }
            if let Some(segments::Failure::Open(_)) = file.failure {
                return;
            }
            let first = self.files.len();
            let mut coverage = Vec::new();
            for (event, member, line) in file.events {
                self.observe(&mut coverage, first, member, line, event);
            }
            self.add_members(file.members, coverage);
        });
    }

    /// Adds the report of each member of a file read to its end.
    fn add_members(&mut self, members: Vec<ingest::Member>, mut coverage: Vec<Coverage>) {
        coverage.resize_with(members.len(), Coverage::default);
        self.records_done += members.iter().map(|member| member.stats.records()).sum::<u64>();
        for (member, coverage) in members.into_iter().zip(coverage) {
            self.files.push(FileReport {
                name: member.name,
                ingest: member.stats,
                coverage: coverage.into(),
            });
        }
    }

    /// Reads one whole file from a source that can be read at any offset (a file on
    /// disk natively). A large UTF-8 XML or JSON Lines log is cut at record boundaries
    /// into parts of about `part_bytes` ([`segments::PART_BYTES`] is a good size) read on
    /// `threads` threads ([`ingest::segments`]); the report is the one feeding the file
    /// in order gives. On a read error, what was read before it is kept. Returns how
    /// many parts after the first were read on other threads.
    pub fn read_file(
        &mut self,
        name: &str,
        source: &dyn Source,
        threads: usize,
        part_bytes: u64,
    ) -> std::io::Result<usize> {
        self.begin_file(name);
        let cuts = if threads > 1 {
            segments::cuts(source, part_bytes)?
        } else {
            Vec::new()
        };
        let head_end = cuts.first().copied().unwrap_or(source.size());
        let mut lines_before = 0;
        segments::read_range(source, 0..head_end, &mut |block| {
            if !cuts.is_empty() {
                lines_before += memchr::memchr_iter(b'\n', block).count() as u64;
            }
            self.feed(block);
        })?;
        if cuts.is_empty() {
            return Ok(0);
        }
        let Some(mut file) = self.current.take() else {
            return Ok(0);
        };
        let (first, coverage) = (file.first_member, &mut file.coverage);
        let mut observe = |event, member, line| self.observe(coverage, first, member, line, event);
        let read = match file.input.plain_text() {
            Some(text) => segments::read_rest(text, source, &cuts, lines_before, threads, &mut |event, line| {
                observe(event, 0, line)
            }),
            None => segments::read_range(source, head_end..source.size(), &mut |block| {
                file.input.feed(block, &mut observe)
            })
            .map(|()| 0),
        };
        self.current = Some(file);
        read
    }

    /// Records read so far, across files (events counted by the prefilter included).
    pub fn events_read(&self) -> u64 {
        self.records_done + self.current.as_ref().map_or(0, |file| file.input.records())
    }

    /// Bytes of record text kept so far, for the events a detection may report.
    pub fn record_text_bytes(&self) -> usize {
        self.records.bytes()
    }

    /// Ends the analysis: runs the searches' final steps and builds the report.
    pub fn finish(self) -> Report {
        self.finish_with_rows().0
    }

    /// Ends the analysis as [`finish`](Self::finish) does, keeping the arena's rows
    /// to be browsed.
    pub fn finish_browsable(self) -> (Report, browse::Browse) {
        let (report, arena, lookup) = self.finish_with_rows();
        (report, browse::Browse::new(arena, lookup))
    }

    fn finish_with_rows(mut self) -> (Report, Arena, Lookup) {
        self.end_file();
        self.summary.first_time = self.first.map(time::ctime);
        self.summary.last_time = self.last.map(time::ctime);
        let lookup = Lookup::new(&mut self.arena);
        let matches = self.detections.finish(&mut self.arena, &lookup);
        let report = report::build(self.files, self.summary, matches, &self.arena, &lookup, &self.records);
        (report, self.arena, lookup)
    }

    /// Takes in one event of member `member` of the file whose first member is the
    /// report's file `first`, at `line`.
    fn observe(&mut self, coverage: &mut Vec<Coverage>, first: usize, member: usize, line: u64, mut event: RawEvent) {
        let origin = Origin {
            file: first + member,
            line,
        };
        if let Some(record) = event.record.take()
            && self.record_filter.keeps(&event)
        {
            self.records.keep(origin, record, MAX_RECORD_TEXT_TOTAL);
        }
        let time = time::event_time(&event);
        if let Some(time) = &time {
            self.first = Some(self.first.map_or(time.at, |t| t.min(time.at)));
            self.last = Some(self.last.map_or(time.at, |t| t.max(time.at)));
        }
        let cim = normalize::to_cim(&event);
        if coverage.len() <= member {
            coverage.resize_with(member + 1, Coverage::default);
        }
        coverage[member].observe(&cim, time.as_ref());
        let row = self.arena.observe(&cim, time.as_ref(), origin);
        let (host, user) = match &cim {
            Cim::Process(row) => (&row.dest, &row.user),
            Cim::Traffic(row) => (&row.dvc, &row.user),
            Cim::Other => (&event.computer, &None),
        };
        if let Some(host) = host.as_ref().filter(|host| !self.summary.hosts.contains(*host)) {
            self.summary.hosts.insert(host.clone());
        }
        if let Some(user) = user.as_ref().filter(|user| !self.summary.users.contains(*user))
            && self.summary.users.len() < MAX_SUMMARY_USERS
        {
            self.summary.users.insert(user.clone());
        }
        self.detections
            .observe(&event, &cim, time.as_ref(), origin, row, &mut self.arena);
    }
}

/// Analyzes whole files held in memory; the same as feeding each one in a single chunk.
pub fn analyze<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Report {
    let mut analyzer = Analyzer::new();
    for (name, bytes) in files {
        analyzer.begin_file(name);
        analyzer.feed(bytes);
    }
    analyzer.finish()
}
