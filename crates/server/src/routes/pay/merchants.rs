//! Merchants (admin creates; everyone may read).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use paycore_api::payments::{CreateMerchantRequest, MerchantResponse};
use paycore_payments::{NewMerchant, PayError};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created_or_replayed, limit, render};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::input;
use crate::json::ApiJson;
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
    let (merchant, created) = state.payments.create_merchant(new).await?;
    Ok(created_or_replayed(render::merchant(&merchant), created))
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
