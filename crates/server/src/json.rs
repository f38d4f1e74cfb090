//! `ApiJson`: the request-body extractor. Unlike axum's `Json` it answers every problem with
//! the API's error shape — 400 `malformed_json` for broken JSON, 400 `invalid_field` naming
//! the field for wrong types, missing or unknown fields, 413 for bodies over the limit — and it
//! does not insist on a `Content-Type` header (curl's `-d` sends a form type).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(request, state).await?;
        parse(&bytes).map(ApiJson)
    }
}

/// Like `ApiJson`, but an empty body or `null` reads as `{}` (for endpoints whose fields are all
/// optional).
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(request, state).await?;
        // An empty body, or JSON `null`, is the empty object.
        if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
            return parse(b"{}").map(OptionalJson);
        }
        parse(&bytes).map(OptionalJson)
    }
}

async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    // Refused before reading: a client announcing more than the limit would otherwise hold
    // the connection until the body, which may never come, is read up to the limit.
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > crate::BODY_BYTES_MAX as u64) {
        return Err(too_large());
    }
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request("malformed_request", rejection.body_text())
            }
        })
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "request body is larger than the limit",
    )
}

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every request body is an object; serde would also fill a struct from an array of its
    // fields in order (`["t1","alice","bob",1,"CNY"]` was a transfer), which no client means.
    if bytes.trim_ascii_start().first() == Some(&b'[') {
        return Err(ApiError::bad_request(
            "invalid_field",
            "request body: expected a JSON object, found an array",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() {
            let place = if path == "." {
                "request body".to_owned()
            } else {
                format!("field `{path}`")
            };
            ApiError::bad_request("invalid_field", format!("{place}: {inner}"))
        } else {
            ApiError::bad_request(
                "malformed_json",
                format!("request body is not valid JSON: {inner}"),
            )
        }
    })?;
    deserializer.end().map_err(|e| {
        ApiError::bad_request(
            "malformed_json",
            format!("trailing characters after the JSON value: {e}"),
        )
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        amount: u64,
        items: Option<Vec<Item>>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        id: String,
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"amount": "x"}"#, "invalid_field", "amount"),
            (r#"{"amount": -5}"#, "invalid_field", "amount"),
            (r#"{"amount": 1.5}"#, "invalid_field", "amount"),
            (r#"{}"#, "invalid_field", "missing field `amount`"),
            (
                r#"{"amount": 1, "extra": 2}"#,
                "invalid_field",
                "unknown field `extra`",
            ),
            (
                r#"{"amount": 1, "items": [{"id": 5}]}"#,
                "invalid_field",
                "items[0].id",
            ),
            (r#"{"amount": 1"#, "malformed_json", "not valid JSON"),
            (r#"{"amount": 1} x"#, "malformed_json", "trailing"),
            ("", "malformed_json", "not valid JSON"),
            (r#" [1, null]"#, "invalid_field", "expected a JSON object"),
            (r#""1""#, "invalid_field", "request body"),
        ];
        for (body, code, mentions) in cases {
            let error = parse::<Sample>(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, code, "{body}: {}", error.message);
            assert!(
                error.message.contains(mentions),
                "{body}: {}",
                error.message
            );
        }
        assert_eq!(
            parse::<Sample>(br#"{"amount": 18446744073709551615}"#)
                .unwrap()
                .amount,
            u64::MAX
        );
    }
}
