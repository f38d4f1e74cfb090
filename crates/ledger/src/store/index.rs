//! `IdIndex`: the idempotency index, client-id hash → record.
//!
//! Hand-written because it sits on the hot path of every command and needs three things no
//! general-purpose map offers together:
//! - **prefetch**: the slot a later command will probe can be requested ahead of time, so the
//!   cache miss on a table of tens of millions of ids overlaps other work;
//! - **incremental growth**: a growing table is migrated a slice per batch instead of being
//!   rehashed in one go (which stalls the writer for hundreds of milliseconds at 10M ids);
//! - **exact removal**, to undo a failed linked batch.
//!
//! Layout: open addressing with linear probing over 16-byte slots, at most 5/8 full. Keys are
//! 64-bit keyed hashes; a hash match is confirmed by the caller against the stored id bytes,
//! so two ids with the same hash are never merged.

const EMPTY: u64 = 0;
/// Marks a removed entry in a table being migrated away from (see `remove`).
const TOMBSTONE: u64 = u64::MAX;
const CAPACITY_MIN: usize = 1 << 10;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    hash: u64,
    record: u64,
}

#[derive(Clone, Debug)]
struct Table {
    slots: Vec<Slot>,
    len: usize,
}

impl Table {
    fn with_capacity(capacity: usize) -> Table {
        debug_assert!(capacity.is_power_of_two());
        Table {
            slots: vec![Slot::default(); capacity],
            len: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Largest `len` the table may reach: 5/8 of its slots.
    fn limit(&self) -> usize {
        self.slots.len() / 8 * 5
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        hash as usize & self.mask()
    }

    #[inline]
    fn find(&self, hash: u64, is_same_id: &mut impl FnMut(u64) -> bool) -> Option<u64> {
        let mask = self.mask();
        let mut i = self.home(hash);
        loop {
            let slot = self.slots[i];
            if slot.hash == EMPTY {
                return None;
            }
            if slot.hash == hash && is_same_id(slot.record) {
                return Some(slot.record);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    fn insert(&mut self, hash: u64, record: u64) {
        assert!(
            self.len < self.limit(),
            "IdIndex::reserve must be called before inserting"
        );
        let mask = self.mask();
        let mut i = self.home(hash);
        while self.slots[i].hash != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { hash, record };
        self.len += 1;
    }

    fn position(&self, wanted: Slot) -> Option<usize> {
        let mask = self.mask();
        let mut i = self.home(wanted.hash);
        loop {
            match self.slots[i] {
                slot if slot == wanted => return Some(i),
                slot if slot.hash == EMPTY => return None,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Removes the entry and closes the gap by shifting later entries of the run back, so
    /// lookups never stop early at a hole.
    fn remove_shifting(&mut self, wanted: Slot) -> bool {
        let Some(mut hole) = self.position(wanted) else {
            return false;
        };
        let mask = self.mask();
        let mut next = (hole + 1) & mask;
        while self.slots[next].hash != EMPTY {
            let home = self.home(self.slots[next].hash);
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                self.slots[hole] = self.slots[next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.slots[hole] = Slot::default();
        self.len -= 1;
        true
    }

    /// Removes the entry by leaving a tombstone, so that slots keep their positions while a
    /// migration cursor walks the table.
    fn remove_tombstone(&mut self, wanted: Slot) -> bool {
        let Some(i) = self.position(wanted) else {
            return false;
        };
        self.slots[i] = Slot {
            hash: TOMBSTONE,
            record: 0,
        };
        self.len -= 1;
        true
    }

    #[inline]
    fn prefetch(&self, hash: u64) {
        super::prefetch(&self.slots[self.home(hash)]);
    }
}

/// A table being emptied into its larger successor, and how far the copy has got.
#[derive(Clone, Debug)]
struct Migration {
    old: Table,
    cursor: usize,
}

#[derive(Clone, Debug)]
pub struct IdIndex {
    current: Table,
    migration: Option<Migration>,
    /// The successor table, zero-filled a slice per batch once `current` is half way to its
    /// limit. First writes to fresh memory are page faults, and on virtual machines they cost
    /// microseconds each: touching a 128 MiB table in one batch would stall it for 100+ ms.
    successor: Vec<Slot>,
}

impl Default for IdIndex {
    fn default() -> Self {
        IdIndex {
            current: Table::with_capacity(CAPACITY_MIN),
            migration: None,
            successor: Vec::new(),
        }
    }
}

impl IdIndex {
    /// Number of distinct entries.
    pub fn len(&self) -> usize {
        let unmigrated = self.migration.as_ref().map_or(0, |m| m.old.len);
        // Entries already copied stay in the old table too; count each once.
        self.current.len + unmigrated - self.migrated_still_in_old()
    }

    fn migrated_still_in_old(&self) -> usize {
        let Some(m) = &self.migration else { return 0 };
        m.old.slots[..m.cursor]
            .iter()
            .filter(|s| s.hash != EMPTY && s.hash != TOMBSTONE)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of table memory (for the memory-per-id report), including a table being
    /// migrated from and the successor being prepared.
    pub fn memory_bytes(&self) -> usize {
        let old = self.migration.as_ref().map_or(0, |m| m.old.slots.len());
        let slots = self.current.slots.len() + old + self.successor.capacity();
        slots * std::mem::size_of::<Slot>()
    }

    /// The record whose hash is `hash` and for which `is_same_id` confirms the id.
    #[inline]
    pub fn find(&self, hash: u64, mut is_same_id: impl FnMut(u64) -> bool) -> Option<u64> {
        debug_assert!(hash != EMPTY && hash != TOMBSTONE);
        self.current.find(hash, &mut is_same_id).or_else(|| {
            let migration = self.migration.as_ref()?;
            migration.old.find(hash, &mut is_same_id)
        })
    }

    /// Inserts a key the caller knows is absent. Capacity must have been reserved.
    #[inline]
    pub fn insert(&mut self, hash: u64, record: u64) {
        debug_assert!(hash != EMPTY && hash != TOMBSTONE);
        self.current.insert(hash, record);
    }

    /// Removes exactly the entry (hash, record).
    pub fn remove(&mut self, hash: u64, record: u64) {
        let wanted = Slot { hash, record };
        let in_current = self.current.remove_shifting(wanted);
        let in_old = self
            .migration
            .as_mut()
            .is_some_and(|m| m.old.remove_tombstone(wanted));
        assert!(in_current || in_old, "removing an entry that is not there");
    }

    /// Asks the CPU to start loading the slot a lookup of `hash` will read first.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        self.current.prefetch(hash);
        if let Some(migration) = &self.migration {
            migration.old.prefetch(hash);
        }
    }

    /// Makes room for `additional` inserts, and advances a migration in progress by a slice
    /// proportional to `additional`, so that it always finishes before the new table fills.
    pub fn reserve(&mut self, additional: usize) {
        let step = 8 * additional;
        self.migrate(step);
        if self.current.len + additional <= self.current.limit() {
            if self.current.len >= self.current.limit() / 2 {
                self.prepare_successor(step);
            }
            return;
        }
        self.finish_migration();
        // Twice the size leaves the new table at most 5/16 full once everything is copied:
        // room for the inserts made while the migration runs.
        let mut capacity = self.current.slots.len() * 2;
        while self.current.len + additional > capacity / 8 * 5 {
            capacity *= 2;
        }
        self.prepare_successor(capacity);
        let mut slots = std::mem::take(&mut self.successor);
        slots.resize(capacity, Slot::default());
        let next = Table { slots, len: 0 };
        let old = std::mem::replace(&mut self.current, next);
        self.migration = Some(Migration { old, cursor: 0 });
        self.migrate(step);
    }

    /// Zero-fills up to `slots` more slots of the successor (twice the current capacity).
    fn prepare_successor(&mut self, slots: usize) {
        let target = self.current.slots.len() * 2;
        if self.successor.capacity() < target {
            self.successor = Vec::with_capacity(target);
        }
        let len = (self.successor.len() + slots).min(target);
        self.successor.resize(len, Slot::default());
    }

    fn finish_migration(&mut self) {
        self.migrate(usize::MAX);
    }

    /// Copies the live entries of the next `slots` slots of the old table into the new one.
    fn migrate(&mut self, slots: usize) {
        let Some(migration) = &mut self.migration else {
            return;
        };
        let end = migration
            .cursor
            .saturating_add(slots)
            .min(migration.old.slots.len());
        for slot in &migration.old.slots[migration.cursor..end] {
            if slot.hash != EMPTY && slot.hash != TOMBSTONE {
                self.current.insert(slot.hash, slot.record);
            }
        }
        migration.cursor = end;
        if end == migration.old.slots.len() {
            self.migration = None;
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
        index.insert(7 + (1 << 32), 3);
        assert_eq!(index.find(7, |r| r == 2), Some(2));
        assert_eq!(index.find(7, |r| r == 1), Some(1));
        assert_eq!(index.find(7, |_| false), None);
        index.remove(7, 1);
        assert_eq!(index.find(7, |r| r == 2), Some(2));
        assert_eq!(index.find(7 + (1 << 32), |r| r == 3), Some(3));
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn growth_is_spread_over_reserves_and_loses_nothing() {
        let mut index = IdIndex::default();
        let mut record = 0u64;
        for _ in 0..200 {
            index.reserve(500);
            for _ in 0..500 {
                record += 1;
                index.insert(record.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, record);
            }
        }
        assert!(index.current.slots.len() >= 100_000);
        for r in 1..=record {
            assert_eq!(
                index.find(r.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, |x| x == r),
                Some(r)
            );
        }
        assert_eq!(index.len() as u64, record);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha, rng_seed: proptest::test_runner::RngSeed::Fixed(11), failure_persistence: None, ..ProptestConfig::default() })]

        /// Random inserts and removals, with hashes crowded into few buckets and batches that
        /// trigger growth and migrations, agree with a HashMap.
        #[test]
        fn agrees_with_a_hash_map(batches in proptest::collection::vec(proptest::collection::vec((any::<bool>(), 1u64..5000), 1..400), 1..12)) {
            let mut index = IdIndex::default();
            let mut model: HashMap<u64, u64> = HashMap::new();
            let mut record = 0u64;
            for batch in batches {
                index.reserve(batch.len());
                for (insert, hash) in batch {
                    record += 1;
                    if insert {
                        if let std::collections::hash_map::Entry::Vacant(e) = model.entry(hash) {
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
            }
            for hash in 1..5000u64 {
                if !model.contains_key(&hash) {
                    prop_assert_eq!(index.find(hash, |_| true), None);
                }
            }
        }
    }
}
