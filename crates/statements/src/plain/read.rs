//! Reading paycore's plain CSV: a header, then one line per row; no summary row.

use super::{AMOUNT, BANK_REF, CURRENCY, FEE, KIND, ORDER_NO, REFUND_NO, STATUS, TIME};
use crate::amount;
use crate::columns::{check_width, find, non_empty, require, timestamp, Currencies};
use crate::records::Record;
use crate::{ErrorKind, LineKind, StatementError, StatementLine};

const TABLE: &str = "statement";

#[derive(Debug, Default)]
pub(crate) struct CsvReader {
    columns: Option<Columns>,
}

#[derive(Debug)]
struct Columns {
    width: usize,
    time: usize,
    order_no: usize,
    bank_ref: usize,
    kind: usize,
    status: usize,
    amount: usize,
    fee: usize,
    currency: usize,
    refund_no: Option<usize>,
    currencies: Currencies,
}

impl CsvReader {
    pub(crate) fn row(&mut self, row: &Record) -> Result<Option<StatementLine>, StatementError> {
        match &mut self.columns {
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
                "the statement is empty: no header (time,channel_order_no,…)",
            )),
        }
    }
}

impl Columns {
    fn from_header(header: &Record) -> Result<Columns, StatementError> {
        Ok(Columns {
            width: header.len(),
            time: require(header, TIME, TABLE)?,
            order_no: require(header, ORDER_NO, TABLE)?,
            bank_ref: require(header, BANK_REF, TABLE)?,
            kind: require(header, KIND, TABLE)?,
            status: require(header, STATUS, TABLE)?,
            amount: require(header, AMOUNT, TABLE)?,
            fee: require(header, FEE, TABLE)?,
            currency: require(header, CURRENCY, TABLE)?,
            refund_no: find(header, REFUND_NO),
            currencies: Currencies::default(),
        })
    }

    fn line(&mut self, row: &Record) -> Result<StatementLine, StatementError> {
        check_width(row, self.width, TABLE)?;
        let line = row.line();
        let currency = self
            .currencies
            .get(row.get(self.currency), CURRENCY.name, line)?;
        let kind_text = row.get(self.kind);
        let kind = LineKind::from_name(kind_text).ok_or_else(|| {
            let reason = format!("kind {kind_text:?} is neither payment nor refund");
            StatementError::new(ErrorKind::InvalidValue, line, reason)
        })?;
        let refund_no = self
            .refund_no
            .map(|i| row.get(i))
            .filter(|no| !no.is_empty());
        if kind == LineKind::Payment && refund_no.is_some() {
            let reason = "a payment has no refund_no";
            return Err(StatementError::new(ErrorKind::InvalidValue, line, reason));
        }
        Ok(StatementLine {
            line_no: line,
            time: timestamp(row.get(self.time), TIME.name, line)?.to_owned(),
            channel_order_no: non_empty(row.get(self.order_no), ORDER_NO.name, line)?.to_owned(),
            bank_ref: non_empty(row.get(self.bank_ref), BANK_REF.name, line)?.to_owned(),
            kind,
            status: non_empty(row.get(self.status), STATUS.name, line)?.to_owned(),
            amount_minor: amount::amount(row.get(self.amount), currency, AMOUNT.name, line)?,
            fee_minor: amount::signed(row.get(self.fee), currency, FEE.name, line)?,
            currency,
            refund_no: refund_no.map(str::to_owned),
        })
    }
}
