//! The `/sim/` control API (unsigned: it is the test harness's, not a bank's): set and show a
//! channel's behaviour, and show what the bank recorded — the truth tests compare against.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use paycore_channels::{valid_order_no, OrderKind};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::response;
use crate::bank::Bank;
use crate::config::{ChannelConfig, ConfigBody};
use crate::order::Visible;
use crate::state::ListFilter;

/// Orders a list shows unless told otherwise, and at most.
const LIST_DEFAULT: usize = 100;
const LIST_MAX: usize = 1000;

fn json<T: Serialize>(status: u16, value: &T) -> Response {
    let body = serde_json::to_vec(value).expect("views serialize");
    response(status, "application/json", &[], body)
}

fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "code": code, "message": message.into() });
    json(status, &body)
}

pub async fn put_channel(
    State(bank): State<Arc<Bank>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if !valid_order_no(&id) {
        return error(400, "invalid_channel_id", "1 to 64 of A-Z a-z 0-9 _ -");
    }
    let config = serde_json::from_slice::<ConfigBody>(&body)
        .map_err(|e| e.to_string())
        .and_then(ChannelConfig::from_body);
    match config {
        Ok(config) => {
            let view = config.view(&id);
            let created = bank.configure(&id, config);
            tracing::info!(channel = %id, protocol = view.protocol, created, "channel configured");
            json(if created { 201 } else { 200 }, &view)
        }
        Err(message) => error(400, "invalid_config", message),
    }
}

pub async fn get_channel(State(bank): State<Arc<Bank>>, Path(id): Path<String>) -> Response {
    match bank.channel(&id) {
        Some(channel) => json(200, &channel.state.lock().config.view(&id)),
        None => error(404, "channel_not_found", format!("no channel {id}")),
    }
}

pub async fn get_order(
    State(bank): State<Arc<Bank>>,
    Path((id, order_no)): Path<(String, String)>,
) -> Response {
    let Some(channel) = bank.channel(&id) else {
        return error(404, "channel_not_found", format!("no channel {id}"));
    };
    let view = channel
        .state
        .lock()
        .order(&order_no)
        .map(|order| order.view(Instant::now()));
    match view {
        Some(view) => json(200, &view),
        None => error(404, "order_not_found", format!("no order {order_no}")),
    }
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    kind: Option<String>,
    status: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

pub async fn list_orders(
    State(bank): State<Arc<Bank>>,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    let Some(channel) = bank.channel(&id) else {
        return error(404, "channel_not_found", format!("no channel {id}"));
    };
    let filter = match filter(params) {
        Ok(filter) => filter,
        Err(message) => return error(400, "invalid_query", message),
    };
    let (orders, next_after) = channel.state.lock().list(&filter, Instant::now());
    json(
        200,
        &serde_json::json!({ "orders": orders, "next_after": next_after }),
    )
}

fn filter(params: ListParams) -> Result<ListFilter, String> {
    let kind = match params.kind.as_deref() {
        None | Some("") => None,
        Some(name) => Some(OrderKind::from_name(name).ok_or("kind must be pay, refund or payout")?),
    };
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some(name) => {
            Some(Visible::from_name(name).ok_or("status must be succeeded, failed or processing")?)
        }
    };
    let limit = params.limit.unwrap_or(LIST_DEFAULT);
    if limit == 0 || limit > LIST_MAX {
        return Err(format!("limit must be 1 to {LIST_MAX}"));
    }
    Ok(ListFilter {
        kind,
        status,
        after: params.after.filter(|a| !a.is_empty()),
        limit,
    })
}
