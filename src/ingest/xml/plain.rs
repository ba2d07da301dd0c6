//! A one-pass scan of an event written in plain XML: the subset the prefilter and the
//! extractor can trust without running the parser.
//!
//! [`parses_cleanly`](super::parse::parses_cleanly) runs quick-xml's reader over an
//! event to prove it would parse without error or repair; on generated logs that proof
//! cost three quarters of the run. Sysmon's own rendering uses a small part of XML:
//! elements with quoted attributes, text, and the five predefined entities. This scan
//! accepts exactly that — ASCII names without prefixes, `name='value'` attributes
//! separated by blanks and never repeated, no `<!`/`<?` markup, no character
//! references, end tags naming their start tag, one root that ends the text — so
//! whatever it accepts quick-xml reads cleanly. It hands each tag to a [`Visit`]or:
//! [`plain_event`] answers the prefilter's questions in the same pass, and
//! [`super::extract`] builds the event the parser would. Anything else goes to the
//! parser: this scan may refuse more than it must, never less.

use super::parse::Clean;

/// Elements deeper than this are left to the parser.
const MAX_DEPTH: usize = 32;
/// How many attributes one tag may carry here.
const MAX_ATTRIBUTES: usize = 4;
const SYSMON: &[u8] = b"Microsoft-Windows-Sysmon";

/// One start tag (or empty-element tag).
pub struct Tag<'a> {
    pub name: &'a [u8],
    /// `<name/>`: no content, no end tag.
    pub empty: bool,
    /// Attribute names and raw values (between the quotes, entities unresolved).
    attributes: [(&'a [u8], &'a [u8]); MAX_ATTRIBUTES],
    count: usize,
    /// Just past the closing `>`.
    end: usize,
}

impl<'a> Tag<'a> {
    /// True when an attribute name has a namespace prefix (`xmlns:x`).
    pub fn has_prefixed_attribute(&self) -> bool {
        self.attributes[..self.count]
            .iter()
            .any(|(name, _)| name.contains(&b':'))
    }

    /// The raw value of the attribute `key`.
    pub fn attribute(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.attributes[..self.count]
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value)
    }
}

/// What the scan hands on. `ancestors` are the names of the open elements, the root first.
pub trait Visit<'a> {
    /// A start tag; `None` stops the scan (the visitor cannot take this event).
    fn start(&mut self, ancestors: &[&'a [u8]], tag: &Tag<'a>) -> Option<()>;
    /// The end of a non-empty element: its name and its raw content (entities unresolved).
    fn end(&mut self, ancestors: &[&'a [u8]], name: &'a [u8], content: &'a [u8]) -> Option<()>;
}

/// Scans `text` as one plain XML element, handing each tag to `visit`; `None` when it
/// is not plain XML or the visitor stopped.
pub fn scan<'a>(text: &'a [u8], visit: &mut impl Visit<'a>) -> Option<()> {
    let mut open: [&[u8]; MAX_DEPTH] = [b""; MAX_DEPTH];
    let mut content_from = [0usize; MAX_DEPTH];
    // One tag, read into again and again (returning one by value copied it every time).
    let mut tag = Tag {
        name: b"",
        empty: false,
        attributes: [(b"", b""); MAX_ATTRIBUTES],
        count: 0,
        end: 0,
    };
    let mut depth = 0;
    let mut at = 0;
    loop {
        // Text (only at depth ≥ 1): plain bytes and predefined entities up to the next tag.
        let next = markup_from(text, at)?;
        if next > at && depth == 0 {
            return None;
        }
        if text[next] == b'&' {
            at = entity_end(text, next)?;
            continue;
        }
        if text.get(next + 1) == Some(&b'/') {
            // An end tag: `</name>` naming the element it closes, nothing else.
            let name = *open[..depth].last()?;
            let after = next + 2 + name.len();
            if text.get(next + 2..after) != Some(name) || text.get(after) != Some(&b'>') {
                return None;
            }
            depth -= 1;
            visit.end(&open[..depth], name, &text[content_from[depth]..next])?;
            if depth == 0 {
                return (after + 1 == text.len()).then_some(());
            }
            at = after + 1;
            continue;
        }
        read_tag(text, next, &mut tag)?;
        visit.start(&open[..depth], &tag)?;
        if !tag.empty {
            if depth == MAX_DEPTH {
                return None;
            }
            open[depth] = tag.name;
            content_from[depth] = tag.end;
            depth += 1;
        } else if depth == 0 {
            return None; // an empty root: not an event
        }
        at = tag.end;
    }
}

/// What the prefilter learns from a plain event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// What [`parses_cleanly`](super::parse::parses_cleanly) answers for it.
    pub clean: Clean,
    /// The EventID, when the root's System holds one EventID element of plain digits.
    pub event_id: Option<u32>,
    /// True when the root's System holds one Provider element, named exactly
    /// `Microsoft-Windows-Sysmon`.
    pub sysmon: bool,
}

/// The facts the prefilter needs, when `text` is plain XML; `None` when it is not
/// (then ask the parser).
pub fn plain_event(text: &[u8]) -> Option<Facts> {
    let mut facts = FactsVisitor::default();
    scan(text, &mut facts)?;
    let FactsVisitor {
        clean,
        event_ids,
        providers,
        event_id,
        sysmon,
    } = facts;
    Some(Facts {
        clean,
        event_id: event_id.filter(|_| event_ids == 1),
        sysmon: sysmon && providers == 1,
    })
}

#[derive(Default)]
struct FactsVisitor {
    clean: Clean,
    event_ids: u32,
    providers: u32,
    event_id: Option<u32>,
    sysmon: bool,
}

/// True for the children of the root's System element, where the parser reads System fields.
fn in_system(ancestors: &[&[u8]]) -> bool {
    ancestors.len() == 2 && ancestors[1] == b"System"
}

impl<'a> Visit<'a> for FactsVisitor {
    fn start(&mut self, ancestors: &[&'a [u8]], tag: &Tag<'a>) -> Option<()> {
        if in_system(ancestors) {
            match tag.name {
                b"EventID" if !tag.empty => self.clean.system_event_id = true,
                b"Provider" => {
                    let name = tag.attribute(b"Name");
                    self.clean.system_provider |= name.is_some();
                    self.providers += 1;
                    self.sysmon = name == Some(SYSMON);
                }
                _ => {}
            }
        }
        Some(())
    }

    fn end(&mut self, ancestors: &[&'a [u8]], name: &'a [u8], content: &'a [u8]) -> Option<()> {
        if name == b"EventID" && in_system(ancestors) {
            self.event_ids += 1;
            self.event_id = digits(content);
        }
        Some(())
    }
}

/// 1–9 ASCII digits, nothing else: their value.
fn digits(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

/// Reads the start tag at `text[start] == b'<'` into `tag`.
fn read_tag<'a>(text: &'a [u8], start: usize, tag: &mut Tag<'a>) -> Option<()> {
    let name = name(text, start + 1, false)?;
    let mut at = start + 1 + name.len();
    tag.name = name;
    tag.empty = false;
    tag.count = 0;
    loop {
        let blanks = text[at..].iter().take_while(|b| is_blank(**b)).count();
        at += blanks;
        match text.get(at)? {
            b'>' => {}
            b'/' if text.get(at + 1) == Some(&b'>') => tag.empty = true,
            _ if blanks == 0 || tag.count == MAX_ATTRIBUTES => return None,
            _ => {
                let key = self::name(text, at, true)?;
                if tag.attributes[..tag.count].iter().any(|(name, _)| *name == key) {
                    return None;
                }
                at += key.len();
                if text.get(at) != Some(&b'=') {
                    return None;
                }
                let value_end = quoted_value_end(text, at + 1)?;
                tag.attributes[tag.count] = (key, &text[at + 2..value_end - 1]);
                tag.count += 1;
                at = value_end;
                continue;
            }
        }
        tag.end = at + if tag.empty { 2 } else { 1 };
        return Some(());
    }
}

/// An ASCII name at `at`; a colon (a namespace prefix) only in attribute names, and
/// never one whose local part could stand for another attribute.
fn name(text: &[u8], at: usize, attribute: bool) -> Option<&[u8]> {
    let rest = text.get(at..)?;
    if !rest.first()?.is_ascii_alphabetic() && rest[0] != b'_' {
        return None;
    }
    let len = rest
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') || (attribute && b == b':'))
        .count();
    let name = &rest[..len];
    // `xmlns:Name` has the local name `Name`: leave prefixed attributes other than
    // namespace declarations of other names to the parser.
    if attribute && let Some(colon) = name.iter().position(|&b| b == b':') {
        let (prefix, local) = (&name[..colon], &name[colon + 1..]);
        if prefix != b"xmlns" || local.contains(&b':') || local == b"Name" {
            return None;
        }
    }
    Some(name)
}

/// Just past a quoted attribute value starting at `at`: no `<` or `>`, `&` only as a
/// predefined entity.
fn quoted_value_end(text: &[u8], at: usize) -> Option<usize> {
    let quote = *text.get(at).filter(|&&q| q == b'\'' || q == b'"')?;
    let end = at + 1 + memchr::memchr(quote, &text[at + 1..])?;
    let mut from = at + 1;
    while let Some(found) = memchr::memchr3(b'<', b'>', b'&', &text[from..end]) {
        if text[from + found] != b'&' {
            return None;
        }
        from = entity_end(text, from + found)?;
    }
    Some(end + 1)
}

/// The next `<` or `&` at or after `at`. Most runs of text in an event are a few bytes,
/// shorter than what a vectorized search needs to pay off.
fn markup_from(text: &[u8], at: usize) -> Option<usize> {
    const SHORT: usize = 16;
    let rest = text.get(at..)?;
    let head = &rest[..rest.len().min(SHORT)];
    if let Some(found) = head.iter().position(|&b| b == b'<' || b == b'&') {
        return Some(at + found);
    }
    let found = memchr::memchr2(b'<', b'&', &rest[head.len()..])?;
    Some(at + head.len() + found)
}

/// Just past one of XML's five predefined entities at `at` (`&amp;` …); `None` for any
/// other reference, which the parser may resolve or repair.
fn entity_end(text: &[u8], at: usize) -> Option<usize> {
    let rest = &text[at + 1..];
    [&b"amp;"[..], b"lt;", b"gt;", b"quot;", b"apos;"]
        .iter()
        .find(|entity| rest.starts_with(entity))
        .map(|entity| at + 1 + entity.len())
}

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

#[cfg(test)]
mod tests {
    use super::super::parse::parses_cleanly;
    use super::*;

    const EVENT: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
        <Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F}'/><EventID>10</EventID>\
        <TimeCreated SystemTime='2021-01-14T23:41:40Z'/><Correlation/><Computer>h&amp;1</Computer></System>\
        <EventData><Data Name='Image'>C:\\a &lt;b&gt; &quot;c&quot; &apos;d&apos;</Data><Data Name=\"X\"/></EventData></Event>";

    /// Whatever the scan accepts, the parser reads cleanly and sees the same.
    fn check(text: &str) -> Option<Clean> {
        let plain = plain_event(text.as_bytes()).map(|facts| facts.clean);
        if let Some(seen) = plain {
            assert_eq!(parses_cleanly(text), Some(seen), "{text}");
        }
        plain
    }

    #[test]
    fn the_prefilters_facts_come_from_the_roots_system_only() {
        let facts = plain_event(EVENT.as_bytes()).expect("plain");
        assert_eq!((facts.event_id, facts.sysmon), (Some(10), true));
        for (from, to) in [
            ("<EventID>10</EventID>", "<EventID>10</EventID><EventID>11</EventID>"),
            ("<EventID>10</EventID>", "<EventID> 10</EventID>"),
            ("<EventID>10</EventID>", "<EventID>1234567890</EventID>"),
            ("<EventID>10</EventID>", "<EventID></EventID>"),
        ] {
            let facts = plain_event(EVENT.replace(from, to).as_bytes()).expect("plain");
            assert_eq!(facts.event_id, None, "{to}");
        }
        for (from, to) in [
            ("Name='Microsoft-Windows-Sysmon'", "Name='microsoft-windows-sysmon'"),
            (
                "<Correlation/>",
                "<Correlation/><Provider Name='Microsoft-Windows-Sysmon'/>",
            ),
            ("<System>", "<W><Provider Name='Microsoft-Windows-Sysmon'/></W><System>"),
        ] {
            let text = EVENT.replace(from, to);
            let facts = plain_event(text.as_bytes()).expect("plain");
            let sysmon_outside_system = to.starts_with("<W>");
            assert_eq!(facts.sysmon, sysmon_outside_system, "{to}");
        }
    }

    #[test]
    fn sysmon_rendering_is_plain() {
        let seen = Clean {
            system_event_id: true,
            system_provider: true,
        };
        assert_eq!(check(EVENT), Some(seen));
        let spaced = EVENT.replace("<Data Name='Image'>", "<Data\n\tName = 'Image' >");
        assert_eq!(check(&spaced), None, "blanks around = are left to the parser");
        let blank_before_close = EVENT.replace("<Data Name='Image'>", "<Data Name='Image' \r\n>");
        assert_eq!(check(&blank_before_close), Some(seen));
    }

    #[test]
    fn system_fields_elsewhere_are_not_seen() {
        let wrapped = EVENT
            .replace("<System>", "<W><System>")
            .replace("</System>", "</System></W>");
        assert_eq!(check(&wrapped), Some(Clean::default()));
        let no_name = EVENT.replace("<Provider Name=", "<Provider Nam=");
        let seen = check(&no_name).expect("plain");
        assert!(seen.system_event_id && !seen.system_provider);
        let empty_id = EVENT.replace("<EventID>10</EventID>", "<EventID/>");
        assert!(!check(&empty_id).expect("plain").system_event_id);
    }

    #[test]
    fn anything_beyond_the_subset_is_left_to_the_parser() {
        for (from, to) in [
            ("<Computer>", "<!-- x --><Computer>"),
            ("<Computer>", "<![CDATA[x]]><Computer>"),
            ("<Computer>", "<?pi x?><Computer>"),
            ("h&amp;1", "h&#49;"),
            ("h&amp;1", "h&foo;"),
            ("h&amp;1", "h & 1"),
            ("<Data Name='Image'>", "<Data Name=Image>"),
            ("<Data Name='Image'>", "<Data Name='Image' Name='Y'>"),
            ("<Data Name='Image'>", "<Data Name='Im<age'>"),
            ("<Data Name='Image'>", "<Data Name='Im>age'>"),
            ("<Data Name='Image'>", "<Data Name='Im&#97;ge'>"),
            ("<Data Name='Image'>", "<Data Name='Image'Id='1'>"),
            ("<Data Name='Image'>", "<Data x:Name='Image'>"),
            ("<Data Name='Image'>", "<Data xmlns:Name='Image'>"),
            ("<Computer>h&amp;1</Computer>", "<e:Computer>h</e:Computer>"),
            ("</Computer>", "</Computr>"),
            ("</Computer>", "</Computer >"),
            ("<Computer>", "< Computer>"),
            ("</Event>", "</Event>\n"),
            ("</Event>", "</Event><Event/>"),
            ("</EventData></Event>", "</EventData>"),
        ] {
            let text = EVENT.replacen(from, to, 1);
            assert_ne!(text, EVENT);
            assert_eq!(check(&text), None, "{to}");
        }
        assert_eq!(check(" <Event/>"), None);
        assert_eq!(check("<Event/>"), None);
        let deep = format!("<Event>{}{}</Event>", "<a>".repeat(40), "</a>".repeat(40));
        assert_eq!(check(&deep), None);
        assert_eq!(check(&format!("<Event>{}</Event>", "<a>".repeat(5))), None);
    }

    #[test]
    fn cut_anywhere_it_is_never_plain() {
        for cut in 0..EVENT.len() {
            assert_eq!(plain_event(&EVENT.as_bytes()[..cut]), None, "{cut}");
        }
    }
}
