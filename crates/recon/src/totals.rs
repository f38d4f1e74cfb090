//! A run's totals: count and sums per side (payments and refunds apart, and their net), and
//! the fund check — the statement's net against what the bank credited our account.
//!
//! Each amount fits in 64 bits, but a day's sum of them need not (as with the ledger's
//! turnover), so sums are 128-bit: exact for any statement paycore can store.

use crate::record::RecordKind;

/// One side's sums in minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Side {
    pub count: u64,
    pub payments: u128,
    pub refunds: u128,
    /// Fees as printed (theirs only).
    pub fees: i128,
}

impl Side {
    /// Adds one record; `None` on overflow.
    pub fn add(&mut self, kind: RecordKind, amount: u64, fee: i64) -> Option<()> {
        self.count = self.count.checked_add(1)?;
        match kind {
            RecordKind::Payment => self.payments = self.payments.checked_add(amount.into())?,
            RecordKind::Refund => self.refunds = self.refunds.checked_add(amount.into())?,
        }
        self.fees = self.fees.checked_add(fee.into())?;
        Some(())
    }

    /// Payments less refunds less fees; `None` on overflow (only past 2^127, which no
    /// statement of 64-bit amounts reaches).
    pub fn net(&self) -> Option<i128> {
        let payments = i128::try_from(self.payments).ok()?;
        let refunds = i128::try_from(self.refunds).ok()?;
        payments.checked_sub(refunds)?.checked_sub(self.fees)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub ours: Side,
    pub theirs: Side,
}

/// Fund reconciliation (资金对账): what the statement says the day nets to, against the
/// bank's settlement to our account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fund {
    pub statement_net: i128,
    pub settled: i64,
    /// settled − statement_net: negative when the bank credited less than it listed.
    pub difference: i128,
}

impl Fund {
    pub fn new(statement_net: i128, settled: i64) -> Option<Fund> {
        Some(Fund {
            statement_net,
            settled,
            difference: i128::from(settled).checked_sub(statement_net)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_is_payments_less_refunds_and_fees() {
        let mut side = Side::default();
        side.add(RecordKind::Payment, 1_000, 6).unwrap();
        side.add(RecordKind::Refund, 300, -2).unwrap();
        assert_eq!((side.count, side.net()), (2, Some(696)));
        assert_eq!(Fund::new(696, 690).unwrap().difference, -6);
        side.payments = u128::MAX;
        assert!(side.add(RecordKind::Payment, 1, 0).is_none());
    }

    #[test]
    fn sums_past_64_bits_stay_exact() {
        let mut side = Side::default();
        for _ in 0..3 {
            side.add(RecordKind::Payment, i64::MAX as u64, i64::MAX)
                .unwrap();
        }
        side.add(RecordKind::Refund, 5, -1).unwrap();
        let max = i128::from(i64::MAX);
        assert_eq!(side.payments, 3 * max as u128);
        assert_eq!(side.fees, 3 * max - 1);
        assert_eq!(side.net(), Some(3 * max - 5 - (3 * max - 1)));
        let fund = Fund::new(3 * max, i64::MAX).unwrap();
        assert_eq!(fund.difference, -2 * max);
    }
}
