//! The accounting feed: a thread that follows the committed ledger log with a replica (the
//! original vouchers, 原始凭证), turns transactions into vouchers by the posting rules, and
//! acknowledges what it posted by storing its log position in the same transaction. On any
//! failure it starts over from the stored position, so nothing is posted twice or skipped.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use paycore_engine::Follower;
use tracing::{info, warn};

use crate::posting::FeedBuilder;
use crate::{now_nanos, AccountingError, Books};

/// Vouchers (and exceptions) per transaction at most.
const FLUSH_VOUCHERS_MAX: usize = 100_000;
const IDLE_POLL: Duration = Duration::from_millis(5);
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(1);

/// The engine's durable batch sequence, polled by the feed.
pub type DurableSequence = Arc<dyn Fn() -> u64 + Send + Sync>;

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
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Feed {
    /// Starts following the log in `data_dir` from the books' stored position.
    pub fn start(data_dir: PathBuf, books: Arc<Books>, durable: DurableSequence) -> Feed {
        let status = books.status().clone();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("paycore-accounting".into())
                .spawn(move || run(&data_dir, &books, &durable, &stop))
                .expect("spawning the accounting feed")
        };
        Feed {
            status,
            stop,
            thread: Some(thread),
        }
    }

    pub fn status(&self) -> &Arc<FeedStatus> {
        &self.status
    }

    /// Waits until the books include batch `sequence`; false on timeout.
    pub fn wait_for(&self, sequence: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.status.applied_sequence.load(Relaxed) < sequence {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// Finishes the transaction in progress and stops.
    pub fn stop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.stop();
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
    let mut follower = Follower::open(data_dir, start)?;
    let mut builder = FeedBuilder::new(follower.ledger().accounting_date());
    info!(from_batch = start, "accounting feed following the log");
    while !stop.load(Relaxed) {
        let durable = durable();
        let config = books.config();
        while builder.pending_vouchers() < FLUSH_VOUCHERS_MAX {
            match follower.next(durable)? {
                Some(batch) => builder.add(&batch, &config),
                None => break,
            }
        }
        if builder.pending_batches() == 0 {
            std::thread::sleep(IDLE_POLL);
            continue;
        }
        let batch = builder.finish();
        db.apply_feed(&batch, now_nanos())?;
        status.applied_sequence.store(batch.last_sequence, Relaxed);
        status
            .applied_timestamp
            .store(batch.last_timestamp, Relaxed);
        status
            .vouchers
            .fetch_add(batch.vouchers.len() as u64, Relaxed);
        status
            .exceptions
            .fetch_add(batch.exceptions.len() as u64, Relaxed);
        status.transactions.fetch_add(1, Relaxed);
        *status.last_error.lock() = None;
    }
    Ok(())
}
