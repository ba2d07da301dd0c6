//! The analysis's arena: every process creation and network connection as a small
//! fixed-size row of [`Sym`]s and integers, and the strings they name, interned once.
//!
//! Process trees and the hardened join read these rows at the end, so they are kept
//! for every EID 1 and 3 of the analysis: a process costs 56 bytes plus whatever text
//! no earlier row had (usually only its GUID, 16 bytes), a connection 48 plus its
//! address. Values are kept as the CIM rows have them: a field left empty is `None`.

use super::intern::{Strings, Sym};
use super::{Cim, EventTime, Origin};
use jiff::Timestamp;

/// An `Option<Timestamp>` in 12 bytes aligned to 4, so rows hold no padding.
#[derive(Clone, Copy, Debug)]
struct Stamp {
    second: [u32; 2],
    /// `i32::MIN` (not a valid nanosecond) for no time.
    nanosecond: i32,
}

impl Stamp {
    fn new(at: Option<Timestamp>) -> Self {
        let (second, nanosecond) = at.map_or((0, i32::MIN), |at| (at.as_second(), at.subsec_nanosecond()));
        Self {
            second: [second as u32, (second >> 32) as u32],
            nanosecond,
        }
    }

    fn get(self) -> Option<Timestamp> {
        let second = (i64::from(self.second[1] as i32) << 32) | i64::from(self.second[0]);
        (self.nanosecond != i32::MIN)
            .then(|| Timestamp::new(second, self.nanosecond).ok())
            .flatten()
    }
}

/// An [`Origin`] in 12 bytes aligned to 4.
#[derive(Clone, Copy, Debug)]
struct Place {
    file: u32,
    line: [u32; 2],
}

impl Place {
    fn new(origin: Origin) -> Self {
        Self {
            file: u32::try_from(origin.file).expect("an analysis reads fewer than 2^32 files"),
            line: [origin.line as u32, (origin.line >> 32) as u32],
        }
    }

    fn get(self) -> Origin {
        Origin {
            file: self.file as usize,
            line: (u64::from(self.line[1]) << 32) | u64::from(self.line[0]),
        }
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
    time: Stamp,
    origin: Place,
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
    time: Stamp,
    origin: Place,
}

impl ProcessEntry {
    pub fn time(&self) -> Option<Timestamp> {
        self.time.get()
    }

    pub fn origin(&self) -> Origin {
        self.origin.get()
    }
}

impl ConnectionEntry {
    pub fn time(&self) -> Option<Timestamp> {
        self.time.get()
    }

    pub fn origin(&self) -> Origin {
        self.origin.get()
    }
}

/// Strings and rows of one analysis.
#[derive(Default)]
pub struct Arena {
    pub strings: Strings,
    pub processes: Vec<ProcessEntry>,
    pub connections: Vec<ConnectionEntry>,
}

impl Arena {
    /// Keeps the row of a process creation or network connection; returns its number
    /// among the rows of its kind.
    pub fn observe(&mut self, cim: &Cim, time: Option<&EventTime>, origin: Origin) -> Option<u32> {
        let time = Stamp::new(time.map(|t| t.at));
        let origin = Place::new(origin);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_small_and_exact() {
        assert_eq!(size_of::<ProcessEntry>(), 56);
        assert_eq!(size_of::<ConnectionEntry>(), 48);
        for at in [
            None,
            Some(Timestamp::MIN),
            Some(Timestamp::MAX),
            Some(Timestamp::UNIX_EPOCH),
            "1969-12-31T23:59:59.5Z".parse().ok(),
            "2026-08-11T08:30:09.2485781Z".parse().ok(),
        ] {
            assert_eq!(Stamp::new(at).get(), at);
        }
        let origin = Origin {
            file: 3,
            line: u64::MAX - 7,
        };
        assert_eq!(Place::new(origin).get(), origin);
    }
}
