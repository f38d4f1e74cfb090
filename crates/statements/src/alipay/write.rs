//! Writing an Alipay bill the reader reads back as the same lines: a zip archive holding the
//! GBK detail file (comment lines, Alipay's header, tab-padded values) and a small 汇总 file.
//!
//! Columns a line does not carry are written empty (商品名称, 门店编号, 对方账户, …) or as
//! `0.00` (红包, 优惠, 分润); 创建时间 and 完成时间 are both the line's time.

use std::io::Write;

use encoding_rs::GBK;
use paycore_money::{format_minor, Currency};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{HEADER, REFUND, TRADE};
use crate::amount::format_amount;
use crate::writer::{refuse, summarize, Row};
use crate::{LineKind, StatementLine, StatementSummary, WriteError};

pub(crate) const DETAIL_FILE: &str = "paycore_业务明细.csv";
pub(crate) const SUMMARY_FILE: &str = "paycore_业务明细(汇总).csv";
const RULE: &str = "-----------------------------------------";

pub(crate) fn write<'l>(
    lines: impl Iterator<Item = &'l StatementLine>,
    out: &mut dyn Write,
) -> Result<StatementSummary, WriteError> {
    let mut zip = ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file(DETAIL_FILE, options)?;
    let (summary, trades) = detail(lines, &mut zip)?;
    zip.start_file(SUMMARY_FILE, options)?;
    summary_file(&summary, trades, &mut zip)?;
    zip.finish()?;
    Ok(summary)
}

/// Writes the detail file; returns the summary and the number of trades in it.
fn detail<'l>(
    lines: impl Iterator<Item = &'l StatementLine>,
    out: &mut impl Write,
) -> Result<(StatementSummary, u64), WriteError> {
    put(
        out,
        0,
        &format!("#支付宝业务明细查询\n#{RULE}业务明细列表{RULE}\n"),
    )?;
    let mut row = Row::default();
    row.plain_line(&HEADER);
    put(out, 0, row.text())?;
    let mut summary = StatementSummary::default();
    let mut trades = 0;
    for (item, line) in (1u64..).zip(lines) {
        check(line, item)?;
        summarize(&mut summary, line, item)?;
        trades += u64::from(line.kind == LineKind::Payment);
        detail_row(line, item, &mut row)?;
        put(out, item, row.text())?;
    }
    let (paid, refunded) = totals(&summary)?;
    let refunds = summary.count - trades;
    let footer = format!(
        "#{RULE}业务明细列表结束{RULE}\n#交易合计：{trades}笔，订单金额共{paid}元\n#退款合计：{refunds}笔，订单金额共{refunded}元\n"
    );
    put(out, summary.count, &footer)?;
    Ok((summary, trades))
}

/// Refuses what the reader would read back differently.
fn check(line: &StatementLine, item: u64) -> Result<(), WriteError> {
    let kind_text = match line.kind {
        LineKind::Payment => TRADE,
        LineKind::Refund => REFUND,
    };
    if line.status != kind_text {
        return refuse(
            item,
            format!(
                "an Alipay line's status is its 业务类型 {kind_text}, not {:?}",
                line.status
            ),
        );
    }
    if line.currency != Currency::CNY {
        return refuse(
            item,
            format!("an Alipay bill is in CNY, not {}", line.currency),
        );
    }
    let texts = [&line.time, &line.channel_order_no, &line.bank_ref];
    let padded = texts
        .into_iter()
        .chain(&line.refund_no)
        .find(|t| super::trimmed(t) != t.as_str());
    match padded {
        Some(text) => refuse(
            item,
            format!("{text:?} starts or ends with a space or tab, which Alipay's padding hides"),
        ),
        None => Ok(()),
    }
}

fn detail_row(line: &StatementLine, item: u64, row: &mut Row) -> Result<(), WriteError> {
    let amount = format_amount(line.amount_minor, Currency::CNY).ok_or_else(|| {
        WriteError::Unrepresentable {
            item,
            reason: "the amount is too large".into(),
        }
    })?;
    let amount = match line.kind {
        LineKind::Refund if line.amount_minor > 0 => format!("-{amount}"),
        _ => amount,
    };
    let fee = format_minor(-line.fee_minor, Currency::CNY);
    let zero = format_minor(0, Currency::CNY);
    let refund_no = line.refund_no.as_deref().unwrap_or("");
    // (value, padded with a tab as Alipay pads its text columns)
    let values: [(&str, bool); 25] = [
        (&line.bank_ref, true),
        (&line.channel_order_no, true),
        (&line.status, true),
        ("", true),
        (&line.time, false),
        (&line.time, false),
        ("", true),
        ("", true),
        ("", true),
        ("", true),
        ("", true),
        (&amount, false),
        (&amount, false),
        (&zero, false),
        (&zero, false),
        (&zero, false),
        (&zero, false),
        (&zero, false),
        ("", true),
        (&zero, false),
        (&zero, false),
        (refund_no, true),
        (&fee, false),
        (&zero, false),
        ("", true),
    ];
    row.start();
    for (value, padded) in values {
        row.push(item, "", value, if padded { "\t" } else { "" })?;
    }
    row.finish();
    Ok(())
}

/// The summary file beside the detail file (the reader does not read it).
fn summary_file(
    summary: &StatementSummary,
    trades: u64,
    out: &mut impl Write,
) -> Result<(), WriteError> {
    let (paid, refunded) = totals(summary)?;
    let refunds = summary.count - trades;
    let text = format!(
        "#支付宝业务汇总查询\n#{RULE}业务汇总列表{RULE}\n业务类型,笔数,订单金额（元）\n{TRADE},{trades},{paid}\n{REFUND},{refunds},{refunded}\n#{RULE}业务汇总列表结束{RULE}\n"
    );
    put(out, summary.count, &text)
}

/// The payments' and the refunds' totals as Alipay prints them (refunds negative).
fn totals(summary: &StatementSummary) -> Result<(String, String), WriteError> {
    let too_large = || WriteError::Unrepresentable {
        item: summary.count,
        reason: "the statement's totals are too large".into(),
    };
    let paid = format_amount(summary.total_amount_minor, Currency::CNY).ok_or_else(too_large)?;
    let refunded =
        format_amount(summary.total_refund_minor, Currency::CNY).ok_or_else(too_large)?;
    let refunded = if summary.total_refund_minor > 0 {
        format!("-{refunded}")
    } else {
        refunded
    };
    Ok((paid, refunded))
}

/// Writes text as GBK, refusing characters GBK does not have.
fn put(out: &mut impl Write, item: u64, text: &str) -> Result<(), WriteError> {
    let (bytes, _, unmappable) = GBK.encode(text);
    if unmappable {
        return refuse(
            item,
            format!("{:?} has a character GBK cannot encode", text.trim_end()),
        );
    }
    out.write_all(&bytes)?;
    Ok(())
}
