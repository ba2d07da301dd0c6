//! What the fuzz targets share: how an input's leading bytes choose a file name,
//! containers and chunk splits, and how reports are made from them through the
//! library's public API only (`Analyzer::new`, `without_prefilter`, `begin_file`,
//! `feed`, `end_file`, `finish`, and `read_file` for parts read on two threads).
//!
//! Each target's input is: selector byte(s), a [`Chunking`], then the payload.
//! `fuzz/seed.sh` writes seeds in this layout.

mod containers;
mod difference;

pub use containers::{Container, Damage};

use serde_json::Value;
use sysmon_lens::Analyzer;

/// The file name extensions an input may be given (`fuzz.<ext>`).
pub const EXTENSIONS: [&str; 9] = ["xml", "json", "jsonl", "evtx", "csv", "gz", "zip", "tar", "log"];

/// One file to analyze.
#[derive(Debug)]
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl File {
    /// The `stream` and `differential` layout. Selector bits: 0-3 the extension (modulo 9),
    /// 4-5 a container to wrap the payload in (none, gzip, zip, tar), 6 prefilter off,
    /// 7 store instead of compress. Returns the file, the chunking and whether to prefilter.
    pub fn from_stream_input(data: &[u8]) -> (File, Chunking, bool) {
        let Some((&selector, rest)) = data.split_first() else {
            return (File::plain(EXTENSIONS[0], Vec::new()), Chunking::whole(), true);
        };
        let (chunking, payload) = Chunking::take(rest);
        let extension = EXTENSIONS[usize::from(selector & 0x0f) % EXTENSIONS.len()];
        let prefilter = selector & 0x40 == 0;
        let compress = selector & 0x80 == 0;
        let file = match Container::from_bits(selector >> 4) {
            None => File::plain(extension, payload.to_vec()),
            Some(container) => {
                let member = format!("fuzz.{extension}");
                File {
                    name: format!("{member}.{}", container.extension()),
                    bytes: container.wrap(&member, payload, compress),
                }
            }
        };
        (file, chunking, prefilter)
    }

    /// The `containers` layout. Selector bits: 0-1, 2-3 and 4-5 the inner, middle and
    /// outer container (none, gzip, zip, tar; all none means gzip), 6-7 the [`Damage`]
    /// done to the result; then two bytes (little-endian) of where to damage it, scaled
    /// to its length. The payload is a member named `fuzz.log`; beyond two levels the
    /// library refuses the nesting, which is read as well.
    pub fn from_containers_input(data: &[u8]) -> (File, Chunking) {
        let selector = data.first().copied().unwrap_or(0);
        let at = data.get(1..3).map_or(0, |at| u16::from_le_bytes([at[0], at[1]]));
        let (chunking, payload) = Chunking::take(data.get(3..).unwrap_or_default());
        let mut layers: Vec<Container> = [0, 2, 4]
            .iter()
            .filter_map(|shift| Container::from_bits(selector >> shift))
            .collect();
        if layers.is_empty() {
            layers.push(Container::Gzip);
        }
        let mut file = File::plain("log", payload.to_vec());
        for container in layers {
            file = File {
                bytes: container.wrap(&file.name, &file.bytes, true),
                name: format!("{}.{}", file.name, container.extension()),
            };
        }
        Damage::from_bits(selector >> 6).apply(&mut file.bytes, at);
        (file, chunking)
    }

    fn plain(extension: &str, bytes: Vec<u8>) -> File {
        File {
            name: format!("fuzz.{extension}"),
            bytes,
        }
    }
}

/// How a file is cut into the chunks given to `feed`: a cycle of chunk sizes, or the
/// whole file in one call.
#[derive(Clone, Debug, Default)]
pub struct Chunking {
    sizes: Vec<usize>,
}

impl Chunking {
    pub fn whole() -> Self {
        Self::default()
    }

    /// Reads a count byte (its low 4 bits) and that many size bytes from the front of
    /// `data`; returns the chunking and the bytes after it. A size byte below 128 means
    /// `byte + 1` bytes, 128 and above `(byte - 127) * 512` (512 B to 64 KiB).
    pub fn take(data: &[u8]) -> (Self, &[u8]) {
        let Some((&count, rest)) = data.split_first() else {
            return (Self::whole(), data);
        };
        let count = usize::from(count & 0x0f).min(rest.len());
        let (sizes, payload) = rest.split_at(count);
        let sizes = sizes
            .iter()
            .map(|&byte| match byte {
                0..128 => usize::from(byte) + 1,
                _ => (usize::from(byte) - 127) * 512,
            })
            .collect();
        (Self { sizes }, payload)
    }

    pub fn is_whole(&self) -> bool {
        self.sizes.is_empty()
    }

    /// `bytes` cut into chunks, cycling through the sizes; the last chunk may be shorter.
    pub fn chunks<'a>(&self, mut bytes: &'a [u8]) -> Vec<&'a [u8]> {
        if self.is_whole() {
            return vec![bytes];
        }
        let mut chunks = Vec::new();
        for &size in self.sizes.iter().cycle() {
            if bytes.is_empty() {
                break;
            }
            let (chunk, rest) = bytes.split_at(size.min(bytes.len()));
            chunks.push(chunk);
            bytes = rest;
        }
        chunks
    }

    fn describe(&self) -> String {
        if self.is_whole() {
            "whole".to_string()
        } else {
            format!("chunks of {:?} bytes, cycled", self.sizes)
        }
    }
}

/// Analyzes one file fed in `chunking`'s chunks, with the prefilter on or off, and
/// returns the report as the JSON the CLI prints.
pub fn report(file: &File, chunking: &Chunking, prefilter: bool) -> Value {
    let mut analyzer = if prefilter {
        Analyzer::new()
    } else {
        Analyzer::new().without_prefilter()
    };
    analyzer.begin_file(&file.name);
    for chunk in chunking.chunks(&file.bytes) {
        analyzer.feed(chunk);
    }
    analyzer.end_file();
    serde_json::to_value(analyzer.finish()).expect("a report serializes")
}

/// Panics unless the file gives one report fed whole or in `chunking`'s chunks, with
/// the prefilter on or off. Nothing in a report depends on the run (the tool's version
/// is fixed per build), so reports are compared whole. The message names the reading
/// that differs and the first place where it does.
pub fn assert_one_report(file: &File, chunking: &Chunking) {
    let reference = report(file, &Chunking::whole(), true);
    let mut readings = vec![(Chunking::whole(), false)];
    if !chunking.is_whole() {
        readings.extend([(chunking.clone(), true), (chunking.clone(), false)]);
    }
    for (reading, prefilter) in readings {
        let other = report(file, &reading, prefilter);
        if let Some(difference) = difference::first(&reference, &other) {
            panic!(
                "{} ({} bytes): {}, prefilter {} gives a report other than whole with the prefilter on: {difference}",
                file.name,
                file.bytes.len(),
                reading.describe(),
                if prefilter { "on" } else { "off" },
            );
        }
    }
    // Cut into parts about as long as the first chunk, read on two threads.
    let part_bytes = chunking.sizes.first().map_or(64, |&size| size.max(16)) as u64;
    let in_parts = report_in_parts(file, part_bytes);
    if let Some(difference) = difference::first(&reference, &in_parts) {
        panic!(
            "{} ({} bytes): read in parts of {part_bytes} bytes on two threads, it gives another report: {difference}",
            file.name,
            file.bytes.len(),
        );
    }
}

/// Analyzes one file with `Analyzer::read_file` on two threads, in parts of about `part_bytes`.
pub fn report_in_parts(file: &File, part_bytes: u64) -> Value {
    let mut analyzer = Analyzer::new();
    analyzer
        .read_file(&file.name, &file.bytes.as_slice(), 2, part_bytes)
        .expect("bytes in memory read");
    analyzer.end_file();
    serde_json::to_value(analyzer.finish()).expect("a report serializes")
}
