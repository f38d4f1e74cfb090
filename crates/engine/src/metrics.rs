//! Counters the engine keeps for `/metrics`: lock-free, updated by the writer and applier.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Metrics {
    pub batches: AtomicU64,
    pub commands: AtomicU64,
    pub failed_batches: AtomicU64,
    pub fsyncs: AtomicU64,
    pub fsync_nanos_total: AtomicU64,
    pub fsync_nanos_last: AtomicU64,
    pub last_batch_commands: AtomicU64,
    pub log_bytes: AtomicU64,
    /// Time the applier spent in the state machine, in total and for the last batch.
    pub apply_nanos_total: AtomicU64,
    pub apply_nanos_last: AtomicU64,
    /// Time the writer spent encoding and writing (without the fsync), in total.
    pub write_nanos_total: AtomicU64,
    /// Requests accepted into the queue and not yet taken by the writer.
    pub queue_depth: AtomicU64,
    /// Last batch sequence made durable / applied to the in-memory state.
    pub durable_sequence: AtomicU64,
    pub applied_sequence: AtomicU64,
    pub snapshot_sequence: AtomicU64,
    pub snapshots_written: AtomicU64,
    pub recovery_nanos: AtomicU64,
    pub recovered_batches: AtomicU64,
}

/// A plain copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsSnapshot {
    pub batches: u64,
    pub commands: u64,
    pub failed_batches: u64,
    pub fsyncs: u64,
    pub fsync_nanos_total: u64,
    pub fsync_nanos_last: u64,
    pub last_batch_commands: u64,
    pub log_bytes: u64,
    pub apply_nanos_total: u64,
    pub apply_nanos_last: u64,
    pub write_nanos_total: u64,
    pub queue_depth: u64,
    pub durable_sequence: u64,
    pub applied_sequence: u64,
    pub snapshot_sequence: u64,
    pub snapshots_written: u64,
    pub recovery_nanos: u64,
    pub recovered_batches: u64,
}

impl Metrics {
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            batches: self.batches.load(Relaxed),
            commands: self.commands.load(Relaxed),
            failed_batches: self.failed_batches.load(Relaxed),
            fsyncs: self.fsyncs.load(Relaxed),
            fsync_nanos_total: self.fsync_nanos_total.load(Relaxed),
            fsync_nanos_last: self.fsync_nanos_last.load(Relaxed),
            last_batch_commands: self.last_batch_commands.load(Relaxed),
            log_bytes: self.log_bytes.load(Relaxed),
            apply_nanos_total: self.apply_nanos_total.load(Relaxed),
            apply_nanos_last: self.apply_nanos_last.load(Relaxed),
            write_nanos_total: self.write_nanos_total.load(Relaxed),
            queue_depth: self.queue_depth.load(Relaxed),
            durable_sequence: self.durable_sequence.load(Relaxed),
            applied_sequence: self.applied_sequence.load(Relaxed),
            snapshot_sequence: self.snapshot_sequence.load(Relaxed),
            snapshots_written: self.snapshots_written.load(Relaxed),
            recovery_nanos: self.recovery_nanos.load(Relaxed),
            recovered_batches: self.recovered_batches.load(Relaxed),
        }
    }
}
