//! Builds the [`RawEvent`] of an event written in plain XML straight from its bytes,
//! in the one pass of [`plain::scan`], without running quick-xml.
//!
//! It reads what [`parse_event`](super::parse::parse_event) reads, the way it reads it:
//! System fields from the root's `System` children (the last one of each kind wins),
//! `Data[@Name]` from `EventData` children in document order, entities resolved.
//! Where the parser's behaviour takes more than that to reproduce — a field element
//! with children, a value holding a tab or a line break (which XML normalizes), an
//! attribute with a namespace prefix, an `EventData` inside another — it declines, and
//! the event goes to the parser. Tests and a fuzz target hold it equal to the parser.

use super::plain::{self, Tag, Visit};
use crate::ingest::RawEvent;
use std::borrow::Cow;

/// The event the parser would read from `text`, when `text` is plain XML it can read
/// the same way; `None` sends the event to the parser.
pub fn extract_event(text: &str) -> Option<RawEvent> {
    let mut builder = Builder {
        text,
        event: RawEvent::default(),
        event_id_text: None,
        data_name: None,
    };
    plain::scan(text.as_bytes(), &mut builder)?;
    let mut event = builder.event;
    event.event_id = builder.event_id_text.and_then(|text| text.trim().parse().ok());
    Some(event)
}

struct Builder<'a> {
    text: &'a str,
    event: RawEvent,
    event_id_text: Option<String>,
    /// The name of the `Data` element being read.
    data_name: Option<String>,
}

/// True for the children of the root's System element, where the parser reads System fields.
fn in_system(ancestors: &[&[u8]]) -> bool {
    ancestors.len() == 2 && ancestors[1] == b"System"
}

/// Elements whose text the parser reads.
fn is_field(ancestors: &[&[u8]], name: &[u8]) -> bool {
    if in_system(ancestors) {
        matches!(name, b"EventID" | b"Computer" | b"Channel")
    } else {
        name == b"Data" && ancestors.last() == Some(&&b"EventData"[..])
    }
}

impl<'a> Builder<'a> {
    /// `bytes`, a slice of the event's text, as the text it is (it starts and ends at ASCII).
    fn str_of(&self, bytes: &[u8]) -> Option<&'a str> {
        let start = (bytes.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        self.text.get(start..start + bytes.len())
    }

    /// An element's text with its entities resolved; `None` if it holds a carriage
    /// return, which XML turns into a line feed.
    fn text_value(&self, raw: &[u8]) -> Option<String> {
        if memchr::memchr(b'\r', raw).is_some() {
            return None;
        }
        Some(unescape(self.str_of(raw)?).into_owned())
    }

    /// An attribute's value with its entities resolved; `None` if it holds a tab or a
    /// line break, which XML turns into spaces.
    fn attribute_value(&self, raw: &[u8]) -> Option<String> {
        if raw.iter().any(|&b| matches!(b, b'\t' | b'\n' | b'\r')) {
            return None;
        }
        Some(unescape(self.str_of(raw)?).into_owned())
    }

    /// The value of the attribute the parser reads as `key`: `Some(None)` when there is
    /// none, `None` when it cannot be read here (a prefixed attribute may be the one the
    /// parser takes, by its local name).
    fn attribute(&self, tag: &Tag<'a>, key: &[u8]) -> Option<Option<String>> {
        if tag.has_prefixed_attribute() {
            return None;
        }
        match tag.attribute(key) {
            Some(raw) => self.attribute_value(raw).map(Some),
            None => Some(None),
        }
    }
}

impl<'a> Visit<'a> for Builder<'a> {
    fn start(&mut self, ancestors: &[&'a [u8]], tag: &Tag<'a>) -> Option<()> {
        // A field element with children: the parser reads only its own text.
        if let Some((parent, above)) = ancestors.split_last()
            && is_field(above, parent)
        {
            return None;
        }
        if tag.name == b"EventData" && ancestors.contains(&&b"EventData"[..]) {
            return None;
        }
        if in_system(ancestors) {
            let key: &[u8] = match tag.name {
                b"Provider" => b"Name",
                b"TimeCreated" => b"SystemTime",
                b"Security" => b"UserID",
                _ => return Some(()),
            };
            if let Some(value) = self.attribute(tag, key)? {
                let slot = match tag.name {
                    b"Provider" => &mut self.event.provider,
                    b"TimeCreated" => &mut self.event.system_time,
                    _ => &mut self.event.security_user_id,
                };
                *slot = Some(value);
            }
            return Some(());
        }
        if is_field(ancestors, tag.name) {
            // `<Data Name='x'>`: the name its value is kept under (none: not read).
            let name = self.attribute(tag, b"Name")?;
            match (tag.empty, name) {
                (true, Some(name)) => self.event.data.push((name, String::new())),
                (false, name) => self.data_name = name,
                (true, None) => {}
            }
        }
        Some(())
    }

    fn end(&mut self, ancestors: &[&'a [u8]], name: &'a [u8], content: &'a [u8]) -> Option<()> {
        if !is_field(ancestors, name) {
            return Some(());
        }
        let value = self.text_value(content)?;
        match name {
            b"EventID" => self.event_id_text = Some(value),
            b"Computer" => self.event.computer = Some(value),
            b"Channel" => self.event.channel = Some(value),
            _ => {
                if let Some(name) = self.data_name.take() {
                    self.event.data.push((name, value));
                }
            }
        }
        Some(())
    }
}

/// `text` with the five predefined entities resolved (the scan allowed no other).
fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let entity = &rest[at..];
        let (ch, len) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&apos;", '\''),
        ]
        .iter()
        .find(|(name, _)| entity.starts_with(name))
        .map_or(('&', 1), |(name, ch)| (*ch, name.len()));
        out.push(ch);
        rest = &entity[len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse_event;
    use super::*;

    const EVENT: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
        <Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F}'/><EventID>1</EventID>\
        <TimeCreated SystemTime='2021-01-14T23:41:40.1Z'/><Execution ProcessID='1' ThreadID='2'/>\
        <Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>h&amp;1</Computer>\
        <Security UserID='S-1-5-18'/></System><EventData><Data Name='RuleName'>-</Data>\
        <Data Name='Image'>C:\\a &lt;b&gt; &quot;c&quot; &apos;d&apos;</Data><Data Name=\"Empty\"/>\
        <Data Name='CommandLine'>a\n\tb</Data></EventData></Event>";

    /// Extraction, when it is done, gives exactly the parser's event.
    fn extracted(text: &str) -> Option<RawEvent> {
        let event = extract_event(text);
        if let Some(event) = &event {
            assert_eq!(Ok(event), parse_event(text).as_ref(), "{text}");
        }
        event
    }

    #[test]
    fn sysmon_events_are_read_as_the_parser_reads_them() {
        let event = extracted(EVENT).expect("plain");
        assert_eq!(event.event_id, Some(1));
        assert_eq!(event.computer.as_deref(), Some("h&1"));
        assert_eq!(event.get("Image"), Some("C:\\a <b> \"c\" 'd'"));
        assert_eq!(event.get("Empty"), Some(""));
        assert_eq!(event.data.len(), 4);
        for (from, to) in [
            ("<EventID>1</EventID>", "<EventID> 3 </EventID>"),
            ("<EventID>1</EventID>", "<EventID>x</EventID>"),
            ("<EventID>1</EventID>", "<EventID>1</EventID><EventID>3</EventID>"),
            ("<EventID>1</EventID>", ""),
            ("<Computer>h&amp;1</Computer>", "<Computer/>"),
            (
                "<Data Name='RuleName'>-</Data>",
                "<Data>-</Data><Data Name='RuleName'/>",
            ),
            (
                "<Data Name='RuleName'>-</Data>",
                "<Other><Data Name='X'>y</Data></Other>",
            ),
            ("<System>", "<W><Data Name='X'>y</Data></W><System>"),
            (
                "<Security UserID='S-1-5-18'/>",
                "<Security/><EventData><Data Name='In'>system</Data></EventData>",
            ),
            ("</System>", "<Data Name='X'>y</Data></System>"),
        ] {
            let text = EVENT.replacen(from, to, 1);
            assert!(extracted(&text).is_some(), "{to}");
        }
    }

    #[test]
    fn what_xml_would_normalize_is_left_to_the_parser() {
        for (from, to) in [
            ("<Data Name='Image'>", "<Data Name='Im\tage'>"),
            ("a\n\tb", "a\r\nb"),
            ("<Data Name='Image'>", "<Data xmlns:x='y' Name='Image'>"),
            ("SystemTime=", "xmlns:SystemTime='x' SystemTime="),
            ("<Computer>h&amp;1</Computer>", "<Computer>h<b>1</b></Computer>"),
            ("<Data Name='RuleName'>-</Data>", "<Data Name='RuleName'><x/>-</Data>"),
            (
                "<Data Name='RuleName'>-</Data>",
                "<EventData><Data Name='X'>y</Data></EventData>",
            ),
            ("<Computer>h&amp;1</Computer>", "<Computer>h&#49;</Computer>"),
        ] {
            let text = EVENT.replacen(from, to, 1);
            assert_ne!(text, EVENT);
            assert_eq!(extracted(&text), None, "{to}");
            assert!(parse_event(&text).is_ok(), "{to}");
        }
    }
}
