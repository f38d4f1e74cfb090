//! Merchants (admin creates; everyone may read); a merchant's notification secret is shown
//! once, at creation, and again only as a new one by `POST /v1/merchants/{id}/secret/rotate`.

use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use paycore_api::notifications::{RotateSecretRequest, RotateSecretResponse};
use paycore_api::payments::{CreateMerchantRequest, MerchantResponse};
use paycore_payments::{NewMerchant, PayError};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created_or_replayed, limit, render};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::input;
use crate::json::{ApiJson, OptionalJson};
use crate::state::AppState;

#[utoipa::path(post, path = "/v1/merchants", tag = "payments", request_body = CreateMerchantRequest,
    responses((status = 201, body = MerchantResponse), (status = 200, description = "a retry with the same content", body = MerchantResponse),
        (status = 400, body = ErrorBody), (status = 409, description = "id_conflict", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateMerchantRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::Admin)?;
    let currency = match &request.currency {
        Some(code) => input::currency(code)?,
        None => state.default_currency(),
    };
    let new = NewMerchant {
        id: request.id,
        name: request.name,
        callback_hosts: request.callback_hosts,
        fee_rate_bp: request.fee_rate_bp.unwrap_or(0),
        currency,
    };
    let (merchant, secret) = state.payments.create_merchant(new).await?;
    let created = secret.is_some();
    let mut body = render::merchant(&merchant);
    body.notify_secret = secret.map(|s| s.expose().to_owned());
    Ok(created_or_replayed(body, created))
}

#[utoipa::path(post, path = "/v1/merchants/{id}/secret/rotate", tag = "notifications", params(("id" = String, Path)),
    request_body(content = Option<RotateSecretRequest>, description = "optional; an empty body takes the default grace period"),
    responses((status = 200, description = "the new secret, shown only here; the previous one keeps signing until `previous_retires_at`", body = RotateSecretResponse),
        (status = 400, body = ErrorBody), (status = 404, description = "merchant_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    OptionalJson(request): OptionalJson<RotateSecretRequest>,
) -> Result<Json<RotateSecretResponse>, ApiError> {
    principal.require(Need::Admin)?;
    let grace = request.grace_period_s.map(Duration::from_secs);
    let rotated = state.payments.rotate_secret(&id, grace).await?;
    Ok(Json(RotateSecretResponse {
        merchant: rotated.merchant,
        notify_secret: rotated.secret.expose().to_owned(),
        version: rotated.version,
        previous_retires_at: rotated.previous_retires_at.map(render::time),
    }))
}

#[utoipa::path(get, path = "/v1/merchants/{id}", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = MerchantResponse), (status = 404, description = "merchant_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<MerchantResponse>, ApiError> {
    principal.require(Need::Read)?;
    let merchant = state
        .payments
        .merchant(&id)
        .await?
        .ok_or(PayError::MerchantNotFound(id))
        .map_err(paycore_payment_service::ServiceError::from)?;
    Ok(Json(render::merchant(&merchant)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Merchants with ids after this one.
    pub after: Option<String>,
    /// 1–1000 (default 100).
    pub limit: Option<u64>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MerchantList {
    pub merchants: Vec<MerchantResponse>,
}

#[utoipa::path(get, path = "/v1/merchants", tag = "payments", params(ListQuery),
    responses((status = 200, body = MerchantList)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<MerchantList>, ApiError> {
    principal.require(Need::Read)?;
    let after = query.after.unwrap_or_default();
    let merchants = state.payments.merchants(&after, limit(query.limit)).await?;
    Ok(Json(MerchantList {
        merchants: merchants.iter().map(render::merchant).collect(),
    }))
}
