//! A run's totals: count and sums per side (payments and refunds apart, and their net), and
//! the fund check — the statement's net against what the bank credited our account.

use crate::record::RecordKind;

/// One side's sums in minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Side {
    pub count: u64,
    pub payments: u64,
    pub refunds: u64,
    /// Fees as printed (theirs only).
    pub fees: i64,
}

impl Side {
    /// Adds one record; `None` on overflow.
    pub fn add(&mut self, kind: RecordKind, amount: u64, fee: i64) -> Option<()> {
        self.count = self.count.checked_add(1)?;
        match kind {
            RecordKind::Payment => self.payments = self.payments.checked_add(amount)?,
            RecordKind::Refund => self.refunds = self.refunds.checked_add(amount)?,
        }
        self.fees = self.fees.checked_add(fee)?;
        Some(())
    }

    /// Payments less refunds less fees; `None` on overflow.
    pub fn net(&self) -> Option<i64> {
        let payments = i64::try_from(self.payments).ok()?;
        let refunds = i64::try_from(self.refunds).ok()?;
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
    pub statement_net: i64,
    pub settled: i64,
    /// settled − statement_net: negative when the bank credited less than it listed.
    pub difference: i64,
}

impl Fund {
    pub fn new(statement_net: i64, settled: i64) -> Option<Fund> {
        Some(Fund {
            statement_net,
            settled,
            difference: settled.checked_sub(statement_net)?,
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
        assert!(side.add(RecordKind::Payment, u64::MAX, 0).is_none());
    }
}
