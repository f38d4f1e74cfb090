//! The shard map in etcd (`/paycore/shardmap`, the text of `ShardMap::encode`): read by every
//! router and node, changed only by compare-and-set on the key's revision, so two operators
//! editing at once cannot lose each other's change.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::gateway::{b64, kvs, Gateway};
use crate::keys::Keys;
use crate::leader::succeeded;
use crate::shard_map::{ShardMap, ShardMapError};
use crate::ReplicationError;

const MAP_KEY: &str = "/paycore/shardmap";
/// Concurrent edits retried at most this many times before giving up.
const EDIT_ATTEMPTS: usize = 20;

pub struct ShardDirectory {
    etcd: Gateway,
}

impl ShardDirectory {
    pub fn new(
        endpoints: &[String],
        timeout: Duration,
    ) -> Result<ShardDirectory, ReplicationError> {
        Ok(ShardDirectory {
            etcd: Gateway::new(endpoints, timeout)?,
        })
    }

    /// The current map (empty if none was stored yet).
    pub async fn load(&self) -> Result<ShardMap, ReplicationError> {
        Ok(self.load_with_revision().await?.0)
    }

    async fn load_with_revision(&self) -> Result<(ShardMap, i64), ReplicationError> {
        let answer = self
            .etcd
            .call("kv/range", &json!({"key": b64(MAP_KEY)}))
            .await?;
        let Some(stored) = kvs(&answer)?.into_iter().next() else {
            return Ok((ShardMap::default(), 0));
        };
        let text = String::from_utf8(stored.value).map_err(|e| ReplicationError::Protocol {
            what: "the shard map",
            detail: e.to_string(),
        })?;
        let map = ShardMap::decode(&text).map_err(|detail| ReplicationError::Protocol {
            what: "the shard map",
            detail,
        })?;
        Ok((map, stored.mod_revision))
    }

    /// Applies `edit` to the stored map and stores the result, unless someone changed the map
    /// meanwhile (then it starts over from their version). Returns the map as stored.
    pub async fn edit(
        &self,
        edit: impl Fn(&mut ShardMap) -> Result<(), ShardMapError>,
    ) -> Result<ShardMap, ReplicationError> {
        for _ in 0..EDIT_ATTEMPTS {
            let (current, revision) = self.load_with_revision().await?;
            let mut changed = current.clone();
            edit(&mut changed)?;
            if changed == current {
                return Ok(current);
            }
            let txn = json!({
                "compare": [{"target": "MOD", "key": b64(MAP_KEY), "mod_revision": revision.to_string(), "result": "EQUAL"}],
                "success": [{"request_put": {"key": b64(MAP_KEY), "value": b64(changed.encode())}}],
            });
            if succeeded(&self.etcd.call("kv/txn", &txn).await?) {
                return Ok(changed);
            }
        }
        Err(ReplicationError::Unavailable(format!(
            "the shard map kept changing under {EDIT_ATTEMPTS} attempts to edit it"
        )))
    }

    /// Each shard's leader address, if it has one now.
    pub async fn leaders(
        &self,
        map: &ShardMap,
    ) -> Result<BTreeMap<String, Option<String>>, ReplicationError> {
        let mut leaders = BTreeMap::new();
        for shard in map.shards() {
            leaders.insert(shard.clone(), self.leader(shard).await?);
        }
        Ok(leaders)
    }

    /// The address of `shard`'s leader, if it has one now.
    pub async fn leader(&self, shard: &str) -> Result<Option<String>, ReplicationError> {
        let key = Keys::new(shard).leader();
        let answer = self
            .etcd
            .call("kv/range", &json!({"key": b64(key)}))
            .await?;
        Ok(kvs(&answer)?
            .into_iter()
            .next()
            .map(|kv| String::from_utf8_lossy(&kv.value).into_owned()))
    }
}
