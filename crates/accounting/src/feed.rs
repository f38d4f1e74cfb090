//! The accounting feed: a thread that follows the committed ledger log with a replica (the
//! original vouchers, 原始凭证), turns transactions into vouchers by the posting rules, and
//! acknowledges what it posted by storing its log position in the same transaction. On any
//! failure it starts over from the stored position, so nothing is posted twice or skipped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use paycore_engine::{
    follow_in_two_stages, retry_until_stopped, Accumulate, DurableSequence, FollowedBatch,
    Follower, FollowerThread, Pace,
};
use paycore_ledger::Ledger;
use tracing::info;

use crate::db::Db;
use crate::posting::{FeedBatch, FeedBuilder};
use crate::{now_nanos, AccountingError, Books};

/// Vouchers (and exceptions) per transaction at most.
const FLUSH_VOUCHERS_MAX: usize = 50_000;
/// Polls every 5 ms when caught up, and commits at most every 100 ms under a steady stream
/// (as the query store's projector, for the same reason: docs/http.md).
const PACE: Pace = Pace {
    idle: Duration::from_millis(5),
    min_interval: Duration::from_millis(100),
};

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
    retry_until_stopped(
        stop,
        "accounting feed",
        || follow(data_dir, books, durable, stop),
        |error| *books.status().last_error.lock() = Some(error),
    );
}

/// Maps the log into vouchers while the previous batch of them is written, each batch in one
/// transaction together with its log position.
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
    let stage = Mapping {
        builder: FeedBuilder::new(follower.ledger().accounting_date()),
        books,
    };
    follow_in_two_stages(
        "paycore-acct-build",
        follower,
        stage,
        durable,
        stop,
        PACE,
        |batch: FeedBatch| write(&mut db, batch, status),
    )
}

/// The builder stage's accumulator: batches mapped with the chart and rules in force.
struct Mapping<'a> {
    builder: FeedBuilder,
    books: &'a Books,
}

impl Accumulate for Mapping<'_> {
    type Output = FeedBatch;

    fn add(&mut self, batch: &FollowedBatch<'_>) {
        self.builder.add(batch, &self.books.config());
    }

    fn is_full(&self) -> bool {
        self.builder.pending_vouchers() >= FLUSH_VOUCHERS_MAX
    }

    fn is_empty(&self) -> bool {
        self.builder.pending_batches() == 0
    }

    fn finish(&mut self, _: &Ledger) -> FeedBatch {
        self.builder.finish()
    }
}

/// One transaction for one batch (vouchers, exceptions, sub-ledger movements and the
/// position together), then the status.
fn write(db: &mut Db, batch: FeedBatch, status: &FeedStatus) -> Result<(), AccountingError> {
    let (sequence, timestamp) = (batch.last_sequence, batch.last_timestamp);
    let (vouchers, exceptions) = (batch.vouchers.len(), batch.exceptions.len());
    db.apply_feed(batch, now_nanos())?;
    status.applied_sequence.store(sequence, Relaxed);
    status.applied_timestamp.store(timestamp, Relaxed);
    status.vouchers.fetch_add(vouchers as u64, Relaxed);
    status.exceptions.fetch_add(exceptions as u64, Relaxed);
    status.transactions.fetch_add(1, Relaxed);
    *status.last_error.lock() = None;
    Ok(())
}
