//! One XML event: whatever the one-pass plain check accepts, the parser's own reader
//! loop must read without error or repair and see the same System fields, so the
//! prefilter may trust the check in its place.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysmon_lens::ingest::xml::{parse::parses_cleanly, plain::plain_event};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(seen) = plain_event(data) {
        assert_eq!(parses_cleanly(text), Some(seen), "plain, but the parser disagrees: {text:?}");
    }
});
