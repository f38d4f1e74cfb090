//! Cross-shard transfers in flight, in etcd under `/paycore/xfers/<client id>` (the intent's
//! JSON, written by `paycore-router`'s coordinator). An intent is recorded before its first
//! step and removed once the transfer is final and clean, so the key space holds only what is
//! in flight (or waits for an operator): any router that finds one drives it to its end.
//! Records are create-only: a second coordinator recording the same id gets the stored one.

use std::time::Duration;

use serde_json::json;

use crate::gateway::{b64, kvs, Gateway};
use crate::leader::{first_range, succeeded};
use crate::ReplicationError;

const PREFIX: &str = "/paycore/xfers/";
/// The end of the prefix's key range: `0` sorts right after `/`.
const PREFIX_END: &str = "/paycore/xfers0";

#[derive(Clone)]
pub struct IntentLog {
    etcd: Gateway,
}

/// What `record` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored now.
    New,
    /// An intent with this id was there already: its stored text.
    Existing(String),
}

fn key(id: &str) -> String {
    format!("{PREFIX}{id}")
}

impl IntentLog {
    pub fn new(endpoints: &[String], timeout: Duration) -> Result<IntentLog, ReplicationError> {
        Ok(IntentLog {
            etcd: Gateway::new(endpoints, timeout)?,
        })
    }

    /// Stores `text` under `id` unless an intent is there already (one transaction).
    pub async fn record(&self, id: &str, text: &str) -> Result<Recorded, ReplicationError> {
        let key = b64(key(id));
        let txn = json!({
            "compare": [{"target": "CREATE", "key": key, "create_revision": "0", "result": "EQUAL"}],
            "success": [{"request_put": {"key": key, "value": b64(text)}}],
            "failure": [{"request_range": {"key": key}}],
        });
        let answer = self.etcd.call("kv/txn", &txn).await?;
        if succeeded(&answer) {
            return Ok(Recorded::New);
        }
        match first_range(&answer)?.into_iter().next() {
            Some(stored) => Ok(Recorded::Existing(text_of(stored.value)?)),
            // Removed between the compare and the read: try again.
            None => Box::pin(self.record(id, text)).await,
        }
    }

    /// Several writes in one etcd transaction: `records` stored only if none of their ids is
    /// there yet (all or none), `removes` deleted either way. Returns whether the records were
    /// stored; if not, the caller records them one by one (`record`) to learn which exist.
    pub async fn write_many(
        &self,
        records: &[(String, String)],
        removes: &[String],
    ) -> Result<bool, ReplicationError> {
        let compare: Vec<_> = records
            .iter()
            .map(|(id, _)| json!({"target": "CREATE", "key": b64(key(id)), "create_revision": "0", "result": "EQUAL"}))
            .collect();
        let deletes = removes
            .iter()
            .map(|id| json!({"request_delete_range": {"key": b64(key(id))}}));
        let puts = records
            .iter()
            .map(|(id, text)| json!({"request_put": {"key": b64(key(id)), "value": b64(text)}}));
        let success: Vec<_> = puts.chain(deletes.clone()).collect();
        let failure: Vec<_> = deletes.collect();
        let txn = json!({"compare": compare, "success": success, "failure": failure});
        Ok(succeeded(&self.etcd.call("kv/txn", &txn).await?))
    }

    /// The stored intent under `id`, if any.
    pub async fn get(&self, id: &str) -> Result<Option<String>, ReplicationError> {
        let answer = self
            .etcd
            .call("kv/range", &json!({"key": b64(key(id))}))
            .await?;
        kvs(&answer)?
            .into_iter()
            .next()
            .map(|kv| text_of(kv.value))
            .transpose()
    }

    /// Replaces the stored intent (a final phase that waits for an operator).
    pub async fn update(&self, id: &str, text: &str) -> Result<(), ReplicationError> {
        let put = json!({"key": b64(key(id)), "value": b64(text)});
        self.etcd.call("kv/put", &put).await.map(drop)
    }

    /// Forgets a finished intent (the ledgers remember every step under its id).
    pub async fn remove(&self, id: &str) -> Result<(), ReplicationError> {
        let range = json!({"key": b64(key(id))});
        self.etcd.call("kv/deleterange", &range).await.map(drop)
    }

    /// Every stored intent's text, in id order.
    pub async fn all(&self) -> Result<Vec<String>, ReplicationError> {
        let range = json!({"key": b64(PREFIX), "range_end": b64(PREFIX_END)});
        let answer = self.etcd.call("kv/range", &range).await?;
        kvs(&answer)?
            .into_iter()
            .map(|kv| text_of(kv.value))
            .collect()
    }
}

fn text_of(bytes: Vec<u8>) -> Result<String, ReplicationError> {
    String::from_utf8(bytes).map_err(|e| ReplicationError::Protocol {
        what: "a cross-shard intent",
        detail: e.to_string(),
    })
}
