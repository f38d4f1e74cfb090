//! Refunds, duplicate payments, order locks, balance and combined payments, against a real
//! server and a real bank simulator. Every test ends by checking the ledger: what the orders
//! say moved, moved once, and the channel, suspense and merchant accounts add up.

mod common;
#[path = "payments/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{quick_options, world, world_with, World};
use serde_json::{json, Value};

const SETTLE: Duration = Duration::from_secs(20);

/// Net of the shop's fee of 60 bp, rounded half up.
fn net(amount: u64) -> i64 {
    (amount - (amount * 60 + 5_000) / 10_000) as i64
}

/// A channel whose requests are held past paycore's timeout (the order still succeeds at the
/// bank: its query says so later).
fn held_success() -> Value {
    json!({"success_pct": 1, "fail_pct": 0, "timeout_pct": 99, "timeout_hold_ms": 1_000, "callback": "none"})
}

async fn refund(w: &World, payment: &str, id: &str, amount: u64) -> common::Reply {
    w.server
        .post(
            &format!("/v1/payments/{payment}/refunds"),
            json!({"id": id, "amount": amount, "reason": "returned goods"}),
        )
        .await
}

/// Waits until the refund's status is final.
async fn refund_settled(w: &World, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let reply = w.server.get(&format!("/v1/refunds/{id}")).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let status = reply.body["status"].as_str().unwrap().to_owned();
        if status == "succeeded" || status == "failed" {
            return reply.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "refund {id} still {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the payment reaches `status`.
async fn payment_becomes(w: &World, id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let payment = w.payment(id).await;
        if payment["status"] == status {
            return payment;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "payment {id} is not {status}: {payment}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Pays a new trade on `channel` until the channel's answer is `unknown` (held past the
/// timeout); returns (trade, payment).
async fn unknown_payment(w: &World, prefix: &str, channel: &str, amount: u64) -> (String, String) {
    for i in 0..20 {
        let trade = w.trade(&format!("{prefix}-{i}"), amount).await;
        let id = format!("{prefix}-p{i}");
        let paid = w.pay(&trade, &id, "quickpay", Some(channel)).await;
        assert_eq!(paid.status, 201, "{:?}", paid.body);
        if paid.body["status"] == "unknown" {
            return (trade, id);
        }
        w.payment(&id).await;
    }
    panic!("{channel} never timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_refunds_never_add_up_to_more_than_was_paid() {
    let w = world().await;
    w.channel("a", "sim-form", 100, json!({})).await;
    let trade = w.trade("r-1", 1_000).await;
    let paid = w.pay(&trade, "r-p1", "quickpay", None).await;
    assert_eq!(paid.body["status"], "succeeded", "{:?}", paid.body);

    let first = refund(&w, "r-p1", "r1", 400).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["source"], "merchant");
    assert_eq!(refund_settled(&w, "r1").await["status"], "succeeded");
    let again = refund(&w, "r-p1", "r1", 400).await;
    assert_eq!(
        again.status, 200,
        "a retry returns the refund: {:?}",
        again.body
    );
    assert_eq!(
        again.body["channel_order_no"],
        first.body["channel_order_no"]
    );
    let changed = refund(&w, "r-p1", "r1", 300).await;
    assert_eq!(
        (changed.status.as_u16(), changed.code()),
        (409, "id_conflict")
    );
    let too_much = refund(&w, "r-p1", "r2", 601).await;
    assert_eq!(
        (too_much.status.as_u16(), too_much.code()),
        (422, "refund_exceeds_payment")
    );
    let second = refund(&w, "r-p1", "r3", 500).await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let second = refund_settled(&w, "r3").await;
    assert_eq!(second["status"], "succeeded");
    assert_eq!(second["hold"], "captured");
    let over = refund(&w, "r-p1", "r4", 101).await;
    assert_eq!(over.code(), "refund_exceeds_payment");

    let missing = w.server.get("/v1/refunds/nope").await;
    assert_eq!(
        (missing.status.as_u16(), missing.code()),
        (404, "refund_not_found")
    );
    let no_payment = refund(&w, "nope", "r5", 1).await;
    assert_eq!(no_payment.code(), "payment_not_found");
    let bad = w
        .server
        .post(
            "/v1/payments/r-p1/refunds",
            json!({"id": "r6", "amount": 0}),
        )
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);

    // The bank recorded both refunds; the merchant paid back 900 of its 994.
    let bank = w
        .bank_order("a", second["channel_order_no"].as_str().unwrap())
        .await;
    assert_eq!(bank["status"], "succeeded", "{bank}");
    assert_eq!(w.balance("M-shop").await, net(1_000) - 900);
    assert_eq!(w.balance("CLR-a-CNY").await, -1_000 + 900);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_the_merchant_cannot_cover_is_refused_and_sends_nothing() {
    let w = world().await;
    w.channel("a", "sim-json", 100, json!({})).await;
    let trade = w.trade("cover-1", 1_000).await;
    w.pay(&trade, "cover-p", "quickpay", None).await;
    let refused = refund(&w, "cover-p", "cover-r", 1_000).await;
    assert_eq!(refused.status, 201, "{:?}", refused.body);
    assert_eq!(refused.body["status"], "failed");
    assert_eq!(refused.body["hold"], "refused");
    assert_eq!(refused.body["failure"]["code"], "insufficient_funds");
    // A failed refund does not count: the merchant can still refund what it has.
    let fits = refund(&w, "cover-p", "cover-r2", 994).await;
    assert_eq!(
        refund_settled(&w, "cover-r2").await["status"],
        "succeeded",
        "{:?}",
        fits.body
    );
    assert_eq!(w.balance("M-shop").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_success_on_a_paid_trade_is_refunded_as_a_duplicate() {
    let w = world().await;
    w.channel("slow", "sim-json", 0, held_success()).await;
    w.channel("fast", "sim-form", 100, json!({})).await;
    let (trade, slow) = unknown_payment(&w, "dup", "slow", 2_000).await;

    // While the first payment is in flight, a quick payment is blocked; a net-bank payment
    // (another method) is not.
    let blocked = w.pay(&trade, "dup-quick", "quickpay", Some("fast")).await;
    assert_eq!(
        (blocked.status.as_u16(), blocked.code()),
        (409, "payment_pending")
    );
    let paid = w.pay(&trade, "dup-net", "netbank", Some("fast")).await;
    assert_eq!(paid.status, 201, "{:?}", paid.body);
    // A net-bank payment's outcome comes with the bank's callback.
    assert_eq!(w.settled("dup-net", SETTLE).await["status"], "succeeded");

    // The first payment's success arrives later (a status query): it is refunded.
    let refunded = payment_becomes(&w, &slow, "refunded").await;
    assert_eq!(refunded["refund_reason"], "duplicate_payment", "{refunded}");
    let refund_id = refunded["refund_id"].as_str().unwrap().to_owned();
    let returned = refund_settled(&w, &refund_id).await;
    assert_eq!(
        (returned["status"].as_str(), returned["source"].as_str()),
        (Some("succeeded"), Some("suspense"))
    );
    let bank = w
        .bank_order("slow", returned["channel_order_no"].as_str().unwrap())
        .await;
    assert_eq!(
        bank["status"], "succeeded",
        "the bank paid the money back: {bank}"
    );

    let shown = w.server.get(&format!("/v1/trades/{trade}")).await;
    assert_eq!(shown.body["status"], "paid");
    assert_eq!(shown.body["paid_by"], "dup-net");
    let late = w.pay(&trade, "dup-late", "netbank", Some("fast")).await;
    assert_eq!(
        (late.status.as_u16(), late.code()),
        (409, "trade_already_paid")
    );
    let not_refundable = refund(&w, &slow, "dup-r", 1).await;
    assert_eq!(not_refundable.code(), "payment_not_refundable");

    // Kept once: the merchant has one payment; the duplicate went through suspense and back.
    assert_eq!(w.balance("M-shop").await, net(2_000));
    assert_eq!(w.balance("PAY-SUSPENSE-CNY").await, 0);
    assert_eq!(w.balance("CLR-slow-CNY").await, 0);
    assert_eq!(w.balance("CLR-fast-CNY").await, -2_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_expire_and_close() {
    let mut options = quick_options();
    options.quickpay_block = Duration::from_secs(0);
    let w = world_with(options).await;
    w.channel("slow", "sim-json", 0, held_success()).await;
    w.channel("a", "sim-form", 100, json!({})).await;

    let short = w
        .server
        .post(
            "/v1/trades",
            json!({"merchant": "shop", "merchant_order_no": "exp-1", "amount": 100, "currency": "CNY", "expires_in_s": 1}),
        )
        .await;
    let short = short.body["trade_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let expired = w.pay(&short, "exp-p", "quickpay", None).await;
    assert_eq!(
        (expired.status.as_u16(), expired.code()),
        (409, "trade_expired")
    );
    assert_eq!(
        w.server.get(&format!("/v1/trades/{short}")).await.body["status"],
        "expired"
    );

    let open = w.trade("close-1", 100).await;
    let closed = w
        .server
        .post(&format!("/v1/trades/{open}/close"), json!({}))
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    let after = w.pay(&open, "close-p", "quickpay", None).await;
    assert_eq!((after.status.as_u16(), after.code()), (409, "trade_closed"));
    let missing = w.server.post("/v1/trades/T-nope/close", json!({})).await;
    assert_eq!(missing.code(), "trade_not_found");

    // A trade with a payment in flight cannot be closed; once that payment's success is
    // known the trade is paid.
    let (busy, slow) = unknown_payment(&w, "busy", "slow", 100).await;
    let refused = w
        .server
        .post(&format!("/v1/trades/{busy}/close"), json!({}))
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (409, "payment_pending")
    );
    assert_eq!(w.settled(&slow, SETTLE).await["status"], "succeeded");
    let paid = w
        .server
        .post(&format!("/v1/trades/{busy}/close"), json!({}))
        .await;
    assert_eq!(paid.code(), "trade_already_paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_and_combined_payments() {
    let w = world().await;
    w.channel("a", "sim-form", 100, json!({})).await;
    assert_eq!(w.server.open("alice", "customer").await.status, 201);
    assert_eq!(
        w.server.deposit("d-alice", "alice", 1_500).await.status,
        201
    );

    // From the balance alone: no channel.
    let t1 = w.trade("bal-1", 1_000).await;
    let body = json!({"id": "bal-p", "method": "balance", "payer_account": "alice"});
    let paid = w
        .server
        .post(&format!("/v1/trades/{t1}/payments"), body)
        .await;
    assert_eq!(paid.status, 201, "{:?}", paid.body);
    assert_eq!(paid.body["status"], "succeeded", "{:?}", paid.body);
    assert_eq!(paid.body["channel"], Value::Null);
    assert_eq!(w.balance("alice").await, 500);

    // Not enough left: failed with the ledger's reason, nothing moved.
    let t2 = w.trade("bal-2", 1_000).await;
    let body = json!({"id": "bal-poor", "method": "balance", "payer_account": "alice"});
    let poor = w
        .server
        .post(&format!("/v1/trades/{t2}/payments"), body)
        .await;
    assert_eq!(poor.body["status"], "failed", "{:?}", poor.body);
    assert_eq!(poor.body["failure"]["code"], "insufficient_funds");
    let missing_payer = w
        .server
        .post(
            &format!("/v1/trades/{t2}/payments"),
            json!({"id": "bal-x", "method": "balance"}),
        )
        .await;
    assert_eq!(missing_payer.status, 400, "{:?}", missing_payer.body);

    // Combined: 700 through the channel first, then 300 from alice.
    let t3 = w.trade("comb-1", 1_000).await;
    let body = json!({"id": "comb-p", "method": "combined", "payer_account": "alice", "balance_amount": 300});
    let combined = w
        .server
        .post(&format!("/v1/trades/{t3}/payments"), body)
        .await;
    assert_eq!(combined.body["status"], "succeeded", "{:?}", combined.body);
    let bank = w
        .bank_order("a", combined.body["channel_order_no"].as_str().unwrap())
        .await;
    assert_eq!(bank["amount"], 700, "{bank}");
    assert_eq!(w.balance("alice").await, 200);

    // Combined whose balance part fails after the channel took the external part: the
    // external part is refunded, the payment fails, net no money moved.
    let t4 = w.trade("comb-2", 1_000).await;
    let body = json!({"id": "comb-poor", "method": "combined", "payer_account": "alice", "balance_amount": 300});
    let started = w
        .server
        .post(&format!("/v1/trades/{t4}/payments"), body)
        .await;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let failed = w.settled("comb-poor", SETTLE).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["refund_reason"], "balance_failed");
    let returned = refund_settled(&w, failed["refund_id"].as_str().unwrap()).await;
    assert_eq!(returned["amount"], 700);
    assert_eq!(w.balance("alice").await, 200);
    assert_eq!(
        w.server.get(&format!("/v1/trades/{t4}")).await.body["status"],
        "open"
    );

    // Books: the merchant got two payments of 1,000 less fees; suspense is empty; the
    // channel owes the one external part it kept (the other went back).
    assert_eq!(w.balance("M-shop").await, 2 * net(1_000));
    assert_eq!(w.balance("PAY-SUSPENSE-CNY").await, 0);
    assert_eq!(w.balance("CLR-a-CNY").await, -700);
}

/// Two quick payments of one trade, sent together to two banks that both take the money at
/// once: exactly one is kept, the other is refunded as a duplicate (through suspense), in
/// every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_successes_of_one_trade_at_the_same_moment_keep_one() {
    let mut options = quick_options();
    options.quickpay_block = Duration::from_secs(0);
    let w = world_with(options).await;
    w.channel("left", "sim-json", 100, json!({})).await;
    w.channel("right", "sim-form", 100, json!({})).await;
    let rounds = 4;
    for round in 0..rounds {
        let trade = w.trade(&format!("twin-{round}"), 1_000).await;
        let (a, b) = (format!("twin-{round}-a"), format!("twin-{round}-b"));
        let (left, right) = tokio::join!(
            w.pay(&trade, &a, "quickpay", Some("left")),
            w.pay(&trade, &b, "quickpay", Some("right"))
        );
        assert_eq!(
            (left.status.as_u16(), right.status.as_u16()),
            (201, 201),
            "{:?} {:?}",
            left.body,
            right.body
        );
        let mut kept = Vec::new();
        for id in [&a, &b] {
            let deadline = tokio::time::Instant::now() + SETTLE;
            let payment = loop {
                let p = w.payment(id).await;
                if p["status"] == "succeeded" || p["status"] == "refunded" {
                    break p;
                }
                assert!(tokio::time::Instant::now() < deadline, "{id}: {p}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            if payment["status"] == "succeeded" {
                kept.push(id.clone());
            } else {
                assert_eq!(payment["refund_reason"], "duplicate_payment", "{payment}");
                let refund = refund_settled(&w, payment["refund_id"].as_str().unwrap()).await;
                assert_eq!(refund["status"], "succeeded", "{refund}");
            }
        }
        assert_eq!(kept.len(), 1, "round {round} kept {kept:?}");
        let shown = w.server.get(&format!("/v1/trades/{trade}")).await.body;
        assert_eq!(shown["paid_by"].as_str(), Some(kept[0].as_str()));
    }
    assert_eq!(w.balance("M-shop").await, rounds * net(1_000));
    assert_eq!(w.balance("PAY-SUSPENSE-CNY").await, 0);
    let channels = w.balance("CLR-left-CNY").await + w.balance("CLR-right-CNY").await;
    assert_eq!(
        channels,
        -rounds * 1_000,
        "what the banks kept is what was kept"
    );
    w.server.assert_books_balance().await;
}

/// A late success racing a person's reroute of the same payment: every reroute before the
/// success is `payment_outcome_unknown`, after it `payment_already_succeeded`; the payment
/// never gets a second channel order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reroute_racing_a_late_success_is_refused() {
    let w = world().await;
    let late = json!({"success_pct": 0, "fail_pct": 0, "timeout_pct": 100, "timeout_hold_ms": 350,
        "callback": "late", "callback_delay_ms": 600});
    w.channel("late", "sim-json", 100, late).await;
    w.channel("other", "sim-form", 0, json!({})).await;
    for round in 0..3 {
        let (_, id) = unknown_payment(&w, &format!("rr{round}"), "late", 1_000).await;
        let (mut unknown, mut succeeded) = (0, 0);
        while succeeded == 0 {
            let reroute = w
                .server
                .post(
                    &format!("/v1/payments/{id}/reroute"),
                    json!({"channel": "other"}),
                )
                .await;
            match (reroute.status.as_u16(), reroute.code()) {
                (409, "payment_outcome_unknown") => unknown += 1,
                (409, "payment_already_succeeded") => succeeded += 1,
                other => panic!(
                    "a reroute of an open payment went through: {other:?} {:?}",
                    reroute.body
                ),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(unknown > 0, "the race was run before the success");
        let payment = w.settled(&id, SETTLE).await;
        assert_eq!(payment["status"], "succeeded");
        assert_eq!(
            payment["attempts"].as_array().unwrap().len(),
            1,
            "{payment}"
        );
    }
    let other = w.server.get("/v1/channels/other").await.body;
    assert_eq!(other["counters"]["routed"], 0, "{other}");
    assert_eq!(w.balance("M-shop").await, 3 * net(1_000));
    w.server.assert_books_balance().await;
}

/// A step the ledger refuses that has no other way out: the channel's clearing account is
/// frozen, so neither keeping the money (clearing → merchant) nor sending it back (clearing →
/// suspense) can post. The payment waits, says why in its anomalies, and posts nothing; once
/// the account is unfrozen its next try (under a new ledger id: the ledger answers the
/// refused one with its refusal) sends the money back. The books balance throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_the_ledger_refuses_waits_says_why_and_posts_once_it_can() {
    let mut options = quick_options();
    options.ledger_retry = Duration::from_millis(300);
    let w = world_with(options).await;
    w.channel("ice", "sim-json", 100, json!({})).await;
    let frozen = w
        .server
        .post("/v1/accounts/CLR-ice-CNY/freeze", json!({}))
        .await;
    assert_eq!(frozen.status, 200, "{:?}", frozen.body);
    let trade = w.trade("ice-1", 1_000).await;
    let paid = w.pay(&trade, "ice-p", "quickpay", Some("ice")).await;
    assert_eq!(paid.status, 201, "{:?}", paid.body);

    let expected = "the ledger refused PostToSuspense (account_frozen); tried again every 300 ms";
    let deadline = tokio::time::Instant::now() + SETTLE;
    let waiting = loop {
        let payment = w.payment("ice-p").await;
        if payment["anomalies"] == json!([expected]) {
            break payment;
        }
        assert!(tokio::time::Instant::now() < deadline, "{payment}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        (
            waiting["status"].as_str(),
            waiting["refund_reason"].as_str()
        ),
        (Some("refunding"), Some("ledger_rejected")),
        "{waiting}"
    );
    // Retried (300 ms apart) with one anomaly and nothing posted.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let later = w.payment("ice-p").await;
    assert_eq!(later["anomalies"], json!([expected]), "{later}");
    assert_eq!(w.balance("CLR-ice-CNY").await, 0, "nothing posted");
    assert_eq!(w.balance("PAY-SUSPENSE-CNY").await, 0);
    w.server.assert_books_balance().await;

    let thawed = w
        .server
        .post("/v1/accounts/CLR-ice-CNY/unfreeze", json!({}))
        .await;
    assert_eq!(thawed.status, 200, "{:?}", thawed.body);
    // A success the ledger refused ends `failed`, its money returned by the refund.
    let returned = payment_becomes(&w, "ice-p", "failed").await;
    let refund_id = returned["refund_id"].as_str().unwrap().to_owned();
    assert_eq!(refund_settled(&w, &refund_id).await["status"], "succeeded");
    assert_eq!(w.balance("CLR-ice-CNY").await, 0, "in and back out once");
    assert_eq!(w.balance("PAY-SUSPENSE-CNY").await, 0);
    assert_eq!(w.balance("M-shop").await, 0, "the merchant kept nothing");
    w.server.assert_books_balance().await;
}
