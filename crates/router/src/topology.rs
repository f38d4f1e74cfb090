//! What the router knows of the cluster: the shard map and each shard's leader, read from
//! etcd and cached. The map is reloaded in the background (`refresh_every`); a shard's
//! leader is looked up again whenever a call to it fails or answers `not_leader`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use paycore_replication::{ReplicationError, ShardDirectory, ShardMap};

#[derive(Clone)]
pub struct Topology {
    directory: Arc<ShardDirectory>,
    map: Arc<RwLock<ShardMap>>,
    leaders: Arc<RwLock<HashMap<String, String>>>,
}

impl Topology {
    pub async fn load(directory: ShardDirectory) -> Result<Topology, ReplicationError> {
        let map = directory.load().await?;
        let topology = Topology {
            directory: Arc::new(directory),
            map: Arc::new(RwLock::new(map)),
            leaders: Arc::default(),
        };
        Ok(topology)
    }

    /// Reloads the map every `period` for as long as the runtime runs.
    pub fn refresh_every(&self, period: Duration) {
        let topology = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                match topology.directory.load().await {
                    Ok(map) => *topology.map.write().unwrap() = map,
                    Err(error) => tracing::warn!(%error, "reloading the shard map"),
                }
            }
        });
    }

    pub fn map(&self) -> ShardMap {
        self.map.read().unwrap().clone()
    }

    /// The shard's leader address, from the cache or etcd; None while it has none.
    pub async fn leader(&self, shard: &str) -> Result<Option<String>, ReplicationError> {
        if let Some(leader) = self.leaders.read().unwrap().get(shard) {
            return Ok(Some(leader.clone()));
        }
        let leader = self.directory.leader(shard).await?;
        if let Some(leader) = &leader {
            let mut leaders = self.leaders.write().unwrap();
            leaders.insert(shard.to_owned(), leader.clone());
        }
        Ok(leader)
    }

    /// Forgets the cached leader of `shard` (it failed or is no longer the leader).
    pub fn forget_leader(&self, shard: &str) {
        self.leaders.write().unwrap().remove(shard);
    }

    /// Every shard's leader now, straight from etcd.
    pub async fn leaders(&self) -> Result<Vec<(String, Option<String>)>, ReplicationError> {
        let map = self.map();
        Ok(self.directory.leaders(&map).await?.into_iter().collect())
    }
}
