//! Payouts (出款) against a real server and a real bank simulator: held first, captured on
//! the bank's success, released on a definitive failure, kept while unknown; never rerouted
//! automatically, rerouted by hand only after a definitive failure under a new number. Every
//! test ends by checking the books.

mod common;
#[path = "payments/harness.rs"]
mod harness;

use std::time::Duration;

use harness::{world, World};
use serde_json::{json, Value};

const SETTLE: Duration = Duration::from_secs(20);
const PAYOUT: [&str; 1] = ["payout"];

/// Net of the shop's fee of 60 bp, rounded half up.
fn net(amount: u64) -> i64 {
    (amount - (amount * 60 + 5_000) / 10_000) as i64
}

/// Gives the shop `net(amount)` through a paid trade on a quick-pay channel of its own.
async fn fund(w: &World, amount: u64) {
    w.channel("in", "sim-form", 100, json!({})).await;
    let trade = w.trade("fund-1", amount).await;
    let paid = w.pay(&trade, "fund-p", "quickpay", Some("in")).await;
    assert_eq!(paid.body["status"], "succeeded", "{:?}", paid.body);
}

async fn payout(w: &World, id: &str, amount: u64, channel: Option<&str>) -> common::Reply {
    let mut body = json!({"id": id, "merchant": "shop", "amount": amount, "currency": "CNY",
        "bank_account": "6222-0001"});
    if let Some(c) = channel {
        body["channel"] = json!(c);
    }
    w.server.post("/v1/payouts", body).await
}

/// Waits until the payout's status is final.
async fn payout_settled(w: &World, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let reply = w.server.get(&format!("/v1/payouts/{id}")).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let status = reply.body["status"].as_str().unwrap().to_owned();
        if status == "succeeded" || status == "failed" {
            return reply.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "payout {id} still {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn account(w: &World, number: &str) -> Value {
    let reply = w.server.get(&format!("/v1/accounts/{number}")).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

async fn hold_status(w: &World, hold_id: &Value) -> String {
    let hold = hold_id.as_str().unwrap();
    let reply = w.server.get(&format!("/v1/holds/{hold}")).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_is_held_then_captured_and_what_is_not_there_is_refused() {
    let w = world().await;
    fund(&w, 10_000).await;
    w.channel_for("out", "sim-json", 100, &PAYOUT, json!({}))
        .await;

    let sent = payout(&w, "w-1", 5_000, None).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let p = &sent.body;
    assert_eq!(
        (p["status"].as_str(), p["hold"].as_str()),
        (Some("succeeded"), Some("captured"))
    );
    assert_eq!(p["channel"], "out");
    assert_eq!(p["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(
        hold_status(&w, &p["attempts"][0]["hold_id"]).await,
        "captured"
    );
    let bank = w
        .bank_order("out", p["channel_order_no"].as_str().unwrap())
        .await;
    assert_eq!(
        (bank["status"].as_str(), bank["amount"].as_u64()),
        (Some("succeeded"), Some(5_000))
    );
    assert_eq!(w.balance("M-shop").await, net(10_000) - 5_000);
    assert_eq!(w.balance("CLR-out-CNY").await, 5_000);

    // A retry is the same payout; the same id with other content is a conflict.
    let again = payout(&w, "w-1", 5_000, None).await;
    assert_eq!(
        (again.status.as_u16(), &again.body["channel_order_no"]),
        (200, &p["channel_order_no"])
    );
    let other = payout(&w, "w-1", 4_000, None).await;
    assert_eq!((other.status.as_u16(), other.code()), (409, "id_conflict"));

    // More than is available: refused by the hold, nothing sent to any channel, and a retry
    // gets the same answer.
    let short = payout(&w, "w-2", 9_999, None).await;
    assert_eq!(
        (short.status.as_u16(), short.code()),
        (422, "insufficient_funds"),
        "{:?}",
        short.body
    );
    let retry = payout(&w, "w-2", 9_999, None).await;
    assert_eq!(
        (retry.status.as_u16(), retry.code()),
        (422, "insufficient_funds")
    );
    let shown = w.server.get("/v1/payouts/w-2").await.body;
    assert_eq!(
        (shown["status"].as_str(), shown["hold"].as_str()),
        (Some("failed"), Some("refused"))
    );
    assert_eq!(shown["attempts"][0]["sends"], 0);
    let never = w
        .http
        .get(format!(
            "{}/sim/channels/out/orders/{}",
            w.sim,
            shown["channel_order_no"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(never.status(), 404, "the bank never heard of it");

    // Bad requests change nothing.
    let unknown = w
        .server
        .post("/v1/payouts", json!({"id": "w-3", "merchant": "nobody", "amount": 1, "currency": "CNY", "bank_account": "1"}))
        .await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.code()),
        (404, "merchant_not_found")
    );
    let bad = w
        .server
        .post("/v1/payouts", json!({"id": "w-4", "merchant": "shop", "amount": 1, "currency": "CNY", "bank_account": "a b"}))
        .await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    let zero = payout(&w, "w-5", 0, None).await;
    assert_eq!(zero.status, 400, "{:?}", zero.body);
    let nowhere = payout(&w, "w-6", 1, Some("in")).await;
    assert_eq!(
        (nowhere.status.as_u16(), nowhere.code()),
        (422, "no_channel_available"),
        "in takes no payouts"
    );
    // The merchant hears of the outcome at the payout's notify_url (an outbox row written
    // with the capture); a URL off the merchant's callback hosts is refused.
    let told = w
        .server
        .post(
            "/v1/payouts",
            json!({"id": "w-n", "merchant": "shop", "amount": 100, "currency": "CNY",
            "bank_account": "6222-0001", "notify_url": "http://127.0.0.1:9/payouts"}),
        )
        .await;
    assert_eq!(told.body["status"], "succeeded", "{:?}", told.body);
    let notes = w.server.get("/v1/notifications?order=w-n").await.body;
    assert_eq!(
        notes["notifications"][0]["type"], "payout.succeeded",
        "{notes}"
    );
    let elsewhere = w
        .server
        .post(
            "/v1/payouts",
            json!({"id": "w-x", "merchant": "shop", "amount": 100, "currency": "CNY",
            "bank_account": "6222-0001", "notify_url": "http://evil.example/payouts"}),
        )
        .await;
    assert_eq!(
        (elsewhere.status.as_u16(), elsewhere.code()),
        (422, "notify_url_not_allowed")
    );
    let listed = w.server.get("/v1/payouts?merchant=shop&limit=1").await.body;
    assert_eq!(listed["payouts"][0]["id"], "w-n", "newest first: {listed}");
    let next = listed["next"].as_str().unwrap();
    let older = w
        .server
        .get(&format!("/v1/payouts?merchant=shop&before={next}"))
        .await
        .body;
    assert_eq!(older["payouts"][0]["id"], "w-2", "{older}");
    assert_eq!(w.balance("M-shop").await, net(10_000) - 5_100);
    w.server.assert_books_balance().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_payout_keeps_its_hold_and_is_never_rerouted() {
    let w = world().await;
    fund(&w, 10_000).await;
    // Requests are held past paycore's timeout; the bank pays anyway (its query says so).
    let held = json!({"success_pct": 1, "fail_pct": 0, "timeout_pct": 99, "timeout_hold_ms": 1_500, "callback": "none"});
    w.channel_for("slow", "sim-json", 100, &PAYOUT, held).await;
    w.channel_for("spare", "sim-form", 100, &PAYOUT, json!({}))
        .await;

    let sent = payout(&w, "u-1", 3_000, Some("slow")).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    assert_eq!(
        (sent.body["status"].as_str(), sent.body["hold"].as_str()),
        (Some("unknown"), Some("placed"))
    );
    let merchant = account(&w, "M-shop").await;
    assert_eq!(
        (merchant["frozen"].as_i64(), merchant["available"].as_i64()),
        (Some(3_000), Some(net(10_000) - 3_000))
    );

    // While the outcome is unknown it may have paid: no reroute. A resend keeps the number.
    let reroute = w
        .server
        .post("/v1/payouts/u-1/reroute", json!({"channel": "spare"}))
        .await;
    assert_eq!(
        (reroute.status.as_u16(), reroute.code()),
        (409, "payout_outcome_unknown")
    );
    let resent = w.server.post("/v1/payouts/u-1/resend", json!({})).await;
    assert_eq!(resent.status, 200, "{:?}", resent.body);
    assert_eq!(
        resent.body["channel_order_no"],
        sent.body["channel_order_no"]
    );
    assert_eq!(resent.body["attempts"].as_array().unwrap().len(), 1);

    let done = payout_settled(&w, "u-1").await;
    assert_eq!(
        (done["status"].as_str(), done["hold"].as_str()),
        (Some("succeeded"), Some("captured")),
        "{done}"
    );
    assert!(done["attempts"][0]["sends"].as_u64().unwrap() >= 2);
    let reroute = w.server.post("/v1/payouts/u-1/reroute", json!({})).await;
    assert_eq!(
        (reroute.status.as_u16(), reroute.code()),
        (409, "payout_already_succeeded")
    );
    let resend = w.server.post("/v1/payouts/u-1/resend", json!({})).await;
    assert_eq!(
        (resend.status.as_u16(), resend.code()),
        (409, "order_final")
    );
    // Paid once, at one bank.
    let spare = w.server.get("/v1/channels/spare").await.body;
    assert_eq!(spare["counters"]["routed"], 0, "{spare}");
    assert_eq!(w.balance("M-shop").await, net(10_000) - 3_000);
    assert_eq!(account(&w, "M-shop").await["frozen"], 0);
    w.server.assert_books_balance().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_payout_releases_and_a_reroute_takes_a_new_number_and_a_new_hold() {
    let w = world().await;
    fund(&w, 10_000).await;
    w.channel_for(
        "bad",
        "sim-json",
        100,
        &PAYOUT,
        json!({"success_pct": 0, "fail_pct": 100}),
    )
    .await;
    w.channel_for("good", "sim-form", 100, &PAYOUT, json!({}))
        .await;

    let failed = payout(&w, "f-1", 2_000, Some("bad")).await;
    assert_eq!(failed.status, 201, "{:?}", failed.body);
    let failed = payout_settled(&w, "f-1").await;
    assert_eq!(
        (failed["status"].as_str(), failed["hold"].as_str()),
        (Some("failed"), Some("released")),
        "{failed}"
    );
    assert!(failed["failure"]["code"].is_string());
    assert_eq!(
        hold_status(&w, &failed["attempts"][0]["hold_id"]).await,
        "released"
    );
    assert_eq!(account(&w, "M-shop").await["frozen"], 0);

    let rerouted = w.server.post("/v1/payouts/f-1/reroute", json!({})).await;
    assert_eq!(rerouted.status, 200, "{:?}", rerouted.body);
    let r = &rerouted.body;
    assert_eq!(
        r["channel"], "good",
        "another channel than the one that failed"
    );
    assert_ne!(r["channel_order_no"], failed["channel_order_no"]);
    let attempts = r["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1]["hold_id"], "payout-hold:f-1:2");
    assert_eq!(
        (r["status"].as_str(), r["hold"].as_str()),
        (Some("succeeded"), Some("captured")),
        "{r}"
    );
    assert_eq!(hold_status(&w, &attempts[1]["hold_id"]).await, "captured");
    let bad_bank = w
        .bank_order("bad", failed["channel_order_no"].as_str().unwrap())
        .await;
    assert_eq!(bad_bank["status"], "failed");

    assert_eq!(w.balance("M-shop").await, net(10_000) - 2_000);
    assert_eq!(w.balance("CLR-bad-CNY").await, 0);
    assert_eq!(w.balance("CLR-good-CNY").await, 2_000);
    let missing = w.server.post("/v1/payouts/none/reroute", json!({})).await;
    assert_eq!(
        (missing.status.as_u16(), missing.code()),
        (404, "payout_not_found")
    );
    w.server.assert_books_balance().await;
}

/// A late success racing a person's reroute: while the payout's outcome is unknown, a reroute
/// is tried every few milliseconds as the bank's late callback arrives. The writer orders them:
/// before the success the reroute is `payout_outcome_unknown`, after it
/// `payout_already_succeeded` — never a second channel order, never a second capture.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reroute_racing_a_late_success_never_pays_twice() {
    let w = world().await;
    fund(&w, 100_000).await;
    let late = json!({"success_pct": 0, "fail_pct": 0, "timeout_pct": 100, "timeout_hold_ms": 350,
        "callback": "late", "callback_delay_ms": 600});
    w.channel_for("late", "sim-json", 100, &PAYOUT, late).await;
    w.channel_for("other", "sim-form", 100, &PAYOUT, json!({}))
        .await;
    for round in 0..3 {
        let id = format!("race-{round}");
        let sent = payout(&w, &id, 1_000, Some("late")).await;
        assert_eq!(sent.body["status"], "unknown", "{:?}", sent.body);
        let (mut unknown, mut succeeded) = (0, 0);
        loop {
            let reroute = w
                .server
                .post(
                    &format!("/v1/payouts/{id}/reroute"),
                    json!({"channel": "other"}),
                )
                .await;
            match (reroute.status.as_u16(), reroute.code()) {
                (409, "payout_outcome_unknown") => unknown += 1,
                (409, "payout_already_succeeded") => succeeded += 1,
                other => panic!(
                    "a reroute of an open payout went through: {other:?} {:?}",
                    reroute.body
                ),
            }
            if succeeded > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(unknown > 0, "the race was run before the success");
        let done = payout_settled(&w, &id).await;
        assert_eq!(done["attempts"].as_array().unwrap().len(), 1, "{done}");
        assert_eq!(
            (done["status"].as_str(), done["hold"].as_str()),
            (Some("succeeded"), Some("captured"))
        );
    }
    let other = w.server.get("/v1/channels/other").await.body;
    assert_eq!(other["counters"]["routed"], 0, "{other}");
    assert_eq!(w.balance("M-shop").await, net(100_000) - 3_000);
    assert_eq!(w.balance("CLR-late-CNY").await, 3_000);
    assert_eq!(account(&w, "M-shop").await["frozen"], 0);
    w.server.assert_books_balance().await;
}
