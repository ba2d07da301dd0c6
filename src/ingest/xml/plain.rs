//! A one-pass check that an event is written in plain XML: the subset the
//! prefilter can trust without running the parser.
//!
//! [`parses_cleanly`](super::parse::parses_cleanly) runs quick-xml's reader over an
//! event to prove it would parse without error or repair; on generated logs that proof
//! cost three quarters of the run. Sysmon's own rendering uses a small part of XML:
//! elements with quoted attributes, text, and the five predefined entities. This scan
//! accepts exactly that — ASCII names without prefixes, `name='value'` attributes
//! separated by blanks and never repeated, no `<!`/`<?` markup, no character
//! references, end tags naming their start tag, one root that ends the text — so
//! whatever it accepts quick-xml reads cleanly, and it answers the same [`Clean`]
//! facts. Anything else goes to `parses_cleanly`: this check may refuse more than it
//! must, never less.

use super::parse::Clean;

/// Elements deeper than this are left to the parser.
const MAX_DEPTH: usize = 32;
/// How many attributes one tag may carry here.
const MAX_ATTRIBUTES: usize = 4;

/// What [`parses_cleanly`](super::parse::parses_cleanly) would answer, when `text`
/// is plain XML; `None` when it is not (then ask the parser).
pub fn plain_event(text: &[u8]) -> Option<Clean> {
    let mut open: [&[u8]; MAX_DEPTH] = [b""; MAX_DEPTH];
    let mut depth = 0;
    let mut seen = Clean::default();
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
        let tag = Tag::read(text, next)?;
        match tag.kind {
            Kind::End => {
                if depth == 0 || open[depth - 1] != tag.name {
                    return None;
                }
                depth -= 1;
                if depth == 0 {
                    return (tag.end == text.len()).then_some(seen);
                }
            }
            Kind::Start | Kind::Empty => {
                // The parser reads EventID and Provider only as children of the root's System.
                if depth == 2 && open[1] == b"System" {
                    match tag.name {
                        b"EventID" if tag.kind == Kind::Start => seen.system_event_id = true,
                        b"Provider" if tag.has_name_attribute => seen.system_provider = true,
                        _ => {}
                    }
                }
                if tag.kind == Kind::Start {
                    if depth == MAX_DEPTH {
                        return None;
                    }
                    open[depth] = tag.name;
                    depth += 1;
                } else if depth == 0 {
                    return None; // an empty root: not an event
                }
            }
        }
        at = tag.end;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    Empty,
    End,
}

/// One tag at `text[start] == b'<'`.
struct Tag<'a> {
    kind: Kind,
    name: &'a [u8],
    /// An attribute named `Name` (what the parser reads from Provider).
    has_name_attribute: bool,
    /// Just past the closing `>`.
    end: usize,
}

impl<'a> Tag<'a> {
    fn read(text: &'a [u8], start: usize) -> Option<Self> {
        let mut at = start + 1;
        let closing = text.get(at) == Some(&b'/');
        if closing {
            at += 1;
        }
        let name = name(text, at, false)?;
        at += name.len();
        if closing {
            // An end tag: `</name>`, nothing else.
            return (text.get(at) == Some(&b'>')).then_some(Tag {
                kind: Kind::End,
                name,
                has_name_attribute: false,
                end: at + 1,
            });
        }
        let mut attributes: [&[u8]; MAX_ATTRIBUTES] = [b""; MAX_ATTRIBUTES];
        let mut count = 0;
        loop {
            let blanks = text[at..].iter().take_while(|b| is_blank(**b)).count();
            at += blanks;
            match text.get(at)? {
                b'>' => return Some(Tag::start(Kind::Start, name, &attributes[..count], at + 1)),
                b'/' if text.get(at + 1) == Some(&b'>') => {
                    return Some(Tag::start(Kind::Empty, name, &attributes[..count], at + 2));
                }
                _ if blanks == 0 || count == MAX_ATTRIBUTES => return None,
                _ => {}
            }
            let key = self::name(text, at, true)?;
            if attributes[..count].contains(&key) {
                return None;
            }
            attributes[count] = key;
            count += 1;
            at += key.len();
            if text.get(at) != Some(&b'=') {
                return None;
            }
            at = quoted_value_end(text, at + 1)?;
        }
    }

    fn start(kind: Kind, name: &'a [u8], attributes: &[&[u8]], end: usize) -> Self {
        Tag {
            kind,
            name,
            has_name_attribute: attributes.contains(&&b"Name"[..]),
            end,
        }
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
    let mut at = at + 1;
    loop {
        match *text.get(at)? {
            byte if byte == quote => return Some(at + 1),
            b'&' => at = entity_end(text, at)?,
            b'<' | b'>' => return None,
            _ => at += 1,
        }
    }
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
        let plain = plain_event(text.as_bytes());
        if let Some(seen) = plain {
            assert_eq!(parses_cleanly(text), Some(seen), "{text}");
        }
        plain
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
