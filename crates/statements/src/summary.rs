//! A statement's totals, and the checked accumulator readers and writers build them with.

use paycore_money::Currency;

use crate::{ErrorKind, LineKind, StatementError, StatementLine};

/// The count and totals of a statement's lines, all in its one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatementSummary {
    /// The statement's currency; `None` when it has no line.
    pub currency: Option<Currency>,
    /// Lines, payments and refunds together (WeChat 总交易单数).
    pub count: u64,
    /// Sum of the payments' `amount_minor`.
    pub total_amount_minor: u64,
    /// Sum of the refunds' `amount_minor`.
    pub total_refund_minor: u64,
    /// Sum of every line's `fee_minor`: fees charged minus fees returned.
    pub total_fee_minor: i64,
}

impl StatementSummary {
    /// Adds one line, refusing a second currency and any overflow. `at` names the line in the
    /// error (the reader's physical line, the writer's position).
    pub(crate) fn add(&mut self, line: &StatementLine, at: u64) -> Result<(), StatementError> {
        match self.currency {
            Some(currency) if currency != line.currency => {
                return Err(StatementError::new(
                    ErrorKind::InvalidValue,
                    at,
                    format!(
                        "currency {} differs from the statement's {currency}: a statement is in one currency",
                        line.currency
                    ),
                ));
            }
            _ => self.currency = Some(line.currency),
        }
        let overflow = || {
            StatementError::new(
                ErrorKind::InvalidAmount,
                at,
                "the statement's totals overflow",
            )
        };
        let fee = self
            .total_fee_minor
            .checked_add(line.fee_minor)
            .ok_or_else(overflow)?;
        let total = match line.kind {
            LineKind::Payment => &mut self.total_amount_minor,
            LineKind::Refund => &mut self.total_refund_minor,
        };
        *total = total.checked_add(line.amount_minor).ok_or_else(overflow)?;
        self.total_fee_minor = fee;
        self.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        kind: LineKind,
        amount_minor: u64,
        fee_minor: i64,
        currency: Currency,
    ) -> StatementLine {
        StatementLine {
            line_no: 1,
            time: "2024-03-01 10:00:00".into(),
            channel_order_no: "PC1".into(),
            bank_ref: "42".into(),
            kind,
            status: "SUCCESS".into(),
            amount_minor,
            fee_minor,
            currency,
            refund_no: None,
        }
    }

    #[test]
    fn sums_payments_refunds_and_net_fees() {
        let mut summary = StatementSummary::default();
        summary
            .add(&line(LineKind::Payment, 1234, 7, Currency::CNY), 2)
            .unwrap();
        summary
            .add(&line(LineKind::Payment, 100, 1, Currency::CNY), 3)
            .unwrap();
        summary
            .add(&line(LineKind::Refund, 200, -1, Currency::CNY), 4)
            .unwrap();
        assert_eq!(
            summary,
            StatementSummary {
                currency: Some(Currency::CNY),
                count: 3,
                total_amount_minor: 1334,
                total_refund_minor: 200,
                total_fee_minor: 7,
            }
        );
    }

    #[test]
    fn refuses_a_second_currency_and_overflow() {
        let mut summary = StatementSummary::default();
        summary
            .add(&line(LineKind::Payment, u64::MAX, 0, Currency::CNY), 2)
            .unwrap();
        let err = summary
            .add(&line(LineKind::Payment, 1, 0, Currency::USD), 3)
            .unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::InvalidValue, 3));
        let err = summary
            .add(&line(LineKind::Payment, 1, 0, Currency::CNY), 4)
            .unwrap_err();
        assert_eq!((err.kind, err.line), (ErrorKind::InvalidAmount, 4));
        assert_eq!(summary.count, 1, "a refused line is not counted");
    }
}
