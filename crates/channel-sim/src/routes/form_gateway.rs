//! `POST /form/gateway`: a sim-form request verified, decided, answered signed (after the
//! channel's latency, or its timeout hold).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use paycore_channels::form::{self, Params};
use paycore_channels::wire::{BankReply, Refusal};
use paycore_channels::{clock, Protocol, SigningSecret};

use super::response;
use crate::bank::Bank;

pub async fn gateway(State(bank): State<Arc<Bank>>, body: Bytes) -> Response {
    let (reply, secret, wait) = decide(&bank, &body);
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let mut params = form::reply::encode(&reply);
    params.sign(&secret);
    response(200, form::CONTENT_TYPE, &[], params.encode().into_bytes())
}

/// The reply, the key that signs it (none for an unknown channel) and the wait before it.
fn decide(bank: &Bank, body: &[u8]) -> (BankReply, SigningSecret, Duration) {
    let refuse = |refusal, secret, wait| (BankReply::Refused(refusal), secret, wait);
    let unsigned = SigningSecret::new("");
    let params = match Params::decode(body) {
        Ok(params) => params,
        Err(detail) => return refuse(Refusal::InvalidRequest(detail), unsigned, Duration::ZERO),
    };
    let Some(channel) = params.get("app_id").and_then(|id| bank.channel(id)) else {
        return refuse(Refusal::UnknownChannel, unsigned, Duration::ZERO);
    };
    let (protocol, secret, latency) = channel.keys();
    if !form::request::verify(&params, &secret, clock::unix_now()) {
        tracing::warn!(channel = %channel.id, "refused a sim-form request: bad signature or stale timestamp");
        return refuse(Refusal::BadSignature, secret, latency);
    }
    if protocol != Protocol::SimForm {
        let detail = format!("channel {} speaks {}", channel.id, protocol.name());
        return refuse(Refusal::InvalidRequest(detail), secret, latency);
    }
    match form::request::parse(&params) {
        Ok(call) => {
            let decision = bank.handle(&channel, call);
            (decision.reply, secret, decision.wait)
        }
        Err(refusal) => refuse(refusal, secret, latency),
    }
}
