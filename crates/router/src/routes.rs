//! The router's HTTP face: every request is routed (`routing.rs`) and passed to its shard's
//! leader as it came, except transfers between shards, which the coordinator posts, and the
//! router's own endpoints: `/healthz`, `GET /v1/shards` (the map and leaders) and
//! `GET /v1/shards/transit` (transit and due accounts across shards, `transit.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use paycore_api::ledger::TransferRequest;
use paycore_crossshard::{is_reserved_account, is_reserved_id, Intent};
use serde_json::{json, Value};

use crate::answer;
use crate::coordinator::{Coordinator, TransferError};
use crate::lookup;
use crate::routing::{route, Route};
use crate::shards::{Answer, CallError, Request as ShardRequest, Shards};
use crate::transit;

/// Bodies the router reads whole before routing (statement uploads are the largest).
const BODY_MAX: usize = 64 << 20;
const SHARD_HEADER: &str = "paycore-shard";

pub struct RouterState {
    pub shards: Shards,
    pub coordinator: Arc<Coordinator>,
    /// How long a cross-shard transfer may take before the answer is `202 in_flight`.
    pub transfer_wait: Duration,
}

pub fn app(state: Arc<RouterState>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(health))
        .route("/v1/shards", get(shards))
        .route("/v1/shards/transit", get(transit_report))
        .fallback(proxy)
        .with_state(state)
}

pub fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"error": {"code": code, "message": message.into()}});
    (status, Json(body)).into_response()
}

async fn health(State(state): State<Arc<RouterState>>) -> Response {
    match state.shards.topology().leaders().await {
        Ok(leaders) => {
            let shards: Vec<Value> = leaders
                .into_iter()
                .map(|(name, leader)| json!({"name": name, "leader": leader}))
                .collect();
            let driving = state.coordinator.driving.lock().unwrap().len();
            Json(json!({"status": "ok", "role": "router", "shards": shards, "cross_shard_in_flight_here": driving})).into_response()
        }
        Err(e) => error(503, "etcd_unavailable", e.to_string()),
    }
}

async fn shards(State(state): State<Arc<RouterState>>) -> Response {
    let map = state.shards.topology().map();
    let leaders = match state.shards.topology().leaders().await {
        Ok(leaders) => leaders,
        Err(e) => return error(503, "etcd_unavailable", e.to_string()),
    };
    let shards: Vec<Value> = leaders
        .into_iter()
        .map(|(name, leader)| {
            let default = map.default_shard() == Some(name.as_str());
            json!({"name": name, "leader": leader, "default": default})
        })
        .collect();
    let assignments: Vec<Value> = map
        .assignments()
        .iter()
        .map(|(prefix, shard)| json!({"prefix": prefix, "shard": shard}))
        .collect();
    Json(json!({"shards": shards, "assignments": assignments})).into_response()
}

async fn transit_report(State(state): State<Arc<RouterState>>) -> Response {
    match transit::report(&state.shards, &state.coordinator).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => error(503, "shard_unavailable", e),
    }
}

async fn proxy(State(state): State<Arc<RouterState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, BODY_MAX).await else {
        return error(
            413,
            "body_too_large",
            format!("bodies up to {BODY_MAX} bytes"),
        );
    };
    let path = parts.uri.path().to_owned();
    let target = parts
        .uri
        .path_and_query()
        .map_or(path.clone(), |p| p.as_str().to_owned());
    let header_of = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let (shard_header, authorization) = (
        header_of(SHARD_HEADER),
        header_of(header::AUTHORIZATION.as_str()),
    );
    let map = state.shards.topology().map();
    let method = parts.method;
    let routed = route(&method, &path, &body, shard_header, &map);
    // The request as the shard gets it, for the routes that pass it on.
    let forwarded = ShardRequest {
        retry_sent: method == Method::GET,
        method,
        target: &target,
        authorization,
        body: Some(body.clone()).filter(|b| !b.is_empty()),
    };
    match routed {
        Err(refused) => error(refused.status, refused.code, refused.message),
        Ok(Route::Shard(shard)) => {
            if shard_header.is_none() {
                if let Some(refused) = reserved(&forwarded.method, &path, &body) {
                    return refused;
                }
            }
            pass(&shard, state.shards.call(&shard, &forwarded).await)
        }
        Ok(Route::CrossShard { source, target }) => {
            cross_shard(&state, &body, authorization, (&source, &target)).await
        }
        Ok(Route::EveryShard) => lookup::every_shard(&state, &path, &forwarded).await,
    }
}

/// Refuses what only the coordinator may do: step ids and transit or due accounts.
fn reserved(method: &Method, path: &str, body: &Bytes) -> Option<Response> {
    if method == Method::GET {
        return None;
    }
    let named = path
        .strip_prefix("/v1/accounts/")
        .and_then(|rest| rest.split('/').next());
    if let Some(account) = named.filter(|a| is_reserved_account(a)) {
        return Some(error(400, "invalid_field", format!("{account} is a cross-shard transit or due account, changed only by the coordinator (an operator reaches it with header Paycore-Shard)")));
    }
    let body: Value = serde_json::from_slice(body).ok()?;
    let id = body["id"].as_str().unwrap_or_default();
    if path.starts_with("/v1/transfers") && is_reserved_id(id) {
        return Some(error(
            400,
            "invalid_field",
            format!(
                "field `id`: ids starting with `{}` are the steps of cross-shard transfers",
                paycore_crossshard::ID_PREFIX
            ),
        ));
    }
    let accounts = ["account_no", "account", "debit_account", "credit_account"];
    let touched = accounts
        .iter()
        .filter_map(|f| body[*f].as_str())
        .find(|a| is_reserved_account(a))?;
    Some(error(400, "invalid_field", format!("{touched} is a cross-shard transit or due account, moved only by the coordinator (an operator reaches it with header Paycore-Shard)")))
}

/// A shard's answer, as it came, naming the shard.
pub fn pass(shard: &str, answer: Result<Answer, CallError>) -> Response {
    match answer {
        Err(e @ CallError::NoLeader { .. }) => error(503, "no_leader", e.to_string()),
        Err(e @ CallError::Unanswered { .. }) => error(502, "shard_unanswered", e.to_string()),
        Ok(answer) => {
            let mut response = Response::new(Body::from(answer.body));
            *response.status_mut() = answer.status;
            for (name, value) in &answer.headers {
                if !matches!(
                    name.as_str(),
                    "connection" | "transfer-encoding" | "content-length"
                ) {
                    response.headers_mut().append(name.clone(), value.clone());
                }
            }
            if let Ok(value) = HeaderValue::from_str(shard) {
                response.headers_mut().insert(SHARD_HEADER, value);
            }
            response
        }
    }
}

async fn cross_shard(
    state: &RouterState,
    body: &Bytes,
    authorization: Option<&str>,
    (source, target): (&str, &str),
) -> Response {
    let request: TransferRequest = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => return error(400, "invalid_json", format!("the transfer: {e}")),
    };
    let Some(authorization) = authorization else {
        return error(
            401,
            "unauthorized",
            "send an API key: Authorization: Bearer <key>",
        );
    };
    let intent = Intent::new(
        &request.id,
        &request.debit_account,
        &request.credit_account,
        request.amount,
        &request.currency,
        request.kind.as_deref(),
        request.reference.as_deref(),
        (source, target),
    );
    let intent = match intent {
        Ok(intent) => intent,
        Err(e) => {
            return error(
                if e.code == "adjustment_requires_approval" {
                    403
                } else {
                    400
                },
                e.code,
                e.message,
            )
        }
    };
    let until = Instant::now() + state.transfer_wait;
    match state
        .coordinator
        .transfer(intent, authorization, until)
        .await
    {
        Ok(driven) => {
            let (status, body) = answer::render(&driven);
            (status, Json(body)).into_response()
        }
        Err(TransferError::Conflict(id)) => error(
            409,
            "id_conflict",
            format!("transfer {id} exists with different content"),
        ),
        Err(TransferError::Unauthorized { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED);
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Err(e @ TransferError::Etcd(_)) => error(503, "coordinator_unavailable", e.to_string()),
        Err(e @ TransferError::AuthorizationUnknown(_)) => error(503, "no_leader", e.to_string()),
    }
}
