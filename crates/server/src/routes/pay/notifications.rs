//! Merchant notifications for operators: `GET /v1/notifications` (filtered by status,
//! merchant, order), `GET /v1/notifications/{event_id}` (with every attempt) and `POST
//! /v1/notifications/{event_id}/retry` (due now, also a dead one). The outbox and the
//! dispatcher live in the payment service and `paycore-notify`.

use axum::extract::State;
use axum::Json;
use paycore_api::notifications::{NotificationList, NotificationResponse};
use paycore_payment_service::{NotificationQuery, ServiceError};
use paycore_payment_store::repo::notifications::Status;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{limit, render};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `pending`, `delivered` or `dead`.
    pub status: Option<String>,
    /// One merchant's notifications.
    pub merchant: Option<String>,
    /// One order's (a trade id or a payout id), in `order_seq` order.
    pub order: Option<String>,
    /// Notifications after this event id (the last of the previous page).
    pub after: Option<String>,
    /// 1–1000 (default 100).
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", params(ListQuery),
    responses((status = 200, body = NotificationList), (status = 400, description = "invalid_status", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    principal.require(Need::Read)?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(name) => Some(Status::from_name(name).ok_or_else(|| {
            ApiError::bad_request("invalid_status", "status: pending, delivered or dead")
        })?),
    };
    let query = NotificationQuery {
        status,
        merchant: query.merchant.filter(|m| !m.is_empty()),
        order: query.order.filter(|o| !o.is_empty()),
        after: query.after.filter(|a| !a.is_empty()),
        limit: limit(query.limit),
    };
    let found = state.payments.notifications(query).await?;
    Ok(Json(NotificationList {
        notifications: found.iter().map(render::notification).collect(),
    }))
}

#[utoipa::path(get, path = "/v1/notifications/{event_id}", tag = "notifications", params(("event_id" = String, Path)),
    responses((status = 200, body = NotificationResponse), (status = 404, description = "notification_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(event_id): Path<String>,
) -> Result<Json<NotificationResponse>, ApiError> {
    principal.require(Need::Read)?;
    let found = state
        .payments
        .notification(&event_id)
        .await?
        .ok_or(ServiceError::NotificationNotFound(event_id))?;
    Ok(Json(render::notification(&found)))
}

#[utoipa::path(post, path = "/v1/notifications/{event_id}/retry", tag = "notifications", params(("event_id" = String, Path)),
    responses((status = 200, description = "due now (a dead one is pending again for one more attempt)", body = NotificationResponse),
        (status = 404, description = "notification_not_found", body = ErrorBody),
        (status = 409, description = "notification_delivered", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path(event_id): Path<String>,
) -> Result<Json<NotificationResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    let notification = state.payments.retry_notification(&event_id).await?;
    Ok(Json(render::notification(&notification)))
}
