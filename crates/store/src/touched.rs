//! The set of accounts (or holds) a projection touched: a bitmap over their dense ids plus the
//! list of ids in first-touch order. Millions of inserts per projection land here, so it must
//! cost a bit test, not a tree insert.

#[derive(Default)]
pub(crate) struct Touched {
    bits: Vec<u64>,
    ids: Vec<u32>,
}

impl Touched {
    pub fn insert(&mut self, id: u32) {
        let (word, bit) = ((id / 64) as usize, id % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & (1 << bit) == 0 {
            self.bits[word] |= 1 << bit;
            self.ids.push(id);
        }
    }

    /// The ids touched since the last call, in ascending order; the set starts empty again.
    pub fn take_sorted(&mut self) -> Vec<u32> {
        let mut ids = std::mem::take(&mut self.ids);
        for id in &ids {
            self.bits[(id / 64) as usize] &= !(1 << (id % 64));
        }
        debug_assert!(self.bits.iter().all(|word| *word == 0));
        ids.sort_unstable();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_once_in_order_then_empty() {
        let mut touched = Touched::default();
        for id in [700, 3, 64, 3, 700, 0, 63] {
            touched.insert(id);
        }
        assert_eq!(touched.take_sorted(), vec![0, 3, 63, 64, 700]);
        assert!(touched.take_sorted().is_empty());
        touched.insert(3);
        assert_eq!(touched.take_sorted(), vec![3]);
    }
}
