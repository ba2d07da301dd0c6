//! Windows event XML: finding each `<Event>` element, then parsing it.

pub mod frames;
pub mod parse;
pub mod plain;
