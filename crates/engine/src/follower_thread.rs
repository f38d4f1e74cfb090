//! `FollowerThread`: the plumbing every log follower (the query-store projector, the
//! accounting feed) shares — a named thread, a stop flag it polls, and the last batch sequence
//! it has made permanent, which callers wait on.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
