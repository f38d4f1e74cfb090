//! Day files for reconciliation through paycore's own adapters: statements in all three
//! formats read back with `paycore_statements`, settlements, their signatures, every
//! statement fault as `/truth` reports it, and lines carried to the next day.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use common::{Harness, PROTOCOLS};
use paycore_channels::json::reply::verify_message;
use paycore_channels::sign::{self, SignatureHeaders};
use paycore_channels::{
    clock, CallError, ChannelAdapter, Currency, Method, PayoutOrder, Protocol, RefundOrder,
    SigningSecret,
};
use paycore_statements::{Format, LineKind, StatementLine, StatementReader};
use serde_json::{json, Value};
use time::{Date, Month};

const PATIENCE: Duration = Duration::from_secs(5);
/// 2024-03-01 10:00:00 in Beijing (02:00 UTC): the bank's clock in these tests.
const BANK_NOW_MS: i64 = 1_709_258_400_000;
const FEE_BP: u64 = 60;

fn day(d: u8) -> Date {
    Date::from_calendar_date(2024, Month::March, d).unwrap()
}

/// Settings putting the bank's clock at [`BANK_NOW_MS`], with a fee.
fn on_the_first(extra: Value) -> Value {
    let mut settings = json!({
        "clock_offset_ms": BANK_NOW_MS - clock::unix_now_ms(),
        "fee_bp": FEE_BP,
    });
    settings
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    settings
}

fn fee(amount: u64) -> u64 {
    (amount * FEE_BP + 5_000) / 10_000
}

/// A real line as the test expects it: (kind, channel order no, refund no, amount, fee).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    kind: &'static str,
    channel_order_no: String,
    refund_no: Option<String>,
    amount: u64,
    fee: i64,
    bank_ref: String,
}

impl Expected {
    /// The bank's own number of the line (what `/truth` keys by).
    fn number(&self) -> &str {
        self.refund_no.as_deref().unwrap_or(&self.channel_order_no)
    }

    fn of(line: &StatementLine) -> Expected {
        Expected {
            kind: line.kind.name(),
            channel_order_no: line.channel_order_no.clone(),
            refund_no: line.refund_no.clone(),
            amount: line.amount_minor,
            fee: line.fee_minor,
            bank_ref: line.bank_ref.clone(),
        }
    }
}

/// Traffic on one channel: pay orders (some failing), refunds, a payout; what the bank
/// records as succeeded comes back as the expected lines.
async fn traffic(
    h: &Harness,
    ch: &str,
    adapter: &Arc<dyn ChannelAdapter>,
    n: u32,
) -> Vec<Expected> {
    let mut expected = Vec::new();
    for i in 0..n {
        let no = format!("P{ch}-{i:03}");
        let amount = 1_000 + u64::from(i) * 137;
        adapter
            .pay(&h.pay_order(ch, &no, amount, Method::Quickpay))
            .await
            .unwrap();
        let truth = h.truth(ch, &no).await;
        assert_eq!(truth["statement_date"], "2024-03-01", "{truth}");
        if truth["status"] != "succeeded" {
            continue;
        }
        let bank_ref = truth["bank_ref"].as_str().unwrap().to_owned();
        assert_eq!(truth["fee"], fee(amount));
        expected.push(Expected {
            kind: "payment",
            channel_order_no: no.clone(),
            refund_no: None,
            amount,
            fee: fee(amount) as i64,
            bank_ref: bank_ref.clone(),
        });
        if i % 3 == 0 {
            let refund_no = format!("R{ch}-{i:03}");
            let refund = RefundOrder {
                refund_no: refund_no.clone(),
                channel_order_no: no.clone(),
                amount_minor: 300,
                currency: Currency::CNY,
                reason: "test".to_owned(),
                notify_url: h.notify_url(ch),
            };
            adapter.refund(&refund).await.unwrap();
            if h.truth(ch, &refund_no).await["status"] == "succeeded" {
                expected.push(Expected {
                    kind: "refund",
                    channel_order_no: no,
                    refund_no: Some(refund_no),
                    amount: 300,
                    fee: 0,
                    bank_ref,
                });
            }
        }
    }
    let payout = PayoutOrder {
        payout_no: format!("O{ch}"),
        amount_minor: 777,
        currency: Currency::CNY,
        bank_account: "6222020000000000".to_owned(),
        notify_url: h.notify_url(ch),
    };
    adapter.payout(&payout).await.unwrap();
    expected.sort();
    expected
}

fn parse(format: Format, bytes: Vec<u8>) -> Vec<StatementLine> {
    let reader = StatementReader::open(format, Cursor::new(bytes)).unwrap();
    reader.collect::<Result<Vec<_>, _>>().unwrap()
}

async fn statement(
    adapter: &Arc<dyn ChannelAdapter>,
    date: Date,
    format: Format,
) -> Vec<StatementLine> {
    parse(
        format,
        adapter.statement(date, format.name()).await.unwrap(),
    )
}

fn net(lines: &[Expected]) -> i64 {
    lines
        .iter()
        .map(|l| match l.kind {
            "payment" => l.amount as i64 - l.fee,
            _ => -(l.amount as i64),
        })
        .sum()
}

fn sorted(lines: &[StatementLine]) -> Vec<Expected> {
    let mut lines: Vec<Expected> = lines.iter().map(Expected::of).collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn statements_list_the_succeeded_orders_in_every_format_and_settle_their_net() {
    let h = Harness::start(11).await;
    for protocol in PROTOCOLS {
        let ch = format!("{}-stmt", protocol.name());
        let settings = on_the_first(json!({ "success_pct": 70, "fail_pct": 30 }));
        let adapter = h.channel(&ch, protocol, settings, PATIENCE).await;
        let expected = traffic(&h, &ch, &adapter, 12).await;
        assert!(expected.iter().any(|l| l.kind == "refund"), "{expected:?}");
        assert!(expected.len() < 12 + 4, "some orders failed: {expected:?}");
        for format in Format::ALL {
            let lines = statement(&adapter, day(1), format).await;
            assert_eq!(sorted(&lines), expected, "{protocol:?} {format}");
            for line in &lines {
                assert!(line.time.starts_with("2024-03-01 10:"), "{line:?}");
                assert_eq!(line.currency, Currency::CNY);
                let status = match (format, line.kind) {
                    (Format::Alipay, LineKind::Payment) => "交易",
                    (Format::Alipay, LineKind::Refund) => "退款",
                    (_, LineKind::Payment) => "SUCCESS",
                    (_, LineKind::Refund) => "REFUND",
                };
                assert_eq!(line.status, status, "{format} {line:?}");
            }
        }
        let settlement = adapter.settlement(day(1)).await.unwrap();
        assert_eq!(settlement.date, day(1));
        assert_eq!(settlement.currency, Currency::CNY);
        assert_eq!(settlement.amount_minor, net(&expected));
        assert_eq!(settlement.count, expected.len() as u64);

        for format in Format::ALL {
            let bytes = adapter.statement(day(2), format.name()).await.unwrap();
            let mut reader = StatementReader::open(format, Cursor::new(bytes)).unwrap();
            assert!(
                reader.next().is_none(),
                "{format}: an empty day has no rows"
            );
            assert_eq!(reader.summary().unwrap().count, 0);
        }
        let empty = adapter.settlement(day(2)).await.unwrap();
        assert_eq!((empty.amount_minor, empty.count), (0, 0));
    }
}

/// A GET signed with `secret` (or not at all), as paycore's adapters sign day-file requests.
async fn signed_get(
    h: &Harness,
    path: &str,
    secret: Option<&str>,
) -> (u16, http::HeaderMap, Vec<u8>) {
    let mut request = h.http.get(format!("{}{path}", h.sim_url()));
    if let Some(secret) = secret {
        let signed =
            SignatureHeaders::sign(&SigningSecret::new(secret), clock::unix_now(), |ts, n| {
                sign::json_request_content("GET", path, ts, n, b"")
            });
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn day_files_verify_requests_and_sign_every_answer() {
    let h = Harness::start(12).await;
    let ch = "json-signed";
    let secret = SigningSecret::new(format!("secret-{ch}"));
    let adapter = h
        .channel(ch, Protocol::SimJson, on_the_first(json!({})), PATIENCE)
        .await;
    let expected = traffic(&h, ch, &adapter, 2).await;

    let path = format!("/sim/channels/{ch}/statements/2024-03-01?format=csv");
    let (status, headers, body) = signed_get(&h, &path, Some("secret-json-signed")).await;
    assert_eq!(status, 200);
    verify_message(&headers, &body, &secret).unwrap();
    assert!(verify_message(&headers, &body, &SigningSecret::new("other")).is_err());
    assert_eq!(sorted(&parse(Format::Csv, body)), expected);

    let refused = [
        (path.clone(), None, 401, "SIGN_ERROR"),
        (path.clone(), Some("wrong"), 401, "SIGN_ERROR"),
        (
            format!("/sim/channels/{ch}/statements/2024-3-01?format=csv"),
            Some("secret-json-signed"),
            400,
            "invalid_date",
        ),
        (
            format!("/sim/channels/{ch}/statements/2024-02-30?format=csv"),
            Some("secret-json-signed"),
            400,
            "invalid_date",
        ),
        (
            format!("/sim/channels/{ch}/statements/2024-03-01?format=ofx"),
            Some("secret-json-signed"),
            400,
            "invalid_format",
        ),
        (
            format!("/sim/channels/{ch}/statements/2024-03-01"),
            Some("secret-json-signed"),
            400,
            "invalid_format",
        ),
        (
            format!("/sim/channels/{ch}/settlements/01-03-2024"),
            Some("secret-json-signed"),
            400,
            "invalid_date",
        ),
        (
            format!("/sim/channels/{ch}/settlements/2024-03-01"),
            Some("wrong"),
            401,
            "SIGN_ERROR",
        ),
    ];
    for (path, key, expected_status, code) in refused {
        let (status, headers, body) = signed_get(&h, &path, key).await;
        assert_eq!(status, expected_status, "{path}");
        verify_message(&headers, &body, &secret).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], code, "{path} {body}");
    }
    let (status, _, body) =
        signed_get(&h, "/sim/channels/nobody/settlements/2024-03-01", Some("x")).await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["code"],
        "channel_not_found"
    );

    let stranger = h.adapter(ch, Protocol::SimForm, "not-the-secret", PATIENCE);
    let error = stranger.settlement(day(1)).await.unwrap_err();
    assert!(
        matches!(&error, CallError::Protocol(m) if m.contains("HTTP 401")),
        "{error}"
    );
    let unknown = h.adapter("nobody", Protocol::SimJson, "x", PATIENCE);
    let error = unknown.statement(day(1), "wechat").await.unwrap_err();
    assert!(
        matches!(&error, CallError::Protocol(m) if m.contains("HTTP 404")),
        "{error}"
    );
}

/// The faults `/truth` reports for a day, as order number → fault name.
async fn truth(h: &Harness, ch: &str, date: &str) -> Value {
    let (status, truth) = h
        .get(&format!("/sim/channels/{ch}/statements/{date}/truth"))
        .await;
    assert_eq!(status, 200, "{truth}");
    truth
}

fn fault_map(truth: &Value) -> BTreeMap<String, String> {
    truth["faults"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// Statement lines by the bank's number (an Alipay reversal, which has no refund number,
/// by its payment's).
fn by_number(lines: &[StatementLine]) -> HashMap<String, Vec<StatementLine>> {
    let mut map: HashMap<String, Vec<StatementLine>> = HashMap::new();
    for line in lines {
        let number = Expected::of(line).number().to_owned();
        map.entry(number).or_default().push(line.clone());
    }
    map
}

/// Checks one format's statement of the first against the real lines and their faults.
fn check_faulted(
    format: Format,
    lines: &[StatementLine],
    expected: &[Expected],
    faults: &BTreeMap<String, String>,
) {
    let printed = by_number(lines);
    for real in expected {
        let fault = faults.get(real.number()).map(String::as_str);
        let got = printed.get(real.number()).cloned().unwrap_or_default();
        let context = format!("{format} {} {fault:?}: {got:?}", real.number());
        match fault {
            Some("drop" | "next_day") => assert!(got.is_empty(), "{context}"),
            Some("duplicate") => {
                assert_eq!(got.len(), 2, "{context}");
                assert_eq!(Expected::of(&got[0]), *real, "{context}");
                assert_eq!(
                    got[0],
                    StatementLine {
                        line_no: got[0].line_no,
                        ..got[1].clone()
                    }
                );
            }
            Some("amount") => {
                assert_eq!(got.len(), 1, "{context}");
                let wrong = Expected {
                    amount: real.amount + 1,
                    ..real.clone()
                };
                assert_eq!(Expected::of(&got[0]), wrong, "{context}");
            }
            Some("status") => {
                assert_eq!(got.len(), 1, "{context}");
                assert_eq!(real.kind, "payment", "{context}");
                if format == Format::Alipay {
                    assert_eq!(
                        (got[0].kind, got[0].status.as_str()),
                        (LineKind::Refund, "退款"),
                        "{context}"
                    );
                    assert_eq!(
                        (got[0].refund_no.as_ref(), got[0].amount_minor),
                        (None, real.amount)
                    );
                } else {
                    assert_eq!(
                        (got[0].kind, got[0].status.as_str()),
                        (LineKind::Payment, "REVOKED"),
                        "{context}"
                    );
                    assert_eq!(Expected::of(&got[0]), *real, "{context}");
                }
            }
            None => {
                assert_eq!(got.len(), 1, "{context}");
                assert_eq!(Expected::of(&got[0]), *real, "{context}");
            }
            Some(other) => panic!("{context}: unexpected fault {other}"),
        }
    }
    let extras: Vec<&StatementLine> = lines
        .iter()
        .filter(|l| l.channel_order_no.starts_with('X'))
        .collect();
    let expected_extras = faults.values().filter(|f| *f == "extra").count();
    assert_eq!(extras.len(), expected_extras, "{format}");
    for extra in extras {
        assert_eq!(
            faults.get(&extra.channel_order_no).map(String::as_str),
            Some("extra")
        );
        assert_eq!(extra.channel_order_no.len(), 20, "{extra:?}");
        assert!(extra.channel_order_no[1..]
            .bytes()
            .all(|b| b.is_ascii_digit()));
        assert_eq!(extra.kind, LineKind::Payment);
        assert!(extra.time.starts_with("2024-03-01 "), "{extra:?}");
    }
}

#[tokio::test]
async fn every_fault_is_applied_deterministically_and_reported_by_truth() {
    let h = Harness::start(13).await;
    let ch = "json-faults";
    let adapter = h
        .channel(ch, Protocol::SimJson, on_the_first(json!({})), PATIENCE)
        .await;
    let expected = traffic(&h, ch, &adapter, 40).await;
    let faults = json!({
        "drop_pct": 12, "extra_pct": 10, "amount_pct": 12, "status_pct": 12,
        "duplicate_pct": 12, "next_day_pct": 12, "settlement_short": 7
    });
    let (status, set) = h
        .put(&format!("/sim/channels/{ch}/statement-faults"), &faults)
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set, faults);
    assert_eq!(
        h.get(&format!("/sim/channels/{ch}/statement-faults")).await,
        (200, faults.clone())
    );

    let truth_1 = truth(&h, ch, "2024-03-01").await;
    let map = fault_map(&truth_1);
    for kind in ["drop", "extra", "amount", "status", "duplicate", "next_day"] {
        assert!(map.values().any(|f| f == kind), "no {kind} in {map:?}");
    }
    for number in map.keys() {
        let real = expected.iter().any(|l| l.number() == number);
        assert!(
            real || map[number] == "extra",
            "{number} is neither real nor extra"
        );
    }
    let extras = map.values().filter(|f| *f == "extra").count();
    assert_eq!(
        extras,
        expected.len().div_ceil(10),
        "10 % of the real lines, rounded up"
    );
    assert_eq!(truth_1["lines"], expected.len());
    for format in Format::ALL {
        let lines = statement(&adapter, day(1), format).await;
        assert_eq!(truth_1["printed"], lines.len(), "{format}");
        check_faulted(format, &lines, &expected, &map);
        let again = statement(&adapter, day(1), format).await;
        assert_eq!(again, lines, "{format}: the same statement every time");
    }

    let settlement = adapter.settlement(day(1)).await.unwrap();
    assert_eq!(
        settlement.amount_minor,
        net(&expected) - 7,
        "the true net less the shortfall"
    );
    assert_eq!(settlement.count, expected.len() as u64);

    let moved: Vec<&String> = map
        .iter()
        .filter(|(_, f)| *f == "next_day")
        .map(|(no, _)| no)
        .collect();
    let truth_2 = truth(&h, ch, "2024-03-02").await;
    let carried: Vec<String> = serde_json::from_value(truth_2["carried_in"].clone()).unwrap();
    assert_eq!(carried.iter().collect::<Vec<_>>(), moved);
    let next = statement(&adapter, day(2), Format::Csv).await;
    let numbers: Vec<String> = next
        .iter()
        .map(|l| Expected::of(l).number().to_owned())
        .collect();
    assert_eq!(numbers.iter().collect::<Vec<_>>(), moved);

    let twin = Harness::start(13).await;
    let twin_adapter = twin
        .channel(ch, Protocol::SimJson, on_the_first(json!({})), PATIENCE)
        .await;
    traffic(&twin, ch, &twin_adapter, 40).await;
    twin.put(&format!("/sim/channels/{ch}/statement-faults"), &faults)
        .await;
    assert_eq!(
        fault_map(&truth(&twin, ch, "2024-03-01").await),
        map,
        "same seed, same faults"
    );
    let other = Harness::start(14).await;
    let other_adapter = other
        .channel(ch, Protocol::SimJson, on_the_first(json!({})), PATIENCE)
        .await;
    traffic(&other, ch, &other_adapter, 40).await;
    other
        .put(&format!("/sim/channels/{ch}/statement-faults"), &faults)
        .await;
    assert_ne!(
        fault_map(&truth(&other, ch, "2024-03-01").await),
        map,
        "another seed, other faults"
    );
}

#[tokio::test]
async fn next_day_lines_move_to_the_next_statement_but_settle_on_their_own_day() {
    let h = Harness::start(15).await;
    let ch = "form-cross-day";
    let adapter = h
        .channel(ch, Protocol::SimForm, on_the_first(json!({})), PATIENCE)
        .await;
    let expected = traffic(&h, ch, &adapter, 5).await;
    let (status, _) = h
        .put(
            &format!("/sim/channels/{ch}/statement-faults"),
            &json!({ "next_day_pct": 100 }),
        )
        .await;
    assert_eq!(status, 200);
    for format in Format::ALL {
        assert!(
            statement(&adapter, day(1), format).await.is_empty(),
            "{format}"
        );
        let next = statement(&adapter, day(2), format).await;
        let with_status = next.iter().map(|l| {
            assert_eq!(l.time, "2024-03-02 00:00:00", "{format} {l:?}");
            Expected::of(l)
        });
        let mut moved: Vec<Expected> = with_status.collect();
        moved.sort();
        assert_eq!(moved, expected, "{format}");
    }
    let truth_2 = truth(&h, ch, "2024-03-02").await;
    assert_eq!(truth_2["lines"], 0);
    assert_eq!(
        truth_2["carried_in"].as_array().unwrap().len(),
        expected.len()
    );
    let first = adapter.settlement(day(1)).await.unwrap();
    assert_eq!(
        (first.amount_minor, first.count),
        (net(&expected), expected.len() as u64)
    );
    let second = adapter.settlement(day(2)).await.unwrap();
    assert_eq!((second.amount_minor, second.count), (0, 0));
    assert!(statement(&adapter, day(3), Format::Wechat).await.is_empty());
}

#[tokio::test]
async fn statement_faults_are_checked() {
    let h = Harness::start(16).await;
    h.channel("json-checks", Protocol::SimJson, json!({}), PATIENCE)
        .await;
    let path = "/sim/channels/json-checks/statement-faults";
    for body in [
        json!({ "drop_pct": 101 }),
        json!({ "drop_pct": 50, "status_pct": 51 }),
        json!({ "settlement_short": -5 }),
        json!({ "typo_pct": 1 }),
    ] {
        let (status, answer) = h.put(path, &body).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (400, Some("invalid_faults")),
            "{body}"
        );
    }
    let (status, answer) = h.get(path).await;
    assert_eq!(status, 200);
    assert_eq!(answer["drop_pct"], 0);
    let (status, _) = h
        .put("/sim/channels/nobody/statement-faults", &json!({}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        h.get("/sim/channels/nobody/statements/2024-03-01/truth")
            .await
            .0,
        404
    );
    assert_eq!(
        h.get("/sim/channels/json-checks/statements/2024-13-01/truth")
            .await
            .0,
        400
    );
}
