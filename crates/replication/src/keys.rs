//! Where a shard lives in etcd's key space, under `/paycore/shards/<shard>/`:
//! `head` (the sequence of the last appended batch, decimal), `leader` (the leader's address,
//! attached to its lease) and `log/<sequence, 20 digits>` (one batch each, so a range read in
//! key order is the log in order).

/// The keys of one shard.
#[derive(Clone, Debug)]
pub struct Keys {
    pub shard: String,
    prefix: String,
}

impl Keys {
    pub fn new(shard: &str) -> Keys {
        debug_assert!(!shard.is_empty() && !shard.contains('/'));
        Keys {
            shard: shard.to_owned(),
            prefix: format!("/paycore/shards/{shard}/"),
        }
    }

    pub fn head(&self) -> String {
        format!("{}head", self.prefix)
    }

    pub fn leader(&self) -> String {
        format!("{}leader", self.prefix)
    }

    pub fn batch(&self, sequence: u64) -> String {
        format!("{}log/{sequence:020}", self.prefix)
    }

    /// The end of the log's key range (exclusive): `log0` sorts right after every `log/…`.
    pub fn log_end(&self) -> String {
        format!("{}log0", self.prefix)
    }

    /// The sequence a log key names.
    pub fn sequence_of(&self, key: &[u8]) -> Option<u64> {
        let rest = key.strip_prefix(format!("{}log/", self.prefix).as_bytes())?;
        std::str::from_utf8(rest).ok()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_keys_sort_in_sequence_order_inside_the_log_range() {
        let keys = Keys::new("s1");
        let (a, b) = (keys.batch(9), keys.batch(10));
        assert!(a < b && b < keys.log_end() && keys.batch(0) < a);
        assert_eq!(keys.sequence_of(b.as_bytes()), Some(10));
        assert_eq!(keys.sequence_of(keys.head().as_bytes()), None);
    }
}
