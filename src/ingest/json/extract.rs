//! Reads a record written in plain JSON in one pass, keeping its strings borrowed, so
//! the shape readers build its event without serde_json's `Value` (an owned copy of
//! every key and string, in maps that hash each key).
//!
//! The pass accepts what [`plain`](super::plain) accepts — simple escapes only, no
//! exponent, nesting at most 32 deep, UTF-8, serde_json's rules for the rest — and,
//! because the readers stringify what they read, a little less: numbers only as
//! non-negative integers of at most 19 digits (written as serde_json prints them back),
//! no key holding an escape, no key repeated within an object (serde_json keeps the
//! last value in the first one's place). The readers then see the same values through
//! [`JsonValue`] as through `Value`, so the event is the parser's; anything else returns
//! `None` and goes to [`parse_record`](super::parse_record). A fuzz target holds the two
//! equal.

use super::plain::Scanner;
use super::{JsonValue, Parsed, Shape};
use std::borrow::Cow;

/// Containers deeper than this are left to the parser.
const MAX_DEPTH: u32 = 32;
/// Digits of the longest integer kept: below 10^19, it is a `u64` serde_json prints back as written.
const MAX_DIGITS: usize = 19;

/// The events [`parse_record`](super::parse_record) reads from `record`, when `record`
/// is plain JSON of a shape read through [`JsonValue`] (evtx_dump, Winlogbeat, ECS,
/// flat and PowerShell records); `None` sends it to the parser.
pub fn extract_record(record: &[u8]) -> Option<Parsed> {
    let text = simdutf8::basic::from_utf8(record).ok()?;
    let nodes = Tape::read(text)?;
    let root = Borrowed { nodes: &nodes, at: 0 };
    super::read_shape(Shape::of(root), root)
}

/// One value of the record, in document order: a container is followed by its
/// children, each under its key (an array's under none).
#[derive(Clone, Copy, Debug)]
struct Node<'a> {
    key: &'a str,
    kind: Kind<'a>,
    /// The index just past this value's children.
    end: usize,
}

#[derive(Clone, Copy, Debug)]
enum Kind<'a> {
    /// A string as written between its quotes, escapes and all.
    Text(&'a str),
    /// A non-negative integer as written.
    Integer(&'a str),
    Bool(bool),
    Null,
    Object,
    Array,
}

/// Builds the record's [`Node`]s in one pass.
struct Tape<'a> {
    text: &'a str,
    scan: Scanner<'a>,
    nodes: Vec<Node<'a>>,
}

impl<'a> Tape<'a> {
    /// The nodes of `text` when it is one plain JSON object with only blanks around it.
    fn read(text: &'a str) -> Option<Vec<Node<'a>>> {
        let mut tape = Tape {
            text,
            scan: Scanner::new(text.as_bytes()),
            nodes: Vec::with_capacity(64),
        };
        tape.scan.blanks();
        if tape.scan.peek() != Some(b'{') {
            return None;
        }
        tape.value("", 0)?;
        tape.scan.blanks();
        (tape.scan.at == text.len()).then_some(tape.nodes)
    }

    /// One value inside a container at `depth`, kept under `key`.
    fn value(&mut self, key: &'a str, depth: u32) -> Option<()> {
        let index = self.nodes.len();
        let kind = match self.scan.peek()? {
            b'"' => Kind::Text(self.string()?),
            b'0'..=b'9' => {
                let start = self.scan.at;
                self.scan.number()?;
                let digits = self.text.get(start..self.scan.at)?;
                let integer = digits.len() <= MAX_DIGITS && digits.bytes().all(|byte| byte.is_ascii_digit());
                Kind::Integer(integer.then_some(digits)?)
            }
            b'{' | b'[' if depth >= MAX_DEPTH => return None,
            b'{' => {
                self.nodes.push(Node {
                    key,
                    kind: Kind::Object,
                    end: 0,
                });
                self.object(index, depth + 1)?;
                self.nodes[index].end = self.nodes.len();
                return Some(());
            }
            b'[' => {
                self.nodes.push(Node {
                    key,
                    kind: Kind::Array,
                    end: 0,
                });
                self.array(depth + 1)?;
                self.nodes[index].end = self.nodes.len();
                return Some(());
            }
            _ => {
                let rest = &self.text.as_bytes()[self.scan.at..];
                let (kind, len) = [
                    (Kind::Bool(true), &b"true"[..]),
                    (Kind::Bool(false), b"false"),
                    (Kind::Null, b"null"),
                ]
                .into_iter()
                .find(|(_, word)| rest.starts_with(word))
                .map(|(kind, word)| (kind, word.len()))?;
                self.scan.at += len;
                kind
            }
        };
        self.nodes.push(Node {
            key,
            kind,
            end: index + 1,
        });
        Some(())
    }

    /// The members of the object whose node is at `index`; a key written with an
    /// escape, or written twice, leaves the record to the parser.
    fn object(&mut self, index: usize, depth: u32) -> Option<()> {
        self.scan.eat(b'{');
        self.scan.blanks();
        if self.scan.eat(b'}') {
            return Some(());
        }
        // A bit per key seen, chosen by its length and ends: only a key whose bit is
        // already set is compared with the others.
        let mut seen = 0u64;
        loop {
            let key = self.string()?;
            if key.contains('\\') {
                return None;
            }
            let bit = key_bit(key);
            if seen & bit != 0 && self.members(index).any(|member| member.key == key) {
                return None;
            }
            seen |= bit;
            self.scan.blanks();
            if !self.scan.eat(b':') {
                return None;
            }
            self.scan.blanks();
            self.value(key, depth)?;
            self.scan.blanks();
            if self.scan.eat(b'}') {
                return Some(());
            }
            if !self.scan.eat(b',') {
                return None;
            }
            self.scan.blanks();
        }
    }

    /// The members read so far of the object whose node is at `index`.
    fn members(&self, index: usize) -> impl Iterator<Item = &Node<'a>> {
        let mut at = index + 1;
        std::iter::from_fn(move || {
            let node = self.nodes.get(at)?;
            at = node.end;
            Some(node)
        })
    }

    fn array(&mut self, depth: u32) -> Option<()> {
        self.scan.eat(b'[');
        self.scan.blanks();
        if self.scan.eat(b']') {
            return Some(());
        }
        loop {
            self.value("", depth)?;
            self.scan.blanks();
            if self.scan.eat(b']') {
                return Some(());
            }
            if !self.scan.eat(b',') {
                return None;
            }
            self.scan.blanks();
        }
    }

    /// A string's text between its quotes, as written.
    fn string(&mut self) -> Option<&'a str> {
        let bytes = self.scan.string()?;
        let end = self.scan.at - 1;
        self.text.get(end - bytes.len()..end)
    }
}

/// One of 64 bits chosen by a key's length and its first and last bytes.
fn key_bit(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let first = usize::from(bytes.first().copied().unwrap_or(0));
    let last = usize::from(bytes.last().copied().unwrap_or(0));
    1 << ((bytes.len() + first * 7 + last * 13) % 64)
}

/// A value of a record read by [`Tape`].
#[derive(Clone, Copy)]
struct Borrowed<'a> {
    nodes: &'a [Node<'a>],
    at: usize,
}

impl<'a> Borrowed<'a> {
    fn node(self) -> Node<'a> {
        self.nodes[self.at]
    }
}

impl<'a> JsonValue<'a> for Borrowed<'a> {
    fn get(self, key: &str) -> Option<Self> {
        self.fields()?.find(|(name, _)| *name == key).map(|(_, value)| value)
    }

    fn fields(self) -> Option<impl Iterator<Item = (&'a str, Self)>> {
        let Node {
            kind: Kind::Object,
            end,
            ..
        } = self.node()
        else {
            return None;
        };
        let nodes = self.nodes;
        let mut at = self.at + 1;
        Some(std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let member = Borrowed { nodes, at };
            at = nodes[at].end;
            Some((member.node().key, member))
        }))
    }

    fn as_text(self) -> Option<Cow<'a, str>> {
        match self.node().kind {
            Kind::Text(raw) => Some(unescape(raw)),
            _ => None,
        }
    }

    fn scalar(self) -> Option<String> {
        match self.node().kind {
            Kind::Text(raw) => Some(unescape(raw).into_owned()),
            Kind::Integer(digits) => Some(digits.to_string()),
            Kind::Bool(flag) => Some(flag.to_string()),
            Kind::Null | Kind::Object | Kind::Array => None,
        }
    }

    fn event_id(self) -> Option<u32> {
        match self.node().kind {
            Kind::Integer(digits) => digits.parse::<u64>().ok().and_then(|n| u32::try_from(n).ok()),
            Kind::Text(raw) => unescape(raw).trim().parse().ok(),
            _ => None,
        }
    }
}

/// A string's text with its simple escapes (the only ones [`Scanner`] lets through) resolved.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        out.push(match chars.next() {
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some(other) => other,
            None => '\\',
        });
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::super::parse_record;
    use super::*;

    const EVTX: &str = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385F}"}},"EventID":1,"Level":4,"Correlation":null,"TimeCreated":{"#attributes":{"SystemTime":"2026-03-02T08:00:00.0008710Z"}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"H\/1","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"ProcessId":16896,"Image":"C:\\Windows\\a \"b\".exe","CommandLine":"a\r\n\tb\u0041","Signed":true,"Empty":null,"List":[1,{"x":[]}],"Huge":9999999999999999999}}}"##;
    const ECS: &str = r#"{"@timestamp":"2024-05-01T10:00:00Z","winlog":{"event_id":"3","provider_name":"Microsoft-Windows-Sysmon","computer_name":"W1","user":{"identifier":"S-1-5-18"},"event_data":{"RuleName":"-"}},"host":{"name":"w"},"process":{"executable":"C:\\msiexec.exe","pid":1600,"hash":{"sha256":"ab","md5":"cd"}},"user":{"domain":"CORP","name":"ann"},"destination":{"ip":"40.77.226.250","port":443},"network":{"transport":"tcp","direction":"egress"}}"#;
    const FLAT: &str = r#"{"EventTime":"2020-08-01 05:46:46","Hostname":"dc","EventID":1,"SourceName":"Microsoft-Windows-Sysmon","ProcessID":2740,"Message":"Process Create:\r\nProcessId: 2968\r\nImage: C:\\x.exe","Image":"C:\\x.exe","EventData":"<EventData><Data Name='User'>a&amp;b</Data></EventData>"}"#;

    /// Extraction, when it is done, gives exactly the parser's events and format.
    fn extracted(text: &str) -> Option<Vec<crate::ingest::RawEvent>> {
        let parsed = extract_record(text.as_bytes())?;
        let reference = parse_record(text.as_bytes()).expect("extracted records parse");
        assert_eq!(parsed.events, reference.events, "{text}");
        assert_eq!(parsed.format, reference.format, "{text}");
        Some(parsed.events)
    }

    #[test]
    fn shippers_records_are_read_as_the_parser_reads_them() {
        // Only \u escapes are refused: this one is the parser's.
        assert_eq!(extracted(EVTX), None);
        let evtx = EVTX.replace(r"\u0041", "");
        let event = &extracted(&evtx).expect("plain")[0];
        assert_eq!(event.event_id, Some(1));
        assert_eq!(event.computer.as_deref(), Some("H/1"));
        assert_eq!(event.get("Image"), Some("C:\\Windows\\a \"b\".exe"));
        assert_eq!(event.get("CommandLine"), Some("a\r\n\tb"));
        assert_eq!(event.get("ProcessId"), Some("16896"));
        assert_eq!(event.get("Huge"), Some("9999999999999999999"));
        let ecs = &extracted(ECS).expect("plain")[0];
        assert_eq!(ecs.get("Hashes"), Some("SHA256=AB,MD5=CD"));
        assert_eq!(ecs.get("User"), Some("CORP\\ann"));
        let flat = &extracted(FLAT).expect("plain")[0];
        assert_eq!(flat.get("ProcessId"), Some("2968"));
        assert_eq!(flat.get("User"), Some("a&b"));
        for record in [
            r#"{"event_id":3,"source_name":"Microsoft-Windows-Sysmon","user":{"identifier":"S"},"event_data":{"A":"b"}}"#,
            r#"{"Id":1,"ProviderName":"P","UserId":{"Value":"S"},"TimeCreated":"/Date(1543883821887)/","Message":"ProcessId: 4"}"#,
            r#"{"EventId":"1","UtcTime":"x","Image":"a"}"#,
            r#" {"EventID":" 7 ","x":{"EventID":1},"y":[{"a":1},{"a":1}]} "#,
            r#"{"EventID":4294967296,"Event":{"Other":1}}"#,
            r##"{"Event":{"System":{"EventID":{"#text":"12"}}},"winlog":{}}"##,
            r#"{"winlog":{"event_id":1},"EventID":2}"#,
        ] {
            assert!(extracted(record).is_some(), "{record}");
        }
    }

    #[test]
    fn what_the_parser_would_read_otherwise_is_left_to_it() {
        let evtx = EVTX.replace(r"\u0041", "");
        for (from, to) in [
            (r#""Level":4"#, r#""Level":-4"#),
            (r#""Level":4"#, r#""Level":4.5"#),
            (r#""Level":4"#, r#""Level":4e1"#),
            (r#""Level":4"#, r#""Level":12345678901234567890"#),
            (r#""Level":4"#, r#""Level":4,"Level":4"#),
            (r#""Level":4"#, r#""Le\/vel":4"#),
            (r#""ProcessId":16896"#, r#""ProcessId":1,"ProcessId":2"#),
            (r#""EventData":{"#, r#""EventData":{},"EventData":{"#),
            (r#""Level":4"#, r#""Level":"\ud800""#),
            (r#""Level":4"#, r#""Level":4,"#),
            (
                r#""Level":4"#,
                r#""Level":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
            ),
            ("}}}", "}}} x"),
            ("}}}", "}}"),
        ] {
            let record = evtx.replacen(from, to, 1);
            assert_ne!(record, evtx);
            assert_eq!(
                extract_record(record.as_bytes()).map(|parsed| parsed.events),
                None,
                "{to}"
            );
        }
        for record in [
            r#"{"result":{"_raw":"<Event/>"}}"#,
            r#"{"fv":"nvzFlow_v4","da":"1.2.3.4"}"#,
            r#"{"foo":1}"#,
            r#"[{"EventID":1}]"#,
            "",
        ] {
            assert!(extract_record(record.as_bytes()).is_none(), "{record}");
        }
        let mut invalid = FLAT.as_bytes().to_vec();
        invalid[3] = 0xff;
        assert!(extract_record(&invalid).is_none());
    }

    #[test]
    fn generated_records_are_extracted() {
        use crate::generate::{Plan, Shape, generate};
        for shape in [Shape::EvtxDumpJsonl, Shape::FlatJson, Shape::Ecs] {
            let mut text = Vec::new();
            generate(Plan::new(shape, 1 << 19, 3), &mut text).expect("generated");
            let text = String::from_utf8(text).expect("UTF-8");
            for record in text.lines().filter(|line| !line.is_empty()) {
                assert!(extracted(record).is_some(), "not plain: {record}");
            }
        }
    }
}
