//! Reading a WeChat trade bill: the detail header, detail rows into lines (summing every
//! total's column as it goes), then the summary row, checked against those sums.

use paycore_money::Currency;

use super::summary::SummaryColumns;
use super::{unticked, Unit, COUNT, TOTALS};
use crate::amount;
use crate::columns::{check_width, find, non_empty, require, timestamp, Currencies};
use crate::records::Record;
use crate::{ErrorKind, LineKind, StatementError, StatementLine, StatementSummary};

const DETAIL: &str = "WeChat detail";

/// The state of one bill being read.
#[derive(Debug, Default)]
pub(crate) struct WechatReader {
    detail: Option<Detail>,
    summary: SummaryState,
}

#[derive(Debug, Default)]
enum SummaryState {
    #[default]
    Expected,
    Header(SummaryColumns),
    Read {
        line: u64,
        width: usize,
    },
}

impl WechatReader {
    /// Takes one row: a header, a detail row (returned as a line) or the summary row.
    pub(crate) fn row(
        &mut self,
        row: &Record,
        lines: &StatementSummary,
    ) -> Result<Option<StatementLine>, StatementError> {
        let Some(detail) = &mut self.detail else {
            self.detail = Some(Detail::from_header(row)?);
            return Ok(None);
        };
        match &self.summary {
            SummaryState::Read { line, width } => Err(after_summary(row, *line, *width)),
            SummaryState::Header(columns) => {
                columns.check(row, &detail.sums, lines)?;
                let (line, width) = (row.line(), columns.width);
                self.summary = SummaryState::Read { line, width };
                Ok(None)
            }
            SummaryState::Expected if is_summary_header(row) => {
                self.summary =
                    SummaryState::Header(SummaryColumns::from_header(row, &detail.totals)?);
                Ok(None)
            }
            SummaryState::Expected => detail.line(row).map(Some),
        }
    }

    /// Refuses a bill that ended before its summary row.
    pub(crate) fn finish(&self, lines_read: u64) -> Result<(), StatementError> {
        let missing =
            |line, reason: String| StatementError::new(ErrorKind::MissingSummary, line, reason);
        match (&self.detail, &self.summary) {
            (None, _) => Err(StatementError::new(
                ErrorKind::MissingHeader,
                lines_read + 1,
                "the WeChat bill is empty: no detail header (交易时间,…)",
            )),
            (Some(_), SummaryState::Expected) => Err(missing(
                lines_read + 1,
                format!("the WeChat bill ends after line {lines_read} without its summary (总交易单数,…)"),
            )),
            (Some(_), SummaryState::Header(columns)) => Err(missing(
                columns.line + 1,
                format!("the summary header at line {} is not followed by its summary row", columns.line),
            )),
            (Some(_), SummaryState::Read { .. }) => Ok(()),
        }
    }
}

/// Whether `row` is a summary header: it has a 总交易单数 column. A detail row, whose first
/// value starts with a backtick, is not looked through.
fn is_summary_header(row: &Record) -> bool {
    !row.get(0).starts_with('`') && row.iter().any(|name| name.trim() == COUNT.name)
}

fn after_summary(row: &Record, summary_line: u64, width: usize) -> StatementError {
    if is_summary_header(row) || row.len() == width {
        let reason = format!("a second summary: the bill's summary row is line {summary_line}");
        return StatementError::new(ErrorKind::DuplicateSummary, row.line(), reason);
    }
    let reason = format!("a row after the summary row (line {summary_line}) ended the bill");
    StatementError::new(ErrorKind::TrailingData, row.line(), reason)
}

/// The detail columns, and the running sum of every total's column.
#[derive(Debug)]
struct Detail {
    width: usize,
    time: usize,
    bank_ref: usize,
    order_no: usize,
    status: usize,
    currency: usize,
    refund_no: usize,
    totals: [Option<usize>; TOTALS.len()],
    sums: [i64; TOTALS.len()],
    currencies: Currencies,
}

impl Detail {
    fn from_header(header: &Record) -> Result<Detail, StatementError> {
        if header.get(0).starts_with('`') {
            let reason =
                "the WeChat bill starts with a detail row, not the detail header (交易时间,…)";
            return Err(StatementError::new(
                ErrorKind::MissingHeader,
                header.line(),
                reason,
            ));
        }
        let mut totals = [None; TOTALS.len()];
        for (slot, total) in totals.iter_mut().zip(TOTALS) {
            *slot = match total.required {
                true => Some(require(header, total.detail, DETAIL)?),
                false => find(header, total.detail),
            };
        }
        Ok(Detail {
            width: header.len(),
            time: require(header, super::TIME, DETAIL)?,
            bank_ref: require(header, super::BANK_REF, DETAIL)?,
            order_no: require(header, super::ORDER_NO, DETAIL)?,
            status: require(header, super::STATUS, DETAIL)?,
            currency: require(header, super::CURRENCY, DETAIL)?,
            refund_no: require(header, super::REFUND_NO, DETAIL)?,
            totals,
            sums: [0; TOTALS.len()],
            currencies: Currencies::default(),
        })
    }

    fn line(&mut self, row: &Record) -> Result<StatementLine, StatementError> {
        check_width(row, self.width, DETAIL)?;
        let line = row.line();
        let field = |index: usize| unticked(row.get(index));
        let currency = self
            .currencies
            .get(field(self.currency), super::CURRENCY.name, line)?;
        let (values, fee_minor) = self.add_totals(row, currency)?;
        let status = non_empty(field(self.status), super::STATUS.name, line)?;
        let (kind, amount, refund_no) = if status == super::REFUND_STATUS {
            let refund_no = Some(field(self.refund_no)).filter(|no| !no.is_empty());
            (LineKind::Refund, values[super::REFUND_AMOUNT], refund_no)
        } else {
            (LineKind::Payment, values[super::ORDER_AMOUNT], None)
        };
        Ok(StatementLine {
            line_no: line,
            time: timestamp(field(self.time), super::TIME.name, line)?.to_owned(),
            channel_order_no: non_empty(field(self.order_no), super::ORDER_NO.name, line)?
                .to_owned(),
            bank_ref: non_empty(field(self.bank_ref), super::BANK_REF.name, line)?.to_owned(),
            kind,
            status: status.to_owned(),
            amount_minor: amount.unsigned_abs(),
            fee_minor,
            currency,
            refund_no: refund_no.map(str::to_owned),
        })
    }

    /// Parses the row's value of every total's column and adds it to that column's sum;
    /// returns the values and the fee rounded to minor units.
    fn add_totals(
        &mut self,
        row: &Record,
        currency: Currency,
    ) -> Result<([i64; TOTALS.len()], i64), StatementError> {
        let line = row.line();
        let mut values = [0i64; TOTALS.len()];
        let mut fee_minor = 0;
        for (i, total) in TOTALS.iter().enumerate() {
            let Some(column) = self.totals[i] else {
                continue;
            };
            let text = unticked(row.get(column));
            values[i] = match total.unit {
                Unit::Amount => total.unit.parse(text, currency, total.detail.name, line)?,
                Unit::Fee => {
                    let fee = amount::fee(text, currency, total.detail.name, line)?;
                    fee_minor = fee.minor;
                    fee.exact
                }
            };
            self.sums[i] = self.sums[i].checked_add(values[i]).ok_or_else(|| {
                let reason = format!("the sum of {} overflows", total.detail.name);
                StatementError::new(ErrorKind::InvalidAmount, line, reason)
            })?;
        }
        Ok((values, fee_minor))
    }
}
