//! Adjustments (调账) with maker-checker (双人复核): operators propose, approve and reject
//! (operator role, or admin); everyone may read. The maker is the operator of the key that
//! proposed it; approvals are compared by operator, so a person's second key is still them.

mod render;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycore_adjustments::{NewAdjustment, Status};
use paycore_api::adjustments::{
    AdjustmentList, AdjustmentResponse, ApproveAdjustmentRequest, CreateAdjustmentRequest,
    RejectAdjustmentRequest,
};
use paycore_payment_service::AdjustmentQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::input;
use crate::json::{ApiJson, OptionalJson};
use crate::routes::pay::{created_or_replayed, limit};
use crate::routes::REPLAYED_HEADER;
use crate::state::AppState;

/// 200, marked when the call changed nothing (a retry).
fn ok_or_replayed(body: AdjustmentResponse, replayed: bool) -> Response {
    let mut response = (StatusCode::OK, Json(body)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

#[utoipa::path(post, path = "/v1/adjustments", tag = "adjustments", request_body = CreateAdjustmentRequest,
    description = "Proposes an adjustment (调账). It is posted in the ledger (kind `adjustment`) only when \
another person approves it — two other people above the server's dual-approval threshold — and expires \
if it waits longer than the server's TTL. The answer shows the amount in capital numerals (`amount_in_words`).",
    responses((status = 201, body = AdjustmentResponse), (status = 200, description = "a retry with the same content (header idempotent-replayed: true)", body = AdjustmentResponse),
        (status = 400, description = "invalid_field (e.g. no reason)", body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "id_conflict", body = ErrorBody),
        (status = 422, description = "the ledger's code for the accounts as they are: account_not_found, same_account, currency_mismatch, account_closed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateAdjustmentRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let new = NewAdjustment {
        id: request.id,
        debit_account: request.debit_account,
        credit_account: request.credit_account,
        amount: request.amount,
        currency: input::currency(&request.currency)?,
        reason: request.reason,
        evidence: request.evidence,
        exception_id: request.exception_id,
    };
    let (adjustment, created) = state
        .payments
        .create_adjustment(new, &principal.operator)
        .await?;
    Ok(created_or_replayed(
        render::adjustment(&adjustment, true),
        created,
    ))
}

#[utoipa::path(post, path = "/v1/adjustments/{id}/approve", tag = "adjustments", params(("id" = String, Path)),
    request_body = ApproveAdjustmentRequest,
    description = "Approves as the key's operator, who must not be the maker nor have approved it already. \
The last approval needed posts it in the ledger under `adjustment:<id>` (checked against the accounts as \
they are now); a retry by an approver of a posted adjustment answers it again and posts nothing.",
    responses((status = 200, description = "partially_approved or posted (a retry: header idempotent-replayed: true)", body = AdjustmentResponse),
        (status = 403, description = "maker_checker_violation", body = ErrorBody),
        (status = 404, description = "adjustment_not_found", body = ErrorBody),
        (status = 409, description = "adjustment_expired, adjustment_not_pending, posting_attempts_exhausted", body = ErrorBody),
        (status = 422, description = "the ledger refused the posting (insufficient_funds, account_closed, account_frozen…): it stays pending", body = ErrorBody),
        (status = 503, description = "engine_unavailable: the posting is finished by the sweep", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(request): OptionalJson<ApproveAdjustmentRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let (adjustment, replayed) = state
        .payments
        .approve_adjustment(&id, &principal.operator, request.comment)
        .await?;
    Ok(ok_or_replayed(
        render::adjustment(&adjustment, true),
        replayed,
    ))
}

#[utoipa::path(post, path = "/v1/adjustments/{id}/reject", tag = "adjustments", params(("id" = String, Path)),
    request_body = RejectAdjustmentRequest,
    responses((status = 200, description = "rejected (a retry: header idempotent-replayed: true)", body = AdjustmentResponse),
        (status = 400, description = "invalid_field: a reason is required", body = ErrorBody),
        (status = 404, description = "adjustment_not_found", body = ErrorBody),
        (status = 409, description = "adjustment_expired, adjustment_not_pending", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RejectAdjustmentRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let (adjustment, replayed) = state
        .payments
        .reject_adjustment(&id, &principal.operator, &request.reason)
        .await?;
    Ok(ok_or_replayed(
        render::adjustment(&adjustment, true),
        replayed,
    ))
}

#[utoipa::path(get, path = "/v1/adjustments/{id}", tag = "adjustments", params(("id" = String, Path)),
    responses((status = 200, description = "with its whole history", body = AdjustmentResponse), (status = 404, description = "adjustment_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<AdjustmentResponse>, ApiError> {
    principal.require(Need::Read)?;
    let adjustment = state.payments.adjustment(&id).await?;
    Ok(Json(render::adjustment(&adjustment, true)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// pending_approval, partially_approved, approved, posted, rejected or expired.
    pub status: Option<String>,
    /// Only those this operator proposed.
    pub maker: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<u64>,
    /// 1–1000 (default 100).
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/v1/adjustments", tag = "adjustments", params(ListQuery),
    responses((status = 200, description = "in creation order, without their history", body = AdjustmentList), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<AdjustmentList>, ApiError> {
    principal.require(Need::Read)?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(name) => Some(Status::from_name(name).ok_or_else(|| {
            let known: Vec<_> = Status::ALL.iter().map(|s| s.name()).collect();
            ApiError::bad_request(
                "invalid_field",
                format!(
                    "field `status`: {name:?} is not one of {}",
                    known.join(", ")
                ),
            )
        })?),
    };
    let limit = limit(query.limit);
    let page = state
        .payments
        .adjustments(AdjustmentQuery {
            status,
            maker: query.maker.filter(|m| !m.is_empty()),
            // Sequence numbers are stored as BIGINT: nothing comes after i64::MAX.
            after: query.after.unwrap_or(0).min(i64::MAX as u64),
            limit,
        })
        .await?;
    let next = (page.len() as u64 >= limit)
        .then(|| page.last().map(|(seq, _)| *seq))
        .flatten();
    Ok(Json(AdjustmentList {
        adjustments: page
            .iter()
            .map(|(_, a)| render::adjustment(a, false))
            .collect(),
        next,
    }))
}
