//! Adjustments (调账) with maker-checker (双人复核) over the API of a real server: named
//! operators behind keys, maker ≠ checker (whatever key the maker uses), two checkers above
//! the threshold, rejections with reasons, expiry, postings checked against the accounts as
//! they are at approval, plain transfers of kind adjustment refused, idempotent create and
//! approve, the complete history, the vouchers accounting makes, and a crash between approval
//! and posting at either point. The books balance after every sequence.

mod common;

use std::time::Duration;

use common::*;
use paycore_server::{AdjustmentConfig, AdjustmentPolicy, PaymentOptions};
use serde_json::{json, Value};

/// Operators' keys: li makes (two keys), wang checks (two keys), zhao is a third person.
struct People {
    li: String,
    li_second: String,
    wang: String,
    wang_second: String,
    zhao: String,
    auditor: String,
}

async fn people(s: &TestServer) -> People {
    People {
        li: s.key_of("li-desk", "li", "operator").await,
        li_second: s.key_of("li-laptop", "li", "operator").await,
        wang: s.key_of("wang-desk", "wang", "operator").await,
        wang_second: s.key_of("wang-phone", "wang", "operator").await,
        zhao: s.key_of("zhao", "zhao", "admin").await,
        auditor: s.key_of("audit", "sun", "auditor").await,
    }
}

fn options(adjust: impl FnOnce(&mut AdjustmentConfig)) -> PaymentOptions {
    let mut options = PaymentOptions::default();
    adjust(&mut options.adjustments);
    options
}

/// A server with SUSPENSE (internal, may go negative), alice and bob (customers), alice funded.
async fn world(dir: &std::path::Path, options: PaymentOptions) -> (TestServer, People) {
    let s = start_with_payments(dir, options).await;
    for (number, kind) in [
        ("SUSPENSE", "internal"),
        ("alice", "customer"),
        ("bob", "customer"),
    ] {
        assert_eq!(s.open(number, kind).await.status, 201);
    }
    assert_eq!(s.deposit("fund-alice", "alice", 100_000).await.status, 201);
    let p = people(&s).await;
    (s, p)
}

fn proposal(id: &str, debit: &str, credit: &str, amount: u64) -> Value {
    json!({"id": id, "debit_account": debit, "credit_account": credit, "amount": amount,
           "currency": "CNY", "reason": "payment P-42 was credited to the wrong customer",
           "evidence": "ticket OPS-7"})
}

async fn create(s: &TestServer, key: &str, body: Value) -> Reply {
    s.post_as(key, "/v1/adjustments", body).await
}

async fn approve(s: &TestServer, key: &str, id: &str, comment: Option<&str>) -> Reply {
    let body = match comment {
        Some(c) => json!({ "comment": c }),
        None => json!({}),
    };
    s.post_as(key, &format!("/v1/adjustments/{id}/approve"), body)
        .await
}

async fn show(s: &TestServer, id: &str) -> Value {
    let reply = s.get(&format!("/v1/adjustments/{id}")).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

/// The history as (action, operator) pairs.
fn history(a: &Value) -> Vec<(String, String)> {
    a["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["operator"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, o)| (a.to_string(), o.to_string()))
        .collect()
}

/// How many ledger transfers of kind adjustment the ledger holds under `ledger_id`.
async fn posted_transfer(s: &TestServer, ledger_id: &str) -> Value {
    let reply = s.get(&format!("/v1/transfers/{ledger_id}")).await;
    assert_eq!(reply.status, 200, "{ledger_id}: {:?}", reply.body);
    assert_eq!(reply.body["kind"], "adjustment");
    assert_eq!(reply.body["status"], "posted");
    reply.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maker_never_checks_and_another_person_posts_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = world(dir.path(), PaymentOptions::default()).await;
    let made = create(&s, &p.li, proposal("adj-1", "SUSPENSE", "bob", 12_345)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let a = &made.body;
    assert_eq!(a["status"], "pending_approval");
    assert_eq!(a["amount_in_words"], "壹佰贰拾叁元肆角伍分");
    assert_eq!(a["amount_text"], "123.45");
    assert_eq!(
        (a["maker"].as_str(), a["approvals_required"].as_u64()),
        (Some("li"), Some(1))
    );
    for field in ["created_at", "expires_at"] {
        assert!(
            a[field].as_str().is_some_and(|t| t.ends_with('Z')),
            "{field}"
        );
    }

    for key in [&p.li, &p.li_second] {
        let own = approve(&s, key, "adj-1", None).await;
        assert_eq!(
            (own.status.as_u16(), own.code()),
            (403, "maker_checker_violation")
        );
    }
    let auditor = approve(&s, &p.auditor, "adj-1", None).await;
    assert_eq!(
        (auditor.status.as_u16(), auditor.code()),
        (403, "forbidden")
    );
    assert_eq!(
        s.get_as(Some(&p.auditor), "/v1/adjustments/adj-1")
            .await
            .status,
        200
    );
    assert_eq!(s.balance("bob").await, 0, "nothing posted yet");

    let posted = approve(&s, &p.wang, "adj-1", Some("matches the bank statement")).await;
    assert_eq!(posted.status, 200, "{:?}", posted.body);
    assert_eq!(posted.body["status"], "posted");
    assert_eq!(posted.body["ledger_transfer_id"], "adjustment:adj-1");
    assert!(!posted.replayed);
    assert_eq!(s.balance("bob").await, 12_345);
    assert_eq!(s.balance("SUSPENSE").await, -12_345);

    // A retried approval (any of the checker's keys) answers again and posts nothing.
    let again = approve(&s, &p.wang_second, "adj-1", None).await;
    assert_eq!((again.status.as_u16(), again.replayed), (200, true));
    assert_eq!(again.body["status"], "posted");
    let late = approve(&s, &p.zhao, "adj-1", None).await;
    assert_eq!(
        (late.status.as_u16(), late.code()),
        (409, "adjustment_not_pending")
    );
    assert_eq!(s.balance("bob").await, 12_345, "posted once");
    let transfer = posted_transfer(&s, "adjustment:adj-1").await;
    assert_eq!(transfer["amount"], 12_345);

    let a = show(&s, "adj-1").await;
    assert_eq!(
        history(&a),
        pairs(&[("created", "li"), ("approved", "wang"), ("posted", "wang")])
    );
    let entries = a["history"].as_array().unwrap();
    assert_eq!(entries[0]["comment"], a["reason"]);
    assert_eq!(entries[1]["comment"], "matches the bank statement");
    assert_eq!(entries[2]["ledger_id"], "adjustment:adj-1");
    assert_eq!(a["approvals"][0]["operator"], "wang");
    s.assert_books_balance().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_amount_needs_two_checkers_besides_the_maker() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = world(dir.path(), PaymentOptions::default()).await;
    let made = create(
        &s,
        &p.li,
        proposal("big", "SUSPENSE", "alice", 1_000_000_000),
    )
    .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(made.body["amount_in_words"], "壹仟万元整");
    assert_eq!(made.body["approvals_required"], 2);
    let first = approve(&s, &p.wang, "big", Some("first look")).await;
    assert_eq!(
        first.body["status"], "partially_approved",
        "{:?}",
        first.body
    );
    for key in [&p.wang_second, &p.li, &p.li_second] {
        let refused = approve(&s, key, "big", None).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (403, "maker_checker_violation")
        );
    }
    assert_eq!(
        s.balance("alice").await,
        100_000,
        "not posted on one approval"
    );
    let second = approve(&s, &p.zhao, "big", None).await;
    assert_eq!(second.body["status"], "posted", "{:?}", second.body);
    assert_eq!(s.balance("alice").await, 1_000_100_000);
    let a = show(&s, "big").await;
    assert_eq!(
        history(&a),
        pairs(&[
            ("created", "li"),
            ("approved", "wang"),
            ("approved", "zhao"),
            ("posted", "zhao")
        ])
    );
    // At the threshold itself one checker is enough.
    create(
        &s,
        &p.li,
        proposal("at-threshold", "SUSPENSE", "alice", 100_000_000),
    )
    .await;
    let one = approve(&s, &p.wang, "at-threshold", None).await;
    assert_eq!(one.body["status"], "posted", "{:?}", one.body);
    s.assert_books_balance().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_needs_a_reason_and_ends_the_proposal() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = world(dir.path(), PaymentOptions::default()).await;
    create(&s, &p.li, proposal("r1", "SUSPENSE", "bob", 500)).await;
    let path = "/v1/adjustments/r1/reject";
    for body in [json!({}), json!({"reason": "  "})] {
        let refused = s.post_as(&p.wang, path, body).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (400, "invalid_field")
        );
    }
    let rejected = s
        .post_as(&p.wang, path, json!({"reason": "wrong customer"}))
        .await;
    assert_eq!(rejected.body["status"], "rejected", "{:?}", rejected.body);
    let retried = s
        .post_as(&p.wang_second, path, json!({"reason": "wrong customer"}))
        .await;
    assert_eq!((retried.status.as_u16(), retried.replayed), (200, true));
    let approved = approve(&s, &p.zhao, "r1", None).await;
    assert_eq!(
        (approved.status.as_u16(), approved.code()),
        (409, "adjustment_not_pending")
    );
    let a = show(&s, "r1").await;
    assert_eq!(
        history(&a),
        pairs(&[("created", "li"), ("rejected", "wang")])
    );
    assert_eq!(a["history"][1]["comment"], "wrong customer");
    assert_eq!(s.balance("bob").await, 0);
    s.assert_books_balance().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_are_checked_and_idempotent_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = world(dir.path(), PaymentOptions::default()).await;
    assert_eq!(
        s.post(
            "/v1/accounts",
            json!({"account_no": "usd-1", "type": "customer", "currency": "USD"})
        )
        .await
        .status,
        201
    );
    let mut no_reason = proposal("c1", "SUSPENSE", "bob", 1);
    no_reason.as_object_mut().unwrap().remove("reason");
    let cases = [
        (no_reason, 400, "invalid_field"),
        (proposal("c1", "SUSPENSE", "bob", 0), 400, "invalid_field"),
        (
            proposal("c1", "SUSPENSE", "nobody", 1),
            422,
            "account_not_found",
        ),
        (
            proposal("c1", "SUSPENSE", "SUSPENSE", 1),
            422,
            "same_account",
        ),
        (
            proposal("c1", "SUSPENSE", "usd-1", 1),
            422,
            "currency_mismatch",
        ),
    ];
    for (body, status, code) in cases {
        let reply = create(&s, &p.li, body.clone()).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{body}"
        );
    }
    let first = create(&s, &p.li, proposal("c1", "SUSPENSE", "bob", 700)).await;
    assert_eq!((first.status.as_u16(), first.replayed), (201, false));
    let retry = create(&s, &p.li_second, proposal("c1", "SUSPENSE", "bob", 700)).await;
    assert_eq!((retry.status.as_u16(), retry.replayed), (200, true));
    assert_eq!(retry.body["created_at"], first.body["created_at"]);
    let other = create(&s, &p.li, proposal("c1", "SUSPENSE", "bob", 701)).await;
    assert_eq!((other.status.as_u16(), other.code()), (409, "id_conflict"));
    let auditor = create(&s, &p.auditor, proposal("c2", "SUSPENSE", "bob", 1)).await;
    assert_eq!(auditor.status, 403);
    let missing = approve(&s, &p.wang, "nope", None).await;
    assert_eq!(
        (missing.status.as_u16(), missing.code()),
        (404, "adjustment_not_found")
    );

    // Lists filter by status and maker, in creation order, page by page.
    create(&s, &p.wang, proposal("c3", "SUSPENSE", "bob", 3)).await;
    approve(&s, &p.li, "c3", None).await;
    let by_li = s.get("/v1/adjustments?maker=li").await.body;
    let ids: Vec<_> = by_li["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, [json!("c1")]);
    assert!(by_li["adjustments"][0].get("history").is_none());
    let posted = s.get("/v1/adjustments?status=posted").await.body;
    assert_eq!(posted["adjustments"][0]["id"], "c3");
    let page = s.get("/v1/adjustments?limit=1").await.body;
    assert_eq!(page["adjustments"][0]["id"], "c1");
    let next = page["next"].as_u64().unwrap();
    let rest = s.get(&format!("/v1/adjustments?after={next}")).await.body;
    assert_eq!(rest["adjustments"][0]["id"], "c3");
    let bad = s.get("/v1/adjustments?status=pending").await;
    assert_eq!((bad.status.as_u16(), bad.code()), (400, "invalid_field"));
    // A cursor past every sequence number (found by schemathesis: it crashed the read).
    let beyond = s.get("/v1/adjustments?after=9223372036854775808").await;
    assert_eq!(beyond.status, 200, "{:?}", beyond.body);
    assert_eq!(beyond.body["adjustments"], json!([]));
    s.assert_books_balance().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_posting_checks_the_accounts_as_they_are_at_approval() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = world(dir.path(), PaymentOptions::default()).await;
    // Insufficient funds: refused, stays pending; funded, approved again: posted once.
    create(&s, &p.li, proposal("f1", "bob", "alice", 500)).await;
    let refused = approve(&s, &p.wang, "f1", None).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (422, "insufficient_funds")
    );
    let a = show(&s, "f1").await;
    assert_eq!(a["status"], "pending_approval");
    assert_eq!(a["last_refusal"]["code"], "insufficient_funds");
    assert!(a["approvals"].as_array().unwrap().is_empty());
    assert_eq!(s.deposit("fund-bob", "bob", 500).await.status, 201);
    let posted = approve(&s, &p.wang, "f1", None).await;
    assert_eq!(posted.body["status"], "posted", "{:?}", posted.body);
    assert_eq!(posted.body["ledger_transfer_id"], "adjustment:f1:2");
    assert_eq!(
        (s.balance("bob").await, s.balance("alice").await),
        (0, 100_500)
    );
    let a = show(&s, "f1").await;
    assert_eq!(
        history(&a),
        pairs(&[
            ("created", "li"),
            ("approved", "wang"),
            ("posting_refused", "wang"),
            ("approved", "wang"),
            ("posted", "wang")
        ])
    );
    assert_eq!(a["history"][2]["code"], "insufficient_funds");

    // A frozen account refuses, and posts once unfrozen.
    create(&s, &p.li, proposal("f2", "alice", "bob", 100)).await;
    assert_eq!(
        s.post("/v1/accounts/alice/freeze", json!({})).await.status,
        200
    );
    let frozen = approve(&s, &p.wang, "f2", None).await;
    assert_eq!(
        (frozen.status.as_u16(), frozen.code()),
        (422, "account_frozen")
    );
    assert_eq!(show(&s, "f2").await["status"], "pending_approval");
    assert_eq!(
        s.post("/v1/accounts/alice/unfreeze", json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        approve(&s, &p.wang, "f2", None).await.body["status"],
        "posted"
    );

    // An account closed after the proposal: refused, the proposal waits (and is rejected).
    assert_eq!(s.open("carol", "customer").await.status, 201);
    create(&s, &p.li, proposal("f3", "SUSPENSE", "carol", 100)).await;
    assert_eq!(
        s.post("/v1/accounts/carol/close", json!({})).await.status,
        200
    );
    let closed = approve(&s, &p.wang, "f3", None).await;
    assert_eq!(
        (closed.status.as_u16(), closed.code()),
        (422, "account_closed")
    );
    assert_eq!(show(&s, "f3").await["status"], "pending_approval");
    let late = create(&s, &p.li, proposal("f4", "SUSPENSE", "carol", 100)).await;
    assert_eq!(
        (late.status.as_u16(), late.code()),
        (422, "account_closed"),
        "checked at creation too"
    );
    let path = "/v1/adjustments/f3/reject";
    assert_eq!(
        s.post_as(&p.wang, path, json!({"reason": "account closed"}))
            .await
            .body["status"],
        "rejected"
    );
    s.assert_books_balance().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_that_waits_too_long_expires_without_posting() {
    let dir = tempfile::tempdir().unwrap();
    let options = options(|a| {
        a.policy = AdjustmentPolicy {
            ttl_ms: 400,
            ..AdjustmentPolicy::default()
        };
        a.sweep_interval = Duration::from_millis(100);
    });
    let (s, p) = world(dir.path(), options).await;
    create(&s, &p.li, proposal("e1", "SUSPENSE", "bob", 900)).await;
    create(&s, &p.li, proposal("e2", "SUSPENSE", "bob", 200_000_000)).await;
    assert_eq!(
        approve(&s, &p.wang, "e2", None).await.body["status"],
        "partially_approved"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    for id in ["e1", "e2"] {
        let refused = approve(&s, &p.zhao, id, None).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (409, "adjustment_expired"),
            "{id}"
        );
        let a = show(&s, id).await;
        assert_eq!(a["status"], "expired");
        let last = a["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (last["action"].as_str(), last["operator"].as_str()),
            (Some("expired"), Some("system"))
        );
        assert!(a["ledger_transfer_id"].is_null());
    }
    let expired = s.get("/v1/adjustments?status=expired").await.body;
    assert_eq!(expired["adjustments"].as_array().unwrap().len(), 2);
    assert_eq!(
        s.get("/v1/transfers/adjustment:e1").await.status,
        404,
        "never posted"
    );
    assert_eq!(s.balance("bob").await, 0);
    s.assert_books_balance().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_transfers_of_kind_adjustment_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = world(dir.path(), PaymentOptions::default()).await;
    let transfer = json!({"id": "t1", "debit_account": "alice", "credit_account": "bob", "amount": 1, "currency": "CNY", "kind": "adjustment"});
    let single = s.post("/v1/transfers", transfer.clone()).await;
    assert_eq!(
        (single.status.as_u16(), single.code()),
        (403, "adjustment_requires_approval")
    );
    let batch = s
        .post("/v1/transfers/batch", json!({"transfers": [transfer]}))
        .await;
    assert_eq!(
        (batch.status.as_u16(), batch.code()),
        (403, "adjustment_requires_approval")
    );
    let hold = json!({"id": "h1", "account": "alice", "amount": 10, "currency": "CNY"});
    assert_eq!(s.post("/v1/holds", hold).await.status, 201);
    let capture = s
        .post(
            "/v1/holds/h1/capture",
            json!({"credit_account": "bob", "kind": "adjustment"}),
        )
        .await;
    assert_eq!(
        (capture.status.as_u16(), capture.code()),
        (403, "adjustment_requires_approval")
    );
    let squat = s.transfer("adjustment:someone", "alice", "bob", 1).await;
    assert_eq!(
        (squat.status.as_u16(), squat.code()),
        (400, "invalid_field"),
        "the ids are reserved"
    );
    assert_eq!(s.balance("bob").await, 0);
    s.assert_books_balance().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounting_books_a_voucher_for_each_posted_adjustment() {
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = world(dir.path(), PaymentOptions::default()).await;
    for (id, amount) in [("v1", 300), ("v2", 400)] {
        create(&s, &p.li, proposal(id, "SUSPENSE", "bob", amount)).await;
        assert_eq!(
            approve(&s, &p.wang, id, None).await.body["status"],
            "posted"
        );
    }
    create(&s, &p.li, proposal("v3", "SUSPENSE", "bob", 500)).await; // not approved
    let status = posted(&s).await;
    assert_eq!(
        status["exceptions"], 0,
        "the adjustment rule maps them: {status}"
    );
    let date = status["accounting_date"].as_str().unwrap();
    let page = s
        .get(&format!("/v1/accounting/vouchers?date={date}&limit=1000"))
        .await;
    let vouchers: Vec<&Value> = page.body["vouchers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["kind"] == "adjustment")
        .collect();
    let ids: Vec<_> = vouchers
        .iter()
        .map(|v| v["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["adjustment:v1", "adjustment:v2"]);
    assert_eq!(vouchers[0]["rule"], "adjustment");
    for (voucher, amount) in vouchers.iter().zip([300, 400]) {
        let lines = voucher["lines"].as_array().unwrap();
        let side = |s: &str| {
            lines
                .iter()
                .filter(|l| l["side"] == s)
                .map(|l| l["amount"].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!((side("debit"), side("credit")), (amount, amount));
    }
    s.assert_books_balance().await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_approval_and_posting_posts_exactly_once_after_the_restart() {
    use std::sync::atomic::Ordering::SeqCst;
    for point in ["after_intent", "after_post"] {
        let dir = tempfile::tempdir().unwrap();
        let config = AdjustmentConfig::default();
        let faults = config.faults.clone();
        let (s, p) = world(dir.path(), options(|a| *a = config)).await;
        create(&s, &p.li, proposal("k1", "SUSPENSE", "bob", 4_200)).await;
        match point {
            "after_intent" => faults.crash_after_intent.store(1, SeqCst),
            _ => faults.crash_after_post.store(1, SeqCst),
        }
        let crashed = approve(&s, &p.wang, "k1", None).await;
        assert_eq!(crashed.status, 500, "{point}: {:?}", crashed.body);
        assert_eq!(
            show(&s, "k1").await["status"],
            "approved",
            "{point}: the intent is stored"
        );
        let posted_before = s.balance("bob").await;
        assert_eq!(
            posted_before,
            if point == "after_post" { 4_200 } else { 0 },
            "{point}"
        );
        s.stop().await;

        let s = start(dir.path()).await;
        let a = show(&s, "k1").await;
        assert_eq!(a["status"], "posted", "{point}: finished at start");
        assert_eq!(s.balance("bob").await, 4_200, "{point}: exactly once");
        assert_eq!(
            history(&a),
            pairs(&[
                ("created", "li"),
                ("approved", "wang"),
                ("posted", "system")
            ]),
            "{point}"
        );
        posted_transfer(&s, "adjustment:k1").await;
        // A retried approval after the restart posts nothing more.
        let again = approve(&s, &p.wang, "k1", None).await;
        assert_eq!(
            (again.status.as_u16(), again.replayed),
            (200, true),
            "{point}"
        );
        assert_eq!(s.balance("bob").await, 4_200);
        s.assert_books_balance().await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_belong_to_operators_and_writes_record_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let ops = s.key_of("ops-desk", "Li Lei", "admin").await;
    let plain = s
        .post("/v1/keys", json!({"name": "batch-job", "role": "operator"}))
        .await;
    assert_eq!(
        plain.body["operator"], "batch-job",
        "a key without operator is its name's"
    );
    let system = s
        .post(
            "/v1/keys",
            json!({"name": "x", "role": "operator", "operator": "System"}),
        )
        .await;
    assert_eq!(
        (system.status.as_u16(), system.code()),
        (400, "invalid_field")
    );
    let listed = s.get("/v1/keys").await.body;
    let mine = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "ops-desk")
        .unwrap()
        .clone();
    assert_eq!(
        (mine["operator"].as_str(), mine["created_by"].as_str()),
        (Some("Li Lei"), Some("bootstrap-admin"))
    );
    let opened = s
        .post_as(
            &ops,
            "/v1/accounts",
            json!({"account_no": "dave", "type": "customer", "currency": "CNY"}),
        )
        .await;
    assert_eq!(opened.body["opened_by"], "Li Lei", "{:?}", opened.body);
    let revoked = s
        .post_as(
            &ops,
            &format!("/v1/keys/{}/revoke", plain.body["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(revoked.body["revoked_by"], "Li Lei");
    s.stop().await;
}
