//! Writing paycore's plain CSV: the header, then one row per line in the header's order.

use std::io::Write;

use paycore_money::format_minor;

use super::HEADER;
use crate::amount::format_amount;
use crate::writer::{summarize, Row};
use crate::{StatementLine, StatementSummary, WriteError};

pub(crate) fn write<'l>(
    lines: impl Iterator<Item = &'l StatementLine>,
    out: &mut dyn Write,
) -> Result<StatementSummary, WriteError> {
    let mut row = Row::default();
    row.plain_line(&HEADER);
    out.write_all(row.bytes())?;
    let mut summary = StatementSummary::default();
    for (item, line) in (1u64..).zip(lines) {
        summarize(&mut summary, line, item)?;
        let amount = format_amount(line.amount_minor, line.currency).ok_or_else(|| {
            WriteError::Unrepresentable {
                item,
                reason: "the amount is too large".into(),
            }
        })?;
        let fee = format_minor(line.fee_minor, line.currency);
        let values: [&str; 9] = [
            &line.time,
            &line.channel_order_no,
            &line.bank_ref,
            line.kind.name(),
            &line.status,
            &amount,
            &fee,
            line.currency.code(),
            line.refund_no.as_deref().unwrap_or(""),
        ];
        row.line(item, &values, "")?;
        out.write_all(row.bytes())?;
    }
    Ok(summary)
}
