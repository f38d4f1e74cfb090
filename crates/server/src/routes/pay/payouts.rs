//! Payouts (出款): start one, read one, list a merchant's, resend the current channel order,
//! reroute after a definitive failure. Every rule is in `paycore_payments::payout`.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use paycore_api::payments::{CreatePayoutRequest, PayoutList, PayoutResponse, RerouteRequest};
use paycore_payment_service::ServiceError;
use paycore_payments::{NewPayout, PayError};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created_or_replayed, limit, render};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::input;
use crate::json::{ApiJson, OptionalJson};
use crate::state::AppState;

#[utoipa::path(post, path = "/v1/payouts", tag = "payments",
    request_body = CreatePayoutRequest,
    responses((status = 201, description = "held on the merchant's account, then sent: status processing, succeeded (the hold captured to the channel's clearing account, kind withdrawal), failed (released) or unknown (kept held; asked again, never rerouted automatically)", body = PayoutResponse),
        (status = 200, description = "a retry of the same payout: as it is now", body = PayoutResponse),
        (status = 400, body = ErrorBody),
        (status = 404, description = "merchant_not_found, channel_not_found", body = ErrorBody),
        (status = 409, description = "id_conflict", body = ErrorBody),
        (status = 422, description = "insufficient_funds (or another refusal of the hold by the ledger: nothing was sent to any channel), no_channel_available, notify_url_not_allowed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreatePayoutRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let payout = NewPayout {
        id: request.id,
        merchant: request.merchant,
        amount: request.amount,
        currency: input::currency(&request.currency)?,
        bank_account: request.bank_account,
        channel: request.channel,
        notify_url: request.notify_url,
    };
    let (payout, created) = state.payments.payout(payout).await?;
    Ok(created_or_replayed(render::payout(&payout), created))
}

#[utoipa::path(get, path = "/v1/payouts/{id}", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = PayoutResponse), (status = 404, description = "payout_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<PayoutResponse>, ApiError> {
    principal.require(Need::Read)?;
    let payout = state
        .payments
        .payout_by_id(&id)
        .await?
        .ok_or(PayError::PayoutNotFound(id))
        .map_err(ServiceError::from)?;
    Ok(Json(render::payout(&payout)))
}

#[derive(Deserialize, IntoParams)]
pub struct PayoutQuery {
    pub merchant: String,
    /// The `next` of the previous page.
    pub before: Option<String>,
    /// 1–1000 (default 100).
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/v1/payouts", tag = "payments", params(PayoutQuery),
    responses((status = 200, description = "the merchant's payouts, newest first", body = PayoutList), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<PayoutQuery>,
) -> Result<Json<PayoutList>, ApiError> {
    principal.require(Need::Read)?;
    let before = query.before.as_deref().map(cursor).transpose()?;
    let limit = limit(query.limit);
    let payouts = state
        .payments
        .payouts_of(&query.merchant, before, limit)
        .await?;
    let next = match payouts.last() {
        Some(last) if payouts.len() as u64 == limit => {
            Some(format!("{}:{}", last.created_at, last.id))
        }
        _ => None,
    };
    Ok(Json(PayoutList {
        payouts: payouts.iter().map(render::payout).collect(),
        next,
    }))
}

/// `<created_at ms>:<id>`, as `next` wrote it.
fn cursor(text: &str) -> Result<(u64, String), ApiError> {
    let parsed = text
        .split_once(':')
        .and_then(|(at, id)| Some((at.parse::<u64>().ok()?, id)))
        .filter(|(at, id)| *at <= i64::MAX as u64 && !id.is_empty());
    match parsed {
        Some((at, id)) => Ok((at, id.to_owned())),
        None => Err(ApiError::bad_request(
            "invalid_field",
            "field `before`: the `next` of a previous page (<ms>:<id>)",
        )),
    }
}

#[utoipa::path(post, path = "/v1/payouts/{id}/resend", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, description = "the same channel order sent again (the bank is idempotent)", body = PayoutResponse),
        (status = 404, description = "payout_not_found", body = ErrorBody),
        (status = 409, description = "order_final (the outcome is known)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resend(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<PayoutResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    Ok(Json(render::payout(
        &state.payments.resend_payout(&id).await?,
    )))
}

#[utoipa::path(post, path = "/v1/payouts/{id}/reroute", tag = "payments", params(("id" = String, Path)),
    request_body(content = RerouteRequest, description = "optional"),
    responses((status = 200, description = "a new channel order number (another channel unless one is named), held again and sent", body = PayoutResponse),
        (status = 404, description = "payout_not_found, channel_not_found", body = ErrorBody),
        (status = 409, description = "payout_outcome_unknown (not definitively failed: it may have paid), payout_already_succeeded", body = ErrorBody),
        (status = 422, description = "no_channel_available, insufficient_funds", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reroute(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(request): OptionalJson<RerouteRequest>,
) -> Result<Json<PayoutResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    let payout = state.payments.reroute_payout(&id, request.channel).await?;
    Ok(Json(render::payout(&payout)))
}
