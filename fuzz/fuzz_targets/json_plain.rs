//! One JSON record: whatever the one-pass plain check answers, the serde proof must
//! answer too, so the prefilter may trust the check in its place; and a record the
//! one-pass extractor reads must give exactly the events and format the parser gives,
//! so the reader may trust it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysmon_lens::ingest::json::{extract, parse_record, plain, proof};

fuzz_target!(|data: &[u8]| {
    if let Some(answer) = plain::sysmon_event_id(data) {
        assert_eq!(
            proof::sysmon_event_id(data),
            answer,
            "plain, but the proof disagrees: {:?}",
            String::from_utf8_lossy(data)
        );
    }
    if let Some(extracted) = extract::extract_record(data) {
        let parsed = parse_record(data).expect("extracted records parse");
        assert_eq!(
            (extracted.events, extracted.format),
            (parsed.events, parsed.format),
            "extracted, but the parser reads otherwise: {:?}",
            String::from_utf8_lossy(data)
        );
    }
});
