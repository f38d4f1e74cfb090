//! The day files a bank serves paycore, for both protocols alike: the statement
//! (`GET /sim/channels/{id}/statements/{date}?format=wechat|alipay|csv`) and the settlement
//! (`GET /sim/channels/{id}/settlements/{date}`). Requests must be signed like sim-json requests
//! (over `GET`, the path with its query, and an empty body); every answer, errors included,
//! carries `Sim-*` signature headers over its body like sim-json answers (under no key when the
//! channel is unknown). A bad signature is 401 `SIGN_ERROR`, as at the JSON gateway.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, Uri};
use paycore_channels::json::{reply, request};
use paycore_channels::{clock, SigningSecret};
use paycore_statements::Format;

use super::response;
use crate::bank::{Bank, Channel};
use crate::calendar;
use crate::day::DayError;

const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";
const ZIP_CONTENT_TYPE: &str = "application/zip";
const JSON_CONTENT_TYPE: &str = "application/json";

pub async fn statement(
    State(bank): State<Arc<Bank>>,
    Path((id, date)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (channel, secret) = match verified(&bank, &id, &uri, &headers) {
        Ok(verified) => verified,
        Err(refused) => return *refused,
    };
    let Some(date) = calendar::parse_date(&date) else {
        return signed_error(&secret, 400, "invalid_date", "the date must be YYYY-MM-DD");
    };
    let Some(format) = query_format(&uri).and_then(Format::from_name) else {
        return signed_error(
            &secret,
            400,
            "invalid_format",
            "format must be wechat, alipay or csv",
        );
    };
    let day = bank.day(&channel, date);
    match day.statement(format) {
        Ok(body) => {
            tracing::info!(channel = %id, date = %calendar::format_date(date), %format, rows = day.printed(), "statement served");
            let content_type = match format {
                Format::Alipay => ZIP_CONTENT_TYPE,
                Format::Wechat | Format::Csv => CSV_CONTENT_TYPE,
            };
            signed(&secret, 200, content_type, body)
        }
        Err(error) => day_error(&secret, &error),
    }
}

pub async fn settlement(
    State(bank): State<Arc<Bank>>,
    Path((id, date)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (channel, secret) = match verified(&bank, &id, &uri, &headers) {
        Ok(verified) => verified,
        Err(refused) => return *refused,
    };
    let Some(date) = calendar::parse_date(&date) else {
        return signed_error(&secret, 400, "invalid_date", "the date must be YYYY-MM-DD");
    };
    match bank.day(&channel, date).settlement() {
        Ok(body) => {
            let body = serde_json::to_vec(&body).expect("settlements serialize");
            signed(&secret, 200, JSON_CONTENT_TYPE, body)
        }
        Err(error) => day_error(&secret, &error),
    }
}

/// The channel and its key, once the request's signature verifies; else the answer refusing it.
fn verified(
    bank: &Bank,
    id: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Arc<Channel>, SigningSecret), Box<Response>> {
    let Some(channel) = bank.channel(id) else {
        let unsigned = SigningSecret::new("");
        let message = format!("no channel {id}");
        return Err(Box::new(signed_error(
            &unsigned,
            404,
            "channel_not_found",
            message,
        )));
    };
    let (_, secret, _) = channel.keys();
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    if !request::verify("GET", path, b"", headers, &secret, clock::unix_now()) {
        tracing::warn!(channel = %id, path, "refused a day-file request: bad signature or stale timestamp");
        let message = "the request's signature does not verify";
        return Err(Box::new(signed_error(&secret, 401, "SIGN_ERROR", message)));
    }
    Ok((channel, secret))
}

/// The `format` query parameter, if given (its values need no percent-decoding).
fn query_format(uri: &Uri) -> Option<&str> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("format="))
}

fn day_error(secret: &SigningSecret, error: &DayError) -> Response {
    tracing::warn!(%error, "a day file could not be told");
    let (status, code) = match error {
        DayError::MixedCurrencies(..) => (409, "mixed_currencies"),
        DayError::Write(_) => (409, "unrepresentable_statement"),
        DayError::Overflow => (500, "overflow"),
    };
    signed_error(secret, status, code, error.to_string())
}

fn signed_error(
    secret: &SigningSecret,
    status: u16,
    code: &str,
    message: impl Into<String>,
) -> Response {
    let body = serde_json::json!({ "code": code, "message": message.into() });
    let body = serde_json::to_vec(&body).expect("errors serialize");
    signed(secret, status, JSON_CONTENT_TYPE, body)
}

/// An answer with `Sim-*` headers over its body.
fn signed(
    secret: &SigningSecret,
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response {
    let headers = reply::sign_message(secret, clock::unix_now(), &body);
    response(status, content_type, &headers.pairs(), body)
}
