//! One dropped file, which may be a container of log files.
//!
//! An [`Input`] sniffs magic numbers and stacks layers: gzip, tar and zip unwrap into
//! the members they hold (one level of nesting, so `.tar.gz` or a `.json.gz` in a
//! zip), and every text file at the bottom becomes a [`Member`] with its own report.

use super::containers::{Budget, Gzip, Tar, Zip};
use super::evtx::Evtx;
use super::text::TextIngest;
use super::{IngestStats, Position, RawEvent};

/// Containers inside containers beyond this depth are refused.
const MAX_CONTAINER_DEPTH: u8 = 2;
/// Bytes needed to see every magic number we test (tar's `ustar` sits at 257).
const MAGIC_BYTES: usize = 262;

/// A logical file: the input itself, or one file found inside a container.
#[derive(Clone, Debug, Default)]
pub struct Member {
    pub name: String,
    pub stats: IngestStats,
}

/// Where layers put what they find.
pub struct Sink<'a> {
    pub members: &'a mut Vec<Member>,
    /// Receives each Sysmon event with its member's index and line.
    pub on_event: &'a mut dyn FnMut(RawEvent, usize, u64),
    pub budget: &'a mut Budget,
    /// Whether irrelevant events are counted without parsing ([`super::prefilter`]).
    pub prefilter: bool,
    /// Records counted so far, across members.
    pub records: &'a mut u64,
}

impl Sink<'_> {
    /// Adds a member and returns its index.
    pub fn add_member(&mut self, name: &str, container: &str) -> usize {
        let mut stats = IngestStats::default();
        if !container.is_empty() {
            stats.container = Some(container.to_string());
        }
        self.members.push(Member {
            name: name.to_string(),
            stats,
        });
        self.members.len() - 1
    }

    /// Records a problem with a container: on the last member it produced, else on a new one.
    pub fn container_problem(&mut self, first_member: usize, name: &str, container: &str, reason: String) {
        if self.members.len() > first_member {
            if let Some(last) = self.members.last_mut() {
                last.stats.skip_at(Position::Container(container.to_string()), reason);
            }
        } else {
            let member = self.add_member(name, container);
            self.members[member].stats.format = "unreadable";
            self.members[member].stats.error = Some(reason);
        }
    }
}

/// One layer of an input: not yet sniffed, a text file, or a container.
pub enum Layer {
    Start {
        name: String,
        container: String,
        depth: u8,
        head: Vec<u8>,
    },
    Text {
        member: usize,
        reader: Box<TextIngest>,
    },
    Gzip(Box<Gzip>),
    Tar(Box<Tar>),
    Zip(Box<Zip>),
    Evtx(Box<Evtx>),
    /// A format recognised but not read; its bytes are only counted.
    Refused {
        member: usize,
    },
    Closed,
}

impl Layer {
    /// A layer whose kind is decided by its first bytes; `container` names the layers above.
    pub fn start(name: String, container: String, depth: u8) -> Self {
        Layer::Start {
            name,
            container,
            depth,
            head: Vec::new(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8], sink: &mut Sink<'_>) {
        match self {
            Layer::Start { head, .. } => {
                head.extend_from_slice(chunk);
                if head.len() >= MAGIC_BYTES {
                    self.open(sink);
                }
            }
            Layer::Text { member, reader } => {
                let member = *member;
                let before = reader.stats.records();
                reader.feed(chunk, &mut |event, line| (sink.on_event)(event, member, line));
                *sink.records += reader.stats.records() - before;
            }
            Layer::Gzip(gzip) => gzip.feed(chunk, sink),
            Layer::Tar(tar) => tar.feed(chunk, sink),
            Layer::Zip(zip) => zip.feed(chunk, sink),
            Layer::Evtx(evtx) => evtx.feed(chunk, sink),
            Layer::Refused { member } => sink.members[*member].stats.bytes += chunk.len() as u64,
            Layer::Closed => {}
        }
    }

    pub fn finish(&mut self, sink: &mut Sink<'_>) {
        if let Layer::Start { .. } = self {
            self.open(sink);
        }
        match std::mem::replace(self, Layer::Closed) {
            Layer::Text { member, mut reader } => {
                reader.finish(&mut |event, line| (sink.on_event)(event, member, line));
                let container = sink.members[member].stats.container.take();
                sink.members[member].stats = reader.stats;
                sink.members[member].stats.container = container;
            }
            Layer::Gzip(mut gzip) => gzip.finish(sink),
            Layer::Tar(mut tar) => tar.finish(sink),
            Layer::Zip(mut zip) => zip.finish(sink),
            Layer::Evtx(mut evtx) => evtx.finish(sink),
            Layer::Start { .. } | Layer::Refused { .. } | Layer::Closed => {}
        }
    }

    /// Decides the layer's kind from its first bytes, then feeds them to it.
    fn open(&mut self, sink: &mut Sink<'_>) {
        let Layer::Start {
            name,
            container,
            depth,
            head,
        } = std::mem::replace(self, Layer::Closed)
        else {
            return;
        };
        let kind = container_kind(&head);
        let refuse = |sink: &mut Sink<'_>, reason: String| {
            let member = sink.add_member(&name, &container);
            sink.members[member].stats.format = "unsupported";
            sink.members[member].stats.error = Some(reason);
            Layer::Refused { member }
        };
        *self = match kind {
            Some("EVTX") => Layer::Evtx(Box::new(Evtx::new(sink.add_member(&name, &container)))),
            Some("7-Zip") => refuse(sink, "7-Zip archives are not opened; extract them first".to_string()),
            Some(kind) if depth >= MAX_CONTAINER_DEPTH => refuse(
                sink,
                format!("a {kind} archive nested this deep is not opened (one level of nesting is read)"),
            ),
            Some("gzip") => Layer::Gzip(Box::new(Gzip::new(name, container, depth, sink))),
            Some("tar") => Layer::Tar(Box::new(Tar::new(name, container, depth, sink))),
            Some(_) => Layer::Zip(Box::new(Zip::new(name, container, depth, sink))),
            None => {
                let member = sink.add_member(&name, &container);
                Layer::Text {
                    member,
                    reader: Box::new(TextIngest::new(sink.prefilter)),
                }
            }
        };
        self.feed(&head, sink);
    }
}

/// Containers and binary formats recognised by their magic numbers.
fn container_kind(head: &[u8]) -> Option<&'static str> {
    match head {
        [b'E', b'l', b'f', b'F', b'i', b'l', b'e', 0, ..] => Some("EVTX"),
        [0x1F, 0x8B, ..] => Some("gzip"),
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Some("zip"),
        [b'7', b'z', 0xBC, 0xAF, ..] => Some("7-Zip"),
        _ if head.get(257..262) == Some(b"ustar") => Some("tar"),
        _ => None,
    }
}

/// One file given to the analysis, read chunk by chunk.
pub struct Input {
    layer: Layer,
    members: Vec<Member>,
    budget: Budget,
    prefilter: bool,
    records: u64,
}

impl Input {
    pub fn new(name: &str) -> Self {
        Self::with_prefilter(name, true)
    }

    /// An input whose irrelevant events are parsed in full when `prefilter` is false.
    pub fn with_prefilter(name: &str, prefilter: bool) -> Self {
        Self {
            layer: Layer::start(name.to_string(), String::new(), 0),
            members: Vec::new(),
            budget: Budget::default(),
            prefilter,
            records: 0,
        }
    }

    /// Records read so far, in every member (counted ones included).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Feeds the next chunk; events arrive with their member's index and line.
    pub fn feed(&mut self, chunk: &[u8], on_event: &mut dyn FnMut(RawEvent, usize, u64)) {
        self.budget.read += chunk.len() as u64;
        self.with_sink(on_event, |layer, sink| layer.feed(chunk, sink));
    }

    /// The reader of this input when it is a text file itself (not in a container): its
    /// only member, number 0.
    pub fn plain_text(&mut self) -> Option<&mut TextIngest> {
        match &mut self.layer {
            Layer::Text { member: 0, reader } => Some(reader),
            _ => None,
        }
    }

    /// Ends the input and returns every member's report, in the order they were found.
    pub fn finish(mut self, on_event: &mut dyn FnMut(RawEvent, usize, u64)) -> Vec<Member> {
        self.with_sink(on_event, |layer, sink| layer.finish(sink));
        self.members
    }

    fn with_sink(
        &mut self,
        on_event: &mut dyn FnMut(RawEvent, usize, u64),
        run: impl FnOnce(&mut Layer, &mut Sink<'_>),
    ) {
        let mut sink = Sink {
            members: &mut self.members,
            on_event,
            budget: &mut self.budget,
            prefilter: self.prefilter,
            records: &mut self.records,
        };
        run(&mut self.layer, &mut sink);
    }
}
