//! The payment tests' world: a real paycore server in-process and a real bank simulator
//! (in-process too, on its own port — the same code `paycore channel-sim` runs), channels
//! configured on both sides, and helpers to pay and to wait for outcomes.

#![allow(dead_code)] // each test file uses its own part of the world

use std::time::Duration;

use paycore_channel_sim::Simulator;
use paycore_server::{HealthPolicy, PaymentOptions, QuerySchedule};
use serde_json::{json, Value};

use crate::common::{self, Reply, TestServer};

pub struct World {
    pub server: TestServer,
    pub sim: String,
    pub http: reqwest::Client,
    /// The shop's notification secret, as its creation showed it (once).
    pub notify_secret: String,
    _dir: tempfile::TempDir,
}

/// Options with a short channel timeout and a quick query schedule.
pub fn quick_options() -> PaymentOptions {
    PaymentOptions {
        channel_timeout: Duration::from_millis(300),
        query_schedule: QuerySchedule {
            delays_ms: vec![200, 300, 500],
        },
        health: HealthPolicy {
            failures_max: 0,
            rest_ms: 1,
        },
        ..PaymentOptions::default()
    }
}

pub async fn world() -> World {
    world_with(quick_options()).await
}

pub async fn world_with(options: PaymentOptions) -> World {
    let simulator = Simulator::bind("127.0.0.1:0".parse().unwrap(), 42)
        .await
        .unwrap();
    let sim = format!("http://{}", simulator.local_addr());
    tokio::spawn(simulator.serve(std::future::pending()));
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_with_payments(dir.path(), options).await;
    let merchant = server
        .post(
            "/v1/merchants",
            json!({"id": "shop", "name": "Shop", "callback_hosts": ["127.0.0.1"], "fee_rate_bp": 60}),
        )
        .await;
    assert_eq!(merchant.status, 201, "{:?}", merchant.body);
    let notify_secret = merchant.body["notify_secret"]
        .as_str()
        .expect("a new merchant's answer shows its notification secret")
        .to_owned();
    World {
        server,
        sim,
        http: reqwest::Client::new(),
        notify_secret,
        _dir: dir,
    }
}

impl World {
    /// Stops the server (gracefully) and starts it again on the same data directory.
    pub async fn restart(self, options: PaymentOptions) -> World {
        let World {
            server,
            sim,
            http,
            notify_secret,
            _dir,
        } = self;
        server.stop().await;
        let server = common::start_with_payments(_dir.path(), options).await;
        World {
            server,
            sim,
            http,
            notify_secret,
            _dir,
        }
    }

    /// Configures `id` on the simulator (`behaviour` merged over success/immediate defaults)
    /// and adds it to paycore with `weight`.
    pub async fn channel(&self, id: &str, protocol: &str, weight: u32, behaviour: Value) {
        let methods = ["quickpay", "netbank"];
        self.channel_for(id, protocol, weight, &methods, behaviour)
            .await;
    }

    /// `channel`, taking `methods`.
    pub async fn channel_for(
        &self,
        id: &str,
        protocol: &str,
        weight: u32,
        methods: &[&str],
        behaviour: Value,
    ) {
        self.simulate(id, protocol, behaviour).await;
        let added = self
            .server
            .post(
                "/v1/channels",
                json!({"id": id, "protocol": protocol, "endpoint": self.sim, "secret": format!("secret-{id}"),
                    "methods": methods, "currencies": ["CNY"], "weight": weight}),
            )
            .await;
        assert!(
            added.status == 201 || added.status == 200,
            "{:?}",
            added.body
        );
    }

    /// Sets a channel's behaviour at the simulator.
    pub async fn simulate(&self, id: &str, protocol: &str, behaviour: Value) {
        let mut body = json!({"protocol": protocol, "secret": format!("secret-{id}")});
        for (k, v) in behaviour.as_object().unwrap() {
            body[k] = v.clone();
        }
        let response = self
            .http
            .put(format!("{}/sim/channels/{id}", self.sim))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }

    /// What the bank recorded for an order.
    pub async fn bank_order(&self, channel: &str, order_no: &str) -> Value {
        let response = self
            .http
            .get(format!(
                "{}/sim/channels/{channel}/orders/{order_no}",
                self.sim
            ))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    pub async fn trade(&self, order_no: &str, amount: u64) -> String {
        let reply = self
            .server
            .post(
                "/v1/trades",
                json!({"merchant": "shop", "merchant_order_no": order_no, "amount": amount, "currency": "CNY",
                    "subject": "tea", "notify_url": "http://127.0.0.1:1/notify"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body["trade_id"].as_str().unwrap().to_owned()
    }

    pub async fn pay(
        &self,
        trade_id: &str,
        id: &str,
        method: &str,
        channel: Option<&str>,
    ) -> Reply {
        let mut body = json!({"id": id, "method": method});
        if let Some(c) = channel {
            body["channel"] = json!(c);
        }
        self.server
            .post(&format!("/v1/trades/{trade_id}/payments"), body)
            .await
    }

    pub async fn payment(&self, id: &str) -> Value {
        let reply = self.server.get(&format!("/v1/payments/{id}")).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body
    }

    /// Waits until the payment's status is final (or `timeout`), and returns it.
    pub async fn settled(&self, id: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let payment = self.payment(id).await;
            let status = payment["status"].as_str().unwrap().to_owned();
            if status == "succeeded" || status == "failed" {
                return payment;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "payment {id} still {status}: {payment}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn balance(&self, account: &str) -> i64 {
        self.server.balance(account).await
    }
}
