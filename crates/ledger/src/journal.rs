//! Journal entries (账户流水): one per change of an account's balance or frozen amount.

use time::Date;

use crate::{AccountId, RecordId};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum EntryKind {
    /// Balance decreased by `amount` (for a capture, frozen decreased too).
    Debit = 1,
    /// Balance increased by `amount`.
    Credit = 2,
    /// Frozen increased by `amount` (a hold was placed).
    Freeze = 3,
    /// Frozen decreased by `amount` (a hold was released on request).
    Unfreeze = 4,
    /// Frozen decreased by `amount` because the hold expired.
    Expire = 5,
}

impl EntryKind {
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Debit => "debit",
            EntryKind::Credit => "credit",
            EntryKind::Freeze => "freeze",
            EntryKind::Unfreeze => "unfreeze",
            EntryKind::Expire => "expire",
        }
    }
}

/// One line of an account statement. Sequence numbers are global, gap-free and assigned by
/// the state machine, so ordering never depends on any clock.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct JournalEntry {
    pub seq: u64,
    pub timestamp: u64,
    /// The command (transfer, hold…) that caused the change.
    pub record: RecordId,
    pub account: AccountId,
    pub kind: EntryKind,
    pub amount: u64,
    /// 期初: balance before the entry.
    pub balance_before: i64,
    pub balance_after: i64,
    pub frozen_after: i64,
    pub accounting_date: Date,
}
