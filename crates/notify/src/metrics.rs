//! What the dispatcher counts, for `/metrics`: attempts, deliveries, failures by reason,
//! notifications gone dead, the queue's depth and the age of its oldest notification.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::deliver::Reason;

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    attempts: AtomicU64,
    delivered: AtomicU64,
    dead: AtomicU64,
    stale_records: AtomicU64,
    failures: [AtomicU64; Reason::ALL.len()],
    in_flight: AtomicU64,
    pending: AtomicU64,
    /// 0: nothing pending.
    oldest_pending_created_at: AtomicU64,
}

impl Metrics {
    pub fn attempt(&self, reason: Option<Reason>) {
        self.attempts.fetch_add(1, Relaxed);
        match reason {
            None => self.delivered.fetch_add(1, Relaxed),
            Some(r) => self.failures[r.index()].fetch_add(1, Relaxed),
        };
    }

    pub fn dead(&self) {
        self.dead.fetch_add(1, Relaxed);
    }

    pub fn stale_record(&self) {
        self.stale_records.fetch_add(1, Relaxed);
    }

    pub fn in_flight(&self, count: u64) {
        self.in_flight.store(count, Relaxed);
    }

    pub fn queue(&self, pending: u64, oldest_created_at: Option<u64>) {
        self.pending.store(pending, Relaxed);
        self.oldest_pending_created_at
            .store(oldest_created_at.unwrap_or(0), Relaxed);
    }

    pub fn snapshot(&self, now_ms: u64) -> MetricsSnapshot {
        let oldest = self.oldest_pending_created_at.load(Relaxed);
        MetricsSnapshot {
            attempts: self.attempts.load(Relaxed),
            delivered: self.delivered.load(Relaxed),
            dead: self.dead.load(Relaxed),
            stale_records: self.stale_records.load(Relaxed),
            failures: Reason::ALL
                .iter()
                .map(|r| (r.code(), self.failures[r.index()].load(Relaxed)))
                .collect(),
            in_flight: self.in_flight.load(Relaxed),
            pending: self.pending.load(Relaxed),
            oldest_pending_age_ms: if oldest == 0 {
                0
            } else {
                now_ms.saturating_sub(oldest)
            },
        }
    }
}

/// The dispatcher's counters (since it started) and queue gauges (as of its last look, at
/// most `DispatcherConfig::stats_every` old).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    pub attempts: u64,
    /// Attempts the merchant acknowledged.
    pub delivered: u64,
    /// Notifications whose schedule ran out.
    pub dead: u64,
    /// Attempts not recorded because another record came first (should stay 0).
    pub stale_records: u64,
    /// Failed attempts per reason code.
    pub failures: Vec<(&'static str, u64)>,
    /// Attempts being made now.
    pub in_flight: u64,
    /// Pending notifications (the queue's depth).
    pub pending: u64,
    /// Age of the oldest pending notification, 0 when none.
    pub oldest_pending_age_ms: u64,
}

impl MetricsSnapshot {
    /// Failed attempts with this reason code.
    pub fn failures_of(&self, code: &str) -> u64 {
        self.failures
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(0, |(_, n)| *n)
    }

    /// Prometheus text format, names prefixed `paycore_notify_`.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP paycore_notify_{name} {help}\n# TYPE paycore_notify_{name} {kind}\n\
                 paycore_notify_{name} {value}\n"
            );
        };
        metric(
            "attempts_total",
            "counter",
            "Notification attempts made.",
            self.attempts,
        );
        metric(
            "delivered_total",
            "counter",
            "Notifications acknowledged.",
            self.delivered,
        );
        metric(
            "dead_total",
            "counter",
            "Notifications whose schedule ran out.",
            self.dead,
        );
        metric("in_flight", "gauge", "Attempts being made.", self.in_flight);
        metric("pending", "gauge", "Pending notifications.", self.pending);
        metric(
            "oldest_pending_age_ms",
            "gauge",
            "Age of the oldest pending notification, milliseconds.",
            self.oldest_pending_age_ms,
        );
        let _ = write!(
            out,
            "# HELP paycore_notify_failures_total Failed attempts by reason.\n\
             # TYPE paycore_notify_failures_total counter\n"
        );
        for (reason, count) in &self.failures {
            let _ = writeln!(
                out,
                "paycore_notify_failures_total{{reason=\"{reason}\"}} {count}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let m = Metrics::default();
        m.attempt(None);
        m.attempt(Some(Reason::Timeout));
        m.attempt(Some(Reason::Timeout));
        m.dead();
        m.queue(7, Some(1_000));
        let s = m.snapshot(1_500);
        assert_eq!((s.attempts, s.delivered, s.dead), (3, 1, 1));
        assert_eq!(s.failures_of("timeout"), 2);
        assert_eq!(s.failures_of("redirect"), 0);
        assert_eq!((s.pending, s.oldest_pending_age_ms), (7, 500));
        let text = s.prometheus();
        assert!(text.contains("paycore_notify_failures_total{reason=\"timeout\"} 2\n"));
        assert!(text.contains("paycore_notify_pending 7\n"));
        m.queue(0, None);
        assert_eq!(m.snapshot(9_999).oldest_pending_age_ms, 0);
    }
}
