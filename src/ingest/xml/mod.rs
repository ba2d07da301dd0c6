//! Windows event XML: finding each `<Event>` element, then reading it — straight from
//! its bytes when it is plain XML ([`extract`]), else with the parser ([`parse`]).

pub mod extract;
pub mod frames;
pub mod parse;
pub mod plain;

use crate::ingest::RawEvent;

/// Reads one event element as [`parse::parse_event`] does.
pub fn read_event(text: &str) -> Result<RawEvent, String> {
    extract::extract_event(text).map_or_else(|| parse::parse_event(text), Ok)
}
