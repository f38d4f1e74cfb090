//! paycore's adjustments (调账) with maker-checker (双人复核), pure: no I/O, no thread, no
//! clock. Time comes in as `Millis` with every call.
//!
//! An adjustment corrects a posting after business processing finished. A person (the
//! *maker*) proposes it; other people (*checkers*) approve it; only then is it posted in the
//! ledger, as one transfer of kind `adjustment`, never as an edit of data.
//!
//! - `adjustment`: the adjustment and its state machine — `pending_approval` →
//!   (`partially_approved` →) `approved` (the intent to post, recorded before the ledger is
//!   asked) → `posted`; or `rejected`, or `expired` while it waits.
//! - `history`: what happened to it, appended and never edited.
//! - `rules`: who may approve (never the maker, never the same person twice), how many must
//!   (two above a threshold), how long a proposal waits.
//! - `limits`: the bounds of every field.
//!
//! Unlike Fineract's maker-checker (which stores the request and re-runs it), the posting is
//! decided by the ledger at approval time, an adjustment expires, large amounts need two
//! checkers, and a rejection carries a reason.

pub mod adjustment;
pub mod error;
pub mod history;
pub mod limits;
pub mod rules;
pub mod status;

#[cfg(test)]
mod tests;

pub use adjustment::{ledger_id, Adjustment, NewAdjustment, Next, LEDGER_ID_PREFIX};
pub use error::{AdjustError, ErrorKind};
pub use history::{Action, Approval, Event};
pub use rules::{same_person, Policy, SYSTEM_OPERATOR};
pub use status::Status;

/// Milliseconds since the Unix epoch. The domain never reads a clock: callers pass it in.
pub type Millis = u64;
