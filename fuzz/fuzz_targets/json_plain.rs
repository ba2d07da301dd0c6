//! One JSON record: whatever the one-pass plain check answers, the serde proof must
//! answer too, so the prefilter may trust the check in its place.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysmon_lens::ingest::json::{plain, proof};

fuzz_target!(|data: &[u8]| {
    if let Some(answer) = plain::sysmon_event_id(data) {
        assert_eq!(
            proof::sysmon_event_id(data),
            answer,
            "plain, but the proof disagrees: {:?}",
            String::from_utf8_lossy(data)
        );
    }
});
