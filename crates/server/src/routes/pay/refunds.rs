//! Refunds of a payment: create one, read it.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use paycore_api::payments::{CreateRefundRequest, RefundResponse};
use paycore_payments::{NewRefund, PayError};

use super::{created_or_replayed, render};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::json::ApiJson;
use crate::state::AppState;

#[utoipa::path(post, path = "/v1/payments/{id}/refunds", tag = "payments", params(("id" = String, Path)),
    request_body = CreateRefundRequest,
    responses((status = 201, description = "status processing, succeeded (posted in the ledger: merchant → channel clearing, kind refund), failed or unknown (asked again until the channel says)", body = RefundResponse),
        (status = 200, description = "a retry of the same refund: as it is now", body = RefundResponse),
        (status = 400, body = ErrorBody), (status = 404, description = "payment_not_found", body = ErrorBody),
        (status = 409, description = "id_conflict, payment_not_refundable (not succeeded)", body = ErrorBody),
        (status = 422, description = "refund_exceeds_payment", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(payment_id): Path<String>,
    ApiJson(request): ApiJson<CreateRefundRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let refund = NewRefund {
        id: request.id,
        amount: request.amount,
        reason: request.reason.unwrap_or_default(),
    };
    let (refund, created) = state.payments.refund(&payment_id, refund).await?;
    Ok(created_or_replayed(render::refund(&refund), created))
}

#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = RefundResponse), (status = 404, description = "refund_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<RefundResponse>, ApiError> {
    principal.require(Need::Read)?;
    let refund = state
        .payments
        .refund_by_id(&id)
        .await?
        .ok_or(PayError::RefundNotFound(id))
        .map_err(paycore_payment_service::ServiceError::from)?;
    Ok(Json(render::refund(&refund)))
}
