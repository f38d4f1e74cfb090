//! Helpers shared by the integration tests: reading a whole statement, building lines.

#![allow(dead_code)]

use std::io::Cursor;
use std::path::PathBuf;

use paycore_money::Currency;
use paycore_statements::{
    write_statement, Format, LineKind, StatementError, StatementLine, StatementReader,
    StatementSummary,
};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every line of a statement and its summary, or the first error.
pub fn read_all(
    format: Format,
    bytes: &[u8],
) -> Result<(Vec<StatementLine>, StatementSummary), StatementError> {
    let mut reader = StatementReader::open(format, Cursor::new(bytes))?;
    let lines = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    let summary = *reader.summary().expect("a summary after the last line");
    assert!(reader.next().is_none(), "the reader is fused");
    Ok((lines, summary))
}

/// The error reading `bytes` ends with.
pub fn read_error(format: Format, bytes: &[u8]) -> StatementError {
    match read_all(format, bytes) {
        Ok((lines, _)) => panic!("read {} lines without an error", lines.len()),
        Err(err) => err,
    }
}

pub fn write(format: Format, lines: &[StatementLine]) -> (Vec<u8>, StatementSummary) {
    let mut out = Vec::new();
    let summary = write_statement(format, lines, &mut out).expect("writable lines");
    (out, summary)
}

pub fn payment(order: &str, bank_ref: &str, amount_minor: u64, fee_minor: i64) -> StatementLine {
    StatementLine {
        line_no: 0,
        time: "2024-03-01 10:00:00".to_owned(),
        channel_order_no: order.to_owned(),
        bank_ref: bank_ref.to_owned(),
        kind: LineKind::Payment,
        status: "SUCCESS".to_owned(),
        amount_minor,
        fee_minor,
        currency: Currency::CNY,
        refund_no: None,
    }
}

pub fn refund(
    order: &str,
    bank_ref: &str,
    refund_no: &str,
    amount_minor: u64,
    fee_minor: i64,
) -> StatementLine {
    StatementLine {
        kind: LineKind::Refund,
        status: "REFUND".to_owned(),
        refund_no: Some(refund_no.to_owned()),
        ..payment(order, bank_ref, amount_minor, fee_minor)
    }
}

/// Text with one line (1-based) replaced through `edit`.
pub fn edit_line(text: &str, line: usize, edit: impl FnOnce(&str) -> String) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    lines[line - 1] = edit(&lines[line - 1]);
    lines.join("\n")
}
