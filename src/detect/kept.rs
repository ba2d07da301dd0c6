//! A contributing event as a detection holds it until the input ends: its raw names
//! and values interned in the analysis's strings, its time not yet formatted. Only
//! the events of rows that are output become [`Evidence`], at the end.

use super::Evidence;
use crate::ingest::RawEvent;
use crate::normalize::EventTime;
use crate::normalize::Origin;
use crate::normalize::intern::{Strings, Sym};
use jiff::Timestamp;

#[derive(Clone, Debug)]
pub struct KeptEvent {
    origin: Origin,
    event_id: u32,
    time: Option<(Timestamp, &'static str)>,
    /// `Computer`, then the event's data, in its order.
    fields: Box<[(Sym, Sym)]>,
}

impl KeptEvent {
    pub fn new(event: &RawEvent, time: Option<&EventTime>, origin: Origin, strings: &mut Strings) -> Self {
        let computer = event.computer.as_deref().map(|computer| ("Computer", computer));
        let fields = computer
            .into_iter()
            .chain(event.data.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .map(|(name, value)| (strings.intern(name), strings.intern(value)))
            .collect();
        Self {
            origin,
            event_id: event.event_id.unwrap_or_default(),
            time: time.map(|t| (t.at, t.source)),
            fields,
        }
    }

    pub fn evidence(&self, strings: &Strings) -> Evidence {
        let text = |sym: Sym| strings.text(sym).into_owned();
        Evidence {
            origin: self.origin,
            event_id: self.event_id,
            time: self.time.map(|(at, _)| at.to_string()),
            time_source: self.time.map(|(_, source)| source),
            fields: self
                .fields
                .iter()
                .map(|&(name, value)| (text(name), text(value)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::time;

    #[test]
    fn gives_back_the_evidence_of_the_event() {
        let event = RawEvent {
            event_id: Some(3),
            computer: Some("WS1".into()),
            system_time: Some("2026-08-11T08:30:09.2485781Z".into()),
            data: vec![
                ("ProcessGuid".into(), "{4B1A7E3C-5248-D49D-96E4-D49D58B70FE2}".into()),
                ("User".into(), String::new()),
                ("User".into(), "CORP\\ann".into()),
            ],
            ..RawEvent::default()
        };
        let time = time::event_time(&event);
        let origin = Origin { file: 1, line: 7 };
        let mut strings = Strings::default();
        let kept = KeptEvent::new(&event, time.as_ref(), origin, &mut strings);
        assert_eq!(kept.evidence(&strings), Evidence::of(&event, time.as_ref(), origin));
    }
}
