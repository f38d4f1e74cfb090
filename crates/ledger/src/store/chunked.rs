//! `ChunkedVec`: an append-only vector in fixed-size chunks; indices are stable and pushing
//! never moves existing elements.
//!
//! Full chunks are reference-counted and copied on write: cloning a `ChunkedVec` (for a
//! snapshot) shares them, and the live copy duplicates a full chunk only if it writes into it
//! again (append-only data never does). The chunk being filled is a plain vector, so a push is
//! a bounds check and a store — no atomic reference-count check on the hot path.

use std::sync::Arc;

const CHUNK_BITS: u32 = 16;
const CHUNK_LEN: usize = 1 << CHUNK_BITS;

#[derive(Clone, Debug)]
pub struct ChunkedVec<T> {
    full: Vec<Arc<Vec<T>>>,
    tail: Vec<T>,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec {
            full: Vec::new(),
            tail: Vec::new(),
        }
    }
}

impl<T: Clone> ChunkedVec<T> {
    pub fn len(&self) -> u64 {
        (self.full.len() * CHUNK_LEN + self.tail.len()) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_empty() && self.tail.is_empty()
    }

    #[inline]
    pub fn push(&mut self, value: T) -> u64 {
        if self.tail.len() == CHUNK_LEN {
            self.seal_tail();
        }
        if self.tail.capacity() == 0 {
            self.tail.reserve_exact(CHUNK_LEN);
        }
        debug_assert!(self.tail.len() < self.tail.capacity());
        self.tail.push(value);
        self.len() - 1
    }

    #[cold]
    fn seal_tail(&mut self) {
        let full = std::mem::replace(&mut self.tail, Vec::with_capacity(CHUNK_LEN));
        self.full.push(Arc::new(full));
    }

    /// Removes the last element (used only to undo a failed linked batch).
    pub fn pop(&mut self) -> Option<T> {
        if self.tail.is_empty() {
            let last = self.full.pop()?;
            self.tail = Arc::unwrap_or_clone(last);
            self.tail.reserve_exact(CHUNK_LEN - self.tail.len());
        }
        self.tail.pop()
    }

    #[inline]
    pub fn get(&self, index: u64) -> Option<&T> {
        let (chunk, offset) = split(index);
        match self.full.get(chunk) {
            Some(full) => full.get(offset),
            None if chunk == self.full.len() => self.tail.get(offset),
            None => None,
        }
    }

    #[inline]
    pub fn get_mut(&mut self, index: u64) -> Option<&mut T> {
        let (chunk, offset) = split(index);
        let sealed = self.full.len();
        match self.full.get_mut(chunk) {
            Some(full) => Arc::make_mut(full).get_mut(offset),
            None if chunk == sealed => self.tail.get_mut(offset),
            None => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.full
            .iter()
            .flat_map(|chunk| chunk.iter())
            .chain(self.tail.iter())
    }
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
        assert_eq!(v.get(CHUNK_LEN as u64 * 2 - 3), Some(&9));
    }

    #[test]
    fn a_clone_keeps_its_contents_while_the_original_changes() {
        let mut live = ChunkedVec::default();
        for i in 0..(CHUNK_LEN as u64 + 10) {
            live.push(i);
        }
        let frozen = live.clone();
        *live.get_mut(3).unwrap() = 1_000;
        *live.get_mut(CHUNK_LEN as u64 + 1).unwrap() = 2_000;
        live.push(7);
        live.pop();
        live.pop();
        assert_eq!(frozen.get(3), Some(&3));
        assert_eq!(
            frozen.get(CHUNK_LEN as u64 + 1),
            Some(&(CHUNK_LEN as u64 + 1))
        );
        assert_eq!(frozen.len(), CHUNK_LEN as u64 + 10);
        assert_eq!(
            frozen.get(CHUNK_LEN as u64 + 9),
            Some(&(CHUNK_LEN as u64 + 9))
        );
        assert_eq!(live.get(3), Some(&1_000));
        assert_eq!(live.len(), CHUNK_LEN as u64 + 9);
    }
}
