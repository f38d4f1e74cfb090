//! `ShardLog`: one shard's log in etcd. Each batch is one etcd transaction that writes the
//! batch and moves the head, applied only if the caller's leadership is still the current one
//! and the head is the batch before: two leaders can never both append, and a batch can never
//! be written twice or out of order. An append is acknowledged only after etcd committed it on
//! a quorum.

use std::time::Duration;

use serde_json::json;

use crate::gateway::{b64, kvs, revision, Gateway, KeyValue};
use crate::keys::Keys;
use crate::leader::{self, nth_range, succeeded, Campaign, Leadership};
use crate::ReplicationError;

/// How an append ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// Written by this call.
    Now,
    /// Already in the log with the same content: an earlier attempt whose answer was lost
    /// (a timeout while etcd lost its quorum) had committed it.
    Already,
}

pub struct ShardLog {
    etcd: Gateway,
    keys: Keys,
}

impl ShardLog {
    /// Connects to etcd's members for shard `shard` (checking that one answers); every call
    /// waits at most `timeout`.
    pub async fn connect(
        endpoints: &[String],
        shard: &str,
        timeout: Duration,
    ) -> Result<ShardLog, ReplicationError> {
        let mut log = ShardLog {
            etcd: Gateway::new(endpoints, timeout)?,
            keys: Keys::new(shard),
        };
        log.head().await?;
        Ok(log)
    }

    pub fn shard(&self) -> &str {
        &self.keys.shard
    }

    /// Claims the shard for `address` (with a lease of `ttl_s` seconds) if no one holds it.
    pub async fn campaign(
        &mut self,
        address: &str,
        ttl_s: i64,
    ) -> Result<Campaign, ReplicationError> {
        leader::campaign(&self.etcd, &self.keys, address, ttl_s).await
    }

    /// Gives the shard up at once (the leader key goes with the lease).
    pub async fn resign(&mut self, leadership: Leadership) -> Result<(), ReplicationError> {
        leadership.stop_keep_alive();
        self.etcd
            .call(
                "lease/revoke",
                &json!({"ID": leadership.lease().to_string()}),
            )
            .await?;
        Ok(())
    }

    /// The current leader's address, if any.
    pub async fn leader(&mut self) -> Result<Option<String>, ReplicationError> {
        Ok(self
            .get(&self.keys.leader())
            .await?
            .map(|kv| String::from_utf8_lossy(&kv.value).into_owned()))
    }

    /// The sequence of the last appended batch (0: none yet).
    pub async fn head(&mut self) -> Result<u64, ReplicationError> {
        match self.get(&self.keys.head()).await? {
            Some(kv) => parse_head(&kv.value),
            None => Ok(0),
        }
    }

    /// Appends batch `sequence` (bytes `batch`) if `leadership` still holds the shard and the
    /// head is `sequence - 1`. A retry of an append that did commit answers `Already`.
    pub async fn append(
        &mut self,
        leadership: &Leadership,
        sequence: u64,
        batch: &[u8],
    ) -> Result<Appended, ReplicationError> {
        self.append_many(leadership, sequence, &[batch]).await
    }

    /// Appends consecutive batches `first`, `first + 1`, … (their bytes) in one transaction,
    /// all or none, on the same conditions as `append`: `leadership` still holds the shard and
    /// the head is `first - 1`. A retry of an append that did commit answers `Already`.
    pub async fn append_many(
        &mut self,
        leadership: &Leadership,
        first: u64,
        batches: &[impl AsRef<[u8]>],
    ) -> Result<Appended, ReplicationError> {
        assert!(first >= 1, "batch sequences start at 1");
        assert!(!batches.is_empty());
        let last = first + batches.len() as u64 - 1;
        let (leader, head, first_key) = (
            b64(self.keys.leader()),
            b64(self.keys.head()),
            b64(self.keys.batch(first)),
        );
        let mut puts: Vec<_> = batches
            .iter()
            .zip(first..)
            .map(|(bytes, sequence)| json!({"request_put": {"key": b64(self.keys.batch(sequence)), "value": b64(bytes.as_ref())}}))
            .collect();
        puts.push(json!({"request_put": {"key": head, "value": b64(last.to_string())}}));
        let txn = json!({
            "compare": [
                {"target": "CREATE", "key": leader, "create_revision": leadership.revision().to_string(), "result": "EQUAL"},
                {"target": "VALUE", "key": head, "value": b64((first - 1).to_string()), "result": "EQUAL"},
            ],
            "success": puts,
            "failure": [
                {"request_range": {"key": leader}},
                {"request_range": {"key": head}},
                {"request_range": {"key": first_key}},
            ],
        });
        let answer = self.etcd.call("kv/txn", &txn).await?;
        if succeeded(&answer) {
            return Ok(Appended::Now);
        }
        self.refused(&answer, leadership, first, batches[0].as_ref())
    }

    /// Why a fenced append's transaction was refused, from its failure reads (leader, head,
    /// the first batch's key).
    fn refused(
        &self,
        answer: &serde_json::Value,
        leadership: &Leadership,
        sequence: u64,
        batch: &[u8],
    ) -> Result<Appended, ReplicationError> {
        let current = nth_range(answer, 0)?.into_iter().next();
        if current.as_ref().map(|kv| kv.create_revision) != Some(leadership.revision()) {
            return Err(ReplicationError::NotLeader {
                shard: self.keys.shard.clone(),
                leader: current.map(|kv| String::from_utf8_lossy(&kv.value).into_owned()),
            });
        }
        let head = match nth_range(answer, 1)?.into_iter().next() {
            Some(kv) => parse_head(&kv.value)?,
            None => 0,
        };
        match nth_range(answer, 2)?.into_iter().next() {
            Some(kv) if kv.value == batch => Ok(Appended::Already),
            Some(_) => Err(ReplicationError::Diverged {
                shard: self.keys.shard.clone(),
                sequence,
            }),
            None => Err(ReplicationError::HeadMoved {
                shard: self.keys.shard.clone(),
                sequence,
                head,
            }),
        }
    }

    /// Up to `limit` batches from `from` on, in order, with their sequences.
    pub async fn read(
        &mut self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, ReplicationError> {
        let range = json!({
            "key": b64(self.keys.batch(from)),
            "range_end": b64(self.keys.log_end()),
            "limit": limit.to_string(),
        });
        let answer = self.etcd.call("kv/range", &range).await?;
        kvs(&answer)?
            .into_iter()
            .map(|kv| {
                let sequence =
                    self.keys
                        .sequence_of(&kv.key)
                        .ok_or_else(|| ReplicationError::Protocol {
                            what: "a log key",
                            detail: String::from_utf8_lossy(&kv.key).into_owned(),
                        })?;
                Ok((sequence, kv.value))
            })
            .collect()
    }

    /// Removes the batches before `below` (covered by a snapshot) while `leadership` holds the
    /// shard, and compacts etcd's history up to that point, so etcd's size stays bounded.
    pub async fn compact(
        &mut self,
        leadership: &Leadership,
        below: u64,
    ) -> Result<(), ReplicationError> {
        let txn = json!({
            "compare": [{"target": "CREATE", "key": b64(self.keys.leader()), "create_revision": leadership.revision().to_string(), "result": "EQUAL"}],
            "success": [{"request_delete_range": {"key": b64(self.keys.batch(0)), "range_end": b64(self.keys.batch(below))}}],
        });
        let answer = self.etcd.call("kv/txn", &txn).await?;
        if !succeeded(&answer) {
            return Err(ReplicationError::NotLeader {
                shard: self.keys.shard.clone(),
                leader: self.leader().await?,
            });
        }
        let compaction = json!({"revision": revision(&answer)?.to_string(), "physical": true});
        self.etcd.call("kv/compaction", &compaction).await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>, ReplicationError> {
        let answer = self
            .etcd
            .call("kv/range", &json!({"key": b64(key)}))
            .await?;
        Ok(kvs(&answer)?.into_iter().next())
    }
}

fn parse_head(value: &[u8]) -> Result<u64, ReplicationError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ReplicationError::Protocol {
            what: "the shard's head",
            detail: String::from_utf8_lossy(value).into_owned(),
        })
}
