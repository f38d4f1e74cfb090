//! Many notifications: per order one at a time and in order, a slow merchant holding up
//! nobody else, and a restart that carries on from the table (every attempt recorded once,
//! duplicates only of the same event).

mod common;

use std::time::{Duration, Instant};

use common::*;
use paycore_payment_store::repo::notifications::{self as outbox, Filter, Status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orders_next_notification_waits_for_the_previous_one() {
    for backend in backends() {
        let store = Store::open(backend, "order").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let dispatcher = store.dispatcher(config());
        // The first fails twice (100 ms, then 200 ms later it is acknowledged).
        let first = notification(
            "evt_t1_trade.paid",
            "m1",
            "t1",
            &merchant.url("/fail-twice"),
        );
        let mut second = notification(
            "evt_t1_payment.refunded",
            "m1",
            "t1",
            &merchant.url("/ack/2"),
        );
        second.event_type = paycore_notify::event_types::PAYMENT_REFUNDED.into();
        let other = notification("evt_t2_trade.paid", "m1", "t2", &merchant.url("/ack/other"));
        store.insert(first).await;
        store.insert(second).await;
        store.insert(other).await;
        dispatcher.wake();

        let second = store
            .wait_for("evt_t1_payment.refunded", Status::Delivered)
            .await;
        let first = store.wait_for("evt_t1_trade.paid", Status::Delivered).await;
        assert_eq!((first.order_seq, second.order_seq), (1, 2));
        assert_eq!((first.attempt_count, second.attempt_count), (3, 1));
        assert!(second.attempts[0].at >= first.delivered_at.unwrap());
        let first_sent = merchant.received_for("evt_t1_trade.paid");
        let second_sent = merchant.received_for("evt_t1_payment.refunded");
        assert_eq!((first_sent.len(), second_sent.len()), (3, 1));
        assert!(
            second_sent[0].at > first_sent[2].at,
            "sent after the first was acknowledged"
        );
        // Another order did not wait for t1.
        let other_sent = merchant.received_for("evt_t2_trade.paid");
        assert!(other_sent[0].at < first_sent[1].at);
        dispatcher.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_notification_lets_the_next_of_its_order_go() {
    for backend in backends() {
        let store = Store::open(backend, "order_dead").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let dispatcher = store.dispatcher(config());
        store
            .insert(notification("e1", "m1", "t1", &merchant.url("/fail")))
            .await;
        store
            .insert(notification("e2", "m1", "t1", &merchant.url("/ack/e2")))
            .await;
        let second = store.wait_for("e2", Status::Delivered).await;
        let first = store.get("e1").await;
        assert_eq!((first.status, first.attempt_count), (Status::Dead, 3));
        assert!(second.attempts[0].at >= first.attempts[2].at);
        dispatcher.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_merchant_does_not_delay_another() {
    for backend in backends() {
        let store = Store::open(backend, "slow").await;
        let merchant = Merchant::start().await;
        store.secret("slow", SECRET).await;
        store.secret("fast", SECRET).await;
        let mut config = config();
        config.timeout = Duration::from_secs(5);
        let dispatcher = store.dispatcher(config);
        // The slow merchant's backlog comes first and is due first: 40 notifications of 1.5 s
        // each on 4 connections are 15 s of work.
        let slow = (0..40).map(|i| {
            let id = format!("s{i}");
            notification(&id, "slow", &id, &merchant.url("/slow/1500"))
        });
        store.insert_all(slow.collect()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let fast = (0..20).map(|i| {
            let id = format!("f{i}");
            notification(&id, "fast", &id, &merchant.url("/ack/fast"))
        });
        store.insert_all(fast.collect()).await;
        dispatcher.wake();
        for i in 0..20 {
            store.wait_for(&format!("f{i}"), Status::Delivered).await;
        }
        let fast_took = started.elapsed();
        assert!(
            fast_took < Duration::from_millis(1_200),
            "fast merchant took {fast_took:?}"
        );
        let slow_done = store
            .read(|sql| {
                let filter = Filter {
                    merchant: Some("slow".into()),
                    status: Some(Status::Delivered),
                    limit: 100,
                    ..Filter::default()
                };
                outbox::list(sql, &filter)
            })
            .await;
        assert!(slow_done.len() < 40, "the slow one is still at work");
        assert_eq!(
            merchant.most_at_once("/slow"),
            4,
            "4 connections per merchant"
        );
        dispatcher.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_dispatcher_carries_on_from_the_table() {
    for backend in backends() {
        let store = Store::open(backend, "restart").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let count = 200;
        for i in 0..count {
            // Every fifth fails twice before it is acknowledged.
            let path = if i % 5 == 0 {
                "/fail-twice"
            } else {
                "/slow/20"
            };
            let url = merchant.url(path);
            store
                .insert(notification(
                    &format!("e{i}"),
                    "m1",
                    &format!("t{}", i / 2),
                    &url,
                ))
                .await;
        }
        // A dispatcher that died mid-attempt: it claimed e199 briefly and sent it, but never
        // recorded the attempt.
        store
            .write(|sql| outbox::claim(sql, "e199", 0, now_ms(), now_ms() + 300))
            .await;
        let n = store.get("e199").await;
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        http.post(&n.url)
            .header("Paycore-Event-Id", &n.event_id)
            .body(n.body.clone())
            .send()
            .await
            .unwrap();

        let first = store.dispatcher(config());
        tokio::time::sleep(Duration::from_millis(300)).await;
        first.stop().await;
        let after_first = merchant.received().len();
        assert!(after_first > 1, "the first dispatcher did some work");

        let second = store.dispatcher(config());
        for i in 0..count {
            store.wait_for(&format!("e{i}"), Status::Delivered).await;
        }
        second.stop().await;
        tokio::time::sleep(Duration::from_millis(100)).await;

        let received = merchant.received();
        for i in 0..count {
            let id = format!("e{i}");
            let n = store.get(&id).await;
            let sent: Vec<_> = received.iter().filter(|r| r.event_id == id).collect();
            let expected = n.attempt_count as usize + usize::from(id == "e199");
            assert_eq!(
                sent.len(),
                expected,
                "{id}: one request per recorded attempt"
            );
            assert!(
                sent.iter().all(|r| r.body == n.body),
                "{id}: duplicates are the same event"
            );
            assert_eq!(n.attempt_count, if i % 5 == 0 { 3 } else { 1 }, "{id}");
        }
        assert_eq!(received.len(), count + 2 * (count / 5) + 1);
    }
}
