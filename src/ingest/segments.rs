//! Large plain text logs read on several threads, with the report reading them in order gives.
//!
//! A UTF-8 XML or JSON Lines file is cut, about every [`PART_BYTES`], where a line
//! starts a record (`<Event`, `{`). The part before the first cut is read as usual; each
//! later part by a fresh reader ([`TextIngest::continuing`]) on a worker thread, which
//! counts that part's lines from 1. Parts are taken back in file order: their events go
//! on with the lines before them added, their counts and skips are absorbed into the
//! first reader. A cut is trusted only when the reader of the part before it ended idle
//! there ([`TextIngest::is_idle`]); otherwise (a record spanning the cut, text written to
//! look like a record start) that reader reads on to the end of the file by itself.

use super::RawEvent;
use super::text::TextIngest;
use std::collections::BTreeMap;
use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError, mpsc};

/// About how many bytes each part holds, unless told otherwise.
pub const PART_BYTES: u64 = 32 << 20;
/// Parts are read in blocks of this size.
pub const BLOCK_BYTES: usize = 256 << 10;
/// How far past each cut point a line starting a record is looked for (at most a part).
const CUT_WINDOW: usize = 64 << 10;
/// How many parts, per thread, may be read ahead of the one being taken back.
const LOOKAHEAD_PER_THREAD: usize = 2;

/// Bytes that can be read at any offset from any thread: a file, or bytes in memory.
pub trait Source: Sync {
    fn size(&self) -> u64;
    /// Reads into `buf` from `offset`: how many bytes were read, 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl Source for &[u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset).map_or(self.len(), |at| at.min(self.len()));
        let read = buf.len().min(self.len() - start);
        buf[..read].copy_from_slice(&self[start..start + read]);
        Ok(read)
    }
}

/// Where the parts after the first start: just after a newline that a record start
/// follows, about `part_bytes` apart. Empty for a file of fewer than two parts.
pub fn cuts(source: &dyn Source, part_bytes: u64) -> io::Result<Vec<u64>> {
    let size = source.size();
    let part_bytes = part_bytes.max(1);
    let mut cuts = Vec::new();
    let window_bytes = CUT_WINDOW.min(usize::try_from(part_bytes).unwrap_or(CUT_WINDOW));
    let mut window = vec![0; window_bytes];
    let mut at = part_bytes;
    while at + part_bytes / 2 < size {
        let mut filled = 0;
        read_range(source, at..(at + window_bytes as u64).min(size), &mut |block| {
            window[filled..filled + block.len()].copy_from_slice(block);
            filled += block.len();
        })?;
        match record_line_start(&window[..filled]) {
            Some(offset) => {
                let cut = at + offset as u64;
                cuts.push(cut);
                at = cut + part_bytes;
            }
            None => at += part_bytes,
        }
    }
    Ok(cuts)
}

/// The first offset just after a newline where `<Event` or `{` starts a line.
fn record_line_start(window: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', window)
        .map(|newline| newline + 1)
        .find(|&start| window[start..].starts_with(b"<Event") || window.get(start) == Some(&b'{'))
}

/// Hands `range` of `source` to `each` block by block; stops early if the source ends.
pub fn read_range(source: &dyn Source, range: Range<u64>, each: &mut dyn FnMut(&[u8])) -> io::Result<()> {
    let mut buf = vec![0; BLOCK_BYTES.min(usize::try_from(range.end - range.start).unwrap_or(BLOCK_BYTES))];
    let mut at = range.start;
    while at < range.end {
        let want = buf.len().min(usize::try_from(range.end - at).unwrap_or(buf.len()));
        match source.read_at(&mut buf[..want], at) {
            Ok(0) => break,
            Ok(read) => {
                each(&buf[..read]);
                at += read as u64;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// One part, read on a worker.
struct Part {
    reader: TextIngest,
    /// Its events, with lines counted from the part's start.
    events: Vec<(RawEvent, u64)>,
    /// Newlines in the part.
    lines: u64,
    idle: bool,
    error: Option<io::Error>,
}

/// Reads `source` from `cuts[0]` to its end into `first`, the reader of everything
/// before, which saw `lines_before` newlines there. Events go to `on_event` in file
/// order, with their line in the file. Returns how many parts were read by workers
/// and taken back.
pub fn read_rest(
    first: &mut TextIngest,
    source: &dyn Source,
    cuts: &[u64],
    mut lines_before: u64,
    threads: usize,
    on_event: &mut dyn FnMut(RawEvent, u64),
) -> io::Result<usize> {
    let size = source.size();
    let Some(&start) = cuts.first() else {
        return Ok(0);
    };
    let readers: Option<Vec<TextIngest>> = cuts.iter().map(|_| first.continuing()).collect();
    let (Some(readers), true) = (readers, first.is_idle()) else {
        return read_range(source, start..size, &mut |block| first.feed(block, on_event)).map(|()| 0);
    };
    let ends: Vec<u64> = cuts[1..].iter().copied().chain([size]).collect();
    let parts: Vec<Range<u64>> = cuts.iter().zip(&ends).map(|(&from, &to)| from..to).collect();
    let last = parts.len() - 1;
    let readers: Vec<Mutex<Option<TextIngest>>> = readers.into_iter().map(|r| Mutex::new(Some(r))).collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let taken_back = (Mutex::new(0usize), Condvar::new());
    let lookahead = threads.max(1) * LOOKAHEAD_PER_THREAD;
    let (sender, receiver) = mpsc::channel::<(usize, Part)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let sender = sender.clone();
            let (next, stop, taken_back, readers, parts) = (&next, &stop, &taken_back, &readers, &parts);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index > last {
                        return;
                    }
                    let mut done = taken_back.0.lock().unwrap_or_else(PoisonError::into_inner);
                    while index >= *done + lookahead && !stop.load(Ordering::SeqCst) {
                        done = taken_back.1.wait(done).unwrap_or_else(PoisonError::into_inner);
                    }
                    drop(done);
                    let reader = readers[index].lock().unwrap_or_else(PoisonError::into_inner).take();
                    let Some(reader) = reader.filter(|_| !stop.load(Ordering::SeqCst)) else {
                        return;
                    };
                    let part = read_part(reader, source, parts[index].clone(), index == last);
                    if sender.send((index, part)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let mut arrived = BTreeMap::new();
        let mut outcome = Ok(0);
        for (index, range) in parts.iter().enumerate() {
            let part = loop {
                if let Some(part) = arrived.remove(&index) {
                    break Some(part);
                }
                match receiver.recv() {
                    Ok((at, part)) => {
                        arrived.insert(at, part);
                    }
                    Err(_) => break None,
                }
            };
            let Some(mut part) = part else {
                break;
            };
            for (event, line) in part.events.drain(..) {
                on_event(event, line + lines_before);
            }
            if let Some(err) = part.error {
                outcome = Err(err);
                first.absorb(part.reader, lines_before);
                break;
            }
            outcome = Ok(index + 1);
            if !part.idle && index != last {
                // The cut after this part is not a record boundary for this reader: it reads on.
                stop.store(true, Ordering::SeqCst);
                taken_back.1.notify_all();
                let mut reader = part.reader;
                let mut shifted = |event, line| on_event(event, line + lines_before);
                let read_on = read_range(source, range.end..size, &mut |block| reader.feed(block, &mut shifted));
                outcome = read_on.map(|()| index + 1);
                reader.finish(&mut shifted);
                first.absorb(reader, lines_before);
                break;
            }
            first.absorb(part.reader, lines_before);
            lines_before += part.lines;
            *taken_back.0.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            taken_back.1.notify_all();
        }
        stop.store(true, Ordering::SeqCst);
        taken_back.1.notify_all();
        outcome
    })
}

/// Reads one part with its own reader; the last part is read to the end of the file.
fn read_part(mut reader: TextIngest, source: &dyn Source, range: Range<u64>, last: bool) -> Part {
    let mut events = Vec::new();
    let mut lines = 0;
    let mut collect = |event, line| events.push((event, line));
    let error = read_range(source, range, &mut |block| {
        lines += memchr::memchr_iter(b'\n', block).count() as u64;
        reader.feed(block, &mut collect);
    })
    .err();
    if last {
        reader.finish(&mut collect);
    }
    let idle = reader.is_idle();
    Part {
        reader,
        events,
        lines,
        idle,
        error,
    }
}
