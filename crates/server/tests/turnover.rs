//! Turnover beyond i64: one account can move more than i64::MAX in a day (each transfer is at
//! most i64::MAX and the balance stays within i64, but debits and credits add up). Every report
//! that sums turnover must keep answering exactly.

mod common;

use common::*;
use serde_json::{json, Value};

const MAX: u64 = i64::MAX as u64;

/// Waits until the query store and accounting have every durable batch; the accounting date.
async fn caught_up(s: &TestServer) -> String {
    projected(s).await;
    posted(s).await["accounting_date"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn withdraw(s: &TestServer, id: &str, account: &str, amount: u64) -> Reply {
    s.post(
        "/v1/withdrawals",
        json!({"id": id, "account": account, "amount": amount, "currency": "CNY"}),
    )
    .await
}

fn find<'a>(rows: &'a Value, key: &str, value: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no {key} {value} in {rows}"))
}

fn number(v: &Value) -> i128 {
    v.to_string()
        .parse()
        .unwrap_or_else(|_| panic!("{v} is not an integer"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turnover_past_i64_max_is_reported_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("a", "customer").await;
    assert_eq!(s.deposit("d1", "a", MAX).await.status, 201);
    assert_eq!(withdraw(&s, "w1", "a", MAX).await.status, 201);
    assert_eq!(s.deposit("d2", "a", MAX).await.status, 201);
    assert_eq!(withdraw(&s, "w2", "a", 5).await.status, 201);
    let date = caught_up(&s).await;

    let daily = s
        .get(&format!(
            "/v1/accounts/a/daily-balances?from={date}&to={date}"
        ))
        .await;
    assert_eq!(daily.status, 200, "{}", daily.body);
    let day = &daily.body["days"][0];
    assert_eq!(number(&day["credits"]), 2 * MAX as i128, "{day}");
    assert_eq!(number(&day["debits"]), MAX as i128 + 5, "{day}");
    assert_eq!(number(&day["closing"]), MAX as i128 - 5, "{day}");

    let trial = s
        .get(&format!("/v1/accounting/trial-balance?date={date}"))
        .await;
    assert_eq!(trial.status, 200, "{}", trial.body);
    assert_eq!(
        trial.body["totals"]["debit"],
        trial.body["totals"]["credit"]
    );
    let bank = find(&trial.body["rows"], "code", "10020101");
    assert_eq!(number(&bank["debit"]), 2 * MAX as i128, "{bank}");
    assert_eq!(number(&bank["credit"]), MAX as i128 + 5, "{bank}");
    assert_eq!(number(&bank["closing"]), MAX as i128 - 5, "{bank}");

    let check = s.get(&format!("/v1/accounting/gl-check?date={date}")).await;
    assert_eq!(check.status, 200, "{}", check.body);
    assert_eq!(check.body["differences"], json!([]), "{}", check.body);

    let reserve = s
        .get(&format!("/v1/accounting/reserve-report?date={date}"))
        .await;
    assert_eq!(reserve.status, 200, "{}", reserve.body);
    let row = find(&reserve.body["rows"], "code", "10020101");
    assert_eq!(number(&row["inflow"]), 2 * MAX as i128, "{row}");

    let cut = s.post("/v1/day-end", json!({})).await;
    assert_eq!(cut.status, 200, "{}", cut.body);
    let report = s.get(&format!("/v1/reports/day-end?date={date}")).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert!(
        report.body["currencies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["balanced"] == true),
        "{}",
        report.body
    );
    caught_up(&s).await;
    let closed = s
        .post(&format!("/v1/accounting/periods/{date}/close"), json!({}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    // Past u64 a JSON number only stays exact when read into an integer type, so the list is
    // read as the API's own type rather than as a serde_json::Value (which makes it an f64).
    let text = s.get_text("/v1/accounting/periods").await;
    let periods: paycore_api::accounting::ClosedPeriodList = serde_json::from_str(&text).unwrap();
    let period = &periods.closed[0];
    assert_eq!(
        (period.debit, period.credit),
        (3 * MAX as i128 + 5, 3 * MAX as i128 + 5),
        "{text}"
    );

    let verify = s.get("/v1/verify").await;
    assert_eq!(verify.status, 200, "{}", verify.body);
    s.stop().await;
}
