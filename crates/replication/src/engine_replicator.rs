//! `EtcdReplicator`: the engine's `Replicator` port on a shard's etcd log. It claims the shard
//! when it starts; then every batch the engine's writer fsynced is appended to etcd (one fenced
//! transaction) before the engine counts it durable. An etcd without a quorum is retried for
//! `retry_for` while the lease is still kept alive; after that, or as soon as the leadership is
//! lost or refused, the batch fails and the engine stops writing — it never acknowledges what
//! etcd did not commit. (Retrying longer is safe: the append's fence refuses a node whose lease
//! expired, so `retry_for` only bounds how long a client waits.)

use std::path::Path;
use std::time::{Duration, Instant};

use paycore_engine::{codec, Follower, ReplicateError, ReplicatedBatch, Replicator};
use tracing::warn;

use crate::{Campaign, Leadership, ReplicationError, ShardLog};

/// Batches kept in etcd behind the head. The local log is what recovery replays; etcd's copy
/// is what survives the machine, and without standbys nothing reads further back than the
/// tail a restarted leader pushes. Kept bounded so etcd (a 2 GiB quota by default) never fills.
const RETAINED_BATCHES: u64 = 1024;
/// Compaction runs after every this many batches.
const COMPACT_EVERY: u64 = 256;
/// Encoded bytes in one append transaction at most: etcd refuses requests over
/// `--max-request-bytes` (1.5 MiB by default). A single batch larger than this goes alone.
const TXN_BYTES_MAX: usize = 1 << 20;

pub struct EtcdReplicator {
    /// One worker thread: the lease's keep-alive runs on it between batches.
    runtime: tokio::runtime::Runtime,
    log: ShardLog,
    leadership: Leadership,
    retry_for: Duration,
}

impl EtcdReplicator {
    /// Connects to `endpoints`, claims shard `shard` for `address` (a lease of `ttl_s`
    /// seconds) and keeps it. Refused (`NotLeader`) while another node holds the shard; a lease
    /// left under `address` itself (this node, killed) is waited out.
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
            // A lease held under this very address is this node's previous run (killed before
            // it could resign): wait for it to expire rather than refuse.
            let deadline = Instant::now() + Duration::from_secs(ttl_s.max(1) as u64 + 5);
            loop {
                match log.campaign(address, ttl_s).await? {
                    Campaign::Won(leadership) => return Ok((log, leadership)),
                    Campaign::Lost { leader }
                        if leader.as_deref() == Some(address) && Instant::now() < deadline =>
                    {
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                    Campaign::Lost { leader } => {
                        return Err(ReplicationError::NotLeader {
                            shard: shard.to_owned(),
                            leader,
                        })
                    }
                }
            }
        })?;
        Ok(EtcdReplicator {
            runtime,
            log,
            leadership,
            retry_for,
        })
    }

    /// A standby's, once it won the shard and caught up: leads with what the campaign gave it.
    pub(crate) fn from_won(
        runtime: tokio::runtime::Runtime,
        log: ShardLog,
        leadership: Leadership,
        retry_for: Duration,
    ) -> EtcdReplicator {
        EtcdReplicator {
            runtime,
            log,
            leadership,
            retry_for,
        }
    }

    /// The shard's replicated head (the last batch etcd committed).
    pub fn head(&mut self) -> Result<u64, ReplicationError> {
        let EtcdReplicator { runtime, log, .. } = self;
        runtime.block_on(log.head())
    }

    /// Before the engine opens `data_dir`: appends to the shard what the local log holds beyond
    /// the shard's head — batches fsynced here whose replication was cut short (their callers
    /// were never answered), or a whole existing ledger joining a new shard. Returns the local
    /// log's last batch, equal to the shard's head on success. A shard ahead of this node's
    /// log is refused: catching up from etcd is a standby's job, not built yet.
    pub fn push_local_tail(&mut self, data_dir: &Path) -> Result<u64, ReplicationError> {
        let head = self.head()?;
        let shard = self.log.shard().to_owned();
        let out_of_step = |detail: String| ReplicationError::OutOfStep {
            shard: shard.clone(),
            head,
            detail,
        };
        if !data_dir.join("engine.meta").exists() {
            return match head {
                0 => Ok(0),
                _ => Err(out_of_step("this node's data directory is new".into())),
            };
        }
        let mut follower =
            Follower::open(data_dir, head).map_err(|e| out_of_step(e.to_string()))?;
        let mut last = head;
        let mut body = Vec::new();
        while let Some(batch) = follower
            .next(u64::MAX)
            .map_err(|e| out_of_step(e.to_string()))?
        {
            body.clear();
            for command in batch.commands {
                codec::encode(command, &mut body);
            }
            let replicated = ReplicatedBatch {
                sequence: batch.sequence,
                timestamp: batch.timestamp,
                count: batch.commands.len() as u32,
                body: &body,
            };
            self.replicate(&replicated)
                .map_err(|e| ReplicationError::Unavailable(e.to_string()))?;
            last = batch.sequence;
        }
        Ok(last)
    }

    /// Stops keeping the lease alive, as a leader that froze would (for tests of fencing).
    pub fn stop_keep_alive(&self) {
        self.leadership.stop_keep_alive();
    }
}

impl Replicator for EtcdReplicator {
    fn replicate(&mut self, batch: &ReplicatedBatch<'_>) -> Result<(), ReplicateError> {
        self.replicate_many(std::slice::from_ref(batch))
    }

    /// Consecutive batches in as few etcd transactions as fit `TXN_BYTES_MAX` each, one after
    /// another.
    fn replicate_many(&mut self, batches: &[ReplicatedBatch<'_>]) -> Result<(), ReplicateError> {
        let encoded: Vec<Vec<u8>> = batches.iter().map(ReplicatedBatch::encode).collect();
        let mut first = 0;
        while first < batches.len() {
            let mut end = first + 1;
            let mut bytes = encoded[first].len();
            while end < batches.len() && bytes + encoded[end].len() <= TXN_BYTES_MAX {
                bytes += encoded[end].len();
                end += 1;
            }
            self.append(batches[first].sequence, &encoded[first..end])?;
            first = end;
        }
        Ok(())
    }
}

impl EtcdReplicator {
    /// Appends consecutive encoded batches from `sequence` on in one transaction, retrying
    /// while etcd has no quorum for up to `retry_for`.
    fn append(&mut self, sequence: u64, encoded: &[Vec<u8>]) -> Result<(), ReplicateError> {
        let EtcdReplicator {
            runtime,
            log,
            leadership,
            retry_for,
        } = self;
        if leadership.is_lost() {
            let leader = runtime.block_on(log.leader()).ok().flatten();
            return Err(ReplicateError::NotLeader { leader });
        }
        let last = sequence + encoded.len() as u64 - 1;
        let started = Instant::now();
        runtime.block_on(async {
            loop {
                match log.append_many(leadership, sequence, encoded).await {
                    Ok(_) => {
                        compact_now_and_then(log, leadership, sequence, last).await;
                        return Ok(());
                    }
                    Err(ReplicationError::Unavailable(error)) if leadership.is_lost() => {
                        return Err(ReplicateError::Failed(format!(
                            "etcd unavailable ({error}) for longer than the shard's lease, which could not be kept alive"
                        )))
                    }
                    Err(ReplicationError::Unavailable(error)) if started.elapsed() < *retry_for => {
                        warn!(sequence, %error, "replicating a batch failed; retrying");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    // Fenced off: another node leads, or appended since this one last did.
                    Err(ReplicationError::NotLeader { leader, .. }) => {
                        return Err(ReplicateError::NotLeader { leader })
                    }
                    Err(ReplicationError::HeadMoved { .. }) => {
                        let leader = log.leader().await.ok().flatten();
                        return Err(ReplicateError::NotLeader { leader });
                    }
                    Err(error) => return Err(ReplicateError::Failed(error.to_string())),
                }
            }
        })
    }
}

/// Every `COMPACT_EVERY` batches, removes those more than `RETAINED_BATCHES` behind; a failure
/// only delays it to the next round (the batches themselves are replicated already).
async fn compact_now_and_then(log: &mut ShardLog, leadership: &Leadership, first: u64, last: u64) {
    let crossed = last / COMPACT_EVERY > (first - 1) / COMPACT_EVERY;
    if !crossed || last <= RETAINED_BATCHES {
        return;
    }
    if let Err(error) = log.compact(leadership, last - RETAINED_BATCHES).await {
        warn!(last, %error, "compacting the shard's log in etcd failed; retried later");
    }
}
