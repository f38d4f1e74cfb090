//! What can go wrong replicating a shard's log.

/// Errors of the replicated log. `NotLeader`, `HeadMoved` and `Diverged` are refusals decided
/// by etcd's compare-and-set (nothing was written). `Unavailable` means no member answered in
/// time or etcd refused the request: an append's outcome is then unknown until retried (a
/// retry of an append that did commit answers `Appended::Already`).
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    #[error("not the leader of shard {shard}: {}", leader.as_deref().map_or("no leader now".to_owned(), |l| format!("the leader is {l}")))]
    NotLeader {
        shard: String,
        leader: Option<String>,
    },
    #[error("shard {shard}: batch {sequence} does not follow the head ({head})")]
    HeadMoved {
        shard: String,
        sequence: u64,
        head: u64,
    },
    #[error("shard {shard}: batch {sequence} is already in the log with different content")]
    Diverged { shard: String, sequence: u64 },
    #[error("etcd answered something unexpected for {what}: {detail}")]
    Protocol { what: &'static str, detail: String },
    #[error("invalid replication URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("shard {shard} (replicated head: batch {head}) and this node's log are out of step: {detail}")]
    OutOfStep {
        shard: String,
        head: u64,
        detail: String,
    },
    #[error("etcd unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    ShardMap(#[from] crate::shard_map::ShardMapError),
}
