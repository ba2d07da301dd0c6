//! A one-pass check that a record is written in plain JSON: the subset the prefilter
//! can trust without serde.
//!
//! [`proof::sysmon_event_id`](super::proof::sysmon_event_id) drives serde_json over a
//! record to prove what `parse_record` would read from it; on generated logs that
//! proof was a large share of the run. Shippers write a small part of JSON: objects,
//! arrays, strings with simple escapes (`\\`, `\"` in every Windows path), integers
//! and decimals, `true`/`false`/`null`. This scan accepts exactly that — no `\u`
//! escape, no exponent, numbers of bounded length, nesting at most 32 deep, no
//! repeated key among those the answer depends on — with serde_json's rules for the
//! rest (no control character in a string, no trailing comma, only blanks after the
//! record, UTF-8), and answers what the proof answers. Keys and values are compared
//! as written: a simple escape stands for one of `"\/` or a control character, which
//! no key or value compared here contains, so an escaped one never matches either
//! way. Anything else goes to the proof: this check may refuse more than it must,
//! never less.

use super::{Shape, ShapeFacts, cisco_nvm};

/// Containers deeper than this are left to the proof (serde_json allows 128).
const MAX_DEPTH: u32 = 32;
/// Digits before, and after, a decimal point: such a number is a finite `f64`.
const MAX_DIGITS: usize = 32;

const SYSMON: &[u8] = b"Microsoft-Windows-Sysmon";

/// What [`proof::sysmon_event_id`](super::proof::sysmon_event_id) would answer when
/// `record` is plain JSON; `None` when it is not (then ask the proof).
pub fn sysmon_event_id(record: &[u8]) -> Option<Option<u32>> {
    simdutf8::basic::from_utf8(record).ok()?;
    let mut scan = Scanner::new(record);
    scan.blanks();
    let top: Top = scan.object(1)?;
    scan.blanks();
    if scan.at != record.len() {
        return None;
    }
    top.answer()
}

/// The top level of a record: what decides its shape, and what each shape reads.
#[derive(Default)]
struct Top {
    event: Option<EvtxEvent>,
    splunk_result: bool,
    winlog: Option<Winlog>,
    event_id_key: bool,
    legacy_system_key: bool,
    nvz_flow: Option<bool>,
    pn: bool,
    da: bool,
    dp: bool,
    id: bool,
    provider_name: bool,
    /// `EventID`, read by flat records before `EventId`.
    flat_event_id: Option<u32>,
    flat_event_id_lower: bool,
    /// `SourceName` names Sysmon: the first provider key flat records read.
    source_name: Option<bool>,
    /// `EventData` is a string holding `&`: an XML reference the parser might repair.
    event_data_ampersand: Option<bool>,
}

impl Top {
    fn answer(self) -> Option<Option<u32>> {
        let facts = ShapeFacts {
            event_system: self.event.as_ref().is_some_and(|event| event.system.is_some()),
            splunk_result: self.splunk_result,
            winlog_object: self.winlog.is_some(),
            legacy_winlogbeat: self.event_id_key && self.legacy_system_key,
            cisco_flow: self.nvz_flow == Some(true) || self.pn && self.da && self.dp,
            powershell: self.id && self.provider_name,
            event_id: self.flat_event_id.is_some() || self.flat_event_id_lower,
        };
        let (event_id, sysmon) = match facts.shape() {
            Shape::EvtxDump => {
                let system = self.event.and_then(|event| event.system)?;
                let provider = system.provider.and_then(|provider| provider.attributes?.name);
                (system.event_id, provider)
            }
            Shape::Winlogbeat => {
                let winlog = self.winlog?;
                (winlog.event_id, winlog.provider_name)
            }
            // Whether the parser repairs an XML reference is the proof's to say.
            Shape::Flat if self.event_data_ampersand == Some(true) => return None,
            Shape::Flat => (self.flat_event_id, self.source_name),
            _ => return Some(None),
        };
        Some(event_id.filter(|_| sysmon == Some(true)))
    }
}

/// What an object's keys mean for the answer.
trait Fields: Default {
    /// Reads the value of `key`, which is written without escapes.
    fn read(&mut self, key: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()>;
}

impl Fields for Top {
    fn read(&mut self, key: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()> {
        let mut flag = |flag: &mut bool| {
            *flag = true;
            scan.skip_value(depth)
        };
        match key {
            b"Event" => once(&mut self.event, scan.object(depth + 1)?),
            b"result" | b"results" => flag(&mut self.splunk_result),
            b"winlog" => once(&mut self.winlog, scan.object(depth + 1)?),
            b"event_id" => flag(&mut self.event_id_key),
            b"source_name" | b"log_name" | b"computer_name" => flag(&mut self.legacy_system_key),
            b"fv" => {
                let version = scan.scalar(depth)?;
                once(
                    &mut self.nvz_flow,
                    version
                        .text()
                        .is_some_and(|text| text.starts_with(cisco_nvm::VERSION_PREFIX.as_bytes())),
                )
            }
            b"pn" => flag(&mut self.pn),
            b"da" => flag(&mut self.da),
            b"dp" => flag(&mut self.dp),
            b"Id" => flag(&mut self.id),
            b"ProviderName" => flag(&mut self.provider_name),
            b"EventID" => {
                let id = scan.scalar(depth)?.event_id()?;
                once(&mut self.flat_event_id, id)
            }
            b"EventId" => flag(&mut self.flat_event_id_lower),
            b"SourceName" => {
                let sysmon = scan.scalar(depth)?.is_sysmon();
                once(&mut self.source_name, sysmon)
            }
            b"EventData" => {
                let data = scan.scalar(depth)?;
                once(
                    &mut self.event_data_ampersand,
                    data.text().is_some_and(|text| text.contains(&b'&')),
                )
            }
            _ => scan.skip_value(depth),
        }
    }
}

/// evtx_dump's `Event`.
#[derive(Default)]
struct EvtxEvent {
    system: Option<EvtxSystem>,
}

impl Fields for EvtxEvent {
    fn read(&mut self, key: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()> {
        match key {
            b"System" => once(&mut self.system, scan.object(depth + 1)?),
            _ => scan.skip_value(depth),
        }
    }
}

/// evtx_dump's `Event.System`: `EventID` a number, a string or `{"#text": …}`.
#[derive(Default)]
struct EvtxSystem {
    event_id: Option<u32>,
    provider: Option<EvtxProvider>,
}

impl Fields for EvtxSystem {
    fn read(&mut self, key: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()> {
        match key {
            b"EventID" => {
                let id = if scan.peek() == Some(b'{') {
                    scan.object::<TextOf>(depth + 1)?.text?
                } else {
                    scan.scalar(depth)?.event_id()?
                };
                once(&mut self.event_id, id)
            }
            b"Provider" => once(&mut self.provider, scan.object(depth + 1)?),
            _ => scan.skip_value(depth),
        }
    }
}

/// An EventID written as `{"#text": …}`.
#[derive(Default)]
struct TextOf {
    text: Option<u32>,
}

impl Fields for TextOf {
    fn read(&mut self, key: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()> {
        match key {
            b"#text" => {
                let id = scan.scalar(depth)?.event_id()?;
                once(&mut self.text, id)
            }
            _ => scan.skip_value(depth),
        }
    }
}

/// evtx_dump's `Provider`, whose name is under `#attributes`.
#[derive(Default)]
struct EvtxProvider {
    attributes: Option<Attributes>,
}

impl Fields for EvtxProvider {
    fn read(&mut self, key: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()> {
        match key {
            b"#attributes" => once(&mut self.attributes, scan.object(depth + 1)?),
            _ => scan.skip_value(depth),
        }
    }
}

#[derive(Default)]
struct Attributes {
    name: Option<bool>,
}

impl Fields for Attributes {
    fn read(&mut self, key: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()> {
        match key {
            b"Name" => {
                let sysmon = scan.scalar(depth)?.is_sysmon();
                once(&mut self.name, sysmon)
            }
            _ => scan.skip_value(depth),
        }
    }
}

/// Winlogbeat 7/8's `winlog`.
#[derive(Default)]
struct Winlog {
    event_id: Option<u32>,
    provider_name: Option<bool>,
}

impl Fields for Winlog {
    fn read(&mut self, key: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()> {
        match key {
            b"event_id" => {
                let id = scan.scalar(depth)?.event_id()?;
                once(&mut self.event_id, id)
            }
            b"provider_name" => {
                let sysmon = scan.scalar(depth)?.is_sysmon();
                once(&mut self.provider_name, sysmon)
            }
            _ => scan.skip_value(depth),
        }
    }
}

/// Any object whose keys do not matter.
#[derive(Default)]
struct Ignored;

impl Fields for Ignored {
    fn read(&mut self, _: &[u8], scan: &mut Scanner<'_>, depth: u32) -> Option<()> {
        scan.skip_value(depth)
    }
}

/// Bit `i` set where byte `i` of the first 64 of `bytes` (padded with blanks) is `"`,
/// `\\` or below `0x20`.
fn stops(bytes: &[u8]) -> u64 {
    match bytes.first_chunk::<64>() {
        Some(block) => stops_of(block),
        None => {
            let mut padded = [b' '; 64];
            padded[..bytes.len()].copy_from_slice(bytes);
            stops_of(&padded)
        }
    }
}

/// Flags the bytes first (a few vector instructions), then gathers the flags eight at a
/// time with a multiplication.
fn stops_of(block: &[u8; 64]) -> u64 {
    let mut flags = [0u8; 64];
    for (flag, &byte) in flags.iter_mut().zip(block) {
        *flag = (u8::from(byte == b'"') | u8::from(byte == b'\\') | u8::from(byte < 0x20)) << 7;
    }
    flags.chunks_exact(8).enumerate().fold(0, |map, (index, eight)| {
        let mut word = [0; 8];
        word.copy_from_slice(eight);
        let high_bits = u64::from_le_bytes(word);
        map | ((high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * index)
    })
}

/// Fills `slot` once: a key repeated among those that matter is left to the proof.
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// A value the answer reads.
enum Scalar<'a> {
    /// A string as written, between its quotes.
    Text(&'a [u8]),
    /// A non-negative integer of at most nine digits.
    Integer(u32),
    Other,
}

impl<'a> Scalar<'a> {
    fn text(&self) -> Option<&'a [u8]> {
        match *self {
            Scalar::Text(text) => Some(text),
            _ => None,
        }
    }

    /// An EventID as the parser reads it, when written as an integer or 1–9 digits;
    /// `None` for any other form (then ask the proof).
    fn event_id(&self) -> Option<u32> {
        match *self {
            Scalar::Integer(id) => Some(id),
            Scalar::Text(text) if (1..=9).contains(&text.len()) && text.iter().all(u8::is_ascii_digit) => {
                Some(text.iter().fold(0, |n, digit| n * 10 + u32::from(digit - b'0')))
            }
            _ => None,
        }
    }

    /// A string naming Sysmon, as [`crate::ingest::RawEvent::is_sysmon`] compares it.
    fn is_sysmon(&self) -> bool {
        self.text().is_some_and(|text| text.eq_ignore_ascii_case(SYSMON))
    }
}

/// The record and how far it has been read; every step answers `None` when the
/// text leaves the plain subset.
pub(super) struct Scanner<'a> {
    text: &'a [u8],
    pub(super) at: usize,
    /// Which 64 bytes [`Self::stops`] maps (`usize::MAX`: none yet).
    block: usize,
    /// Bit `i` set when byte `64 * block + i` can stop a string: `"`, `\\` or a control
    /// character.
    stops: u64,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            at: 0,
            block: usize::MAX,
            stops: 0,
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Steps over `byte` if it is next.
    pub(super) fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    /// Skips JSON's blanks.
    pub(super) fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// An object at `depth`, its keys read by `F`.
    fn object<F: Fields>(&mut self, depth: u32) -> Option<F> {
        if depth > MAX_DEPTH || !self.eat(b'{') {
            return None;
        }
        let mut fields = F::default();
        self.blanks();
        if self.eat(b'}') {
            return Some(fields);
        }
        loop {
            let key = self.string()?;
            self.blanks();
            if !self.eat(b':') {
                return None;
            }
            self.blanks();
            fields.read(key, self, depth)?;
            self.blanks();
            if self.eat(b'}') {
                return Some(fields);
            }
            if !self.eat(b',') {
                return None;
            }
            self.blanks();
        }
    }

    /// An array at `depth`, its elements checked and dropped.
    fn array(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH || !self.eat(b'[') {
            return None;
        }
        self.blanks();
        if self.eat(b']') {
            return Some(());
        }
        loop {
            self.skip_value(depth)?;
            self.blanks();
            if self.eat(b']') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
            self.blanks();
        }
    }

    /// Any value inside a container at `depth`, checked and dropped.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.object::<Ignored>(depth + 1).map(drop),
            b'[' => self.array(depth + 1),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            _ => {
                let rest = &self.text[self.at..];
                let word = [&b"true"[..], b"false", b"null"]
                    .into_iter()
                    .find(|word| rest.starts_with(word))?;
                self.at += word.len();
                Some(())
            }
        }
    }

    /// A value inside a container at `depth`, as the answer reads it.
    fn scalar(&mut self, depth: u32) -> Option<Scalar<'a>> {
        Some(match self.peek()? {
            b'"' => Scalar::Text(self.string()?),
            b'-' | b'0'..=b'9' => self.number()?.map_or(Scalar::Other, Scalar::Integer),
            _ => {
                self.skip_value(depth)?;
                Scalar::Other
            }
        })
    }

    /// A string's bytes between its quotes: no control character, no `\u` escape.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.at;
        loop {
            self.at = self.special_from(self.at)?;
            match self.text[self.at] {
                b'"' => {
                    self.at += 1;
                    return Some(&self.text[start..self.at - 1]);
                }
                b'\\'
                    if matches!(
                        self.text.get(self.at + 1),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't')
                    ) =>
                {
                    self.at += 2
                }
                _ => return None,
            }
        }
    }

    /// The next `"`, `\\` or control character at or after `at`, found through the
    /// record's 64-byte blocks, each mapped once as the scan moves on.
    #[inline(always)]
    fn special_from(&mut self, mut at: usize) -> Option<usize> {
        loop {
            let block = at / 64;
            if block != self.block {
                let bytes = self.text.get(block * 64..).filter(|bytes| !bytes.is_empty())?;
                self.stops = stops(bytes);
                self.block = block;
            }
            let ahead = self.stops >> (at % 64);
            if ahead != 0 {
                return Some(at + ahead.trailing_zeros() as usize);
            }
            at = (block + 1) * 64;
        }
    }

    /// A number without exponent, of at most [`MAX_DIGITS`] digits before and after
    /// its point (`None` for any other); its value when it is a non-negative integer of
    /// at most nine digits.
    pub(super) fn number(&mut self) -> Option<Option<u32>> {
        let negative = self.eat(b'-');
        let integer = self.digits();
        let fraction = if self.eat(b'.') { Some(self.digits()) } else { None };
        let plain = (1..=MAX_DIGITS).contains(&integer.len())
            && (integer[0] != b'0' || integer.len() == 1)
            && fraction.is_none_or(|digits| (1..=MAX_DIGITS).contains(&digits.len()))
            && !matches!(self.peek(), Some(b'e' | b'E'));
        plain.then(|| {
            (!negative && fraction.is_none() && integer.len() <= 9)
                .then(|| integer.iter().fold(0, |n, digit| n * 10 + u32::from(digit - b'0')))
        })
    }

    fn digits(&mut self) -> &'a [u8] {
        let start = self.at;
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.at += 1;
        }
        &self.text[start..self.at]
    }
}

#[cfg(test)]
mod tests {
    use super::super::proof;
    use super::*;

    const EVTX: &str = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385F}"}},"EventID":10,"Level":4,"Correlation":null,"Computer":"H"},"EventData":{"Image":"C:\\Windows\\a \"b\".exe","n":[1,-2.5,true,false,{"b":null},[]],"Signed":"true"}}}"##;
    const ECS: &str = r#"{"@timestamp":"2024-05-01T10:00:00Z","event":{"code":"13"},"winlog":{"event_id":"13","provider_name":"Microsoft-Windows-Sysmon","event_data":{"a":"b"}},"host":{"name":"w"}}"#;
    const FLAT: &str = r#"{"EventID":22,"SourceName":"Microsoft-Windows-Sysmon","Hostname":"H","Product":"Microsoft® Windows®","EventData":"<EventData><Data Name='QueryName'>x</Data></EventData>"}"#;

    /// Whatever the scan accepts, the proof answers the same.
    fn check(record: &str) -> Option<Option<u32>> {
        let plain = sysmon_event_id(record.as_bytes());
        if let Some(answer) = plain {
            assert_eq!(proof::sysmon_event_id(record.as_bytes()), answer, "{record}");
        }
        plain
    }

    #[test]
    fn shippers_records_are_plain() {
        assert_eq!(check(EVTX), Some(Some(10)));
        assert_eq!(check(ECS), Some(Some(13)));
        assert_eq!(check(FLAT), Some(Some(22)));
        let text_id = EVTX.replace(
            r#""EventID":10"#,
            r##""EventID":{"#attributes":{"Qualifiers":0},"#text":"4"}"##,
        );
        assert_eq!(check(&text_id), Some(Some(4)));
        let pretty = EVTX
            .replace(",\"", ",\n  \"")
            .replace("\":", "\" :\t")
            .replace("}}}", "}}}\r\n");
        assert_eq!(check(&format!(" \n{pretty}")), Some(Some(10)));
        let lower_case = FLAT.replace("Microsoft-Windows-Sysmon", "microsoft-windows-SYSMON");
        assert_eq!(check(&lower_case), Some(Some(22)));
    }

    #[test]
    fn shapes_and_providers_are_decided_as_the_parser_decides_them() {
        let flat_with = |keys: &str| FLAT.replacen('{', &format!("{{{keys},"), 1);
        for record in [
            flat_with(r#""winlog":{}"#),
            flat_with(r#""result":1"#),
            flat_with(r#""Event":{"System":{}}"#),
            flat_with(r#""event_id":1,"log_name":"x""#),
            flat_with(r#""fv":"nvzFlow_v4""#),
            flat_with(r#""pn":1,"da":2,"dp":3"#),
            flat_with(r#""Id":22,"ProviderName":"x""#),
            FLAT.replace("EventID", "EventId"),
            FLAT.replace("Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon2"),
            FLAT.replace("Microsoft-Windows-Sysmon", r"Microsoft-Windows\/Sysmon"),
            FLAT.replace(r#""Microsoft-Windows-Sysmon""#, "null"),
            EVTX.replace(r#""Name":"Microsoft-Windows-Sysmon","#, ""),
            EVTX.replace(r#""EventID":10,"#, ""),
            ECS.replace(r#""event_id":"13","#, ""),
            r#"{"event_id":10,"provider_name":"Microsoft-Windows-Sysmon"}"#.into(),
            "{}".into(),
        ] {
            assert_eq!(check(&record), Some(None), "{record}");
        }
        // A repeated key is not a repeated key that matters.
        assert_eq!(check(&flat_with(r#""Hostname":"a","fv":1,"pn":"x""#)), Some(Some(22)));
        assert_eq!(check(&flat_with(r#""Even\tID":1,"x":{"EventID":1}"#)), Some(Some(22)));
        // Winlogbeat's shape comes before flat records'.
        assert_eq!(check(&ECS.replacen('{', r#"{"EventID":5,"#, 1)), Some(Some(13)));
    }

    #[test]
    fn simple_escapes_stay_plain() {
        let escaped = EVTX.replace(r#""Computer":"H""#, r#""Computer":"\"\\\/\b\f\n\r\t\u007f""#);
        assert_eq!(check(&escaped.replace(r"\u007f", "\x7f")), Some(Some(10)));
        assert_eq!(check(&escaped), None, "\\u escapes are left to the proof");
    }

    #[test]
    fn anything_beyond_the_subset_is_left_to_the_proof() {
        for (from, to) in [
            (r#""Level":4"#, r#""Level":1e400"#),
            (r#""Level":4"#, r#""Level":1E2"#),
            (r#""Level":4"#, r#""Level":04"#),
            (r#""Level":4"#, r#""Level":4."#),
            (r#""Level":4"#, r#""Level":.4"#),
            (r#""Level":4"#, r#""Level":-"#),
            (r#""Level":4"#, r#""Level":+4"#),
            (r#""Level":4"#, r#""Level":4_0"#),
            (r#""Level":4"#, r#""Level":NaN"#),
            (r#""Level":4"#, r#""Level":nul"#),
            (r#""Level":4"#, r#""Level":True"#),
            (r#""Level":4"#, r#""Level":"a\x""#),
            (r#""Level":4"#, "\"Level\":\"a\tb\""),
            (r#""Level":4"#, "\"Level\":\"a\u{0}b\""),
            (r#""Level":4"#, "\"Level\"\u{a0}:4"),
            (r#""Level":4"#, r#""Level":4,"#),
            (r#""Level":4"#, r#""Level":[4,]"#),
            (r#""Level":4"#, r#""Level":{"a":1,}"#),
            (r#""Level":4"#, r#""Level":{1:1}"#),
            (r#""Level":4"#, r#""Level":'4'"#),
            (r#""Level":4"#, r#""Level" 4"#),
            (r#""EventID":10"#, r#""EventID":10,"EventID":10"#),
            (r#""EventID":10"#, r#""EventID":"10 ""#),
            (r#""EventID":10"#, r#""EventID":"+10""#),
            (r#""EventID":10"#, r#""EventID":10.0"#),
            (r#""EventID":10"#, r#""EventID":1234567890"#),
            (r#""EventID":10"#, r##""EventID":{"#text":10,"#text":10}"##),
            (r#""EventID":10"#, r##""EventID":{"#other":10}"##),
            (r#""Computer":"H""#, r#""Computer":"H","Provider":{}"#),
            (r#""System":{"#, r#""System":[],"System":{"#),
            ("}}}", "}}} x"),
            ("}}}", "}}},"),
            ("}}}", "}}}}"),
            ("}}}", "}}"),
        ] {
            let record = EVTX.replacen(from, to, 1);
            assert_ne!(record, EVTX);
            assert_eq!(check(&record), None, "{to}");
        }
        for record in [
            FLAT.replace(">x<", ">a&amp;<"),
            FLAT.replace("Hostname", "EventData"),
            ECS.replace(r#""winlog":{"#, r#""winlog":"x","w":{"#),
            ECS.replace(r#""event_id":"13""#, r#""event_id":13,"event_id":13"#),
            r#"[{"EventID":22}]"#.into(),
            r#""x""#.into(),
            String::new(),
        ] {
            assert_eq!(check(&record), None, "{record}");
        }
    }

    #[test]
    fn numbers_serde_json_reads() {
        for number in [
            "0",
            "-0",
            "-0.0",
            "12.50",
            "123456789012345678901234567890",
            "-1",
            "4294967296",
        ] {
            let record = EVTX.replace(r#""Level":4"#, &format!(r#""Level":{number}"#));
            assert_eq!(check(&record), Some(Some(10)), "{number}");
        }
        let long = format!(r#""Level":{}"#, "9".repeat(MAX_DIGITS + 1));
        assert_eq!(check(&EVTX.replace(r#""Level":4"#, &long)), None);
        assert_eq!(check(&EVTX.replace(r#""EventID":10"#, r#""EventID":0"#)), Some(Some(0)));
        assert_eq!(
            check(&EVTX.replace(r#""EventID":10"#, r#""EventID":"007""#)),
            Some(Some(7))
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |depth: usize| {
            let value = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            EVTX.replace(r#""Level":4"#, &format!(r#""Level":{value}"#))
        };
        // Record, Event and System hold three levels.
        assert_eq!(check(&nested(MAX_DEPTH as usize - 3)), Some(Some(10)));
        assert_eq!(check(&nested(MAX_DEPTH as usize - 2)), None);
        assert_eq!(check(&nested(200)), None);
    }

    #[test]
    fn utf8_is_checked() {
        let mut record = EVTX.replace(r#""Computer":"H""#, r#""Computer":"Hé""#).into_bytes();
        assert_eq!(sysmon_event_id(&record), Some(Some(10)));
        let at = record.iter().position(|&byte| byte >= 0x80).expect("é");
        for bad in [0xff, b'A', 0xc3] {
            record[at + 1] = bad;
            assert_eq!(sysmon_event_id(&record), None, "{bad:x}");
        }
        assert_eq!(check("{\"Computer\":\u{e9}}"), None);
    }

    #[test]
    fn generated_records_are_plain() {
        use crate::generate::{Plan, Shape, generate};
        for shape in [Shape::EvtxDumpJsonl, Shape::FlatJson, Shape::Ecs] {
            let mut text = Vec::new();
            generate(Plan::new(shape, 1 << 20, 7), &mut text).expect("generated");
            let records: Vec<&[u8]> = text
                .split(|&byte| byte == b'\n')
                .filter(|line| !line.is_empty())
                .collect();
            for record in &records {
                let answer =
                    sysmon_event_id(record).unwrap_or_else(|| panic!("not plain: {}", String::from_utf8_lossy(record)));
                assert_eq!(proof::sysmon_event_id(record), answer);
                assert!(answer.is_some());
            }
            assert!(records.len() > 500, "{shape:?}");
        }
    }

    #[test]
    fn cut_anywhere_it_is_never_plain() {
        for record in [EVTX, ECS, FLAT] {
            for cut in 0..record.len() {
                assert_eq!(sysmon_event_id(&record.as_bytes()[..cut]), None, "{cut}");
            }
        }
    }
}
