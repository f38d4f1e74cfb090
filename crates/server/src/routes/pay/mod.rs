//! The payment side's routes: merchants, channels, trades, payments, the callbacks banks
//! send, and the notifications paycore sends merchants. Handlers parse the wire format (`paycore_api::payments`), call the payment service
//! and render its answer; every rule lives in `paycore_payments`.

pub mod channels;
pub mod merchants;
pub mod notifications;
pub mod notify;
pub mod payments;
pub mod payouts;
pub mod refunds;
mod render;
pub mod trades;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::routes::REPLAYED_HEADER;

/// 201 for something created now; 200 and the replay header for a retry that found it.
pub fn created_or_replayed<T: Serialize>(body: T, created: bool) -> Response {
    if created {
        return (StatusCode::CREATED, Json(body)).into_response();
    }
    let mut response = (StatusCode::OK, Json(body)).into_response();
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

/// A list limit from a query, clamped.
pub fn limit(requested: Option<u64>) -> u64 {
    requested.unwrap_or(100).clamp(1, 1_000)
}
