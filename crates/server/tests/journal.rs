//! Journal queries, day-end and the event stream over HTTP, answered by the query store the
//! projector keeps in step with the log.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// The ids of a transfer list response, in order.
fn transfer_ids(body: &Value) -> Vec<String> {
    body["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_transfers_daily_balances_day_end_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("a", "customer").await;
    s.open("b", "merchant").await;
    s.open("t", "transit").await;
    s.deposit("dep-a", "a", 10_000).await;
    let day1 = s.get_as(None, "/healthz").await.body["accounting_date"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..12 {
        let reference = if i % 3 == 0 { "order-x" } else { "" };
        let reply = s.post("/v1/transfers", json!({"id": format!("t{i}"), "debit_account": "a", "credit_account": "b", "amount": 100 + i, "currency": "CNY", "reference": reference})).await;
        assert_eq!(reply.status, 201);
    }
    s.transfer("via-1", "a", "t", 500).await; // left on the transit account: 挂账

    let wrong = s.post("/v1/day-end", json!({"date": "2001-01-01"})).await;
    assert_eq!(wrong.code(), "day_end_date_mismatch");
    let cut = s.post("/v1/day-end", json!({})).await;
    assert_eq!(
        (cut.status.as_u16(), cut.body["closed_date"].as_str()),
        (200, Some(day1.as_str()))
    );
    assert!(
        s.post("/v1/day-end", json!({"date": day1})).await.replayed,
        "the same cut twice is a retry"
    );
    let day2 = cut.body["accounting_date"].as_str().unwrap().to_owned();
    s.transfer("next-day", "b", "a", 50).await;
    s.transfer("via-2", "t", "b", 500).await;
    projected(&s).await;

    // The journal of a, in pages of 5, in sequence order, with balances before/after.
    let mut seqs = vec![];
    let mut from = 0;
    loop {
        let page = s
            .get(&format!("/v1/accounts/a/entries?limit=5&from_seq={from}"))
            .await
            .body;
        for e in page["entries"].as_array().unwrap() {
            seqs.push(e["seq"].as_u64().unwrap());
        }
        match page["next_from_seq"].as_u64() {
            Some(next) => from = next,
            None => break,
        }
    }
    assert_eq!(seqs.len(), 1 + 12 + 1 + 1);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let first = s.get("/v1/accounts/a/entries?limit=1").await.body["entries"][0].clone();
    assert_eq!(
        (
            first["kind"].as_str(),
            first["balance_before"].as_i64(),
            first["balance_after"].as_i64()
        ),
        (Some("credit"), Some(0), Some(10_000))
    );
    assert_eq!(first["transfer_id"], "dep-a");
    let only_day2 = s
        .get(&format!("/v1/accounts/a/entries?from_date={day2}"))
        .await
        .body;
    assert_eq!(only_day2["entries"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.get("/v1/accounts/a/entries?from_date=26-1-1")
            .await
            .code(),
        "invalid_field"
    );
    assert_eq!(s.get("/v1/accounts/nobody/entries").await.status, 404);

    // Transfers by account, by reference, by date; paged.
    let by_reference = s.get("/v1/transfers?reference=order-x").await.body;
    assert_eq!(by_reference["transfers"].as_array().unwrap().len(), 4);
    let of_t = s.get("/v1/transfers?account=t").await.body;
    let ids = transfer_ids(&of_t);
    assert_eq!(ids, ["via-1", "via-2"]);
    let page = s.get("/v1/transfers?account=a&limit=4").await.body;
    let next = page["next"].as_u64().unwrap();
    let page2 = s
        .get(&format!("/v1/transfers?account=a&limit=4&after={next}"))
        .await
        .body;
    assert_ne!(page["transfers"][0]["id"], page2["transfers"][0]["id"]);
    let dated = s
        .get(&format!("/v1/transfers?from={day2}&to={day2}"))
        .await
        .body;
    assert_eq!(dated["transfers"].as_array().unwrap().len(), 2);

    // Daily balances: opening(T) = closing(T-1), quiet days carried.
    let daily = s
        .get(&format!(
            "/v1/accounts/a/daily-balances?from={day1}&to={day2}"
        ))
        .await
        .body;
    let days = daily["days"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!(days[1]["opening"], days[0]["closing"]);
    let closing1 = days[0]["closing"].as_i64().unwrap();
    assert_eq!(closing1, 10_000 - (100..112).sum::<i64>() - 500);
    assert_eq!(days[1]["closing"].as_i64().unwrap(), closing1 + 50);

    // Day-end report for day 1: balanced, and the transit account listed with its open entry.
    let report = s
        .get(&format!("/v1/reports/day-end?date={day1}"))
        .await
        .body;
    assert_eq!(report["closed"], true);
    assert!(
        report["currencies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["balanced"] == true),
        "{report}"
    );
    let suspense = report["suspense"].as_array().unwrap();
    assert_eq!(suspense.len(), 1, "{report}");
    assert_eq!(
        (
            suspense[0]["account_no"].as_str(),
            suspense[0]["balance"].as_i64()
        ),
        (Some("t"), Some(500))
    );
    assert_eq!(suspense[0]["open_entries"][0]["transfer_id"], "via-1");
    let default_report = s.get("/v1/reports/day-end").await.body;
    assert_eq!(default_report["date"].as_str(), Some(day1.as_str()));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_resumes_from_any_sequence_and_long_polls() {
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(start(dir.path()).await);
    s.open("a", "customer").await;
    s.deposit("dep", "a", 100).await;
    projected(&s).await;
    let all = s.get("/v1/events?after=0").await.body;
    let events = all["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 2, "deposit: settlement debit, account credit");
    let resumed = s
        .get(&format!("/v1/events?after={}", events[0]["seq"]))
        .await
        .body;
    assert_eq!(resumed["events"].as_array().unwrap()[0], events[1]);

    // A waiting reader gets the next posting as soon as it is projected.
    let after = all["next_after"].as_u64().unwrap();
    let waiter = {
        let s = s.clone();
        tokio::spawn(async move {
            s.get(&format!("/v1/events?after={after}&wait=10"))
                .await
                .body
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.deposit("dep-2", "a", 7).await;
    let got: Value = waiter.await.unwrap();
    let got = got["events"].as_array().unwrap();
    assert!(!got.is_empty());
    assert!(got.iter().any(|e| e["transfer_id"] == "dep-2"
        && e["account_no"] == "a"
        && e["balance_after"] == 107));
    let empty = s
        .get(&format!("/v1/events?after={}&wait=0", u64::MAX / 2))
        .await
        .body;
    assert!(empty["events"].as_array().unwrap().is_empty());
    std::sync::Arc::into_inner(s).unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_a_corrupted_journal_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("a", "customer").await;
    s.open("b", "customer").await;
    s.deposit("dep", "a", 1_000).await;
    for i in 0..5 {
        s.transfer(&format!("t{i}"), "a", "b", 10).await;
    }
    let clean = s.get("/v1/verify").await.body;
    assert!(
        clean["differences"].as_array().unwrap().is_empty(),
        "{clean}"
    );
    assert_eq!(clean["entries"], 12);

    let url = store_url(dir.path());
    let victim = tokio::task::spawn_blocking(move || {
        let mut store = paycore_store::open_store(&url).unwrap();
        let victim = store.entries(&paycore_store::EntryQuery { from_seq: 6, limit: 1, ..Default::default() }).unwrap().remove(0);
        store.execute_raw(&format!("UPDATE entries SET amount = amount + 5, balance_after = balance_after + 5 WHERE seq = {}", victim.seq)).unwrap();
        victim
    })
    .await
    .unwrap();
    let broken = s.get("/v1/verify").await.body;
    let differences = broken["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{broken}");
    assert_eq!(
        differences[0]["account_no"].as_str(),
        Some(victim.account_no.as_str())
    );
    assert!(differences[0]["first_diverging_entry"]["seq"]
        .as_u64()
        .is_some());
    s.stop().await;
}

/// A hot merchant with buffered posting: credits wait as pending credit, post as one
/// aggregated entry (on a settings change or at day-end), and the statement drills down to
/// the transfers inside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_account_buffers_credits_and_its_statement_drills_down() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("alice", "customer").await;
    let hot = json!({"mode": "buffered", "flush_interval_ms": 60000, "max_entries": 1000, "credit_line": 0});
    let opened = s
        .post(
            "/v1/accounts",
            json!({"account_no": "shop", "type": "merchant", "currency": "CNY", "hot": hot}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert_eq!(opened.body["hot"]["flush_interval_ms"], 60000);
    s.deposit("dep", "alice", 10_000).await;
    for i in 0..5 {
        assert_eq!(
            s.transfer(&format!("buy-{i}"), "alice", "shop", 100 + i)
                .await
                .status,
            201
        );
    }
    let shop = s.get("/v1/accounts/shop").await.body;
    assert_eq!(
        (shop["balance"].as_i64(), shop["pending_credit"].as_i64()),
        (Some(0), Some(510))
    );
    // Deduct first, add later: pending credit cannot be spent without a credit line.
    let spend = s.transfer("spend", "shop", "alice", 1).await;
    assert_eq!(spend.code(), "insufficient_funds");

    let bad = s
        .put("/v1/accounts/shop/hot", json!({"mode": "sometimes"}))
        .await;
    assert_eq!(bad.code(), "invalid_field");
    let off = s.put("/v1/accounts/shop/hot", json!({"mode": "off"})).await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(
        (
            off.body["balance"].as_i64(),
            off.body["pending_credit"].as_i64()
        ),
        (Some(510), Some(0))
    );
    assert!(off.body.get("hot").is_none());

    projected(&s).await;
    let entries = s.get("/v1/accounts/shop/entries").await.body;
    let list = entries["entries"].as_array().unwrap();
    assert_eq!(
        list.len(),
        1,
        "one aggregated entry instead of five: {entries}"
    );
    assert_eq!(
        (list[0]["amount"].as_u64(), list[0]["aggregated"].as_u64()),
        (Some(510), Some(5))
    );
    let seq = list[0]["seq"].as_u64().unwrap();
    let drill = s
        .get(&format!("/v1/accounts/shop/entries/{seq}/transfers"))
        .await
        .body;
    let ids = transfer_ids(&drill);
    assert_eq!(ids, ["buy-0", "buy-1", "buy-2", "buy-3", "buy-4"]);
    let missing = s.get("/v1/accounts/shop/entries/999999/transfers").await;
    assert_eq!(missing.code(), "entry_not_found");
    // Transfer search by account finds the buffered credits through their aggregated entry.
    let found = s.get("/v1/transfers?account=shop").await.body;
    let found = transfer_ids(&found);
    for i in 0..5 {
        assert!(found.contains(&format!("buy-{i}")), "{found:?}");
    }

    // Buffered again: day-end posts what is pending on the closing day.
    let on = s
        .put("/v1/accounts/shop/hot", json!({"mode": "buffered"}))
        .await;
    assert_eq!(
        on.body["hot"]["flush_interval_ms"], 1000,
        "defaults: {}",
        on.body
    );
    s.transfer("late", "alice", "shop", 7).await;
    assert_eq!(s.post("/v1/day-end", json!({})).await.status, 200);
    let shop = s.get("/v1/accounts/shop").await.body;
    assert_eq!(
        (shop["balance"].as_i64(), shop["pending_credit"].as_i64()),
        (Some(517), Some(0))
    );
}

/// A split merchant: credits spread over its sub-accounts, a debit larger than any one of
/// them takes from several at once, and the account and its statement are their sums.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_account_spreads_credits_and_shows_the_sums() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("alice", "customer").await;
    let opened = s
        .post(
            "/v1/accounts",
            json!({"account_no": "mall", "type": "merchant", "currency": "CNY", "split": 3}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert_eq!(
        opened.body["sub_accounts"],
        json!(["mall-S1", "mall-S2", "mall-S3"])
    );
    s.deposit("dep", "alice", 10_000).await;
    for i in 0..6 {
        assert_eq!(
            s.transfer(&format!("buy-{i}"), "alice", "mall", 100)
                .await
                .status,
            201
        );
    }
    let mall = s.get("/v1/accounts/mall").await.body;
    assert_eq!(mall["balance"], 600);
    for sub in ["mall-S1", "mall-S2", "mall-S3"] {
        assert_eq!(s.balance(sub).await, 200, "{sub}");
    }
    assert_eq!(s.transfer("refund", "mall", "alice", 500).await.status, 201);
    assert_eq!(s.get("/v1/accounts/mall").await.body["balance"], 100);
    assert_eq!(
        s.transfer("too-much", "mall", "alice", 101).await.code(),
        "insufficient_funds"
    );
    let hold = s
        .post(
            "/v1/holds",
            json!({"id": "h", "account": "mall", "amount": 1, "currency": "CNY"}),
        )
        .await;
    assert_eq!(hold.code(), "split_not_allowed");
    let both = s
        .post("/v1/accounts", json!({"account_no": "x", "type": "merchant", "currency": "CNY", "split": 2, "hot": {"mode": "buffered"}}))
        .await;
    assert_eq!(both.code(), "invalid_field");
    let one = s
        .post(
            "/v1/accounts",
            json!({"account_no": "y", "type": "merchant", "currency": "CNY", "split": 1}),
        )
        .await;
    assert_eq!(one.code(), "invalid_split");

    projected(&s).await;
    let entries = s.get("/v1/accounts/mall/entries").await.body;
    let list = entries["entries"].as_array().unwrap();
    assert_eq!(
        list.len(),
        6 + 3,
        "six credits and the refund's three debits: {entries}"
    );
    let net: i64 = list
        .iter()
        .map(|e| {
            let amount = e["amount"].as_i64().unwrap();
            if e["kind"] == "debit" {
                -amount
            } else {
                amount
            }
        })
        .sum();
    assert_eq!(net, 100);
    let found = s.get("/v1/transfers?account=mall").await.body;
    let found = transfer_ids(&found);
    assert_eq!(
        found,
        ["buy-0", "buy-1", "buy-2", "buy-3", "buy-4", "buy-5", "refund"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accounts_holds_page_in_order_and_filter_by_status() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("a", "customer").await;
    s.open("other", "customer").await;
    s.deposit("dep-a", "a", 10_000).await;
    s.deposit("dep-o", "other", 10_000).await;
    for i in 0..5 {
        let hold =
            json!({"id": format!("h{i}"), "account": "a", "amount": 100 + i, "currency": "CNY"});
        assert_eq!(s.post("/v1/holds", hold).await.status, 201);
    }
    let elsewhere = json!({"id": "h-other", "account": "other", "amount": 7, "currency": "CNY"});
    assert_eq!(s.post("/v1/holds", elsewhere).await.status, 201);
    assert_eq!(s.post("/v1/holds/h1/release", json!({})).await.status, 200);
    let capture = json!({"to_account": "other", "amount": 103});
    assert_eq!(s.post("/v1/holds/h3/capture", capture).await.status, 200);
    projected(&s).await;

    let ids = |body: &Value| -> Vec<String> {
        let holds = body["holds"].as_array().unwrap();
        holds
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = s.get("/v1/accounts/a/holds").await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    assert_eq!(ids(&all.body), ["h0", "h1", "h2", "h3", "h4"]);
    assert_eq!(all.body["holds"][1]["status"], "released");
    assert_eq!(all.body["holds"][3]["status"], "captured");
    assert_eq!(all.body["holds"][4]["remaining"], 104);
    assert!(all.body["next_after"].is_null());

    let active = s.get("/v1/accounts/a/holds?status=active").await.body;
    assert_eq!(ids(&active), ["h0", "h2", "h4"]);
    let first = s.get("/v1/accounts/a/holds?limit=2").await.body;
    assert_eq!(ids(&first), ["h0", "h1"]);
    let after = first["next_after"]
        .as_u64()
        .expect("a full page has a next");
    let rest = s
        .get(&format!("/v1/accounts/a/holds?limit=2&after={after}"))
        .await
        .body;
    assert_eq!(ids(&rest), ["h2", "h3"]);
    assert_eq!(
        ids(&s.get("/v1/accounts/other/holds").await.body),
        ["h-other"]
    );

    let bad = s.get("/v1/accounts/a/holds?status=frozen").await;
    assert_eq!((bad.status.as_u16(), bad.code()), (400, "invalid_field"));
    let unknown = s.get("/v1/accounts/nobody/holds").await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.code()),
        (404, "account_not_found")
    );
    s.assert_books_balance().await;
}
