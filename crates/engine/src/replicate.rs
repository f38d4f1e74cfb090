//! The port through which a replicated engine ships each batch before anyone is answered
//! (implemented on etcd by `paycore-replication`). The writer calls it right after the local
//! fsync and before the batch is published as durable, so no caller and no log follower sees
//! a batch that is not replicated. A failure stops the engine like a failed fsync: the batch
//! is in the local log but its replication, and so its outcome, is unknown.

use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

/// A batch as replicated: what replay needs, in the log's own order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicatedBatch<'a> {
    pub sequence: u64,
    /// Engine time of the batch's first command (nanoseconds; the next ones follow by one).
    pub timestamp: u64,
    /// Commands in the batch.
    pub count: u32,
    /// The commands, encoded as in the log (`codec`).
    pub body: &'a [u8],
}

const HEADER_BYTES: usize = 12;

impl<'a> ReplicatedBatch<'a> {
    /// Timestamp (8 bytes, little-endian), count (4), body: the bytes a replica stores.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_BYTES + self.body.len());
        bytes.extend_from_slice(&self.timestamp.to_le_bytes());
        bytes.extend_from_slice(&self.count.to_le_bytes());
        bytes.extend_from_slice(self.body);
        bytes
    }

    /// Reads what `encode` wrote (None: too short to be a batch).
    pub fn decode(sequence: u64, bytes: &'a [u8]) -> Option<ReplicatedBatch<'a>> {
        let (header, body) = bytes.split_at_checked(HEADER_BYTES)?;
        let (timestamp, count) = header.split_at(8);
        Some(ReplicatedBatch {
            sequence,
            timestamp: u64::from_le_bytes(timestamp.try_into().ok()?),
            count: u32::from_le_bytes(count.try_into().ok()?),
            body,
        })
    }
}

/// Why a batch could not be replicated. Either stops the engine's writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicateError {
    /// Another node leads the shard now (this one was fenced off): its address, if known.
    NotLeader { leader: Option<String> },
    /// The batch could not be replicated: why.
    Failed(String),
}

impl fmt::Display for ReplicateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplicateError::NotLeader {
                leader: Some(leader),
            } => {
                write!(f, "another node leads the shard: {leader}")
            }
            ReplicateError::NotLeader { leader: None } => {
                f.write_str("the shard's leadership was lost")
            }
            ReplicateError::Failed(why) => f.write_str(why),
        }
    }
}

/// Makes a batch durable elsewhere before the engine acknowledges it.
pub trait Replicator: Send {
    /// Returns once `batch` is replicated; an error stops the engine.
    fn replicate(&mut self, batch: &ReplicatedBatch<'_>) -> Result<(), ReplicateError>;
}

/// The engine's handle on its replicator (shared with the configuration, which is `Clone`).
#[derive(Clone)]
pub struct ReplicatorHandle(Arc<Mutex<Box<dyn Replicator>>>);

impl ReplicatorHandle {
    pub fn new(replicator: impl Replicator + 'static) -> ReplicatorHandle {
        ReplicatorHandle(Arc::new(Mutex::new(Box::new(replicator))))
    }

    pub(crate) fn replicate(&self, batch: &ReplicatedBatch<'_>) -> Result<(), ReplicateError> {
        self.0.lock().replicate(batch)
    }
}

impl fmt::Debug for ReplicatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplicatorHandle")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reads_back_as_encoded() {
        let batch = ReplicatedBatch {
            sequence: 7,
            timestamp: 1_700_000_000_000_000_123,
            count: 3,
            body: b"commands",
        };
        let bytes = batch.encode();
        assert_eq!(ReplicatedBatch::decode(7, &bytes), Some(batch));
        assert_eq!(ReplicatedBatch::decode(7, &bytes[..11]), None);
    }
}
