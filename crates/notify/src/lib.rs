//! Merchant notifications (异步通知): paycore tells a merchant that a trade was paid, a
//! payment refunded or a payout finished, by POSTing a signed JSON body to the order's
//! `notify_url` until the merchant answers `success`.
//!
//! The payment service writes each notification into the payment store's outbox
//! (`paycore_payment_store::repo::notifications::insert`) in the same transaction as the
//! state change; the `Dispatcher` here takes due ones, sends them and records every attempt,
//! so nothing is lost across restarts.
//!
//! - `body`: the JSON body (`event_id`, `type`, `created_at`, then the event's fields).
//! - `signature`: the `Paycore-*` headers and `verify`, what a merchant runs.
//! - `schedule`: when a failed notification is tried again (WeChat Pay v3's by default).
//! - `target`: which addresses may be called (SSRF), checked on the resolved address.
//! - `deliver`: one HTTP attempt and its outcome.
//! - `dispatcher`: the task that ties them together, and its `metrics`.
//! - `outbox`: what the payment service calls in its writer jobs (`trade_paid`,
//!   `payment_refunded`, `refund_finished`, `payout_finished`).
//!
//! *Invariants: at least once, with a stable event id (a duplicate is always the same event);
//! per order, one notification at a time and in order; the address checked is the address
//! connected to; a secret never reaches a log.*

pub mod body;
pub mod deliver;
pub mod dispatcher;
pub mod metrics;
pub mod outbox;
mod resolver;
pub mod schedule;
pub mod secret;
pub mod signature;
pub mod target;

pub use body::{body, event_id, event_types};
pub use deliver::{Deliverer, Delivery, Reason};
pub use dispatcher::{Dispatcher, DispatcherConfig, Waker};
pub use metrics::MetricsSnapshot;
pub use outbox::{payout_finished, PayoutNotice};
pub use schedule::Schedule;
pub use secret::Secret;
pub use signature::{sign, signature_header, verify, VerifyError};
pub use target::TargetPolicy;

use paycore_payment_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("invalid notify schedule: {0}")]
    Schedule(String),
    #[error("invalid CIDR {0:?} (expected e.g. 127.0.0.1/32 or fd00::/8)")]
    Cidr(String),
    #[error("invalid notification body: {0}")]
    Body(String),
    #[error("invalid dispatcher configuration: {0}")]
    Config(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The Rust verification helper in docs/notifications.md runs as a doctest of this item.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/notifications.md")]
pub struct NotificationsDoc;

/// Milliseconds since the Unix epoch, the payment store's time.
pub fn now_ms() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}
