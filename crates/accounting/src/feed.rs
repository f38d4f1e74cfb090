//! The accounting feed: a thread that follows the committed ledger log with a replica (the
//! original vouchers, 原始凭证), turns transactions into vouchers by the posting rules, and
//! acknowledges what it posted by storing its log position in the same transaction. On any
//! failure it starts over from the stored position, so nothing is posted twice or skipped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use paycore_engine::{DurableSequence, Follower, FollowerThread};
use tracing::{info, warn};

use crate::db::Db;
use crate::posting::{FeedBatch, FeedBuilder};
use crate::{now_nanos, AccountingError, Books};

/// Vouchers (and exceptions) per transaction at most.
const FLUSH_VOUCHERS_MAX: usize = 50_000;
const IDLE_POLL: Duration = Duration::from_millis(5);
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(1);

/// Where the feed stands, for `/metrics` and `/v1/accounting/status`.
#[derive(Debug, Default)]
pub struct FeedStatus {
    /// Shared with the engine's retention, which keeps every segment the feed still needs.
    pub applied_sequence: Arc<AtomicU64>,
    pub applied_timestamp: AtomicU64,
    pub vouchers: AtomicU64,
    pub exceptions: AtomicU64,
    pub transactions: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

pub struct Feed {
    status: Arc<FeedStatus>,
    thread: FollowerThread,
}

impl Feed {
    /// Starts following the log in `data_dir` from the books' stored position.
    pub fn start(data_dir: PathBuf, books: Arc<Books>, durable: DurableSequence) -> Feed {
        let status = books.status().clone();
        let thread = FollowerThread::spawn(
            "paycore-accounting",
            status.applied_sequence.clone(),
            move |stop| run(&data_dir, &books, &durable, stop),
        );
        Feed { status, thread }
    }

    pub fn status(&self) -> &Arc<FeedStatus> {
        &self.status
    }

    /// Waits until the books include batch `sequence`; false on timeout.
    pub fn wait_for(&self, sequence: u64, timeout: Duration) -> bool {
        self.thread.wait_for(sequence, timeout)
    }

    /// Finishes the transaction in progress and stops.
    pub fn stop(&mut self) {
        self.thread.stop();
    }
}

fn run(data_dir: &std::path::Path, books: &Books, durable: &DurableSequence, stop: &AtomicBool) {
    while !stop.load(Relaxed) {
        match follow(data_dir, books, durable, stop) {
            Ok(()) => return,
            Err(error) => {
                warn!(%error, "accounting feed failed; starting over from its stored position");
                *books.status().last_error.lock() = Some(error.to_string());
                std::thread::sleep(RETRY_AFTER_ERROR);
            }
        }
    }
}

/// Two stages, so replaying and mapping overlaps writing: a builder thread follows the log and
/// hands finished batches over a one-slot channel; this thread writes them. If either stage
/// fails, both stop and the caller starts over from the stored position.
fn follow(
    data_dir: &std::path::Path,
    books: &Books,
    durable: &DurableSequence,
    stop: &AtomicBool,
) -> Result<(), AccountingError> {
    let status = books.status();
    let mut db = books.open_writer()?;
    let start = db.position()?.map_or(0, |p| p.sequence);
    status.applied_sequence.store(start, Relaxed);
    let follower = Follower::open(data_dir, start)?;
    info!(from_batch = start, "accounting feed following the log");
    let (sender, receiver) = sync_channel::<Result<FeedBatch, AccountingError>>(0);
    let writer_failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("paycore-acct-build".into())
            .spawn_scoped(scope, || {
                build(follower, books, durable, &sender, stop, &writer_failed);
                drop(sender);
            })
            .expect("spawning the accounting builder");
        let written = write(&mut db, &receiver, status);
        if written.is_err() {
            writer_failed.store(true, Relaxed);
        }
        drop(receiver);
        written
    })
}

/// The builder stage: follows the durable log and sends a batch of vouchers whenever it has
/// some and the writer is ready (or the batch is full).
fn build(
    mut follower: Follower,
    books: &Books,
    durable: &DurableSequence,
    sender: &SyncSender<Result<FeedBatch, AccountingError>>,
    stop: &AtomicBool,
    writer_failed: &AtomicBool,
) {
    let mut builder = FeedBuilder::new(follower.ledger().accounting_date());
    while !stop.load(Relaxed) && !writer_failed.load(Relaxed) {
        let durable = durable();
        let config = books.config();
        while builder.pending_vouchers() < FLUSH_VOUCHERS_MAX {
            match follower.next(durable) {
                Ok(Some(batch)) => builder.add(&batch, &config),
                Ok(None) => break,
                Err(error) => {
                    let _ = sender.send(Err(error.into()));
                    return;
                }
            }
        }
        if builder.pending_batches() == 0 {
            std::thread::sleep(IDLE_POLL);
            continue;
        }
        if sender.send(Ok(builder.finish())).is_err() {
            return;
        }
    }
}

/// The writer stage: one transaction per batch (vouchers, exceptions, sub-ledger movements and
/// the position together), until the builder stops.
fn write(
    db: &mut Db,
    receiver: &Receiver<Result<FeedBatch, AccountingError>>,
    status: &FeedStatus,
) -> Result<(), AccountingError> {
    for batch in receiver {
        let batch = batch?;
        let (sequence, timestamp) = (batch.last_sequence, batch.last_timestamp);
        let (vouchers, exceptions) = (batch.vouchers.len(), batch.exceptions.len());
        db.apply_feed(batch, now_nanos())?;
        status.applied_sequence.store(sequence, Relaxed);
        status.applied_timestamp.store(timestamp, Relaxed);
        status.vouchers.fetch_add(vouchers as u64, Relaxed);
        status.exceptions.fetch_add(exceptions as u64, Relaxed);
        status.transactions.fetch_add(1, Relaxed);
        *status.last_error.lock() = None;
    }
    Ok(())
}
