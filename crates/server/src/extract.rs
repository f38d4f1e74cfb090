//! `Query` and `Path`: axum's extractors with the API's error shape. axum answers a query
//! string or path segment it cannot read with a plain-text 400; these answer 400
//! `invalid_field` in JSON, naming the parameter, like the body extractor (`json.rs`) does.
//! Handlers import them instead of axum's.

use axum::extract::{FromRequestParts, Query as AxumQuery};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The query string, deserialized; unknown, missing and ill-typed parameters are
/// `400 invalid_field`.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        AxumQuery::<T>::from_request_parts(parts, state)
            .await
            .map(|AxumQuery(value)| Query(value))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let why = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                ApiError::bad_request("invalid_field", format!("query parameter {why}"))
            })
    }
}

/// The path's parameters, deserialized; a segment that does not fit is `400 invalid_field`.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                // A route whose handler asks for parameters it does not have is our bug.
                if rejection.status().is_server_error() {
                    return ApiError::internal(rejection.body_text());
                }
                ApiError::bad_request(
                    "invalid_field",
                    format!("path parameter: {}", rejection.body_text()),
                )
            })
    }
}
