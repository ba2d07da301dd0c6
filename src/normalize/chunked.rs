//! A vector grown in blocks of 65,536 values: pushing never moves what is stored.
//!
//! A `Vec` that doubles holds its old and new buffers at once, and in wasm memory,
//! which is never given back, that costs twice the table at every doubling: the
//! arena's tables would reach the page's limit at half the rows. Only the first block
//! grows by doubling, so a small analysis stays small.

use std::ops::Index;

const BLOCK_BITS: u32 = 16;
const BLOCK: usize = 1 << BLOCK_BITS;

#[derive(Debug)]
pub struct Chunked<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, value: T) {
        match self.blocks.last_mut() {
            Some(block) if block.len() < BLOCK => block.push(value),
            _ => {
                let mut block = Vec::with_capacity(if self.blocks.is_empty() { 0 } else { BLOCK });
                block.push(value);
                self.blocks.push(block);
            }
        }
        self.len += 1;
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.into_iter()
    }

    /// The number of values before the first for which `before` is false, when it is
    /// true for a prefix and false for the rest (as `slice::partition_point`).
    pub fn partition_point(&self, mut before: impl FnMut(&T) -> bool) -> usize {
        let (mut low, mut high) = (0, self.len);
        while low < high {
            let middle = low + (high - low) / 2;
            if before(&self[middle]) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }
}

impl<'a, T> IntoIterator for &'a Chunked<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.blocks.iter().flatten()
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, at: usize) -> &T {
        &self.blocks[at >> BLOCK_BITS][at & (BLOCK - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_in_order_across_blocks() {
        let mut values = Chunked::default();
        let count = 3 * BLOCK + 5;
        for value in 0..count {
            values.push(value);
        }
        assert_eq!(values.len(), count);
        assert_eq!(values.blocks.len(), 4);
        assert_eq!(values[BLOCK - 1], BLOCK - 1);
        assert_eq!(values[2 * BLOCK + 3], 2 * BLOCK + 3);
        assert!(values.iter().copied().eq(0..count));
        assert_eq!(values.partition_point(|&value| value < BLOCK + 7), BLOCK + 7);
        assert_eq!(values.partition_point(|_| true), count);
        assert!(Chunked::<u8>::default().is_empty());
    }
}
