//! Lookups by an id that does not say which shard holds it (`GET /v1/transfers/{id}`, holds):
//! every shard is asked in turn and the first that knows the id answers. A transfer no shard
//! knows by its own id may be a cross-shard one: its intent in etcd while in flight, else its
//! steps (`xs:d:<id>` on the source shard, `xs:c:<id>` on the target…) tell its outcome.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycore_crossshard::{step_id, Intent, StepKind};
use serde_json::{json, Value};

use crate::answer::step_name;
use crate::routes::{pass, RouterState};
use crate::shards::{Answer, CallError, Request};

pub async fn every_shard(state: &RouterState, path: &str, request: &Request<'_>) -> Response {
    let transfer_id = path
        .strip_prefix("/v1/transfers/")
        .filter(|_| request.method == Method::GET);
    if let Some(view) = in_flight_view(state, transfer_id).await {
        return Json(view).into_response();
    }
    let shards = state.shards.topology().map().shards().to_vec();
    let mut not_found = None;
    let mut failed = None;
    for shard in &shards {
        match state.shards.call(shard, request).await {
            Ok(answer) if answer.status == StatusCode::NOT_FOUND => {
                not_found = Some((shard, answer))
            }
            Ok(answer) => return pass(shard, Ok(answer)),
            Err(e) => failed = Some((shard, e)),
        }
    }
    if let Some((shard, e)) = failed {
        return pass(shard, Err(e));
    }
    if let Some(id) = transfer_id {
        match cross_shard_view(state, id, request.authorization).await {
            Ok(Some(view)) => return Json(view).into_response(),
            Ok(None) => {}
            Err(e) => return pass(&shards[0], Err(e)),
        }
    }
    match not_found {
        Some((shard, answer)) => pass(shard, Ok(answer)),
        None => crate::routes::error(503, "no_shards", "the shard map is empty"),
    }
}

/// Where a step of transfer `id` is recorded, and its record.
async fn find_step(
    state: &RouterState,
    kind: StepKind,
    id: &str,
    authorization: Option<&str>,
) -> Result<Option<(String, Value)>, CallError> {
    let target = format!("/v1/transfers/{}", step_id(kind, id));
    let request = Request {
        method: Method::GET,
        target: &target,
        authorization,
        body: None,
        retry_sent: true,
    };
    for shard in state.shards.topology().map().shards() {
        let answer: Answer = state.shards.call(shard, &request).await?;
        if answer.status.is_success() {
            return Ok(Some((shard.clone(), answer.json())));
        }
    }
    Ok(None)
}

/// A cross-shard transfer in flight, from its intent in etcd: known even while a shard is
/// down.
async fn in_flight_view(state: &RouterState, id: Option<&str>) -> Option<Value> {
    let text = state.coordinator.intents().get(id?).await.ok()??;
    let intent = serde_json::from_str::<Intent>(&text).ok()?;
    let status = if intent.is_final() {
        intent.phase_name()
    } else {
        "in_flight"
    };
    Some(json!({
        "id": intent.id, "status": status,
        "debit_account": intent.debit_account, "credit_account": intent.credit_account,
        "amount": intent.amount, "currency": intent.currency,
        "cross_shard": {"source_shard": intent.source, "target_shard": intent.target, "phase": intent.phase_name()},
    }))
}

/// A finished cross-shard transfer, from its steps' records on the shards.
async fn cross_shard_view(
    state: &RouterState,
    id: &str,
    authorization: Option<&str>,
) -> Result<Option<Value>, CallError> {
    let Some((source, debit)) = find_step(state, StepKind::Debit, id, authorization).await? else {
        return Ok(None);
    };
    let mut steps = vec![step_view(StepKind::Debit, &source, &debit)];
    let mut status = "refused";
    let mut credit_account = Value::Null;
    let mut target = Value::Null;
    if posted(&debit) {
        status = "in_flight";
        if let Some((shard, credit)) = find_step(state, StepKind::Credit, id, authorization).await?
        {
            steps.push(step_view(StepKind::Credit, &shard, &credit));
            target = json!(shard);
            if posted(&credit) {
                status = "posted";
                credit_account = credit["credit_account"].clone();
            } else if let Some((shard, undo)) =
                find_step(state, StepKind::Compensate, id, authorization).await?
            {
                steps.push(step_view(StepKind::Compensate, &shard, &undo));
                status = if posted(&undo) {
                    "compensated"
                } else {
                    "compensation_refused"
                };
            }
        }
    }
    Ok(Some(json!({
        "id": id, "status": status,
        "debit_account": debit["debit_account"], "credit_account": credit_account,
        "amount": debit["amount"], "currency": debit["currency"],
        "cross_shard": {"source_shard": source, "target_shard": target, "steps": steps},
    })))
}

fn posted(record: &Value) -> bool {
    record["status"] == "posted"
}

fn step_view(kind: StepKind, shard: &str, record: &Value) -> Value {
    json!({"step": step_name(kind), "shard": shard, "id": record["id"], "status": record["status"],
        "debit_account": record["debit_account"], "credit_account": record["credit_account"], "timestamp": record["timestamp"]})
}
