//! Engine configuration, with the limits that bound every queue and file.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use paycore_ledger::BATCH_COMMANDS_MAX;

use crate::faults::Faults;

/// What to do with log segments that a retained snapshot fully covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// Leave them in `log/` (full history stays replayable and verifiable).
    Keep,
    /// Move them to `archive/`, out of the recovery path but still on disk.
    Archive,
    /// Delete them.
    Delete,
}

impl Retention {
    pub fn from_name(name: &str) -> Option<Retention> {
        match name {
            "keep" => Some(Retention::Keep),
            "archive" => Some(Retention::Archive),
            "delete" => Some(Retention::Delete),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    /// Most commands in one batch (one log record, one fsync).
    pub batch_commands_max: usize,
    /// Size of each preallocated log segment.
    pub segment_bytes: u64,
    /// Requests waiting for the writer; submitters wait (async) or block when it is full.
    pub queue_requests_max: usize,
    /// A snapshot is started after this many commands since the last one (0: never while
    /// running).
    pub snapshot_every_commands: u64,
    /// Write a snapshot at graceful shutdown, so the next start replays little log.
    pub snapshot_on_shutdown: bool,
    /// Snapshots kept on disk; the oldest kept decides which segments are covered.
    pub snapshots_kept: usize,
    pub retention: Retention,
    /// Followers (the query-store projector, the accounting feed) each still need every batch
    /// after their sequence: retention never retires a segment holding one of them.
    pub retention_floors: Vec<Arc<AtomicU64>>,
    /// Offset of the local accounting day from UTC, in seconds (Asia/Shanghai: +8h), used for
    /// the first accounting date of a new ledger.
    pub utc_offset_seconds: i32,
    /// Storage fault injection (tests only; nothing armed by default).
    pub faults: Arc<Faults>,
    /// Where each batch is replicated before it is acknowledged (None: this disk only).
    pub replicator: Option<crate::ReplicatorHandle>,
    /// Open as a standby of a replicated shard: clients' commands are refused (`NotLeader`);
    /// the shard's batches come through `Engine::submit_replicated` until `Engine::promote`.
    pub standby: bool,
}

impl EngineConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> EngineConfig {
        EngineConfig {
            data_dir: data_dir.into(),
            batch_commands_max: BATCH_COMMANDS_MAX,
            segment_bytes: 64 << 20,
            queue_requests_max: 65_536,
            snapshot_every_commands: 5_000_000,
            snapshot_on_shutdown: true,
            snapshots_kept: 2,
            retention: Retention::Archive,
            retention_floors: Vec::new(),
            utc_offset_seconds: 8 * 3600,
            faults: Arc::new(Faults::default()),
            replicator: None,
            standby: false,
        }
    }

    pub(crate) fn log_dir(&self) -> PathBuf {
        self.data_dir.join("log")
    }

    pub(crate) fn snapshot_dir(&self) -> PathBuf {
        self.data_dir.join("snapshots")
    }

    pub(crate) fn archive_dir(&self) -> PathBuf {
        self.data_dir.join("archive")
    }

    /// Largest log body a batch can produce.
    pub(crate) fn body_bytes_max(&self) -> usize {
        self.batch_commands_max * crate::codec::COMMAND_BYTES_MAX
    }
}
