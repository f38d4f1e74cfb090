//! What goes wrong, for both protocols: timeouts that are not failures, late, duplicate, absent
//! and unacknowledged callbacks, and every kind of bad signature (request, answer, callback).

mod common;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use common::{Harness, PROTOCOLS};
use paycore_channels::wire::BankCall;
use paycore_channels::{
    form, json as json_protocol, BankStatus, CallError, CallbackError, Method, OrderKind, Protocol,
    SigningSecret,
};
use serde_json::json;
use tokio::time::Instant;

const PATIENCE: Duration = Duration::from_secs(2);

fn id(protocol: Protocol, name: &str) -> String {
    format!("{}-{name}", protocol.name())
}

#[tokio::test]
async fn a_timeout_is_not_a_failure_the_bank_records_the_outcome_and_query_tells_it() {
    let h = Harness::start(10).await;
    for protocol in PROTOCOLS {
        // Every order times out; with success and fail both 0 its real outcome is success.
        let ch = id(protocol, "slow");
        let settings = json!({ "success_pct": 0, "timeout_pct": 100, "timeout_hold_ms": 300 });
        let adapter = h
            .channel(&ch, protocol, settings, Duration::from_millis(100))
            .await;
        let started = Instant::now();
        let order = h.pay_order(&ch, "T-1", 4200, Method::Quickpay);
        assert_eq!(adapter.pay(&order).await, Err(CallError::Timeout));
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(h.truth(&ch, "T-1").await["status"], "succeeded");
        // Only the new order's answer is held: a query and a repeat answer after the latency.
        let queried = adapter.query(OrderKind::Pay, "T-1").await.unwrap();
        assert!(
            matches!(
                queried,
                BankStatus::Succeeded {
                    amount_minor: 4200,
                    ..
                }
            ),
            "{queried:?}"
        );
        assert_eq!(adapter.pay(&order).await.unwrap(), queried);
        let callbacks = h.callbacks(&ch, "T-1", 1, PATIENCE).await;
        assert_eq!(callbacks[0].callback.as_ref().unwrap().status, queried);

        // Timeouts of a declining channel resolve to failures, told the same way.
        let ch = id(protocol, "slow-declining");
        let settings =
            json!({ "success_pct": 0, "fail_pct": 10, "timeout_pct": 90, "timeout_hold_ms": 300 });
        let adapter = h
            .channel(&ch, protocol, settings, Duration::from_millis(100))
            .await;
        let mut timed_out = None;
        for i in 0..20 {
            let order = h.pay_order(&ch, &format!("TD-{i}"), 100, Method::Quickpay);
            if adapter.pay(&order).await == Err(CallError::Timeout) {
                timed_out = Some(order.channel_order_no);
                break;
            }
        }
        let no = timed_out.expect("90% of orders time out");
        assert_eq!(h.truth(&ch, &no).await["status"], "failed");
        let queried = adapter.query(OrderKind::Pay, &no).await.unwrap();
        assert!(matches!(queried, BankStatus::Failed { .. }), "{queried:?}");
    }
}

#[tokio::test]
async fn duplicate_callbacks_arrive_twice() {
    let h = Harness::start(11).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "dup");
        let settings = json!({ "duplicate_callback_pct": 100 });
        let adapter = h.channel(&ch, protocol, settings, PATIENCE).await;
        let status = adapter
            .pay(&h.pay_order(&ch, "D-1", 300, Method::Quickpay))
            .await
            .unwrap();
        let callbacks = h.callbacks(&ch, "D-1", 2, PATIENCE).await;
        assert_eq!(callbacks.len(), 2);
        for received in &callbacks {
            assert_eq!(received.callback.as_ref().unwrap().status, status);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let truth = h.truth(&ch, "D-1").await;
        assert_eq!(
            (
                truth["callbacks_sent"].as_u64(),
                truth["callbacks_acked"].as_u64()
            ),
            (Some(2), Some(2))
        );
    }
}

#[tokio::test]
async fn late_callbacks_arrive_after_the_delay_and_none_means_none() {
    let h = Harness::start(12).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "late");
        let settings = json!({ "callback": "late", "callback_delay_ms": 400 });
        let adapter = h.channel(&ch, protocol, settings, PATIENCE).await;
        let sent = Instant::now();
        adapter
            .pay(&h.pay_order(&ch, "L-1", 300, Method::Netbank))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(h.inbox.about(&ch, "L-1").is_empty(), "too early");
        let callbacks = h.callbacks(&ch, "L-1", 1, PATIENCE).await;
        assert_eq!(callbacks.len(), 1);
        assert!(callbacks[0].at - sent >= Duration::from_millis(400));

        let ch = id(protocol, "silent");
        let adapter = h
            .channel(&ch, protocol, json!({ "callback": "none" }), PATIENCE)
            .await;
        adapter
            .pay(&h.pay_order(&ch, "S-1", 300, Method::Netbank))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(h.inbox.about(&ch, "S-1").is_empty());
        assert_eq!(h.truth(&ch, "S-1").await["callbacks_sent"], 0);
        let queried = adapter.query(OrderKind::Pay, "S-1").await.unwrap();
        assert!(matches!(queried, BankStatus::Succeeded { .. }));
    }
}

#[tokio::test]
async fn unacknowledged_callbacks_are_retried_with_backoff() {
    let h = Harness::start(13).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "retry");
        let settings = json!({ "callback_retry_base_ms": 100 });
        let adapter = h.channel(&ch, protocol, settings, PATIENCE).await;
        h.refuse_callbacks("RT-1", 2);
        let sent = Instant::now();
        adapter
            .pay(&h.pay_order(&ch, "RT-1", 300, Method::Quickpay))
            .await
            .unwrap();
        let callbacks = h.callbacks(&ch, "RT-1", 3, PATIENCE).await;
        assert_eq!(callbacks.len(), 3);
        // Retries after 100 ms, then 200 ms.
        assert!(callbacks[1].at - callbacks[0].at >= Duration::from_millis(100));
        assert!(callbacks[2].at - callbacks[1].at >= Duration::from_millis(200));
        assert!(callbacks[2].at - sent >= Duration::from_millis(300));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let truth = h.truth(&ch, "RT-1").await;
        assert_eq!(
            (
                truth["callbacks_sent"].as_u64(),
                truth["callbacks_acked"].as_u64()
            ),
            (Some(3), Some(1))
        );
    }
}

#[tokio::test]
async fn the_bank_refuses_requests_with_a_bad_signature_and_records_nothing() {
    let h = Harness::start(14).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "strict");
        h.channel(&ch, protocol, json!({}), PATIENCE).await;
        let wrong_key = h.adapter(&ch, protocol, "not-the-secret", PATIENCE);
        let order = h.pay_order(&ch, "B-1", 1234, Method::Quickpay);
        assert!(matches!(
            wrong_key.pay(&order).await,
            Err(CallError::BadSignature(_))
        ));
        let unknown = h.adapter("nobody", protocol, "whatever", PATIENCE);
        assert!(matches!(
            unknown.pay(&order).await,
            Err(CallError::BadSignature(_))
        ));

        // A correctly signed request altered in flight.
        let secret = SigningSecret::new(format!("secret-{ch}"));
        let call = BankCall::Pay(order.clone());
        let (status, body) = send_tampered(&h, &ch, protocol, &secret, &call).await;
        match protocol {
            Protocol::SimForm => {
                let answer = form::Params::decode(&body).unwrap();
                assert_eq!(answer.get("sub_code"), Some("isv.invalid-signature"));
                assert!(answer.verify(&secret), "the refusal is signed");
            }
            Protocol::SimJson => {
                assert_eq!(status, 401);
                assert!(String::from_utf8_lossy(&body).contains("SIGN_ERROR"));
            }
        }
        let (status, _) = h.get(&format!("/sim/channels/{ch}/orders/B-1")).await;
        assert_eq!(status, 404, "nothing recorded");
    }
}

/// Signs a pay call, then raises its amount before sending it.
async fn send_tampered(
    h: &Harness,
    ch: &str,
    protocol: Protocol,
    secret: &SigningSecret,
    call: &BankCall,
) -> (u16, Vec<u8>) {
    let now = paycore_channels::clock::unix_now();
    let request = match protocol {
        Protocol::SimForm => {
            let mut params = form::request::encode(ch, call, now, secret).unwrap();
            params.set("total_amount", "0.01");
            h.http
                .post(format!("{}{}", h.sim_url(), form::GATEWAY_PATH))
                .header("content-type", form::CONTENT_TYPE)
                .body(params.encode())
        }
        Protocol::SimJson => {
            let wire = json_protocol::request::encode(ch, call).unwrap();
            let signed = wire.sign(secret, now);
            let body = String::from_utf8(wire.body).unwrap().replace("1234", "1");
            let mut request = h
                .http
                .post(format!("{}{}", h.sim_url(), wire.path_with_query))
                .header("content-type", "application/json")
                .body(body);
            for (name, value) in signed.pairs() {
                request = request.header(name, value);
            }
            request
        }
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

/// A man in the middle: forwards to the bank and changes the amount in every answer.
async fn tampering_proxy(
    State((http, bank)): State<(reqwest::Client, String)>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let path = parts.uri.path_and_query().unwrap().as_str();
    let mut forward = http
        .request(parts.method.clone(), format!("{bank}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            forward = forward.header(name, value);
        }
    }
    let answer = forward.send().await.unwrap();
    let status = answer.status();
    let headers = answer.headers().clone();
    let text = String::from_utf8(answer.bytes().await.unwrap().to_vec()).unwrap();
    let tampered = text.replace("12.34", "99.99").replace("1234", "9999");
    let mut response = (status, Bytes::from(tampered)).into_response();
    for (name, value) in &headers {
        if name != "content-length" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

#[tokio::test]
async fn adapters_refuse_tampered_answers() {
    let h = Harness::start(15).await;
    let proxy = Router::new()
        .fallback(tampering_proxy)
        .with_state((reqwest::Client::new(), h.sim_url()));
    let proxy = common::serve(proxy).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "mitm");
        h.channel(&ch, protocol, json!({}), PATIENCE).await;
        let endpoint = paycore_channels::ChannelEndpoint {
            channel_id: ch.clone(),
            protocol,
            endpoint: format!("http://{proxy}"),
            secret: SigningSecret::new(format!("secret-{ch}")),
        };
        let adapter = paycore_channels::adapter(endpoint, h.http.clone(), PATIENCE);
        let order = h.pay_order(&ch, "M-1", 1234, Method::Quickpay);
        let answer = adapter.pay(&order).await;
        assert!(
            matches!(answer, Err(CallError::BadSignature(_))),
            "{answer:?}"
        );
        // The bank did take the order: the outcome is unknown to paycore, not failed.
        assert_eq!(h.truth(&ch, "M-1").await["status"], "succeeded");
    }
}

#[tokio::test]
async fn callbacks_signed_with_another_key_are_refused_and_sent_again() {
    let h = Harness::start(16).await;
    for protocol in PROTOCOLS {
        let ch = id(protocol, "rekeyed");
        let settings =
            json!({ "callback": "late", "callback_delay_ms": 300, "callback_retry_base_ms": 100 });
        let adapter = h.channel(&ch, protocol, settings.clone(), PATIENCE).await;
        adapter
            .pay(&h.pay_order(&ch, "K-1", 300, Method::Quickpay))
            .await
            .unwrap();
        // The bank's key changes before it calls back: paycore's adapter must refuse.
        h.configure(&ch, protocol, "a-key-paycore-does-not-have", settings)
            .await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let refused: Vec<_> = h
            .inbox
            .received()
            .into_iter()
            .filter(|r| r.channel == ch)
            .collect();
        assert!(
            refused.len() >= 2,
            "sent again after a refusal: {refused:?}"
        );
        for received in &refused {
            assert!(
                matches!(received.callback, Err(CallbackError::BadSignature(_))),
                "{received:?}"
            );
        }
        let truth = h.truth(&ch, "K-1").await;
        assert_eq!(truth["callbacks_acked"], 0);
        assert!(truth["callbacks_sent"].as_u64().unwrap() >= 2);
    }
}
