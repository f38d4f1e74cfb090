//! The hand-written fixtures, shaped like real bills, read into exactly these lines.

mod common;

use common::{fixture, read_all};
use paycore_money::Currency;
use paycore_statements::{Format, LineKind, StatementLine, StatementReader, StatementSummary};

fn line(
    line_no: u64,
    time: &str,
    (order, bank_ref): (&str, &str),
    kind: LineKind,
    status: &str,
    (amount_minor, fee_minor): (u64, i64),
    refund_no: Option<&str>,
) -> StatementLine {
    StatementLine {
        line_no,
        time: time.to_owned(),
        channel_order_no: order.to_owned(),
        bank_ref: bank_ref.to_owned(),
        kind,
        status: status.to_owned(),
        amount_minor,
        fee_minor,
        currency: Currency::CNY,
        refund_no: refund_no.map(str::to_owned),
    }
}

#[test]
fn wechat_all_bill() {
    let (lines, summary) = read_all(Format::Wechat, &fixture("wechat_all.csv")).unwrap();
    let order = |n: &str, r: &str| {
        (
            format!("PC2024030100000{n}"),
            format!("420000210120240301123456789{r}"),
        )
    };
    let (o1, r1) = order("1", "0");
    let (o2, r2) = order("2", "1");
    let (o3, r3) = order("3", "2");
    let (o4, r4) = order("4", "3");
    use LineKind::{Payment, Refund};
    let expected = [
        line(
            2,
            "2024-03-01 09:15:02",
            (&o1, &r1),
            Payment,
            "SUCCESS",
            (1234, 7),
            None,
        ),
        line(
            3,
            "2024-03-01 10:02:45",
            (&o2, &r2),
            Payment,
            "SUCCESS",
            (10000, 60),
            None,
        ),
        line(
            4,
            "2024-03-01 11:40:00",
            (&o3, &r3),
            Payment,
            "REVOKED",
            (500, 3),
            None,
        ),
        line(
            5,
            "2024-03-01 15:30:12",
            (&o1, &r1),
            Refund,
            "REFUND",
            (200, -1),
            Some("RF20240301000001"),
        ),
        // 订单金额 50.00 with a 5.00 voucher: the amount is the order's, not the settled 45.00.
        line(
            6,
            "2024-03-01 18:05:59",
            (&o4, &r4),
            Payment,
            "SUCCESS",
            (5000, 27),
            None,
        ),
    ];
    assert_eq!(lines, expected);
    let totals = StatementSummary {
        currency: Some(Currency::CNY),
        count: 5,
        total_amount_minor: 16734,
        total_refund_minor: 200,
        total_fee_minor: 96,
    };
    assert_eq!(summary, totals);
}

fn alipay_lines() -> Vec<StatementLine> {
    let trade = ("PC20240301000101", "2024030122001412345678901234");
    use LineKind::{Payment, Refund};
    vec![
        line(
            6,
            "2024-03-01 10:20:15",
            trade,
            Payment,
            "交易",
            (3000, 18),
            None,
        ),
        line(
            7,
            "2024-03-01 11:00:09",
            ("PC20240301000102", "2024030122001412345678905678"),
            Payment,
            "交易",
            (5000, 27),
            None,
        ),
        line(
            8,
            "2024-03-01 15:02:41",
            trade,
            Refund,
            "退款",
            (1000, -6),
            Some("RF20240301000101"),
        ),
    ]
}

#[test]
fn alipay_zip_with_gbk_names_and_a_summary_file_first() {
    let (lines, summary) = read_all(Format::Alipay, &fixture("alipay_20240301.zip")).unwrap();
    assert_eq!(lines, alipay_lines());
    assert_eq!(
        (
            summary.count,
            summary.total_amount_minor,
            summary.total_refund_minor
        ),
        (3, 8000, 1000)
    );
    assert_eq!(summary.total_fee_minor, 39);
}

#[test]
fn alipay_detail_file_outside_its_archive() {
    let bytes = fixture("alipay_detail.csv");
    let lines: Vec<_> = StatementReader::alipay_csv(bytes.as_slice())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(lines, alipay_lines());
}

#[test]
fn plain_csv_with_an_extra_column_and_quotes() {
    let (lines, summary) = read_all(Format::Csv, &fixture("plain.csv")).unwrap();
    let first = ("PC20240301000001", "4200002101202403011234567890");
    use LineKind::{Payment, Refund};
    let expected = [
        line(
            2,
            "2024-03-01 09:15:02",
            first,
            Payment,
            "SUCCESS",
            (1234, 7),
            None,
        ),
        line(
            3,
            "2024-03-01 15:30:12",
            first,
            Refund,
            "REFUND",
            (200, -1),
            Some("RF20240301000001"),
        ),
        line(
            4,
            "2024-03-01 18:05:59",
            ("PC20240301000004", "4200002101202403011234567893"),
            Payment,
            "SUCCESS",
            (5000, 27),
            None,
        ),
    ];
    assert_eq!(lines, expected);
    assert_eq!(
        (
            summary.count,
            summary.total_amount_minor,
            summary.total_fee_minor
        ),
        (3, 6234, 33)
    );
}

#[test]
fn summary_is_only_there_after_the_last_line() {
    let bytes = fixture("wechat_all.csv");
    let mut reader = StatementReader::wechat(bytes.as_slice());
    assert_eq!(reader.format(), Format::Wechat);
    for _ in 0..5 {
        assert!(reader.summary().is_none());
        reader.next().unwrap().unwrap();
    }
    assert!(
        reader.summary().is_none(),
        "the summary row is not read yet"
    );
    assert!(reader.next().is_none());
    assert_eq!(reader.summary().unwrap().count, 5);
}
