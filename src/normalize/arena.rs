//! The analysis's arena: every process creation and network connection as a small
//! fixed-size row of [`Sym`]s and integers, and the strings they name, interned once.
//!
//! Process trees and the hardened join read these rows at the end, so they are kept
//! for every EID 1 and 3 of the analysis: a process costs 48 bytes plus whatever text
//! no earlier row had (usually only its GUID, 16 bytes), a connection 40 plus its
//! address (4). Values are kept as the CIM rows have them: a field left empty is `None`.

use super::chunked::Chunked;
use super::intern::{Strings, Sym};
use super::{Cim, EventTime, Origin};
use jiff::Timestamp;

/// A time in 8 bytes aligned to 4, so rows hold no padding: nanoseconds since the
/// epoch (1677 to 2262), below that range an index in the arena's other times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp([u32; 2]);

/// No time; `NO_TIME + 1 + i` is the arena's other time `i`, up to `OTHER_TIMES_END`.
const NO_TIME: i64 = i64::MIN;
const OTHER_TIMES_END: i64 = NO_TIME + (1 << 32);

impl Stamp {
    fn new(at: Option<Timestamp>, others: &mut Vec<Timestamp>) -> Self {
        let Some(at) = at else { return Self::of(NO_TIME) };
        match i64::try_from(at.as_nanosecond()) {
            Ok(nanos) if nanos >= OTHER_TIMES_END => Self::of(nanos),
            _ => {
                others.push(at);
                let index = i64::try_from(others.len() - 1)
                    .ok()
                    .filter(|&i| i < OTHER_TIMES_END - NO_TIME - 1);
                Self::of(NO_TIME + 1 + index.expect("fewer than 2^32 times outside 1677 to 2262"))
            }
        }
    }

    fn of(value: i64) -> Self {
        Self([value as u32, (value >> 32) as u32])
    }

    fn value(self) -> i64 {
        (i64::from(self.0[1] as i32) << 32) | i64::from(self.0[0])
    }
}

/// An [`Origin`] in 8 bytes aligned to 4: the file in the top 24 bits, the line in
/// the other 40; past those, an index in the arena's other origins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place([u32; 2]);

const LINE_BITS: u32 = 40;
/// The file number of a place that is an index in the other origins.
const OTHER_FILE: u64 = (1 << (64 - LINE_BITS)) - 1;

impl Place {
    fn new(origin: Origin, others: &mut Vec<Origin>) -> Self {
        let (file, line) = (origin.file as u64, origin.line);
        if file < OTHER_FILE && line >> LINE_BITS == 0 {
            return Self::of(file << LINE_BITS | line);
        }
        others.push(origin);
        Self::of(OTHER_FILE << LINE_BITS | (others.len() - 1) as u64)
    }

    fn of(value: u64) -> Self {
        Self([value as u32, (value >> 32) as u32])
    }

    fn value(self) -> u64 {
        u64::from(self.0[1]) << 32 | u64::from(self.0[0])
    }
}

/// A process creation (EID 1): what a process tree shows and links by.
#[derive(Clone, Copy, Debug)]
pub struct ProcessEntry {
    pub host: Option<Sym>,
    pub guid: Option<Sym>,
    pub pid: Option<Sym>,
    pub parent_guid: Option<Sym>,
    pub parent_pid: Option<Sym>,
    pub image: Option<Sym>,
    pub command_line: Option<Sym>,
    pub user: Option<Sym>,
    pub time: Stamp,
    pub origin: Place,
}

/// A network connection (EID 3 or a flow): what a process tree shows and links by.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionEntry {
    pub host: Option<Sym>,
    pub guid: Option<Sym>,
    pub pid: Option<Sym>,
    pub dest_ip: Option<Sym>,
    pub dest_port: Option<Sym>,
    /// The remote host name, when it is not just the address again.
    pub dest_host: Option<Sym>,
    pub time: Stamp,
    pub origin: Place,
}

/// Strings and rows of one analysis.
#[derive(Default)]
pub struct Arena {
    pub strings: Strings,
    pub processes: Chunked<ProcessEntry>,
    pub connections: Chunked<ConnectionEntry>,
    /// Times and origins too far out for a row's 8 bytes (in hostile logs, mostly).
    other_times: Vec<Timestamp>,
    other_origins: Vec<Origin>,
}

impl Arena {
    /// Keeps the row of a process creation or network connection; returns its number
    /// among the rows of its kind.
    pub fn observe(&mut self, cim: &Cim, time: Option<&EventTime>, origin: Origin) -> Option<u32> {
        let time = Stamp::new(time.map(|t| t.at), &mut self.other_times);
        let origin = Place::new(origin, &mut self.other_origins);
        let strings = &mut self.strings;
        let mut sym = |value: Option<&String>| value.map(|text| strings.intern(text));
        let number = |rows: usize| u32::try_from(rows).ok();
        match cim {
            Cim::Process(row) => {
                self.processes.push(ProcessEntry {
                    host: sym(row.dest.as_ref()),
                    guid: sym(row.process_guid.as_ref()),
                    pid: sym(row.process_id.as_ref()),
                    parent_guid: sym(row.parent_process_guid.as_ref()),
                    parent_pid: sym(row.parent_process_id.as_ref()),
                    image: sym(row.process_path.as_ref()),
                    command_line: sym(row.process.as_ref()),
                    user: sym(row.user.as_ref()),
                    time,
                    origin,
                });
                number(self.processes.len() - 1)
            }
            Cim::Traffic(row) => {
                let dest_host = row.dest.as_ref().filter(|dest| Some(*dest) != row.dest_ip.as_ref());
                self.connections.push(ConnectionEntry {
                    host: sym(row.dvc.as_ref()),
                    guid: sym(row.process_guid.as_ref()),
                    pid: sym(row.process_id.as_ref()),
                    dest_ip: sym(row.dest_ip.as_ref()),
                    dest_port: sym(row.dest_port.as_ref()),
                    dest_host: sym(dest_host),
                    time,
                    origin,
                });
                number(self.connections.len() - 1)
            }
            Cim::Other => None,
        }
    }

    pub fn time(&self, stamp: Stamp) -> Option<Timestamp> {
        match stamp.value() {
            NO_TIME => None,
            value if value < OTHER_TIMES_END => Some(self.other_times[(value - NO_TIME - 1) as usize]),
            nanos => Timestamp::from_nanosecond(i128::from(nanos)).ok(),
        }
    }

    pub fn origin(&self, place: Place) -> Origin {
        let value = place.value();
        let (file, line) = (value >> LINE_BITS, value & ((1 << LINE_BITS) - 1));
        if file == OTHER_FILE {
            return self.other_origins[line as usize];
        }
        Origin {
            file: file as usize,
            line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_small_and_exact() {
        assert_eq!(size_of::<ProcessEntry>(), 48);
        assert_eq!(size_of::<ConnectionEntry>(), 40);
        let mut arena = Arena::default();
        for at in [
            None,
            Some(Timestamp::MIN),
            Some(Timestamp::MAX),
            Some(Timestamp::UNIX_EPOCH),
            "1969-12-31T23:59:59.5Z".parse().ok(),
            "1677-09-21T00:12:44Z".parse().ok(),
            "2026-08-11T08:30:09.2485781Z".parse().ok(),
        ] {
            let stamp = Stamp::new(at, &mut arena.other_times);
            assert_eq!(arena.time(stamp), at);
        }
        assert_eq!(arena.other_times.len(), 3);
        for (file, line) in [(0, 0), (3, (1 << 40) - 1), (3, 1 << 40), (1 << 24, 1), (7, u64::MAX)] {
            let origin = Origin { file, line };
            let place = Place::new(origin, &mut arena.other_origins);
            assert_eq!(arena.origin(place), origin);
        }
        assert_eq!(arena.other_origins.len(), 3);
    }
}
