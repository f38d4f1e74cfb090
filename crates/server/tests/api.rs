//! The HTTP API end to end: a real server on an ephemeral port, every endpoint, every error
//! code, roles, idempotent retries, and a restart with data.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_open_show_list_close_and_freeze() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let open = s.open("alice", "customer").await;
    assert_eq!(open.status, 201, "{:?}", open.body);
    assert_eq!(open.body["available"], 0);
    assert_eq!(open.body["opened_by"], "bootstrap-admin");
    let again = s.open("alice", "customer").await;
    assert_eq!((again.status.as_u16(), again.replayed), (201, true));
    let other_type = s
        .post(
            "/v1/accounts",
            json!({"account_no": "alice", "type": "merchant", "currency": "CNY"}),
        )
        .await;
    assert_eq!(
        (other_type.status.as_u16(), other_type.code()),
        (409, "id_conflict")
    );
    let explicit = s
        .post(
            "/v1/accounts",
            json!({"id": "x1", "account_no": "alice", "type": "merchant", "currency": "CNY"}),
        )
        .await;
    assert_eq!(
        (explicit.status.as_u16(), explicit.code()),
        (409, "account_exists")
    );
    for (body, code) in [
        (
            json!({"account_no": "bad no", "type": "customer", "currency": "CNY"}),
            "invalid_account_no",
        ),
        (
            json!({"account_no": "b", "type": "wallet", "currency": "CNY"}),
            "invalid_account_type",
        ),
        (
            json!({"account_no": "b", "type": "customer", "currency": "XXX"}),
            "unknown_currency",
        ),
        (
            json!({"account_no": "b", "type": "customer", "currency": "CNY", "reference": "x".repeat(65)}),
            "invalid_reference",
        ),
    ] {
        let reply = s.post("/v1/accounts", body).await;
        assert_eq!((reply.status.as_u16(), reply.code()), (400, code));
    }
    assert_eq!(
        s.get("/v1/accounts/nobody").await.code(),
        "account_not_found"
    );

    for i in 0..5 {
        s.open(&format!("m{i}"), "merchant").await;
    }
    let page = s.get("/v1/accounts?limit=3").await;
    let numbers: Vec<_> = page.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_no"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers, ["SETTLEMENT-CNY", "alice", "m0"]);
    let next = s
        .get(&format!(
            "/v1/accounts?limit=3&after={}",
            page.body["next"].as_str().unwrap()
        ))
        .await;
    assert_eq!(next.body["accounts"][0]["account_no"], "m1");

    s.deposit("d1", "m0", 500).await;
    let refused = s.post("/v1/accounts/m0/close", json!({})).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (422, "balance_not_zero")
    );
    let closed = s.post_raw("/v1/accounts/m1/close", "").await;
    assert_eq!(
        (closed.status.as_u16(), closed.body["status"].as_str()),
        (200, Some("closed"))
    );
    assert_eq!(
        s.post("/v1/accounts/m1/close", json!({"id": "close-again"}))
            .await
            .code(),
        "account_closed"
    );
    assert_eq!(
        s.transfer("to-closed", "m0", "m1", 1).await.code(),
        "account_closed"
    );

    let frozen = s.post("/v1/accounts/m0/freeze", json!({})).await;
    assert_eq!(frozen.body["status"], "frozen");
    assert_eq!(
        s.transfer("from-frozen", "m0", "alice", 1).await.code(),
        "account_frozen"
    );
    assert_eq!(
        s.transfer("to-frozen", "SETTLEMENT-CNY", "m0", 1)
            .await
            .status,
        201
    );
    s.post("/v1/accounts/m0/unfreeze", json!({})).await;
    assert_eq!(s.transfer("thawed", "m0", "alice", 1).await.status, 201);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_and_every_rejection_code() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("a", "customer").await;
    s.open("b", "customer").await;
    s.post(
        "/v1/accounts",
        json!({"account_no": "usd", "type": "customer", "currency": "USD"}),
    )
    .await;
    let deposit = s.deposit("dep-a", "a", 100_000).await;
    assert_eq!(
        (
            deposit.status.as_u16(),
            deposit.body["debit_account"].as_str()
        ),
        (201, Some("SETTLEMENT-CNY"))
    );
    assert_eq!(deposit.body["kind"], "deposit");

    let posted = s.transfer("t1", "a", "b", 30_000).await;
    assert_eq!(
        (
            posted.status.as_u16(),
            posted.body["status"].as_str(),
            posted.replayed
        ),
        (201, Some("posted"), false)
    );
    let retry = s.transfer("t1", "a", "b", 30_000).await;
    assert_eq!((retry.status.as_u16(), retry.replayed), (201, true));
    assert_eq!(retry.body, posted.body);
    assert_eq!(
        (s.balance("a").await, s.balance("b").await),
        (70_000, 30_000)
    );

    let cases = [
        (s.transfer("t1", "a", "b", 1).await, 409, "id_conflict"),
        (s.transfer("t2", "a", "b", 70_001).await, 422, "insufficient_funds"),
        (s.transfer("t3", "a", "a", 1).await, 422, "same_account"),
        (s.transfer("t4", "a", "usd", 1).await, 422, "currency_mismatch"),
        (s.transfer("t5", "a", "b", 0).await, 422, "amount_zero"),
        (s.transfer("t6", "a", "b", u64::MAX).await, 422, "amount_overflow"),
        (s.transfer("t7", "a", "ghost", 1).await, 404, "account_not_found"),
        (s.post("/v1/transfers", json!({"id": "t8", "debit_account": "a", "credit_account": "b", "amount": 1, "currency": "CNY", "kind": "gift"})).await, 400, "invalid_kind"),
        (s.post("/v1/transfers", json!({"id": "", "debit_account": "a", "credit_account": "b", "amount": 1, "currency": "CNY"})).await, 400, "invalid_id"),
        (s.post("/v1/transfers", json!({"id": "t9", "debit_account": "a", "credit_account": "b", "amount": 1, "currency": "yen"})).await, 400, "unknown_currency"),
        (s.post_raw("/v1/transfers", "{\"id\": \"t10\",").await, 400, "malformed_json"),
        (s.post_raw("/v1/transfers", "not json").await, 400, "malformed_json"),
        (s.post("/v1/transfers", json!({"id": "t11", "debit_account": "a", "credit_account": "b", "amount": -5, "currency": "CNY"})).await, 400, "invalid_field"),
        (s.post("/v1/transfers", json!({"id": "t12", "debit_account": "a", "credit_account": "b", "amount": 1.5, "currency": "CNY"})).await, 400, "invalid_field"),
        (s.post("/v1/transfers", json!({"id": "t13", "debit_account": "a", "credit_account": "b", "currency": "CNY"})).await, 400, "invalid_field"),
        (s.post("/v1/transfers", json!({"id": "t14", "debit_account": "a", "credit_account": "b", "amount": 1, "currency": "CNY", "memo": "x"})).await, 400, "invalid_field"),
    ];
    for (reply, status, code) in cases {
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (status, code),
            "{:?}",
            reply.body
        );
    }
    let wrong_type = s.post("/v1/transfers", json!({"id": "t15", "debit_account": 7, "credit_account": "b", "amount": 1, "currency": "CNY"})).await;
    assert!(wrong_type.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("debit_account"));
    let unknown = s.post("/v1/transfers", json!({"id": "t16", "debit_account": "a", "credit_account": "b", "amount": 1, "currency": "CNY", "memo": 1})).await;
    assert!(unknown.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("memo"));
    // The server answers 413 and closes without reading the rest of the body, so the client may
    // see its upload cut short instead: that is a refusal too; retry until the 413 is read.
    // Its own client: the connection the server closes must not go back to the shared pool,
    // where the next request would find it dead (IncompleteMessage).
    let huge = "x".repeat(5 << 20);
    let uploader = reqwest::Client::new();
    let mut attempts = 0;
    let status = loop {
        attempts += 1;
        let sent = uploader
            .post(s.url("/v1/transfers"))
            .bearer_auth(&s.key)
            .body(huge.clone())
            .send()
            .await;
        match sent {
            Ok(response) => break (response.status().as_u16(), response.text().await.unwrap()),
            Err(error) if attempts < 10 => {
                eprintln!("oversized upload cut short ({error}); retrying")
            }
            Err(error) => panic!("no 413 after {attempts} attempts: {error}"),
        }
    };
    assert_eq!(status.0, 413);
    assert!(status.1.contains("payload_too_large"), "{}", status.1);
    // A body announced larger than the limit is refused at once, not waited for.
    let url = reqwest::Url::parse(&s.url("/v1/transfers")).unwrap();
    let announced = announce_body(&url, &s.key, 999_999_999_999).await;
    assert!(announced.starts_with("HTTP/1.1 413"), "{announced}");
    assert!(announced.contains("payload_too_large"), "{announced}");
    // An array is not an object, even one listing a transfer's fields in order.
    let array = s
        .post(
            "/v1/transfers",
            json!(["t17", "a", "b", 1, "CNY", null, null]),
        )
        .await;
    assert_eq!(
        (array.status.as_u16(), array.code()),
        (400, "invalid_field")
    );
    assert_eq!(
        s.get("/v1/transfers/t17").await.code(),
        "transfer_not_found"
    );
    // Rejections changed nothing; the rejected id stays rejected when retried.
    assert_eq!(
        (s.balance("a").await, s.balance("b").await),
        (70_000, 30_000)
    );
    let rejected = s.get("/v1/transfers/t2").await;
    assert_eq!(
        (
            rejected.body["status"].as_str(),
            rejected.body["error"]["code"].as_str()
        ),
        (Some("rejected"), Some("insufficient_funds"))
    );
    s.deposit("dep-a2", "a", 1_000_000).await;
    let still = s.transfer("t2", "a", "b", 70_001).await;
    assert_eq!((still.code(), still.replayed), ("insufficient_funds", true));

    let shown = s.get("/v1/transfers/t1").await;
    assert_eq!(
        (shown.status.as_u16(), shown.body["amount"].as_u64()),
        (200, Some(30_000))
    );
    assert_eq!(
        s.get("/v1/transfers/nope").await.code(),
        "transfer_not_found"
    );

    let withdrawal = s
        .post(
            "/v1/withdrawals",
            json!({"id": "w1", "account": "b", "amount": 10_000, "currency": "CNY"}),
        )
        .await;
    assert_eq!(
        (
            withdrawal.status.as_u16(),
            withdrawal.body["credit_account"].as_str()
        ),
        (201, Some("SETTLEMENT-CNY"))
    );
    let overdraw = s
        .post(
            "/v1/withdrawals",
            json!({"id": "w2", "account": "b", "amount": 10_000_000, "currency": "CNY"}),
        )
        .await;
    assert_eq!(overdraw.code(), "insufficient_funds");
    let no_settlement = s
        .post(
            "/v1/deposits",
            json!({"id": "d-usd", "account": "usd", "amount": 1, "currency": "USD"}),
        )
        .await;
    assert_eq!(
        (no_settlement.status.as_u16(), no_settlement.code()),
        (400, "no_settlement_account")
    );
    let not_settlement = s.post("/v1/deposits", json!({"id": "d-x", "account": "a", "amount": 1, "currency": "CNY", "settlement_account": "b"})).await;
    assert_eq!(not_settlement.code(), "not_settlement_account");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_linked_and_unlinked() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    for n in ["a", "b", "c"] {
        s.open(n, "customer").await;
    }
    s.deposit("dep", "a", 1_000).await;
    let item = |id: &str, from: &str, to: &str, amount: u64| json!({"id": id, "debit_account": from, "credit_account": to, "amount": amount, "currency": "CNY"});
    let ok = s.post("/v1/transfers/batch", json!({"linked": true, "transfers": [item("l1", "a", "b", 600), item("l2", "b", "c", 600)]})).await;
    assert_eq!(
        (
            ok.status.as_u16(),
            ok.body["posted"].as_u64(),
            ok.body["failed"].as_u64()
        ),
        (200, Some(2), Some(0))
    );
    assert_eq!(s.balance("c").await, 600);

    let failed = s.post("/v1/transfers/batch", json!({"linked": true, "transfers": [item("l3", "c", "a", 100), item("l4", "a", "b", 10_000), item("l5", "b", "c", 1)]})).await;
    assert_eq!(failed.body["failed_index"], 1);
    let codes: Vec<_> = failed.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["error"]["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        codes,
        [
            "linked_batch_failed",
            "insufficient_funds",
            "linked_batch_failed"
        ]
    );
    assert_eq!(
        s.balance("c").await,
        600,
        "nothing of the failed linked batch applied"
    );

    let mixed = s.post("/v1/transfers/batch", json!({"transfers": [item("u1", "c", "a", 100), item("u2", "a", "b", 10_000), item("u3", "c", "b", 1)]})).await;
    assert_eq!(
        (
            mixed.body["posted"].as_u64(),
            mixed.body["failed"].as_u64(),
            mixed.body["failed_index"].is_null()
        ),
        (Some(2), Some(1), true)
    );
    assert_eq!(s.balance("c").await, 499);

    let invalid = s.post("/v1/transfers/batch", json!({"transfers": [item("v1", "a", "b", 1), {"id": "v2", "debit_account": "a", "credit_account": "b", "amount": 1, "currency": "ZZZ"}]})).await;
    assert_eq!(invalid.status, 400);
    assert!(invalid.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("transfers[1]"));
    let empty = s
        .post("/v1/transfers/batch", json!({"transfers": []}))
        .await;
    assert_eq!(empty.status, 400);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_freeze_release_capture_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("a", "customer").await;
    s.open("m", "merchant").await;
    s.deposit("dep", "a", 10_000).await;
    let hold = s
        .post(
            "/v1/holds",
            json!({"id": "h1", "account": "a", "amount": 6_000}),
        )
        .await;
    assert_eq!(
        (
            hold.status.as_u16(),
            hold.body["status"].as_str(),
            hold.body["remaining"].as_u64()
        ),
        (201, Some("active"), Some(6_000))
    );
    let account = s.get("/v1/accounts/a").await;
    assert_eq!(
        (
            account.body["frozen"].as_i64(),
            account.body["available"].as_i64()
        ),
        (Some(6_000), Some(4_000))
    );
    assert_eq!(
        s.transfer("over", "a", "m", 4_001).await.code(),
        "insufficient_funds"
    );

    let partial = s
        .post("/v1/holds/h1/release", json!({"id": "r1", "amount": 1_000}))
        .await;
    assert_eq!(
        (partial.status.as_u16(), partial.body["remaining"].as_u64()),
        (200, Some(5_000))
    );
    let captured = s
        .post(
            "/v1/holds/h1/capture",
            json!({"id": "c1", "credit_account": "m", "amount": 2_000}),
        )
        .await;
    assert_eq!(captured.status, 200, "{:?}", captured.body);
    assert_eq!(
        (
            captured.body["hold"]["remaining"].as_u64(),
            captured.body["transfer"]["amount"].as_u64()
        ),
        (Some(3_000), Some(2_000))
    );
    assert_eq!(s.balance("m").await, 2_000);
    assert_eq!(
        s.post(
            "/v1/holds/h1/capture",
            json!({"credit_account": "m", "amount": 3_001})
        )
        .await
        .code(),
        "hold_amount_exceeded"
    );
    let rest = s.post_raw("/v1/holds/h1/release", "").await;
    assert_eq!(rest.body["status"], "released");
    let rest_again = s.post_raw("/v1/holds/h1/release", "").await;
    assert!(
        rest_again.replayed,
        "a full release without id is retry-safe"
    );
    assert_eq!(
        s.post("/v1/holds/h1/release", json!({"id": "r9"}))
            .await
            .code(),
        "hold_closed"
    );
    assert_eq!(
        s.post("/v1/holds/nope/release", json!({})).await.code(),
        "hold_not_found"
    );
    assert_eq!(s.get("/v1/holds/nope").await.status, 404);
    assert_eq!(s.get("/v1/holds/h1").await.body["captured"], 2_000);

    let past = s
        .post(
            "/v1/holds",
            json!({"id": "h2", "account": "a", "amount": 1, "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(past.code(), "invalid_expiry");
    let bad_time = s
        .post(
            "/v1/holds",
            json!({"id": "h3", "account": "a", "amount": 1, "expires_at": "tomorrow"}),
        )
        .await;
    assert_eq!(
        (bad_time.status.as_u16(), bad_time.code()),
        (400, "invalid_field")
    );
    assert_eq!(
        s.post(
            "/v1/holds",
            json!({"id": "h4", "account": "a", "amount": 1, "currency": "USD"})
        )
        .await
        .code(),
        "currency_mismatch"
    );

    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let expiring = s
        .post(
            "/v1/holds",
            json!({"id": "h5", "account": "a", "amount": 500, "expires_at": soon}),
        )
        .await;
    assert_eq!(expiring.status, 201);
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    s.deposit("tick", "m", 1).await; // any batch releases holds that have expired
    assert_eq!(s.get("/v1/holds/h5").await.body["status"], "expired");
    assert_eq!(s.get("/v1/accounts/a").await.body["frozen"], 0);
    assert_eq!(
        s.post("/v1/holds/h5/capture", json!({"credit_account": "m"}))
            .await
            .code(),
        "hold_expired"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    assert!(s.bootstrap_printed);
    s.open("a", "customer").await;
    s.deposit("dep", "a", 100).await;
    let missing = s.get_as(None, "/v1/accounts/a").await;
    assert_eq!(
        (missing.status.as_u16(), missing.code()),
        (401, "unauthorized")
    );
    assert_eq!(
        s.get_as(Some("pck_wrong"), "/v1/accounts/a").await.status,
        401
    );
    let bad_scheme = s
        .send(
            s.http
                .get(s.url("/v1/accounts/a"))
                .header("authorization", "Basic abc"),
            None,
        )
        .await;
    assert_eq!(bad_scheme.status, 401);

    let operator = s.key_for("operator").await;
    let auditor = s.key_for("auditor").await;
    assert_eq!(s.get_as(Some(&auditor), "/v1/accounts/a").await.status, 200);
    let denied = s.post_as(&auditor, "/v1/transfers", json!({"id": "x", "debit_account": "a", "credit_account": "SETTLEMENT-CNY", "amount": 1, "currency": "CNY"})).await;
    assert_eq!((denied.status.as_u16(), denied.code()), (403, "forbidden"));
    let denied = s
        .post_as(
            &operator,
            "/v1/accounts",
            json!({"account_no": "b", "type": "customer", "currency": "CNY"}),
        )
        .await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        s.post_as(&operator, "/v1/keys", json!({"name": "x", "role": "admin"}))
            .await
            .status,
        403
    );
    let allowed = s
        .post_as(
            &operator,
            "/v1/withdrawals",
            json!({"id": "w", "account": "a", "amount": 1, "currency": "CNY"}),
        )
        .await;
    assert_eq!(allowed.status, 201);

    let list = s.get("/v1/keys").await;
    let keys = list.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|k| k["key"].is_null()),
        "secrets are never listed"
    );
    let id = keys.iter().find(|k| k["role"] == "operator").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.post(&format!("/v1/keys/{id}/revoke"), json!({}))
            .await
            .body["revoked"],
        true
    );
    assert_eq!(
        s.get_as(Some(&operator), "/v1/accounts/a").await.status,
        401
    );
    assert_eq!(
        s.post("/v1/keys/key_nope/revoke", json!({})).await.code(),
        "key_not_found"
    );
    assert_eq!(
        s.post("/v1/keys", json!({"name": "x", "role": "root"}))
            .await
            .code(),
        "invalid_field"
    );
    s.stop().await;
}

/// The id of the (only) key named `name`.
async fn key_id(s: &TestServer, name: &str) -> String {
    let list = s.get("/v1/keys").await;
    let keys = list.body["keys"].as_array().unwrap();
    let key = keys.iter().find(|k| k["name"] == name).unwrap();
    key["id"].as_str().unwrap().to_owned()
}

async fn revoke(s: &TestServer, id: &str, key: &str) -> Reply {
    s.post_as(key, &format!("/v1/keys/{id}/revoke"), json!({}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_active_admin_key_cannot_be_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let bootstrap = key_id(&s, "bootstrap-admin").await;
    // Alone, even next to an operator key, the bootstrap admin key stays.
    let operator = s.key_for("operator").await;
    let refused = revoke(&s, &bootstrap, ADMIN_KEY).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (409, "last_admin_key")
    );
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("reset-admin"));
    assert_eq!(s.get("/v1/keys").await.status, 200, "the key still works");
    assert_eq!(
        s.get_as(Some(&operator), "/v1/accounts/SETTLEMENT-CNY")
            .await
            .status,
        200
    );

    // With a second admin key one of them can go; then the other is the last.
    let second = s.key_for("admin").await;
    let second_id = key_id(&s, "admin-key").await;
    assert_eq!(revoke(&s, &bootstrap, &second).await.status, 200);
    assert_eq!(s.get("/v1/keys").await.status, 401, "revoked");
    let refused = revoke(&s, &second_id, &second).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (409, "last_admin_key"),
        "a revoked admin key does not count"
    );
    // Revoking the revoked key again changes nothing and is allowed.
    assert_eq!(revoke(&s, &bootstrap, &second).await.body["revoked"], true);
    let listed = s.get_as(Some(&second), "/v1/keys").await;
    assert_eq!(listed.status, 200);
    let still_active = listed.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["role"] == "admin" && k["revoked"] == false)
        .count();
    assert_eq!(still_active, 1);
    s.stop().await;

    // The refusal was not only in memory: after a restart the second key still administers.
    let mut s = start(dir.path()).await;
    s.key = second;
    assert_eq!(s.get("/v1/keys").await.status, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_log_fsync_stops_the_engine_until_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let faults = std::sync::Arc::new(paycore_engine::Faults::default());
    let s = start_with(dir.path(), |engine| engine.faults = faults.clone()).await;
    s.open("a", "customer").await;
    s.open("b", "customer").await;
    assert_eq!(s.deposit("dep", "a", 1_000).await.status, 201);

    faults
        .fail_syncs
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let failed = s.transfer("t1", "a", "b", 10).await;
    assert_eq!(
        (failed.status.as_u16(), failed.code()),
        (503, "storage_error")
    );
    let refused = s.transfer("t2", "a", "b", 10).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (503, "engine_unavailable")
    );
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("restart"));
    let health = s.get_as(None, "/healthz").await;
    assert_eq!(health.status, 503);
    assert_eq!(health.body["status"], "engine_stopped");
    assert!(
        health.body["engine_error"]
            .as_str()
            .unwrap()
            .contains("fdatasync"),
        "{}",
        health.body
    );
    let metrics = s.get_as(None, "/metrics").await;
    assert!(metrics
        .body
        .as_str()
        .unwrap()
        .contains("paycore_engine_stopped 1"));
    assert_eq!(s.balance("a").await, 1_000, "reads still answer");
    s.stop().await;

    let s = start(dir.path()).await;
    let health = s.get_as(None, "/healthz").await;
    assert_eq!(
        (health.status.as_u16(), &health.body["engine_error"]),
        (200, &json!(null))
    );
    assert_eq!(s.transfer("t1", "a", "b", 10).await.status, 201);
    assert_eq!(s.transfer("t2", "a", "b", 10).await.status, 201);
    assert_eq!((s.balance("a").await, s.balance("b").await), (980, 20));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_endpoints_and_unknown_routes() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let health = s.get_as(None, "/healthz").await;
    assert_eq!(
        (health.status.as_u16(), health.body["status"].as_str()),
        (200, Some("ok"))
    );
    let metrics = s.send(s.http.get(s.url("/metrics")), None).await;
    let text = metrics.body.as_str().unwrap().to_owned();
    for name in [
        "paycore_engine_batches_total",
        "paycore_engine_fsyncs_total",
        "paycore_engine_queue_depth",
        "paycore_engine_applied_sequence",
        "paycore_http_responses_2xx_total",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
    let doc = s.get_as(None, "/openapi.json").await;
    assert!(doc.body["paths"]["/v1/transfers"]["post"].is_object());
    let unknown = s.get("/v1/nothing").await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.code()),
        (404, "not_found")
    );
    let wrong_method = s
        .send(s.http.delete(s.url("/v1/transfers")), Some(ADMIN_KEY))
        .await;
    assert_eq!(
        (wrong_method.status.as_u16(), wrong_method.code()),
        (405, "method_not_allowed")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_fsyncs_and_everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    s.open("a", "customer").await;
    s.open("b", "customer").await;
    s.deposit("dep", "a", 1_000_000).await;
    let before = s
        .get_as(None, "/metrics")
        .await
        .body
        .as_str()
        .unwrap()
        .to_owned();
    let fsyncs = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("paycore_engine_fsyncs_total "))
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let s = std::sync::Arc::new(s);
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.transfer(&format!("c{i}"), "a", "b", 1).await.status })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 201);
    }
    let after = s
        .get_as(None, "/metrics")
        .await
        .body
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        fsyncs(&after) - fsyncs(&before) < 400,
        "{} fsyncs for 400 requests",
        fsyncs(&after) - fsyncs(&before)
    );
    let s = std::sync::Arc::into_inner(s).unwrap();
    s.stop().await;

    let s = start(dir.path()).await;
    assert!(!s.bootstrap_printed, "the admin key is created once");
    assert_eq!(
        (s.balance("a").await, s.balance("b").await),
        (1_000_000 - 400, 400)
    );
    assert!(s.transfer("c7", "a", "b", 1).await.replayed);
    s.stop().await;
}

/// What schemathesis found against /openapi.json, each answered with a JSON error that
/// changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edges_found_by_the_fuzzer() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;

    // A query string or path segment that does not parse is the API's JSON error.
    for path in [
        "/v1/adjustments?limit=-1",
        "/v1/accounts?unknown=1",
        "/v1/accounts/A1/entries/x/transfers",
    ] {
        let reply = s.get(path).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "invalid_field"),
            "{path}: {}",
            reply.body
        );
    }
    // An empty cursor is the first page; the largest one is an empty page, not a wrap-around.
    assert_eq!(s.get("/v1/accounts?after=").await.status.as_u16(), 200);
    let events = s.get(&format!("/v1/events?after={}", u64::MAX)).await;
    assert_eq!(events.status.as_u16(), 200, "{}", events.body);
    let vouchers = s
        .get(&format!("/v1/accounting/vouchers?after={}", u64::MAX))
        .await;
    assert_eq!(vouchers.status.as_u16(), 200, "{}", vouchers.body);

    // A split out of range is refused before the account is opened.
    for parts in [0, 1, 65] {
        let body =
            json!({"account_no": "SPLIT1", "type": "merchant", "currency": "CNY", "split": parts});
        let refused = s.post("/v1/accounts", body).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (422, "invalid_split")
        );
    }
    let long = json!({"account_no": "A234567890123456789012345678901", "type": "merchant", "currency": "CNY", "split": 2});
    assert_eq!(s.post("/v1/accounts", long).await.code(), "invalid_split");
    assert_eq!(s.get("/v1/accounts/SPLIT1").await.status.as_u16(), 404);
    assert_eq!(
        s.get("/v1/accounts/A234567890123456789012345678901")
            .await
            .status
            .as_u16(),
        404
    );

    // The accounts paycore itself posts to cannot be closed (a closed account never reopens).
    for number in ["SETTLEMENT-CNY", "FEE-INCOME-CNY"] {
        let closing = s
            .post(&format!("/v1/accounts/{number}/close"), json!({}))
            .await;
        assert_eq!(
            (closing.status.as_u16(), closing.code()),
            (409, "system_account"),
            "{number}"
        );
    }
    assert_eq!(
        s.get("/v1/accounts/SETTLEMENT-CNY").await.body["status"],
        "normal"
    );
    s.open("PLAIN", "customer").await;
    let plain = s.post("/v1/accounts/PLAIN/close", json!({})).await;
    assert_eq!(plain.status.as_u16(), 200, "{}", plain.body);

    // A reversal needs an id like any voucher.
    let reversal = s
        .post("/v1/accounting/vouchers/V1/reverse", json!({"id": ""}))
        .await;
    assert_eq!(
        (reversal.status.as_u16(), reversal.code()),
        (422, "invalid_voucher")
    );
    s.stop().await;
}

/// Sends a request announcing a `length`-byte body and only two bytes of it; what the server
/// answers within 10 s.
async fn announce_body(url: &reqwest::Url, key: &str, length: u64) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = (url.host_str().unwrap(), url.port().unwrap());
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\nContent-Length: {length}\r\n\r\n{{}}",
        url.path()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the server answers an oversized announcement at once")
        .unwrap();
    String::from_utf8_lossy(&answer[..read]).into_owned()
}
