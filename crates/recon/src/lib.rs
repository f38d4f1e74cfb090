//! Reconciliation (对账): paycore's records against a channel's statement, per channel and
//! day, and the exceptions (差错) the differences become, handled to closure (BRIEF §6:
//! 多的退了，少的补上).
//!
//! Pure: the service feeds it both sides key by key (a key is the channel order number of a
//! payment, or the refund's own number) and stores what it decides.
//!
//! - `record.rs`: one side's view of a key ([`Ours`], [`Theirs`]).
//! - `classify.rs`: the one decision per key — matched, a [`Difference`], or carried to the
//!   next day's run (跨日).
//! - `day.rs`: a statement day in Beijing time, and the window before midnight whose orders
//!   a channel may date on the next day.
//! - `totals.rs`: counts and sums per side, and the fund check against what the bank credited.
//! - `exception.rs`: an exception's life: open → (resolving →) closed, with its history.
//!
//! # Invariants
//! - Every key seen on either side gets exactly one verdict per run.
//! - A verdict is a function of the two records alone (and the carry window): the same inputs
//!   always give the same verdict.
//! - An exception closes only by a recorded action; its history only grows, in time order.

mod classify;
mod day;
mod error;
mod exception;
mod record;
mod totals;

pub use classify::{classify, classify_ours_only, Difference, Verdict};
pub use day::{Day, CARRY_WINDOW_MS_DEFAULT};
pub use error::ReconError;
pub use exception::{Action, Exception, ExceptionStatus, HistoryEntry};
pub use record::{OurStatus, Ours, RecordKind, Theirs};
pub use totals::{Fund, Side, Totals};

/// Milliseconds since the Unix epoch, as everywhere in paycore.
pub type Millis = u64;
