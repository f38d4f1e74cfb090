//! Trades: created by operators (a retry returns the same trade), read with their payments.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use paycore_api::payments::{CreateTradeRequest, TradeList, TradeResponse};
use paycore_payments::NewTrade;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created_or_replayed, limit, render};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::input;
use crate::json::ApiJson;
use crate::state::AppState;

#[utoipa::path(post, path = "/v1/trades", tag = "payments", request_body = CreateTradeRequest,
    responses((status = 201, body = TradeResponse), (status = 200, description = "the same request again: the same trade", body = TradeResponse),
        (status = 400, body = ErrorBody), (status = 404, description = "merchant_not_found", body = ErrorBody),
        (status = 409, description = "id_conflict: the merchant order number was used with other content", body = ErrorBody),
        (status = 422, description = "notify_url_not_allowed, currency_mismatch", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateTradeRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let new = NewTrade {
        merchant: request.merchant,
        merchant_order_no: request.merchant_order_no,
        amount: request.amount,
        currency: input::currency(&request.currency)?,
        subject: request.subject.unwrap_or_default(),
        notify_url: request.notify_url,
        expires_in_s: request.expires_in_s,
    };
    let (trade, created) = state.payments.create_trade(new).await?;
    Ok(created_or_replayed(render::trade(&trade, &[]), created))
}

#[utoipa::path(get, path = "/v1/trades/{trade_id}", tag = "payments", params(("trade_id" = String, Path)),
    responses((status = 200, body = TradeResponse), (status = 404, description = "trade_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(trade_id): Path<String>,
) -> Result<Json<TradeResponse>, ApiError> {
    principal.require(Need::Read)?;
    Ok(Json(render::trade_view(
        &state.payments.trade(&trade_id).await?,
    )))
}

#[utoipa::path(post, path = "/v1/trades/{trade_id}/close", tag = "payments", params(("trade_id" = String, Path)),
    responses((status = 200, description = "closed: it takes no more payments (a success that still arrives is refunded, reason trade_closed)", body = TradeResponse),
        (status = 404, description = "trade_not_found", body = ErrorBody),
        (status = 409, description = "payment_pending (a payment is in flight), trade_already_paid", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close(
    State(state): State<AppState>,
    principal: Principal,
    Path(trade_id): Path<String>,
) -> Result<Json<TradeResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    Ok(Json(render::trade_view(
        &state.payments.close_trade(&trade_id).await?,
    )))
}

#[derive(Deserialize, IntoParams)]
pub struct TradeQuery {
    /// Required unless `channel_order_no` is given.
    pub merchant: Option<String>,
    /// The merchant's order number: answers with that one trade (`trades` holds it).
    pub merchant_order_no: Option<String>,
    /// A channel order number (of any of the trade's payments): answers with that one trade.
    pub channel_order_no: Option<String>,
    /// Trades with ids after this one.
    pub after: Option<String>,
    /// 1–1000 (default 100).
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/v1/trades", tag = "payments", params(TradeQuery),
    responses((status = 200, body = TradeList),
        (status = 400, description = "invalid_field: merchant is required without channel_order_no", body = ErrorBody),
        (status = 404, description = "trade_not_found (with merchant_order_no or channel_order_no)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn find(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<TradeQuery>,
) -> Result<Json<TradeList>, ApiError> {
    principal.require(Need::Read)?;
    if let Some(order_no) = &query.channel_order_no {
        let view = state.payments.trade_of_channel_order(order_no).await?;
        return Ok(Json(TradeList {
            trades: vec![render::trade_view(&view)],
        }));
    }
    let merchant = query.merchant.as_deref().ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            "field `merchant`: required without channel_order_no",
        )
    })?;
    let trades = match &query.merchant_order_no {
        Some(order_no) => {
            let view = state.payments.find_trade(merchant, order_no).await?;
            vec![render::trade_view(&view)]
        }
        None => {
            let after = query.after.clone().unwrap_or_default();
            let trades = state
                .payments
                .trades(merchant, &after, limit(query.limit))
                .await?;
            trades.iter().map(|t| render::trade(t, &[])).collect()
        }
    };
    Ok(Json(TradeList { trades }))
}
