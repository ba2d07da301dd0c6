//! A record's binary XML read straight from its chunk: the template definitions it
//! instantiates and the substitution values it fills them with.
//!
//! This reads the same bytes the `evtx` crate reads, in the same places, but accepts
//! only the plain shapes real logs are made of, for which the crate's XML output is
//! known without writing it: a record that is one template instance (nested instances
//! allowed in its values); templates of elements, attributes, one literal or one
//! substitution per attribute, and either one literal, one substitution or only
//! elements and substitutions as an element's content; names of ASCII letters, digits,
//! `_`, `-` and `.`; each substitution used once; values of fixed-size types whose
//! stored size is their own. Anything else (entity and character references, CDATA,
//! arrays, fragments that are no instance, a value read past its size) gives `None`,
//! and the record is rendered by the crate instead.

use std::ops::Range;

/// The deepest element nesting of one template accepted here.
const MAX_DEPTH: usize = 32;
/// Instances in instances accepted here: a record and its `EventData` or `UserData`.
const MAX_NESTING: usize = 4;
/// Substitutions one instance may have here.
const MAX_VALUES: usize = 4096;

/// What the XML parser's reader makes of an element's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Name {
    System,
    EventId,
    Provider,
    Channel,
    Computer,
    TimeCreated,
    Security,
    EventData,
    Data,
    Other,
}

impl Name {
    fn of(name: &[u8]) -> Self {
        match name {
            b"System" => Name::System,
            b"EventID" => Name::EventId,
            b"Provider" => Name::Provider,
            b"Channel" => Name::Channel,
            b"Computer" => Name::Computer,
            b"TimeCreated" => Name::TimeCreated,
            b"Security" => Name::Security,
            b"EventData" => Name::EventData,
            b"Data" => Name::Data,
            _ => Name::Other,
        }
    }
}

/// What the XML parser's reader makes of an attribute's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeName {
    Name,
    SystemTime,
    UserId,
    Other,
}

impl AttributeName {
    fn of(name: &[u8]) -> Self {
        match name {
            b"Name" => AttributeName::Name,
            b"SystemTime" => AttributeName::SystemTime,
            b"UserID" => AttributeName::UserId,
            _ => AttributeName::Other,
        }
    }
}

/// Literal text of a template: `units` UTF-16LE code units at `start` in the chunk,
/// none of them NUL (the crate ends a literal at its first NUL), at least one.
#[derive(Clone, Copy, Debug)]
pub struct Literal {
    start: usize,
    units: usize,
}

impl Literal {
    pub fn bytes<'d>(&self, data: &'d [u8]) -> &'d [u8] {
        &data[self.start..self.start + 2 * self.units]
    }
}

/// An attribute's value, or an element's only content: a literal, or a substitution by the
/// index of the value it places. Whether a substitution is optional changes nothing the
/// parser reads: an empty value gives an empty text or no attribute either way.
#[derive(Clone, Copy, Debug)]
pub enum Item {
    Literal(Literal),
    Substitution(u16),
}

#[derive(Debug)]
pub struct Attribute {
    pub name: AttributeName,
    pub value: Item,
}

#[derive(Debug)]
pub enum Content {
    /// None: the element is written `<Name .../>`.
    Empty,
    /// One literal or one substitution, written inline: `<Name>…</Name>`.
    Single(Item),
    /// Elements and substitutions, each on a line of its own.
    Children(Vec<Child>),
}

#[derive(Debug)]
pub enum Child {
    Element(Element),
    Substitution(u16),
}

#[derive(Debug)]
pub struct Element {
    pub name: Name,
    /// The value whose being NULL leaves the element out (its DependencyId).
    pub dependency: Option<u16>,
    pub attributes: Vec<Attribute>,
    pub content: Content,
}

/// A template definition, with what rendering one instance of it may cost.
#[derive(Debug)]
pub struct Template {
    pub root: Element,
    /// A bound on the nodes the crate builds for one instance (its `TemplateStats::nodes`).
    pub nodes: usize,
    /// A bound on the bytes its names, literals and tags take, before indentation.
    pub output: usize,
    pub elements: usize,
    pub depth: usize,
}

/// The templates of one chunk, by the offset of their definition.
#[derive(Default)]
pub struct Templates {
    parsed: Vec<(u32, Option<Template>)>,
}

impl Templates {
    pub fn clear(&mut self) {
        self.parsed.clear();
    }

    /// The index of the template defined at `offset` in `data`, if its shape is one read here.
    pub fn find(&mut self, data: &[u8], offset: u32) -> Option<usize> {
        let index = match self.parsed.iter().position(|(at, _)| *at == offset) {
            Some(index) => index,
            None => {
                self.parsed.push((offset, TemplateParser::parse(data, offset)));
                self.parsed.len() - 1
            }
        };
        self.parsed[index].1.as_ref().map(|_| index)
    }

    pub fn get(&self, index: usize) -> Option<&Template> {
        self.parsed.get(index).and_then(|(_, template)| template.as_ref())
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// The UTF-16LE code units of `bytes` up to the first NUL, as the crate reads strings.
pub fn until_nul(bytes: &[u8]) -> &[u8] {
    let units = &bytes[..bytes.len() / 2 * 2];
    // Four code units at a time while none of them is NUL.
    let mut clear = 0;
    for word in units.chunks_exact(8) {
        let word = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        if word.wrapping_sub(0x0001_0001_0001_0001) & !word & 0x8000_8000_8000_8000 != 0 {
            break;
        }
        clear += 8;
    }
    let end = units[clear..]
        .chunks_exact(2)
        .position(|unit| unit == [0, 0])
        .map_or(units.len(), |unit| clear + 2 * unit);
    &units[..end]
}

/// The name stored at `offset`: its bytes when they are a plain ASCII XML name (so that it is
/// written as is and read back whole, with no prefix).
fn plain_name(data: &[u8], offset: usize) -> Option<Vec<u8>> {
    let count = usize::from(u16_at(data, offset.checked_add(6)?)?);
    let start = offset + 8;
    // The crate reads the terminating NUL too.
    u16_at(data, start + 2 * count)?;
    let name: Vec<u8> = data[start..start + 2 * count]
        .chunks_exact(2)
        .map(|unit| match unit {
            [byte, 0] if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.') => Some(*byte),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let first = *name.first()?;
    (first.is_ascii_alphabetic() || first == b'_').then_some(name)
}

/// The value types the crate knows in a substitution token.
fn known_type(value_type: u8) -> bool {
    matches!(value_type, 0x00..=0x15 | 0x20 | 0x21 | 0x23 | 0x81..=0x95)
}

struct TemplateParser<'d> {
    data: &'d [u8],
    at: usize,
    end: usize,
    nodes: usize,
    output: usize,
    elements: usize,
    depth: usize,
    substitutions: Vec<u16>,
}

impl<'d> TemplateParser<'d> {
    fn parse(data: &'d [u8], offset: u32) -> Option<Template> {
        let offset = offset as usize;
        let size = u32_at(data, offset.checked_add(20)?)? as usize;
        let start = offset + 24;
        let end = start.checked_add(size).filter(|&end| end <= data.len())?;
        let mut parser = TemplateParser {
            data,
            at: start,
            end,
            nodes: 0,
            output: 0,
            elements: 0,
            depth: 0,
            substitutions: Vec::new(),
        };
        // A fragment header, the root element, then the end of the stream.
        if parser.token()? != 0x0f {
            return None;
        }
        parser.skip(3)?;
        let root = parser.element(1)?;
        if parser.at < parser.end && parser.token()? != 0x00 {
            return None;
        }
        parser.substitutions.sort_unstable();
        if parser.substitutions.windows(2).any(|pair| pair[0] == pair[1]) {
            return None;
        }
        Some(Template {
            root,
            nodes: parser.nodes,
            output: parser.output,
            elements: parser.elements,
            depth: parser.depth,
        })
    }

    fn peek(&self) -> Option<u8> {
        (self.at < self.end).then(|| self.data[self.at])
    }

    fn token(&mut self) -> Option<u8> {
        let token = self.peek()?;
        self.at += 1;
        Some(token)
    }

    fn skip(&mut self, bytes: usize) -> Option<()> {
        self.at = self.at.checked_add(bytes).filter(|&at| at <= self.end)?;
        Some(())
    }

    fn u16(&mut self) -> Option<u16> {
        let value = u16_at(self.data, self.at)?;
        self.skip(2)?;
        Some(value)
    }

    fn u32(&mut self) -> Option<u32> {
        let value = u32_at(self.data, self.at)?;
        self.skip(4)?;
        Some(value)
    }

    /// A name reference, skipping the name when it is stored right here; the name's bytes.
    fn name(&mut self) -> Option<Vec<u8>> {
        let offset = self.u32()? as usize;
        if offset == self.at {
            let count = usize::from(u16_at(self.data, self.at + 6)?);
            self.skip(10 + 2 * count)?;
        }
        plain_name(self.data, offset)
    }

    fn element(&mut self, depth: usize) -> Option<Element> {
        if depth > MAX_DEPTH {
            return None;
        }
        let token = self.token()?;
        if token != 0x01 && token != 0x41 {
            return None;
        }
        let dependency = Some(self.u16()?).filter(|&id| id != 0xffff);
        self.u32()?;
        let name = self.name()?;
        if token == 0x41 {
            self.u32()?;
        }
        self.depth = self.depth.max(depth);
        self.elements += 1;
        // The element as one node of its own and one of its parent's; `<`, `>`, `</`, `>`,
        // two line ends and a `/` around its name written twice.
        self.nodes += 2;
        self.output += 2 * name.len() + 8;
        let mut attributes = Vec::new();
        let mut attribute_names: Vec<Vec<u8>> = Vec::new();
        loop {
            match self.token()? {
                0x06 | 0x46 => {
                    let attribute = self.name()?;
                    if attribute_names.contains(&attribute) {
                        return None;
                    }
                    // ` name="` and `"`; the attribute and its value are one node each.
                    self.output += attribute.len() + 4;
                    self.nodes += 2;
                    let value = self.item()?;
                    attributes.push(Attribute {
                        name: AttributeName::of(&attribute),
                        value,
                    });
                    attribute_names.push(attribute);
                }
                0x02 => break,
                0x03 => {
                    return Some(Element {
                        name: Name::of(&name),
                        dependency,
                        attributes,
                        content: Content::Empty,
                    });
                }
                _ => return None,
            }
        }
        let mut literal = None;
        let mut children = Vec::new();
        loop {
            match self.peek()? {
                0x01 | 0x41 => children.push(Child::Element(self.element(depth + 1)?)),
                0x04 => {
                    self.at += 1;
                    break;
                }
                _ => match self.item()? {
                    Item::Literal(_) if literal.is_some() => return None,
                    Item::Literal(text) => literal = Some(text),
                    Item::Substitution(index) => children.push(Child::Substitution(index)),
                },
            }
        }
        let content = match (literal, children.as_slice()) {
            (Some(text), []) => Content::Single(Item::Literal(text)),
            (None, [Child::Substitution(index)]) => Content::Single(Item::Substitution(*index)),
            (None, [_, ..]) => Content::Children(children),
            _ => return None,
        };
        Some(Element {
            name: Name::of(&name),
            dependency,
            attributes,
            content,
        })
    }

    /// A literal string or a substitution token.
    fn item(&mut self) -> Option<Item> {
        self.nodes += 1;
        match self.token()? {
            0x05 | 0x45 => {
                if self.token()? != 0x01 {
                    return None;
                }
                let count = usize::from(self.u16()?);
                let start = self.at;
                self.skip(2 * count)?;
                let units = until_nul(&self.data[start..self.at]).len() / 2;
                if units == 0 {
                    return None;
                }
                // Escaping writes at most six bytes per code unit (`&quot;`).
                self.output += 6 * units;
                Some(Item::Literal(Literal { start, units }))
            }
            0x0d | 0x0e => {
                let index = self.u16()?;
                if !known_type(self.token()?) {
                    return None;
                }
                self.substitutions.push(index);
                Some(Item::Substitution(index))
            }
            _ => None,
        }
    }
}

/// A substitution value as the crate decodes it, over the chunk's bytes.
#[derive(Clone, Copy, Debug)]
pub enum Value<'d> {
    Null,
    /// UTF-16LE code units, of which the crate reads those before the first NUL
    /// ([`until_nul`], left to whoever reads the text).
    String(&'d [u8]),
    Signed(i64),
    Unsigned(u64),
    /// A boolean's stored 32 bits (the crate writes other values than 0 and 1 as numbers).
    Bool(i32),
    Binary(&'d [u8]),
    Guid(&'d [u8]),
    FileTime(u64),
    Sid(&'d [u8]),
    Hex(u64),
    /// A value the crate writes (reals, SYSTEMTIMEs) that is not read here, and how long it
    /// may be written.
    Unread(usize),
    /// A nested template instance: its index in [`Record::instances`].
    Nested(usize),
}

/// One template instance of a record: which template, and where its values are.
#[derive(Debug)]
pub struct Instance {
    pub template: usize,
    pub values: Range<usize>,
}

/// A record read as template instances; kept between records to reuse its buffers.
#[derive(Default)]
pub struct Record<'d> {
    pub instances: Vec<Instance>,
    pub values: Vec<Value<'d>>,
}

impl<'d> Record<'d> {
    /// Reads the record whose binary XML is `data[stream]`. False when it is not a shape
    /// read here: then the crate renders it.
    pub fn read(&mut self, data: &'d [u8], stream: Range<usize>, templates: &mut Templates) -> bool {
        self.instances.clear();
        self.values.clear();
        self.single_instance(data, stream, templates, 0).is_some()
    }

    /// The value `index` of `instance`: `None` past its last value.
    pub fn value(&self, instance: usize, index: u16) -> Option<Value<'d>> {
        let values = &self.instances[instance].values;
        self.values[values.clone()].get(usize::from(index)).copied()
    }

    /// A stream that is one template instance (after a fragment header) and ends with it.
    fn single_instance(
        &mut self,
        data: &'d [u8],
        stream: Range<usize>,
        templates: &mut Templates,
        depth: usize,
    ) -> Option<usize> {
        let bytes = data.get(stream.clone())?;
        let body = match bytes {
            [0x0f, _, _, _, 0x0c, _, ..] => 5,
            [0x0c, ..] => 1,
            _ => return None,
        };
        let (instance, end) = self.instance(data, stream.start + body, templates, depth)?;
        match bytes.get(end - stream.start..)? {
            [] | [0x00, ..] => Some(instance),
            _ => None,
        }
    }

    /// The instance whose body (after its token) starts at `at`, and where it ends.
    fn instance(
        &mut self,
        data: &'d [u8],
        at: usize,
        templates: &mut Templates,
        depth: usize,
    ) -> Option<(usize, usize)> {
        // An unknown byte, the template's id, the offset of its definition.
        let definition = u32_at(data, at + 5)?;
        let mut at = at + 9;
        if at == definition as usize {
            let size = u32_at(data, at + 20)? as usize;
            at = at.checked_add(size)?.checked_add(24)?;
        }
        let count = u32_at(data, at)? as usize;
        if count > MAX_VALUES {
            return None;
        }
        let descriptors = data.get(at + 4..at + 4 + 4 * count)?;
        at += 4 + 4 * count;
        let template = templates.find(data, definition)?;
        let first = self.values.len();
        self.values.resize(first + count, Value::Null);
        let index = self.instances.len();
        self.instances.push(Instance {
            template,
            values: first..first + count,
        });
        for (slot, descriptor) in descriptors.chunks_exact(4).enumerate() {
            let size = usize::from(u16::from_le_bytes([descriptor[0], descriptor[1]]));
            let value = self.decode(data, descriptor[2], at..at + size, templates, depth)?;
            self.values[first + slot] = value;
            at += size;
        }
        Some((index, at))
    }

    fn decode(
        &mut self,
        data: &'d [u8],
        value_type: u8,
        range: Range<usize>,
        templates: &mut Templates,
        depth: usize,
    ) -> Option<Value<'d>> {
        let bytes = data.get(range.clone())?;
        let fixed = |size: usize| (bytes.len() == size).then_some(());
        Some(match value_type {
            0x00 => Value::Null,
            0x01 if bytes.len().is_multiple_of(2) => Value::String(bytes),
            0x03 => Value::Signed(i64::from(*bytes.first().filter(|_| bytes.len() == 1)? as i8)),
            0x04 => Value::Unsigned(u64::from(*bytes.first().filter(|_| bytes.len() == 1)?)),
            0x05 => Value::Signed(i64::from(u16_at(bytes, 0).filter(|_| bytes.len() == 2)? as i16)),
            0x06 => Value::Unsigned(u64::from(u16_at(bytes, 0).filter(|_| bytes.len() == 2)?)),
            0x07 => Value::Signed(i64::from(u32_at(bytes, 0).filter(|_| bytes.len() == 4)? as i32)),
            0x08 => Value::Unsigned(u64::from(u32_at(bytes, 0).filter(|_| bytes.len() == 4)?)),
            0x09 => Value::Signed(u64_at(bytes, 0).filter(|_| bytes.len() == 8)? as i64),
            0x0a => Value::Unsigned(u64_at(bytes, 0).filter(|_| bytes.len() == 8)?),
            0x0b | 0x0c => {
                fixed(if value_type == 0x0b { 4 } else { 8 })?;
                Value::Unread(40)
            }
            0x0d => Value::Bool(u32_at(bytes, 0).filter(|_| bytes.len() == 4)? as i32),
            0x0e => Value::Binary(bytes),
            0x0f => {
                fixed(16)?;
                Value::Guid(bytes)
            }
            0x10 | 0x14 | 0x15 => match (value_type, bytes.len()) {
                (0x10 | 0x14, 4) => Value::Hex(u64::from(u32_at(bytes, 0)?)),
                (0x10 | 0x15, 8) => Value::Hex(u64_at(bytes, 0)?),
                _ => return None,
            },
            0x11 => Value::FileTime(u64_at(bytes, 0).filter(|_| bytes.len() == 8)?),
            0x12 => {
                fixed(16)?;
                Value::Unread(40)
            }
            0x13 if bytes.len() >= 8 && bytes.len() == 8 + 4 * usize::from(bytes[1]) => Value::Sid(bytes),
            0x21 if bytes.is_empty() => Value::Null,
            0x21 if depth < MAX_NESTING => Value::Nested(self.single_instance(data, range, templates, depth + 1)?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_end_at_their_first_nul_code_unit() {
        let simple = |bytes: &[u8]| {
            let units = bytes
                .chunks_exact(2)
                .position(|unit| unit == [0, 0])
                .unwrap_or(bytes.len() / 2);
            bytes[..2 * units].to_vec()
        };
        // Code units with a zero byte on either side, NULs at every place, odd lengths.
        let alphabet: [[u8; 2]; 5] = [[b'a', 0], [0, 1], [0, 0], [0x00, 0x4e], [0xff, 0xff]];
        let mut state = 7u32;
        for length in 0..40 {
            for _ in 0..50 {
                let mut bytes: Vec<u8> = (0..length)
                    .flat_map(|_| {
                        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        alphabet[(state >> 16) as usize % alphabet.len()]
                    })
                    .collect();
                if state.is_multiple_of(3) {
                    bytes.push(0);
                }
                assert_eq!(until_nul(&bytes), simple(&bytes), "{bytes:?}");
            }
        }
    }
}
