//! The applier thread: the one owner of the state machine. Applies durable batches in log
//! order, answers their callers, and hands consistent snapshots to the snapshot thread.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use paycore_ledger::{BatchOutput, Command, LedgerSnapshot};
use tracing::warn;

use crate::engine::Shared;
use crate::snapshot_thread::{self, SnapshotJob};
use crate::writer_thread::Durable;

/// Durable batches in flight between writer and applier: enough to overlap the next batch's
/// log write with this batch's apply, few enough to bound latency.
const DURABLE_QUEUE_BATCHES: usize = 2;

/// Starts the snapshot thread, the applier, and (through `start_writer`) the writer; returns
/// their handles in shutdown order.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    start_writer: impl FnOnce(SyncSender<Durable>, Receiver<Vec<Command>>) -> JoinHandle<()>,
) -> Vec<JoinHandle<()>> {
    let (durable_tx, durable_rx) = mpsc::sync_channel(DURABLE_QUEUE_BATCHES);
    let (recycle_tx, recycle_rx) = mpsc::channel();
    let (jobs_tx, snapshotter) = snapshot_thread::spawn(shared.clone());
    let writer = start_writer(durable_tx, recycle_rx);
    let applier = std::thread::Builder::new()
        .name("paycore-applier".into())
        .spawn(move || run(shared, durable_rx, recycle_tx, jobs_tx))
        .expect("spawning the applier thread");
    vec![writer, applier, snapshotter]
}

fn run(
    shared: Arc<Shared>,
    durable: Receiver<Durable>,
    recycle: Sender<Vec<Command>>,
    snapshots: SyncSender<SnapshotJob>,
) {
    let mut out = BatchOutput::default();
    let mut since_snapshot = 0u64;
    let mut last: Option<(u64, u128)> = None;
    let mut applied_sequence = shared.metrics.applied_sequence.load(Relaxed);
    for batch in durable {
        assert_eq!(
            batch.sequence,
            applied_sequence + 1,
            "durable batches must be applied in order, none skipped or repeated"
        );
        applied_sequence = batch.sequence;
        let started = Instant::now();
        {
            let mut ledger = shared.ledger.write();
            ledger.apply_batch(batch.timestamp, &batch.commands, &mut out);
            // Published under the lock: a reader sees exactly the batch its state includes.
            shared
                .metrics
                .applied_sequence
                .store(batch.sequence, Relaxed);
        }
        let apply_nanos = started.elapsed().as_nanos() as u64;
        shared.metrics.apply_nanos_last.store(apply_nanos, Relaxed);
        shared
            .metrics
            .apply_nanos_total
            .fetch_add(apply_nanos, Relaxed);
        let mut outcomes = out.outcomes.iter().copied();
        for (count, reply) in batch.replies {
            let _ = reply.send(Ok(outcomes.by_ref().take(count).collect()));
        }
        since_snapshot += batch.commands.len() as u64;
        let _ = recycle.send(batch.commands);
        last = Some((batch.sequence, batch.checksum));
        let every = shared.config.snapshot_every_commands;
        if every > 0 && since_snapshot >= every {
            let job = job(&shared, batch.sequence, batch.checksum);
            match snapshots.try_send(job) {
                Ok(()) => since_snapshot = 0,
                Err(TrySendError::Full(_)) => {} // one is still being written; try after the next batch
                Err(TrySendError::Disconnected(_)) => warn!("snapshot thread stopped"),
            }
        }
    }
    // Shutdown: a final snapshot makes the next start fast — unless a log failure stopped the
    // engine, which then writes nothing more (the restart replays the log instead).
    let wanted =
        shared.config.snapshot_on_shutdown && since_snapshot > 0 && shared.check_running().is_ok();
    if let (Some((sequence, checksum)), true) = (last, wanted) {
        let _ = snapshots.send(job(&shared, sequence, checksum));
    }
}

fn job(shared: &Shared, sequence: u64, checksum: u128) -> SnapshotJob {
    let snapshot: LedgerSnapshot = shared.ledger.read().snapshot();
    SnapshotJob {
        sequence,
        checksum,
        snapshot,
    }
}
