//! `EtcdReplicator`: the engine's `Replicator` port on a shard's etcd log. It claims the shard
//! when it starts; then every batch the engine's writer fsynced is appended to etcd (one fenced
//! transaction) before the engine counts it durable. An etcd without a quorum is retried for
//! `retry_for`; after that, or as soon as the leadership is lost or refused, the batch fails
//! and the engine stops writing — it never acknowledges what etcd did not commit.

use std::time::{Duration, Instant};

use paycore_engine::{ReplicatedBatch, Replicator};
use tracing::warn;

use crate::{Campaign, Leadership, ReplicationError, ShardLog};

pub struct EtcdReplicator {
    /// One worker thread: the lease's keep-alive runs on it between batches.
    runtime: tokio::runtime::Runtime,
    log: ShardLog,
    leadership: Leadership,
    retry_for: Duration,
}

impl EtcdReplicator {
    /// Connects to `endpoints`, claims shard `shard` for `address` (a lease of `ttl_s`
    /// seconds) and keeps it. Refused (`NotLeader`) while another node holds the shard.
    pub fn start(
        endpoints: &[String],
        shard: &str,
        address: &str,
        ttl_s: i64,
        retry_for: Duration,
    ) -> Result<EtcdReplicator, ReplicationError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("paycore-replicator")
            .enable_all()
            .build()
            .map_err(|e| ReplicationError::Unavailable(format!("no async runtime: {e}")))?;
        let (log, leadership) = runtime.block_on(async {
            let mut log = ShardLog::connect(endpoints, shard, Duration::from_secs(5)).await?;
            match log.campaign(address, ttl_s).await? {
                Campaign::Won(leadership) => Ok((log, leadership)),
                Campaign::Lost { leader } => Err(ReplicationError::NotLeader {
                    shard: shard.to_owned(),
                    leader,
                }),
            }
        })?;
        Ok(EtcdReplicator {
            runtime,
            log,
            leadership,
            retry_for,
        })
    }

    /// The shard's replicated head (the last batch etcd committed).
    pub fn head(&mut self) -> Result<u64, ReplicationError> {
        let EtcdReplicator { runtime, log, .. } = self;
        runtime.block_on(log.head())
    }

    /// Stops keeping the lease alive, as a leader that froze would (for tests of fencing).
    pub fn stop_keep_alive(&self) {
        self.leadership.stop_keep_alive();
    }
}

impl Replicator for EtcdReplicator {
    fn replicate(&mut self, batch: &ReplicatedBatch<'_>) -> Result<(), String> {
        let EtcdReplicator {
            runtime,
            log,
            leadership,
            retry_for,
        } = self;
        if leadership.is_lost() {
            return Err(format!("the leadership of shard {} was lost", log.shard()));
        }
        let bytes = batch.encode();
        let started = Instant::now();
        runtime.block_on(async {
            loop {
                match log.append(leadership, batch.sequence, &bytes).await {
                    Ok(_) => return Ok(()),
                    Err(ReplicationError::Unavailable(error)) if started.elapsed() < *retry_for => {
                        warn!(sequence = batch.sequence, %error, "replicating a batch failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(error) => return Err(error.to_string()),
                }
            }
        })
    }
}
