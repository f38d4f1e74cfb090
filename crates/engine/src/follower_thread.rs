//! The plumbing every log follower (the query-store projector, the accounting feed) shares:
//! `FollowerThread` — a named thread, a stop flag it polls, and the last batch sequence it has
//! made permanent, which callers wait on — and `follow_in_two_stages`, the loop that replays the
//! log on a builder thread while the previous output is written, starting over after failures.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use paycore_ledger::Ledger;
use tracing::warn;

use crate::{EngineError, FollowedBatch, Follower};

/// At most this many batches count as a lone write, handed over as soon as the log pauses.
const LONE_BATCHES_MAX: usize = 16;
/// How long a failed follower waits before starting over from its stored position.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(1);

/// The engine's durable batch sequence, polled by followers.
pub type DurableSequence = Arc<dyn Fn() -> u64 + Send + Sync>;

pub struct FollowerThread {
    applied: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FollowerThread {
    /// Runs `body(stop)` on a thread called `name`; `body` publishes its progress in `applied`
    /// and returns once `stop` is set.
    pub fn spawn(
        name: &str,
        applied: Arc<AtomicU64>,
        body: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> FollowerThread {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || body(&stop))
                .expect("spawning a follower thread")
        };
        FollowerThread {
            applied,
            stop,
            thread: Some(thread),
        }
    }

    /// Waits until batch `sequence` is applied; false on timeout.
    pub fn wait_for(&self, sequence: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.applied.load(Relaxed) < sequence {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// Asks the thread to finish what it is writing, and waits for it.
    pub fn stop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for FollowerThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a follower gathers from followed batches between two writes.
pub trait Accumulate: Send {
    type Output: Send;
    /// Adds one followed batch.
    fn add(&mut self, batch: &FollowedBatch<'_>);
    /// Enough is pending to hand over without reading further batches.
    fn is_full(&self) -> bool;
    /// No batch is pending.
    fn is_empty(&self) -> bool;
    /// Enough is pending to hand over to a writer that waits, though more could follow at once
    /// (a writer's transaction has a cost of its own: the smaller, the more of them).
    fn is_worth_handing_over(&self) -> bool {
        !self.is_empty()
    }
    /// Hands over what is pending and starts empty again; `ledger` is the replica after the
    /// last batch added.
    fn finish(&mut self, ledger: &Ledger) -> Self::Output;
}

/// Runs `attempt` until `stop` is set: after a failure it reports the error to `on_error`,
/// waits and starts over (an attempt resumes from what its store says it has written).
pub fn retry_until_stopped<E: Display>(
    stop: &AtomicBool,
    what: &str,
    mut attempt: impl FnMut() -> Result<(), E>,
    on_error: impl Fn(String),
) {
    while !stop.load(Relaxed) {
        match attempt() {
            Ok(()) => return,
            Err(error) => {
                warn!(%error, "{what} failed; starting over from its stored position");
                on_error(error.to_string());
                std::thread::sleep(RETRY_AFTER_ERROR);
            }
        }
    }
}

/// How a follower paces itself once it has caught up with the log.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// How long to sleep when the log has nothing new.
    pub idle: Duration,
    /// The least time between two hand-overs while the log keeps growing: under a steady
    /// stream of small batches a follower gathers them into one transaction per interval
    /// instead of committing (and checkpointing, and rewriting the same pages) after each
    /// few, which measured as more CPU and I/O than the requests themselves. As soon as a
    /// poll finds nothing new it hands over what it holds, so a lone write is not delayed.
    pub min_interval: Duration,
}

/// Two stages, so replaying and building overlaps writing: a builder thread (`name`) follows
/// the durable log from `follower`'s position into `acc` and hands each finished output over a
/// rendezvous channel; this thread writes it with `write`. Paces itself by `pace` once caught
/// up. Returns once `stop` is set (handing over what it holds first); if either stage fails,
/// both stop and the first error is returned.
///
/// An output is handed over when the accumulator is full, when the log has nothing more, or
/// while the writer waits as soon as it is worth it (`Accumulate::is_worth_handing_over`): so
/// a follower far behind (a restart, a benchmark) starts writing after a fraction of a full
/// output instead of idling the writer while it builds one, and the outputs grow to full size
/// while the writer is busy.
pub fn follow_in_two_stages<A: Accumulate, E: From<EngineError> + Send>(
    name: &str,
    follower: Follower,
    acc: A,
    durable: &DurableSequence,
    stop: &AtomicBool,
    pace: Pace,
    mut write: impl FnMut(A::Output) -> Result<(), E>,
) -> Result<(), E> {
    let (sender, receiver) = sync_channel::<Result<A::Output, E>>(0);
    let writer_failed = AtomicBool::new(false);
    let writer_waits = AtomicBool::new(false);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn_scoped(scope, || {
                let stopped = || stop.load(Relaxed) || writer_failed.load(Relaxed);
                let handover = Handover {
                    sender: &sender,
                    writer_waits: &writer_waits,
                };
                build(follower, acc, durable, handover, stopped, pace);
                drop(sender);
            })
            .expect("spawning a follower's builder");
        let written = write_all(&receiver, &writer_waits, &mut write);
        if written.is_err() {
            writer_failed.store(true, Relaxed);
        }
        drop(receiver);
        written
    })
}

/// The builder's end of the channel, and whether the writer is waiting on it.
struct Handover<'a, T, E> {
    sender: &'a SyncSender<Result<T, E>>,
    writer_waits: &'a AtomicBool,
}

/// The builder stage: follows the durable log and sends an output when the accumulator is
/// full; when the log brought nothing new for a whole `pace.idle` and it holds only a few
/// batches (a lone write is not held back; a stream whose log fsync stalled for a moment is
/// not cut into small transactions, whose I/O would stall the next fsync); or, under a steady
/// stream, once `pace.min_interval` has passed since the last hand-over, when it is worth
/// handing over and the writer waits or when it has caught up.
fn build<A: Accumulate, E: From<EngineError>>(
    mut follower: Follower,
    mut acc: A,
    durable: &DurableSequence,
    handover: Handover<'_, A::Output, E>,
    stopped: impl Fn() -> bool,
    pace: Pace,
) {
    let mut last_handover: Option<Instant> = None;
    let mut pending = 0usize;
    loop {
        let stopping = stopped();
        if stopping && acc.is_empty() {
            return;
        }
        let paced = || stopping || last_handover.is_none_or(|at| at.elapsed() >= pace.min_interval);
        let due = |acc: &A| {
            acc.is_full()
                || (acc.is_worth_handing_over() && handover.writer_waits.load(Relaxed) && paced())
        };
        let durable = durable();
        let mut quiet = true;
        while !stopping && !due(&acc) {
            match follower.next(durable) {
                Ok(Some(batch)) => {
                    acc.add(&batch);
                    pending += 1;
                    quiet = false;
                }
                Ok(None) => break,
                Err(error) => {
                    let _ = handover.sender.send(Err(error.into()));
                    return;
                }
            }
        }
        let lone = quiet && pending <= LONE_BATCHES_MAX;
        if acc.is_empty() || !(lone || acc.is_full() || paced()) {
            std::thread::sleep(pace.idle);
            continue;
        }
        last_handover = Some(Instant::now());
        pending = 0;
        if handover
            .sender
            .send(Ok(acc.finish(follower.ledger())))
            .is_err()
        {
            return;
        }
    }
}

/// The writer stage: writes every output until the builder stops, flagging while it waits
/// for the next one.
fn write_all<T, E>(
    receiver: &Receiver<Result<T, E>>,
    writer_waits: &AtomicBool,
    write: &mut impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    loop {
        writer_waits.store(true, Relaxed);
        let Ok(output) = receiver.recv() else {
            return Ok(());
        };
        writer_waits.store(false, Relaxed);
        write(output?)?;
    }
}
