//! One event as read from a file, before any Sysmon or CIM meaning is given to it.
//!
//! Every input shape (XML, evtx_dump JSON, Winlogbeat, ECS, flat JSON, Splunk
//! exports, Cisco NVM flows) is parsed into this one struct, with fields under
//! Sysmon's own names, so normalization has a single source to map from.

/// What produced an event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Producer {
    /// Decided by the provider or channel the record names.
    #[default]
    FromSystemFields,
    /// The record's shape only ever holds Sysmon events (EventData-only exports).
    Sysmon,
    /// A Cisco Network Visibility Module flow record: a second source for network traffic.
    CiscoNvm,
}

/// A parsed event: the `System` block's fields plus the `EventData` name/value pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawEvent {
    /// `System/EventID`, when it was a plain number.
    pub event_id: Option<u32>,
    /// `System/Provider/@Name` (or a flat shape's `SourceName`).
    pub provider: Option<String>,
    /// `System/Channel`.
    pub channel: Option<String>,
    /// `System/Computer` (or a flat shape's `Hostname`).
    pub computer: Option<String>,
    /// `System/TimeCreated/@SystemTime`, as written.
    pub system_time: Option<String>,
    /// `System/Security/@UserID`, the SID the event was logged under.
    pub security_user_id: Option<String>,
    /// A shipper's own timestamp (`@timestamp`, `EventTime`, …): field name and value.
    pub shipper_time: Option<(&'static str, String)>,
    /// `EventData/Data[@Name]` pairs in document order.
    pub data: Vec<(String, String)>,
    pub producer: Producer,
    /// What the parser had to repair to keep the event (an invalid escape or a lone
    /// surrogate replaced by U+FFFD), said once per event in the file's notes.
    pub repaired: Option<String>,
    /// The record as it was in the file, kept only for an event a detection may report
    /// ([`crate::detect::may_back_finding`]), at most [`MAX_RECORD_TEXT`] bytes of it.
    pub record: Option<RecordText>,
}

/// How much of one record's text is kept.
pub const MAX_RECORD_TEXT: usize = 64 << 10;

/// A record's text as it was in the file (for EVTX, the record rendered as XML).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RecordText {
    /// The text, cut at [`MAX_RECORD_TEXT`] bytes (on a character boundary) when longer.
    pub text: String,
    /// The record's whole length in bytes.
    pub bytes: usize,
    /// True when `text` is only the start of the record.
    pub truncated: bool,
}

impl RecordText {
    pub fn new(text: &str) -> Self {
        let mut end = text.len().min(MAX_RECORD_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            text: text[..end].to_string(),
            bytes: text.len(),
            truncated: end < text.len(),
        }
    }
}

impl RawEvent {
    /// The `EventData` value named `name` (exact, case-sensitive, as Sysmon writes it).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Sets `name` unless the event already has a non-empty value for it.
    pub fn fill(&mut self, name: &str, value: Option<String>) {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return;
        };
        match self.data.iter_mut().find(|(key, _)| key == name) {
            Some((_, existing)) if existing.is_empty() => *existing = value,
            Some(_) => {}
            None => self.data.push((name.to_string(), value)),
        }
    }

    /// Keeps `text` as the event's record when a detection may report the event.
    pub fn keep_record(&mut self, text: &[u8]) {
        if crate::detect::may_back_finding(self) {
            self.record = Some(RecordText::new(&String::from_utf8_lossy(text)));
        }
    }

    /// True when the event comes from Sysmon: by its shape, provider, or a channel naming Sysmon.
    pub fn is_sysmon(&self) -> bool {
        match self.producer {
            Producer::Sysmon => true,
            Producer::CiscoNvm => false,
            Producer::FromSystemFields => {
                let provider = self.provider.as_deref().unwrap_or("");
                let channel = self.channel.as_deref().unwrap_or("");
                provider.eq_ignore_ascii_case("Microsoft-Windows-Sysmon")
                    || channel.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"sysmon"))
            }
        }
    }
}
