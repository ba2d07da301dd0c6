//! Line numbers for positions in a buffer that is drained as it is read.

/// Counts newlines lazily: only up to the furthest offset anyone asked about.
#[derive(Debug, Default)]
pub struct LineCounter {
    /// Offset in the current buffer up to which newlines are counted.
    counted_to: usize,
    /// 1-based line number at `counted_to`.
    line: u64,
}

impl LineCounter {
    pub fn new() -> Self {
        Self { counted_to: 0, line: 1 }
    }

    /// The 1-based line of `buf[offset]`; offsets must not go backwards.
    pub fn line_at(&mut self, buf: &[u8], offset: usize) -> u64 {
        if offset > self.counted_to {
            self.line += memchr::memchr_iter(b'\n', &buf[self.counted_to..offset]).count() as u64;
            self.counted_to = offset;
        }
        self.line
    }

    /// Call after removing the first `removed` bytes of the buffer.
    pub fn drained(&mut self, buf_before: &[u8], removed: usize) {
        self.line_at(buf_before, removed);
        self.counted_to -= removed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_across_drains() {
        let buf = b"a\nb\nc\nd";
        let mut lines = LineCounter::new();
        assert_eq!(lines.line_at(buf, 0), 1);
        assert_eq!(lines.line_at(buf, 4), 3);
        lines.drained(buf, 6);
        let rest = &buf[6..];
        assert_eq!(lines.line_at(rest, 0), 4);
    }
}
