//! The ledger's log, replicated on etcd (issue 21: beyond one machine).
//!
//! The engine is a deterministic state machine fed by a log of batches, so replicating the log
//! replicates the ledger. This crate keeps a shard's log in etcd, a Raft-replicated store that
//! fsyncs on a quorum before it answers, through etcd's v3 API (its JSON gateway: no code
//! generation, the HTTP client the rest of paycore uses):
//!
//! - `gateway.rs`: one etcd call — JSON over HTTP to the first member that answers.
//! - `keys.rs`: where a shard's log, head and leader live in etcd's key space.
//! - `log.rs`: `ShardLog` — `append` (one etcd transaction per batch, applied only while the
//!   caller still holds the shard's leadership and the head is the previous batch: a deposed
//!   leader cannot fork the log), `read`, `compact`.
//! - `engine_replicator.rs`: `EtcdReplicator`, the engine's `Replicator` port on a shard's log:
//!   each fsynced batch appended to etcd before the engine counts it durable.
//! - `standby.rs`: a standby — follows the shard's log into its own engine and serves reads;
//!   takes the shard over (campaign, catch up to the head, promote) when its leader is gone.
//! - `leader.rs`: `Leadership`, a lease-backed claim on a shard, kept alive in the background.
//! - `url.rs`: parsing `etcd://host:port[,host:port…]`.
//! - `shard_map.rs` (pure): which shard an account lives on — longest assigned account-number
//!   prefix, else the first shard; `directory.rs`: that map in etcd, edited by compare-and-set.
//! - `intents.rs`: `IntentLog`, the cross-shard transfers in flight (`/paycore/xfers/`), for
//!   the router's coordinator.
//! - `cluster.rs`: a real etcd cluster on this machine, for tests and benches.

pub mod cluster;
mod directory;
mod engine_replicator;
mod error;
mod gateway;
mod intents;
mod keys;
mod leader;
mod log;
mod shard_map;
mod standby;
mod url;

pub use directory::ShardDirectory;
pub use engine_replicator::EtcdReplicator;
pub use error::ReplicationError;
pub use intents::{IntentLog, Recorded};
pub use leader::{Campaign, Leadership};
pub use log::{Appended, ShardLog};
pub use shard_map::{ShardMap, ShardMapError, PREFIX_MAX, SHARD_NAME_MAX};
pub use standby::{spawn_standby, StandbyOptions};
pub use url::parse_etcd_url;
