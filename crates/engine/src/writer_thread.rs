//! The writer thread: takes every request waiting (up to a batch), stamps the batch with
//! engine time, appends it to the log and fsyncs — one fsync for the whole batch — then hands
//! it to the applier. A batch whose write fails is answered with an error and never applied.
//! A failed write or fsync of the log also stops the writer for good: from then on every
//! request is refused with `EngineError::Stopped` until a restart recovers from the disk. An
//! engine with a replicator (`replicate.rs`) ships each batch after the fsync and before it
//! counts as durable; a failure to replicate stops the writer the same way. A standby's batches
//! (`Request::replicated`) come from the shard's log: each is written alone, under the
//! sequence and timestamp the leader gave it, and not replicated again.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use paycore_ledger::Command;
use tokio::sync::{mpsc, oneshot};
use tracing::error;

use crate::codec;
use crate::engine::{Reply, Request, Shared};
use crate::log::writer::{AppendError, Appended, LogWriter};
use crate::{EngineError, ReplicateError, ReplicatedBatch};

/// A batch that is durable in the log, on its way to be applied.
pub(crate) struct Durable {
    pub sequence: u64,
    pub checksum: u128,
    pub timestamp: u64,
    pub commands: Vec<Command>,
    /// Each request's command count and where its answer goes, in order.
    pub replies: Vec<(usize, oneshot::Sender<Reply>)>,
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    requests: mpsc::Receiver<Request>,
    log: LogWriter,
    durable: SyncSender<Durable>,
    recycled: Receiver<Vec<Command>>,
    last_timestamp: u64,
) -> JoinHandle<()> {
    let durable_sequence = log.next_sequence() - 1;
    std::thread::Builder::new()
        .name("paycore-writer".into())
        .spawn(move || {
            Writer {
                shared,
                requests,
                log,
                durable,
                recycled,
                last_timestamp,
                durable_sequence,
                pending: None,
                body: Vec::new(),
            }
            .run()
        })
        .expect("spawning the writer thread")
}

struct Writer {
    shared: Arc<Shared>,
    requests: mpsc::Receiver<Request>,
    log: LogWriter,
    durable: SyncSender<Durable>,
    /// Command buffers handed back by the applier for reuse.
    recycled: Receiver<Vec<Command>>,
    /// Timestamp of the last command made durable; the next batch starts after it.
    last_timestamp: u64,
    /// Last batch sequence made durable (counted here, checked against the log's own count).
    durable_sequence: u64,
    /// A request taken from the queue that did not fit in the previous batch.
    pending: Option<Request>,
    body: Vec<u8>,
}

impl Writer {
    fn run(mut self) {
        while let Some(batch) = self.next_batch() {
            if let Err(reason) = self.write(batch) {
                self.refuse_until_shutdown(&reason);
                return;
            }
        }
    }

    /// After a fatal log failure: answers every request still queued or yet to come with
    /// `EngineError::Stopped`, until the engine shuts down.
    fn refuse_until_shutdown(&mut self, reason: &str) {
        let refuse = |request: Request| {
            let _ = request.reply.send(Err(EngineError::Stopped {
                reason: reason.to_owned(),
            }));
        };
        if let Some(request) = self.pending.take() {
            refuse(request);
        }
        while let Some(request) = self.take_from_queue() {
            refuse(request);
        }
    }

    /// Blocks for the first request, then takes whatever else is waiting, up to the limit.
    /// Requests are never split across batches.
    fn next_batch(&mut self) -> Option<Vec<Request>> {
        let first = match self.pending.take() {
            Some(request) => request,
            None => self.take_from_queue()?,
        };
        let max = self.shared.config.batch_commands_max;
        let mut count = first.commands.len();
        let alone = first.replicated.is_some();
        let mut batch = vec![first];
        while count < max && !alone {
            let Ok(request) = self.requests.try_recv() else {
                break;
            };
            self.shared.metrics.queue_depth.fetch_sub(1, Relaxed);
            if count + request.commands.len() > max || request.replicated.is_some() {
                self.pending = Some(request);
                break;
            }
            count += request.commands.len();
            batch.push(request);
        }
        Some(batch)
    }

    fn take_from_queue(&mut self) -> Option<Request> {
        let request = self.requests.blocking_recv()?;
        self.shared.metrics.queue_depth.fetch_sub(1, Relaxed);
        Some(request)
    }

    /// Appends one batch and hands it to the applier, or answers its callers with the error.
    /// `Err` (with the reason) when the failure is fatal: the writer must stop.
    fn write(&mut self, batch: Vec<Request>) -> Result<(), String> {
        let started = Instant::now();
        let count: usize = batch.iter().map(|r| r.commands.len()).sum();
        self.body.clear();
        // Reuse a buffer the applier is done with: fresh multi-megabyte allocations cost a
        // page fault per 4 KiB on every batch.
        let mut commands = self.recycled.try_recv().unwrap_or_default();
        commands.clear();
        commands.reserve(count);
        let mut replies = Vec::with_capacity(batch.len());
        let replicated = batch[0].replicated;
        if let Some((sequence, timestamp)) = replicated {
            if let Err(why) = self.check_replicated(sequence, timestamp) {
                for request in batch {
                    let _ = request.reply.send(Err(EngineError::OutOfStep(why.clone())));
                }
                return Ok(());
            }
        }
        for request in batch {
            for command in &request.commands {
                codec::encode(command, &mut self.body);
            }
            commands.extend_from_slice(&request.commands);
            replies.push((request.commands.len(), request.reply));
        }
        let timestamp = match replicated {
            Some((_, timestamp)) => timestamp,
            None => now_nanos().max(self.last_timestamp + 1),
        };
        assert_eq!(
            self.log.next_sequence(),
            self.durable_sequence + 1,
            "the next log record must follow the last durable batch"
        );
        match self.log.append(timestamp, count as u32, &self.body) {
            Ok(appended) => {
                assert_eq!(appended.sequence, self.durable_sequence + 1);
                self.durable_sequence = appended.sequence;
                self.last_timestamp = timestamp + count as u64 - 1;
                let batch = ReplicatedBatch {
                    sequence: appended.sequence,
                    timestamp,
                    count: count as u32,
                    body: &self.body,
                };
                let shipped = match replicated {
                    Some(_) => Ok(()), // it came from the shard's log
                    None => self.replicate(&batch),
                };
                if let Err(reason) = shipped {
                    if appended.rolled_over {
                        // The batch is in the new segment: retention must know it exists.
                        self.started_segment(appended.sequence);
                    }
                    return self.replication_failed(reason, replies);
                }
                self.count_durable(&appended, count, started);
                if appended.rolled_over {
                    self.started_segment(appended.sequence);
                }
                let batch = Durable {
                    sequence: appended.sequence,
                    checksum: appended.checksum,
                    timestamp,
                    commands,
                    replies,
                };
                if self.durable.send(batch).is_err() {
                    error!("the applier stopped; durable batches can no longer be applied");
                }
                Ok(())
            }
            Err(failure) => self.failed(failure, replies),
        }
    }

    /// Ships the batch to the replicator, if the engine has one, before it counts as durable.
    fn replicate(&self, batch: &ReplicatedBatch<'_>) -> Result<(), ReplicateError> {
        let replicator = self.shared.replicator.lock().clone();
        match replicator {
            Some(replicator) => replicator.replicate(batch),
            None => Ok(()),
        }
    }

    /// A standby's batch must be the next of the local log and later than its last one.
    fn check_replicated(&self, sequence: u64, timestamp: u64) -> Result<(), String> {
        if sequence != self.durable_sequence + 1 {
            return Err(format!(
                "batch {sequence} offered, the local log ends at {}",
                self.durable_sequence
            ));
        }
        if timestamp <= self.last_timestamp {
            return Err(format!(
                "batch {sequence} is stamped {timestamp}, not after this log's {}",
                self.last_timestamp
            ));
        }
        Ok(())
    }

    /// A batch in the local log that could not be replicated: its outcome is unknown, so the
    /// engine stops (like a failed fsync) and its callers are told so.
    fn replication_failed(
        &self,
        failure: ReplicateError,
        replies: Vec<(usize, oneshot::Sender<Reply>)>,
    ) -> Result<(), String> {
        let reason = format!("replication of batch {}: {failure}", self.durable_sequence);
        self.shared.metrics.failed_batches.fetch_add(1, Relaxed);
        if let ReplicateError::NotLeader { leader } = &failure {
            // Fenced off: another node leads. This one steps down for good (a restart makes
            // it a standby); its callers are pointed at the leader.
            *self.shared.leader.lock() = leader.clone();
            self.shared
                .deposed
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        self.shared.stop(reason.clone());
        for (_, reply) in replies {
            let _ = reply.send(Err(match &failure {
                ReplicateError::NotLeader { .. } => self.shared.not_leader(),
                ReplicateError::Failed(_) => EngineError::Stopped {
                    reason: reason.clone(),
                },
            }));
        }
        error!(
            %reason,
            "the engine stopped writing: a batch could not be replicated, so nothing more is \
             accepted or acknowledged"
        );
        Err(reason)
    }

    fn count_durable(&self, appended: &Appended, count: usize, started: Instant) {
        let metrics = &self.shared.metrics;
        metrics.batches.fetch_add(1, Relaxed);
        metrics.commands.fetch_add(count as u64, Relaxed);
        metrics.fsyncs.fetch_add(1, Relaxed);
        let sync_nanos = appended.sync_time.as_nanos() as u64;
        metrics.fsync_nanos_last.store(sync_nanos, Relaxed);
        metrics.fsync_nanos_total.fetch_add(sync_nanos, Relaxed);
        metrics.last_batch_commands.store(count as u64, Relaxed);
        metrics.log_bytes.fetch_add(appended.bytes, Relaxed);
        let write_nanos = started
            .elapsed()
            .saturating_sub(appended.sync_time)
            .as_nanos() as u64;
        metrics.write_nanos_total.fetch_add(write_nanos, Relaxed);
        metrics.durable_sequence.store(appended.sequence, Relaxed);
    }

    /// Lists the segment the log moved on to, whose first batch is `sequence` (for retention).
    fn started_segment(&self, sequence: u64) {
        self.shared
            .segments
            .lock()
            .push((self.log.segment(), sequence));
    }

    /// Answers a failed batch's callers. A segment that could not be created is retried with
    /// the next batch; any other failure stops the engine (returned as `Err`).
    fn failed(
        &self,
        failure: AppendError,
        replies: Vec<(usize, oneshot::Sender<Reply>)>,
    ) -> Result<(), String> {
        self.shared.metrics.failed_batches.fetch_add(1, Relaxed);
        let fatal = failure.is_fatal();
        if fatal {
            // Before anyone is answered: a caller that sees the error sees the engine stopped.
            self.shared.stop(failure.to_string());
            if failure.rolled_over() {
                self.started_segment(self.durable_sequence + 1);
            }
        }
        for (_, reply) in replies {
            let _ = reply.send(Err(EngineError::Storage(failure.to_string())));
        }
        if !fatal {
            error!(%failure, "log append failed; the batch is refused and nothing applied");
            return Ok(());
        }
        error!(
            %failure,
            last_durable_batch = self.durable_sequence,
            "the engine stopped writing: the log could not be written or synced, so nothing more is \
             accepted or acknowledged; restart paycore to recover every acknowledged batch from \
             what is on disk"
        );
        Err(failure.to_string())
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
