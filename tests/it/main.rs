//! One integration test binary (fewer link steps), a module per area.

/// Shared helpers: reading case directories, projecting reports.
mod support;

/// Process creations and connections listed, sorted, filtered, and their trees.
mod browse;
/// Every case under tests/cases: the report's projection equals expected.json.
mod cases;
/// The command-line tool: output formats and exit codes.
mod cli;
/// The real datasets in ../shared/datasets: counts from SOURCES.md, and the one positive.
mod datasets;
/// Behaviour the issue names, asserted field by field on the cases.
mod detect;
/// Generated logs of every shape: planted scenarios found exactly.
mod generated;
/// Each event behind a finding carries its record as it was in the file.
mod records;
/// Any chunking, with the prefilter on or off, gives the same report.
mod streaming;
