//! The shard map (pure): which shard each account lives on. Shards are named; accounts are
//! assigned by account-number prefix, the longest assigned prefix winning, and everything else
//! goes to the default shard (the first one added). An assignment is never changed or removed
//! once made: accounts already on a shard keep their balances and journal there, and moving
//! them is a migration, not an edit of the map.

use std::collections::BTreeMap;

/// Longest shard name accepted (it is part of etcd keys).
pub const SHARD_NAME_MAX: usize = 32;
/// Longest prefix accepted (account numbers are at most 32 bytes).
pub const PREFIX_MAX: usize = 32;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardMap {
    /// Shard names in the order they were added; the first is the default.
    shards: Vec<String>,
    /// Account-number prefix → shard.
    assignments: BTreeMap<String, String>,
}

/// Why a change to the map was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardMapError {
    #[error("shard name {0:?}: 1 to {SHARD_NAME_MAX} of A-Z a-z 0-9 - _")]
    InvalidName(String),
    #[error(
        "prefix {0:?}: 1 to {PREFIX_MAX} bytes of A-Z a-z 0-9 - _ (account-number characters)"
    )]
    InvalidPrefix(String),
    #[error("shard {0} exists already")]
    ShardExists(String),
    #[error("no shard {0}")]
    NoShard(String),
    #[error("prefix {prefix} is assigned to shard {shard} already; moving accounts between shards is a migration, not a map edit")]
    AlreadyAssigned { prefix: String, shard: String },
}

fn valid_token(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl ShardMap {
    pub fn shards(&self) -> &[String] {
        &self.shards
    }

    pub fn assignments(&self) -> &BTreeMap<String, String> {
        &self.assignments
    }

    /// The shard accounts without an assigned prefix live on (None: no shard yet).
    pub fn default_shard(&self) -> Option<&str> {
        self.shards.first().map(String::as_str)
    }

    pub fn add_shard(&mut self, name: &str) -> Result<(), ShardMapError> {
        if !valid_token(name, SHARD_NAME_MAX) {
            return Err(ShardMapError::InvalidName(name.to_owned()));
        }
        if self.shards.iter().any(|s| s == name) {
            return Err(ShardMapError::ShardExists(name.to_owned()));
        }
        self.shards.push(name.to_owned());
        Ok(())
    }

    /// Assigns accounts whose number starts with `prefix` to `shard`. Assigning the same
    /// prefix to the same shard again changes nothing (a retried command).
    pub fn assign(&mut self, prefix: &str, shard: &str) -> Result<(), ShardMapError> {
        if !valid_token(prefix, PREFIX_MAX) {
            return Err(ShardMapError::InvalidPrefix(prefix.to_owned()));
        }
        if !self.shards.iter().any(|s| s == shard) {
            return Err(ShardMapError::NoShard(shard.to_owned()));
        }
        match self.assignments.get(prefix) {
            Some(current) if current == shard => Ok(()),
            Some(current) => Err(ShardMapError::AlreadyAssigned {
                prefix: prefix.to_owned(),
                shard: current.clone(),
            }),
            None => {
                self.assignments.insert(prefix.to_owned(), shard.to_owned());
                Ok(())
            }
        }
    }

    /// The shard account `account_no` lives on: its longest assigned prefix's, else the
    /// default.
    pub fn shard_of(&self, account_no: &str) -> Option<&str> {
        (1..=account_no.len())
            .rev()
            .filter(|&len| account_no.is_char_boundary(len))
            .find_map(|len| self.assignments.get(&account_no[..len]))
            .map(String::as_str)
            .or_else(|| self.default_shard())
    }

    /// The map as stored: one line per shard (`shard <name>`), then per assignment
    /// (`assign <prefix> <shard>`), in order.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        for shard in &self.shards {
            text.push_str(&format!("shard {shard}\n"));
        }
        for (prefix, shard) in &self.assignments {
            text.push_str(&format!("assign {prefix} {shard}\n"));
        }
        text
    }

    /// Reads what `encode` wrote, checking it as the edits would.
    pub fn decode(text: &str) -> Result<ShardMap, String> {
        let mut map = ShardMap::default();
        for line in text.lines() {
            let words: Vec<&str> = line.split(' ').collect();
            let applied = match words.as_slice() {
                ["shard", name] => map.add_shard(name),
                ["assign", prefix, shard] => map.assign(prefix, shard),
                _ => return Err(format!("unreadable line {line:?}")),
            };
            applied.map_err(|e| format!("line {line:?}: {e}"))?;
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> ShardMap {
        let mut map = ShardMap::default();
        map.add_shard("s1").unwrap();
        map.add_shard("s2").unwrap();
        map.add_shard("s3").unwrap();
        map.assign("M", "s2").unwrap();
        map.assign("M-big", "s3").unwrap();
        map
    }

    #[test]
    fn the_longest_assigned_prefix_wins_and_the_rest_is_on_the_first_shard() {
        let map = map();
        assert_eq!(map.shard_of("C-1001"), Some("s1"));
        assert_eq!(map.shard_of("M-7"), Some("s2"));
        assert_eq!(map.shard_of("M"), Some("s2"));
        assert_eq!(map.shard_of("M-big-shop"), Some("s3"));
        assert_eq!(map.shard_of(""), Some("s1"));
        assert_eq!(ShardMap::default().shard_of("A"), None);
    }

    #[test]
    fn edits_that_would_move_accounts_or_name_nothing_are_refused() {
        let mut map = map();
        assert_eq!(map.assign("M", "s2"), Ok(()), "a retry changes nothing");
        assert!(matches!(
            map.assign("M", "s3"),
            Err(ShardMapError::AlreadyAssigned { .. })
        ));
        assert_eq!(
            map.assign("X", "s9"),
            Err(ShardMapError::NoShard("s9".into()))
        );
        assert!(matches!(
            map.add_shard("s1"),
            Err(ShardMapError::ShardExists(_))
        ));
        for bad in ["", "a b", "s/1", &"x".repeat(33)] {
            assert!(map.add_shard(bad).is_err(), "{bad:?}");
            assert!(map.assign(bad, "s1").is_err(), "{bad:?}");
        }
        assert_eq!(map, self::map(), "refused edits changed nothing");
    }

    #[test]
    fn the_stored_form_reads_back_and_bad_text_is_refused() {
        let map = map();
        assert_eq!(ShardMap::decode(&map.encode()).unwrap(), map);
        assert!(
            ShardMap::decode("assign M s1\n").is_err(),
            "assignment to no shard"
        );
        assert!(ShardMap::decode("shard s1\nshard s1\n").is_err());
        assert!(ShardMap::decode("hello\n").is_err());
    }
}
