//! What the XML parser would read from a record once the `evtx` crate rendered it,
//! found by walking the record's templates instead of writing and re-reading XML.
//!
//! The walk lays the elements out as the crate's renderer does (an element whose
//! DependencyId names a NULL value is left out; an attribute whose value is empty is
//! left out; a nested instance's elements stand where its value is placed) and reads
//! them as [`crate::ingest::xml::parse`] does: `EventID`, `Computer` and `Channel`
//! texts and the `Provider/@Name`, `TimeCreated/@SystemTime` and `Security/@UserID`
//! attributes among the children of a `System` element at depth 2, `Data[@Name]`
//! elements right inside the latest `EventData`, the last of each winning. Fields
//! must be leaves (one literal or one value, no elements), and no attribute may hold
//! an element (the crate fails such a record); otherwise the walk gives up.

use super::binxml::{AttributeName, Child, Content, Element, Item, Literal, Name, Record, Templates, Value, until_nul};

/// A field's text before it is written out: nothing, a template literal, or a value.
#[derive(Clone, Copy, Debug)]
pub enum Text<'d> {
    Empty,
    Literal(&'d [u8]),
    Value(Value<'d>),
}

/// The fields the XML parser keeps, as [`Text`]s.
#[derive(Default)]
pub struct Reading<'d> {
    pub event_id: Option<Text<'d>>,
    pub provider: Option<Text<'d>>,
    pub channel: Option<Text<'d>>,
    pub computer: Option<Text<'d>>,
    pub system_time: Option<Text<'d>>,
    pub user_id: Option<Text<'d>>,
    /// `Data` elements: their `Name` and their text, in document order.
    pub data: Vec<(Text<'d>, Text<'d>)>,
}

enum Field<'d> {
    EventId,
    Computer,
    Channel,
    Data(Text<'d>),
}

/// Where the parser's reader stands, as in `xml::parse::Place`.
#[derive(Default)]
struct Place {
    in_system: bool,
    event_data: Option<usize>,
}

struct Walk<'w, 'd> {
    data: &'d [u8],
    templates: &'w Templates,
    record: &'w Record<'d>,
    place: Place,
    reading: &'w mut Reading<'d>,
}

/// Reads `record` into `reading`; false when the walk gives up.
pub fn read<'d>(data: &'d [u8], templates: &Templates, record: &Record<'d>, reading: &mut Reading<'d>) -> bool {
    *reading = Reading {
        data: std::mem::take(&mut reading.data),
        ..Reading::default()
    };
    reading.data.clear();
    let Some(root) = record.instances.first().and_then(|root| templates.get(root.template)) else {
        return false;
    };
    // A root left out would render no element at all.
    if root
        .root
        .dependency
        .is_some_and(|index| matches!(record.value(0, index), Some(Value::Null)))
    {
        return false;
    }
    let mut walk = Walk {
        data,
        templates,
        record,
        place: Place::default(),
        reading,
    };
    walk.element(0, &root.root, 1).is_some()
}

impl<'d> Walk<'_, 'd> {
    fn value(&self, instance: usize, index: u16) -> Option<Value<'d>> {
        self.record.value(instance, index)
    }

    fn literal(&self, literal: &Literal) -> Text<'d> {
        Text::Literal(literal.bytes(self.data))
    }

    /// The root of nested instance `instance`, placed at `depth`.
    fn nested(&mut self, instance: usize, depth: usize) -> Option<()> {
        let template = self.templates.get(self.record.instances[instance].template)?;
        self.element(instance, &template.root, depth)
    }

    fn element(&mut self, instance: usize, element: &Element, depth: usize) -> Option<()> {
        if element
            .dependency
            .is_some_and(|index| matches!(self.value(instance, index), Some(Value::Null)))
        {
            return Some(());
        }
        // The crate fails a record that places an element in an attribute.
        for attribute in &element.attributes {
            if let Item::Substitution(index) = attribute.value
                && let Some(Value::Nested(_)) = self.value(instance, index)
            {
                return None;
            }
        }
        let field = self.start(instance, element, depth);
        let content = match &element.content {
            // `<Name .../>`: the parser reads its attributes, and a `Data` field as empty.
            Content::Empty => {
                if let Some(Field::Data(name)) = field {
                    self.reading.data.push((name, Text::Empty));
                }
                return Some(());
            }
            content => content,
        };
        if element.name == Name::System && depth == 2 {
            self.place.in_system = true;
        }
        if element.name == Name::EventData {
            self.place.event_data = Some(depth);
        }
        match content {
            Content::Single(Item::Literal(literal)) => {
                let text = self.literal(literal);
                self.end_field(field, text);
            }
            Content::Single(Item::Substitution(index)) => match self.value(instance, *index) {
                // Elements inside a field would put the lines around them in its text.
                Some(Value::Nested(_)) if field.is_some() => return None,
                Some(Value::Nested(nested)) => self.nested(nested, depth + 1)?,
                None | Some(Value::Null) => self.end_field(field, Text::Empty),
                Some(value) => self.end_field(field, Text::Value(value)),
            },
            Content::Children(_) if field.is_some() => return None,
            Content::Children(children) => {
                for child in children {
                    match child {
                        Child::Element(child) => self.element(instance, child, depth + 1)?,
                        Child::Substitution(index) => {
                            if let Some(Value::Nested(nested)) = self.value(instance, *index) {
                                self.nested(nested, depth + 1)?;
                            }
                        }
                    }
                }
            }
            Content::Empty => {}
        }
        if depth == 2 {
            self.place.in_system = false;
        }
        if self.place.event_data == Some(depth) {
            self.place.event_data = None;
        }
        Some(())
    }

    /// As the parser's `read_start`: reads the attributes of a `System` child and says which
    /// field, if any, the element opens.
    fn start(&mut self, instance: usize, element: &Element, depth: usize) -> Option<Field<'d>> {
        if self.place.in_system && depth == 3 {
            let (name, slot) = match element.name {
                Name::EventId => return Some(Field::EventId),
                Name::Computer => return Some(Field::Computer),
                Name::Channel => return Some(Field::Channel),
                Name::Provider => (AttributeName::Name, &mut self.reading.provider),
                Name::TimeCreated => (AttributeName::SystemTime, &mut self.reading.system_time),
                Name::Security => (AttributeName::UserId, &mut self.reading.user_id),
                _ => return None,
            };
            let value = attribute(self.data, self.record, instance, element, name);
            if value.is_some() {
                *slot = value;
            }
            return None;
        }
        if element.name == Name::Data && self.place.event_data.is_some_and(|at| at + 1 == depth) {
            return attribute(self.data, self.record, instance, element, AttributeName::Name).map(Field::Data);
        }
        None
    }

    fn end_field(&mut self, field: Option<Field<'d>>, text: Text<'d>) {
        match field {
            Some(Field::EventId) => self.reading.event_id = Some(text),
            Some(Field::Computer) => self.reading.computer = Some(text),
            Some(Field::Channel) => self.reading.channel = Some(text),
            Some(Field::Data(name)) => self.reading.data.push((name, text)),
            None => {}
        }
    }
}

/// The attribute `name` of `element` as written: a literal, or a value that is not empty.
fn attribute<'d>(
    data: &'d [u8],
    record: &Record<'d>,
    instance: usize,
    element: &Element,
    name: AttributeName,
) -> Option<Text<'d>> {
    let attribute = element.attributes.iter().find(|attribute| attribute.name == name)?;
    match attribute.value {
        Item::Literal(literal) => Some(Text::Literal(literal.bytes(data))),
        Item::Substitution(index) => match record.value(instance, index)? {
            Value::Null => None,
            Value::String(units) if until_nul(units).is_empty() => None,
            Value::Binary([]) => None,
            value => Some(Text::Value(value)),
        },
    }
}
