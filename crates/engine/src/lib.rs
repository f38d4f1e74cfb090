//! The durable paycore engine: the ledger state machine behind a single writer with a
//! checksummed, chained write-ahead log (group commit: one fdatasync per batch), background
//! copy-on-write snapshots, and crash recovery.
//!
//! Start at `Engine::open` (engine.rs). Threads: `writer_thread` (queue → log → fsync),
//! `applier_thread` (state machine, replies), `snapshot_thread` (snapshots, retention).
//! On disk: `log/` segments (log/record.rs, docs/log-format.md), `snapshots/`, `engine.meta`.

mod applier_thread;
pub mod codec;
mod config;
mod engine;
mod error;
mod faults;
mod follower;
mod follower_thread;
pub mod log;
mod meta;
mod metrics;
mod recovery;
mod replicate;
mod replication_stage;
mod snapshot_file;
mod snapshot_thread;
mod verify;
mod writer_thread;

pub use config::{EngineConfig, Retention};
pub use engine::{check_data_dir, lock_data_dir, DataDirLock, Engine, Reply};
pub use error::EngineError;
pub use faults::Faults;
pub use follower::{FollowedBatch, Follower};
pub use follower_thread::{
    follow_in_two_stages, retry_until_stopped, Accumulate, DurableSequence, FollowerThread, Pace,
};
pub use meta::parse_date;
pub use metrics::MetricsSnapshot;
pub use recovery::RecoveryReport;
pub use replicate::{ReplicateError, ReplicatedBatch, Replicator, ReplicatorHandle, StoredBatch};
pub use verify::{verify_log, VerifyReport};
