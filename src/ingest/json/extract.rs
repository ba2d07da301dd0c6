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
use crate::ingest::xml;
use std::borrow::Cow;

/// Containers deeper than this are left to the parser.
const MAX_DEPTH: u32 = 32;
/// Digits of the longest integer kept: below 10^19, it is a `u64` serde_json prints back as written.
const MAX_DIGITS: usize = 19;

/// The events [`parse_record`](super::parse_record) reads from `record`, when `record`
/// is plain JSON of a known shape; `None` sends it to the parser. A Splunk export's
/// `_raw` XML, unescaped only when it holds an escape, is read as
/// [`xml::read_event`] reads it (straight from its bytes when it is plain XML); a
/// record the parser would answer with an error goes to the parser for it.
pub fn extract_record(record: &[u8]) -> Option<Parsed> {
    let text = simdutf8::basic::from_utf8(record).ok()?;
    let nodes = Tape::read(text)?;
    let root = Borrowed { nodes: &nodes, at: 0 };
    super::read_shape(Shape::of(root), root, xml::read_event)?.ok()
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

    /// The values directly inside this container, in document order.
    fn children(self) -> impl Iterator<Item = Self> {
        let (nodes, end) = (self.nodes, self.node().end);
        let mut at = self.at + 1;
        std::iter::from_fn(move || {
            let child = (at < end).then_some(Borrowed { nodes, at })?;
            at = nodes[at].end;
            Some(child)
        })
    }
}

impl<'a> JsonValue<'a> for Borrowed<'a> {
    fn get(self, key: &str) -> Option<Self> {
        self.fields()?.find(|(name, _)| *name == key).map(|(_, value)| value)
    }

    fn fields(self) -> Option<impl Iterator<Item = (&'a str, Self)>> {
        let members = matches!(self.node().kind, Kind::Object).then(|| self.children())?;
        Some(members.map(|member| (member.node().key, member)))
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

    fn as_bool(self) -> Option<bool> {
        match self.node().kind {
            Kind::Bool(flag) => Some(flag),
            _ => None,
        }
    }

    fn items(self) -> Option<impl Iterator<Item = Self>> {
        matches!(self.node().kind, Kind::Array).then(|| self.children())
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
            r#"{"result":{"_raw":"<Event><EventID>1</EventID></Event>","_time":-1}}"#,
            r#"{"fv":"nvzFlow_v4","da":"1.2.3.4","fss":1.5}"#,
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

    /// A Splunk search export's line whose `_raw` is `xml`, written as JSON.
    fn splunk_line(xml: &str, rest: &str) -> String {
        let raw = serde_json::to_string(xml).expect("a string");
        format!(r#"{{"preview":false,"offset":7,"result":{{"_raw":{raw}{rest}}}}}"#)
    }

    const SPLUNK_XML: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><TimeCreated SystemTime='2024-05-01T10:00:00.1234567Z'/><Computer>WS-01</Computer></System><EventData><Data Name='ProcessId'>5120</Data><Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data><Data Name='CommandLine'>cmd /c \"a &amp; b\" &gt; %TEMP%\\n.txt</Data><Data Name='User'>CORP\\alice</Data></EventData></Event>";

    #[test]
    fn splunk_exports_are_read_as_the_parser_reads_them() {
        // Backslashes and quotes escaped in the JSON string, an entity in the XML.
        let line = splunk_line(
            SPLUNK_XML,
            r#","_time":"2024-05-01T19:00:00.123+09:00","host":"splunk-host""#,
        );
        let event = &extracted(&line).expect("plain")[0];
        assert_eq!(event.get("Image"), Some("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(event.get("CommandLine"), Some("cmd /c \"a & b\" > %TEMP%\\n.txt"));
        assert_eq!(event.computer.as_deref(), Some("WS-01"));
        assert_eq!(
            event.shipper_time,
            Some(("_time", "2024-05-01T19:00:00.123+09:00".into()))
        );
        // Splunk's host stands in for a missing Computer, a number as its text.
        let no_computer = SPLUNK_XML.replace("<Computer>WS-01</Computer>", "");
        for (host, expected) in [(r#""h1""#, "h1"), ("42", "42"), ("true", "true")] {
            let line = splunk_line(&no_computer, &format!(r#","_time":1714557600,"host":{host}"#));
            let event = &extracted(&line).expect("plain")[0];
            assert_eq!(event.computer.as_deref(), Some(expected));
            assert_eq!(event.shipper_time, Some(("_time", "1714557600".into())));
        }
        let missing = &extracted(&splunk_line(&no_computer, "")).expect("plain")[0];
        assert_eq!((missing.computer.as_deref(), &missing.shipper_time), (None, &None));
        // A `_raw` the XML reader leaves to quick-xml (a tab in a value) reads the same.
        let tabbed = splunk_line(&SPLUNK_XML.replace("cmd /c", "cmd\t/c"), "");
        assert_eq!(
            extracted(&tabbed).expect("plain")[0]
                .get("CommandLine")
                .map(|line| line.contains('\t')),
            Some(true)
        );
        // Only a boolean `preview` marks a preview row.
        let preview = splunk_line(SPLUNK_XML, "").replace(r#""preview":false"#, r#""preview":true"#);
        assert!(extracted(&preview).expect("plain").is_empty());
        let quoted = splunk_line(SPLUNK_XML, "").replace(r#""preview":false"#, r#""preview":"true""#);
        assert_eq!(extracted(&quoted).expect("plain").len(), 1);
        let raw = serde_json::to_string(SPLUNK_XML).expect("a string");
        for (record, events) in [
            (
                format!(r#"{{"results":[{{"_raw":{raw}}},{{"_raw":{raw},"host":"h"}}]}}"#),
                2,
            ),
            (
                format!(r#"{{"results":[{{"_raw":"LogName=Security"}},{{"_raw":{raw}}}]}}"#),
                1,
            ),
            (format!(r#"{{"results":{{"_raw":{raw}}}}}"#), 0),
            (r#"{"results":[]}"#.to_string(), 0),
        ] {
            assert_eq!(extracted(&record).expect("plain").len(), events, "{record}");
        }
    }

    #[test]
    fn splunk_exports_the_parser_refuses_or_repairs_are_left_to_it() {
        for record in [
            r#"{"result":{"_time":"x"}}"#.to_string(),
            r#"{"result":{"_raw":"01/14/2021 LogName=Security"}}"#.to_string(),
            r#"{"result":{"_raw":42}}"#.to_string(),
            r#"{"results":[{"_raw":"x"}]}"#.to_string(),
            splunk_line(&SPLUNK_XML.replace("cmd.exe", "cmd\u{ae}.exe"), "").replace('\u{ae}', r"\u00ae"),
            splunk_line(SPLUNK_XML, r#","_time":-5"#),
        ] {
            assert!(extract_record(record.as_bytes()).is_none(), "{record}");
            assert_eq!(extracted(&record), None);
        }
    }

    const NVM: &str = r#"{"fv":"nvzFlow_v4","vsn":"WS-02","sa":"10.1.2.3","sp":50200,"da":"93.184.216.34","dp":443,"pr":6,"dh":"evil.example","pn":"msiexec.exe","pid":4242,"ppn":"cmd.exe","ppid":900,"pa":"CORP\\alice","liuid":"CORP\\bob","fss":1714558501}"#;

    #[test]
    fn cisco_flows_are_read_as_the_parser_reads_them() {
        let flow = &extracted(NVM).expect("plain")[0];
        assert_eq!(flow.get("User"), Some("CORP\\alice"));
        assert_eq!(flow.get("DestinationPort"), Some("443"));
        assert_eq!(flow.get("Protocol"), Some("tcp"));
        assert_eq!(flow.shipper_time, Some(("fss", "2024-05-01T10:15:01Z".into())));
        for (from, to, field, expected) in [
            (r#""dp":443"#, r#""dp":"443""#, "DestinationPort", Some("443")),
            (r#""dp":443"#, r#""dp":" 443""#, "DestinationPort", Some(" 443")),
            (r#""dp":443"#, r#""dp":null"#, "DestinationPort", None),
            (r#""pr":6"#, r#""pr":17"#, "Protocol", Some("udp")),
            (r#""pr":6"#, r#""pr":"47""#, "Protocol", Some("47")),
            (r#""pa":"CORP\\alice","#, "", "User", Some("CORP\\bob")),
            (r#""pid":4242"#, r#""pid":true"#, "ProcessId", Some("true")),
            (
                r#""pn":"msiexec.exe""#,
                r#""pn":"a\"b\/c.exe""#,
                "Image",
                Some("a\"b/c.exe"),
            ),
        ] {
            let record = NVM.replacen(from, to, 1);
            assert_ne!(record, NVM);
            assert_eq!(
                extracted(&record).expect("plain")[0].get(field),
                Some(expected).flatten(),
                "{record}"
            );
        }
        // Without `fv`, `pn`, `da` and `dp` make a flow; a start time as text is read too.
        let bare = r#"{"pn":"a.exe","da":"1.2.3.4","dp":"80","fss":"1714558501"}"#;
        assert_eq!(
            extracted(bare).expect("plain")[0].shipper_time,
            Some(("fss", "2024-05-01T10:15:01Z".into()))
        );
        for (from, to) in [(r#""fss":1714558501"#, r#""fss":-1"#), (r#""sp":50200"#, r#""sp":5e4"#)] {
            assert!(extract_record(NVM.replacen(from, to, 1).as_bytes()).is_none(), "{to}");
        }
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
