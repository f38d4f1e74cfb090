//! Writing a WeChat trade bill that the reader reads back as the same lines: WeChat's ALL
//! header, backticked rows, and the summary row of their totals.
//!
//! Columns a line does not carry are written as WeChat writes them for a plain order without
//! vouchers (特约商户号 `0`, 付款银行 `OTHERS`, 代金券金额 `0.00`, a payment's refund numbers
//! `0`) or left empty (公众账号ID, 商户号, 用户标识, 商品名称, …).

use std::io::Write;

use paycore_money::{format_minor, Currency};

use super::{DETAIL_HEADER, REFUND_STATUS, SUMMARY_HEADER};
use crate::amount::{format_amount, format_fee, minor_to_exact};
use crate::writer::{refuse, summarize, Row};
use crate::{LineKind, StatementLine, StatementSummary, WriteError};

pub(crate) fn write<'l>(
    lines: impl Iterator<Item = &'l StatementLine>,
    out: &mut dyn Write,
) -> Result<StatementSummary, WriteError> {
    let mut row = Row::default();
    row.plain_line(&DETAIL_HEADER);
    out.write_all(row.bytes())?;
    let mut summary = StatementSummary::default();
    for (item, line) in (1u64..).zip(lines) {
        check(line, item)?;
        summarize(&mut summary, line, item)?;
        detail_row(line, item, &mut row)?;
        out.write_all(row.bytes())?;
    }
    row.plain_line(&SUMMARY_HEADER);
    out.write_all(row.bytes())?;
    summary_row(&summary, &mut row)?;
    out.write_all(row.bytes())?;
    Ok(summary)
}

/// Refuses what the reader would read back differently.
fn check(line: &StatementLine, item: u64) -> Result<(), WriteError> {
    let refund_status = line.status == REFUND_STATUS;
    match line.kind {
        LineKind::Refund if !refund_status => refuse(
            item,
            format!("a WeChat refund has 交易状态 REFUND, not {:?}", line.status),
        ),
        LineKind::Payment if refund_status => {
            refuse(item, "交易状态 REFUND marks a refund, not a payment")
        }
        _ => Ok(()),
    }
}

fn detail_row(line: &StatementLine, item: u64, row: &mut Row) -> Result<(), WriteError> {
    let currency = line.currency;
    let amount =
        format_amount(line.amount_minor, currency).ok_or_else(|| WriteError::Unrepresentable {
            item,
            reason: "the amount is too large".into(),
        })?;
    let fee = minor_to_exact(line.fee_minor, currency)
        .map(format_fee)
        .ok_or_else(|| WriteError::Unrepresentable {
            item,
            reason: "the fee is too large".into(),
        })?;
    let zero = format_minor(0, currency);
    let refund = line.kind == LineKind::Refund;
    let (paid, refunded) = if refund {
        (&zero, &amount)
    } else {
        (&amount, &zero)
    };
    let refund_no = match (refund, &line.refund_no) {
        (true, Some(no)) => no.as_str(),
        (true, None) => "",
        (false, _) => "0",
    };
    let values: [&str; 27] = [
        &line.time,
        "",
        "",
        "0",
        "",
        &line.bank_ref,
        &line.channel_order_no,
        "",
        "",
        &line.status,
        "OTHERS",
        currency.code(),
        paid,
        &zero,
        if refund { "" } else { "0" },
        refund_no,
        refunded,
        &zero,
        if refund { "ORIGINAL" } else { "" },
        if refund { "SUCCESS" } else { "" },
        "",
        "",
        &fee,
        "",
        paid,
        refunded,
        "",
    ];
    row.line(item, &values, "`")
}

fn summary_row(summary: &StatementSummary, row: &mut Row) -> Result<(), WriteError> {
    let currency = summary.currency.unwrap_or(Currency::CNY);
    let item = summary.count;
    let too_large = || WriteError::Unrepresentable {
        item,
        reason: "the statement's totals are too large".into(),
    };
    let paid = format_amount(summary.total_amount_minor, currency).ok_or_else(too_large)?;
    let refunded = format_amount(summary.total_refund_minor, currency).ok_or_else(too_large)?;
    let fee = minor_to_exact(summary.total_fee_minor, currency)
        .map(format_fee)
        .ok_or_else(too_large)?;
    let count = summary.count.to_string();
    let zero = format_minor(0, currency);
    let values: [&str; 7] = [&count, &paid, &refunded, &zero, &fee, &paid, &refunded];
    row.line(item, &values, "`")
}
