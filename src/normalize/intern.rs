//! Interned strings: each distinct host, user, image, command line, pid or GUID an
//! analysis holds is stored once, and what holds it keeps a 4-byte [`Sym`].
//!
//! Text lives in one growing buffer, found again through a hash table of ids
//! (foldhash), so a string costs its bytes and about a dozen more, with no allocation
//! of its own. A GUID written exactly as [`guid::parse`] reads it is kept as 16 bytes.
//! A text has exactly one `Sym`, so two `Sym`s are equal when their texts are.

use super::guid::{self, Style};
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::borrow::Cow;
use std::hash::BuildHasher;
use std::num::NonZeroU32;

/// A string of one analysis's [`Strings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(NonZeroU32);

/// A GUID's `Sym` has this bit, its [`Style`] in the next two and its index below.
const GUID: u32 = 1 << 31;
const LOWER: u32 = 1 << 30;
const BRACES: u32 = 1 << 29;
const GUID_INDEX: u32 = BRACES - 1;

#[derive(Default)]
pub struct Strings {
    text: String,
    /// Where each text ends in `text`; text `i` is `Sym(i + 1)`.
    ends: Vec<usize>,
    texts: HashTable<u32>,
    guids: Vec<[u8; 16]>,
    guid_ids: HashTable<u32>,
    hasher: FixedState,
}

impl Strings {
    /// The `Sym` of `text`, adding it when new.
    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some((bytes, style)) = guid::parse(text)
            && let Some(sym) = self.intern_guid(bytes, style)
        {
            return sym;
        }
        let Self {
            text: all,
            ends,
            texts,
            hasher,
            ..
        } = self;
        let at = |i: u32| text_at(all, ends, i);
        let hash = hasher.hash_one(text);
        if let Some(&i) = texts.find(hash, |&i| at(i) == text) {
            return text_sym(i);
        }
        let i = u32::try_from(ends.len())
            .ok()
            .filter(|&i| i < GUID - 1)
            .expect("an analysis holds fewer than 2^31 distinct strings");
        all.push_str(text);
        ends.push(all.len());
        texts.insert_unique(hash, i, |&i| hasher.hash_one(text_at(all, ends, i)));
        text_sym(i)
    }

    /// The `Sym` of `text`, when some row holds it.
    pub fn get(&self, text: &str) -> Option<Sym> {
        if let Some((bytes, style)) = guid::parse(text) {
            let hash = self.hasher.hash_one(bytes);
            let found = self.guid_ids.find(hash, |&i| self.guids[i as usize] == bytes);
            if let Some(&index) = found {
                return Some(guid_sym(index, style));
            }
        }
        let hash = self.hasher.hash_one(text);
        let found = self.texts.find(hash, |&i| text_at(&self.text, &self.ends, i) == text);
        found.map(|&i| text_sym(i))
    }

    /// `None` when the GUID table is full: the GUID is then kept as text.
    fn intern_guid(&mut self, bytes: [u8; 16], style: Style) -> Option<Sym> {
        let Self {
            guids,
            guid_ids,
            hasher,
            ..
        } = self;
        let hash = hasher.hash_one(bytes);
        let index = match guid_ids.find(hash, |&i| guids[i as usize] == bytes) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(guids.len()).ok().filter(|&i| i <= GUID_INDEX)?;
                guids.push(bytes);
                guid_ids.insert_unique(hash, i, |&i| hasher.hash_one(guids[i as usize]));
                i
            }
        };
        Some(guid_sym(index, style))
    }

    /// The text of `sym`: borrowed, or formatted for a GUID.
    pub fn text(&self, sym: Sym) -> Cow<'_, str> {
        match self.guid(sym) {
            Some((bytes, style)) => Cow::Owned(guid::format(bytes, style)),
            None => Cow::Borrowed(text_at(&self.text, &self.ends, sym.0.get() - 1)),
        }
    }

    /// One `Sym` for every text equal to this one but for ASCII case.
    pub fn fold(&mut self, sym: Sym) -> Sym {
        if let Some(folded) = self.fold_guid(sym) {
            return folded;
        }
        let text = self.text(sym);
        if !text.bytes().any(|b| b.is_ascii_uppercase()) {
            // A GUID in lower case would have been kept as bytes: this is no GUID.
            return sym;
        }
        let lower = text.to_ascii_lowercase();
        let folded = self.intern(&lower);
        self.fold_guid(folded).unwrap_or(folded)
    }

    /// [`Strings::fold`] for a GUID kept as bytes, which needs no lookup.
    pub fn fold_guid(&self, sym: Sym) -> Option<Sym> {
        (sym.0.get() & GUID != 0).then(|| Sym(sym.0 | LOWER))
    }

    /// How many GUIDs are kept as bytes: [`Strings::guid_index`] is below it.
    pub fn guid_count(&self) -> usize {
        self.guids.len()
    }

    /// The GUID table's index of `sym`'s bytes, for a GUID kept as bytes.
    pub fn guid_index(&self, sym: Sym) -> Option<usize> {
        let bits = sym.0.get();
        (bits & GUID != 0).then_some((bits & GUID_INDEX) as usize)
    }

    fn guid(&self, sym: Sym) -> Option<(&[u8; 16], Style)> {
        let bits = sym.0.get();
        (bits & GUID != 0).then(|| {
            let style = Style {
                lower: bits & LOWER != 0,
                braces: bits & BRACES != 0,
            };
            (&self.guids[(bits & GUID_INDEX) as usize], style)
        })
    }
}

fn text_at<'a>(text: &'a str, ends: &[usize], i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &text[start..ends[i]]
}

fn text_sym(i: u32) -> Sym {
    Sym(NonZeroU32::MIN.saturating_add(i))
}

fn guid_sym(index: u32, style: Style) -> Sym {
    let lower = if style.lower { LOWER } else { 0 };
    let braces = if style.braces { BRACES } else { 0 };
    Sym(NonZeroU32::MIN.saturating_add(GUID - 1) | lower | braces | index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sym_per_text_and_back() {
        let mut strings = Strings::default();
        let texts = [
            "WS1",
            "ws1",
            "",
            "C:\\Windows\\System32\\cmd.exe",
            "{4B1A7E3C-5248-D49D-96E4-D49D58B70FE2}",
            "{4b1a7e3c-5248-d49d-96e4-d49d58b70fe2}",
            "4B1A7E3C-5248-D49D-96E4-D49D58B70FE2",
            "{4B1A7E3C-5248-d49d-96E4-D49D58B70FE2}",
        ];
        let syms: Vec<Sym> = texts.iter().map(|text| strings.intern(text)).collect();
        for (text, sym) in texts.iter().zip(&syms) {
            assert_eq!(strings.intern(text), *sym);
            assert_eq!(strings.text(*sym), *text);
        }
        let mut distinct = syms.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), texts.len());
    }

    #[test]
    fn folding_ignores_ascii_case_only() {
        let mut strings = Strings::default();
        let mut fold = |text: &str| {
            let sym = strings.intern(text);
            strings.fold(sym)
        };
        assert_eq!(fold("WS1.Corp"), fold("ws1.corp"));
        assert_ne!(fold("WS1"), fold("WS2"));
        assert_ne!(fold("É"), fold("é"));
        let upper = fold("{4B1A7E3C-5248-D49D-96E4-D49D58B70FE2}");
        assert_eq!(upper, fold("{4b1a7e3c-5248-d49d-96e4-d49d58b70fe2}"));
        assert_eq!(upper, fold("{4B1A7E3C-5248-d49d-96E4-D49D58B70FE2}"));
        assert_ne!(upper, fold("4B1A7E3C-5248-D49D-96E4-D49D58B70FE2"));
        let digits = fold("{12345678-1234-1234-1234-123456789012}");
        assert_eq!(strings.text(digits), "{12345678-1234-1234-1234-123456789012}");
    }
}
