//! Merchant notifications (异步通知) end to end: a real server and bank simulator, and a real
//! merchant HTTP server (axum, on 127.0.0.1) that answers each attempt as its URL's script
//! says. Signatures are checked with an HMAC written here from SHA-256 alone, not paycore's.

mod common;
#[path = "payments/harness.rs"]
mod harness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use harness::{quick_options, world_with, World};
use paycore_server::{NotifyConfig, PaymentOptions};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const SETTLE: Duration = Duration::from_secs(30);

// ----- the merchant's server ----------------------------------------------------------------

/// One request the merchant received.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    event_id: String,
    timestamp: String,
    signature: String,
    body: String,
    at: Instant,
}

type Log = Arc<parking_lot::Mutex<Vec<Received>>>;

/// The merchant: `/script/<step,step,…>/<tag>` answers the n-th attempt of each event with
/// the n-th step (the last repeats): `ack` (200 `success`), `500`, `body` (200 `OK`), `slow`
/// (`success` after 2 s, past the test timeout) or `302` (a redirect to a metadata address).
/// Any other path acknowledges.
struct Merchant {
    addr: SocketAddr,
    log: Log,
}

impl Merchant {
    async fn start() -> Merchant {
        let log = Log::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&log));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Merchant { addr, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().clone()
    }

    fn of_event(&self, event_id: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.event_id == event_id)
            .collect()
    }
}

async fn answer(
    axum::extract::State(log): axum::extract::State<Log>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let received = Received {
        path: uri.path().to_owned(),
        event_id: header("paycore-event-id"),
        timestamp: header("paycore-timestamp"),
        signature: header("paycore-signature"),
        body,
        at: Instant::now(),
    };
    let attempt = {
        let mut log = log.lock();
        let before = log
            .iter()
            .filter(|r| r.path == received.path && r.event_id == received.event_id)
            .count();
        log.push(received.clone());
        before
    };
    let step = script_step(&received.path, attempt);
    match step.as_str() {
        "500" => (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response(),
        "body" => (StatusCode::OK, "OK").into_response(),
        "302" => (
            StatusCode::FOUND,
            [("location", "http://169.254.169.254/latest/meta-data/")],
        )
            .into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "success".into_response()
        }
        _ => "success".into_response(),
    }
}

fn script_step(path: &str, attempt: usize) -> String {
    let Some(rest) = path.strip_prefix("/script/") else {
        return "ack".into();
    };
    let steps: Vec<&str> = rest.split('/').next().unwrap_or("ack").split(',').collect();
    steps[attempt.min(steps.len() - 1)].to_owned()
}

// ----- signatures, checked independently ------------------------------------------------------

/// HMAC-SHA256 (RFC 2104) from SHA-256 alone, hex.
fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block_key.map(|k| k ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `v1=` signatures of a request, in header order.
fn signatures(r: &Received) -> Vec<String> {
    r.signature
        .split(',')
        .filter_map(|p| p.trim().strip_prefix("v1="))
        .map(str::to_owned)
        .collect()
}

/// One of the request's `v1=` signatures is HMAC(secret, timestamp + "." + body), and the
/// timestamp is now (within 5 minutes).
fn signed_by(r: &Received, secret: &str) -> bool {
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let Ok(ts) = r.timestamp.parse::<u64>() else {
        return false;
    };
    let expected = hmac_hex(
        secret.as_bytes(),
        format!("{}.{}", r.timestamp, r.body).as_bytes(),
    );
    now_s.abs_diff(ts) <= 300 && signatures(r).contains(&expected)
}

#[test]
fn the_test_hmac_is_hmac() {
    // RFC 4231 test case 2.
    assert_eq!(
        hmac_hex(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

// ----- the world ------------------------------------------------------------------------------

/// Payment options with notifications on `schedule`, a 500 ms attempt timeout and, when
/// `allow_loopback`, 127.0.0.1/32 opened (the tests' merchant is local).
fn options(schedule: &str, allow_loopback: bool) -> PaymentOptions {
    let notify = NotifyConfig {
        schedule: schedule.parse().unwrap(),
        timeout: Duration::from_millis(500),
        allow: match allow_loopback {
            true => vec!["127.0.0.1/32".parse().unwrap()],
            false => Vec::new(),
        },
        idle_poll: Duration::from_millis(200),
        ..NotifyConfig::default()
    };
    PaymentOptions {
        notify: Some(notify),
        ..quick_options()
    }
}

async fn world_notifying(schedule: &str, allow_loopback: bool) -> World {
    let w = world_with(options(schedule, allow_loopback)).await;
    w.channel("fast", "sim-form", 100, json!({})).await;
    w
}

/// A trade of the shop notifying `url`, paid at once; (trade id, payment id).
async fn paid_trade(w: &World, order_no: &str, amount: u64, url: &str) -> (String, String) {
    paid_trade_of(w, "shop", order_no, amount, url).await
}

async fn paid_trade_of(
    w: &World,
    merchant: &str,
    order_no: &str,
    amount: u64,
    url: &str,
) -> (String, String) {
    let reply = w
        .server
        .post(
            "/v1/trades",
            json!({"merchant": merchant, "merchant_order_no": order_no, "amount": amount,
                "currency": "CNY", "subject": "tea", "notify_url": url}),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let trade = reply.body["trade_id"].as_str().unwrap().to_owned();
    let payment = format!("{order_no}-pay");
    let paid = w.pay(&trade, &payment, "quickpay", Some("fast")).await;
    assert_eq!(paid.status, 201, "{:?}", paid.body);
    assert_eq!(w.settled(&payment, SETTLE).await["status"], "succeeded");
    (trade, payment)
}

async fn notifications(w: &World, query: &str) -> Vec<Value> {
    let reply = w.server.get(&format!("/v1/notifications?{query}")).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["notifications"].as_array().unwrap().clone()
}

/// Waits until `event_id` is `status`, and returns it.
async fn notification_becomes(w: &World, event_id: &str, status: &str) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let reply = w.server.get(&format!("/v1/notifications/{event_id}")).await;
        if reply.status == 200 && reply.body["status"] == status {
            return reply.body;
        }
        assert!(
            Instant::now() < deadline,
            "{event_id} is not {status}: {:?}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn reasons(n: &Value) -> Vec<Option<String>> {
    n["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["reason"].as_str().map(str::to_owned))
        .collect()
}

async fn metrics_text(w: &World) -> String {
    let reply = w.server.get("/metrics").await;
    reply.body.as_str().unwrap_or_default().to_owned()
}

async fn refund(w: &World, payment: &str, id: &str, amount: u64) -> common::Reply {
    w.server
        .post(
            &format!("/v1/payments/{payment}/refunds"),
            json!({"id": id, "amount": amount, "reason": "returned goods"}),
        )
        .await
}

// ----- the tests --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_trade_is_notified_signed_and_retried_until_acknowledged() {
    let merchant = Merchant::start().await;
    let w = world_notifying("200ms,200ms,200ms,200ms", true).await;
    // The secret is shown once: a retried creation does not show it again.
    let again = w
        .server
        .post(
            "/v1/merchants",
            json!({"id": "shop", "name": "Shop", "callback_hosts": ["127.0.0.1"], "fee_rate_bp": 60}),
        )
        .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert!(
        again.body.get("notify_secret").is_none(),
        "{:?}",
        again.body
    );
    assert!(w
        .server
        .get("/v1/merchants/shop")
        .await
        .body
        .get("notify_secret")
        .is_none());

    let url = merchant.url("/script/500,body,slow,ack/t1");
    let (trade, payment) = paid_trade(&w, "n-1", 1_999, &url).await;
    let event_id = format!("evt_{trade}_trade.paid");
    let delivered = notification_becomes(&w, &event_id, "delivered").await;
    assert_eq!(delivered["type"], "trade.paid");
    assert_eq!(delivered["order"], trade.as_str());
    assert_eq!(delivered["attempt_count"], 4);
    let expected = ["http_status", "no_success_body", "timeout"]
        .map(|r| Some(r.to_owned()))
        .into_iter()
        .chain([None])
        .collect::<Vec<_>>();
    assert_eq!(reasons(&delivered), expected, "{delivered}");
    assert_eq!(delivered["attempts"][0]["status_code"], 500);

    // Every attempt: the same event id and body, signed with the shop's secret now.
    let got = merchant.of_event(&event_id);
    assert_eq!(got.len(), 4, "{got:?}");
    for r in &got {
        assert_eq!(
            r.body, got[0].body,
            "a retry is the same event, byte for byte"
        );
        assert_eq!(r.path, "/script/500,body,slow,ack/t1");
        assert!(signed_by(r, &w.notify_secret), "{r:?}");
        assert!(!signed_by(r, "whsec_someone_else_entirely"));
        assert_eq!(signatures(r).len(), 1);
    }
    // The schedule is followed: each retry at least its delay after the previous answer.
    for pair in got.windows(2) {
        assert!(pair[1].at.duration_since(pair[0].at) >= Duration::from_millis(200));
    }
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["event_id"], event_id.as_str());
    assert_eq!(body["type"], "trade.paid");
    assert_eq!(body["trade_id"], trade.as_str());
    assert_eq!(body["payment_id"], payment.as_str());
    assert_eq!(body["merchant_order_no"], "n-1");
    assert_eq!(
        (body["amount"].as_u64(), body["currency"].as_str()),
        (Some(1_999), Some("CNY"))
    );
    assert_eq!(delivered["body"], got[0].body.as_str());

    let metrics = metrics_text(&w).await;
    assert!(
        metrics.contains("paycore_notify_delivered_total 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("paycore_notify_failures_total{reason=\"timeout\"} 1\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_is_dead_after_its_schedule_and_an_operator_retry_delivers_it() {
    let merchant = Merchant::start().await;
    let w = world_notifying("100ms,100ms", true).await;
    let url = merchant.url("/script/500,500,500,ack/dead");
    let (trade, _) = paid_trade(&w, "n-dead", 500, &url).await;
    let event_id = format!("evt_{trade}_trade.paid");
    let dead = notification_becomes(&w, &event_id, "dead").await;
    assert_eq!(
        dead["attempt_count"], 3,
        "one attempt and two retries: {dead}"
    );
    assert!(dead["next_attempt_at"].is_null());
    let listed = notifications(&w, "status=dead&merchant=shop").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["event_id"], event_id.as_str());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(merchant.of_event(&event_id).len(), 3, "nothing after dead");

    let retried = w
        .server
        .post(&format!("/v1/notifications/{event_id}/retry"), json!({}))
        .await;
    assert_eq!(retried.status, 200, "{:?}", retried.body);
    let delivered = notification_becomes(&w, &event_id, "delivered").await;
    assert_eq!(delivered["attempt_count"], 4);
    assert!(notifications(&w, "status=dead").await.is_empty());

    let again = w
        .server
        .post(&format!("/v1/notifications/{event_id}/retry"), json!({}))
        .await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (409, "notification_delivered")
    );
    let missing = w
        .server
        .post("/v1/notifications/evt_nope/retry", json!({}))
        .await;
    assert_eq!(
        (missing.status.as_u16(), missing.code()),
        (404, "notification_not_found")
    );
    let bad = w.server.get("/v1/notifications?status=lost").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orders_notifications_go_out_in_order_one_at_a_time() {
    let merchant = Merchant::start().await;
    let w = world_notifying("300ms,300ms,300ms", true).await;
    // Each event fails twice before it is acknowledged.
    let url = merchant.url("/script/500,500,ack/order");
    let (trade, payment) = paid_trade(&w, "n-ord", 10_000, &url).await;
    // While trade.paid is still being retried: a refund that succeeds and one whose hold
    // the merchant's account refuses (9,940 net less 9,000 leaves 940 < 1,000).
    let ok = refund(&w, &payment, "n-ord-r1", 9_000).await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    let refused = refund(&w, &payment, "n-ord-r2", 1_000).await;
    assert_eq!(refused.status, 201, "{:?}", refused.body);
    assert_eq!(refused.body["status"], "failed", "{:?}", refused.body);

    let events = [
        format!("evt_{trade}_trade.paid"),
        "evt_n-ord-r1_refund.succeeded".to_owned(),
        "evt_n-ord-r2_refund.failed".to_owned(),
    ];
    let last = notification_becomes(&w, &events[2], "delivered").await;
    assert_eq!(last["order_seq"], 3);
    let listed = notifications(&w, &format!("order={trade}")).await;
    let listed: Vec<(&str, u64)> = listed
        .iter()
        .map(|n| {
            (
                n["event_id"].as_str().unwrap(),
                n["order_seq"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (events[0].as_str(), 1),
            (events[1].as_str(), 2),
            (events[2].as_str(), 3)
        ]
    );
    // The merchant saw every attempt of one event before the first of the next.
    let seen: Vec<String> = merchant
        .received()
        .into_iter()
        .map(|r| r.event_id)
        .collect();
    let mut runs: Vec<&str> = Vec::new();
    for id in &seen {
        if runs.last() != Some(&id.as_str()) {
            runs.push(id);
        }
    }
    assert_eq!(
        runs,
        events.iter().map(String::as_str).collect::<Vec<_>>(),
        "{seen:?}"
    );
    assert_eq!(seen.len(), 9);
    let failed: Value = serde_json::from_str(&merchant.of_event(&events[2])[0].body).unwrap();
    assert_eq!(failed["type"], "refund.failed");
    assert_eq!(failed["failure_code"], "insufficient_funds", "{failed}");
    assert_eq!(
        (failed["amount"].as_u64(), failed["refund_id"].as_str()),
        (Some(1_000), Some("n-ord-r2"))
    );
    let succeeded: Value = serde_json::from_str(&merchant.of_event(&events[1])[0].body).unwrap();
    assert_eq!(succeeded["payment_id"], payment.as_str());
    assert_eq!(succeeded["trade_id"], trade.as_str());
}

/// A channel whose requests are held past paycore's timeout (the order still succeeds at the
/// bank: its query says so later).
fn held_success() -> Value {
    json!({"success_pct": 1, "fail_pct": 0, "timeout_pct": 99, "timeout_hold_ms": 1_000, "callback": "none"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_payment_refunded_automatically_is_notified() {
    let merchant = Merchant::start().await;
    let w = world_notifying("200ms", true).await;
    w.channel("slow", "sim-json", 0, held_success()).await;
    let url = merchant.url("/ack/dup");
    let mut first = None;
    for i in 0..20 {
        let reply = w
            .server
            .post(
                "/v1/trades",
                json!({"merchant": "shop", "merchant_order_no": format!("n-dup-{i}"), "amount": 2_000,
                    "currency": "CNY", "subject": "tea", "notify_url": url}),
            )
            .await;
        let trade = reply.body["trade_id"].as_str().unwrap().to_owned();
        let id = format!("n-dup-slow-{i}");
        let paid = w.pay(&trade, &id, "quickpay", Some("slow")).await;
        if paid.body["status"] == "unknown" {
            first = Some((trade, id));
            break;
        }
    }
    let (trade, slow) = first.expect("a payment left unknown");
    let net = w.pay(&trade, "n-dup-net", "netbank", Some("fast")).await;
    assert_eq!(net.status, 201, "{:?}", net.body);
    assert_eq!(w.settled("n-dup-net", SETTLE).await["status"], "succeeded");

    let event_id = format!("evt_{slow}_payment.refunded");
    let refunded = notification_becomes(&w, &event_id, "delivered").await;
    assert_eq!(refunded["order"], trade.as_str());
    assert_eq!(refunded["order_seq"], 2, "after the trade's trade.paid");
    let got = merchant.of_event(&event_id);
    assert!(signed_by(&got[0], &w.notify_secret));
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "payment.refunded");
    assert_eq!(body["payment_id"], slow.as_str());
    assert_eq!(body["refund_reason"], "duplicate_payment");
    assert_eq!(body["amount"], 2_000);
    let paid = notification_becomes(&w, &format!("evt_{trade}_trade.paid"), "delivered").await;
    assert_eq!(paid["order_seq"], 1);
    assert!(
        serde_json::from_str::<Value>(paid["body"].as_str().unwrap()).unwrap()["payment_id"]
            == "n-dup-net"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_beside_the_old_one_during_its_grace() {
    let merchant = Merchant::start().await;
    let w = world_notifying("200ms", true).await;
    let old = w.notify_secret.clone();
    let rotated = w
        .server
        .post(
            "/v1/merchants/shop/secret/rotate",
            json!({"grace_period_s": 600}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    assert_eq!(rotated.body["version"], 2);
    assert!(rotated.body["previous_retires_at"].is_string());
    let new = rotated.body["notify_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);

    let (trade, _) = paid_trade(&w, "n-rot", 300, &merchant.url("/ack/rot")).await;
    notification_becomes(&w, &format!("evt_{trade}_trade.paid"), "delivered").await;
    let r = &merchant.of_event(&format!("evt_{trade}_trade.paid"))[0];
    assert_eq!(
        signatures(r).len(),
        2,
        "one v1= per active secret: {}",
        r.signature
    );
    assert!(signed_by(r, &new) && signed_by(r, &old));
    let both = signatures(r);
    let newest = hmac_hex(
        new.as_bytes(),
        format!("{}.{}", r.timestamp, r.body).as_bytes(),
    );
    assert_eq!(both[0], newest, "newest first");

    // A rotation without grace: only the newest secret signs from now on.
    let now = w
        .server
        .post(
            "/v1/merchants/shop/secret/rotate",
            json!({"grace_period_s": 0}),
        )
        .await;
    assert_eq!(now.status, 200, "{:?}", now.body);
    let newest = now.body["notify_secret"].as_str().unwrap().to_owned();
    let (trade, _) = paid_trade(&w, "n-rot2", 300, &merchant.url("/ack/rot2")).await;
    notification_becomes(&w, &format!("evt_{trade}_trade.paid"), "delivered").await;
    let r = &merchant.of_event(&format!("evt_{trade}_trade.paid"))[0];
    assert_eq!(signatures(r).len(), 1, "{}", r.signature);
    assert!(signed_by(r, &newest) && !signed_by(r, &new) && !signed_by(r, &old));

    let empty = w
        .server
        .post_raw("/v1/merchants/shop/secret/rotate", "")
        .await;
    assert_eq!(
        empty.status, 200,
        "an empty body takes the default grace: {:?}",
        empty.body
    );
    let unknown = w
        .server
        .post("/v1/merchants/nobody/secret/rotate", json!({}))
        .await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.code()),
        (404, "merchant_not_found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_and_private_targets_are_refused_at_send_time_unless_allowed() {
    let merchant = Merchant::start().await;
    // No --notify-allow-cidr: the local merchant is a refused target, by address and by name.
    let w = world_notifying("1h", false).await;
    let named = w
        .server
        .post(
            "/v1/merchants",
            json!({"id": "named", "name": "Named", "callback_hosts": ["localhost"]}),
        )
        .await;
    assert_eq!(named.status, 201, "{:?}", named.body);
    let (trade, _) = paid_trade(&w, "n-ssrf", 300, &merchant.url("/ack/ssrf")).await;
    let event_id = format!("evt_{trade}_trade.paid");
    let deadline = Instant::now() + SETTLE;
    let refused = loop {
        let n = w
            .server
            .get(&format!("/v1/notifications/{event_id}"))
            .await
            .body;
        if n["attempt_count"] == 1 {
            break n;
        }
        assert!(Instant::now() < deadline, "{n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reasons(&refused), vec![Some("target_refused".to_owned())]);
    assert!(refused["attempts"][0]["status_code"].is_null());
    assert_eq!(refused["status"], "pending", "retried on the schedule");
    // A notify URL whose host is not among the merchant's callback hosts is refused at once.
    let foreign = w
        .server
        .post(
            "/v1/trades",
            json!({"merchant": "shop", "merchant_order_no": "n-ssrf-2", "amount": 1,
                "currency": "CNY", "subject": "tea", "notify_url": "http://evil.example.com/n"}),
        )
        .await;
    assert_eq!(
        (foreign.status.as_u16(), foreign.code()),
        (422, "notify_url_not_allowed")
    );
    // A registered name that resolves to a refused address (localhost) is refused too: the
    // address is checked after the lookup, and the one checked is the one connected to.
    let port = merchant.addr.port();
    let by_name = format!("http://localhost:{port}/ack/named");
    let (trade, _) = paid_trade_of(&w, "named", "n-ssrf-3", 300, &by_name).await;
    let event_id = format!("evt_{trade}_trade.paid");
    let deadline = Instant::now() + SETTLE;
    loop {
        let n = w
            .server
            .get(&format!("/v1/notifications/{event_id}"))
            .await
            .body;
        if n["attempt_count"] == 1 {
            assert_eq!(reasons(&n), vec![Some("target_refused".to_owned())]);
            break;
        }
        assert!(Instant::now() < deadline, "{n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        merchant.received().is_empty(),
        "nothing reached the merchant"
    );
    let metrics = metrics_text(&w).await;
    assert!(
        metrics.contains("paycore_notify_failures_total{reason=\"target_refused\"} 2\n"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_never_followed() {
    let merchant = Merchant::start().await;
    let w = world_notifying("1h", true).await;
    let (trade, _) = paid_trade(&w, "n-302", 300, &merchant.url("/script/302/r")).await;
    let event_id = format!("evt_{trade}_trade.paid");
    let deadline = Instant::now() + SETTLE;
    let n = loop {
        let n = w
            .server
            .get(&format!("/v1/notifications/{event_id}"))
            .await
            .body;
        if n["attempt_count"] == 1 {
            break n;
        }
        assert!(Instant::now() < deadline, "{n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reasons(&n), vec![Some("redirect".to_owned())]);
    assert_eq!(n["attempts"][0]["status_code"], 302);
    assert_eq!(
        merchant.received().len(),
        1,
        "the redirect was not followed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_retries_survive_a_restart() {
    let merchant = Merchant::start().await;
    let w = world_notifying("1s", true).await;
    let url = merchant.url("/script/500,ack/restart");
    let mut events = Vec::new();
    for i in 0..3 {
        let (trade, _) = paid_trade(&w, &format!("n-rs-{i}"), 100 + i, &url).await;
        events.push(format!("evt_{trade}_trade.paid"));
    }
    // Each failed once and waits a second for its retry: stop the server now.
    let deadline = Instant::now() + SETTLE;
    while events.iter().any(|e| merchant.of_event(e).is_empty()) {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let w = w.restart(options("1s", true)).await;
    for event_id in &events {
        let n = notification_becomes(&w, event_id, "delivered").await;
        assert_eq!(n["attempt_count"], 2, "{n}");
        assert_eq!(reasons(&n)[0].as_deref(), Some("http_status"));
        let got = merchant.of_event(event_id);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].body, got[1].body);
    }
    let delivered = notifications(&w, "status=delivered&merchant=shop").await;
    assert_eq!(delivered.len(), 3);
}
