//! The projector thread: follows the durable log with a replica, turns batches into rows and
//! writes them, many batches per transaction, each transaction also recording the last batch
//! it includes. Three threads: the builder, the main part's writer and the journal's writer
//! (the two parts are written at once; the journal's commit waits for the main one's). On any
//! store error it starts over from what the store says it has, so nothing is written twice and
//! nothing is skipped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use paycore_engine::{
    follow_in_two_stages, retry_until_stopped, Accumulate, DurableSequence, EngineError,
    FollowedBatch, Follower, FollowerThread, Pace,
};
use paycore_ledger::Ledger;
use tracing::info;

use crate::backend::{JournalWriter, Store, StoreError};
use crate::projection::{Projection, ProjectionBuilder};

/// Rows (records + entries) per transaction at most. Large transactions write each touched
/// account, daily balance and day flow once for many postings (measured over 100k accounts:
/// 1M rows 62k commands/s, 262k rows 43k on SQLite); the builder works on the next one while
/// this one is written, so at most two are in memory.
const FLUSH_ROWS_MAX: usize = 1_048_576;
/// Rows worth a transaction of their own while the writers wait: a projector far behind the
/// log starts writing after an eighth of a full transaction rather than idling both writers
/// for the whole first one (about a second), without a run of tiny transactions that would
/// each rewrite the accounts they touch.
const HANDOVER_ROWS_MIN: usize = FLUSH_ROWS_MAX / 8;
/// Polls every 2 ms when caught up, and commits at most every 100 ms under a steady stream:
/// each commit rewrites every page it touches (accounts, balances, each touched account's
/// journal run), so committing per few engine batches wrote ~200 MB/s under 20k single-transfer
/// HTTP requests/s and its I/O stalled the log's fsync; at 100 ms the query store lags at most
/// about that much (docs/http.md).
const PACE: Pace = Pace {
    idle: Duration::from_millis(2),
    min_interval: Duration::from_millis(100),
};

/// Where the projection stands, for `/metrics`, `/healthz` and tests.
#[derive(Debug, Default)]
pub struct ProjectorStatus {
    /// Shared so the engine's retention can keep every segment the projection still needs.
    pub applied_sequence: Arc<AtomicU64>,
    pub applied_timestamp: AtomicU64,
    pub transactions: AtomicU64,
    pub rows: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

pub struct Projector {
    status: Arc<ProjectorStatus>,
    thread: FollowerThread,
}

impl Projector {
    /// Starts following the log in `data_dir` into `store` from wherever the store stands.
    pub fn start(data_dir: PathBuf, store: Box<dyn Store>, durable: DurableSequence) -> Projector {
        Projector::start_with(
            data_dir,
            store,
            durable,
            Arc::new(ProjectorStatus::default()),
        )
    }

    /// Like `start`, reporting into a status the caller already shares (e.g. with the engine's
    /// retention, which must keep every segment the projection still needs).
    pub fn start_with(
        data_dir: PathBuf,
        store: Box<dyn Store>,
        durable: DurableSequence,
        status: Arc<ProjectorStatus>,
    ) -> Projector {
        let thread = {
            let status = status.clone();
            FollowerThread::spawn(
                "paycore-projector",
                status.applied_sequence.clone(),
                move |stop| run(data_dir, store, durable, &status, stop),
            )
        };
        Projector { status, thread }
    }

    pub fn status(&self) -> &Arc<ProjectorStatus> {
        &self.status
    }

    /// Waits until the store includes batch `sequence`; false on timeout.
    pub fn wait_for(&self, sequence: u64, timeout: Duration) -> bool {
        self.thread.wait_for(sequence, timeout)
    }

    /// Finishes the transaction in progress and stops.
    pub fn stop(&mut self) {
        self.thread.stop();
    }
}

#[derive(Debug, thiserror::Error)]
enum ProjectError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

fn run(
    data_dir: PathBuf,
    mut store: Box<dyn Store>,
    durable: DurableSequence,
    status: &ProjectorStatus,
    stop: &AtomicBool,
) {
    retry_until_stopped(
        stop,
        "projection",
        || follow(&data_dir, store.as_mut(), &durable, status, stop),
        |error| *status.last_error.lock() = Some(error),
    );
}

/// Builds projections from the log while the previous one is written, each in two store
/// transactions (main part, then journal part) written by two threads at once, each together
/// with its last batch sequence.
fn follow(
    data_dir: &std::path::Path,
    store: &mut dyn Store,
    durable: &DurableSequence,
    status: &ProjectorStatus,
    stop: &AtomicBool,
) -> Result<(), ProjectError> {
    let applied = store.applied()?;
    let main_done = applied.as_ref().map_or(0, |a| a.sequence);
    let start = store.journal_applied()?;
    if start > main_done {
        return Err(StoreError::Invalid(format!(
            "the journal holds batches up to {start}, past the main part's {main_done}"
        ))
        .into());
    }
    status.applied_sequence.store(start, Relaxed);
    status
        .applied_timestamp
        .store(applied.as_ref().map_or(0, |a| a.timestamp), Relaxed);
    let follower = Follower::open(data_dir, start)?;
    info!(from_batch = start, main_done, "projector following the log");
    let builder = ProjectionBuilder::new(follower.ledger(), main_done)
        .with_entry_client_ids(store.stores_entry_client_ids());
    let spare = builder.spare();
    let journal = store.journal_writer()?;
    std::thread::scope(|scope| {
        let mut stage = JournalStage::spawn(scope, journal);
        follow_in_two_stages(
            "paycore-project-build",
            follower,
            builder,
            durable,
            stop,
            PACE,
            move |projection: Projection| {
                let written = stage.write(store, projection, status)?;
                if let Some(written) = written {
                    spare.put(written);
                }
                Ok(())
            },
        )
    })
}

/// The journal part's writer thread.
struct JournalStage {
    requests: SyncSender<(Arc<Projection>, Receiver<bool>)>,
    results: Receiver<Result<(), StoreError>>,
}

impl JournalStage {
    /// Runs until the stage is dropped.
    fn spawn<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        mut journal: Box<dyn JournalWriter>,
    ) -> JournalStage {
        let (requests, receive) = sync_channel::<(Arc<Projection>, Receiver<bool>)>(0);
        let (report, results) = sync_channel(1);
        std::thread::Builder::new()
            .name("paycore-project-journal".into())
            .spawn_scoped(scope, move || {
                for (projection, main_committed) in receive {
                    let mut committed = || main_committed.recv().unwrap_or(false);
                    let result = journal.apply(&projection, &mut committed);
                    // Before reporting, so the projection is the writer's alone again.
                    drop(projection);
                    if report.send(result).is_err() {
                        return;
                    }
                }
            })
            .expect("spawning the journal writer");
        JournalStage { requests, results }
    }

    /// Writes both parts of `projection` (the journal part on the stage's thread, committed
    /// after the main part), then the status; gives the projection back for reuse.
    fn write(
        &mut self,
        store: &mut dyn Store,
        projection: Projection,
        status: &ProjectorStatus,
    ) -> Result<Option<Projection>, ProjectError> {
        let projection = Arc::new(projection);
        let (main_done, main_committed) = sync_channel(1);
        let stopped = || StoreError::Invalid("the journal writer has stopped".into());
        (self.requests.send((projection.clone(), main_committed))).map_err(|_| stopped())?;
        let main = match projection.journal_only {
            true => Ok(()),
            false => store.apply_main(&projection),
        };
        let _ = main_done.send(main.is_ok());
        let journal = self.results.recv().map_err(|_| stopped())?;
        main?;
        journal?;
        status
            .applied_sequence
            .store(projection.last_sequence, Relaxed);
        status
            .applied_timestamp
            .store(projection.last_timestamp, Relaxed);
        status.transactions.fetch_add(1, Relaxed);
        status.rows.fetch_add(
            (projection.records.len() + projection.entries.len()) as u64,
            Relaxed,
        );
        *status.last_error.lock() = None;
        Ok(Arc::into_inner(projection))
    }
}

impl Accumulate for ProjectionBuilder {
    type Output = Projection;

    fn add(&mut self, batch: &FollowedBatch<'_>) {
        ProjectionBuilder::add(self, batch);
    }

    fn is_full(&self) -> bool {
        self.pending_rows() >= FLUSH_ROWS_MAX
    }

    fn is_empty(&self) -> bool {
        self.pending_batches() == 0
    }

    fn is_worth_handing_over(&self) -> bool {
        self.pending_rows() >= HANDOVER_ROWS_MIN
    }

    fn finish(&mut self, ledger: &Ledger) -> Projection {
        ProjectionBuilder::finish(self, ledger)
    }
}
