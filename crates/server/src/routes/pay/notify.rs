//! `POST /v1/channels/{id}/notify`: callbacks from banks. No API key — the channel's
//! signature authenticates it (a bad one is refused with 401 `bad_signature` and logged).
//! The answer is what the channel's protocol expects (`success`, or an HTTP 200), given only
//! once the callback's effect is durable.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::state::AppState;

#[utoipa::path(post, path = "/v1/channels/{id}/notify", tag = "payments", params(("id" = String, Path)),
    request_body(content = String, description = "the channel's signed callback (form or JSON)"),
    responses((status = 200, description = "acknowledged in the channel's own terms"),
        (status = 401, description = "bad_signature", body = ErrorBody), (status = 404, description = "channel_not_found", body = ErrorBody)))]
pub async fn notify(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ack = state
        .payments
        .channel_callback(&channel, &headers, &body)
        .await?;
    let status = StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK);
    let mut response = (status, ack.body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(ack.content_type),
    );
    Ok(response)
}
