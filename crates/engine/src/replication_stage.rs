//! The replication stage of a replicated engine: a thread between the writer and the applier.
//! The writer fsyncs batch after batch into the local log and hands each one here; this
//! thread ships every batch waiting — several at once, in order — to the replicator in one
//! call (`Replicator::replicate_many`: one etcd transaction for a few batches), and only then
//! counts them durable and passes them to the applier. So the writer's fsyncs and etcd's
//! commits overlap, and one etcd round trip carries several batches instead of one.
//!
//! Nothing changes for what a caller or a follower may see: a batch is published as durable
//! (`metrics.durable_sequence`, the applier) only once replicated. A failure to replicate stops
//! the engine as before; every batch behind it is refused too — they are in the local log
//! only, never acknowledged, exactly like the failed one.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use tracing::error;

use crate::engine::{Reply, Shared};
use crate::writer_thread::{count_durable, Durable, LocalAppend};
use crate::{EngineError, ReplicateError, ReplicatedBatch};

/// Batches the writer may be ahead of the replicator (the local log's lead over etcd).
pub(crate) const STAGE_DEPTH: usize = 16;
/// Batches shipped in one call at most.
const SHIP_MAX: usize = 8;

/// A batch fsynced into the local log, waiting to be replicated.
pub(crate) struct Staged {
    pub durable: Durable,
    /// The commands as the log encodes them; None for a standby's batch, which came from the
    /// shard's log and is not shipped again.
    pub body: Option<Vec<u8>>,
    pub local: LocalAppend,
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    staged: Receiver<Staged>,
    applier: SyncSender<Durable>,
    bodies: SyncSender<Vec<u8>>,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("paycore-replicate".into())
        .spawn(move || {
            Stage {
                shared,
                staged,
                applier,
                bodies,
                held: None,
            }
            .run()
        })
        .expect("spawning the replication thread")
}

struct Stage {
    shared: Arc<Shared>,
    staged: Receiver<Staged>,
    applier: SyncSender<Durable>,
    /// Body buffers handed back to the writer for reuse.
    bodies: SyncSender<Vec<u8>>,
    /// A batch taken that did not belong to the previous group.
    held: Option<Staged>,
}

impl Stage {
    fn run(mut self) {
        while let Some(group) = self.next_group() {
            if let Err(failure) = self.ship(&group) {
                self.refuse(group, &failure);
                while let Some(group) = self.next_group() {
                    self.refuse(group, &failure);
                }
                return;
            }
            for staged in group {
                self.publish(staged);
            }
        }
    }

    /// Blocks for one batch, then takes what else waits, up to `SHIP_MAX`, of the same kind
    /// (shipped, or a standby's).
    fn next_group(&mut self) -> Option<Vec<Staged>> {
        let first = match self.held.take() {
            Some(staged) => staged,
            None => self.staged.recv().ok()?,
        };
        let shipped = first.body.is_some();
        let mut group = vec![first];
        while group.len() < SHIP_MAX {
            let Ok(next) = self.staged.try_recv() else {
                break;
            };
            if next.body.is_some() != shipped {
                self.held = Some(next);
                break;
            }
            group.push(next);
        }
        Some(group)
    }

    fn ship(&self, group: &[Staged]) -> Result<(), ReplicateError> {
        let batches: Vec<ReplicatedBatch<'_>> = group
            .iter()
            .filter_map(|staged| {
                let body = staged.body.as_deref()?;
                Some(ReplicatedBatch {
                    sequence: staged.durable.sequence,
                    timestamp: staged.durable.timestamp,
                    count: staged.durable.commands.len() as u32,
                    body,
                })
            })
            .collect();
        if batches.is_empty() {
            return Ok(());
        }
        for pair in batches.windows(2) {
            assert_eq!(pair[1].sequence, pair[0].sequence + 1, "shipped in order");
        }
        let replicator = self.shared.replicator.lock().clone();
        match replicator {
            Some(replicator) => replicator.replicate_many(&batches),
            None => Ok(()),
        }
    }

    fn publish(&self, staged: Staged) {
        let Staged {
            durable,
            body,
            local,
        } = staged;
        count_durable(&self.shared.metrics, &local, durable.commands.len());
        if let Some(body) = body {
            let _ = self.bodies.try_send(body);
        }
        if self.applier.send(durable).is_err() {
            error!("the applier stopped; durable batches can no longer be applied");
        }
    }

    /// The group (and, after it, everything else) could not be replicated: its outcome is
    /// unknown, so the engine stops (like a failed fsync) and its callers are told so.
    fn refuse(&self, group: Vec<Staged>, failure: &ReplicateError) {
        let first = group[0].durable.sequence;
        let reason = format!("replication of batch {first}: {failure}");
        if self.shared.stopped.get().is_none() {
            self.shared.metrics.failed_batches.fetch_add(1, Relaxed);
            if let ReplicateError::NotLeader { leader } = failure {
                // Fenced off: another node leads. This one steps down for good (a restart
                // makes it a standby); its callers are pointed at the leader.
                *self.shared.leader.lock() = leader.clone();
                self.shared
                    .deposed
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            }
            self.shared.stop(reason.clone());
            error!(
                %reason,
                "the engine stopped writing: a batch could not be replicated, so nothing more is \
                 accepted or acknowledged"
            );
        }
        for staged in group {
            for (_, reply) in staged.durable.replies {
                let _ = reply.send(self.refusal(failure, &reason));
            }
        }
    }

    fn refusal(&self, failure: &ReplicateError, reason: &str) -> Reply {
        Err(match failure {
            ReplicateError::NotLeader { .. } => self.shared.not_leader(),
            ReplicateError::Failed(_) => EngineError::Stopped {
                reason: reason.to_owned(),
            },
        })
    }
}

impl LocalAppend {
    pub(crate) fn new(appended: &crate::log::writer::Appended, started: Instant) -> LocalAppend {
        LocalAppend {
            sequence: appended.sequence,
            bytes: appended.bytes,
            sync_time: appended.sync_time,
            started,
        }
    }
}
