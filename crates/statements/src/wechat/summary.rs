//! The WeChat summary: its header's columns, and the check of its one row against the
//! detail rows' count and column sums.

use paycore_money::Currency;

use super::{unticked, COUNT, TOTALS};
use crate::columns::{check_width, find, require};
use crate::records::Record;
use crate::{ErrorKind, StatementError, StatementSummary};

const SUMMARY: &str = "WeChat summary";

/// The summary columns: 总交易单数 and the totals the bill prints (those whose detail column
/// the bill also has, so they can be checked).
#[derive(Debug)]
pub(super) struct SummaryColumns {
    pub line: u64,
    pub width: usize,
    count: usize,
    totals: [Option<usize>; TOTALS.len()],
}

impl SummaryColumns {
    pub(super) fn from_header(
        header: &Record,
        detail_totals: &[Option<usize>; TOTALS.len()],
    ) -> Result<SummaryColumns, StatementError> {
        let mut totals = [None; TOTALS.len()];
        for (i, total) in TOTALS.iter().enumerate() {
            totals[i] = match total.required {
                true => Some(require(header, total.summary, SUMMARY)?),
                false => find(header, total.summary).filter(|_| detail_totals[i].is_some()),
            };
        }
        Ok(SummaryColumns {
            line: header.line(),
            width: header.len(),
            count: require(header, COUNT, SUMMARY)?,
            totals,
        })
    }

    /// Checks the summary row: 总交易单数 against the lines, each total against `sums`, the
    /// detail rows' sums of its column (in minor units, or a fee's exact units).
    pub(super) fn check(
        &self,
        row: &Record,
        sums: &[i64; TOTALS.len()],
        lines: &StatementSummary,
    ) -> Result<(), StatementError> {
        check_width(row, self.width, SUMMARY)?;
        let line = row.line();
        let count = count(unticked(row.get(self.count)), line)?;
        if count != lines.count {
            let reason = format!(
                "总交易单数 is {count} but the bill has {} detail rows",
                lines.count
            );
            return Err(StatementError::new(
                ErrorKind::SummaryMismatch,
                line,
                reason,
            ));
        }
        let currency = lines.currency.unwrap_or(Currency::CNY);
        for (i, column) in self.totals.iter().enumerate() {
            if let Some(column) = column {
                check_total(i, unticked(row.get(*column)), sums[i], currency, line)?;
            }
        }
        Ok(())
    }
}

/// Checks total `TOTALS[index]`, printed as `text`, against the sum of its column.
fn check_total(
    index: usize,
    text: &str,
    sum: i64,
    currency: Currency,
    line: u64,
) -> Result<(), StatementError> {
    let total = TOTALS[index];
    let printed = total.unit.parse(text, currency, total.summary.name, line)?;
    if printed == sum {
        return Ok(());
    }
    let reason = format!(
        "{} is {} but the detail rows' {} add up to {}",
        total.summary.name,
        total.unit.show(printed, currency),
        total.detail.name,
        total.unit.show(sum, currency)
    );
    Err(StatementError::new(
        ErrorKind::SummaryMismatch,
        line,
        reason,
    ))
}

/// 总交易单数: decimal digits only.
fn count(text: &str, line: u64) -> Result<u64, StatementError> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten().ok_or_else(|| {
        let reason = format!("{} {text:?} is not a count", COUNT.name);
        StatementError::new(ErrorKind::InvalidValue, line, reason)
    })
}
