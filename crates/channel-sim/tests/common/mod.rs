//! The test harness: an in-process simulator, paycore's side of the callbacks (a tiny axum
//! server that verifies each with the channel's adapter and acknowledges it), and helpers to
//! configure channels and read the bank's records.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http::HeaderMap;
use paycore_channel_sim::Simulator;
use paycore_channels::{
    adapter, Callback, CallbackError, ChannelAdapter, ChannelEndpoint, Currency, Method, PayOrder,
    Protocol, SigningSecret,
};
use serde_json::{json, Value};
use tokio::time::Instant;

pub const PROTOCOLS: [Protocol; 2] = [Protocol::SimForm, Protocol::SimJson];

/// One callback as paycore's notify endpoint saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub channel: String,
    pub callback: Result<Callback, CallbackError>,
    pub at: Instant,
}

/// paycore's side of callbacks.
#[derive(Default)]
pub struct Inbox {
    adapters: Mutex<HashMap<String, Arc<dyn ChannelAdapter>>>,
    received: Mutex<Vec<Received>>,
    /// Order number → how many more callbacks to leave unacknowledged.
    refuse: Mutex<HashMap<String, u32>>,
}

impl Inbox {
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Verified callbacks about one order of a channel.
    pub fn about(&self, channel: &str, order_no: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.channel == channel)
            .filter(|r| matches!(&r.callback, Ok(cb) if cb.order_no == order_no))
            .collect()
    }
}

pub struct Harness {
    pub sim: SocketAddr,
    pub notify: SocketAddr,
    pub http: reqwest::Client,
    pub inbox: Arc<Inbox>,
}

impl Harness {
    pub async fn start(seed: u64) -> Harness {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
        let simulator = Simulator::bind("127.0.0.1:0".parse().unwrap(), seed)
            .await
            .unwrap();
        let sim = simulator.local_addr();
        tokio::spawn(simulator.serve(std::future::pending()));
        let inbox = Arc::new(Inbox::default());
        let notify = serve(
            Router::new()
                .route("/v1/channels/{id}/notify", post(notify_endpoint))
                .with_state(inbox.clone()),
        )
        .await;
        Harness {
            sim,
            notify,
            http: reqwest::Client::new(),
            inbox,
        }
    }

    pub fn sim_url(&self) -> String {
        format!("http://{}", self.sim)
    }

    pub fn notify_url(&self, channel_id: &str) -> String {
        format!("http://{}/v1/channels/{channel_id}/notify", self.notify)
    }

    /// Configures a channel at the bank (secret `secret-{id}`, `settings` merged over the
    /// protocol) and returns its adapter with a per-call `timeout`.
    pub async fn channel(
        &self,
        id: &str,
        protocol: Protocol,
        settings: Value,
        timeout: Duration,
    ) -> Arc<dyn ChannelAdapter> {
        self.configure(id, protocol, &format!("secret-{id}"), settings)
            .await;
        let adapter = self.adapter(id, protocol, &format!("secret-{id}"), timeout);
        self.inbox
            .adapters
            .lock()
            .unwrap()
            .insert(id.to_owned(), adapter.clone());
        adapter
    }

    /// PUTs a channel's configuration; panics unless the bank accepts it.
    pub async fn configure(&self, id: &str, protocol: Protocol, secret: &str, settings: Value) {
        let mut body = json!({ "protocol": protocol.name(), "secret": secret });
        body.as_object_mut()
            .unwrap()
            .extend(settings.as_object().unwrap().clone());
        let (status, answer) = self.put(&format!("/sim/channels/{id}"), &body).await;
        assert!(status == 200 || status == 201, "{status} {answer}");
    }

    pub fn adapter(
        &self,
        id: &str,
        protocol: Protocol,
        secret: &str,
        timeout: Duration,
    ) -> Arc<dyn ChannelAdapter> {
        let endpoint = ChannelEndpoint {
            channel_id: id.to_owned(),
            protocol,
            endpoint: self.sim_url(),
            secret: SigningSecret::new(secret),
        };
        adapter(endpoint, self.http.clone(), timeout)
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .put(format!("{}{path}", self.sim_url()))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .unwrap();
        read_json(response).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.sim_url()))
            .send()
            .await
            .unwrap();
        read_json(response).await
    }

    /// What the bank recorded about an order (panics if it has none).
    pub async fn truth(&self, channel_id: &str, order_no: &str) -> Value {
        let (status, order) = self
            .get(&format!("/sim/channels/{channel_id}/orders/{order_no}"))
            .await;
        assert_eq!(status, 200, "{order}");
        order
    }

    /// Leaves the next `times` callbacks about an order unacknowledged.
    pub fn refuse_callbacks(&self, order_no: &str, times: u32) {
        self.inbox
            .refuse
            .lock()
            .unwrap()
            .insert(order_no.to_owned(), times);
    }

    /// Waits until `count` verified callbacks about the order arrived (or `within` passed).
    pub async fn callbacks(
        &self,
        channel: &str,
        order_no: &str,
        count: usize,
        within: Duration,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let about = self.inbox.about(channel, order_no);
            if about.len() >= count || Instant::now() >= deadline {
                return about;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A pay order notifying this harness.
    pub fn pay_order(
        &self,
        channel_id: &str,
        no: &str,
        amount_minor: u64,
        method: Method,
    ) -> PayOrder {
        PayOrder {
            channel_order_no: no.to_owned(),
            amount_minor,
            currency: Currency::CNY,
            method,
            subject: "测试 order & co".to_owned(),
            notify_url: self.notify_url(channel_id),
        }
    }
}

/// Serves a router on a free local port.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

async fn read_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// paycore's `/v1/channels/{id}/notify`: verify with the adapter, record, acknowledge.
async fn notify_endpoint(
    State(inbox): State<Arc<Inbox>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let adapter = inbox.adapters.lock().unwrap().get(&id).cloned();
    let Some(adapter) = adapter else {
        return (http::StatusCode::NOT_FOUND, "unknown channel").into_response();
    };
    let callback = adapter.parse_callback(&headers, &body);
    let mut applied = callback.is_ok();
    if let Ok(cb) = &callback {
        let mut refuse = inbox.refuse.lock().unwrap();
        if let Some(left) = refuse.get_mut(&cb.order_no).filter(|left| **left > 0) {
            *left -= 1;
            applied = false;
        }
    }
    inbox.received.lock().unwrap().push(Received {
        channel: id,
        callback,
        at: Instant::now(),
    });
    let ack = adapter.callback_ack(applied);
    (
        http::StatusCode::from_u16(ack.status).unwrap(),
        [(http::header::CONTENT_TYPE, ack.content_type)],
        ack.body,
    )
        .into_response()
}
