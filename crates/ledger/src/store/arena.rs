//! `ByteArena`: append-only storage for short byte strings (client ids, references), addressed
//! by a packed 8-byte `Span`. Chunks are allocated zeroed at full size and never reallocated;
//! like `ChunkedVec` they are shared by clones and copied on write.

use std::sync::Arc;

const CHUNK_BYTES: usize = 1 << 20;
const OFFSET_BITS: u32 = 20;
const LEN_BITS: u32 = 8;
/// Longest string an arena stores.
pub const ARENA_STRING_MAX: usize = (1 << LEN_BITS) - 1;

/// Where a string lives in an arena: chunk, offset and length packed into a u64.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Span(u64);

impl Span {
    pub const EMPTY: Span = Span(0);

    #[inline]
    fn new(chunk: usize, offset: usize, len: usize) -> Span {
        debug_assert!(offset < CHUNK_BYTES && len <= ARENA_STRING_MAX);
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
    /// Filled chunks, shared with snapshots.
    full: Vec<Arc<[u8]>>,
    /// The chunk being filled: plain memory, so pushes need no reference-count check.
    tail: Box<[u8]>,
    /// Bytes used in `tail`.
    used: usize,
}

impl ByteArena {
    /// Stores `bytes` (at most 255) and returns where. Empty strings take no space.
    #[inline]
    pub fn push(&mut self, bytes: &[u8]) -> Span {
        assert!(bytes.len() <= ARENA_STRING_MAX, "arena strings are short");
        if bytes.is_empty() {
            return Span::EMPTY;
        }
        let (chunk, offset) = self.reserve(bytes.len());
        self.tail[offset..offset + bytes.len()].copy_from_slice(bytes);
        Span::new(chunk, offset, bytes.len())
    }

    /// Stores the first `len` bytes of a zero-padded buffer. Copying the whole fixed-size
    /// buffer is a couple of vector stores instead of a variable-length `memcpy` call; the
    /// padding lands in room the next string overwrites.
    #[inline]
    pub fn push_padded<const N: usize>(&mut self, padded: &[u8; N], len: usize) -> Span {
        assert!(len <= N && N <= ARENA_STRING_MAX);
        if len == 0 {
            return Span::EMPTY;
        }
        let (chunk, offset) = self.reserve_with_room(len, N);
        self.tail[offset..offset + N].copy_from_slice(padded);
        Span::new(chunk, offset, len)
    }

    #[inline]
    fn reserve(&mut self, len: usize) -> (usize, usize) {
        self.reserve_with_room(len, len)
    }

    /// Claims `len` bytes of the tail chunk, which must have at least `room` bytes free
    /// from there; starts a new chunk if not. Returns (chunk index, offset).
    #[inline]
    fn reserve_with_room(&mut self, len: usize, room: usize) -> (usize, usize) {
        if self.tail.is_empty() || self.used + room > CHUNK_BYTES {
            self.start_chunk();
        }
        let offset = self.used;
        self.used += len;
        (self.full.len(), offset)
    }

    #[cold]
    fn start_chunk(&mut self) {
        let fresh = vec![0; CHUNK_BYTES].into_boxed_slice();
        let filled = std::mem::replace(&mut self.tail, fresh);
        if !filled.is_empty() {
            self.full.push(Arc::from(filled));
        }
        self.used = 0;
    }

    pub fn get(&self, span: Span) -> &[u8] {
        if span.is_empty() {
            return &[];
        }
        let chunk = self
            .full
            .get(span.chunk())
            .map_or(&self.tail[..], |full| &full[..]);
        &chunk[span.offset()..span.offset() + span.len()]
    }

    /// Forgets `span` and everything pushed after it (undo of a failed linked batch).
    /// The next push may land in the same place again.
    pub fn truncate_to(&mut self, span: Span) {
        if span.is_empty() {
            return;
        }
        while span.chunk() < self.full.len() {
            let reopened = self.full.pop().expect("chunk exists");
            self.tail = reopened.to_vec().into_boxed_slice();
        }
        self.used = span.offset();
    }

    /// Bytes held, including unused room at the end of chunks.
    pub fn capacity_bytes(&self) -> usize {
        (self.full.len() + usize::from(!self.tail.is_empty())) * CHUNK_BYTES
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
        assert!(!arena.full.is_empty());
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

    #[test]
    fn padded_pushes_keep_neighbours_intact() {
        let mut arena = ByteArena::default();
        let mut spans = Vec::new();
        for i in 0..100_000usize {
            let text = format!("{i}");
            let mut padded = [0u8; 64];
            padded[..text.len()].copy_from_slice(text.as_bytes());
            spans.push(arena.push_padded(&padded, text.len()));
        }
        for (i, span) in spans.iter().enumerate() {
            assert_eq!(arena.get(*span), format!("{i}").as_bytes());
        }
    }

    impl Span {
        fn with_len(self, len: usize) -> Span {
            Span::new(self.chunk(), self.offset(), len)
        }
    }
}
