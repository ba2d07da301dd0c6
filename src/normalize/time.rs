//! Event times: which field `_time` comes from, parsed to UTC.
//!
//! Splunk indexes `System/TimeCreated/@SystemTime` for XmlWinEventLog, so that comes
//! first; Sysmon's own `UtcTime` next; a shipper's timestamp only when nothing else is
//! there. Zone-less values are read as UTC, which is what Sysmon writes.

use crate::ingest::RawEvent;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// The field `_time` was taken from.
pub const SYSTEM_TIME: &str = "System/TimeCreated/@SystemTime";
pub const UTC_TIME: &str = "UtcTime";

/// An event's `_time` and where it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventTime {
    pub at: Timestamp,
    pub source: &'static str,
    /// True when Sysmon's `UtcTime` and another timestamp of the event differ by over a second.
    pub skewed: bool,
}

/// Picks and parses the event's time; `None` when no time field parses.
pub fn event_time(event: &RawEvent) -> Option<EventTime> {
    let utc_time = event.get(UTC_TIME).and_then(parse_time);
    let (at, source) = event
        .system_time
        .as_deref()
        .and_then(parse_time)
        .map(|at| (at, SYSTEM_TIME))
        .or_else(|| utc_time.map(|at| (at, UTC_TIME)))
        .or_else(|| {
            let (field, value) = event.shipper_time.as_ref()?;
            parse_time(value).map(|at| (at, *field))
        })?;
    // A disagreement with Sysmon's own UtcTime usually means a mislabelled zone somewhere.
    let others = [
        event.system_time.as_deref(),
        event.shipper_time.as_ref().map(|(_, value)| value.as_str()),
    ];
    let skewed = utc_time.is_some_and(|utc| {
        others
            .into_iter()
            .flatten()
            .filter_map(parse_time)
            .any(|other| (other.as_millisecond() - utc.as_millisecond()).abs() > 1000)
    });
    Some(EventTime { at, source, skewed })
}

/// Parses RFC 3339 (`…Z`, `…+09:00`) or a zone-less `YYYY-MM-DD[ T]HH:MM:SS[.fff]` as UTC.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    text.parse::<Timestamp>().ok().or_else(|| {
        text.parse::<DateTime>()
            .ok()
            .and_then(|civil| civil.to_zoned(TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// `security_content_ctime`'s rendering: `%Y-%m-%dT%H:%M:%S`, here always in UTC.
pub fn ctime(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_sysmon_and_shippers_write() {
        let expect =
            |text: &str, shown: &str| assert_eq!(parse_time(text).map(ctime).as_deref(), Some(shown), "{text}");
        expect("2026-08-11T08:30:09.2485781Z", "2026-08-11T08:30:09");
        expect("2021-01-14T23:41:40.145335200Z", "2021-01-14T23:41:40");
        expect("2026-08-11 08:30:09.239", "2026-08-11T08:30:09");
        expect("2023-02-06 22:07:30.404066", "2023-02-06T22:07:30");
        expect("2020-10-23T11:36:43.128+09:00", "2020-10-23T02:36:43");
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn system_time_wins_and_skew_is_flagged() {
        let mut event = RawEvent {
            system_time: Some("2026-08-11T08:30:09.2485781Z".into()),
            data: vec![("UtcTime".into(), "2026-08-11 08:30:09.239".into())],
            ..RawEvent::default()
        };
        let time = event_time(&event).expect("time");
        assert_eq!((time.source, time.skewed), (SYSTEM_TIME, false));
        event.system_time = Some("2026-08-11T17:30:09.2485781Z".into());
        assert!(event_time(&event).expect("time").skewed);
        event.system_time = None;
        assert_eq!(event_time(&event).expect("time").source, UTC_TIME);
        // A shipper's timestamp labelled Z but written in local time (UTC+9) is flagged, not used.
        event.shipper_time = Some(("@timestamp", "2026-08-11T17:30:09.239Z".into()));
        let time = event_time(&event).expect("time");
        assert_eq!((time.source, time.skewed), (UTC_TIME, true));
    }
}
