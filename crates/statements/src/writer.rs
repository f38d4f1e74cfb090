//! `write_statement`, and what every format's writer shares: the checks a line must pass to
//! read back unchanged, and rows of CSV text with quoting.

use std::io::{BufWriter, Write};

use crate::time::is_timestamp;
use crate::{alipay, plain, wechat};
use crate::{Format, LineKind, StatementLine, StatementSummary, WriteError};

const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// Writes `lines` as a statement in `format` and returns their summary.
///
/// What is written reads back as the same lines (with the reader's own `line_no`) and the
/// same summary. A line the format cannot hold is refused with
/// [`WriteError::Unrepresentable`]; `out` then holds a partial statement.
pub fn write_statement<'l>(
    format: Format,
    lines: impl IntoIterator<Item = &'l StatementLine>,
    out: impl Write,
) -> Result<StatementSummary, WriteError> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER_BYTES, out);
    let lines = lines.into_iter();
    let summary = match format {
        Format::Wechat => wechat::write::write(lines, &mut out)?,
        Format::Alipay => alipay::write::write(lines, &mut out)?,
        Format::Csv => plain::write::write(lines, &mut out)?,
    };
    out.flush()?;
    Ok(summary)
}

/// Checks what every reader requires of a line, then adds it to `summary`.
pub(crate) fn summarize(
    summary: &mut StatementSummary,
    line: &StatementLine,
    item: u64,
) -> Result<(), WriteError> {
    if !is_timestamp(&line.time) {
        return refuse(
            item,
            format!("time {:?} is not YYYY-MM-DD HH:MM:SS", line.time),
        );
    }
    let ids = [
        ("channel_order_no", &line.channel_order_no),
        ("bank_ref", &line.bank_ref),
        ("status", &line.status),
    ];
    if let Some((name, _)) = ids.iter().find(|(_, value)| value.is_empty()) {
        return refuse(item, format!("{name} is empty"));
    }
    if line.fee_minor == i64::MIN {
        return refuse(item, "the fee is too small to be written");
    }
    match (&line.refund_no, line.kind) {
        (Some(_), LineKind::Payment) => return refuse(item, "a payment has no refund_no"),
        (Some(no), LineKind::Refund) if no.is_empty() => {
            return refuse(item, "an empty refund_no reads back as none: use None")
        }
        _ => {}
    }
    summary
        .add(line, item)
        .map_err(|err| WriteError::Unrepresentable {
            item,
            reason: err.reason,
        })
}

pub(crate) fn refuse(item: u64, reason: impl Into<String>) -> Result<(), WriteError> {
    Err(WriteError::Unrepresentable {
        item,
        reason: reason.into(),
    })
}

/// One line of CSV text being built, reused from row to row.
#[derive(Debug, Default)]
pub(crate) struct Row {
    text: String,
    fields: usize,
}

impl Row {
    pub(crate) fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// A header line: names as they are.
    pub(crate) fn plain_line(&mut self, names: &[&str]) {
        self.text.clear();
        self.text.push_str(&names.join(","));
        self.text.push('\n');
    }

    /// A data line: each value behind `prefix` (WeChat's backtick, or nothing).
    pub(crate) fn line(
        &mut self,
        item: u64,
        values: &[&str],
        prefix: &str,
    ) -> Result<(), WriteError> {
        self.start();
        for value in values {
            self.push(item, prefix, value, "")?;
        }
        self.finish();
        Ok(())
    }

    pub(crate) fn start(&mut self) {
        self.text.clear();
        self.fields = 0;
    }

    /// Appends `prefix value suffix` as one field, quoted when a reader would otherwise split
    /// it or take its line for a comment; a line break cannot be written.
    pub(crate) fn push(
        &mut self,
        item: u64,
        prefix: &str,
        value: &str,
        suffix: &str,
    ) -> Result<(), WriteError> {
        let mut quote = prefix.is_empty() && value.starts_with('#');
        for byte in value.bytes() {
            match byte {
                b'\n' | b'\r' => return refuse(item, format!("{value:?} holds a line break")),
                b',' | b'"' => quote = true,
                _ => {}
            }
        }
        if self.fields > 0 {
            self.text.push(',');
        }
        self.fields += 1;
        if !quote {
            self.text.extend([prefix, value, suffix]);
            return Ok(());
        }
        self.text.push('"');
        self.text.push_str(prefix);
        self.text.push_str(&value.replace('"', "\"\""));
        self.text.push_str(suffix);
        self.text.push('"');
        Ok(())
    }

    pub(crate) fn finish(&mut self) {
        self.text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Record;

    #[test]
    fn rows_quote_what_the_reader_would_split() {
        let mut row = Row::default();
        row.line(1, &["a", "b,c", "say \"hi\"", "#x", ""], "")
            .unwrap();
        assert_eq!(row.text(), "a,\"b,c\",\"say \"\"hi\"\"\",\"#x\",\n");
        let read = Record::parse(1, row.text().trim_end());
        assert_eq!(
            read.iter().collect::<Vec<_>>(),
            ["a", "b,c", "say \"hi\"", "#x", ""]
        );
        row.line(1, &["12", "a,b"], "`").unwrap();
        assert_eq!(row.text(), "`12,\"`a,b\"\n");
        let err = row.line(3, &["a\nb"], "").unwrap_err();
        assert!(
            matches!(err, WriteError::Unrepresentable { item: 3, .. }),
            "{err}"
        );
    }
}
