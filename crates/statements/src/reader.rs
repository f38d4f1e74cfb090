//! `StatementReader`: a statement as an iterator of lines, with its summary at the end.

use std::io::{Read, Seek};

use crate::alipay::{archive, read::AlipayReader};
use crate::plain::read::CsvReader;
use crate::records::{Encoding, Lines, Record};
use crate::wechat::read::WechatReader;
use crate::{ErrorKind, Format, StatementError, StatementLine, StatementSummary};

/// Reads a statement one line at a time, in bounded memory.
///
/// Yields `Ok(line)` for each payment or refund, in file order. The first error is yielded
/// once and ends the iteration. After the last line — once `next` has returned `None`
/// without an error — [`StatementReader::summary`] gives the statement's totals (for WeChat,
/// checked against its printed summary row).
///
/// ```
/// use paycore_statements::{StatementReader, LineKind};
///
/// let text = "time,channel_order_no,bank_ref,kind,status,amount,fee,currency,refund_no\n\
///             2024-03-01 10:00:00,PC0001,4200001234567890,payment,SUCCESS,12.34,0.07,CNY,\n";
/// let mut reader = StatementReader::csv(text.as_bytes());
/// let line = reader.next().unwrap().unwrap();
/// assert_eq!((line.line_no, line.kind, line.amount_minor), (2, LineKind::Payment, 1234));
/// assert!(reader.next().is_none());
/// assert_eq!(reader.summary().unwrap().total_amount_minor, 1234);
/// ```
pub struct StatementReader<'a> {
    format: Format,
    lines: Lines<'a>,
    record: Record,
    parser: Parser,
    summary: StatementSummary,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Finished,
    Failed,
}

/// One per reader, so the WeChat variant's size costs nothing; boxing it would cost an
/// indirection per row.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Parser {
    Wechat(WechatReader),
    Alipay(AlipayReader),
    Csv(CsvReader),
}

impl<'a> StatementReader<'a> {
    /// A WeChat trade bill (UTF-8 text).
    pub fn wechat(input: impl Read + 'a) -> StatementReader<'a> {
        let lines = Lines::new(Box::new(input), Encoding::Utf8, false, ErrorKind::Io);
        StatementReader::new(
            Format::Wechat,
            lines,
            Parser::Wechat(WechatReader::default()),
        )
    }

    /// A plain CSV statement (UTF-8 text).
    pub fn csv(input: impl Read + 'a) -> StatementReader<'a> {
        let lines = Lines::new(Box::new(input), Encoding::Utf8, false, ErrorKind::Io);
        StatementReader::new(Format::Csv, lines, Parser::Csv(CsvReader::default()))
    }

    /// An Alipay bill: the zip archive as the channel sends it. Finding the detail file reads
    /// the archive's central directory; the detail file itself is inflated as it is read.
    pub fn alipay(input: impl Read + Seek + 'a) -> Result<StatementReader<'a>, StatementError> {
        let detail = archive::detail_file(input)?;
        let lines = Lines::new(detail, Encoding::Gbk, true, ErrorKind::Zip);
        Ok(StatementReader::new(
            Format::Alipay,
            lines,
            Parser::Alipay(AlipayReader::default()),
        ))
    }

    /// An Alipay detail file already taken out of its archive (GBK text with `#` comments).
    pub fn alipay_csv(input: impl Read + 'a) -> StatementReader<'a> {
        let lines = Lines::new(Box::new(input), Encoding::Gbk, true, ErrorKind::Io);
        StatementReader::new(
            Format::Alipay,
            lines,
            Parser::Alipay(AlipayReader::default()),
        )
    }

    /// A statement in `format`; only Alipay needs `Seek` (and may fail here, on its archive).
    pub fn open(
        format: Format,
        input: impl Read + Seek + 'a,
    ) -> Result<StatementReader<'a>, StatementError> {
        match format {
            Format::Wechat => Ok(StatementReader::wechat(input)),
            Format::Alipay => StatementReader::alipay(input),
            Format::Csv => Ok(StatementReader::csv(input)),
        }
    }

    fn new(format: Format, lines: Lines<'a>, parser: Parser) -> StatementReader<'a> {
        StatementReader {
            format,
            lines,
            record: Record::default(),
            parser,
            summary: StatementSummary::default(),
            state: State::Reading,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The count and totals of the lines, once all of them were read without an error.
    pub fn summary(&self) -> Option<&StatementSummary> {
        (self.state == State::Finished).then_some(&self.summary)
    }

    fn next_line(&mut self) -> Result<Option<StatementLine>, StatementError> {
        while self.lines.next_record(&mut self.record)? {
            let line = match &mut self.parser {
                Parser::Wechat(parser) => parser.row(&self.record, &self.summary)?,
                Parser::Alipay(parser) => parser.row(&self.record)?,
                Parser::Csv(parser) => parser.row(&self.record)?,
            };
            if let Some(line) = line {
                self.summary.add(&line, line.line_no)?;
                return Ok(Some(line));
            }
        }
        let lines_read = self.lines.line();
        match &self.parser {
            Parser::Wechat(parser) => parser.finish(lines_read)?,
            Parser::Alipay(parser) => parser.finish(lines_read)?,
            Parser::Csv(parser) => parser.finish(lines_read)?,
        }
        Ok(None)
    }
}

impl Iterator for StatementReader<'_> {
    type Item = Result<StatementLine, StatementError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state != State::Reading {
            return None;
        }
        match self.next_line() {
            Ok(Some(line)) => Some(Ok(line)),
            Ok(None) => {
                self.state = State::Finished;
                None
            }
            Err(err) => {
                self.state = State::Failed;
                Some(Err(err))
            }
        }
    }
}

impl std::iter::FusedIterator for StatementReader<'_> {}
