//! Proves, without building the record, that [`super::parse_record`] would read exactly
//! one Sysmon event from a JSON record, with no error and no repair, and which EventID.
//!
//! One serde pass visits the record: the keys the shape is decided by and the values
//! the shape's reader takes its EventID and provider from are looked at; every other
//! value is checked as serde_json checks it when it builds a `Value` (the same
//! `deserialize_any` calls, so the same syntax, escape, number-range and nesting
//! errors) and dropped. UTF-8 is checked once for the whole record. The shape is then
//! decided by the parser's own `ShapeFacts::shape`. Any surprise (a container where
//! the shape's reader expects an object, an unknown shape) means "not proven": the
//! record is parsed. Records written in plain JSON are answered for by the one-pass
//! [`super::plain`] check, which must agree with this proof; it runs on the rest.

use super::{Shape, ShapeFacts, cisco_nvm};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

const SYSMON: &str = "Microsoft-Windows-Sysmon";

/// The EventID of the one Sysmon event `parse_record` would read from `record` without
/// error or repair, when the provider names Sysmon; `None` when that is not proven.
pub fn sysmon_event_id(record: &[u8]) -> Option<u32> {
    // Checked at once with SIMD: serde_json then skips its own check of each string,
    // and text outside strings must be ASCII anyway.
    let record = simdutf8::basic::from_utf8(record).ok()?;
    let top: Top = serde_json::from_str::<Object<Top>>(record).ok()?.0;
    let facts = ShapeFacts {
        event_system: top.event.as_ref().is_some_and(|event| event.system.is_some()),
        splunk_result: top.splunk_result,
        winlog_object: top.winlog.is_some(),
        legacy_winlogbeat: top.event_id_key && top.legacy_system_key,
        cisco_flow: top.nvz_flow || top.pn && top.da && top.dp,
        powershell: top.id && top.provider_name,
        event_id: top.flat_event_id.is_some() || top.flat_event_id_lower,
    };
    let (event_id, sysmon) = match facts.shape() {
        Shape::EvtxDump => {
            let system = top.event.and_then(|event| event.system)?;
            (system.event_id, system.provider.and_then(|provider| provider.name))
        }
        Shape::Winlogbeat => {
            let winlog = top.winlog?;
            (winlog.event_id, winlog.provider_name)
        }
        Shape::Flat if !top.embedded_xml_reference => (top.flat_event_id, top.source_name),
        _ => return None,
    };
    if !matches!(sysmon, Some(Scalar::Text(true))) {
        return None;
    }
    match event_id? {
        Scalar::Integer(id) => u32::try_from(id).ok(),
        Scalar::Text(id) => id,
        Scalar::Other => None,
    }
}

/// The top level of a record: what decides its shape, and what each shape reads.
#[derive(Default)]
struct Top {
    event: Option<EvtxEvent>,
    splunk_result: bool,
    winlog: Option<Winlog>,
    event_id_key: bool,
    legacy_system_key: bool,
    nvz_flow: bool,
    pn: bool,
    da: bool,
    dp: bool,
    id: bool,
    provider_name: bool,
    /// `EventID`, read by flat records before `EventId`.
    flat_event_id: Option<Scalar<Option<u32>>>,
    flat_event_id_lower: bool,
    /// `SourceName`, the first provider key flat records read.
    source_name: Option<Scalar<bool>>,
    /// `EventData` is an XML string holding a reference, which the parser may repair.
    embedded_xml_reference: bool,
}

impl<'de> Fields<'de> for Top {
    const KEYS: &'static [&'static str] = &[
        "Event",
        "result",
        "results",
        "winlog",
        "event_id",
        "source_name",
        "log_name",
        "computer_name",
        "fv",
        "pn",
        "da",
        "dp",
        "Id",
        "ProviderName",
        "EventID",
        "EventId",
        "SourceName",
        "EventData",
    ];

    fn read<A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        let mut flag = |flag: &mut bool| {
            *flag = true;
            map.next_value::<Valid>().map(drop)
        };
        match Self::KEYS[key] {
            "Event" => self.event = Some(map.next_value::<Object<EvtxEvent>>()?.0),
            "result" | "results" => flag(&mut self.splunk_result)?,
            "winlog" => self.winlog = Some(map.next_value::<Object<Winlog>>()?.0),
            "event_id" => flag(&mut self.event_id_key)?,
            "source_name" | "log_name" | "computer_name" => flag(&mut self.legacy_system_key)?,
            "fv" => {
                let version = map.next_value_seed(Judged::plain(|text| text.starts_with(cisco_nvm::VERSION_PREFIX)))?;
                self.nvz_flow = matches!(version, Scalar::Text(true));
            }
            "pn" => flag(&mut self.pn)?,
            "da" => flag(&mut self.da)?,
            "dp" => flag(&mut self.dp)?,
            "Id" => flag(&mut self.id)?,
            "ProviderName" => flag(&mut self.provider_name)?,
            "EventID" => self.flat_event_id = Some(map.next_value_seed(Judged::plain(event_id))?),
            "EventId" => flag(&mut self.flat_event_id_lower)?,
            "SourceName" => self.source_name = Some(map.next_value_seed(Judged::plain(is_sysmon))?),
            _ => {
                // "EventData"
                let data = map.next_value_seed(Judged::plain(|text| {
                    text.trim_start().starts_with('<') && text.contains('&')
                }))?;
                self.embedded_xml_reference = matches!(data, Scalar::Text(true));
            }
        }
        Ok(())
    }
}

/// evtx_dump's `Event`.
#[derive(Default)]
struct EvtxEvent {
    system: Option<EvtxSystem>,
}

impl<'de> Fields<'de> for EvtxEvent {
    const KEYS: &'static [&'static str] = &["System"];

    fn read<A: MapAccess<'de>>(&mut self, _: usize, map: &mut A) -> Result<(), A::Error> {
        self.system = Some(map.next_value::<Object<EvtxSystem>>()?.0);
        Ok(())
    }
}

/// evtx_dump's `Event.System`: `EventID` a number, a string or `{"#text": …}`.
#[derive(Default)]
struct EvtxSystem {
    event_id: Option<Scalar<Option<u32>>>,
    provider: Option<EvtxProvider>,
}

impl<'de> Fields<'de> for EvtxSystem {
    const KEYS: &'static [&'static str] = &["EventID", "Provider"];

    fn read<A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        if key == 0 {
            let seed = Judged {
                judge: event_id,
                unwrap_text: true,
            };
            self.event_id = Some(map.next_value_seed(seed)?);
        } else {
            self.provider = Some(map.next_value::<Object<EvtxProvider>>()?.0);
        }
        Ok(())
    }
}

/// evtx_dump's `Provider`, whose name is under `#attributes`.
#[derive(Default)]
struct EvtxProvider {
    name: Option<Scalar<bool>>,
}

impl<'de> Fields<'de> for EvtxProvider {
    const KEYS: &'static [&'static str] = &["#attributes"];

    fn read<A: MapAccess<'de>>(&mut self, _: usize, map: &mut A) -> Result<(), A::Error> {
        self.name = map.next_value::<Object<Attributes>>()?.0.name;
        Ok(())
    }
}

#[derive(Default)]
struct Attributes {
    name: Option<Scalar<bool>>,
}

impl<'de> Fields<'de> for Attributes {
    const KEYS: &'static [&'static str] = &["Name"];

    fn read<A: MapAccess<'de>>(&mut self, _: usize, map: &mut A) -> Result<(), A::Error> {
        self.name = Some(map.next_value_seed(Judged::plain(is_sysmon))?);
        Ok(())
    }
}

/// Winlogbeat 7/8's `winlog`.
#[derive(Default)]
struct Winlog {
    event_id: Option<Scalar<Option<u32>>>,
    provider_name: Option<Scalar<bool>>,
}

impl<'de> Fields<'de> for Winlog {
    const KEYS: &'static [&'static str] = &["event_id", "provider_name"];

    fn read<A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        if key == 0 {
            self.event_id = Some(map.next_value_seed(Judged::plain(event_id))?);
        } else {
            self.provider_name = Some(map.next_value_seed(Judged::plain(is_sysmon))?);
        }
        Ok(())
    }
}

/// An EventID written as text, as the parser reads it.
fn event_id(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

/// A provider name naming Sysmon, as [`crate::ingest::RawEvent::is_sysmon`] compares it.
fn is_sysmon(text: &str) -> bool {
    text.eq_ignore_ascii_case(SYSMON)
}

/// The keys of an object that matter, and what to do with their values; the last
/// occurrence of a repeated key wins, as in serde_json's map.
trait Fields<'de>: Default {
    const KEYS: &'static [&'static str];
    /// Reads the value of `KEYS[key]`.
    fn read<A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error>;
}

/// A JSON object read through its [`Fields`]; anything else is an error.
struct Object<T>(T);

impl<'de, T: Fields<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Fields<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<T>, A::Error> {
        let mut fields = T::default();
        while let Some(key) = map.next_key_seed(KeyIn(T::KEYS))? {
            match key {
                Some(key) => fields.read(key, &mut map)?,
                None => map.next_value::<Valid>().map(drop)?,
            }
        }
        Ok(Object(fields))
    }
}

/// A key: its index in a list, or `None` when it is not listed.
struct KeyIn(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeyIn {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIn {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|listed| *listed == key))
    }
}

/// A value the parser reads: a non-negative integer, a string judged by a function, or
/// anything else (checked, then dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scalar<T> {
    Integer(u64),
    Text(T),
    Other,
}

/// Reads a [`Scalar`]; with `unwrap_text`, an object stands for its `#text` value, as
/// evtx_dump's `EventID` does.
struct Judged<T> {
    judge: fn(&str) -> T,
    unwrap_text: bool,
}

impl<T> Judged<T> {
    fn plain(judge: fn(&str) -> T) -> Self {
        Self {
            judge,
            unwrap_text: false,
        }
    }
}

impl<'de, T> DeserializeSeed<'de> for Judged<T> {
    type Value = Scalar<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar<T>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T> Visitor<'de> for Judged<T> {
    type Value = Scalar<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E>(self, value: u64) -> Result<Scalar<T>, E> {
        Ok(Scalar::Integer(value))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Scalar<T>, E> {
        Ok(Scalar::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Scalar<T>, E> {
        Ok(Scalar::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Scalar<T>, E> {
        Ok(Scalar::Other)
    }

    fn visit_unit<E>(self) -> Result<Scalar<T>, E> {
        Ok(Scalar::Other)
    }

    fn visit_str<E>(self, text: &str) -> Result<Scalar<T>, E> {
        Ok(Scalar::Text((self.judge)(text)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<T>, A::Error> {
        Valid.visit_seq(seq).map(|()| Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<T>, A::Error> {
        let mut inner = Scalar::Other;
        while let Some(key) = map.next_key_seed(KeyIn(&["#text"]))? {
            match key {
                Some(_) if self.unwrap_text => inner = map.next_value_seed(Judged::plain(self.judge))?,
                _ => map.next_value::<Valid>().map(drop)?,
            }
        }
        Ok(if self.unwrap_text { inner } else { Scalar::Other })
    }
}

/// Any JSON value, checked as serde_json checks it when it builds a `Value`, kept as nothing.
struct Valid;

impl<'de> serde::Deserialize<'de> for Valid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Valid).map(|()| Valid)
    }
}

impl<'de> Visitor<'de> for Valid {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Valid>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredKey>()?.is_some() {
            map.next_value::<Valid>()?;
        }
        Ok(())
    }
}

/// An object key, checked as a string and dropped.
struct IgnoredKey;

impl<'de> serde::Deserialize<'de> for IgnoredKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Valid).map(|()| IgnoredKey)
    }
}
