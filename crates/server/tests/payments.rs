//! The payment path against a real server and a real bank simulator: routing (the exact split
//! and every filter), timeouts that stay unknown until a query decides, late, missing and
//! duplicate callbacks, forged callbacks, resend and reroute, and the ledger's postings.

mod common;
#[path = "payments/harness.rs"]
mod harness;

use std::collections::HashMap;
use std::time::Duration;

use harness::{world, World};
use serde_json::{json, Value};

const SETTLE: Duration = Duration::from_secs(20);

/// Net of a fee of 60 bp, rounded half up.
fn net(amount: u64) -> i64 {
    (amount - (amount * 60 + 5_000) / 10_000) as i64
}

async fn chosen_counts(w: &World, prefix: &str, n: usize) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    for i in 0..n {
        let trade = w.trade(&format!("{prefix}-{i}"), 100).await;
        let paid = w
            .pay(&trade, &format!("{prefix}-p{i}"), "quickpay", None)
            .await;
        assert_eq!(paid.status, 201, "{:?}", paid.body);
        assert_eq!(paid.body["status"], "succeeded", "{:?}", paid.body);
        *counts
            .entry(paid.body["channel"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_split_is_exact_over_several_cycles_and_weight_sets() {
    let w = world().await;
    w.channel("a", "sim-form", 100, json!({})).await;
    w.channel("b", "sim-json", 100, json!({})).await;
    w.channel("c", "sim-form", 50, json!({})).await;
    for cycle in 0..2 {
        let counts = chosen_counts(&w, &format!("split{cycle}"), 250).await;
        assert_eq!((counts["a"], counts["b"], counts["c"]), (100, 100, 50));
    }
    for (id, weight) in [("a", 1), ("b", 2), ("c", 3)] {
        let patched = w
            .server
            .patch(&format!("/v1/channels/{id}"), json!({"weight": weight}))
            .await;
        assert_eq!(patched.status, 200, "{:?}", patched.body);
    }
    for cycle in 0..5 {
        let counts = chosen_counts(&w, &format!("six{cycle}"), 6).await;
        assert_eq!((counts["a"], counts["b"], counts["c"]), (1, 2, 3));
    }
    let listed = w.server.get("/v1/channels").await;
    let routed: u64 = listed.body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["counters"]["routed"].as_u64().unwrap())
        .sum();
    assert_eq!(routed, 530);
    // Every success posted once: 530 payments of 1.00 at 60 bp.
    assert_eq!(w.balance("M-shop").await, 530 * net(100));
    assert_eq!(w.balance("FEE-INCOME-CNY").await, 530);
    let clearing: i64 =
        w.balance("CLR-a-CNY").await + w.balance("CLR-b-CNY").await + w.balance("CLR-c-CNY").await;
    assert_eq!(
        clearing,
        -530 * 100,
        "books balance: the channels owe what the merchant got"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_filter_names_its_reason() {
    let w = world().await;
    w.channel("off", "sim-form", 100, json!({})).await;
    w.server
        .patch("/v1/channels/off", json!({"enabled": false}))
        .await;
    w.channel("small", "sim-json", 100, json!({})).await;
    w.server
        .patch("/v1/channels/small", json!({"max_amount": 50}))
        .await;
    w.channel("big", "sim-json", 100, json!({})).await;
    w.server
        .patch("/v1/channels/big", json!({"min_amount": 1000}))
        .await;
    w.channel("slow", "sim-form", 100, json!({})).await;
    w.server
        .patch("/v1/channels/slow", json!({"rate_limit_per_s": 1}))
        .await;
    let trade = w.trade("filters-1", 100).await;
    let first = w.pay(&trade, "filters-p1", "quickpay", None).await;
    assert_eq!(first.body["channel"], "slow", "{:?}", first.body);
    let candidates = first.body["route"]["candidates"].as_array().unwrap();
    let reason = |c: &str| {
        candidates.iter().find(|x| x["channel"] == c).unwrap()["reason"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(reason("off").as_deref(), Some("disabled"));
    assert_eq!(reason("small").as_deref(), Some("above_max_amount"));
    assert_eq!(reason("big").as_deref(), Some("below_min_amount"));
    assert_eq!(reason("slow"), None);
    let trade = w.trade("filters-2", 100).await;
    let none = w.pay(&trade, "filters-p2", "quickpay", None).await;
    assert_eq!(
        (none.status.as_u16(), none.code()),
        (422, "no_channel_available")
    );
    let message = none.body["error"]["message"].as_str().unwrap();
    for expected in [
        "off: disabled",
        "small: amount above",
        "big: amount below",
        "slow: rate limit",
    ] {
        assert!(message.contains(expected), "{message}");
    }
    // Unsupported currency and method: a USD merchant's trade finds no CNY channel.
    let usd = w
        .server
        .post(
            "/v1/merchants",
            json!({"id": "usd-shop", "name": "US", "callback_hosts": [], "currency": "USD"}),
        )
        .await;
    assert_eq!(usd.status, 201, "{:?}", usd.body);
    let trade = w
        .server
        .post("/v1/trades", json!({"merchant": "usd-shop", "merchant_order_no": "u1", "amount": 100, "currency": "USD"}))
        .await;
    let trade_id = trade.body["trade_id"].as_str().unwrap().to_owned();
    let refused = w.pay(&trade_id, "usd-p1", "quickpay", None).await;
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not support the currency"));
    // A named channel still goes through the filters.
    let trade = w.trade("filters-3", 100).await;
    let named = w.pay(&trade, "filters-p3", "quickpay", Some("off")).await;
    assert_eq!(named.code(), "no_channel_available");
    let unknown = w.pay(&trade, "filters-p4", "quickpay", Some("nope")).await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.code()),
        (404, "channel_not_found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_refuse_bad_requests_and_replay_good_ones() {
    let w = world().await;
    w.channel("a", "sim-form", 100, json!({})).await;
    let body = json!({"merchant": "shop", "merchant_order_no": "o-1", "amount": 500, "currency": "CNY", "notify_url": "http://127.0.0.1:9/n"});
    let first = w.server.post("/v1/trades", body.clone()).await;
    assert_eq!(first.status, 201);
    assert_eq!(first.body["status"], "open");
    let again = w.server.post("/v1/trades", body.clone()).await;
    assert_eq!((again.status.as_u16(), again.replayed), (200, true));
    assert_eq!(again.body["trade_id"], first.body["trade_id"]);
    let mut changed = body.clone();
    changed["amount"] = json!(501);
    let conflict = w.server.post("/v1/trades", changed).await;
    assert_eq!(
        (conflict.status.as_u16(), conflict.code()),
        (409, "id_conflict")
    );
    let mut evil = body.clone();
    evil["merchant_order_no"] = json!("o-2");
    evil["notify_url"] = json!("http://169.254.169.254/latest");
    let refused = w.server.post("/v1/trades", evil).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (422, "notify_url_not_allowed")
    );
    let mut nobody = body.clone();
    nobody["merchant"] = json!("ghost");
    assert_eq!(
        w.server.post("/v1/trades", nobody).await.code(),
        "merchant_not_found"
    );
    let mut zero = body.clone();
    zero["merchant_order_no"] = json!("o-3");
    zero["amount"] = json!(0);
    assert_eq!(
        w.server.post("/v1/trades", zero).await.code(),
        "invalid_field"
    );
    let trade_id = first.body["trade_id"].as_str().unwrap();
    let by_order = w
        .server
        .get("/v1/trades?merchant=shop&merchant_order_no=o-1")
        .await;
    assert_eq!(by_order.body["trades"][0]["trade_id"], trade_id);
    let paid = w.pay(trade_id, "o-1-pay", "quickpay", None).await;
    assert_eq!(paid.body["status"], "succeeded");
    let order_no = paid.body["channel_order_no"].as_str().unwrap();
    let by_channel_order = w
        .server
        .get(&format!("/v1/trades?channel_order_no={order_no}"))
        .await;
    assert_eq!(by_channel_order.body["trades"][0]["trade_id"], trade_id);
    let unknown_order = w.server.get("/v1/trades?channel_order_no=nope").await;
    assert_eq!(
        (unknown_order.status.as_u16(), unknown_order.code()),
        (404, "trade_not_found")
    );
    let nothing = w.server.get("/v1/trades").await;
    assert_eq!(
        (nothing.status.as_u16(), nothing.code()),
        (400, "invalid_field")
    );
    let retry = w.pay(trade_id, "o-1-pay", "quickpay", None).await;
    assert_eq!((retry.status.as_u16(), retry.replayed), (200, true));
    let other = w.pay(trade_id, "o-1-pay", "netbank", None).await;
    assert_eq!(other.code(), "id_conflict");
    let second = w.pay(trade_id, "o-1-pay2", "quickpay", None).await;
    assert_eq!(
        (second.status.as_u16(), second.code()),
        (409, "trade_already_paid")
    );
    let trade = w.server.get(&format!("/v1/trades/{trade_id}")).await;
    assert_eq!(trade.body["status"], "paid");
    assert_eq!(trade.body["paid_by"], "o-1-pay");
    assert_eq!(trade.body["payments"].as_array().unwrap().len(), 1);
    assert_eq!(w.balance("M-shop").await, net(500), "posted once");
    assert_eq!(
        w.server.get("/v1/trades/T-none").await.code(),
        "trade_not_found"
    );
    assert_eq!(
        w.server.get("/v1/payments/none").await.code(),
        "payment_not_found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_unknown_until_a_query_says_success_or_failure() {
    let w = world().await;
    // 99% of requests are held past paycore's timeout; a held order's real outcome is drawn
    // success:fail in proportion, so all of t-ok's succeed and all of t-fail's fail.
    let held = |success: u8, fail: u8| json!({"success_pct": success, "fail_pct": fail, "timeout_pct": 99, "timeout_hold_ms": 1_000, "callback": "none"});
    w.channel("t-ok", "sim-json", 100, held(1, 0)).await;
    w.channel("t-fail", "sim-form", 100, held(0, 1)).await;
    for (channel, expected) in [("t-ok", "succeeded"), ("t-fail", "failed")] {
        let mut id = 0;
        let (payment, order) = loop {
            id += 1;
            let trade = w.trade(&format!("{channel}-{id}"), 1_000).await;
            let paid = w
                .pay(
                    &trade,
                    &format!("{channel}-p{id}"),
                    "quickpay",
                    Some(channel),
                )
                .await;
            assert_eq!(paid.status, 201, "{:?}", paid.body);
            if paid.body["status"] == "unknown" {
                break (
                    paid.body["id"].as_str().unwrap().to_owned(),
                    paid.body["channel_order_no"].as_str().unwrap().to_owned(),
                );
            }
        };
        let unknown = w.payment(&payment).await;
        assert_eq!(unknown["attempts"][0]["note"], "timeout");
        let reroute = w
            .server
            .post(&format!("/v1/payments/{payment}/reroute"), json!({}))
            .await;
        assert_eq!(
            (reroute.status.as_u16(), reroute.code()),
            (409, "payment_outcome_unknown")
        );
        let settled = w.settled(&payment, SETTLE).await;
        assert_eq!(settled["status"], expected, "{settled}");
        assert!(settled["attempts"][0]["queries"].as_u64().unwrap() >= 1);
        let bank = w.bank_order(channel, &order).await;
        assert_eq!(
            bank["status"], expected,
            "the bank's record is the truth: {bank}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_missing_and_duplicate_callbacks_are_applied_once() {
    let w = world().await;
    w.channel(
        "late",
        "sim-form",
        0,
        json!({"callback": "late", "callback_delay_ms": 300}),
    )
    .await;
    w.channel("none", "sim-json", 0, json!({"callback": "none"}))
        .await;
    w.channel(
        "twice",
        "sim-json",
        0,
        json!({"duplicate_callback_pct": 100}),
    )
    .await;
    let mut expected_balance = 0;
    for channel in ["late", "none", "twice"] {
        let trade = w.trade(&format!("cb-{channel}"), 2_000).await;
        let paid = w
            .pay(&trade, &format!("cb-{channel}-p"), "netbank", Some(channel))
            .await;
        assert_eq!(paid.status, 201, "{:?}", paid.body);
        assert_eq!(
            paid.body["status"], "processing",
            "netbank answers later: {:?}",
            paid.body
        );
        let settled = w.settled(paid.body["id"].as_str().unwrap(), SETTLE).await;
        assert_eq!(settled["status"], "succeeded", "{settled}");
        expected_balance += net(2_000);
        assert_eq!(
            w.balance("M-shop").await,
            expected_balance,
            "posted once ({channel})"
        );
    }
    // The duplicate callback arrives and changes nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.balance("M-shop").await, expected_balance);
    let order = w.payment("cb-twice-p").await["channel_order_no"]
        .as_str()
        .unwrap()
        .to_owned();
    let bank = w.bank_order("twice", &order).await;
    assert!(bank["callbacks_sent"].as_u64().unwrap() >= 2, "{bank}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callbacks_are_refused_and_change_nothing() {
    let w = world().await;
    w.channel("a", "sim-form", 100, json!({"callback": "none", "success_pct": 0, "fail_pct": 0, "timeout_pct": 100, "timeout_hold_ms": 5_000})).await;
    w.channel("j", "sim-json", 0, json!({"callback": "none", "success_pct": 0, "fail_pct": 0, "timeout_pct": 100, "timeout_hold_ms": 5_000})).await;
    let trade = w.trade("forged", 100).await;
    let paid = w.pay(&trade, "forged-p", "quickpay", Some("a")).await;
    let order = paid.body["channel_order_no"].as_str().unwrap().to_owned();
    let form = format!("notify_type=trade_status_sync&app_id=a&out_trade_no={order}&trade_status=TRADE_SUCCESS&total_amount=1.00&trade_no=X1&notify_time=2026-12-01+10:00:00&sign_type=HMAC-SHA256&sign=00ff");
    let forged = w.server.post_raw("/v1/channels/a/notify", &form).await;
    assert_eq!(
        (forged.status.as_u16(), forged.code()),
        (401, "bad_signature")
    );
    let json_forged = w
        .server
        .send(
            w.server
                .http
                .post(w.server.url("/v1/channels/j/notify"))
                .header("Sim-Timestamp", "1")
                .header("Sim-Nonce", "n")
                .header("Sim-Signature", "00")
                .body("{}"),
            None,
        )
        .await;
    assert_eq!(json_forged.code(), "bad_signature");
    let payment = w.payment("forged-p").await;
    assert_ne!(payment["status"], "succeeded");
    assert_eq!(w.balance("M-shop").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reroute_after_a_failure_takes_a_new_order_number_and_resend_keeps_it() {
    let w = world().await;
    w.channel(
        "bad",
        "sim-form",
        100,
        json!({"success_pct": 0, "fail_pct": 100}),
    )
    .await;
    w.channel("good", "sim-json", 0, json!({})).await;
    let trade = w.trade("rr", 700).await;
    let failed = w.pay(&trade, "rr-p", "quickpay", None).await;
    assert_eq!(failed.body["status"], "failed", "{:?}", failed.body);
    assert_eq!(failed.body["channel"], "bad");
    let first_order = failed.body["channel_order_no"].as_str().unwrap().to_owned();
    let resend = w.server.post("/v1/payments/rr-p/resend", json!({})).await;
    assert_eq!(
        (resend.status.as_u16(), resend.code()),
        (409, "payment_final")
    );
    let rerouted = w
        .server
        .post("/v1/payments/rr-p/reroute", json!({"channel": "good"}))
        .await;
    assert_eq!(rerouted.status, 200, "{:?}", rerouted.body);
    assert_eq!(rerouted.body["status"], "succeeded");
    assert_eq!(rerouted.body["channel"], "good");
    let attempts = rerouted.body["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_ne!(
        attempts[1]["channel_order_no"].as_str().unwrap(),
        first_order
    );
    assert_eq!(w.bank_order("bad", &first_order).await["status"], "failed");
    assert_eq!(w.balance("M-shop").await, net(700));
    assert_eq!(w.balance("CLR-good-CNY").await, -700);
    assert_eq!(
        w.balance("CLR-bad-CNY").await,
        0,
        "nothing posted for the failed order"
    );
    let again = w.server.post("/v1/payments/rr-p/reroute", json!({})).await;
    assert_eq!(again.code(), "payment_already_succeeded");

    // Resend: same channel, same number; the bank answers from its record.
    w.channel("slow", "sim-json", 0, json!({"success_pct": 0, "fail_pct": 0, "timeout_pct": 100, "timeout_hold_ms": 600, "callback": "none"})).await;
    let trade = w.trade("rs", 300).await;
    let unknown = w.pay(&trade, "rs-p", "quickpay", Some("slow")).await;
    assert_eq!(unknown.body["status"], "unknown");
    let order = unknown.body["channel_order_no"].clone();
    // Before the resolver's first query (timeout + 200 ms): the outcome is still open.
    let resent = w.server.post("/v1/payments/rs-p/resend", json!({})).await;
    assert_eq!(resent.status, 200, "{:?}", resent.body);
    assert_eq!(resent.body["channel_order_no"], order);
    assert_eq!(resent.body["attempts"][0]["sends"], 2);
    let settled = w.settled("rs-p", SETTLE).await;
    assert_eq!(settled["status"], "succeeded", "{settled}");
    let bank: Value = w.bank_order("slow", order.as_str().unwrap()).await;
    assert!(bank["requests"].as_u64().unwrap() >= 2, "{bank}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merchants_and_channels_are_idempotent_and_validated() {
    let w = world().await;
    let again = w
        .server
        .post("/v1/merchants", json!({"id": "shop", "name": "Shop", "callback_hosts": ["127.0.0.1"], "fee_rate_bp": 60}))
        .await;
    assert_eq!((again.status.as_u16(), again.replayed), (200, true));
    assert_eq!(again.body["account"], "M-shop");
    let conflict = w
        .server
        .post(
            "/v1/merchants",
            json!({"id": "shop", "name": "Other", "callback_hosts": []}),
        )
        .await;
    assert_eq!(conflict.code(), "id_conflict");
    for bad in [
        json!({"id": "bad id", "name": "x", "callback_hosts": []}),
        json!({"id": "x", "name": "", "callback_hosts": []}),
        json!({"id": "x", "name": "x", "callback_hosts": ["http://x.com"]}),
        json!({"id": "x", "name": "x", "callback_hosts": [], "fee_rate_bp": 10001}),
        json!({"id": "x", "name": "x"}),
    ] {
        let refused = w.server.post("/v1/merchants", bad.clone()).await;
        assert_eq!(refused.status, 400, "{bad}: {:?}", refused.body);
    }
    let shown = w.server.get("/v1/merchants/shop").await;
    assert_eq!(shown.body["callback_hosts"], json!(["127.0.0.1"]));
    assert_eq!(
        w.server.get("/v1/merchants/ghost").await.code(),
        "merchant_not_found"
    );
    let account = w.server.get("/v1/accounts/M-shop").await;
    assert_eq!(account.body["type"], "merchant");
    w.channel("a", "sim-form", 100, json!({})).await;
    let channel = w.server.get("/v1/channels/a").await;
    assert_eq!(channel.body["clearing_accounts"], json!(["CLR-a-CNY"]));
    assert!(
        channel.body.get("secret").is_none(),
        "the secret is never shown"
    );
    let bad_patch = w
        .server
        .patch("/v1/channels/a", json!({"min_amount": 10, "max_amount": 5}))
        .await;
    assert_eq!(bad_patch.status, 400);
    assert_eq!(
        w.server
            .patch("/v1/channels/zz", json!({"weight": 1}))
            .await
            .code(),
        "channel_not_found"
    );
    let bad_protocol = w
        .server
        .post("/v1/channels", json!({"id": "x", "protocol": "ftp", "endpoint": "http://h", "secret": "s", "methods": ["quickpay"], "currencies": ["CNY"]}))
        .await;
    assert_eq!(bad_protocol.status, 400);
    let operator = w.server.key_for("operator").await;
    let forbidden = w
        .server
        .post_as(&operator, "/v1/channels", json!({"id": "y", "protocol": "sim-form", "endpoint": "http://h", "secret": "s", "methods": ["quickpay"], "currencies": ["CNY"]}))
        .await;
    assert_eq!(forbidden.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_merchant_account_takes_payments_unchanged() {
    let w = world().await;
    w.channel("a", "sim-json", 100, json!({})).await;
    let hot = w
        .server
        .put(
            "/v1/accounts/M-shop/hot",
            json!({"mode": "buffered", "flush_interval_ms": 50}),
        )
        .await;
    assert_eq!(hot.status, 200, "{:?}", hot.body);
    for i in 0..20 {
        let trade = w.trade(&format!("hot-{i}"), 10_000).await;
        let paid = w.pay(&trade, &format!("hot-p{i}"), "quickpay", None).await;
        assert_eq!(paid.body["status"], "succeeded", "{:?}", paid.body);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    w.server.post("/v1/transfers", json!({"id": "nudge", "debit_account": "FEE-INCOME-CNY", "credit_account": "CLR-a-CNY", "amount": 1, "currency": "CNY"})).await;
    let account = w.server.get("/v1/accounts/M-shop").await;
    let total = account.body["balance"].as_i64().unwrap()
        + account.body["pending_credit"].as_i64().unwrap();
    assert_eq!(total, 20 * net(10_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_paycores_own_time() {
    let w = world().await;
    w.channel("a", "sim-json", 100, json!({"latency_ms": 200}))
        .await;
    let trade = w.trade("own", 100).await;
    let started = std::time::Instant::now();
    let response = w
        .server
        .http
        .post(w.server.url(&format!("/v1/trades/{trade}/payments")))
        .bearer_auth(&w.server.key)
        .json(&json!({"id": "own-p", "method": "quickpay"}))
        .send()
        .await
        .unwrap();
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    let own: f64 = response.headers()["paycore-own-time-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total_ms >= 200.0, "the channel answered after its latency");
    assert!(
        own < total_ms - 150.0,
        "own time {own} ms excludes the 200 ms channel wait of {total_ms} ms"
    );
}
