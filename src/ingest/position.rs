//! Where in a file something is — a skipped record, a repair, an event behind a finding —
//! as a value rather than words, so that nothing downstream guesses from a format's name
//! whether a number counts text lines or EVTX records. The report prints it as before:
//! "line 17", "record 4021", "chunk 3, after record 4021", "gzip".

use serde::{Serialize, Serializer};
use std::fmt;

/// A place in a file (a container member is a file of its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// A text line, from 1.
    Line(u64),
    /// An EVTX record, by its record id.
    Record(u64),
    /// A byte offset in the file's decoded text (where a repair began).
    Byte(u64),
    /// An EVTX chunk, from 0.
    Chunk(u64),
    /// An EVTX record that could not be read, known by its chunk and the record before it.
    RecordAfter { chunk: u64, after: Option<u64> },
    /// The container itself (e.g. `gzip`, `gzip/tar`), not a record in it.
    Container(String),
}

/// How a file's records are numbered: by the line they start on, or (EVTX) by record id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Numbering {
    #[default]
    Lines,
    Records,
}

impl Numbering {
    /// The position of record number `number` in a file numbered this way.
    pub fn at(self, number: u64) -> Position {
        match self {
            Numbering::Lines => Position::Line(number),
            Numbering::Records => Position::Record(number),
        }
    }
}

impl Position {
    /// The line or record number, when it is one.
    pub fn number(&self) -> Option<u64> {
        match self {
            Position::Line(n) | Position::Record(n) => Some(*n),
            _ => None,
        }
    }

    /// The same place in a whole file when this was found in a later part of it, read
    /// on its own from line 1; `lines_before` is how many lines come before that part.
    pub fn shifted(self, lines_before: u64) -> Self {
        match self {
            Position::Line(n) => Position::Line(n + lines_before),
            Position::Record(n) => Position::Record(n + lines_before),
            other => other,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Record(n) => write!(f, "record {n}"),
            Position::Byte(n) => write!(f, "byte {n}"),
            Position::Chunk(n) => write!(f, "chunk {n}"),
            Position::RecordAfter { chunk, after: Some(id) } => write!(f, "chunk {chunk}, after record {id}"),
            Position::RecordAfter { chunk, after: None } => write!(f, "chunk {chunk}, first record"),
            Position::Container(name) => f.write_str(name),
        }
    }
}

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_print_as_the_report_has_always_printed_them() {
        let printed: Vec<String> = [
            Numbering::Lines.at(17),
            Numbering::Records.at(4021),
            Position::Byte(9),
            Position::Chunk(3),
            Position::RecordAfter {
                chunk: 3,
                after: Some(4021),
            },
            Position::RecordAfter { chunk: 0, after: None },
            Position::Container("gzip/tar".into()),
        ]
        .iter()
        .map(|p| {
            serde_json::to_value(p)
                .expect("serializes")
                .as_str()
                .expect("a string")
                .to_string()
        })
        .collect();
        assert_eq!(
            printed,
            [
                "line 17",
                "record 4021",
                "byte 9",
                "chunk 3",
                "chunk 3, after record 4021",
                "chunk 0, first record",
                "gzip/tar"
            ]
        );
    }

    #[test]
    fn only_lines_and_records_are_numbers_and_move_with_a_part() {
        assert_eq!(Position::Line(3).shifted(10), Position::Line(13));
        assert_eq!(Position::Record(3).number(), Some(3));
        assert_eq!(Position::Chunk(3).shifted(10), Position::Chunk(3));
        assert_eq!(Position::Byte(3).number(), None);
    }
}
