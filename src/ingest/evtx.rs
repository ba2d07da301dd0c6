//! EVTX files, read chunk by chunk as their bytes arrive.
//!
//! An EVTX file is a 4 KiB header and then 64 KiB chunks, each parsed on its own by the
//! `evtx` crate. The header's chunk count is not trusted (files copied from live
//! systems have stale headers): every complete chunk that carries the `ElfChnk` magic is
//! read, zeroed chunks are passed over, and a corrupt chunk is reported and skipped.
//! Each record is rendered as XML and read like an exported XML event, so the results
//! are those of the same events exported from Event Viewer.

use super::input::Sink;
use super::prefilter::{self, Verdict};
use super::text::accept;
use super::xml;
use evtx::{EvtxChunkData, ParserSettings};
use std::sync::Arc;

const FILE_HEADER_BYTES: usize = 4096;
const CHUNK_BYTES: usize = 65536;

pub struct Evtx {
    member: usize,
    buffer: Vec<u8>,
    header_read: bool,
    chunks: u64,
    settings: Arc<ParserSettings>,
}

impl Evtx {
    pub fn new(member: usize) -> Self {
        Self {
            member,
            buffer: Vec::with_capacity(CHUNK_BYTES),
            header_read: false,
            chunks: 0,
            settings: Arc::new(ParserSettings::new().num_threads(1)),
        }
    }

    pub fn feed(&mut self, mut bytes: &[u8], sink: &mut Sink<'_>) {
        sink.members[self.member].stats.bytes += bytes.len() as u64;
        while !bytes.is_empty() {
            let want = if self.header_read {
                CHUNK_BYTES
            } else {
                FILE_HEADER_BYTES
            };
            let take = (want - self.buffer.len()).min(bytes.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() == want {
                let block = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
                if self.header_read {
                    self.read_chunk(block, sink);
                } else {
                    self.header_read = true;
                }
            }
        }
    }

    pub fn finish(&mut self, sink: &mut Sink<'_>) {
        let stats = &mut sink.members[self.member].stats;
        stats.format = "evtx";
        stats.encoding = super::decode::Encoding::Utf16Le;
        if self.buffer.iter().any(|&b| b != 0) {
            let position = format!("chunk {}", self.chunks);
            stats.skip_at(
                &position,
                format!(
                    "the file ends inside a chunk ({} of {CHUNK_BYTES} bytes)",
                    self.buffer.len()
                ),
            );
        }
    }

    fn read_chunk(&mut self, data: Vec<u8>, sink: &mut Sink<'_>) {
        let index = self.chunks;
        self.chunks += 1;
        if !data.starts_with(b"ElfChnk\0") {
            if data.iter().any(|&b| b != 0) {
                let stats = &mut sink.members[self.member].stats;
                stats.skip_at(
                    &format!("chunk {index}"),
                    "not an EVTX chunk (no ElfChnk signature); skipped".into(),
                );
            }
            return;
        }
        let member = self.member;
        let mut chunk_data = match EvtxChunkData::new(data, false) {
            Ok(chunk) => chunk,
            Err(err) => {
                return sink.members[member]
                    .stats
                    .skip_at(&format!("chunk {index}"), format!("corrupt chunk: {err}"));
            }
        };
        let mut chunk = match chunk_data.parse(Arc::clone(&self.settings)) {
            Ok(chunk) => chunk,
            Err(err) => {
                return sink.members[member]
                    .stats
                    .skip_at(&format!("chunk {index}"), format!("corrupt chunk: {err}"));
            }
        };
        sink.members[member].stats.format = "evtx";
        let before = sink.members[member].stats.records();
        let mut last_record = None;
        for record in chunk.iter() {
            let rendered = record.and_then(|record| record.into_xml());
            match rendered {
                Ok(record) => {
                    let line = record.event_record_id;
                    last_record = Some(line);
                    let stats = &mut sink.members[member].stats;
                    if sink.prefilter
                        && let Verdict::CountOnly(event_id) = prefilter::xml_event(&record.data)
                    {
                        stats.count_sysmon(event_id);
                        continue;
                    }
                    match xml::parse::parse_event(&record.data) {
                        Ok(event) => accept(stats, event, line, &mut |event, line| {
                            (sink.on_event)(event, member, line)
                        }),
                        Err(reason) => stats.skip(line, reason),
                    }
                }
                Err(err) => {
                    let position = match last_record {
                        Some(id) => format!("chunk {index}, after record {id}"),
                        None => format!("chunk {index}, first record"),
                    };
                    sink.members[member]
                        .stats
                        .skip_at(&position, format!("unreadable record: {err}"))
                }
            }
        }
        *sink.records += sink.members[member].stats.records() - before;
    }
}
