//! Hot accounts with buffered posting (缓冲记账): credits to such an account are accepted at
//! once and recorded individually, but collect in the account's pending credit and reach its
//! balance as one aggregated journal entry per flush. Debits apply in real time against the
//! posted balance ("deduct first, add later"), optionally using pending credit up to a credit
//! line. Flushes happen at deterministic points — the start of the first batch whose time is
//! past the flush interval (or that finds the buffer full), a day-end, a change of options —
//! so replaying the log reproduces every one.

use crate::RecordId;

/// Longest flush interval accepted.
pub const HOT_FLUSH_INTERVAL_MS_MAX: u32 = 60_000;

/// The options of a buffered account.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HotOptions {
    /// Pending credits are posted once the oldest is this old (1 ms – 60 s).
    pub flush_interval_ms: u32,
    /// … or once this many are pending (at least 1).
    pub max_entries: u32,
    /// How much of the pending credit debits may use before it is posted (0: none).
    pub credit_line: u64,
}

impl HotOptions {
    pub fn is_valid(&self) -> bool {
        (1..=HOT_FLUSH_INTERVAL_MS_MAX).contains(&self.flush_interval_ms) && self.max_entries >= 1
    }

    pub(crate) fn interval_nanos(&self) -> u64 {
        u64::from(self.flush_interval_ms) * 1_000_000
    }
}

/// The buffer of one hot account.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HotBuffer {
    pub options: HotOptions,
    /// Credits accepted but not yet posted to the balance; never negative.
    pub pending: i64,
    /// Engine time of the oldest pending credit (0 when nothing is pending).
    pub since: u64,
    /// The records (transfers, captures) whose credits are pending, in order.
    pub members: Vec<RecordId>,
}

impl HotBuffer {
    pub(crate) fn new(options: HotOptions) -> HotBuffer {
        HotBuffer {
            options,
            pending: 0,
            since: 0,
            members: Vec::new(),
        }
    }

    /// What a debit may use beyond the posted available balance.
    pub fn credit_allowance(&self) -> i128 {
        i128::from(self.pending).min(i128::from(self.options.credit_line))
    }

    pub(crate) fn due(&self, timestamp: u64) -> bool {
        self.pending > 0
            && (timestamp.saturating_sub(self.since) >= self.options.interval_nanos()
                || self.members.len() >= self.options.max_entries as usize)
    }
}

/// One flush: the aggregated credit entry `entry_seq` posted `members`' credits.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Flush {
    pub entry_seq: u64,
    pub account: crate::AccountId,
    pub members: Vec<RecordId>,
}
