//! Accounting over HTTP: the feed posts the ledger's transactions as vouchers; the chart,
//! vouchers, trial balance, GL check, reserve report, rules, exceptions and period close
//! answer with the documented shapes and error codes.

mod common;

use common::*;
use serde_json::{json, Value};

fn row<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no row {code}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_feeds_vouchers_and_the_reports_balance() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("alice", "customer").await;
    s.open("shop", "merchant").await;
    s.open("FEE-CNY", "internal").await;
    s.deposit("dep-1", "alice", 10_000).await;
    assert_eq!(
        s.transfer("pay-1", "alice", "shop", 3_000).await.status,
        201
    );
    let fee = json!({"id": "fee-1", "debit_account": "shop", "credit_account": "FEE-CNY", "amount": 30, "currency": "CNY", "kind": "fee"});
    assert_eq!(s.post("/v1/transfers", fee).await.status, 201);
    let status = posted(&s).await;
    assert_eq!(
        status["exceptions"], 0,
        "every transaction has a rule: {status}"
    );
    let date = status["accounting_date"].as_str().unwrap().to_owned();

    let chart = s.get("/v1/accounting/accounts").await;
    let accounts = chart.body["accounts"].as_array().unwrap();
    assert!(accounts
        .iter()
        .any(|a| a["code"] == "100201" && a["level"] == 2));

    let trial = s
        .get(&format!("/v1/accounting/trial-balance?date={date}"))
        .await;
    assert_eq!(trial.status, 200, "{}", trial.body);
    assert_eq!(
        trial.body["totals"]["debit"],
        trial.body["totals"]["credit"]
    );
    assert_eq!(row(&trial.body, "10020101")["debit"], 10_000);
    assert_eq!(row(&trial.body, "1002")["closing"], 10_000);
    assert_eq!(row(&trial.body, "60210101")["closing"], 30);
    for field in [
        "code", "name", "level", "opening", "debit", "credit", "closing",
    ] {
        assert!(trial.body["rows"][0].get(field).is_some(), "{field}");
    }

    let vouchers = s
        .get(&format!(
            "/v1/accounting/vouchers?date={date}&account=22010201"
        ))
        .await;
    let list = vouchers.body["vouchers"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{}", vouchers.body);
    let one = s
        .get(&format!(
            "/v1/accounting/vouchers/{}",
            list[0]["voucher_no"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.body["id"], list[0]["id"]);

    let reserve = s
        .get(&format!("/v1/accounting/reserve-report?date={date}"))
        .await;
    let bank = &reserve.body["rows"][0];
    assert_eq!(
        (bank["code"].as_str(), bank["inflow"].as_i64()),
        (Some("10020101"), Some(10_000))
    );
    let metrics = s.get_as(None, "/metrics").await.body;
    assert!(metrics
        .as_str()
        .unwrap()
        .contains("paycore_accounting_lag_batches 0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceptions_rules_manual_vouchers_and_periods_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("alice", "customer").await;
    s.open("PROMO-CNY", "internal").await;
    s.deposit("dep-1", "alice", 10_000).await;
    s.transfer("promo-1", "PROMO-CNY", "alice", 700).await;
    let status = posted(&s).await;
    let date = status["accounting_date"].as_str().unwrap().to_owned();
    assert_eq!(status["exceptions"], 1);
    let check = s.get(&format!("/v1/accounting/gl-check?date={date}")).await;
    assert_eq!(
        check.body["differences"].as_array().unwrap().len(),
        2,
        "{}",
        check.body
    );
    assert_eq!(check.body["unposted"][0]["client_id"], "promo-1");

    let rules = s.get("/v1/accounting/rules").await.body["rules"]
        .as_str()
        .unwrap()
        .to_owned();
    let put = |text: String| {
        s.send(
            s.http.put(s.url("/v1/accounting/rules")).body(text),
            Some(&s.key),
        )
    };
    assert_eq!(put("version = ".into()).await.code(), "invalid_rules");
    let promotion = "\n[[rules]]\nname = \"promotion\"\nkind = \"transfer\"\ndebit = \"internal\"\ncredit = \"customer\"\nlines = [{ side = \"debit\", account = \"66020101\" }, { side = \"credit\", account = \"{credit}\" }]\n";
    let replaced = put(rules + promotion).await;
    assert_eq!(
        (
            replaced.body["version"].as_u64(),
            replaced.body["posted"].as_u64()
        ),
        (Some(2), Some(1)),
        "{}",
        replaced.body
    );
    // Posted to marketing expense (the control of MKT* accounts) instead of the control of
    // PROMO-CNY: the GL check shows exactly that on both control accounts.
    let check = s.get(&format!("/v1/accounting/gl-check?date={date}")).await;
    let differences: Vec<(&str, i64)> = check.body["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["difference"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(differences, [("60210101", 700), ("66020101", -700)]);
    assert!(check.body["unposted"].as_array().unwrap().is_empty());

    let manual = json!({"id": "m-1", "currency": "CNY", "note": "capital", "lines": [
        {"code": "10020201", "side": "debit", "amount": 500},
        {"code": "40010101", "side": "credit", "amount": 500}]});
    let first = s.post("/v1/accounting/vouchers", manual.clone()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = s.post("/v1/accounting/vouchers", manual).await;
    assert!(again.replayed);
    assert_eq!(again.body["voucher_no"], first.body["voucher_no"]);
    let unbalanced = json!({"id": "m-2", "currency": "CNY", "lines": [
        {"code": "10020201", "side": "debit", "amount": 500},
        {"code": "40010101", "side": "credit", "amount": 400}]});
    assert_eq!(
        s.post("/v1/accounting/vouchers", unbalanced).await.code(),
        "voucher_unbalanced"
    );
    assert_eq!(
        s.post_raw("/v1/accounting/vouchers", "{not json")
            .await
            .code(),
        "malformed_json"
    );
    let bad_side = json!({"id": "m-3", "currency": "CNY", "lines": [{"code": "10020201", "side": "up", "amount": 5}]});
    assert_eq!(
        s.post("/v1/accounting/vouchers", bad_side).await.code(),
        "invalid_field"
    );
    let number = first.body["voucher_no"].as_str().unwrap();
    let reversal = s
        .post(
            &format!("/v1/accounting/vouchers/{number}/reverse"),
            json!({"id": "r-1"}),
        )
        .await;
    assert_eq!(reversal.status, 201, "{}", reversal.body);
    let twice = s
        .post(
            &format!("/v1/accounting/vouchers/{number}/reverse"),
            json!({"id": "r-2"}),
        )
        .await;
    assert_eq!(twice.code(), "voucher_already_reversed");
    assert_eq!(
        s.post(
            "/v1/accounting/vouchers/2000-01-000001/reverse",
            json!({"id": "r-3"})
        )
        .await
        .code(),
        "voucher_not_found"
    );

    let early = s
        .post(&format!("/v1/accounting/periods/{date}/close"), json!({}))
        .await;
    assert_eq!(
        (early.status.as_u16(), early.code()),
        (422, "period_not_ended")
    );
    assert_eq!(s.post("/v1/day-end", json!({})).await.status, 200);
    posted(&s).await;
    let closed = s
        .post(&format!("/v1/accounting/periods/{date}/close"), json!({}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let late = json!({"id": "m-4", "date": date, "currency": "CNY", "lines": [
        {"code": "10020201", "side": "debit", "amount": 5},
        {"code": "40010101", "side": "credit", "amount": 5}]});
    assert_eq!(
        s.post("/v1/accounting/vouchers", late).await.code(),
        "period_closed"
    );

    let new_bank = json!({"code": "10020103", "name": "备付金存款-第三银行"});
    assert_eq!(
        s.post("/v1/accounting/accounts", new_bank.clone())
            .await
            .status,
        201
    );
    assert_eq!(
        s.post("/v1/accounting/accounts", new_bank).await.code(),
        "gl_account_exists"
    );
    let in_use = s
        .send(
            s.http.delete(s.url("/v1/accounting/accounts/10020101")),
            Some(&s.key),
        )
        .await;
    assert_eq!(in_use.code(), "gl_account_in_use");
    let auditor = s.key_for("auditor").await;
    let denied = s
        .post_as(&auditor, "/v1/accounting/periods/2000-01/close", json!({}))
        .await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        s.get("/v1/accounting/trial-balance?date=2026-13-01")
            .await
            .code(),
        "invalid_date"
    );
}
