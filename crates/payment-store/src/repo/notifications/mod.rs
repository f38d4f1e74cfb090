//! Merchant notifications (异步通知): the outbox `pay_notifications` and the signing secrets
//! `pay_merchant_secrets`.
//!
//! The payment service calls `insert` inside the writer job that changes the state the event
//! reports (a trade paid, a payment refunded, a payout finished), so a notification exists
//! exactly when its change committed. The dispatcher (crate `paycore-notify`) reads `due`
//! ones, `claim`s them, sends them and `record_attempt`s each try; operators `list`, `get` and
//! `retry_now`. Everything a retry needs is in the row, so retries survive restarts.
//!
//! *Invariants: an event id names one content forever (a second insert of the same content is
//! a no-op, of other content an error); per order, only the lowest pending `order_seq` is due;
//! an attempt is recorded once (a record made against a stale attempt count is refused).*

mod attempts_json;
mod delivery;
mod outbox;
pub mod secrets;

pub use delivery::{
    claim, due, due_excluding, due_for, next_due_at, record_attempt, release, release_all_claims,
    Next, EXCLUDED_MAX,
};
pub use outbox::{get, insert, list, retry_now, stats, Filter, Inserted, Retry, Stats};

/// Longest event id, merchant id, order id and event type.
pub const ID_BYTES_MAX: usize = 128;
/// Longest notify URL (the payment domain allows 512 bytes).
pub const URL_BYTES_MAX: usize = 512;
/// Largest body.
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// Attempts kept in a row's `attempts` array (the latest; `attempt_count` counts them all).
pub const ATTEMPTS_KEPT_MAX: usize = 32;
/// Most rows one `list` or `due` call returns.
pub const PAGE_MAX: u64 = 1_000;
/// Longest reason text kept for an attempt.
pub const REASON_BYTES_MAX: usize = 256;

/// Where a notification stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Waiting for its next attempt (or being sent).
    Pending,
    /// The merchant acknowledged it.
    Delivered,
    /// Every attempt of the schedule failed; an operator may retry it.
    Dead,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Pending, Status::Delivered, Status::Dead];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Dead => "dead",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// What the payment service inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    /// Stable and chosen by the caller, e.g. `evt_<order>_<type>`.
    pub event_id: String,
    pub merchant: String,
    /// The trade, payment, refund or payout the event is about.
    pub order_id: String,
    /// `trade.paid`, `payment.refunded`, …
    pub event_type: String,
    pub url: String,
    /// The JSON text sent and signed as is.
    pub body: String,
    /// Milliseconds since the epoch; the first attempt is due then.
    pub created_at: u64,
}

/// One try at sending a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// When it was sent, milliseconds since the epoch.
    pub at: u64,
    /// The merchant's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// Why it failed (`timeout`, `http_status`, …); `None` when acknowledged.
    pub reason: Option<String>,
    pub latency_ms: u64,
}

/// A stored notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub event_id: String,
    pub merchant: String,
    pub order_id: String,
    pub order_seq: u64,
    pub event_type: String,
    pub url: String,
    pub body: String,
    pub status: Status,
    /// The latest attempts, oldest first (at most `ATTEMPTS_KEPT_MAX`).
    pub attempts: Vec<Attempt>,
    pub attempt_count: u32,
    pub next_attempt_at: Option<u64>,
    /// Being sent by a dispatcher until then.
    pub claimed_until: Option<u64>,
    pub created_at: u64,
    pub delivered_at: Option<u64>,
}

/// The columns every read selects, in the order `from_row` reads them.
macro_rules! select_notifications {
    ($($rest:literal),*) => {
        concat!(
            "SELECT event_id, merchant, order_id, order_seq, event_type, url, body, status, \
             attempts, attempt_count, next_attempt_at, claimed_until, created_at, delivered_at \
             FROM pay_notifications ",
            $($rest),*
        )
    };
}
pub(crate) use select_notifications;

fn from_row(r: &crate::Row) -> Result<Notification, crate::StoreError> {
    let status = r.text(7)?;
    let attempt_count = u32::try_from(r.uint(9)?)
        .map_err(|_| crate::StoreError::Corrupt("attempt_count above u32".into()))?;
    Ok(Notification {
        event_id: r.text(0)?,
        merchant: r.text(1)?,
        order_id: r.text(2)?,
        order_seq: r.uint(3)?,
        event_type: r.text(4)?,
        url: r.text(5)?,
        body: r.text(6)?,
        status: Status::from_name(&status)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("notification status {status:?}")))?,
        attempts: attempts_json::decode(&r.text(8)?)?,
        attempt_count,
        next_attempt_at: r.opt_uint(10)?,
        claimed_until: r.opt_uint(11)?,
        created_at: r.uint(12)?,
        delivered_at: r.opt_uint(13)?,
    })
}
