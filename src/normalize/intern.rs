//! Interned strings: each distinct host, user, image, command line, pid, GUID or
//! address an analysis holds is stored once, and what holds it keeps a 4-byte [`Sym`].
//!
//! Text lives in blocks of a megabyte, found again through a hash table of ids
//! (foldhash), so a string costs its bytes and about 20 more, with no allocation of
//! its own; nothing stored is ever moved ([`super::chunked`]). A text of a shape
//! [`super::shapes`] reads (GUID, `UtcTime`, IPv4 address) is kept as a number
//! instead. A text has exactly one `Sym`, so two `Sym`s are equal when their texts are.

use super::chunked::Chunked;
use super::shapes::{Packed, Style};
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::borrow::Cow;
use std::hash::{BuildHasher, Hash};
use std::num::NonZeroU32;

/// A string of one analysis's [`Strings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(NonZeroU32);

/// A text's `Sym` is its index + 1, below `PACKED`. A number's has `PACKED`, its kind
/// in the three bits below and its index in its kind's table under those.
const PACKED: u32 = 1 << 31;
const KIND_SHIFT: u32 = 28;
const INDEX: u32 = (1 << KIND_SHIFT) - 1;
/// Kinds: GUIDs are 0 to 3, this bit set for lower case and `GUID_BARE` for no braces.
const GUID_LOWER: u32 = 2;
const GUID_BARE: u32 = 1;
const UTC_TIME: u32 = 4;
const IPV4: u32 = 5;

/// A text block is filled up to this many bytes; a longer text has one of its own.
const TEXT_BLOCK: usize = 1 << 20;

/// Where a text is: its block, and its bytes in it.
#[derive(Clone, Copy)]
struct Span {
    block: u32,
    start: u32,
    end: u32,
}

/// Numbers of one kind, each stored once.
struct Table<T> {
    values: Chunked<T>,
    ids: HashTable<u32>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            values: Chunked::default(),
            ids: HashTable::new(),
        }
    }
}

impl<T: Copy + Eq + Hash> Table<T> {
    fn find(&self, hasher: &FixedState, value: T) -> Option<u32> {
        let values = &self.values;
        let found = self.ids.find(hasher.hash_one(value), |&i| values[i as usize] == value);
        found.copied()
    }

    /// `None` when the table is full: the value is then kept as text.
    fn intern(&mut self, hasher: &FixedState, value: T) -> Option<u32> {
        if let Some(i) = self.find(hasher, value) {
            return Some(i);
        }
        let i = u32::try_from(self.values.len()).ok().filter(|&i| i <= INDEX)?;
        self.values.push(value);
        let values = &self.values;
        self.ids
            .insert_unique(hasher.hash_one(value), i, |&i| hasher.hash_one(values[i as usize]));
        Some(i)
    }
}

#[derive(Default)]
pub struct Strings {
    blocks: Vec<String>,
    /// Where each text is; text `i` is `Sym(i + 1)`.
    spans: Chunked<Span>,
    texts: HashTable<u32>,
    guids: Table<[u8; 16]>,
    utc_times: Table<u64>,
    ipv4s: Table<[u8; 4]>,
    hasher: FixedState,
}

impl Strings {
    /// The `Sym` of `text`, adding it when new.
    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(sym) = Packed::parse(text).and_then(|packed| self.intern_packed(packed)) {
            return sym;
        }
        let Self {
            blocks,
            spans,
            texts,
            hasher,
            ..
        } = self;
        let hash = hasher.hash_one(text);
        if let Some(&i) = texts.find(hash, |&i| text_at(blocks, spans, i) == text) {
            return text_sym(i);
        }
        let i = u32::try_from(spans.len())
            .ok()
            .filter(|&i| i < PACKED - 1)
            .expect("an analysis holds fewer than 2^31 distinct strings");
        let full = blocks.last().is_none_or(|block| block.len() + text.len() > TEXT_BLOCK);
        if full {
            blocks.push(String::new());
        }
        let block = blocks.len() - 1;
        let bytes = &mut blocks[block];
        let start = bytes.len();
        bytes.push_str(text);
        let offset = |at: usize| u32::try_from(at).expect("a text block holds under 4 GiB");
        spans.push(Span {
            block: offset(block),
            start: offset(start),
            end: offset(bytes.len()),
        });
        texts.insert_unique(hash, i, |&i| hasher.hash_one(text_at(blocks, spans, i)));
        text_sym(i)
    }

    fn intern_packed(&mut self, packed: Packed) -> Option<Sym> {
        let hasher = &self.hasher;
        Some(match packed {
            Packed::Guid(bytes, style) => packed_sym(guid_kind(style), self.guids.intern(hasher, bytes)?),
            Packed::UtcTime(digits) => packed_sym(UTC_TIME, self.utc_times.intern(hasher, digits)?),
            Packed::Ipv4(octets) => packed_sym(IPV4, self.ipv4s.intern(hasher, octets)?),
        })
    }

    /// The `Sym` of `text`, when some row holds it.
    pub fn get(&self, text: &str) -> Option<Sym> {
        let hasher = &self.hasher;
        let packed = Packed::parse(text).and_then(|packed| match packed {
            Packed::Guid(bytes, style) => Some(packed_sym(guid_kind(style), self.guids.find(hasher, bytes)?)),
            Packed::UtcTime(digits) => Some(packed_sym(UTC_TIME, self.utc_times.find(hasher, digits)?)),
            Packed::Ipv4(octets) => Some(packed_sym(IPV4, self.ipv4s.find(hasher, octets)?)),
        });
        // A number not in its table may be kept as text, when the table was full.
        packed.or_else(|| {
            let found = self.texts.find(hasher.hash_one(text), |&i| {
                text_at(&self.blocks, &self.spans, i) == text
            });
            found.map(|&i| text_sym(i))
        })
    }

    /// The text of `sym`: borrowed, or formatted for a number.
    pub fn text(&self, sym: Sym) -> Cow<'_, str> {
        let bits = sym.0.get();
        if bits & PACKED == 0 {
            return Cow::Borrowed(text_at(&self.blocks, &self.spans, bits - 1));
        }
        let index = (bits & INDEX) as usize;
        let packed = match (bits & !PACKED) >> KIND_SHIFT {
            UTC_TIME => Packed::UtcTime(self.utc_times.values[index]),
            IPV4 => Packed::Ipv4(self.ipv4s.values[index]),
            kind => Packed::Guid(
                self.guids.values[index],
                Style {
                    lower: kind & GUID_LOWER != 0,
                    braces: kind & GUID_BARE == 0,
                },
            ),
        };
        Cow::Owned(packed.format())
    }

    /// One `Sym` for every text equal to this one but for ASCII case.
    pub fn fold(&mut self, sym: Sym) -> Sym {
        if let Some(folded) = self.fold_packed(sym) {
            return folded;
        }
        let text = self.text(sym);
        if !text.bytes().any(|b| b.is_ascii_uppercase()) {
            // Read as a number, a number's text in lower case would not be a text.
            return sym;
        }
        let lower = text.to_ascii_lowercase();
        let folded = self.intern(&lower);
        self.fold_packed(folded).unwrap_or(folded)
    }

    /// [`Strings::fold`] for a number, which needs no lookup.
    pub fn fold_packed(&self, sym: Sym) -> Option<Sym> {
        let bits = sym.0.get();
        let guid = bits & PACKED != 0 && (bits & !PACKED) >> KIND_SHIFT < UTC_TIME;
        (bits & PACKED != 0).then(|| {
            if guid {
                Sym(sym.0 | GUID_LOWER << KIND_SHIFT)
            } else {
                sym
            }
        })
    }

    /// How many GUIDs are kept as numbers: [`Strings::guid_index`] is below it.
    pub fn guid_count(&self) -> usize {
        self.guids.values.len()
    }

    /// The GUID table's index of `sym`, for a GUID kept as a number.
    pub fn guid_index(&self, sym: Sym) -> Option<usize> {
        let bits = sym.0.get();
        (bits & PACKED != 0 && (bits & !PACKED) >> KIND_SHIFT < UTC_TIME).then_some((bits & INDEX) as usize)
    }
}

fn text_at<'a>(blocks: &'a [String], spans: &Chunked<Span>, i: u32) -> &'a str {
    let span = spans[i as usize];
    &blocks[span.block as usize][span.start as usize..span.end as usize]
}

fn text_sym(i: u32) -> Sym {
    Sym(NonZeroU32::MIN.saturating_add(i))
}

fn guid_kind(style: Style) -> u32 {
    let lower = if style.lower { GUID_LOWER } else { 0 };
    let bare = if style.braces { 0 } else { GUID_BARE };
    lower | bare
}

fn packed_sym(kind: u32, index: u32) -> Sym {
    Sym(NonZeroU32::MIN.saturating_add(PACKED - 1) | kind << KIND_SHIFT | index)
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
            "4b1a7e3c-5248-d49d-96e4-d49d58b70fe2",
            "{4B1A7E3C-5248-d49d-96E4-D49D58B70FE2}",
            "2026-03-02 08:00:00.143",
            "2026-03-02 08:00:00.144",
            "10.20.7.17",
            "010.20.7.17",
        ];
        let syms: Vec<Sym> = texts.iter().map(|text| strings.intern(text)).collect();
        for (text, sym) in texts.iter().zip(&syms) {
            assert_eq!(strings.intern(text), *sym);
            assert_eq!(strings.get(text), Some(*sym));
            assert_eq!(strings.text(*sym), *text);
        }
        let mut distinct = syms.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), texts.len());
        assert_eq!(strings.get("WS2"), None);
        // Texts fill blocks of a megabyte; a longer one has its own.
        let long = [
            "a".repeat(TEXT_BLOCK - 10),
            "b".repeat(600_000),
            "c".repeat(3 * TEXT_BLOCK),
            "d".into(),
        ];
        let long_syms: Vec<Sym> = long.iter().map(|text| strings.intern(text)).collect();
        for (text, sym) in long.iter().zip(long_syms) {
            assert_eq!(strings.text(sym), text.as_str());
        }
        assert_eq!(strings.blocks.len(), 5);
        assert_eq!(strings.text(syms[3]), texts[3]);
        assert_eq!(strings.get("{4B1A7E3C-5248-D49D-96E4-D49D58B70FE3}"), None);
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
        assert_eq!(fold("10.0.0.1"), fold("10.0.0.1"));
        let digits = fold("{12345678-1234-1234-1234-123456789012}");
        assert_eq!(strings.text(digits), "{12345678-1234-1234-1234-123456789012}");
    }
}
