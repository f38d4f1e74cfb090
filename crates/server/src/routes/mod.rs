//! Route handlers, one module per resource, and the helpers they share for submitting
//! commands and shaping replies.

pub mod accounting;
pub mod accounts;
pub mod adjustments;
pub mod dayend;
pub mod holds;
pub mod journal;
pub mod keys;
pub mod pay;
pub mod recon;
pub mod system;
pub mod transfers;
pub mod verify;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycore_ledger::{Command, Op, Outcome};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

/// Header set on answers to a retried request (same id, same content).
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Runs `query` off the async workers on a reading handle of its own (a long read such as
/// verify's scan holds one handle, not the store).
pub async fn with_store<T: Send + 'static>(
    state: &AppState,
    query: impl FnOnce(&mut dyn paycore_store::Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    state.store.read(query).await
}

pub async fn submit_one(
    state: &AppState,
    id: paycore_ledger::ClientId,
    op: Op,
) -> Result<Outcome, ApiError> {
    submit_command(state, Command::new(id, op, &state.engine.hasher())).await
}

/// Submits one command already built (and hashed) and waits for its outcome.
pub async fn submit_command(state: &AppState, command: Command) -> Result<Outcome, ApiError> {
    let mut outcomes = state.engine.submit(vec![command]).await?;
    outcomes
        .pop()
        .ok_or_else(|| ApiError::internal("the engine answered without an outcome"))
}

/// The response of a write: `status` and `body` for an accepted command, the command's
/// error otherwise; marked when it answers a retry.
pub fn decided<T: Serialize>(
    outcome: &Outcome,
    status: StatusCode,
    body: impl FnOnce() -> Option<T>,
) -> Response {
    let mut response = match outcome.result {
        Ok(()) => match body() {
            Some(body) => (status, Json(body)).into_response(),
            None => ApiError::internal("the accepted command's record is missing").into_response(),
        },
        Err(code) => ApiError::from(code).into_response(),
    };
    if outcome.replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}
