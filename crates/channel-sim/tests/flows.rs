//! The bank's ordinary business through paycore's adapters, for both protocols: quick pay,
//! net banking, idempotent repeats, refunds within the payment, payouts, queries, and outcomes
//! that depend on the seed and order number only.

mod common;

use std::time::Duration;

use common::{Harness, PROTOCOLS};
use paycore_channels::{
    BankStatus, CallError, Currency, Method, OrderKind, PayoutOrder, Protocol, RefundOrder,
};
use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(2);

fn id(protocol: Protocol, name: &str) -> String {
    format!("{}-{name}", protocol.name())
}

fn bank_ref(status: &BankStatus) -> &str {
    match status {
        BankStatus::Succeeded { bank_ref, .. } => bank_ref,
        other => panic!("not a success: {other:?}"),
    }
}

#[tokio::test]
async fn quickpay_answers_success_and_failure_at_once_and_calls_back() {
    let h = Harness::start(1).await;
    for protocol in PROTOCOLS {
        let ok = id(protocol, "ok");
        let adapter = h.channel(&ok, protocol, json!({}), PATIENCE).await;
        let order = h.pay_order(&ok, "P-ok-1", 1234, Method::Quickpay);
        let status = adapter.pay(&order).await.unwrap();
        let truth = h.truth(&ok, "P-ok-1").await;
        assert_eq!(truth["status"], "succeeded");
        assert_eq!(truth["amount"], 1234);
        assert_eq!(truth["kind"], "pay");
        assert_eq!(truth["method"], "quickpay");
        assert_eq!(
            status,
            BankStatus::Succeeded {
                bank_ref: truth["bank_ref"].as_str().unwrap().to_owned(),
                amount_minor: 1234
            }
        );
        let callbacks = h.callbacks(&ok, "P-ok-1", 1, PATIENCE).await;
        assert_eq!(callbacks.len(), 1, "{protocol:?}");
        let callback = callbacks[0].callback.as_ref().unwrap();
        assert_eq!(callback.kind, OrderKind::Pay);
        assert_eq!(callback.status, status);

        let bad = id(protocol, "bad");
        let declining = json!({ "success_pct": 0, "fail_pct": 100 });
        let adapter = h.channel(&bad, protocol, declining, PATIENCE).await;
        let order = h.pay_order(&bad, "P-bad-1", 500, Method::Quickpay);
        let status = adapter.pay(&order).await.unwrap();
        assert!(
            matches!(&status, BankStatus::Failed { message, .. } if message.contains("declined")),
            "{status:?}"
        );
        assert_eq!(h.truth(&bad, "P-bad-1").await["status"], "failed");
        let callbacks = h.callbacks(&bad, "P-bad-1", 1, PATIENCE).await;
        assert_eq!(callbacks[0].callback.as_ref().unwrap().status, status);
        assert_eq!(
            adapter.query(OrderKind::Pay, "P-bad-1").await.unwrap(),
            status
        );
    }
}

#[tokio::test]
async fn netbank_answers_processing_then_the_callback_tells_the_outcome() {
    let h = Harness::start(2).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "netbank");
        let adapter = h
            .channel(&ch, protocol, json!({ "latency_ms": 150 }), PATIENCE)
            .await;
        let order = h.pay_order(&ch, "N-1", 9900, Method::Netbank);
        assert_eq!(adapter.pay(&order).await.unwrap(), BankStatus::Processing);
        // Answered after the latency; the outcome shows the latency after arrival.
        let truth = h.truth(&ch, "N-1").await;
        assert!(["processing", "succeeded"].contains(&truth["status"].as_str().unwrap()));
        let callbacks = h.callbacks(&ch, "N-1", 1, PATIENCE).await;
        let callback = callbacks[0].callback.as_ref().unwrap();
        assert!(matches!(
            callback.status,
            BankStatus::Succeeded {
                amount_minor: 9900,
                ..
            }
        ));
        assert_eq!(h.truth(&ch, "N-1").await["status"], "succeeded");
        assert_eq!(
            adapter.query(OrderKind::Pay, "N-1").await.unwrap(),
            callback.status
        );
        assert_eq!(
            adapter.query(OrderKind::Pay, "N-unknown").await.unwrap(),
            BankStatus::NotFound
        );
    }
}

#[tokio::test]
async fn the_bank_is_idempotent_and_refuses_a_number_reused_for_other_content() {
    let h = Harness::start(3).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "idem");
        let adapter = h.channel(&ch, protocol, json!({}), PATIENCE).await;
        let order = h.pay_order(&ch, "I-1", 700, Method::Quickpay);
        let first = adapter.pay(&order).await.unwrap();
        let again = adapter.pay(&order).await.unwrap();
        assert_eq!(first, again);
        let mut other = order.clone();
        other.amount_minor = 701;
        let conflict = adapter.pay(&other).await.unwrap_err();
        assert!(
            matches!(&conflict, CallError::Protocol(m) if m.contains("different content")),
            "{conflict:?}"
        );
        let truth = h.truth(&ch, "I-1").await;
        assert_eq!(truth["amount"], 700);
        assert_eq!(truth["requests"], 2);
        assert_eq!(truth["bank_ref"], bank_ref(&first));
        // One order, one callback.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(h.inbox.about(&ch, "I-1").len(), 1);
        assert_eq!(h.truth(&ch, "I-1").await["callbacks_acked"], 1);
    }
}

fn refund(h: &Harness, ch: &str, no: &str, paid: &str, amount_minor: u64) -> RefundOrder {
    RefundOrder {
        refund_no: no.to_owned(),
        channel_order_no: paid.to_owned(),
        amount_minor,
        currency: Currency::CNY,
        reason: "customer returned it".to_owned(),
        notify_url: h.notify_url(ch),
    }
}

#[tokio::test]
async fn refunds_need_a_paid_order_and_stay_within_it() {
    let h = Harness::start(4).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "refunds");
        let adapter = h.channel(&ch, protocol, json!({}), PATIENCE).await;
        adapter
            .pay(&h.pay_order(&ch, "P-1", 1000, Method::Quickpay))
            .await
            .unwrap();
        let first = adapter
            .refund(&refund(&h, &ch, "R-1", "P-1", 600))
            .await
            .unwrap();
        assert!(
            matches!(
                first,
                BankStatus::Succeeded {
                    amount_minor: 600,
                    ..
                }
            ),
            "{first:?}"
        );
        let over = adapter
            .refund(&refund(&h, &ch, "R-2", "P-1", 401))
            .await
            .unwrap();
        assert!(
            matches!(&over, BankStatus::Failed { code, .. } if code.contains("EXCEED")),
            "{over:?}"
        );
        let rest = adapter
            .refund(&refund(&h, &ch, "R-3", "P-1", 400))
            .await
            .unwrap();
        assert!(matches!(
            rest,
            BankStatus::Succeeded {
                amount_minor: 400,
                ..
            }
        ));
        let unpaid = adapter
            .refund(&refund(&h, &ch, "R-4", "P-none", 1))
            .await
            .unwrap();
        assert!(matches!(unpaid, BankStatus::Failed { .. }), "{unpaid:?}");

        assert_eq!(h.truth(&ch, "P-1").await["refunded"], 1000);
        let truth = h.truth(&ch, "R-1").await;
        assert_eq!(
            (truth["kind"].as_str(), truth["channel_order_no"].as_str()),
            (Some("refund"), Some("P-1"))
        );
        let (status, _) = h.get(&format!("/sim/channels/{ch}/orders/R-2")).await;
        assert_eq!(status, 404, "a refused refund is not recorded");
        assert_eq!(
            adapter.query(OrderKind::Refund, "R-1").await.unwrap(),
            first
        );
        assert_eq!(
            adapter.query(OrderKind::Refund, "R-2").await.unwrap(),
            BankStatus::NotFound
        );
        let callbacks = h.callbacks(&ch, "R-3", 1, PATIENCE).await;
        assert_eq!(
            callbacks[0].callback.as_ref().unwrap().kind,
            OrderKind::Refund
        );
    }
}

#[tokio::test]
async fn payouts_are_answered_at_once_and_queried_by_kind() {
    let h = Harness::start(5).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "payouts");
        let adapter = h.channel(&ch, protocol, json!({}), PATIENCE).await;
        let payout = PayoutOrder {
            payout_no: "O-1".to_owned(),
            amount_minor: 25_000,
            currency: Currency::CNY,
            bank_account: "6222020200112233".to_owned(),
            notify_url: h.notify_url(&ch),
        };
        let status = adapter.payout(&payout).await.unwrap();
        assert!(matches!(
            status,
            BankStatus::Succeeded {
                amount_minor: 25_000,
                ..
            }
        ));
        assert_eq!(
            adapter.query(OrderKind::Payout, "O-1").await.unwrap(),
            status
        );
        assert_eq!(
            adapter.query(OrderKind::Pay, "O-1").await.unwrap(),
            BankStatus::NotFound
        );
        let mut elsewhere = payout.clone();
        elsewhere.bank_account = "6222020200999999".to_owned();
        assert!(matches!(
            adapter.payout(&elsewhere).await,
            Err(CallError::Protocol(_))
        ));
        let callbacks = h.callbacks(&ch, "O-1", 1, PATIENCE).await;
        assert_eq!(
            callbacks[0].callback.as_ref().unwrap().kind,
            OrderKind::Payout
        );
        assert_eq!(h.truth(&ch, "O-1").await["kind"], "payout");
    }
}

/// Sends orders P0..P39 in the given sequence and returns (status, bank_ref) per number.
async fn outcomes(seed: u64, numbers: &[usize]) -> Vec<(String, String)> {
    let h = Harness::start(seed).await;
    let settings = json!({
        "success_pct": 40, "fail_pct": 30, "timeout_pct": 30,
        "timeout_hold_ms": 0, "callback": "none"
    });
    let adapter = h
        .channel("det", Protocol::SimJson, settings, PATIENCE)
        .await;
    for i in numbers {
        let order = h.pay_order("det", &format!("P{i}"), 100 + *i as u64, Method::Quickpay);
        adapter.pay(&order).await.unwrap();
    }
    let mut seen = Vec::new();
    for i in 0..40 {
        let truth = h.truth("det", &format!("P{i}")).await;
        seen.push((
            truth["status"].as_str().unwrap().to_owned(),
            truth["bank_ref"].as_str().unwrap().to_owned(),
        ));
    }
    seen
}

#[tokio::test]
async fn outcomes_depend_on_seed_and_number_not_on_arrival_order() {
    let forward: Vec<usize> = (0..40).collect();
    let backward: Vec<usize> = (0..40).rev().collect();
    let first = outcomes(42, &forward).await;
    assert_eq!(first, outcomes(42, &backward).await);
    assert_ne!(first, outcomes(43, &forward).await);
    let failed = first.iter().filter(|(s, _)| s == "failed").count();
    assert!((5..=30).contains(&failed), "{failed} of 40 failed");
}

#[tokio::test]
async fn the_control_api_checks_settings_masks_the_secret_and_lists_orders() {
    let h = Harness::start(6).await;
    let (status, error) = h
        .put(
            "/sim/channels/c1",
            &json!({ "protocol": "sim-form", "secret": "s", "fail_pct": 5 }),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("invalid_config"))
    );
    let (status, _) = h.get("/sim/channels/c1").await;
    assert_eq!(status, 404);
    let adapter = h
        .channel(
            "c1",
            Protocol::SimForm,
            json!({ "latency_ms": 5 }),
            PATIENCE,
        )
        .await;
    let (status, view) = h.get("/sim/channels/c1").await;
    assert_eq!(status, 200);
    assert_eq!(view["secret"], "****");
    assert_eq!(view["latency_ms"], 5);
    for i in 0..5 {
        adapter
            .pay(&h.pay_order("c1", &format!("L{i}"), 10, Method::Quickpay))
            .await
            .unwrap();
    }
    adapter
        .refund(&refund(&h, "c1", "LR", "L0", 5))
        .await
        .unwrap();
    let (_, page) = h.get("/sim/channels/c1/orders?kind=pay&limit=3").await;
    let numbers: Vec<&str> = page["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_no"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["L0", "L1", "L2"]);
    assert_eq!(page["next_after"], "L2");
    let (_, rest) = h
        .get("/sim/channels/c1/orders?kind=pay&limit=3&after=L2")
        .await;
    assert_eq!(rest["orders"].as_array().unwrap().len(), 2);
    assert_eq!(rest["next_after"], serde_json::Value::Null);
    let (_, refunds) = h
        .get("/sim/channels/c1/orders?kind=refund&status=succeeded")
        .await;
    assert_eq!(refunds["orders"][0]["order_no"], "LR");
    let (status, _) = h.get("/sim/channels/c1/orders?status=lost").await;
    assert_eq!(status, 400);
}
