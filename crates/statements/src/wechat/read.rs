//! Reading a WeChat trade bill: the detail header, detail rows into lines (summing every
//! total's column as it goes), then the summary row, checked against those sums.

use paycore_money::Currency;

use super::{unticked, Unit, COUNT, TOTALS};
use crate::amount::{self, format_fee};
use crate::columns::{check_width, find, non_empty, require, timestamp};
use crate::records::Record;
use crate::{ErrorKind, LineKind, StatementError, StatementLine, StatementSummary};

const DETAIL: &str = "WeChat detail";
const SUMMARY: &str = "WeChat summary";

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
                columns.check(row, detail, lines)?;
                let (line, width) = (row.line(), columns.width);
                self.summary = SummaryState::Read { line, width };
                Ok(None)
            }
            SummaryState::Expected if is_summary_header(row) => {
                self.summary = SummaryState::Header(SummaryColumns::from_header(row, detail)?);
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
    last_currency: Option<Currency>,
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
            last_currency: None,
        })
    }

    fn line(&mut self, row: &Record) -> Result<StatementLine, StatementError> {
        check_width(row, self.width, DETAIL)?;
        let line = row.line();
        let field = |index: usize| unticked(row.get(index));
        let currency = self.currency(field(self.currency), line)?;
        let mut values = [0i64; TOTALS.len()];
        let mut fee_minor = 0;
        for (i, total) in TOTALS.iter().enumerate() {
            let Some(column) = self.totals[i] else {
                continue;
            };
            let text = field(column);
            values[i] = match total.unit {
                Unit::Amount => amount::non_negative(text, currency, total.detail.name, line)?,
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

    /// The row's currency; the previous row's is reused without a table lookup.
    fn currency(&mut self, code: &str, line: u64) -> Result<Currency, StatementError> {
        if let Some(last) = self.last_currency.filter(|c| c.code() == code) {
            return Ok(last);
        }
        let currency = Currency::from_code(code).map_err(|err| {
            StatementError::new(
                ErrorKind::InvalidValue,
                line,
                format!("{}: {err}", super::CURRENCY.name),
            )
        })?;
        self.last_currency = Some(currency);
        Ok(currency)
    }
}

/// The summary columns: 总交易单数 and the totals the bill prints.
#[derive(Debug)]
struct SummaryColumns {
    line: u64,
    width: usize,
    count: usize,
    totals: [Option<usize>; TOTALS.len()],
}

impl SummaryColumns {
    fn from_header(header: &Record, detail: &Detail) -> Result<SummaryColumns, StatementError> {
        let mut totals = [None; TOTALS.len()];
        for (i, total) in TOTALS.iter().enumerate() {
            totals[i] = match total.required {
                true => Some(require(header, total.summary, SUMMARY)?),
                false => find(header, total.summary).filter(|_| detail.totals[i].is_some()),
            };
        }
        Ok(SummaryColumns {
            line: header.line(),
            width: header.len(),
            count: require(header, COUNT, SUMMARY)?,
            totals,
        })
    }

    /// Checks the summary row against the detail rows: their count and every column's sum.
    fn check(
        &self,
        row: &Record,
        detail: &Detail,
        lines: &StatementSummary,
    ) -> Result<(), StatementError> {
        check_width(row, self.width, SUMMARY)?;
        let line = row.line();
        let mismatch =
            |reason: String| StatementError::new(ErrorKind::SummaryMismatch, line, reason);
        let count = count(unticked(row.get(self.count)), line)?;
        if count != lines.count {
            let rows = lines.count;
            return Err(mismatch(format!(
                "总交易单数 is {count} but the bill has {rows} detail rows"
            )));
        }
        let currency = lines.currency.unwrap_or(Currency::CNY);
        for (i, total) in TOTALS.iter().enumerate() {
            let Some(column) = self.totals[i] else {
                continue;
            };
            let text = unticked(row.get(column));
            let (printed, sum) = match total.unit {
                Unit::Amount => {
                    let printed = amount::non_negative(text, currency, total.summary.name, line)?;
                    (printed, detail.sums[i])
                }
                Unit::Fee => (
                    amount::fee(text, currency, total.summary.name, line)?.exact,
                    detail.sums[i],
                ),
            };
            if printed != sum {
                let show = |v: i64| match total.unit {
                    Unit::Amount => paycore_money::format_minor(v, currency),
                    Unit::Fee => format_fee(v),
                };
                return Err(mismatch(format!(
                    "{} is {} but the detail rows' {} add up to {}",
                    total.summary.name,
                    show(printed),
                    total.detail.name,
                    show(sum)
                )));
            }
        }
        Ok(())
    }
}

/// 总交易单数: decimal digits only.
fn count(text: &str, line: u64) -> Result<u64, StatementError> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten().ok_or_else(|| {
        let reason = format!("{} {text:?} is not a count", COUNT.name);
        StatementError::new(ErrorKind::InvalidValue, line, reason)
    })
}
