//! The simulator's HTTP surface: the two bank gateways and the `/sim/` control API.

mod admin;
mod form_gateway;
mod json_gateway;

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;

use crate::bank::Bank;

/// Largest request body the gateways read.
const BODY_MAX_BYTES: usize = 64 * 1024;

pub fn router(bank: Arc<Bank>) -> Router {
    Router::new()
        .route(
            paycore_channels::form::GATEWAY_PATH,
            post(form_gateway::gateway),
        )
        .route("/json/v3/{*rest}", any(json_gateway::gateway))
        .route(
            "/sim/channels/{id}",
            get(admin::get_channel).put(admin::put_channel),
        )
        .route("/sim/channels/{id}/orders", get(admin::list_orders))
        .route(
            "/sim/channels/{id}/orders/{order_no}",
            get(admin::get_order),
        )
        .layer(axum::extract::DefaultBodyLimit::max(BODY_MAX_BYTES))
        .with_state(bank)
}

/// A response with a body, its content type and extra headers.
fn response(
    status: u16,
    content_type: &'static str,
    headers: &[(&'static str, String)],
    body: Vec<u8>,
) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder
        .body(Body::from(body))
        .expect("status and headers are valid")
}
