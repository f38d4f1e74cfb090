//! `IdIndex`: the idempotency index, client-id hash → record, as an open-addressing table
//! with linear probing. Hand-written because it sits on the hot path of every command and must
//! support exact removal (to undo a failed linked batch) and capacity reserved per batch.
//!
//! Keys are 64-bit keyed hashes; a hash match is confirmed by the caller against the stored id
//! bytes, so two ids with the same hash are never merged.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    /// 0 marks an empty slot; stored hashes are never 0.
    hash: u64,
    record: u64,
}

/// Load factor ceiling: 3/4.
const LOAD_NUMERATOR: usize = 3;
const LOAD_DENOMINATOR: usize = 4;
const CAPACITY_MIN: usize = 1024;

#[derive(Clone, Debug)]
pub struct IdIndex {
    slots: Vec<Slot>,
    len: usize,
}

impl Default for IdIndex {
    fn default() -> Self {
        IdIndex {
            slots: vec![Slot::default(); CAPACITY_MIN],
            len: 0,
        }
    }
}

impl IdIndex {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of table memory (for the memory-per-id report).
    pub fn memory_bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Slot>()
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The record whose hash is `hash` and for which `is_same_id` confirms the id.
    pub fn find(&self, hash: u64, mut is_same_id: impl FnMut(u64) -> bool) -> Option<u64> {
        debug_assert_ne!(hash, 0);
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.hash == 0 {
                return None;
            }
            if slot.hash == hash && is_same_id(slot.record) {
                return Some(slot.record);
            }
            i = (i + 1) & mask;
        }
    }

    /// Inserts a key the caller knows is absent. Capacity must have been reserved.
    pub fn insert(&mut self, hash: u64, record: u64) {
        debug_assert_ne!(hash, 0);
        assert!(
            (self.len + 1) * LOAD_DENOMINATOR <= self.slots.len() * LOAD_NUMERATOR,
            "IdIndex::reserve must be called before inserting"
        );
        let mask = self.mask();
        let mut i = hash as usize & mask;
        while self.slots[i].hash != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { hash, record };
        self.len += 1;
    }

    /// Removes exactly the entry (hash, record), closing the gap by backward shifting so
    /// later lookups never stop early at a hole.
    pub fn remove(&mut self, hash: u64, record: u64) {
        let mask = self.mask();
        let mut hole = hash as usize & mask;
        while self.slots[hole] != (Slot { hash, record }) {
            assert_ne!(
                self.slots[hole].hash, 0,
                "removing an entry that is not there"
            );
            hole = (hole + 1) & mask;
        }
        let mut next = (hole + 1) & mask;
        while self.slots[next].hash != 0 {
            let home = self.slots[next].hash as usize & mask;
            let distance_from_home = next.wrapping_sub(home) & mask;
            let distance_from_hole = next.wrapping_sub(hole) & mask;
            if distance_from_home >= distance_from_hole {
                self.slots[hole] = self.slots[next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.slots[hole] = Slot::default();
        self.len -= 1;
    }

    /// Makes room for `additional` inserts without growing in between.
    pub fn reserve(&mut self, additional: usize) {
        let needed = (self.len + additional) * LOAD_DENOMINATOR;
        if needed <= self.slots.len() * LOAD_NUMERATOR {
            return;
        }
        let capacity = (needed / LOAD_NUMERATOR + 1).next_power_of_two();
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); capacity]);
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.hash != 0) {
            self.insert(slot.hash, slot.record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn colliding_hashes_are_told_apart_by_the_confirmation() {
        let mut index = IdIndex::default();
        index.reserve(3);
        index.insert(7, 1);
        index.insert(7, 2);
        index.insert(7 + 1024, 3);
        assert_eq!(index.find(7, |r| r == 2), Some(2));
        assert_eq!(index.find(7, |r| r == 1), Some(1));
        assert_eq!(index.find(7, |_| false), None);
        index.remove(7, 1);
        assert_eq!(index.find(7, |r| r == 2), Some(2));
        assert_eq!(index.find(7 + 1024, |r| r == 3), Some(3));
        assert_eq!(index.len(), 2);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha, ..ProptestConfig::default() })]

        /// Random inserts and removals (hashes crowded into few buckets) agree with a HashMap.
        #[test]
        fn agrees_with_a_hash_map(ops in proptest::collection::vec((any::<bool>(), 1u64..3000), 1..3000)) {
            let mut index = IdIndex::default();
            let mut model: HashMap<u64, u64> = HashMap::new();
            for (record, (insert, hash)) in ops.into_iter().enumerate() {
                let record = record as u64;
                if insert {
                    if let std::collections::hash_map::Entry::Vacant(e) = model.entry(hash) {
                        index.reserve(1);
                        index.insert(hash, record);
                        e.insert(record);
                    }
                } else if let Some(existing) = model.remove(&hash) {
                    index.remove(hash, existing);
                }
            }
            prop_assert_eq!(index.len(), model.len());
            for (hash, record) in &model {
                prop_assert_eq!(index.find(*hash, |r| r == *record), Some(*record));
            }
            for hash in 1..3000u64 {
                if !model.contains_key(&hash) {
                    prop_assert_eq!(index.find(hash, |_| true), None);
                }
            }
        }
    }
}
