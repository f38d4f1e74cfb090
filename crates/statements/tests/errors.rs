//! Every error kind, each at the exact line it is about.

mod common;

use std::io::{Cursor, Write};

use common::{edit_line, fixture, read_error};
use paycore_statements::{ErrorKind, Format, StatementError};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn wechat() -> String {
    String::from_utf8(fixture("wechat_all.csv")).unwrap()
}

fn wechat_error(text: &str) -> StatementError {
    read_error(Format::Wechat, text.as_bytes())
}

fn assert_error(err: &StatementError, kind: ErrorKind, line: u64, words: &[&str]) {
    assert_eq!((err.kind, err.line), (kind, line), "{err}");
    for word in words {
        assert!(err.reason.contains(word), "{word:?} not in {err}");
    }
    assert!(
        err.to_string().starts_with(&format!("line {line}: ")),
        "{err}"
    );
}

#[test]
fn bad_amounts() {
    let err = wechat_error(&edit_line(&wechat(), 3, |l| {
        l.replace("`100.00", "`12.3.4")
    }));
    assert_error(&err, ErrorKind::InvalidAmount, 3, &["\"12.3.4\""]);
    let err = wechat_error(&edit_line(&wechat(), 4, |l| l.replace("`5.00", "`-5.00")));
    assert_error(&err, ErrorKind::InvalidAmount, 4, &["negative"]);
    let err = wechat_error(&edit_line(&wechat(), 2, |l| {
        l.replacen("`12.34", "`12.345", 2)
    }));
    assert_error(
        &err,
        ErrorKind::InvalidAmount,
        2,
        &["too many decimal places"],
    );
    let err = wechat_error(&edit_line(&wechat(), 6, |l| {
        l.replace("`0.27000", "`0.270001")
    }));
    assert_error(
        &err,
        ErrorKind::InvalidAmount,
        6,
        &["手续费", "at most 5 decimals"],
    );
    let csv = String::from_utf8(fixture("plain.csv")).unwrap();
    let err = read_error(
        Format::Csv,
        edit_line(&csv, 4, |l| l.replace(",50,", ",5O,")).as_bytes(),
    );
    assert_error(&err, ErrorKind::InvalidAmount, 4, &["amount \"5O\""]);
}

#[test]
fn missing_header_and_columns() {
    let err = wechat_error(&edit_line(&wechat(), 1, |l| {
        l.replace("商户订单号", "商户单号")
    }));
    assert_error(&err, ErrorKind::MissingColumn, 1, &["商户订单号"]);
    let err = wechat_error(&edit_line(&wechat(), 7, |l| {
        l.replace("手续费总金额", "手续费")
    }));
    assert_error(
        &err,
        ErrorKind::MissingColumn,
        7,
        &["WeChat summary", "手续费总金额"],
    );
    assert_error(&wechat_error(""), ErrorKind::MissingHeader, 1, &["empty"]);
    assert_error(
        &wechat_error("\r\n\n"),
        ErrorKind::MissingHeader,
        3,
        &["empty"],
    );
    let rows_only: String = wechat().split_inclusive('\n').skip(1).collect();
    assert_error(
        &wechat_error(&rows_only),
        ErrorKind::MissingHeader,
        1,
        &["detail row"],
    );
    let err = read_error(
        Format::Csv,
        b"time,channel_order_no,bank_ref,kind,status,amount,fee\n",
    );
    assert_error(&err, ErrorKind::MissingColumn, 1, &["currency"]);
}

#[test]
fn wrong_encoding() {
    let mut bytes = wechat().into_bytes();
    let at = bytes
        .windows(6)
        .position(|w| w == "矿泉".as_bytes())
        .unwrap();
    bytes[at + 1] = 0xFF;
    assert_error(
        &read_error(Format::Wechat, &bytes),
        ErrorKind::Encoding,
        4,
        &["UTF-8"],
    );
    let mut gbk = fixture("alipay_detail.csv");
    let at = gbk.windows(2).position(|w| w == b"PC").unwrap();
    gbk.splice(at..at, [0x81, 0x0A]); // a lead byte cut off by a line break, on line 6
    let err = paycore_statements::StatementReader::alipay_csv(gbk.as_slice())
        .find_map(Result::err)
        .unwrap();
    assert_error(&err, ErrorKind::Encoding, 6, &["GBK"]);
}

#[test]
fn rows_with_the_wrong_number_of_fields() {
    let err = wechat_error(&edit_line(&wechat(), 4, |l| {
        l.rsplit_once(',').unwrap().0.to_owned()
    }));
    assert_error(&err, ErrorKind::FieldCount, 4, &["26 fields", "27"]);
    let err = wechat_error(&edit_line(&wechat(), 8, |l| format!("{l},`0")));
    assert_error(&err, ErrorKind::FieldCount, 8, &["WeChat summary"]);
    let err = wechat_error(&edit_line(&wechat(), 5, |l| l.replacen(",`", ",\"`", 1)));
    assert_error(&err, ErrorKind::Malformed, 5, &["quoted"]);
}

#[test]
fn missing_and_duplicated_summaries() {
    let text = wechat();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let err = wechat_error(&lines[..6].concat());
    assert_error(&err, ErrorKind::MissingSummary, 7, &["after line 6"]);
    let err = wechat_error(&lines[..7].concat());
    assert_error(&err, ErrorKind::MissingSummary, 8, &["line 7"]);
    let err = wechat_error(&format!("{text}{}", lines[7]));
    assert_error(&err, ErrorKind::DuplicateSummary, 9, &["line 8"]);
    let err = wechat_error(&format!("{text}{}{}", lines[6], lines[7]));
    assert_error(&err, ErrorKind::DuplicateSummary, 9, &["second summary"]);
    let err = wechat_error(&format!("{text}{}", lines[2]));
    assert_error(&err, ErrorKind::TrailingData, 9, &["after the summary"]);
}

#[test]
fn summary_mismatches_name_the_total() {
    let err = wechat_error(&edit_line(&wechat(), 8, |l| l.replacen("`5,", "`6,", 1)));
    assert_error(
        &err,
        ErrorKind::SummaryMismatch,
        8,
        &["总交易单数 is 6", "5 detail rows"],
    );
    let err = wechat_error(&edit_line(&wechat(), 8, |l| {
        l.replacen("`2.00", "`2.01", 1)
    }));
    assert_error(
        &err,
        ErrorKind::SummaryMismatch,
        8,
        &["退款总金额 is 2.01", "退款金额 add up to 2.00"],
    );
    // The fee total is exact at five decimals: off by 0.00001 is a mismatch.
    let err = wechat_error(&edit_line(&wechat(), 8, |l| {
        l.replace("`0.96204", "`0.96205")
    }));
    assert_error(
        &err,
        ErrorKind::SummaryMismatch,
        8,
        &["手续费总金额 is 0.96205", "0.96204"],
    );
    let err = wechat_error(&edit_line(&wechat(), 8, |l| {
        l.replace("`162.34", "`167.34")
    }));
    assert_error(&err, ErrorKind::SummaryMismatch, 8, &["应结订单总金额"]);
    let err = wechat_error(&edit_line(&wechat(), 8, |l| l.replacen("`5,", "`5x,", 1)));
    assert_error(&err, ErrorKind::InvalidValue, 8, &["not a count"]);
}

#[test]
fn invalid_values() {
    let err = wechat_error(&edit_line(&wechat(), 3, |l| {
        l.replace("2024-03-01 10:02:45", "2024/03/01 10:02:45")
    }));
    assert_error(&err, ErrorKind::InvalidValue, 3, &["交易时间"]);
    let err = wechat_error(&edit_line(&wechat(), 6, |l| l.replace("`CNY", "`RMB")));
    assert_error(&err, ErrorKind::InvalidValue, 6, &["货币种类", "RMB"]);
    let err = wechat_error(&edit_line(&wechat(), 2, |l| {
        l.replace("`PC20240301000001", "`")
    }));
    assert_error(&err, ErrorKind::InvalidValue, 2, &["商户订单号 is empty"]);
    let csv = String::from_utf8(fixture("plain.csv")).unwrap();
    let err = read_error(
        Format::Csv,
        edit_line(&csv, 3, |l| l.replace(",refund,", ",chargeback,")).as_bytes(),
    );
    assert_error(&err, ErrorKind::InvalidValue, 3, &["chargeback"]);
    let err = read_error(
        Format::Csv,
        edit_line(&csv, 4, |l| l.replace(",CNY,", ",USD,")).as_bytes(),
    );
    assert_error(&err, ErrorKind::InvalidValue, 4, &["one currency"]);
    let err = read_error(
        Format::Csv,
        edit_line(&csv, 2, |l| l.replace(",CNY,,", ",CNY,RF1,")).as_bytes(),
    );
    assert_error(
        &err,
        ErrorKind::InvalidValue,
        2,
        &["payment has no refund_no"],
    );
}

/// A zip archive of `(name, content, method)` entries.
fn archive(entries: &[(&str, &[u8], CompressionMethod)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content, method) in entries {
        zip.start_file(
            *name,
            SimpleFileOptions::default().compression_method(*method),
        )
        .unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn broken_archives() {
    let err = read_error(Format::Alipay, b"PK\x03\x04 not really a zip");
    assert_error(&err, ErrorKind::Zip, 0, &["zip"]);
    let zip = fixture("alipay_20240301.zip");
    let err = read_error(Format::Alipay, &zip[..zip.len() / 2]);
    assert_error(&err, ErrorKind::Zip, 0, &["zip"]);
    let other = archive(&[("readme.txt", b"hello", CompressionMethod::Stored)]);
    assert_error(
        &read_error(Format::Alipay, &other),
        ErrorKind::Zip,
        0,
        &["no detail file"],
    );
    let detail = fixture("alipay_detail.csv");
    let two = archive(&[
        ("a.csv", &detail, CompressionMethod::Stored),
        ("b.csv", &detail, CompressionMethod::Stored),
    ]);
    assert_error(
        &read_error(Format::Alipay, &two),
        ErrorKind::Zip,
        0,
        &["none of the archive's 2 CSV"],
    );
}

#[test]
fn a_corrupt_entry_fails_its_checksum_after_the_last_line() {
    let detail = fixture("alipay_detail.csv");
    let mut zip = archive(&[("bill_业务明细.csv", &detail, CompressionMethod::Stored)]);
    // Stored, so the bytes are in the archive as they are: turn 服务费 -0.18 into -0.19.
    let at = zip.windows(5).position(|w| w == b"-0.18").unwrap();
    zip[at + 4] = b'9';
    let lines_in_detail = detail.iter().filter(|&&b| b == b'\n').count() as u64;
    let err = read_error(Format::Alipay, &zip);
    assert_error(&err, ErrorKind::Zip, lines_in_detail + 1, &["CRC-32"]);
    let mut deflated = archive(&[("bill_业务明细.csv", &detail, CompressionMethod::Deflated)]);
    let middle = 30 + "bill_业务明细.csv".len() + 40;
    deflated[middle] ^= 0x5A;
    let err = read_error(Format::Alipay, &deflated);
    assert!(
        matches!(
            err.kind,
            ErrorKind::Zip | ErrorKind::Encoding | ErrorKind::Malformed
        ),
        "{err}"
    );
}

#[test]
fn alipay_rows() {
    let detail = encoding_rs::GBK
        .decode(&fixture("alipay_detail.csv"))
        .0
        .into_owned();
    let gbk = |text: &str| encoding_rs::GBK.encode(text).0.into_owned();
    let read = |text: &str| {
        paycore_statements::StatementReader::alipay_csv(Cursor::new(gbk(text)))
            .find_map(Result::err)
            .unwrap()
    };
    let err = read(&edit_line(&detail, 7, |l| l.replace("交易\t", "转账\t")));
    assert_error(&err, ErrorKind::InvalidValue, 7, &["业务类型", "转账"]);
    let err = read(&edit_line(&detail, 6, |l| l.replace(",30.00,", ",-30.00,")));
    assert_error(&err, ErrorKind::InvalidAmount, 6, &["negative"]);
    let err = read(&edit_line(&detail, 5, |l| {
        l.replace("服务费（元）", "手续费")
    }));
    assert_error(&err, ErrorKind::MissingColumn, 5, &["服务费（元）"]);
    let comments_only: String = detail.split_inclusive('\n').take(4).collect();
    assert_error(
        &read(&comments_only),
        ErrorKind::MissingHeader,
        5,
        &["no detail header"],
    );
}

/// Gives `bytes`, then fails.
struct FailingAfter<'a>(&'a [u8]);

impl std::io::Read for FailingAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "the channel hung up",
            ));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn a_failing_input_is_an_io_error_at_the_line_being_read() {
    let text = wechat();
    let cut = text.match_indices('\n').nth(2).unwrap().0 + 1; // three whole lines
    let mut reader =
        paycore_statements::StatementReader::wechat(FailingAfter(&text.as_bytes()[..cut]));
    assert_eq!(reader.next().unwrap().unwrap().line_no, 2);
    assert_eq!(reader.next().unwrap().unwrap().line_no, 3);
    let err = reader.next().unwrap().unwrap_err();
    assert_error(&err, ErrorKind::Io, 4, &["hung up"]);
    assert!(reader.next().is_none(), "nothing after the first error");
    assert!(reader.summary().is_none());
}
