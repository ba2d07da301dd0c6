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
//!
//! Smaller files are read whole, a file to a thread ([`read_whole_files`]), and taken
//! back in the order given. Either way the analysis sees every event in the order
//! reading the files one after another gives.

use super::text::TextIngest;
use super::{Input, Member, RawEvent};
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
/// How many parts or files, per thread, may be read ahead of the one being taken back.
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
    let read = |index: usize| {
        let reader = readers[index].lock().unwrap_or_else(PoisonError::into_inner).take();
        reader.map(|reader| read_part(reader, source, parts[index].clone(), index == last))
    };
    let mut outcome = Ok(0);
    in_order(parts.len(), threads, &read, &mut |index, part| {
        let Some(mut part) = part else {
            return false;
        };
        for (event, line) in part.events.drain(..) {
            on_event(event, line + lines_before);
        }
        if let Some(err) = part.error {
            outcome = Err(err);
            first.absorb(part.reader, lines_before);
            return false;
        }
        outcome = Ok(index + 1);
        if !part.idle && index != last {
            // The cut after this part is not a record boundary for this reader: it reads on.
            let mut reader = part.reader;
            let mut shifted = |event, line| on_event(event, line + lines_before);
            let read_on = read_range(source, parts[index].end..size, &mut |block| {
                reader.feed(block, &mut shifted)
            });
            outcome = read_on.map(|()| index + 1);
            reader.finish(&mut shifted);
            first.absorb(reader, lines_before);
            return false;
        }
        first.absorb(part.reader, lines_before);
        lines_before += part.lines;
        true
    });
    outcome
}

/// Why a whole file read on a worker was not read to its end.
pub enum Failure {
    /// It could not be opened: nothing of it is in the report.
    Open(io::Error),
    /// Reading it failed: what was read before is in the report.
    Read(io::Error),
}

/// One whole file read on a worker: its members, and the events found in order, each
/// with its member's index and line.
pub struct WholeFile {
    pub members: Vec<Member>,
    pub events: Vec<(RawEvent, usize, u64)>,
    pub failure: Option<Failure>,
}

/// Reads the files `names` (each opened by `open`) on `threads` threads, a file to a
/// thread, and hands each to `take` in order.
pub fn read_whole_files<'a>(
    names: &[String],
    open: &(dyn Fn(usize) -> io::Result<Box<dyn Source + 'a>> + Sync),
    prefilter: bool,
    threads: usize,
    take: &mut dyn FnMut(usize, WholeFile),
) {
    let read = |index: usize| {
        let source = match open(index) {
            Ok(source) => source,
            Err(err) => {
                return WholeFile {
                    members: Vec::new(),
                    events: Vec::new(),
                    failure: Some(Failure::Open(err)),
                };
            }
        };
        let mut input = Input::with_prefilter(&names[index], prefilter);
        let mut events = Vec::new();
        let mut collect = |event, member, line| events.push((event, member, line));
        let read = read_range(&*source, 0..source.size(), &mut |block| input.feed(block, &mut collect));
        let members = input.finish(&mut collect);
        WholeFile {
            members,
            events,
            failure: read.err().map(Failure::Read),
        }
    };
    in_order(names.len(), threads, &read, &mut |index, file| {
        take(index, file);
        true
    });
}

/// Runs `work` on 0..count over `threads` threads and hands each result to `take` in
/// order, with at most [`LOOKAHEAD_PER_THREAD`] results per thread done ahead of the one
/// taken. `take` returns false to stop: no more work starts.
fn in_order<T: Send>(
    count: usize,
    threads: usize,
    work: &(dyn Fn(usize) -> T + Sync),
    take: &mut dyn FnMut(usize, T) -> bool,
) {
    let threads = threads.clamp(1, count.max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let taken = (Mutex::new(0usize), Condvar::new());
    let lookahead = threads * LOOKAHEAD_PER_THREAD;
    let (sender, receiver) = mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let sender = sender.clone();
            let (next, stop, taken) = (&next, &stop, &taken);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= count {
                        return;
                    }
                    let mut done = taken.0.lock().unwrap_or_else(PoisonError::into_inner);
                    while index >= *done + lookahead && !stop.load(Ordering::SeqCst) {
                        done = taken.1.wait(done).unwrap_or_else(PoisonError::into_inner);
                    }
                    drop(done);
                    if stop.load(Ordering::SeqCst) || sender.send((index, work(index))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let mut arrived = BTreeMap::new();
        for index in 0..count {
            let result = loop {
                if let Some(result) = arrived.remove(&index) {
                    break Some(result);
                }
                match receiver.recv() {
                    Ok((at, result)) => {
                        arrived.insert(at, result);
                    }
                    Err(_) => break None,
                }
            };
            let go_on = result.is_some_and(|result| take(index, result));
            *taken.0.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            taken.1.notify_all();
            if !go_on {
                break;
            }
        }
        stop.store(true, Ordering::SeqCst);
        taken.1.notify_all();
    });
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
