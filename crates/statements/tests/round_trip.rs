//! What a writer writes, its reader reads back: the same lines (at the physical lines the
//! format puts them on) and the same summary. And what a format cannot hold is refused.

mod common;

use common::{payment, read_all, refund, write};
use paycore_money::Currency;
use paycore_statements::{write_statement, Format, LineKind, StatementLine, WriteError};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Physical line of the first statement line: after the header, and for Alipay after the
/// two comment lines before it.
fn first_line(format: Format) -> u64 {
    match format {
        Format::Wechat | Format::Csv => 2,
        Format::Alipay => 4,
    }
}

/// `count` lines a format can hold, from a fixed seed: long numbers, Chinese order numbers,
/// commas and quotes in values, refunds with and without refund numbers.
fn lines(format: Format, count: usize, currency: Currency, seed: u64) -> Vec<StatementLine> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let orders = [
        "PC2024030100000001",
        "订单-上海-0001",
        "PC,with,commas",
        "say \"hi\"",
        "#1",
    ];
    (0..count)
        .map(|i| {
            let order = format!("{}{i}", orders[rng.gen_range(0..orders.len())]);
            let bank_ref = format!(
                "42000021012024030{:011}",
                rng.gen_range(0..100_000_000_000u64)
            );
            let amount = rng.gen_range(0..1_000_000_000u64);
            let fee = rng.gen_range(-100_000..100_000i64);
            let mut line = if rng.gen_bool(0.3) {
                let mut line = refund(&order, &bank_ref, &format!("退款{i}"), amount, -fee.abs());
                if rng.gen_bool(0.2) {
                    line.refund_no = None;
                }
                line
            } else {
                payment(&order, &bank_ref, amount, fee.abs())
            };
            line.time = format!(
                "2024-03-{:02} {:02}:{:02}:{:02}",
                i % 28 + 1,
                i % 24,
                i % 60,
                (i * 7) % 60
            );
            line.currency = currency;
            line.status = status(format, line.kind, &mut rng);
            line
        })
        .collect()
}

fn status(format: Format, kind: LineKind, rng: &mut SmallRng) -> String {
    let status = match (format, kind) {
        (Format::Alipay, LineKind::Payment) => "交易",
        (Format::Alipay, LineKind::Refund) => "退款",
        (Format::Wechat, LineKind::Refund) => "REFUND",
        (_, LineKind::Payment) => ["SUCCESS", "REVOKED", "CLOSED"][rng.gen_range(0..3)],
        (Format::Csv, LineKind::Refund) => ["REFUND", "SUCCESS"][rng.gen_range(0..2)],
    };
    status.to_owned()
}

fn assert_round_trip(format: Format, lines: &[StatementLine]) {
    let (bytes, written) = write(format, lines);
    let (read, summary) = read_all(format, &bytes).unwrap_or_else(|e| panic!("{format}: {e}"));
    assert_eq!(summary, written, "{format}");
    assert_eq!(read.len(), lines.len(), "{format}");
    for (i, (read, line)) in read.iter().zip(lines).enumerate() {
        let expected = StatementLine {
            line_no: first_line(format) + i as u64,
            ..line.clone()
        };
        assert_eq!(*read, expected, "{format}, line {i}");
    }
}

#[test]
fn every_format_round_trips() {
    for (seed, format) in (1u64..).zip(Format::ALL) {
        assert_round_trip(format, &lines(format, 500, Currency::CNY, seed));
    }
}

#[test]
fn other_currencies_round_trip() {
    for currency in [
        Currency::JPY,
        Currency::from_code("KWD").unwrap(),
        Currency::USD,
    ] {
        for format in [Format::Wechat, Format::Csv] {
            assert_round_trip(format, &lines(format, 50, currency, 7));
        }
    }
}

#[test]
fn empty_statements_round_trip() {
    for format in Format::ALL {
        let (bytes, summary) = write(format, &[]);
        assert_eq!(summary.count, 0);
        assert_eq!(
            read_all(format, &bytes).unwrap(),
            (vec![], summary),
            "{format}"
        );
    }
}

#[test]
fn the_wechat_writer_prints_what_wechat_prints() {
    let lines = [
        payment("PC1", "4200002101202403011234567890", 1234, 7),
        refund("PC1", "4200002101202403011234567890", "RF1", 200, -1),
    ];
    let (bytes, _) = write(Format::Wechat, &lines);
    let text = String::from_utf8(bytes).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 5);
    assert!(rows[0].starts_with("交易时间,公众账号ID,商户号,特约商户号,"));
    assert!(
        rows[1].contains(",`SUCCESS,`OTHERS,`CNY,`12.34,`0.00,`0,`0,`0.00,"),
        "{}",
        rows[1]
    );
    assert!(
        rows[1].contains(",`0.07000,`,`12.34,`0.00,`"),
        "{}",
        rows[1]
    );
    assert!(rows[2].contains(",`REFUND,"), "{}", rows[2]);
    assert!(
        rows[2].contains(",`RF1,`2.00,`0.00,`ORIGINAL,`SUCCESS,"),
        "{}",
        rows[2]
    );
    assert_eq!(rows[3], "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额");
    assert_eq!(rows[4], "`2,`12.34,`2.00,`0.00,`0.06000,`12.34,`2.00");
}

#[test]
fn the_alipay_writer_writes_gbk_in_a_zip_with_its_summary_file() {
    let mut line = payment("订单1", "2024030122001412345678901234", 3000, 18);
    line.status = "交易".to_owned();
    let (bytes, _) = write(Format::Alipay, &[line]);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert_eq!(names.len(), 2);
    assert!(names.iter().any(|n| n.contains("汇总")), "{names:?}");
    let detail = names.iter().find(|n| !n.contains("汇总")).unwrap().clone();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name(&detail).unwrap(), &mut raw).unwrap();
    let (text, _, malformed) = encoding_rs::GBK.decode(&raw);
    assert!(!malformed);
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "the detail file is GBK, not UTF-8"
    );
    assert!(text.starts_with("#支付宝业务明细查询\n#---"), "{text}");
    assert!(
        text.contains("2024030122001412345678901234\t,订单1\t,交易\t,"),
        "{text}"
    );
    assert!(text.contains(",30.00,30.00,"), "{text}");
    assert!(text.contains(",-0.18,0.00,"), "{text}");
    assert!(text.contains("业务明细列表结束"), "{text}");
}

fn refused(format: Format, line: &StatementLine) -> String {
    let ok = payment("PC0", "42", 1, 0);
    let ok = StatementLine {
        status: line.status.clone(),
        currency: line.currency,
        ..ok
    };
    match write_statement(format, [&ok, line], Vec::new()) {
        Err(WriteError::Unrepresentable { item: 2, reason }) => reason,
        other => panic!("{format}: expected line 2 to be refused, got {other:?}"),
    }
}

#[test]
fn writers_refuse_what_would_not_read_back() {
    let mut line = refund("PC1", "42", "RF1", 100, 0);
    line.status = "SUCCESS".to_owned();
    assert!(refused(Format::Wechat, &line).contains("REFUND"));
    let mut line = payment("PC1", "42", 100, 0);
    line.status = "SUCCESS".to_owned();
    line.channel_order_no = "喜欢😀".to_owned();
    line.status = "交易".to_owned();
    assert!(refused(Format::Alipay, &line).contains("GBK"));
    let mut line = payment("PC1\n2", "42", 100, 0);
    line.status = "交易".to_owned();
    for format in Format::ALL {
        assert!(refused(format, &line).contains("line break"), "{format}");
    }
    let mut line = payment("PC1", "42", 100, 0);
    line.status = "交易".to_owned();
    line.bank_ref = " 42".to_owned();
    assert!(refused(Format::Alipay, &line).contains("space or tab"));
    line.bank_ref = "42".to_owned();
    line.currency = Currency::USD;
    let ok_then_usd = write_statement(Format::Alipay, [&line], Vec::new()).unwrap_err();
    assert!(ok_then_usd.to_string().contains("CNY"), "{ok_then_usd}");
    let mut line = payment("PC1", "42", i64::MAX as u64 + 1, 0);
    assert!(refused(Format::Csv, &line).contains("too large"));
    line.amount_minor = 1;
    line.time = "2024-03-01".to_owned();
    assert!(refused(Format::Csv, &line).contains("YYYY-MM-DD"));
    line.time = "2024-03-01 10:00:00".to_owned();
    line.refund_no = Some("RF1".to_owned());
    assert!(refused(Format::Csv, &line).contains("payment has no refund_no"));
}
