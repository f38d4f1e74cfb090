//! The dispatcher: a tokio task that takes due notifications from the payment store's outbox
//! (through `Readers`), claims them and sends them concurrently — at most
//! `connections_per_merchant` at once per merchant, so one slow merchant delays nobody else —
//! and records every attempt through the caller's `Writer<S>` (its jobs never touch `S`).
//! All it knows is in the table, so a restarted dispatcher carries on where one stopped.
//!
//! `looper.rs` is the loop (look, claim, start, wait); `merchants.rs` each merchant's
//! connections and its queue of claimed notifications; `send.rs` one attempt and its record.
//!
//! *Invariants: one dispatcher per store; per order, the next notification waits for the
//! previous one to be delivered or dead (`due` returns only the lowest pending of an order,
//! and a claimed one stays pending); an attempt is recorded at most once.*

mod looper;
mod merchants;
mod send;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use paycore_payment_store::{Readers, Writer};
use tokio::sync::Notify;

use crate::metrics::{Metrics, MetricsSnapshot};
use crate::schedule::Schedule;
use crate::NotifyError;

/// How the dispatcher works; `Default` is what the server uses without flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatcherConfig {
    /// `--notify-schedule`.
    pub schedule: Schedule,
    /// `--notify-timeout-ms`: bounds one attempt.
    pub timeout: Duration,
    /// `--notify-allow-cidr`: ranges opened despite the SSRF rules (default none).
    pub allow: Vec<IpNet>,
    /// Attempts in flight per merchant at most.
    pub connections_per_merchant: usize,
    /// Attempts in flight in all at most.
    pub in_flight_max: usize,
    /// Due notifications read per look.
    pub page_size: u64,
    /// Looks at least this often even without a wake (a notification inserted without
    /// `wake`, another process's retry).
    pub idle_poll: Duration,
    /// How often the queue gauges are refreshed.
    pub stats_every: Duration,
    /// A claim lasts the timeouts of the attempts that may go before it (a merchant's
    /// queue: 4 per connection) plus this (time to record the attempt); a dispatcher that
    /// died mid-attempt leaves its claims to lapse, and the notifications go again.
    pub claim_margin: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            schedule: Schedule::default(),
            timeout: Duration::from_millis(5_000),
            allow: Vec::new(),
            connections_per_merchant: 4,
            in_flight_max: 512,
            page_size: 256,
            idle_poll: Duration::from_secs(1),
            stats_every: Duration::from_secs(1),
            claim_margin: Duration::from_secs(30),
        }
    }
}

impl DispatcherConfig {
    fn check(&self) -> Result<(), NotifyError> {
        let bad = |what: &str| Err(NotifyError::Config(what.to_owned()));
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(600) {
            return bad("the timeout is above zero and at most 10 minutes");
        }
        if self.connections_per_merchant == 0 || self.connections_per_merchant > 1_024 {
            return bad("connections per merchant: 1 to 1024");
        }
        let busy_max = paycore_payment_store::repo::notifications::EXCLUDED_MAX;
        if self.in_flight_max == 0 || self.in_flight_max > busy_max * self.connections_per_merchant
        {
            // A look leaves out at most that many busy merchants.
            return bad("in flight at most: 1 to 128 × connections per merchant");
        }
        let page_max = paycore_payment_store::repo::notifications::PAGE_MAX;
        if self.page_size == 0 || self.page_size > page_max {
            return bad("page size: 1 to 1000");
        }
        if self.idle_poll.is_zero() || self.stats_every.is_zero() {
            return bad("the idle poll and stats intervals are above zero");
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Shared {
    wake: Notify,
    stopping: AtomicBool,
    metrics: Metrics,
}

/// Wakes a dispatcher from anywhere (cheap to clone).
#[derive(Clone, Debug)]
pub struct Waker(Arc<Shared>);

impl Waker {
    /// Makes the dispatcher look now (call after committing a notification or a retry).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }
}

/// A running dispatcher. `stop` it to let attempts in flight be recorded; dropping it stops
/// it without waiting.
pub struct Dispatcher {
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Dispatcher {
    /// Starts the dispatcher on the current tokio runtime.
    pub fn start<S: Send + 'static>(
        config: DispatcherConfig,
        readers: Readers,
        writer: Arc<Writer<S>>,
    ) -> Result<Dispatcher, NotifyError> {
        config.check()?;
        let shared = Arc::new(Shared::default());
        let looper = looper::Looper::new(config, readers, writer, Arc::clone(&shared))?;
        let task = tokio::spawn(looper.run());
        Ok(Dispatcher {
            shared,
            task: Some(task),
        })
    }

    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    pub fn waker(&self) -> Waker {
        Waker(Arc::clone(&self.shared))
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.metrics.snapshot(crate::now_ms())
    }

    /// Stops looking for work and waits until every attempt in flight has been recorded.
    pub async fn stop(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::error!(%error, "the notification dispatcher failed");
            }
        }
    }

    fn signal_stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.signal_stop();
    }
}
