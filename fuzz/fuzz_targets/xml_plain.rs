//! One XML event: whatever the one-pass plain scan accepts, the parser's own reader loop
//! must read without error or repair and see the same System fields; the EventID and
//! provider the scan reads must be the parser's; and an event the scan extracts must be
//! exactly the event the parser builds. So the prefilter and the reader may trust it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysmon_lens::ingest::xml::{extract::extract_event, parse, plain::plain_event};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(facts) = plain_event(data) {
        assert_eq!(
            parse::parses_cleanly(text),
            Some(facts.clean),
            "plain, but the parser disagrees: {text:?}"
        );
        if let (Some(id), true) = (facts.event_id, facts.sysmon) {
            let event = parse::parse_event(text).expect("plain events parse");
            assert_eq!(event.event_id, Some(id), "{text:?}");
            assert!(event.is_sysmon(), "{text:?}");
        }
    }
    if let Some(event) = extract_event(text) {
        assert_eq!(
            Ok(event),
            parse::parse_event(text),
            "extracted, but the parser reads otherwise: {text:?}"
        );
    }
});
