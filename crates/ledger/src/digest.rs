//! Whole-state digest (replay must reproduce it bit for bit) and the invariant check that
//! tests run after every step.

use std::collections::BTreeMap;

use crate::{AccountStatus, Currency, HoldStatus, Ledger, PostingMode};

/// A broken ledger invariant; finding one is always a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    #[error("balances of {0} sum to {1}, not zero")]
    CurrencyNotBalanced(Currency, i128),
    #[error("account {0}: frozen {1} is not the sum of its active holds {2}")]
    FrozenMismatch(String, i64, i128),
    #[error("account {0}: available balance is negative but the account may not go negative")]
    Overdrawn(String),
    #[error("account {0}: closed with a non-zero balance or frozen amount")]
    ClosedNotEmpty(String),
    #[error("the idempotency index has {0} entries for {1} records")]
    IndexSize(usize, u64),
    #[error("hot account {0}: pending credit {1} does not match its {2} buffered records")]
    HotBuffer(String, i64, usize),
    #[error("split account {0}: holds money itself, or its sub-accounts do not match it")]
    Split(String),
}

impl Ledger {
    /// A 128-bit digest of the whole state: the hash of its canonical snapshot encoding.
    /// Two ledgers that applied the same batches have the same digest.
    pub fn digest(&self) -> u128 {
        let mut encoded = Vec::new();
        self.snapshot()
            .encode(&mut encoded)
            .expect("encoding into memory cannot fail");
        xxhash_rust::xxh3::xxh3_128(&encoded)
    }

    /// Checks every invariant of the state; O(accounts + holds). Used by tests after each
    /// operation and by the engine after recovery.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let mut sums: BTreeMap<Currency, i128> = BTreeMap::new();
        let mut held = vec![0i128; self.accounts.len()];
        for hold in self.holds.iter().filter(|h| h.status == HoldStatus::Active) {
            held[hold.account.index()] += i128::from(hold.remaining);
        }
        for (i, account) in self.accounts.iter().enumerate() {
            let number = || {
                self.infos
                    .get(i as u64)
                    .expect("one info per account")
                    .number
                    .to_string()
            };
            let buffer = self.hot.get(&crate::AccountId(i as u32));
            // Buffered credits are money the account has received: they count in the sums.
            let pending = buffer.map_or(0, |b| b.pending);
            *sums.entry(account.currency).or_default() +=
                i128::from(account.balance) + i128::from(pending);
            let subs = self.splits.get(&crate::AccountId(i as u32));
            if (account.mode == PostingMode::Split) != subs.is_some() {
                return Err(InvariantViolation::Split(number()));
            }
            if let Some(subs) = subs {
                let mismatched = subs.iter().any(|s| {
                    self.accounts.get(s.index()).is_none_or(|sub| {
                        sub.currency != account.currency || sub.mode != PostingMode::Direct
                    })
                });
                if account.balance != 0 || account.frozen != 0 || subs.len() < 2 || mismatched {
                    return Err(InvariantViolation::Split(number()));
                }
            }
            if (account.mode == PostingMode::Buffered) != buffer.is_some() {
                return Err(InvariantViolation::HotBuffer(number(), pending, 0));
            }
            if let Some(b) = buffer {
                if b.pending < 0 || (b.pending == 0) != b.members.is_empty() {
                    return Err(InvariantViolation::HotBuffer(
                        number(),
                        b.pending,
                        b.members.len(),
                    ));
                }
            }
            if i128::from(account.frozen) != held[i] {
                return Err(InvariantViolation::FrozenMismatch(
                    number(),
                    account.frozen,
                    held[i],
                ));
            }
            let allowance = buffer.map_or(0, |b| b.credit_allowance());
            if !account.allow_negative && account.available() + allowance < 0 {
                return Err(InvariantViolation::Overdrawn(number()));
            }
            let empty = account.balance == 0 && account.frozen == 0 && pending == 0;
            if account.status == AccountStatus::Closed && !empty {
                return Err(InvariantViolation::ClosedNotEmpty(number()));
            }
        }
        if let Some((currency, sum)) = sums.into_iter().find(|(_, sum)| *sum != 0) {
            return Err(InvariantViolation::CurrencyNotBalanced(currency, sum));
        }
        if self.index.len() as u64 != self.records.len() {
            return Err(InvariantViolation::IndexSize(
                self.index.len(),
                self.records.len(),
            ));
        }
        Ok(())
    }
}
