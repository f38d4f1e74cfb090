//! Reading an Alipay 业务明细 table (its `#` comment lines are skipped before it gets here).

use paycore_money::Currency;

use super::{trimmed, AMOUNT, BANK_REF, FEE, KIND, ORDER_NO, REFUND, REFUND_NO, TIME, TRADE};
use crate::amount;
use crate::columns::{check_width, non_empty, require, timestamp};
use crate::records::Record;
use crate::{ErrorKind, LineKind, StatementError, StatementLine};

const TABLE: &str = "Alipay detail";

#[derive(Debug, Default)]
pub(crate) struct AlipayReader {
    columns: Option<Columns>,
}

#[derive(Debug)]
struct Columns {
    width: usize,
    bank_ref: usize,
    order_no: usize,
    kind: usize,
    time: usize,
    amount: usize,
    fee: usize,
    refund_no: usize,
}

impl AlipayReader {
    pub(crate) fn row(&mut self, row: &Record) -> Result<Option<StatementLine>, StatementError> {
        match &self.columns {
            None => {
                self.columns = Some(Columns::from_header(row)?);
                Ok(None)
            }
            Some(columns) => columns.line(row).map(Some),
        }
    }

    pub(crate) fn finish(&self, lines_read: u64) -> Result<(), StatementError> {
        match self.columns {
            Some(_) => Ok(()),
            None => Err(StatementError::new(
                ErrorKind::MissingHeader,
                lines_read + 1,
                "the Alipay bill has no detail header (支付宝交易号,商户订单号,…)",
            )),
        }
    }
}

impl Columns {
    fn from_header(header: &Record) -> Result<Columns, StatementError> {
        Ok(Columns {
            width: header.len(),
            bank_ref: require(header, BANK_REF, TABLE)?,
            order_no: require(header, ORDER_NO, TABLE)?,
            kind: require(header, KIND, TABLE)?,
            time: require(header, TIME, TABLE)?,
            amount: require(header, AMOUNT, TABLE)?,
            fee: require(header, FEE, TABLE)?,
            refund_no: require(header, REFUND_NO, TABLE)?,
        })
    }

    fn line(&self, row: &Record) -> Result<StatementLine, StatementError> {
        check_width(row, self.width, TABLE)?;
        let line = row.line();
        let field = |index: usize| trimmed(row.get(index));
        let currency = Currency::CNY;
        let kind = match field(self.kind) {
            TRADE => LineKind::Payment,
            REFUND => LineKind::Refund,
            other => {
                let reason = format!("{} {other:?} is neither {TRADE} nor {REFUND}", KIND.name);
                return Err(StatementError::new(ErrorKind::InvalidValue, line, reason));
            }
        };
        let amount = amount::signed(field(self.amount), currency, AMOUNT.name, line)?;
        if kind == LineKind::Payment && amount < 0 {
            let reason = format!("{} of a {TRADE} is negative", AMOUNT.name);
            return Err(StatementError::new(ErrorKind::InvalidAmount, line, reason));
        }
        let printed_fee = amount::signed(field(self.fee), currency, FEE.name, line)?;
        let refund_no = match kind {
            LineKind::Refund => Some(field(self.refund_no)).filter(|no| !no.is_empty()),
            LineKind::Payment => None,
        };
        Ok(StatementLine {
            line_no: line,
            time: timestamp(field(self.time), TIME.name, line)?.to_owned(),
            channel_order_no: non_empty(field(self.order_no), ORDER_NO.name, line)?.to_owned(),
            bank_ref: non_empty(field(self.bank_ref), BANK_REF.name, line)?.to_owned(),
            kind,
            status: field(self.kind).to_owned(),
            amount_minor: amount.unsigned_abs(),
            // Printed from the merchant's side: a charged fee is negative. parse_minor never
            // returns i64::MIN, so the negation cannot overflow.
            fee_minor: -printed_fee,
            currency,
            refund_no: refund_no.map(str::to_owned),
        })
    }
}
