//! A standby: follows a shard's log from etcd into its own engine (opened with
//! `EngineConfig::standby`), so its ledger, query store and accounting are the leader's as of
//! the last batch it took, and it serves reads. When no node holds the shard's leader key (the
//! leader's lease expired: it died, froze or lost etcd), the standby campaigns; having won, it
//! takes every batch etcd committed up to the head — so nothing acknowledged is lost — and only
//! then is promoted: its engine replicates each batch through the lease it won.
//!
//! A node whose local log holds a batch the shard never committed (a leader killed between
//! its local fsync and etcd's commit, restarted as a standby) must not follow: its state would
//! fork. It refuses to start following, and says so; the engine stays a read-only standby.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use paycore_engine::{Engine, ReplicatedBatch, ReplicatorHandle};
use tracing::{error, info, warn};

use crate::{Campaign, EtcdReplicator, ReplicationError, ShardLog};

/// Batches read from etcd per request while catching up.
const READ_BATCHES: usize = 64;

/// What a standby needs to know.
#[derive(Clone, Debug)]
pub struct StandbyOptions {
    pub endpoints: Vec<String>,
    pub shard: String,
    /// This node's address, written into the leader key when it takes over.
    pub address: String,
    /// Seconds of the lease it leads with.
    pub ttl_s: i64,
    /// How long a leader retries etcd without a quorum before its engine stops.
    pub retry_for: Duration,
    /// Pause between polls of etcd when nothing new came.
    pub poll: Duration,
}

/// Starts following on a thread of its own; it ends once the engine is promoted or stopped.
pub fn spawn_standby(engine: Arc<Engine>, options: StandbyOptions) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("paycore-standby".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("paycore-replicator")
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => return error!(error = %e, "the standby has no async runtime"),
            };
            let standby = Standby {
                engine,
                options,
                runtime,
            };
            standby.run();
        })
        .expect("spawning the standby thread")
}

struct Standby {
    engine: Arc<Engine>,
    options: StandbyOptions,
    runtime: tokio::runtime::Runtime,
}

/// Why the standby stopped following.
enum Ended {
    Promoted,
    EngineGone,
    Refused(String),
}

impl Standby {
    fn run(self) {
        let Some(mut log) = self.connect() else {
            return;
        };
        if let Err(why) = self.check_local_tail(&mut log) {
            error!(shard = %self.options.shard, %why, "this node cannot follow the shard; it serves what it has, read-only");
            return;
        }
        let shard = self.options.shard.clone();
        match self.follow(log) {
            Ended::Promoted => info!(%shard, "took over the shard: this node leads it now"),
            Ended::EngineGone => {}
            Ended::Refused(why) => error!(%shard, %why, "the standby stopped following the shard"),
        }
    }

    fn connect(&self) -> Option<ShardLog> {
        loop {
            let connected = self.runtime.block_on(ShardLog::connect(
                &self.options.endpoints,
                &self.options.shard,
                Duration::from_secs(5),
            ));
            match connected {
                Ok(log) => return Some(log),
                Err(e) if self.engine.health().is_ok() => {
                    warn!(error = %e, "the standby cannot reach etcd; retrying");
                    std::thread::sleep(Duration::from_secs(1));
                }
                Err(_) => return None,
            }
        }
    }

    /// The local log's last batch must be the shard's batch of that number.
    fn check_local_tail(&self, log: &mut ShardLog) -> Result<(), String> {
        let local = self.engine.metrics().durable_sequence;
        if local == 0 {
            return Ok(());
        }
        let head = self.block(log.head()).map_err(|e| e.to_string())?;
        if local > head {
            return Err(format!(
                "the local log ends at batch {local}, beyond the shard's head {head}: it holds batches the shard never committed (never acknowledged); restore this node from another's data directory"
            ));
        }
        let theirs = self.block(log.read(local, 1)).map_err(|e| e.to_string())?;
        let Some((sequence, bytes)) = theirs.into_iter().next() else {
            return Err(format!("etcd lost batch {local} and everything after it"));
        };
        if sequence != local {
            return Err(format!(
                "etcd keeps the shard's log from batch {sequence} on, and this node is at {local}: it fell too far behind; restore it from another node's data directory"
            ));
        }
        let ours = self
            .engine
            .local_batch(local)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("batch {local} is not in the local log"))?;
        if ours != bytes {
            return Err(format!(
                "the local log's batch {local} differs from the shard's: this node wrote it as a leader and it was never committed; restore this node from another's data directory"
            ));
        }
        Ok(())
    }

    fn follow(self, mut log: ShardLog) -> Ended {
        loop {
            if self.engine.health().is_err() {
                return Ended::EngineGone;
            }
            // The leader first, so a standby that has taken a batch already names its leader
            // to the writers it refuses.
            match self.block(log.leader()) {
                Ok(Some(leader)) => self.engine.set_leader(Some(leader)),
                Ok(None) => {
                    if let Some(ended) = self.campaign(&mut log) {
                        return self.lead(log, ended);
                    }
                }
                Err(e) => {
                    warn!(error = %e, "the standby cannot read the shard's leader; retrying");
                    std::thread::sleep(self.options.poll.max(Duration::from_millis(200)));
                    continue;
                }
            }
            match self.take_new(&mut log) {
                Ok(0) => std::thread::sleep(self.options.poll),
                Ok(_) => {}
                Err(ended) => return ended,
            }
        }
    }

    /// Takes the batches etcd has beyond the local log; how many.
    fn take_new(&self, log: &mut ShardLog) -> Result<usize, Ended> {
        let next = self.engine.metrics().durable_sequence + 1;
        let batches = match self.block(log.read(next, READ_BATCHES)) {
            Ok(batches) => batches,
            Err(e) => {
                warn!(error = %e, "the standby cannot read the shard's log; retrying");
                std::thread::sleep(self.options.poll.max(Duration::from_millis(200)));
                return Ok(0);
            }
        };
        for (i, (sequence, bytes)) in batches.iter().enumerate() {
            if *sequence != next + i as u64 {
                return Err(Ended::Refused(format!(
                    "etcd holds batch {sequence} where {} was expected: the standby fell behind what etcd keeps",
                    next + i as u64
                )));
            }
            let batch = ReplicatedBatch::decode(*sequence, bytes).ok_or_else(|| {
                Ended::Refused(format!("batch {sequence} in etcd is not a batch"))
            })?;
            if let Err(e) = self.engine.submit_replicated_blocking(&batch.as_batch()) {
                return Err(match self.engine.health() {
                    Ok(()) => Ended::Refused(format!("batch {sequence}: {e}")),
                    Err(_) => Ended::EngineGone,
                });
            }
        }
        Ok(batches.len())
    }

    /// Campaigns for the shard: the leadership if won.
    fn campaign(&self, log: &mut ShardLog) -> Option<crate::Leadership> {
        match self.block(log.campaign(&self.options.address, self.options.ttl_s)) {
            Ok(Campaign::Won(leadership)) => Some(leadership),
            Ok(Campaign::Lost { leader }) => {
                self.engine.set_leader(leader);
                None
            }
            Err(e) => {
                warn!(error = %e, "campaigning for the shard failed; retrying");
                None
            }
        }
    }

    /// Having won: takes everything up to the head, then promotes the engine.
    fn lead(self, mut log: ShardLog, leadership: crate::Leadership) -> Ended {
        loop {
            let head = match self.block(log.head()) {
                Ok(head) => head,
                Err(e) => {
                    warn!(error = %e, "reading the shard's head after taking it over failed; retrying");
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            if self.engine.metrics().durable_sequence >= head {
                break;
            }
            if let Err(ended) = self.take_new(&mut log) {
                return ended;
            }
        }
        let Standby {
            engine,
            options,
            runtime,
        } = self;
        let replicator = EtcdReplicator::from_won(runtime, log, leadership, options.retry_for);
        engine.promote(ReplicatorHandle::new(replicator));
        Ended::Promoted
    }

    fn block<T>(
        &self,
        future: impl std::future::Future<Output = Result<T, ReplicationError>>,
    ) -> Result<T, ReplicationError> {
        self.runtime.block_on(future)
    }
}
