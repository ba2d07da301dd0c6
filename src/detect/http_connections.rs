//! The port 80/443 connections the hardened HTTP detection holds until the input
//! ends, when the joins to msiexec processes say which matter (most belong to other
//! programs). Each keeps its arena row and the nine raw fields a join or a finding
//! reads, in the event's order: an interned layout of field names and a run of
//! interned values, 12 bytes plus 4 a value. msiexec's own also keep every raw field.

use super::kept::KeptEvent;
use super::{Evidence, Seen};
use crate::ingest::RawEvent;
use crate::normalize::Origin;
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

struct Stored {
    row: u32,
    layout: u32,
    /// Index in `sources` of the field `_time` came from, or `u8::MAX` for none.
    source: u8,
}

#[derive(Default)]
pub struct HttpConnections {
    stored: Vec<Stored>,
    /// Each connection's values, as many as its layout names, in connection order.
    values: Vec<Sym>,
    /// Sequences of indexes in [`KEPT`].
    layouts: Vec<Box<[u8]>>,
    layout_ids: HashMap<Box<[u8]>, u32, FixedState>,
    sources: Vec<&'static str>,
    /// Every raw field of msiexec's own connections, by connection number.
    own: Vec<(usize, KeptEvent)>,
    layout: Vec<u8>,
}

impl HttpConnections {
    /// Keeps a connection whose arena row is `row`; all its fields when `own`.
    pub fn push(&mut self, seen: &Seen, row: u32, own: bool, strings: &mut Strings) {
        let event = seen.event;
        let computer = event.computer.as_deref().map(|computer| ("Computer", computer));
        let fields = computer
            .into_iter()
            .chain(event.data.iter().map(|(name, value)| (name.as_str(), value.as_str())));
        self.layout.clear();
        for (name, value) in fields {
            if let Some(at) = KEPT.iter().position(|kept| *kept == name) {
                self.layout.push(at as u8);
                self.values.push(strings.intern(value));
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
        let source = seen.time.map_or(u8::MAX, |time| {
            let at = self.sources.iter().position(|source| *source == time.source);
            at.unwrap_or_else(|| {
                self.sources.push(time.source);
                self.sources.len() - 1
            }) as u8
        });
        if own {
            self.own.push((self.stored.len(), seen.keep(strings)));
        }
        self.stored.push(Stored { row, layout, source });
    }

    /// The connections in the order they were read.
    pub fn iter(&self) -> impl Iterator<Item = HttpConnection<'_>> {
        let mut start = 0;
        let mut own = self.own.iter().peekable();
        self.stored.iter().enumerate().map(move |(number, stored)| {
            let layout = &self.layouts[stored.layout as usize];
            let values = &self.values[start..start + layout.len()];
            start += layout.len();
            HttpConnection {
                row: stored.row as usize,
                layout,
                values,
                time_source: self.sources.get(usize::from(stored.source)).copied(),
                all_fields: own.next_if(|(at, _)| *at == number).map(|(_, kept)| kept),
            }
        })
    }
}

/// A kept connection, read back.
pub struct HttpConnection<'a> {
    /// Its row among the arena's connections.
    pub row: usize,
    layout: &'a [u8],
    values: &'a [Sym],
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
        let at = self.layout.iter().position(|&at| KEPT[usize::from(at)] == name)?;
        Some(self.values[at]).filter(|&sym| !strings.text(sym).is_empty())
    }

    /// The kept fields as an event, to map to CIM and to show as evidence.
    pub fn event(&self, strings: &Strings) -> RawEvent {
        let fields = || self.layout.iter().zip(self.values);
        let text = |sym: &Sym| strings.text(*sym).into_owned();
        RawEvent {
            event_id: Some(3),
            computer: fields().find(|(at, _)| **at == COMPUTER).map(|(_, value)| text(value)),
            data: fields()
                .filter(|(at, _)| **at != COMPUTER)
                .map(|(at, value)| (KEPT[usize::from(*at)].to_string(), text(value)))
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
    use crate::normalize::time;

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
            ],
            ..RawEvent::default()
        };
        let time = time::event_time(&event);
        let seen = Seen {
            event: &event,
            time: time.as_ref(),
            origin: Origin { file: 0, line: 1 },
        };
        let mut strings = Strings::default();
        let mut connections = HttpConnections::default();
        connections.push(&seen, 7, false, &mut strings);
        connections.push(&seen, 8, true, &mut strings);
        let read: Vec<_> = connections.iter().collect();
        assert_eq!((read[0].row, read[1].row), (7, 8));
        assert_eq!(read[0].value(&strings, "ProcessId").as_deref(), Some("42"));
        assert_eq!(read[0].value(&strings, "User"), None);
        assert_eq!(read[0].value(&strings, "SourcePort"), None);
        let kept = read[0].evidence(&strings, time.map(|t| t.at), seen.origin);
        let names: Vec<_> = kept.fields.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["Computer", "DestinationPort", "User", "ProcessId", "ProcessId"]);
        assert_eq!(kept.time_source, Some(time::SYSTEM_TIME));
        assert!(read[0].all_fields.is_none());
        let all = read[1].evidence(&strings, None, seen.origin);
        assert_eq!(all, Evidence::of(&event, time.as_ref(), seen.origin));
    }
}
