//! One notification against a real merchant server: acknowledged, failing until dead (and
//! revived by hand), timing out, answering without `success`, redirecting, or behind an
//! address the SSRF rules refuse.

mod common;

use std::time::{Duration, Instant};

use common::*;
use paycore_payment_store::repo::notifications::{self as outbox, Retry, Status};

#[test]
fn the_test_hmac_is_hmac() {
    // RFC 4231 test cases 2 and 6 (a key longer than a block).
    assert_eq!(
        independent_hmac_hex(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        independent_hmac_hex(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        ),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_notification_is_delivered_once_signed() {
    for backend in backends() {
        let store = Store::open(backend, "ack").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let mut config = config();
        config.idle_poll = Duration::from_secs(60);
        let dispatcher = store.dispatcher(config);
        let n = notification("evt_t1_trade.paid", "m1", "t1", &merchant.url("/ack/t1"));
        let body = n.body.clone();
        let inserted_at = Instant::now();
        store.insert(n).await;
        dispatcher.wake();

        let stored = store.wait_for("evt_t1_trade.paid", Status::Delivered).await;
        assert!(
            inserted_at.elapsed() < Duration::from_secs(2),
            "woken, not polled"
        );
        assert_eq!(stored.attempt_count, 1);
        assert_eq!(stored.attempts[0].status_code, Some(200));
        assert_eq!(stored.attempts[0].reason, None);
        assert!(stored.delivered_at.is_some());
        assert_eq!((stored.next_attempt_at, stored.claimed_until), (None, None));

        let received = merchant.received();
        assert_eq!(received.len(), 1);
        let r = &received[0];
        assert_eq!(r.path, "/ack/t1");
        assert_eq!(r.event_id, "evt_t1_trade.paid");
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.body, body, "the stored bytes, as built");
        let signed_at: u64 = r.timestamp.parse().unwrap();
        assert!(
            signed_at.abs_diff(now_ms() / 1_000) <= 5,
            "unix seconds, now"
        );
        assert_signed_by(r, &[SECRET]);
        let verified = paycore_notify::verify(
            &r.signature,
            &r.timestamp,
            &r.body,
            SECRET,
            now_ms() / 1_000,
            paycore_notify::signature::TOLERANCE_DEFAULT,
        );
        assert_eq!(verified, Ok(()));

        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(merchant.received().len(), 1, "nothing sent twice");
        let metrics = dispatcher.metrics();
        assert_eq!((metrics.attempts, metrics.delivered), (1, 1));
        dispatcher.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_merchant_follows_the_schedule_until_dead_then_a_retry_delivers() {
    for backend in backends() {
        let store = Store::open(backend, "schedule").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let dispatcher = store.dispatcher(config());
        store
            .insert(notification("e1", "m1", "t1", &merchant.url("/toggle/t1")))
            .await;
        dispatcher.wake();

        let dead = store.wait_for("e1", Status::Dead).await;
        // 100ms,200ms: three attempts in all.
        assert_eq!(dead.attempt_count, 3);
        let codes: Vec<_> = dead.attempts.iter().map(|a| a.status_code).collect();
        assert_eq!(codes, [Some(503); 3]);
        assert!(dead
            .attempts
            .iter()
            .all(|a| a.reason.as_deref() == Some("http_status")));
        let times: Vec<Instant> = merchant.received_for("e1").iter().map(|r| r.at).collect();
        assert_eq!(times.len(), 3);
        assert!(
            times[1] - times[0] >= Duration::from_millis(100),
            "{times:?}"
        );
        assert!(
            times[2] - times[1] >= Duration::from_millis(200),
            "{times:?}"
        );
        assert!(
            times[2] - times[1] < Duration::from_millis(1_500),
            "{times:?}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            merchant.received_for("e1").len(),
            3,
            "dead means no more tries"
        );

        merchant.heal();
        let retried = store
            .write(|sql| outbox::retry_now(sql, "e1", now_ms()))
            .await;
        assert_eq!(retried, Retry::Scheduled);
        dispatcher.wake();
        let delivered = store.wait_for("e1", Status::Delivered).await;
        assert_eq!(delivered.attempt_count, 4);
        assert_eq!(delivered.attempts[3].status_code, Some(200));
        let metrics = dispatcher.metrics();
        assert_eq!(metrics.failures_of("http_status"), 3);
        assert_eq!((metrics.dead, metrics.delivered), (1, 1));
        dispatcher.stop().await;
    }
}

/// Sends one notification to `path` and returns it once its first attempt is recorded.
async fn first_attempt(
    store: &Store,
    merchant: &Merchant,
    event_id: &str,
    url: String,
) -> outbox::Notification {
    store
        .insert(notification(event_id, "m1", event_id, &url))
        .await;
    let started = Instant::now();
    loop {
        let n = store.get(event_id).await;
        if n.attempt_count > 0 {
            return n;
        }
        assert!(
            started.elapsed() < WAIT,
            "{event_id} never tried ({:?})",
            merchant.addr
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_say_why() {
    for backend in backends() {
        let store = Store::open(backend, "reasons").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let mut config = config();
        config.timeout = Duration::from_millis(300);
        config.schedule = "1h".parse().unwrap();
        let dispatcher = store.dispatcher(config);

        let slow = first_attempt(&store, &merchant, "slow", merchant.url("/slow/3000")).await;
        let a = &slow.attempts[0];
        assert_eq!(
            (a.reason.as_deref(), a.status_code),
            (Some("timeout"), None)
        );
        assert!((300..2_000).contains(&a.latency_ms), "{a:?}");
        assert_eq!(slow.status, Status::Pending, "retried in an hour");
        assert!(slow.next_attempt_at.unwrap() >= a.at + 3_600_000);

        let silent = first_attempt(&store, &merchant, "silent", merchant.url("/silent")).await;
        let a = &silent.attempts[0];
        assert_eq!(
            (a.reason.as_deref(), a.status_code),
            (Some("no_success_body"), Some(200))
        );

        let to = "http://169.254.169.254/latest/meta-data/";
        let redirect = merchant.url(&format!("/redirect?to={to}"));
        let redirected = first_attempt(&store, &merchant, "redirect", redirect).await;
        let a = &redirected.attempts[0];
        assert_eq!(
            (a.reason.as_deref(), a.status_code),
            (Some("redirect"), Some(302))
        );
        // Not followed, even to a place that would be allowed.
        let inside = merchant.url(&format!("/redirect?to={}", merchant.url("/ack/followed")));
        let redirected = first_attempt(&store, &merchant, "redirect2", inside).await;
        assert_eq!(redirected.attempts[0].reason.as_deref(), Some("redirect"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(merchant
            .received()
            .iter()
            .all(|r| r.path != "/ack/followed"));

        let closed = first_attempt(&store, &merchant, "closed", closed_port_url()).await;
        assert_eq!(closed.attempts[0].reason.as_deref(), Some("connect_error"));
        let bad = first_attempt(&store, &merchant, "bad", "ftp://127.0.0.1/x".into()).await;
        assert_eq!(bad.attempts[0].reason.as_deref(), Some("invalid_url"));

        let metrics = dispatcher.metrics();
        for reason in ["timeout", "no_success_body", "connect_error", "invalid_url"] {
            assert_eq!(metrics.failures_of(reason), 1, "{reason}");
        }
        assert_eq!(metrics.failures_of("redirect"), 2);
        assert_eq!(metrics.delivered, 0);
        dispatcher.stop().await;
    }
}

/// A URL on 127.0.0.1 where nothing listens.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_targets_are_never_contacted() {
    for backend in backends() {
        let store = Store::open(backend, "refused").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let mut config = config();
        config.allow = Vec::new();
        config.schedule = "1h".parse().unwrap();
        let dispatcher = store.dispatcher(config);
        let port = merchant.addr.port();
        let urls = [
            ("by_name", format!("http://localhost:{port}/ack/x")),
            ("literal", format!("http://127.0.0.1:{port}/ack/x")),
            ("mapped", format!("http://[::ffff:127.0.0.1]:{port}/ack/x")),
            ("v6_loopback", format!("http://[::1]:{port}/ack/x")),
        ];
        for (id, url) in urls {
            let n = first_attempt(&store, &merchant, id, url).await;
            let a = &n.attempts[0];
            assert_eq!(
                (a.reason.as_deref(), a.status_code),
                (Some("target_refused"), None),
                "{id}"
            );
        }
        assert!(
            merchant.received().is_empty(),
            "no request reached the merchant"
        );
        assert_eq!(dispatcher.metrics().failures_of("target_refused"), 4);
        dispatcher.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_the_merchant_did_not_register_is_refused_at_send_time() {
    for backend in backends() {
        let store = Store::open(backend, "unregistered").await;
        let merchant = Merchant::start().await;
        store.merchant("m1", &["shop.example.com"]).await;
        store.secret("m1", SECRET).await;
        let mut config = config();
        config.schedule = "1h".parse().unwrap();
        let dispatcher = store.dispatcher(config);
        let n = first_attempt(&store, &merchant, "e1", merchant.url("/ack/e1")).await;
        assert_eq!(n.attempts[0].reason.as_deref(), Some("target_refused"));
        assert!(
            merchant.received().is_empty(),
            "nothing reached the merchant"
        );
        dispatcher.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_unsigned() {
    for backend in backends() {
        let store = Store::open(backend, "unsigned").await;
        let merchant = Merchant::start().await;
        store.merchant("m1", &LOCAL_HOSTS).await;
        let mut config = config();
        config.schedule = "300ms,5s".parse().unwrap();
        let dispatcher = store.dispatcher(config);
        let n = first_attempt(&store, &merchant, "e1", merchant.url("/ack/e1")).await;
        assert_eq!(n.attempts[0].reason.as_deref(), Some("no_secret"));
        assert!(merchant.received().is_empty());
        // Once the merchant has a secret, the next try goes out signed.
        store.secret("m1", SECRET).await;
        let delivered = store.wait_for("e1", Status::Delivered).await;
        assert_eq!(delivered.attempt_count, 2);
        assert_signed_by(&merchant.received()[0], &[SECRET]);
        dispatcher.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_queue() {
    for backend in backends() {
        let store = Store::open(backend, "metrics").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let mut config = config();
        config.schedule = "1h".parse().unwrap();
        let dispatcher = store.dispatcher(config);
        let mut old = notification("old", "m1", "t1", &merchant.url("/fail"));
        old.created_at = now_ms() - 60_000;
        store.insert(old).await;
        store
            .insert(notification("new", "m1", "t2", &merchant.url("/ack/new")))
            .await;
        store.wait_for("new", Status::Delivered).await;
        let started = Instant::now();
        let metrics = loop {
            let m = dispatcher.metrics();
            // The counters move one at a time: wait for the failed attempt to have left
            // `in_flight` too.
            if m.pending == 1 && m.failures_of("http_status") == 1 && m.in_flight == 0 {
                break m;
            }
            assert!(started.elapsed() < WAIT, "{m:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert!(metrics.oldest_pending_age_ms >= 60_000, "{metrics:?}");
        assert_eq!(
            (metrics.attempts, metrics.delivered, metrics.in_flight),
            (2, 1, 0)
        );
        let text = metrics.prometheus();
        assert!(text.contains("paycore_notify_pending 1\n"), "{text}");
        dispatcher.stop().await;
    }
}
