//! The port 80/443 connections the hardened HTTP detection holds until the input
//! ends, when the joins to msiexec processes say which matter (most belong to other
//! programs). Each keeps its arena row and the nine raw fields a join or a finding
//! reads, in the event's order: an interned layout saying which fields, in what order,
//! and which values are the arena row's own, then a run of the other values (`UtcTime`,
//! `Image`, `User`, mostly), interned: 8 bytes plus 4 a value. msiexec's own also keep
//! every raw field.

use super::kept::KeptEvent;
use super::{Evidence, Seen};
use crate::ingest::RawEvent;
use crate::normalize::Origin;
use crate::normalize::arena::ConnectionEntry;
use crate::normalize::chunked::Chunked;
use crate::normalize::intern::{Strings, Sym};
use foldhash::fast::FixedState;
use jiff::Timestamp;
use std::borrow::Cow;
use std::collections::HashMap;

/// The raw fields a connection keeps: what the join and a finding's row read.
const KEPT: [&str; 9] = [
    "Computer",
    "UtcTime",
    "ProcessGuid",
    "ProcessId",
    "Image",
    "User",
    "DestinationIp",
    "DestinationHostname",
    "DestinationPort",
];

/// `Computer`'s index in [`KEPT`].
const COMPUTER: u8 = 0;
/// Set on a layout's index when the value is the arena row's own.
const FROM_ROW: u8 = 0x80;

/// The arena row's value of a [`KEPT`] field, for those the row has.
fn row_value(row: &ConnectionEntry, kept: u8) -> Option<Sym> {
    match KEPT[usize::from(kept)] {
        "Computer" => row.host,
        "ProcessGuid" => row.guid,
        "ProcessId" => row.pid,
        "DestinationIp" => row.dest_ip,
        "DestinationHostname" => row.dest_host,
        "DestinationPort" => row.dest_port,
        _ => None,
    }
}

struct Stored {
    row: u32,
    layout: u32,
}

#[derive(Default)]
pub struct HttpConnections {
    stored: Chunked<Stored>,
    /// Each connection's values not from its row, in connection order.
    values: Chunked<Sym>,
    /// An index in `sources` (`u8::MAX` for no time), then indexes in [`KEPT`], each
    /// with [`FROM_ROW`] when the value is the row's.
    layouts: Vec<Box<[u8]>>,
    layout_ids: HashMap<Box<[u8]>, u32, FixedState>,
    /// The fields `_time` came from.
    sources: Vec<&'static str>,
    /// Every raw field of msiexec's own connections, by connection number.
    own: Vec<(usize, KeptEvent)>,
    layout: Vec<u8>,
}

impl HttpConnections {
    /// Keeps a connection whose arena row, number `number`, is `row`; all its fields
    /// when `own`.
    pub fn push(&mut self, seen: &Seen, (number, row): (u32, &ConnectionEntry), own: bool, strings: &mut Strings) {
        let event = seen.event;
        let computer = event.computer.as_deref().map(|computer| ("Computer", computer));
        let fields = computer
            .into_iter()
            .chain(event.data.iter().map(|(name, value)| (name.as_str(), value.as_str())));
        let source = seen.time.map_or(u8::MAX, |time| {
            let at = self.sources.iter().position(|source| *source == time.source);
            let at = at.unwrap_or_else(|| {
                self.sources.push(time.source);
                self.sources.len() - 1
            });
            u8::try_from(at).expect("time sources are a few field names")
        });
        self.layout.clear();
        self.layout.push(source);
        for (name, value) in fields {
            let Some(kept) = KEPT.iter().position(|kept| *kept == name) else {
                continue;
            };
            let (kept, value) = (kept as u8, strings.intern(value));
            if row_value(row, kept) == Some(value) {
                self.layout.push(kept | FROM_ROW);
            } else {
                self.layout.push(kept);
                self.values.push(value);
            }
        }
        let layout = match self.layout_ids.get(self.layout.as_slice()) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.layouts.len()).expect("fewer than 2^32 orders of nine fields");
                self.layouts.push(self.layout.as_slice().into());
                self.layout_ids.insert(self.layout.as_slice().into(), id);
                id
            }
        };
        if own {
            self.own.push((self.stored.len(), seen.keep(strings)));
        }
        self.stored.push(Stored { row: number, layout });
    }

    /// The connections in the order they were read, each with its arena row.
    pub fn iter<'a>(&'a self, rows: &'a Chunked<ConnectionEntry>) -> impl Iterator<Item = HttpConnection<'a>> {
        let mut start = 0;
        let mut own = self.own.iter().peekable();
        self.stored.iter().enumerate().map(move |(number, stored)| {
            let (source, layout) = self.layouts[stored.layout as usize].split_at(1);
            let first_value = start;
            start += layout.iter().filter(|&&kept| kept & FROM_ROW == 0).count();
            HttpConnection {
                entry: &rows[stored.row as usize],
                layout,
                values: &self.values,
                first_value,
                time_source: self.sources.get(usize::from(source[0])).copied(),
                all_fields: own.next_if(|(at, _)| *at == number).map(|(_, kept)| kept),
            }
        })
    }
}

/// A kept connection, read back.
pub struct HttpConnection<'a> {
    /// Its row among the arena's connections.
    pub entry: &'a ConnectionEntry,
    layout: &'a [u8],
    values: &'a Chunked<Sym>,
    /// Where its values start in `values`.
    first_value: usize,
    time_source: Option<&'static str>,
    /// Every raw field, for msiexec's own connections.
    pub all_fields: Option<&'a KeptEvent>,
}

impl HttpConnection<'_> {
    /// A kept raw value, when present and not empty (as CIM fields are read).
    pub fn value<'s>(&self, strings: &'s Strings, name: &str) -> Option<Cow<'s, str>> {
        self.sym(strings, name).map(|sym| strings.text(sym))
    }

    /// [`HttpConnection::value`]'s `Sym`.
    pub fn sym(&self, strings: &Strings, name: &str) -> Option<Sym> {
        let (_, value) = self.fields().find(|&(kept, _)| KEPT[usize::from(kept)] == name)?;
        Some(value).filter(|&sym| !strings.text(sym).is_empty())
    }

    /// (index in [`KEPT`], value) in the event's order.
    fn fields(&self) -> impl Iterator<Item = (u8, Sym)> {
        let mut next = self.first_value;
        self.layout.iter().filter_map(move |&kept| {
            if kept & FROM_ROW == 0 {
                next += 1;
                Some((kept, self.values[next - 1]))
            } else {
                row_value(self.entry, kept & !FROM_ROW).map(|value| (kept & !FROM_ROW, value))
            }
        })
    }

    /// The kept fields as an event, to map to CIM and to show as evidence.
    pub fn event(&self, strings: &Strings) -> RawEvent {
        let text = |sym: Sym| strings.text(sym).into_owned();
        RawEvent {
            event_id: Some(3),
            computer: self
                .fields()
                .find(|(kept, _)| *kept == COMPUTER)
                .map(|(_, value)| text(value)),
            data: self
                .fields()
                .filter(|(kept, _)| *kept != COMPUTER)
                .map(|(kept, value)| (KEPT[usize::from(kept)].to_string(), text(value)))
                .collect(),
            ..RawEvent::default()
        }
    }

    /// Its evidence: every raw field when kept, else the kept ones.
    pub fn evidence(&self, strings: &Strings, time: Option<Timestamp>, origin: Origin) -> Evidence {
        self.all_fields.map_or_else(
            || {
                let mut evidence = Evidence::of(&self.event(strings), None, origin);
                evidence.time = time.map(|at| at.to_string());
                evidence.time_source = self.time_source;
                evidence
            },
            |kept| kept.evidence(strings),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::arena::Arena;
    use crate::normalize::{time, to_cim};

    #[test]
    fn reads_back_the_kept_fields_in_order() {
        let event = RawEvent {
            event_id: Some(3),
            computer: Some("WS1".into()),
            system_time: Some("2026-08-11T08:30:09.2485781Z".into()),
            data: vec![
                ("DestinationPort".into(), "443".into()),
                ("SourcePort".into(), "50000".into()),
                ("User".into(), String::new()),
                ("ProcessId".into(), "42".into()),
                ("ProcessId".into(), "43".into()),
                ("Image".into(), "C:\\Windows\\System32\\msiexec.exe".into()),
            ],
            ..RawEvent::default()
        };
        let time = time::event_time(&event);
        let seen = Seen {
            event: &event,
            time: time.as_ref(),
            origin: Origin { file: 0, line: 1 },
        };
        let mut arena = Arena::default();
        let row = arena
            .observe(&to_cim(&event), time.as_ref(), seen.origin)
            .expect("a row");
        let entry = arena.connections[row as usize];
        let mut connections = HttpConnections::default();
        connections.push(&seen, (row, &entry), false, &mut arena.strings);
        connections.push(&seen, (row, &entry), true, &mut arena.strings);
        // Only User, the second ProcessId and Image are not the row's own values.
        assert_eq!(connections.values.len(), 2 * 3);
        let strings = &arena.strings;
        let read: Vec<_> = connections.iter(&arena.connections).collect();
        assert_eq!(read[0].value(strings, "ProcessId").as_deref(), Some("42"));
        assert_eq!(read[0].value(strings, "User"), None);
        assert_eq!(read[0].value(strings, "SourcePort"), None);
        let kept = read[0].evidence(strings, time.map(|t| t.at), seen.origin);
        let names: Vec<_> = kept.fields.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["Computer", "DestinationPort", "User", "ProcessId", "ProcessId", "Image"]
        );
        assert_eq!(kept.fields[4].1, "43");
        assert_eq!(kept.time_source, Some(time::SYSTEM_TIME));
        assert!(read[0].all_fields.is_none());
        let all = read[1].evidence(strings, None, seen.origin);
        assert_eq!(all, Evidence::of(&event, time.as_ref(), seen.origin));
    }
}
