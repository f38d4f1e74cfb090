//! `/json/v3/...`: a sim-json request verified, decided, answered with signature headers (after
//! the channel's latency, or its timeout hold).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::Response;
use http::HeaderMap;
use paycore_channels::json::{self, request};
use paycore_channels::wire::{BankReply, Refusal};
use paycore_channels::{clock, Protocol, SigningSecret};

use super::{response, BODY_MAX_BYTES};
use crate::bank::Bank;

pub async fn gateway(State(bank): State<Arc<Bank>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_MAX_BYTES).await else {
        return response(413, json::CONTENT_TYPE, &[], Vec::new());
    };
    let uri = &parts.uri;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let method = parts.method.as_str();
    let (mchid, reply, secret, wait) = decide(&bank, method, path, &parts.headers, &body);
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let (status, body) = json::reply::encode(&mchid, &reply);
    let signed = json::reply::sign_message(&secret, clock::unix_now(), &body);
    response(status, json::CONTENT_TYPE, &signed.pairs(), body)
}

/// The merchant, the reply, the key that signs it (none for an unknown channel) and the wait.
fn decide(
    bank: &Bank,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> (String, BankReply, SigningSecret, Duration) {
    let parsed = request::parse(method, path, body);
    let unsigned = SigningSecret::new("");
    let Some(mchid) = parsed.mchid else {
        let refusal = parsed.call.err().unwrap_or(Refusal::UnknownChannel);
        return (
            String::new(),
            BankReply::Refused(refusal),
            unsigned,
            Duration::ZERO,
        );
    };
    let refuse = |refusal, secret, wait| (mchid.clone(), BankReply::Refused(refusal), secret, wait);
    let Some(channel) = bank.channel(&mchid) else {
        return refuse(Refusal::UnknownChannel, unsigned, Duration::ZERO);
    };
    let (protocol, secret, latency) = channel.keys();
    if !request::verify(method, path, body, headers, &secret, clock::unix_now()) {
        tracing::warn!(channel = %channel.id, path, "refused a sim-json request: bad signature or stale timestamp");
        return refuse(Refusal::BadSignature, secret, latency);
    }
    if protocol != Protocol::SimJson {
        let detail = format!("channel {} speaks {}", channel.id, protocol.name());
        return refuse(Refusal::InvalidRequest(detail), secret, latency);
    }
    match parsed.call {
        Ok(call) => {
            let decision = bank.handle(&channel, call);
            (mchid, decision.reply, secret, decision.wait)
        }
        Err(refusal) => refuse(refusal, secret, latency),
    }
}
