//! Channels (admin adds and changes them; everyone may read them with their counters).

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use paycore_api::payments::{
    ChannelList, ChannelResponse, CreateChannelRequest, PatchChannelRequest,
};
use paycore_payments::{ChannelPatch, Method, NewChannel};

use super::{created_or_replayed, render};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::input;
use crate::json::ApiJson;
use crate::state::AppState;

fn methods(names: &[String]) -> Result<Vec<Method>, ApiError> {
    names
        .iter()
        .map(|n| {
            Method::from_name(n).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_field",
                    format!("field `methods`: {n:?} is not quickpay, netbank or payout"),
                )
            })
        })
        .collect()
}

#[utoipa::path(post, path = "/v1/channels", tag = "payments", request_body = CreateChannelRequest,
    responses((status = 201, body = ChannelResponse), (status = 200, description = "a retry with the same content", body = ChannelResponse),
        (status = 400, body = ErrorBody), (status = 409, description = "id_conflict", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateChannelRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::Admin)?;
    let currencies = request
        .currencies
        .iter()
        .map(|c| input::currency(c))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewChannel {
        id: request.id,
        protocol: request.protocol,
        endpoint: request.endpoint,
        secret: request.secret,
        methods: methods(&request.methods)?,
        currencies,
        min_amount: request.min_amount,
        max_amount: request.max_amount,
        weight: request.weight.unwrap_or(100),
        rate_limit_per_s: request.rate_limit_per_s,
        enabled: request.enabled.unwrap_or(true),
    };
    let (view, created) = state.payments.add_channel(new).await?;
    Ok(created_or_replayed(render::channel(&view), created))
}

#[utoipa::path(patch, path = "/v1/channels/{id}", tag = "payments", params(("id" = String, Path)), request_body = PatchChannelRequest,
    responses((status = 200, body = ChannelResponse), (status = 400, body = ErrorBody), (status = 404, description = "channel_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<PatchChannelRequest>,
) -> Result<Json<ChannelResponse>, ApiError> {
    principal.require(Need::Admin)?;
    let patch = ChannelPatch {
        weight: request.weight,
        enabled: request.enabled,
        min_amount: request.min_amount,
        max_amount: request.max_amount,
        rate_limit_per_s: request.rate_limit_per_s,
    };
    let view = state.payments.patch_channel(&id, patch).await?;
    Ok(Json(render::channel(&view)))
}

#[utoipa::path(get, path = "/v1/channels/{id}", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = ChannelResponse), (status = 404, description = "channel_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<ChannelResponse>, ApiError> {
    principal.require(Need::Read)?;
    Ok(Json(render::channel(&state.payments.channel(&id).await?)))
}

#[utoipa::path(get, path = "/v1/channels", tag = "payments",
    responses((status = 200, body = ChannelList)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ChannelList>, ApiError> {
    principal.require(Need::Read)?;
    let views = state.payments.channels().await?;
    Ok(Json(ChannelList {
        channels: views.iter().map(render::channel).collect(),
    }))
}
