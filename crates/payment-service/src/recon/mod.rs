//! Reconciliation (对账) and its exceptions (差错), driven through the payment store: a day's
//! statement is imported (`import.rs`, uploaded or fetched through the channel's adapter),
//! matched against paycore's orders key by key in pages (`run.rs`), and every difference
//! becomes an exception handled to closure (`exceptions.rs`): by a certain rule (补单: the
//! bank's success for an order paycore holds unknown), or by a person — money then moves only
//! through the ledger, as an adjustment a second person approves, or as a refund through the
//! channel (`refund.rs`).

mod exceptions;
mod import;
mod reads;
mod refund;
mod run;

pub use exceptions::{ExceptionQuery, Resolution};
pub use import::Imported;

/// `prefix` and the first 10 bytes of SHA-256 of `text` in hex: an id derived from another
/// (an exception's adjustment or refund), short enough for the id columns.
fn derived_id(prefix: &str, text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// Keys matched per page: a run holds at most this many of either side.
const PAGE: u64 = 2_000;
