//! Engine errors: what callers of `Engine` can see.

use std::path::PathBuf;

use crate::log::reader::LogError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{context} ({path}): {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("snapshot {path} is unusable: {reason}")]
    Snapshot { path: PathBuf, reason: String },
    #[error("data directory {path} is in use by another paycore process")]
    Locked { path: PathBuf },
    #[error("data directory {path}: {reason}")]
    BadDataDir { path: PathBuf, reason: String },
    #[error(
        "the log write for this batch failed ({0}); it was not applied: retry it with the same ids"
    )]
    Storage(String),
    #[error(
        "the engine stopped writing after a failed log write or fsync ({reason}); nothing is \
         accepted until it is restarted, which recovers every acknowledged batch from the log"
    )]
    Stopped { reason: String },
    #[error("{}", not_leader_message(leader))]
    NotLeader { leader: Option<String> },
    #[error("a replicated batch does not follow this node's log: {0}")]
    OutOfStep(String),
    #[error("too many commands in one request: {count} (at most {max})")]
    RequestTooLarge { count: usize, max: usize },
    #[error("the engine is shutting down")]
    ShuttingDown,
}

fn not_leader_message(leader: &Option<String>) -> String {
    match leader {
        Some(leader) => {
            format!("this node does not lead its shard; send writes to the leader at {leader}")
        }
        None => {
            "this node does not lead its shard, and no leader holds it right now; retry shortly"
                .to_owned()
        }
    }
}

impl EngineError {
    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> EngineError {
        let path = path.into();
        move |source| EngineError::Io {
            context,
            path,
            source,
        }
    }

    /// Stable machine code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Storage(_) | EngineError::Io { .. } => "storage_error",
            EngineError::RequestTooLarge { .. } => "request_too_large",
            EngineError::NotLeader { .. } => "not_leader",
            EngineError::OutOfStep(_) => "replica_out_of_step",
            EngineError::ShuttingDown | EngineError::Stopped { .. } => "engine_unavailable",
            EngineError::Log(_)
            | EngineError::Snapshot { .. }
            | EngineError::Locked { .. }
            | EngineError::BadDataDir { .. } => "engine_unavailable",
        }
    }
}
