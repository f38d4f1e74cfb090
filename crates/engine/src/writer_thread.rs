//! The writer thread: takes every request waiting (up to a batch), stamps the batch with
//! engine time, appends it to the log and fsyncs — one fsync for the whole batch — then hands
//! it to the applier. A batch whose write fails is answered with an error and never applied.
//! A failed write or fsync of the log also stops the writer for good: from then on every
//! request is refused with `EngineError::Stopped` until a restart recovers from the disk. An
//! engine with a replicator (`replicate.rs`) hands each fsynced batch to the replication stage
//! (`replication_stage.rs`), which ships it before it counts as durable, while the writer goes
//! on with the next; a failure to replicate stops the writer the same way. A standby's batches
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
use crate::log::writer::{AppendError, LogWriter};
use crate::metrics::Metrics;
use crate::replication_stage::{self, Staged, STAGE_DEPTH};
use crate::EngineError;

/// A batch that is durable in the log, on its way to be applied.
pub(crate) struct Durable {
    pub sequence: u64,
    pub checksum: u128,
    pub timestamp: u64,
    pub commands: Vec<Command>,
    /// Each request's command count and where its answer goes, in order.
    pub replies: Vec<(usize, oneshot::Sender<Reply>)>,
}

/// What the local log's append of one batch measured, for the metrics once it is durable.
pub(crate) struct LocalAppend {
    pub sequence: u64,
    pub bytes: u64,
    pub sync_time: std::time::Duration,
    pub started: Instant,
}

/// Where the writer's fsynced batches go.
enum Output {
    /// Straight to the applier: nothing to replicate.
    Applier(SyncSender<Durable>),
    /// Through the replication stage (an engine with a replicator, or a standby).
    Stage {
        stage: SyncSender<Staged>,
        bodies: Receiver<Vec<u8>>,
        thread: JoinHandle<()>,
    },
    Closed,
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
    let replicated = shared.config.replicator.is_some() || shared.config.standby;
    let output = match replicated {
        false => Output::Applier(durable),
        true => {
            let (stage, staged) = std::sync::mpsc::sync_channel(STAGE_DEPTH);
            let (give_back, bodies) = std::sync::mpsc::sync_channel(STAGE_DEPTH);
            let thread = replication_stage::spawn(shared.clone(), staged, durable, give_back);
            Output::Stage {
                stage,
                bodies,
                thread,
            }
        }
    };
    std::thread::Builder::new()
        .name("paycore-writer".into())
        .spawn(move || {
            Writer {
                shared,
                requests,
                log,
                output,
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
    output: Output,
    /// Command buffers handed back by the applier for reuse.
    recycled: Receiver<Vec<Command>>,
    /// Timestamp of the last command in the local log; the next batch starts after it.
    last_timestamp: u64,
    /// Last batch sequence in the local log (counted here, checked against the log's own
    /// count). With a replicator it may be ahead of what is durable (replicated).
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
                break;
            }
        }
        // The stage ships what it holds, then ends with its channel.
        if let Output::Stage { stage, thread, .. } =
            std::mem::replace(&mut self.output, Output::Closed)
        {
            drop(stage);
            let _ = thread.join();
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
        if let Some(reason) = self.shared.stopped.get().cloned() {
            // The replication stage stopped the engine: nothing more goes into the log.
            for request in batch {
                let _ = request.reply.send(Err(self.refusal(&reason)));
            }
            return Err(reason);
        }
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
                if appended.rolled_over {
                    // The batch is in the new segment: retention must know it exists.
                    self.started_segment(appended.sequence);
                }
                let durable = Durable {
                    sequence: appended.sequence,
                    checksum: appended.checksum,
                    timestamp,
                    commands,
                    replies,
                };
                self.hand_on(
                    durable,
                    LocalAppend::new(&appended, started),
                    replicated.is_none(),
                );
                Ok(())
            }
            Err(failure) => self.failed(failure, replies),
        }
    }

    /// Passes a batch in the local log on: to the applier (durable now), or to the
    /// replication stage (durable once shipped; `ship`: its body goes to the replicator).
    fn hand_on(&mut self, durable: Durable, local: LocalAppend, ship: bool) {
        match &self.output {
            Output::Applier(applier) => {
                count_durable(&self.shared.metrics, &local, durable.commands.len());
                if applier.send(durable).is_err() {
                    error!("the applier stopped; durable batches can no longer be applied");
                }
            }
            Output::Stage { stage, bodies, .. } => {
                let body = ship.then(|| {
                    let fresh = bodies.try_recv().unwrap_or_default();
                    std::mem::replace(&mut self.body, fresh)
                });
                let staged = Staged {
                    durable,
                    body,
                    local,
                };
                if stage.send(staged).is_err() {
                    error!("the replication stage stopped; batches can no longer be replicated");
                }
            }
            Output::Closed => unreachable!("the writer writes nothing after it closed"),
        }
    }

    fn refusal(&self, reason: &str) -> EngineError {
        match self
            .shared
            .deposed
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            true => self.shared.not_leader(),
            false => EngineError::Stopped {
                reason: reason.to_owned(),
            },
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

/// Counts a batch durable: in the local log and, with a replicator, replicated.
pub(crate) fn count_durable(metrics: &Metrics, local: &LocalAppend, count: usize) {
    metrics.batches.fetch_add(1, Relaxed);
    metrics.commands.fetch_add(count as u64, Relaxed);
    metrics.fsyncs.fetch_add(1, Relaxed);
    let sync_nanos = local.sync_time.as_nanos() as u64;
    metrics.fsync_nanos_last.store(sync_nanos, Relaxed);
    metrics.fsync_nanos_total.fetch_add(sync_nanos, Relaxed);
    metrics.last_batch_commands.store(count as u64, Relaxed);
    metrics.log_bytes.fetch_add(local.bytes, Relaxed);
    let write_nanos = local
        .started
        .elapsed()
        .saturating_sub(local.sync_time)
        .as_nanos() as u64;
    metrics.write_nanos_total.fetch_add(write_nanos, Relaxed);
    metrics.durable_sequence.store(local.sequence, Relaxed);
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
