//! `ChunkedVec`: an append-only vector in fixed-size chunks; indices are stable and pushing
//! never moves existing elements.
//!
//! Chunks are reference-counted and copied on write: cloning a `ChunkedVec` (for a snapshot)
//! shares every chunk, and the live copy duplicates a chunk only when it next writes into it.
//! Full chunks of append-only data are never written again, so they are never copied.

use std::sync::Arc;

const CHUNK_BITS: u32 = 16;
const CHUNK_LEN: usize = 1 << CHUNK_BITS;

#[derive(Clone, Debug)]
pub struct ChunkedVec<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: u64,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> ChunkedVec<T> {
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn push(&mut self, value: T) -> u64 {
        let index = self.len;
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK_LEN => writable(chunk).push(value),
            _ => self.push_to_new_chunk(value),
        }
        self.len += 1;
        index
    }

    #[cold]
    fn push_to_new_chunk(&mut self, value: T) {
        let mut chunk = Vec::with_capacity(CHUNK_LEN);
        chunk.push(value);
        self.chunks.push(Arc::new(chunk));
    }

    /// Removes the last element (used only to undo a failed linked batch).
    pub fn pop(&mut self) -> Option<T> {
        let chunk = writable(self.chunks.last_mut()?);
        let value = chunk.pop().expect("chunks are never left empty");
        if chunk.is_empty() {
            self.chunks.pop();
        }
        self.len -= 1;
        Some(value)
    }

    #[inline]
    pub fn get(&self, index: u64) -> Option<&T> {
        if index >= self.len {
            return None;
        }
        let (chunk, offset) = split(index);
        Some(&self.chunks[chunk][offset])
    }

    #[inline]
    pub fn get_mut(&mut self, index: u64) -> Option<&mut T> {
        if index >= self.len {
            return None;
        }
        let (chunk, offset) = split(index);
        Some(&mut writable(&mut self.chunks[chunk])[offset])
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|chunk| chunk.iter())
    }
}

/// The chunk for writing: copied first if a snapshot still shares it.
#[inline]
fn writable<T: Clone>(chunk: &mut Arc<Vec<T>>) -> &mut Vec<T> {
    let chunk = Arc::make_mut(chunk);
    if chunk.capacity() < CHUNK_LEN {
        chunk.reserve_exact(CHUNK_LEN - chunk.len());
    }
    chunk
}

fn split(index: u64) -> (usize, usize) {
    (
        (index >> CHUNK_BITS) as usize,
        (index & (CHUNK_LEN as u64 - 1)) as usize,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_pop_across_chunks() {
        let mut v = ChunkedVec::default();
        let n = CHUNK_LEN as u64 * 2 + 5;
        for i in 0..n {
            assert_eq!(v.push(i * 3), i);
        }
        assert_eq!(v.len(), n);
        assert_eq!(v.get(CHUNK_LEN as u64), Some(&(CHUNK_LEN as u64 * 3)));
        assert_eq!(v.get(n), None);
        *v.get_mut(7).unwrap() = 1;
        assert_eq!(v.get(7), Some(&1));
        for i in (CHUNK_LEN as u64 * 2 - 3..n).rev() {
            assert_eq!(v.pop(), Some(i * 3));
        }
        assert_eq!(v.len(), CHUNK_LEN as u64 * 2 - 3);
        assert_eq!(v.iter().count() as u64, v.len());
        assert_eq!(v.push(9), CHUNK_LEN as u64 * 2 - 3);
    }

    #[test]
    fn a_clone_keeps_its_contents_while_the_original_changes() {
        let mut live = ChunkedVec::default();
        for i in 0..(CHUNK_LEN as u64 + 10) {
            live.push(i);
        }
        let frozen = live.clone();
        *live.get_mut(3).unwrap() = 1_000;
        live.push(7);
        live.pop();
        live.pop();
        assert_eq!(frozen.get(3), Some(&3));
        assert_eq!(frozen.len(), CHUNK_LEN as u64 + 10);
        assert_eq!(
            frozen.get(CHUNK_LEN as u64 + 9),
            Some(&(CHUNK_LEN as u64 + 9))
        );
        assert_eq!(live.get(3), Some(&1_000));
        assert_eq!(live.len(), CHUNK_LEN as u64 + 9);
    }
}
