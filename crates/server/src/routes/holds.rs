//! Holds: freeze (冻结) an amount, release (解冻) all or part, capture (pay from frozen), and
//! an account's list of them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use paycore_ledger::{
    Capture, ClientId, Freeze, HoldId, HoldStatus, Ledger, Op, TransferKind, Unfreeze,
};
use paycore_store::HoldQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use super::journal::store_account;
use super::{decided, submit_one, with_store};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::input;
use crate::json::{ApiJson, OptionalJson};
use crate::render;
use crate::state::AppState;
use paycore_api::ledger::{
    CaptureRequest, CaptureResponse, HoldPage, HoldRequest, HoldResponse, ReleaseRequest,
};

const PAGE_DEFAULT: usize = 100;
const PAGE_MAX: usize = 1_000;

#[utoipa::path(post, path = "/v1/holds", tag = "holds", request_body = HoldRequest,
    responses((status = 201, body = HoldResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "id_conflict: the command id was used with different content", body = ErrorBody),
        (status = 422, description = "insufficient_funds, account_closed, invalid_expiry, currency_mismatch, amount_zero", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<HoldRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let op = Op::Freeze(Freeze {
        account: input::account_key(&request.account)?,
        amount: request.amount,
        currency: request
            .currency
            .as_deref()
            .map(input::currency)
            .transpose()?,
        expires_at: request
            .expires_at
            .as_ref()
            .map(input::instant)
            .transpose()?,
        reference: input::reference(request.reference.as_deref())?,
    });
    let id = input::command_id(&state.engine.hasher(), &request.id)?;
    let outcome = submit_one(&state, id, op).await?;
    Ok(decided(&outcome, StatusCode::CREATED, || {
        state.engine.read(|l| hold_of(l, &id))
    }))
}

fn hold_of(ledger: &Ledger, id: &ClientId) -> Option<HoldResponse> {
    let hold = ledger.hold(ledger.find_hold(id)?)?;
    Some(render::hold(ledger, hold))
}

#[utoipa::path(get, path = "/v1/holds/{id}", tag = "holds", params(("id" = String, Path)),
    responses((status = 200, body = HoldResponse), (status = 404, description = "hold_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(hold): Path<String>,
) -> Result<Json<HoldResponse>, ApiError> {
    principal.require(Need::Read)?;
    let id = input::client_id(&state.engine.hasher(), &hold)?;
    state
        .engine
        .read(|l| hold_of(l, &id))
        .map(Json)
        .ok_or_else(|| ApiError::from(paycore_ledger::ErrorCode::HoldNotFound))
}

#[utoipa::path(post, path = "/v1/holds/{id}/release", tag = "holds", params(("id" = String, Path)),
    request_body(content = ReleaseRequest, description = "optional"),
    responses((status = 200, body = HoldResponse), (status = 404, body = ErrorBody), (status = 409, description = "id_conflict: the command id was used with different content", body = ErrorBody), (status = 422, description = "hold_expired, hold_closed, hold_amount_exceeded", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn release(
    State(state): State<AppState>,
    principal: Principal,
    Path(hold): Path<String>,
    OptionalJson(request): OptionalJson<ReleaseRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let hasher = state.engine.hasher();
    let hold_id = input::client_id(&hasher, &hold)?;
    let id = command_id(request.id, "release", &hold, request.amount)?;
    let op = Op::Unfreeze(Unfreeze {
        hold: hold_id,
        amount: request.amount,
    });
    let outcome = submit_one(&state, input::command_id(&hasher, &id)?, op).await?;
    Ok(decided(&outcome, StatusCode::OK, || {
        state.engine.read(|l| hold_of(l, &hold_id))
    }))
}

#[utoipa::path(post, path = "/v1/holds/{id}/capture", tag = "holds", params(("id" = String, Path)), request_body = CaptureRequest,
    responses((status = 200, body = CaptureResponse), (status = 404, body = ErrorBody), (status = 409, description = "id_conflict: the command id was used with different content", body = ErrorBody), (status = 422, description = "hold_expired, hold_closed, hold_amount_exceeded, account_frozen", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn capture(
    State(state): State<AppState>,
    principal: Principal,
    Path(hold): Path<String>,
    ApiJson(request): ApiJson<CaptureRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let hasher = state.engine.hasher();
    let hold_id = input::client_id(&hasher, &hold)?;
    let id = command_id(request.id, "capture", &hold, request.amount)?;
    let op = Op::Capture(Capture {
        hold: hold_id,
        credit: input::account_key(&request.credit_account)?,
        amount: request.amount,
        kind: input::kind(request.kind.as_deref(), TransferKind::Payment)?,
        reference: input::reference(request.reference.as_deref())?,
    });
    let outcome = submit_one(&state, input::command_id(&hasher, &id)?, op).await?;
    Ok(decided(&outcome, StatusCode::OK, || {
        state.engine.read(|l| {
            let transfer = render::transfer(l, outcome.record?)?;
            Some(CaptureResponse {
                hold: hold_of(l, &hold_id)?,
                transfer,
            })
        })
    }))
}

/// The client's id, or a default: releasing or capturing everything can only happen once,
/// so `<action>:<hold>` is retry-safe; a partial amount without an id gets a fresh id.
fn command_id(
    given: Option<String>,
    action: &str,
    hold: &str,
    amount: Option<u64>,
) -> Result<String, ApiError> {
    match (given, amount) {
        (Some(id), _) => Ok(id),
        (None, None) => Ok(format!("{action}:{hold}")),
        (None, Some(_)) => input::unique_id(action),
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccountHoldsQuery {
    /// Only holds in this status: active, released, captured or expired.
    status: Option<String>,
    /// Continue after this position (the `next_after` of the previous page).
    after: Option<u64>,
    /// Page size, 1–1000 (default 100).
    limit: Option<usize>,
}

/// The store finds an account's holds (it keeps them indexed by account); the ledger renders
/// them, so a hold reads the same here as at `GET /v1/holds/{id}`, up to the moment.
#[utoipa::path(get, path = "/v1/accounts/{account_no}/holds", tag = "holds", params(("account_no" = String, Path), AccountHoldsQuery),
    responses((status = 200, description = "the account's holds in the order they were placed", body = HoldPage),
        (status = 400, description = "invalid_field (an unknown status)", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn of_account(
    State(state): State<AppState>,
    principal: Principal,
    Path(account_no): Path<String>,
    Query(q): Query<AccountHoldsQuery>,
) -> Result<Json<HoldPage>, ApiError> {
    principal.require(Need::Read)?;
    input::account_no(&account_no)?;
    let status = q.status.as_deref().map(hold_status).transpose()?;
    let limit = q.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX);
    let rows = with_store(&state, move |store| {
        let query = HoldQuery {
            account_id: store_account(store, &account_no)?,
            status: status.map(|s| s.name().to_owned()),
            after_hold: q.after,
            limit,
        };
        Ok(store.holds(&query)?)
    })
    .await?;
    let next_after = (rows.len() == limit)
        .then(|| rows.last().map(|h| h.hold_id))
        .flatten();
    let holds = state.engine.read(|l| {
        rows.iter()
            .filter_map(|row| u32::try_from(row.hold_id).ok())
            .filter_map(|id| l.hold(HoldId(id)).map(|hold| render::hold(l, hold)))
            .collect()
    });
    Ok(Json(HoldPage { holds, next_after }))
}

fn hold_status(name: &str) -> Result<HoldStatus, ApiError> {
    (0..=u8::MAX)
        .filter_map(HoldStatus::from_u8)
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_field",
                format!("status: {name:?} is not one of active, released, captured, expired"),
            )
        })
}
