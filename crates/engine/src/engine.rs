//! `Engine`: the durable ledger. Callers submit commands from any thread or task; one writer
//! thread makes batches durable, one applier thread owns the state machine. See the module
//! docs of `writer_thread` and `applier_thread` for each side.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use parking_lot::{Mutex, RwLock};
use paycore_ledger::{Command, IdHasher, Ledger, Outcome};
use tokio::sync::{mpsc, oneshot};

use crate::log::tail::LogTail;
use crate::log::writer::LogWriter;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::recovery::{self, RecoveryReport};
use crate::{
    applier_thread, codec, writer_thread, EngineConfig, EngineError, ReplicatedBatch,
    ReplicatorHandle,
};

/// The answer to one request: one outcome per command, in order.
pub type Reply = Result<Vec<Outcome>, EngineError>;

pub(crate) struct Request {
    pub commands: Vec<Command>,
    pub reply: oneshot::Sender<Reply>,
    /// A standby's batch from the shard's log: its sequence and timestamp, kept as they are.
    pub replicated: Option<(u64, u64)>,
}

/// State shared by the engine's threads and its callers.
pub(crate) struct Shared {
    pub ledger: RwLock<Ledger>,
    pub metrics: Metrics,
    pub config: EngineConfig,
    /// First batch sequence of each log segment holding records (for retention).
    pub segments: Mutex<Vec<(u64, u64)>>,
    /// Set once, by the writer, when a failed log write or fsync stopped it: why.
    pub stopped: OnceLock<String>,
    /// Where batches are replicated: the configuration's, or a promoted standby's.
    pub replicator: Mutex<Option<ReplicatorHandle>>,
    /// A standby refuses clients' commands until promoted.
    pub standby: AtomicBool,
    /// The shard's leader as last seen (a standby's, or a deposed leader's), for `NotLeader`.
    pub leader: Mutex<Option<String>>,
    /// Set when the replicator said another node leads the shard: the writer stopped for that.
    pub deposed: AtomicBool,
}

impl Shared {
    /// Marks the engine stopped for good (the first reason is kept).
    pub fn stop(&self, reason: String) {
        let _ = self.stopped.set(reason);
    }

    pub fn not_leader(&self) -> EngineError {
        EngineError::NotLeader {
            leader: self.leader.lock().clone(),
        }
    }

    /// `EngineError::NotLeader` on a standby or a deposed leader; `EngineError::Stopped` once
    /// the writer has stopped for any other reason.
    pub fn check_running(&self) -> Result<(), EngineError> {
        if self.deposed.load(SeqCst) {
            return Err(self.not_leader());
        }
        match self.stopped.get() {
            Some(reason) => Err(EngineError::Stopped {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }
}

pub struct Engine {
    shared: Arc<Shared>,
    hasher: IdHasher,
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    report: RecoveryReport,
    _lock: DataDirLock,
}

impl Engine {
    /// Opens (creating if needed) the data directory, recovers the state and starts the
    /// writer, applier and snapshot threads.
    pub fn open(config: EngineConfig) -> Result<Engine, EngineError> {
        for dir in [
            config.data_dir.clone(),
            config.log_dir(),
            config.snapshot_dir(),
        ] {
            std::fs::create_dir_all(&dir)
                .map_err(EngineError::io("creating data directory", &dir))?;
        }
        let lock = lock_data_dir(&config.data_dir)?;
        let recovered = recovery::recover(&config)?;
        let log_dir = config.log_dir();
        let log = LogWriter::open(
            &log_dir,
            config.segment_bytes,
            recovered.tail,
            config.faults.clone(),
        )
        .map_err(EngineError::io("opening the log for appending", &log_dir))?;
        let hasher = *recovered.ledger.hasher();
        let last_timestamp = recovered.ledger.last_timestamp();
        let metrics = Metrics::default();
        let sequence = recovered.tail.next_sequence - 1;
        metrics.durable_sequence.store(sequence, Relaxed);
        metrics.applied_sequence.store(sequence, Relaxed);
        metrics
            .recovery_nanos
            .store(recovered.report.elapsed.as_nanos() as u64, Relaxed);
        metrics
            .recovered_batches
            .store(recovered.report.replayed_batches, Relaxed);
        if let Some((_, snapshot_sequence)) = &recovered.report.snapshot {
            metrics.snapshot_sequence.store(*snapshot_sequence, Relaxed);
        }
        let shared = Arc::new(Shared {
            ledger: RwLock::new(recovered.ledger),
            metrics,
            segments: Mutex::new(recovered.segment_first_sequences),
            stopped: OnceLock::new(),
            replicator: Mutex::new(config.replicator.clone()),
            standby: AtomicBool::new(config.standby),
            leader: Mutex::new(None),
            deposed: AtomicBool::new(false),
            config,
        });
        let (request_tx, request_rx) = mpsc::channel(shared.config.queue_requests_max);
        let threads = applier_thread::spawn(shared.clone(), |durable, recycled| {
            writer_thread::spawn(
                shared.clone(),
                request_rx,
                log,
                durable,
                recycled,
                last_timestamp,
            )
        });
        Ok(Engine {
            shared,
            hasher,
            requests: Mutex::new(Some(request_tx)),
            threads: Mutex::new(threads),
            report: recovered.report,
            _lock: lock,
        })
    }

    /// The hasher commands for this engine's ledger must be built with.
    pub fn hasher(&self) -> IdHasher {
        self.hasher
    }

    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Whether the engine still accepts commands: `EngineError::Stopped` (with the failure)
    /// once a failed log write or fsync stopped it. Only a restart brings it back.
    pub fn health(&self) -> Result<(), EngineError> {
        self.shared.check_running()
    }

    /// Submits commands and waits (asynchronously) until they are durable and applied.
    pub async fn submit(&self, commands: Vec<Command>) -> Reply {
        self.check_leading()?;
        let Some((request, reply)) = self.request(commands)? else {
            return Ok(Vec::new());
        };
        let sender = self.sender()?;
        self.shared.metrics.queue_depth.fetch_add(1, Relaxed);
        if sender.send(request).await.is_err() {
            self.shared.metrics.queue_depth.fetch_sub(1, Relaxed);
            return Err(EngineError::ShuttingDown);
        }
        reply.await.map_err(|_| EngineError::ShuttingDown)?
    }

    /// Like `submit`, for plain threads. Must not be called from inside an async runtime.
    pub fn submit_blocking(&self, commands: Vec<Command>) -> Reply {
        self.check_leading()?;
        let Some((request, reply)) = self.request(commands)? else {
            return Ok(Vec::new());
        };
        self.send_blocking(request, reply)
    }

    fn check_leading(&self) -> Result<(), EngineError> {
        self.shared.check_running()?;
        if self.shared.standby.load(SeqCst) {
            return Err(self.shared.not_leader());
        }
        Ok(())
    }

    /// Whether this engine is a standby (not yet promoted).
    pub fn is_standby(&self) -> bool {
        self.shared.standby.load(SeqCst)
    }

    /// Records who leads the shard, for the `NotLeader` answers of a standby.
    pub fn set_leader(&self, leader: Option<String>) {
        *self.shared.leader.lock() = leader;
    }

    /// A standby's: appends one batch of the shard's log to the local log, exactly as the
    /// leader made it (sequence, timestamp, commands), and applies it. The same log gives the
    /// same state, so the standby's ledger is the leader's as of that batch.
    pub fn submit_replicated_blocking(
        &self,
        batch: &ReplicatedBatch<'_>,
    ) -> Result<(), EngineError> {
        self.shared.check_running()?;
        if !self.shared.standby.load(SeqCst) {
            return Err(EngineError::OutOfStep(
                "only a standby takes the shard's batches".into(),
            ));
        }
        let mut commands = Vec::new();
        codec::decode_batch(
            batch.body,
            batch.count,
            self.shared.config.batch_commands_max,
            self.hasher,
            &mut commands,
        )
        .map_err(|e| EngineError::OutOfStep(format!("batch {}: {e}", batch.sequence)))?;
        let (reply_tx, reply_rx) = oneshot::channel();
        let request = Request {
            commands,
            reply: reply_tx,
            replicated: Some((batch.sequence, batch.timestamp)),
        };
        self.send_blocking(request, reply_rx).map(|_| ())
    }

    /// Makes a standby the shard's leader: from now on every batch goes through `replicator`
    /// before it is acknowledged, and clients' commands are taken. Batches handed over before
    /// are written first (one queue).
    pub fn promote(&self, replicator: ReplicatorHandle) {
        *self.shared.replicator.lock() = Some(replicator);
        *self.shared.leader.lock() = None;
        self.shared.standby.store(false, SeqCst);
    }

    /// Batch `sequence` of the local log as the shard stores it (None: not in the log).
    pub fn local_batch(&self, sequence: u64) -> Result<Option<Vec<u8>>, EngineError> {
        let config = &self.shared.config;
        let durable = self.shared.metrics.durable_sequence.load(Relaxed);
        if sequence == 0 || sequence > durable {
            return Ok(None);
        }
        let dirs = vec![config.log_dir(), config.archive_dir()];
        let mut tail = LogTail::open(dirs, sequence, None, config.body_bytes_max())?;
        let Some((header, body)) = tail.next(durable)? else {
            return Ok(None);
        };
        Ok(Some(
            ReplicatedBatch {
                sequence,
                timestamp: header.timestamp,
                count: header.command_count,
                body,
            }
            .encode(),
        ))
    }

    fn send_blocking(&self, request: Request, reply: oneshot::Receiver<Reply>) -> Reply {
        let sender = self.sender()?;
        self.shared.metrics.queue_depth.fetch_add(1, Relaxed);
        if sender.blocking_send(request).is_err() {
            self.shared.metrics.queue_depth.fetch_sub(1, Relaxed);
            return Err(EngineError::ShuttingDown);
        }
        reply
            .blocking_recv()
            .map_err(|_| EngineError::ShuttingDown)?
    }

    fn request(
        &self,
        commands: Vec<Command>,
    ) -> Result<Option<(Request, oneshot::Receiver<Reply>)>, EngineError> {
        let max = self.shared.config.batch_commands_max;
        if commands.len() > max {
            return Err(EngineError::RequestTooLarge {
                count: commands.len(),
                max,
            });
        }
        if commands.is_empty() {
            return Ok(None);
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        Ok(Some((
            Request {
                commands,
                reply: reply_tx,
                replicated: None,
            },
            reply_rx,
        )))
    }

    fn sender(&self) -> Result<mpsc::Sender<Request>, EngineError> {
        self.requests
            .lock()
            .clone()
            .ok_or(EngineError::ShuttingDown)
    }

    /// Runs `read` on the state as of the last applied batch. Waits at most for the batch
    /// being applied (milliseconds), never for a log write. Inside `read`,
    /// `metrics().applied_sequence` is exactly the batch the state includes.
    pub fn read<R>(&self, read: impl FnOnce(&Ledger) -> R) -> R {
        read(&self.shared.ledger.read())
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.metrics.snapshot()
    }

    /// Stops accepting requests, finishes every batch already queued, writes a final snapshot
    /// and stops the threads. Safe to call more than once.
    pub fn shutdown(&self) {
        drop(self.requests.lock().take());
        let threads = std::mem::take(&mut *self.threads.lock());
        for thread in threads {
            if thread.join().is_err() {
                tracing::error!("an engine thread panicked during shutdown");
            }
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The exclusive lock on a data directory (`DIR/LOCK`), released when dropped. An open
/// `Engine` holds it for its whole life.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Takes a data directory's lock without waiting: one process per data directory, as a second
/// would write the same log — and offline tools (`paycore keys reset-admin`) take it so they
/// never change files under a running server. `EngineError::Locked` if another holds it.
pub fn lock_data_dir(dir: &Path) -> Result<DataDirLock, EngineError> {
    let path = dir.join("LOCK");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(EngineError::io("opening the lock file", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(EngineError::Locked {
            path: dir.to_owned(),
        }),
        Err(TryLockError::Error(source)) => Err(EngineError::Io {
            context: "locking the data directory",
            path,
            source,
        }),
    }
}

/// `Ok` if `dir` is an engine's data directory (it has valid `engine.meta`); never creates
/// anything.
pub fn check_data_dir(dir: &Path) -> Result<(), EngineError> {
    crate::meta::load(dir).map(|_| ())
}
