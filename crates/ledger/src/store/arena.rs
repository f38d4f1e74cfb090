//! `ByteArena`: append-only storage for short byte strings (client ids, references), addressed
//! by a packed 8-byte `Span`. Chunks are never reallocated once created.

const CHUNK_BYTES: usize = 1 << 20;
const OFFSET_BITS: u32 = 20;
const LEN_BITS: u32 = 8;

/// Where a string lives in an arena: chunk, offset and length packed into a u64.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Span(u64);

impl Span {
    pub const EMPTY: Span = Span(0);

    fn new(chunk: usize, offset: usize, len: usize) -> Span {
        debug_assert!(offset < CHUNK_BYTES && len < (1 << LEN_BITS));
        Span(
            ((chunk as u64) << (OFFSET_BITS + LEN_BITS))
                | ((offset as u64) << LEN_BITS)
                | len as u64,
        )
    }

    fn chunk(self) -> usize {
        (self.0 >> (OFFSET_BITS + LEN_BITS)) as usize
    }

    fn offset(self) -> usize {
        ((self.0 >> LEN_BITS) & ((1 << OFFSET_BITS) - 1)) as usize
    }

    pub fn len(self) -> usize {
        (self.0 & ((1 << LEN_BITS) - 1)) as usize
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, Default)]
pub struct ByteArena {
    chunks: Vec<Vec<u8>>,
}

impl ByteArena {
    /// Stores `bytes` (at most 255) and returns where. Empty strings take no space.
    pub fn push(&mut self, bytes: &[u8]) -> Span {
        assert!(bytes.len() < (1 << LEN_BITS), "arena strings are short");
        if bytes.is_empty() {
            return Span::EMPTY;
        }
        let fits = |c: &Vec<u8>| c.len() + bytes.len() <= CHUNK_BYTES;
        if !self.chunks.last().is_some_and(fits) {
            self.chunks.push(Vec::with_capacity(CHUNK_BYTES));
        }
        let chunk_index = self.chunks.len() - 1;
        let chunk = &mut self.chunks[chunk_index];
        let offset = chunk.len();
        chunk.extend_from_slice(bytes);
        Span::new(chunk_index, offset, bytes.len())
    }

    pub fn get(&self, span: Span) -> &[u8] {
        if span.is_empty() {
            return &[];
        }
        &self.chunks[span.chunk()][span.offset()..span.offset() + span.len()]
    }

    /// Forgets `span` and everything pushed after it (undo of a failed linked batch).
    pub fn truncate_to(&mut self, span: Span) {
        if span.is_empty() {
            return;
        }
        self.chunks.truncate(span.chunk() + 1);
        self.chunks[span.chunk()].truncate(span.offset());
        if span.offset() == 0 {
            self.chunks.pop();
        }
    }

    /// Bytes held, including unused room at the end of chunks.
    pub fn capacity_bytes(&self) -> usize {
        self.chunks.len() * CHUNK_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_and_truncate() {
        let mut arena = ByteArena::default();
        assert_eq!(arena.push(b""), Span::EMPTY);
        let spans: Vec<_> = (0..50_000u32)
            .map(|i| arena.push(format!("id-{i:040}").as_bytes()))
            .collect();
        assert!(arena.chunks.len() > 1);
        for (i, span) in spans.iter().enumerate() {
            assert_eq!(arena.get(*span), format!("id-{i:040}").as_bytes());
        }
        arena.truncate_to(spans[30_000]);
        assert_eq!(
            arena.get(spans[29_999]),
            format!("id-{:040}", 29_999).as_bytes()
        );
        let again = arena.push(b"next");
        assert_eq!(again, spans[30_000].with_len(4));
        assert_eq!(arena.get(again), b"next");
    }

    impl Span {
        fn with_len(self, len: usize) -> Span {
            Span::new(self.chunk(), self.offset(), len)
        }
    }
}
