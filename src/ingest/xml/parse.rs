//! Parses one `<Event>` element with quick-xml into a [`RawEvent`].
//!
//! Reads the `System` fields the product uses and every `EventData/Data[@Name]`;
//! element names are matched without namespace prefixes, entities are resolved.

use crate::ingest::RawEvent;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// Which text-bearing element we are inside.
enum Field {
    None,
    EventId,
    Computer,
    Channel,
    Data(String),
}

/// Parses one event element; the error says what was malformed.
pub fn parse_event(text: &str) -> Result<RawEvent, String> {
    let mut reader = Reader::from_str(text);
    let mut event = RawEvent::default();
    let mut field = Field::None;
    let mut value = String::new();
    let mut event_id_text = None;
    loop {
        match reader.read_event().map_err(|err| describe(&reader, err))? {
            Event::Start(start) => {
                value.clear();
                field = read_start(&start, &mut event)?;
            }
            Event::Empty(start) => {
                if let Field::Data(name) = read_start(&start, &mut event)? {
                    event.data.push((name, String::new()));
                }
                field = Field::None;
            }
            Event::Text(text) if collecting(&field) => value.push_str(&text.xml10_content()),
            Event::CData(data) if collecting(&field) => value.push_str(&data.xml10_content()),
            Event::GeneralRef(reference) if collecting(&field) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    _ => {
                        let name = reference.xml10_content();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .map(str::to_string)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                    }
                };
                value.push_str(&resolved);
            }
            Event::End(_) => {
                match std::mem::replace(&mut field, Field::None) {
                    Field::None => {}
                    Field::EventId => event_id_text = Some(std::mem::take(&mut value)),
                    Field::Computer => event.computer = Some(std::mem::take(&mut value)),
                    Field::Channel => event.channel = Some(std::mem::take(&mut value)),
                    Field::Data(name) => event.data.push((name, std::mem::take(&mut value))),
                }
                value.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    event.event_id = event_id_text.and_then(|text| text.trim().parse().ok());
    Ok(event)
}

fn collecting(field: &Field) -> bool {
    !matches!(field, Field::None)
}

/// Records what a start tag carries and says which text, if any, to collect next.
fn read_start(start: &BytesStart<'_>, event: &mut RawEvent) -> Result<Field, String> {
    let attribute = |name: &str| -> Result<Option<String>, String> {
        for attr in start.attributes() {
            let attr = attr.map_err(|err| format!("bad attribute: {err}"))?;
            if attr.key.local_name().as_ref() == name {
                let value = attr
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|err| format!("bad attribute value: {err}"))?;
                return Ok(Some(value.into_owned()));
            }
        }
        Ok(None)
    };
    Ok(match start.local_name().as_ref() {
        "Provider" => {
            event.provider = attribute("Name")?;
            Field::None
        }
        "TimeCreated" => {
            event.system_time = attribute("SystemTime")?;
            Field::None
        }
        "Security" => {
            event.security_user_id = attribute("UserID")?;
            Field::None
        }
        "EventID" => Field::EventId,
        "Computer" => Field::Computer,
        "Channel" => Field::Channel,
        "Data" => match attribute("Name")? {
            Some(name) => Field::Data(name),
            None => Field::None,
        },
        _ => Field::None,
    })
}

fn describe(reader: &Reader<&[u8]>, err: quick_xml::Error) -> String {
    format!("malformed XML at byte {} of the event: {err}", reader.buffer_position())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_system_and_event_data() {
        let xml = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
            <Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F}'/><EventID>1</EventID>\
            <TimeCreated SystemTime='2021-01-14T23:41:40.145335200Z'/><Channel>Microsoft-Windows-Sysmon/Operational</Channel>\
            <Computer>host-1</Computer><Security UserID='S-1-5-18'/></System><EventData>\
            <Data Name='RuleName'></Data><Data Name='Image'>C:\\a&amp;b.exe</Data><Data Name='X'/>\
            <Data Name='CommandLine'>&lt;img src=x&gt; &#x41;&#66;</Data></EventData></Event>";
        let event = parse_event(xml).expect("parses");
        assert_eq!(event.event_id, Some(1));
        assert_eq!(event.provider.as_deref(), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(event.computer.as_deref(), Some("host-1"));
        assert_eq!(event.system_time.as_deref(), Some("2021-01-14T23:41:40.145335200Z"));
        assert_eq!(event.security_user_id.as_deref(), Some("S-1-5-18"));
        assert_eq!(event.get("RuleName"), Some(""));
        assert_eq!(event.get("Image"), Some("C:\\a&b.exe"));
        assert_eq!(event.get("X"), Some(""));
        assert_eq!(event.get("CommandLine"), Some("<img src=x> AB"));
        assert!(event.is_sysmon());
    }

    #[test]
    fn event_id_with_qualifiers_and_prefixed_names() {
        let xml = "<e:Event xmlns:e='x'><e:System><e:EventID Qualifiers=''>4688</e:EventID></e:System></e:Event>";
        assert_eq!(parse_event(xml).expect("parses").event_id, Some(4688));
    }

    #[test]
    fn mismatched_tags_are_an_error() {
        let err = parse_event("<Event><System><EventID>1</System></Event>").expect_err("malformed");
        assert!(err.contains("malformed XML"), "{err}");
    }
}
