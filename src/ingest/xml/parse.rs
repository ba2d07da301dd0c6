//! Parses one `<Event>` element with quick-xml into a [`RawEvent`], or checks that it
//! would parse cleanly, with one reader loop for both.
//!
//! System fields are read only from the direct children of the root's `System` element
//! and `Data[@Name]` only from the children of an `EventData` element: a System log
//! event whose `UserData` names the Sysmon channel is not a Sysmon event. Element names
//! are matched without namespace prefixes. A reference that stands for no character
//! (an unknown entity such as `&foo;`, or `&#0;`, `&#xD800;`, `&#99999999;`) in a value
//! that is read becomes U+FFFD and the event says so in [`RawEvent::repaired`]; a
//! structural error (mismatched tags, an unquoted attribute) is an error.
//!
//! [`parses_cleanly`] runs the same loop with a sink that keeps no value, so the
//! prefilter can prove an event well-formed without building it.

use crate::ingest::RawEvent;
use quick_xml::XmlVersion;
use quick_xml::escape::{EscapeError, resolve_predefined_entity};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use std::borrow::Cow;

/// Parses one event element; the error says what was malformed.
pub fn parse_event(text: &str) -> Result<RawEvent, String> {
    let mut sink = Builder::default();
    read(text, &mut sink)?;
    Ok(sink.finish())
}

/// What [`parses_cleanly`] saw of an event that [`parse_event`] reads without error or repair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clean {
    /// An `EventID` element was read among the root's `System` children.
    pub system_event_id: bool,
    /// A `Provider` element was read among the root's `System` children.
    pub system_provider: bool,
}

/// Runs [`parse_event`]'s reader loop keeping no value: `None` when parsing would fail
/// or repair a value.
pub fn parses_cleanly(text: &str) -> Option<Clean> {
    let mut sink = Checker {
        seen: Clean::default(),
        repaired: false,
    };
    read(text, &mut sink).ok()?;
    (!sink.repaired).then_some(sink.seen)
}

/// An attribute of a `System` child that is read.
#[derive(Clone, Copy)]
enum SystemAttribute {
    ProviderName,
    SystemTime,
    UserId,
}

/// An element whose text is read; a `Data` element by its name, as the sink keeps it.
enum Field<Name> {
    EventId,
    Computer,
    Channel,
    Data(Name),
}

impl<Name: AsRef<str>> Field<Name> {
    /// How a repair note names the field.
    fn name(&self) -> &str {
        match self {
            Field::EventId => "EventID",
            Field::Computer => "Computer",
            Field::Channel => "Channel",
            Field::Data(name) => name.as_ref(),
        }
    }
}

/// Where the reader loop hands what it reads.
trait Sink {
    /// False when values are only checked, never kept: text is then not assembled.
    const KEEPS_VALUES: bool;
    /// A `Data` element's name as kept.
    type Name: AsRef<str>;
    fn name(name: Cow<'_, str>) -> Self::Name;
    fn attribute(&mut self, which: SystemAttribute, value: Cow<'_, str>);
    /// A field's text (empty when values are not kept).
    fn field(&mut self, field: Field<Self::Name>, text: String);
    /// `reference` (as written, `&…;`) in `place` stood for no character and became U+FFFD.
    fn repaired(&mut self, reference: &str, place: &str);
}

/// Builds a [`RawEvent`].
#[derive(Default)]
struct Builder {
    event: RawEvent,
    event_id_text: Option<String>,
    repairs: usize,
}

impl Builder {
    fn finish(mut self) -> RawEvent {
        self.event.event_id = self.event_id_text.and_then(|text| text.trim().parse().ok());
        if self.repairs > 1
            && let Some(first) = &mut self.event.repaired
        {
            first.push_str(&format!(" (and {} more)", self.repairs - 1));
        }
        self.event
    }
}

impl Sink for Builder {
    const KEEPS_VALUES: bool = true;
    type Name = String;

    fn name(name: Cow<'_, str>) -> String {
        name.into_owned()
    }

    fn attribute(&mut self, which: SystemAttribute, value: Cow<'_, str>) {
        let slot = match which {
            SystemAttribute::ProviderName => &mut self.event.provider,
            SystemAttribute::SystemTime => &mut self.event.system_time,
            SystemAttribute::UserId => &mut self.event.security_user_id,
        };
        *slot = Some(value.into_owned());
    }

    fn field(&mut self, field: Field<String>, text: String) {
        match field {
            Field::EventId => self.event_id_text = Some(text),
            Field::Computer => self.event.computer = Some(text),
            Field::Channel => self.event.channel = Some(text),
            Field::Data(name) => self.event.data.push((name, text)),
        }
    }

    fn repaired(&mut self, reference: &str, place: &str) {
        self.repairs += 1;
        if self.event.repaired.is_none() {
            let kind = if reference.starts_with("&#") {
                "invalid character reference"
            } else {
                "unknown entity"
            };
            self.event.repaired = Some(format!("{kind} {reference} in {place} replaced with U+FFFD"));
        }
    }
}

/// Keeps nothing: notes what was seen and whether anything was repaired.
struct Checker {
    seen: Clean,
    repaired: bool,
}

impl Sink for Checker {
    const KEEPS_VALUES: bool = false;
    type Name = &'static str;

    fn name(_: Cow<'_, str>) -> &'static str {
        ""
    }

    fn attribute(&mut self, which: SystemAttribute, _: Cow<'_, str>) {
        if let SystemAttribute::ProviderName = which {
            self.seen.system_provider = true;
        }
    }

    fn field(&mut self, field: Field<&'static str>, _: String) {
        if let Field::EventId = field {
            self.seen.system_event_id = true;
        }
    }

    fn repaired(&mut self, _: &str, _: &str) {
        self.repaired = true;
    }
}

/// The reader loop both [`parse_event`] and [`parses_cleanly`] run.
fn read<S: Sink>(text: &str, sink: &mut S) -> Result<(), String> {
    let mut reader = Reader::from_str(text);
    let mut place = Place::default();
    // The field being read, the depth of its element, and its text so far.
    let mut open: Option<(Field<S::Name>, usize)> = None;
    let mut value = String::new();
    loop {
        match reader.read_event().map_err(|err| describe(&reader, err))? {
            Event::Start(start) => {
                place.depth += 1;
                let field = read_start(&start, &place, sink)?;
                place.enter(&start);
                if open.is_none() {
                    open = field.map(|field| (field, place.depth));
                }
            }
            Event::Empty(start) => {
                place.depth += 1;
                if let Some(field @ Field::Data(_)) = read_start(&start, &place, sink)? {
                    sink.field(field, String::new());
                }
                place.depth -= 1;
            }
            Event::Text(text) if S::KEEPS_VALUES && is_direct(&open, &place) => {
                value.push_str(&text.xml10_content());
            }
            Event::CData(data) if S::KEEPS_VALUES && is_direct(&open, &place) => {
                value.push_str(&data.xml10_content());
            }
            Event::GeneralRef(name) if is_direct(&open, &place) => match resolve_reference(&name) {
                Some(resolved) => resolved.push_to(&mut value, S::KEEPS_VALUES),
                None => {
                    let field = open.as_ref().map_or("", |(field, _)| field.name());
                    sink.repaired(&format!("&{};", &*name), field);
                    Resolved::Char(char::REPLACEMENT_CHARACTER).push_to(&mut value, S::KEEPS_VALUES);
                }
            },
            Event::End(_) => {
                if let Some((field, _)) = open.take_if(|(_, depth)| *depth == place.depth) {
                    sink.field(field, std::mem::take(&mut value));
                }
                place.leave();
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// True while the open field's own element (not a child of it) holds the reader.
fn is_direct<Name>(open: &Option<(Field<Name>, usize)>, place: &Place) -> bool {
    open.as_ref().is_some_and(|(_, depth)| *depth == place.depth)
}

/// Where the reader is: the depth of the current element (the root is 1), whether the
/// root's `System` element is open, and the depth of an open `EventData` element.
#[derive(Default)]
struct Place {
    depth: usize,
    in_system: bool,
    event_data: Option<usize>,
}

impl Place {
    /// Notes a start tag at `self.depth`.
    fn enter(&mut self, start: &BytesStart<'_>) {
        match start.local_name().as_ref() {
            "System" if self.depth == 2 => self.in_system = true,
            "EventData" => self.event_data = Some(self.depth),
            _ => {}
        }
    }

    /// Notes the end tag of the element at `self.depth`.
    fn leave(&mut self) {
        if self.depth == 2 {
            self.in_system = false;
        }
        if self.event_data == Some(self.depth) {
            self.event_data = None;
        }
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Hands on the attributes a start tag at `place.depth` carries and says which field,
/// if any, it opens.
fn read_start<S: Sink>(start: &BytesStart<'_>, place: &Place, sink: &mut S) -> Result<Option<Field<S::Name>>, String> {
    let name = start.local_name();
    if place.in_system && place.depth == 3 {
        let attribute = match name.as_ref() {
            "EventID" => return Ok(Some(Field::EventId)),
            "Computer" => return Ok(Some(Field::Computer)),
            "Channel" => return Ok(Some(Field::Channel)),
            "Provider" => Some((SystemAttribute::ProviderName, "Name", "Provider/@Name")),
            "TimeCreated" => Some((SystemAttribute::SystemTime, "SystemTime", "TimeCreated/@SystemTime")),
            "Security" => Some((SystemAttribute::UserId, "UserID", "Security/@UserID")),
            _ => None,
        };
        if let Some((which, key, place)) = attribute
            && let Some(value) = attribute_value(start, key, place, sink)?
        {
            sink.attribute(which, value);
        }
        return Ok(None);
    }
    if name.as_ref() == "Data" && place.event_data.is_some_and(|depth| depth + 1 == place.depth) {
        let name = attribute_value(start, "Name", "Data/@Name", sink)?;
        return Ok(name.map(|name| Field::Data(S::name(name))));
    }
    Ok(None)
}

/// The normalized value of the first attribute named `key` (without prefix).
fn attribute_value<'a, S: Sink>(
    start: &'a BytesStart<'_>,
    key: &str,
    place: &str,
    sink: &mut S,
) -> Result<Option<Cow<'a, str>>, String> {
    for attr in start.attributes() {
        let attr = attr.map_err(|err| format!("bad attribute: {err}"))?;
        if attr.key.local_name().as_ref() == key {
            return normalized(&attr, place, sink).map(Some);
        }
    }
    Ok(None)
}

/// An attribute's value as XML 1.0 normalizes it, references that stand for no character
/// replaced with U+FFFD.
fn normalized<'a, S: Sink>(attr: &Attribute<'a>, place: &str, sink: &mut S) -> Result<Cow<'a, str>, String> {
    let bad = |err: quick_xml::Error| format!("bad attribute value: {err}");
    match attr.normalized_value(XmlVersion::Implicit1_0) {
        Err(quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(..) | EscapeError::InvalidCharRef(_))) => {
            let repaired = Attribute {
                key: attr.key,
                value: Cow::Owned(replace_bad_references(&attr.value, place, sink)),
            };
            let value = repaired.normalized_value(XmlVersion::Implicit1_0).map_err(bad)?;
            Ok(Cow::Owned(value.into_owned()))
        }
        other => other.map_err(bad),
    }
}

/// `raw` with each `&…;` that stands for no character replaced with U+FFFD.
fn replace_bad_references<S: Sink>(raw: &str, place: &str, sink: &mut S) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semicolon) = after.find(';') else {
            break;
        };
        let name = &after[..semicolon];
        let reference = &rest[amp..amp + semicolon + 2];
        if resolve_reference(name).is_some() {
            out.push_str(reference);
        } else {
            sink.repaired(reference, place);
            out.push(char::REPLACEMENT_CHARACTER);
        }
        rest = &after[semicolon + 1..];
    }
    out.push_str(rest);
    out
}

/// What a reference stands for.
enum Resolved {
    Char(char),
    Text(&'static str),
}

impl Resolved {
    fn push_to(self, value: &mut String, keep: bool) {
        if keep {
            match self {
                Resolved::Char(ch) => value.push(ch),
                Resolved::Text(text) => value.push_str(text),
            }
        }
    }
}

/// What `&name;` stands for, as quick-xml resolves it: a character reference to a Unicode
/// scalar value other than U+0000, or one of XML's five predefined entities.
fn resolve_reference(name: &str) -> Option<Resolved> {
    let Some(number) = name.strip_prefix('#') else {
        return resolve_predefined_entity(name).map(Resolved::Text);
    };
    let (digits, radix) = match number.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let code = u32::from_str_radix(digits, radix).ok()?;
    char::from_u32(code).filter(|&ch| ch != '\0').map(Resolved::Char)
}

fn describe(reader: &Reader<&[u8]>, err: quick_xml::Error) -> String {
    format!("malformed XML at byte {} of the event: {err}", reader.buffer_position())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSMON: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
        <Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F}'/><EventID>1</EventID>\
        <TimeCreated SystemTime='2021-01-14T23:41:40.145335200Z'/><Channel>Microsoft-Windows-Sysmon/Operational</Channel>\
        <Computer>host-1</Computer><Security UserID='S-1-5-18'/></System><EventData>\
        <Data Name='RuleName'></Data><Data Name='Image'>C:\\a&amp;b.exe</Data><Data Name='X'/>\
        <Data Name='CommandLine'>&lt;img src=x&gt; &#x41;&#66;</Data></EventData></Event>";

    #[test]
    fn reads_system_and_event_data() {
        let event = parse_event(SYSMON).expect("parses");
        assert_eq!(event.event_id, Some(1));
        assert_eq!(event.provider.as_deref(), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(event.computer.as_deref(), Some("host-1"));
        assert_eq!(event.system_time.as_deref(), Some("2021-01-14T23:41:40.145335200Z"));
        assert_eq!(event.security_user_id.as_deref(), Some("S-1-5-18"));
        assert_eq!(event.get("RuleName"), Some(""));
        assert_eq!(event.get("Image"), Some("C:\\a&b.exe"));
        assert_eq!(event.get("X"), Some(""));
        assert_eq!(event.get("CommandLine"), Some("<img src=x> AB"));
        assert_eq!(event.repaired, None);
        assert!(event.is_sysmon());
        let seen = Clean {
            system_event_id: true,
            system_provider: true,
        };
        assert_eq!(parses_cleanly(SYSMON), Some(seen));
    }

    #[test]
    fn event_id_with_qualifiers_and_prefixed_names() {
        let xml = "<e:Event xmlns:e='x'><e:System><e:EventID Qualifiers=''>4688</e:EventID></e:System></e:Event>";
        assert_eq!(parse_event(xml).expect("parses").event_id, Some(4688));
    }

    #[test]
    fn structural_errors_are_errors_in_both_modes() {
        for malformed in [
            "<Event><System><EventID>1</System></Event>",
            "<Event><System><Provider Name=Microsoft-Windows-Sysmon/></System></Event>",
            "<Event><System><TimeCreated SystemTime='a&b'/></System></Event>",
            "<Event><EventData><Data Name='a'>x & y</Data></EventData></Event>",
        ] {
            assert!(parse_event(malformed).is_err(), "{malformed}");
            assert_eq!(parses_cleanly(malformed), None, "{malformed}");
        }
        let err = parse_event("<Event><System><EventID>1</System></Event>").expect_err("malformed");
        assert!(err.contains("malformed XML"), "{err}");
    }

    #[test]
    fn references_to_no_character_become_replacement_characters() {
        for (reference, kind) in [
            ("&#xD800;", "invalid character reference"),
            ("&#0;", "invalid character reference"),
            ("&#99999999;", "invalid character reference"),
            ("&#x+41;", "invalid character reference"),
            ("&foo;", "unknown entity"),
        ] {
            let xml = SYSMON.replace("&#x41;", reference);
            let event = parse_event(&xml).expect("kept");
            assert_eq!(event.get("CommandLine"), Some("<img src=x> \u{FFFD}B"), "{reference}");
            assert_eq!(
                event.repaired.as_deref(),
                Some(format!("{kind} {reference} in CommandLine replaced with U+FFFD").as_str())
            );
            assert_eq!(parses_cleanly(&xml), None, "{reference}");
        }
        let xml = SYSMON
            .replace("2021-01-14", "&#xD800;2021-01-14")
            .replace("Name='Image'", "Name='Im&bad;age'")
            .replace("host-1", "host&#0;1");
        let event = parse_event(&xml).expect("kept");
        assert_eq!(
            event.system_time.as_deref(),
            Some("\u{FFFD}2021-01-14T23:41:40.145335200Z")
        );
        assert_eq!(event.get("Im\u{FFFD}age"), Some("C:\\a&b.exe"));
        assert_eq!(event.computer.as_deref(), Some("host\u{FFFD}1"));
        assert_eq!(
            event.repaired.as_deref(),
            Some("invalid character reference &#xD800; in TimeCreated/@SystemTime replaced with U+FFFD (and 2 more)")
        );
    }

    #[test]
    fn system_fields_only_from_the_roots_system_children() {
        let nested = "<Event><System><Provider Name='Microsoft-Windows-Eventlog'/><EventID>104</EventID>\
            <Channel>System</Channel><Computer>dc</Computer></System><UserData><LogFileCleared>\
            <Channel>Microsoft-Windows-Sysmon/Operational</Channel><EventID>1</EventID><Computer>x</Computer>\
            <Data Name='Image'>a</Data><Provider Name='Microsoft-Windows-Sysmon'/></LogFileCleared></UserData>\
            <RenderingInfo><Provider>Microsoft-Windows-Sysmon</Provider></RenderingInfo></Event>";
        let event = parse_event(nested).expect("parses");
        assert_eq!(event.channel.as_deref(), Some("System"));
        assert_eq!(event.event_id, Some(104));
        assert_eq!(event.computer.as_deref(), Some("dc"));
        assert_eq!(event.provider.as_deref(), Some("Microsoft-Windows-Eventlog"));
        assert!(event.data.is_empty());
        assert!(!event.is_sysmon());
        let inside = "<Event><EventData><System><EventID>1</EventID></System></EventData></Event>";
        assert_eq!(parse_event(inside).expect("parses").event_id, None);
        assert_eq!(parses_cleanly(inside), Some(Clean::default()));
    }

    #[test]
    fn event_data_as_the_root() {
        let xml = "<EventData><Data Name='Image'>C:\\cmd.exe</Data><Data Name='X'>a<b>c</b>d</Data></EventData>";
        let event = parse_event(xml).expect("parses");
        assert_eq!(event.get("Image"), Some("C:\\cmd.exe"));
        assert_eq!(event.get("X"), Some("ad"));
    }
}
