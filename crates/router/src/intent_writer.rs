//! The coordinator's etcd writes, coalesced: every intent recorded or removed meanwhile goes
//! into one etcd transaction (up to `OPS_MAX` of them, a few transactions in flight), so a
//! stream of cross-shard transfers costs etcd a fraction of a request each instead of two.
//! A batch whose records were not all new (a retried id) is answered record by record.

use std::sync::Arc;

use paycore_replication::{IntentLog, Recorded, ReplicationError};
use tokio::sync::{mpsc, oneshot, Semaphore};

/// etcd refuses transactions of more than 128 operations (`--max-txn-ops`).
const OPS_MAX: usize = 120;
/// Transactions in flight at once.
const IN_FLIGHT: usize = 4;

enum Write {
    Record {
        id: String,
        text: String,
        done: oneshot::Sender<Result<Recorded, String>>,
    },
    Remove {
        id: String,
        done: oneshot::Sender<Result<(), String>>,
    },
}

#[derive(Clone)]
pub struct IntentWriter {
    writes: mpsc::UnboundedSender<Write>,
}

fn gone() -> ReplicationError {
    ReplicationError::Unavailable("the intent writer stopped".into())
}

impl IntentWriter {
    pub fn spawn(log: IntentLog) -> IntentWriter {
        let (writes, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(log, queue));
        IntentWriter { writes }
    }

    pub async fn record(&self, id: &str, text: &str) -> Result<Recorded, ReplicationError> {
        let (done, answer) = oneshot::channel();
        let write = Write::Record {
            id: id.to_owned(),
            text: text.to_owned(),
            done,
        };
        self.writes.send(write).map_err(|_| gone())?;
        let answer = answer.await.map_err(|_| gone())?;
        answer.map_err(ReplicationError::Unavailable)
    }

    pub async fn remove(&self, id: &str) -> Result<(), ReplicationError> {
        let (done, answer) = oneshot::channel();
        let write = Write::Remove {
            id: id.to_owned(),
            done,
        };
        self.writes.send(write).map_err(|_| gone())?;
        let answer = answer.await.map_err(|_| gone())?;
        answer.map_err(ReplicationError::Unavailable)
    }
}

async fn write_batches(log: IntentLog, mut queue: mpsc::UnboundedReceiver<Write>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        let slot = slots.clone().acquire_owned().await.expect("never closed");
        let mut batch = vec![first];
        while batch.len() < OPS_MAX {
            match queue.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        let log = log.clone();
        tokio::spawn(async move {
            write_batch(&log, batch).await;
            drop(slot);
        });
    }
}

async fn write_batch(log: &IntentLog, batch: Vec<Write>) {
    let mut records = Vec::new();
    let mut removes = Vec::new();
    for write in batch {
        match write {
            Write::Record { id, text, done } => records.push((id, text, done)),
            Write::Remove { id, done } => removes.push((id, done)),
        }
    }
    let texts: Vec<(String, String)> = records
        .iter()
        .map(|(i, t, _)| (i.clone(), t.clone()))
        .collect();
    let ids: Vec<String> = removes.iter().map(|(i, _)| i.clone()).collect();
    let written = log
        .write_many(&texts, &ids)
        .await
        .map_err(|e| e.to_string());
    for (_, done) in removes {
        let _ = done.send(written.as_ref().map(drop).map_err(Clone::clone));
    }
    for (id, text, done) in records {
        let answer = match &written {
            Ok(true) => Ok(Recorded::New),
            Ok(false) => log.record(&id, &text).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        let _ = done.send(answer);
    }
}
