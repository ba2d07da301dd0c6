//! gzip, tar and zip, unwrapped as their bytes arrive.
//!
//! gzip (flate2's push decoder) and tar (headers parsed by the `tar` crate, contents
//! streamed) never hold more than a chunk. A zip's directory sits at its end, so a
//! zip is held compressed until it is complete, then read member by member. A
//! [`Budget`] stops decompression that looks like a bomb and keeps what was read.

use super::input::{Layer, Sink};
use std::io::{Read, Write};

/// Decompressed bytes allowed per input, whatever the ratio.
const MAX_INFLATED: u64 = 64 << 30;
/// Above this much output, output may be at most `MAX_RATIO` times the input read.
const RATIO_FLOOR: u64 = 256 << 20;
const MAX_RATIO: u64 = 1000;
/// A zip is held whole; larger ones are refused.
const MAX_ZIP_BYTES: usize = 1 << 30;
/// Compressed bytes given to the gzip decoder at a time, so one call's output stays small.
const GZIP_STEP: usize = 16 << 10;
const COPY_CHUNK: usize = 64 << 10;

/// Counts bytes read and inflated for one input and says when to stop.
#[derive(Debug, Default)]
pub struct Budget {
    pub read: u64,
    inflated: u64,
    stopped: bool,
}

impl Budget {
    /// Accounts for `more` inflated bytes; an error message once the limits are passed.
    fn inflate(&mut self, more: usize) -> Result<(), String> {
        if self.stopped {
            return Err(String::new());
        }
        self.inflated += more as u64;
        let ratio_exceeded = self.inflated > RATIO_FLOOR && self.inflated > self.read.max(1) * MAX_RATIO;
        if self.inflated > MAX_INFLATED || ratio_exceeded {
            self.stopped = true;
            return Err(format!(
                "decompression stopped: {} MiB from {} KiB read looks like a decompression bomb (limits: {}:1 above {} MiB, {} GiB in all); what was read before is analyzed",
                self.inflated >> 20,
                self.read >> 10,
                MAX_RATIO,
                RATIO_FLOOR >> 20,
                MAX_INFLATED >> 30
            ));
        }
        Ok(())
    }
}

fn nested(container: &str, kind: &str) -> String {
    if container.is_empty() {
        kind.to_string()
    } else {
        format!("{container}/{kind}")
    }
}

/// A gzip stream; trailing bytes after it are counted and ignored.
pub struct Gzip {
    name: String,
    container: String,
    first_member: usize,
    decoder: flate2::write::GzDecoder<Vec<u8>>,
    inner: Layer,
    trailing: u64,
    ended: bool,
    failed: bool,
}

impl Gzip {
    pub fn new(name: String, container: String, depth: u8, sink: &mut Sink<'_>) -> Self {
        let kind = nested(&container, "gzip");
        let inner_name = name.clone();
        Self {
            first_member: sink.members.len(),
            decoder: flate2::write::GzDecoder::new(Vec::new()),
            inner: Layer::start(inner_name, kind.clone(), depth + 1),
            name,
            container: kind,
            trailing: 0,
            ended: false,
            failed: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8], sink: &mut Sink<'_>) {
        let mut rest = chunk;
        while !rest.is_empty() && !self.failed {
            if self.ended {
                self.trailing += rest.len() as u64;
                return;
            }
            let step = &rest[..rest.len().min(GZIP_STEP)];
            match self.decoder.write(step) {
                Ok(0) => self.ended = true,
                Ok(used) => rest = &rest[used..],
                Err(err) => {
                    // What was inflated before the corruption is analyzed: flushing hands
                    // it over (and fails again on the corrupt data, which is expected).
                    let _ = self.decoder.flush();
                    self.pass_on(sink);
                    self.fail(format!("gzip stream is corrupt: {err}"), sink);
                }
            }
            self.pass_on(sink);
        }
    }

    pub fn finish(&mut self, sink: &mut Sink<'_>) {
        if !self.failed
            && let Err(err) = self.decoder.try_finish()
        {
            self.pass_on(sink);
            self.fail(
                format!("gzip stream is truncated ({err}); the events before the cut are analyzed"),
                sink,
            );
        }
        self.pass_on(sink);
        self.inner.finish(sink);
        if self.trailing > 0 {
            let reason = format!("{} bytes after the end of the gzip stream were ignored", self.trailing);
            sink.container_problem(self.first_member, &self.name, &self.container, reason);
        }
    }

    fn pass_on(&mut self, sink: &mut Sink<'_>) {
        let out = std::mem::take(self.decoder.get_mut());
        if out.is_empty() {
            return;
        }
        match sink.budget.inflate(out.len()) {
            Ok(()) => self.inner.feed(&out, sink),
            Err(reason) => self.fail(reason, sink),
        }
    }

    fn fail(&mut self, reason: String, sink: &mut Sink<'_>) {
        if !self.failed && !reason.is_empty() {
            self.inner.finish(sink);
            sink.container_problem(self.first_member, &self.name, &self.container, reason);
        }
        self.failed = true;
        self.inner = Layer::Closed;
    }
}

/// Where a tar entry's content goes.
enum Target {
    Member(Layer),
    /// A GNU long name for the next entry.
    LongName(Vec<u8>),
    /// PAX extended headers for the next entry.
    Pax(Vec<u8>),
    Skip,
}

enum TarState {
    Header,
    Content {
        remaining: u64,
        padding: u64,
        target: Target,
    },
    Padding(u64),
    End,
}

/// A tar stream: 512-byte headers, each followed by its entry's content.
pub struct Tar {
    name: String,
    container: String,
    depth: u8,
    first_member: usize,
    header: Vec<u8>,
    state: TarState,
    next_name: Option<String>,
}

impl Tar {
    pub fn new(name: String, container: String, depth: u8, sink: &mut Sink<'_>) -> Self {
        Self {
            name,
            container: nested(&container, "tar"),
            depth,
            first_member: sink.members.len(),
            header: Vec::with_capacity(512),
            state: TarState::Header,
            next_name: None,
        }
    }

    pub fn feed(&mut self, mut chunk: &[u8], sink: &mut Sink<'_>) {
        while !chunk.is_empty() {
            match &mut self.state {
                TarState::End => return,
                TarState::Header => {
                    let take = chunk.len().min(512 - self.header.len());
                    self.header.extend_from_slice(&chunk[..take]);
                    chunk = &chunk[take..];
                    if self.header.len() == 512 {
                        self.start_entry(sink);
                    }
                }
                TarState::Padding(left) => {
                    let take = (*left).min(chunk.len() as u64) as usize;
                    *left -= take as u64;
                    chunk = &chunk[take..];
                    if *left == 0 {
                        self.state = TarState::Header;
                    }
                }
                TarState::Content {
                    remaining,
                    padding,
                    target,
                } => {
                    let take = (*remaining).min(chunk.len() as u64) as usize;
                    match target {
                        Target::Member(layer) => layer.feed(&chunk[..take], sink),
                        Target::LongName(bytes) | Target::Pax(bytes) => bytes.extend_from_slice(&chunk[..take]),
                        Target::Skip => {}
                    }
                    *remaining -= take as u64;
                    chunk = &chunk[take..];
                    if *remaining == 0 {
                        let padding = *padding;
                        self.end_entry(sink);
                        self.state = if padding > 0 {
                            TarState::Padding(padding)
                        } else {
                            TarState::Header
                        };
                    }
                }
            }
        }
    }

    pub fn finish(&mut self, sink: &mut Sink<'_>) {
        if let TarState::Content { .. } = self.state {
            self.end_entry(sink);
            let reason = "the tar archive ends inside this member; what it held up to there is analyzed".to_string();
            sink.container_problem(self.first_member, &self.name, &self.container, reason);
        }
        self.state = TarState::End;
    }

    fn start_entry(&mut self, sink: &mut Sink<'_>) {
        let block = std::mem::take(&mut self.header);
        if block.iter().all(|&b| b == 0) {
            self.state = TarState::End;
            return;
        }
        let header = tar::Header::from_byte_slice(&block);
        let size = match header.entry_size() {
            Ok(size) => size,
            Err(err) => {
                let reason = format!("unreadable tar header: {err}; the rest of the archive is skipped");
                sink.container_problem(self.first_member, &self.name, &self.container, reason);
                self.state = TarState::End;
                return;
            }
        };
        let kind = header.entry_type();
        let path = self
            .next_name
            .take()
            .unwrap_or_else(|| String::from_utf8_lossy(&header.path_bytes()).into_owned());
        let target = if kind.is_gnu_longname() {
            Target::LongName(Vec::new())
        } else if kind.is_pax_local_extensions() {
            Target::Pax(Vec::new())
        } else if kind.is_file() && !is_metadata_file(&path) {
            let name = format!("{}/{}", self.name, path.trim_start_matches("./"));
            Target::Member(Layer::start(name, self.container.clone(), self.depth + 1))
        } else {
            Target::Skip
        };
        let padding = (512 - size % 512) % 512;
        self.state = TarState::Content {
            remaining: size,
            padding,
            target,
        };
        if size == 0 {
            self.end_entry(sink);
            self.state = TarState::Header;
        }
    }

    fn end_entry(&mut self, sink: &mut Sink<'_>) {
        let TarState::Content { target, .. } = &mut self.state else {
            return;
        };
        match std::mem::replace(target, Target::Skip) {
            Target::Member(mut layer) => layer.finish(sink),
            Target::LongName(bytes) => {
                self.next_name = Some(String::from_utf8_lossy(&bytes).trim_end_matches('\0').to_string());
            }
            Target::Pax(bytes) => {
                self.next_name = tar::PaxExtensions::new(&bytes)
                    .filter_map(Result::ok)
                    .find(|ext| ext.key() == Ok("path"))
                    .and_then(|ext| ext.value().ok().map(str::to_string));
            }
            Target::Skip => {}
        }
    }
}

/// macOS resource forks and folders that archives made on a Mac carry beside the logs.
fn is_metadata_file(path: &str) -> bool {
    path.starts_with("__MACOSX/") || path.rsplit('/').next().is_some_and(|base| base.starts_with("._"))
}

/// A zip archive, held compressed until complete.
pub struct Zip {
    name: String,
    container: String,
    depth: u8,
    first_member: usize,
    bytes: Vec<u8>,
    too_large: bool,
}

impl Zip {
    pub fn new(name: String, container: String, depth: u8, sink: &mut Sink<'_>) -> Self {
        Self {
            name,
            container: nested(&container, "zip"),
            depth,
            first_member: sink.members.len(),
            bytes: Vec::new(),
            too_large: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8], _sink: &mut Sink<'_>) {
        if self.bytes.len() + chunk.len() > MAX_ZIP_BYTES {
            self.too_large = true;
            self.bytes = Vec::new();
        }
        if !self.too_large {
            self.bytes.extend_from_slice(chunk);
        }
    }

    pub fn finish(&mut self, sink: &mut Sink<'_>) {
        if self.too_large {
            let reason = format!(
                "zip archives are read whole and this one is over {} MiB; extract it first",
                MAX_ZIP_BYTES >> 20
            );
            return sink.container_problem(self.first_member, &self.name, &self.container, reason);
        }
        let bytes = std::mem::take(&mut self.bytes);
        let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
            Ok(archive) => archive,
            Err(err) => {
                let reason = format!("unreadable zip archive: {err}");
                return sink.container_problem(self.first_member, &self.name, &self.container, reason);
            }
        };
        let mut buffer = vec![0; COPY_CHUNK];
        for index in 0..archive.len() {
            let mut entry = match archive.by_index(index) {
                Ok(entry) => entry,
                Err(err) => {
                    let reason = format!("zip entry {index} cannot be read: {err}");
                    sink.container_problem(sink.members.len(), &self.name, &self.container, reason);
                    continue;
                }
            };
            let path = entry
                .name()
                .map(|name| name.into_owned())
                .unwrap_or_else(|_| format!("entry {index}"));
            if entry.is_dir() || is_metadata_file(&path) {
                continue;
            }
            let name = format!("{}/{}", self.name, path);
            let first = sink.members.len();
            let mut layer = Layer::start(name.clone(), self.container.clone(), self.depth + 1);
            loop {
                match entry.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => {
                        if let Err(reason) = sink.budget.inflate(read) {
                            layer.finish(sink);
                            if !reason.is_empty() {
                                sink.container_problem(first, &name, &self.container, reason);
                            }
                            return;
                        }
                        layer.feed(&buffer[..read], sink);
                    }
                    Err(err) => {
                        layer.finish(sink);
                        let reason = format!("zip entry is corrupt ({err}); what was read of it is analyzed");
                        sink.container_problem(first, &name, &self.container, reason);
                        layer = Layer::Closed;
                        break;
                    }
                }
            }
            layer.finish(sink);
        }
    }
}
