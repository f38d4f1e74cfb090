//! Cross-shard transfers (中间过渡户), pure: no I/O, no clock.
//!
//! A transfer whose accounts live on two shards cannot be one ledger command, so it is four
//! single-shard transfers at most, each with a ledger id derived from the client's id, driven
//! by a coordinator (`paycore-router`) until the transfer is final:
//!
//! 1. **debit** on the source shard: debit account → transit `XT-<target>-<cur>` (the money
//!    is in flight);
//! 2. **credit** on the target shard: due-from `XD-<source>-<cur>` → credit account;
//! 3. **settle** on the source shard: transit → due-to `XD-<target>-<cur>` (the transit
//!    account is back to zero);
//! 4. or, if the target refused step 2 (closed account, wrong currency…), **compensate** on
//!    the source shard: transit → debit account.
//!
//! Why this is safe to drive from anywhere, any number of times: the ledger records every
//! decided command — accepted *or refused* — under its id forever and answers a retry with
//! the same outcome. So each step's outcome is decided once, every driver sees the same
//! outcomes, and replaying the whole plan from the start (after a crash, by another router)
//! reaches the same final phase without moving money twice.
//!
//! Invariants, when nothing is in flight: every transit account is zero (a non-zero one is
//! listed by the shard's day-end report as 挂账), and for each pair of shards and currency the
//! two due accounts sum to zero (`transit::pair_net`).
//!
//! - `plan.rs`: `Intent`, its `Phase`, the `Step` each phase calls for and `advance`.
//! - `accounts.rs`: the transit and due account numbers, and the step ids.

mod accounts;
mod plan;

pub use accounts::{
    due_account, is_reserved_account, is_reserved_id, step_id, transit_account, ACCOUNT_PREFIXES,
    CLIENT_ID_MAX, ID_PREFIX, SHARD_NAME_MAX,
};
pub use plan::{Intent, IntentError, Outcome, Phase, Refusal, Step, StepKind};
