//! Payments of a trade: start one, read it, resend its channel order, reroute it.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use paycore_api::payments::{CreatePaymentRequest, PaymentResponse, RerouteRequest};
use paycore_payment_service::PayRequest;
use paycore_payments::{Method, PayError};

use super::{created_or_replayed, render};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::json::{ApiJson, OptionalJson};
use crate::state::AppState;

#[utoipa::path(post, path = "/v1/trades/{trade_id}/payments", tag = "payments", params(("trade_id" = String, Path)),
    request_body = CreatePaymentRequest,
    responses((status = 201, description = "status processing, succeeded (posted in the ledger), failed or unknown (the channel did not answer in time: it is asked again until it does)", body = PaymentResponse),
        (status = 200, description = "a retry of the same payment: as it is now", body = PaymentResponse),
        (status = 400, body = ErrorBody), (status = 404, description = "trade_not_found, channel_not_found", body = ErrorBody),
        (status = 409, description = "id_conflict, trade_already_paid, trade_expired, trade_closed, payment_pending (a quick payment while an earlier one is in flight)", body = ErrorBody),
        (status = 422, description = "no_channel_available (the message names each channel's reason)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(trade_id): Path<String>,
    ApiJson(request): ApiJson<CreatePaymentRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let method = Method::from_name(&request.method)
        .filter(|m| *m != Method::Payout)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_field",
                "field `method`: quickpay, netbank, balance or combined",
            )
        })?;
    let pay = PayRequest {
        id: request.id,
        method,
        channel: request.channel,
        payer_account: request.payer_account,
        balance_amount: request.balance_amount,
    };
    let (payment, created) = state.payments.pay(&trade_id, pay).await?;
    Ok(created_or_replayed(render::payment(&payment), created))
}

#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = PaymentResponse), (status = 404, description = "payment_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<PaymentResponse>, ApiError> {
    principal.require(Need::Read)?;
    let payment = state
        .payments
        .payment(&id)
        .await?
        .ok_or(PayError::PaymentNotFound(id))
        .map_err(paycore_payment_service::ServiceError::from)?;
    Ok(Json(render::payment(&payment)))
}

#[utoipa::path(post, path = "/v1/payments/{id}/resend", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, description = "sent again on the same channel under the same channel order number", body = PaymentResponse),
        (status = 404, description = "payment_not_found", body = ErrorBody), (status = 409, description = "payment_final", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resend(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<PaymentResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    Ok(Json(render::payment(&state.payments.resend(&id).await?)))
}

#[utoipa::path(post, path = "/v1/payments/{id}/reroute", tag = "payments", params(("id" = String, Path)),
    request_body(content = RerouteRequest, description = "optional"),
    responses((status = 200, description = "a new channel order number on another channel", body = PaymentResponse),
        (status = 404, description = "payment_not_found", body = ErrorBody),
        (status = 409, description = "payment_outcome_unknown (not definitively failed yet), payment_already_succeeded, trade_expired", body = ErrorBody),
        (status = 422, description = "no_channel_available", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reroute(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(request): OptionalJson<RerouteRequest>,
) -> Result<Json<PaymentResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    let payment = state.payments.reroute(&id, request.channel).await?;
    Ok(Json(render::payment(&payment)))
}
