//! Callbacks to paycore: each new order's outcome POSTed to its `notify_url`, signed in the
//! channel's protocol, retried while unacknowledged (after 1, 2, 4, 8 and 16 times the
//! channel's retry base), every attempt and acknowledgement counted on the order.

use std::sync::Arc;
use std::time::Duration;

use paycore_channels::sign::SignatureHeaders;
use paycore_channels::{clock, form, json, Protocol};
use tokio::time::{sleep, sleep_until, Instant};

use crate::bank::Channel;
use crate::state::NotifyPlan;

/// Retries after the first attempt.
pub const RETRIES: u32 = 5;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Gap between the two copies of a duplicated callback.
const DUPLICATE_GAP: Duration = Duration::from_millis(20);
/// Most of an acknowledgement read.
const ACK_MAX_BYTES: usize = 4096;

/// Sends callbacks on the runtime's tasks.
pub struct Notifier {
    http: reqwest::Client,
}

/// One signed callback, ready to send.
enum Message {
    Form(String),
    Json(SignatureHeaders, Vec<u8>),
}

impl Notifier {
    pub fn new() -> Notifier {
        let http = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .expect("an HTTP client without TLS builds");
        Notifier { http }
    }

    /// Starts the deliveries of one plan (two for a duplicated callback).
    pub fn spawn(&self, channel: &Arc<Channel>, plan: &NotifyPlan) {
        for copy in 0..plan.copies {
            let due = plan.due + DUPLICATE_GAP * u32::from(copy);
            let delivery = deliver(self.http.clone(), channel.clone(), plan.clone(), due);
            tokio::spawn(delivery);
        }
    }
}

async fn deliver(http: reqwest::Client, channel: Arc<Channel>, plan: NotifyPlan, due: Instant) {
    sleep_until(due).await;
    for attempt in 0..=RETRIES {
        let (message, retry_base) = prepare(&channel, plan.index);
        let acked = send(&http, &plan.url, message).await;
        let order_no = {
            let mut state = channel.state.lock();
            let order = state.order_at(plan.index);
            if acked {
                order.callbacks_acked += 1;
                return;
            }
            order.order_no.clone()
        };
        if attempt == RETRIES {
            tracing::warn!(channel = %channel.id, order_no, "callback never acknowledged, given up");
            return;
        }
        tracing::debug!(channel = %channel.id, order_no, attempt, "callback not acknowledged");
        sleep(Duration::from_millis(retry_base << attempt)).await;
    }
}

/// Counts an attempt and signs the order's report as of now, in the channel's protocol.
fn prepare(channel: &Channel, index: usize) -> (Message, u64) {
    let (report, protocol, secret, retry_base) = {
        let mut state = channel.state.lock();
        let (protocol, secret) = (state.config.protocol, state.config.secret.clone());
        let retry_base = state.config.callback_retry_base_ms;
        let order = state.order_at(index);
        order.callbacks_sent += 1;
        (order.report(Instant::now()), protocol, secret, retry_base)
    };
    let now = clock::unix_now();
    let message = match protocol {
        Protocol::SimForm => {
            let params = form::callback::encode(&channel.id, &report, now, &secret);
            Message::Form(params.encode())
        }
        Protocol::SimJson => {
            let (headers, body) = json::callback::encode(&channel.id, &report, now, &secret);
            Message::Json(headers, body)
        }
    };
    (message, retry_base)
}

/// One attempt: sim-form wants the body `success`, sim-json a 200 or 204.
async fn send(http: &reqwest::Client, url: &str, message: Message) -> bool {
    let request = http.post(url);
    let (request, form) = match message {
        Message::Form(body) => (
            request
                .header(http::header::CONTENT_TYPE, form::CONTENT_TYPE)
                .body(body),
            true,
        ),
        Message::Json(headers, body) => {
            let mut request = request
                .header(http::header::CONTENT_TYPE, json::CONTENT_TYPE)
                .body(body);
            for (name, value) in headers.pairs() {
                request = request.header(name, value);
            }
            (request, false)
        }
    };
    let Ok(mut response) = request.send().await else {
        return false;
    };
    let status = response.status().as_u16();
    if !form {
        return status == 200 || status == 204;
    }
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > ACK_MAX_BYTES {
            return false;
        }
    }
    status == 200 && body.trim_ascii() == form::ACK_BODY.as_bytes()
}
