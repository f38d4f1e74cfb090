//! Reconciliation (对账): import a statement (uploaded, or fetched through the channel) and
//! run it, read runs, list and resolve exceptions (差错), the day's report. Every rule is in
//! `paycore_recon`; the payment service drives it.

mod render;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use paycore_api::recon::{
    CreateRunRequest, ExceptionList, ExceptionResponse, ImportResponse, ReportCell, ReportResponse,
    ResolveRequest, RunList, RunResponse,
};
use paycore_payment_service::{ExceptionQuery, Resolution};
use paycore_recon::{Action, ReconError};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::json::ApiJson;
use crate::routes::pay::{created_or_replayed, limit};
use crate::state::AppState;

/// Largest statement accepted in one upload. Streamed to a spool file, never held in memory:
/// a channel's day can be ten million lines.
pub const STATEMENT_BYTES_MAX: u64 = 8 << 30;

#[derive(Deserialize, IntoParams)]
pub struct StatementQuery {
    pub channel: String,
    /// `YYYY-MM-DD` (Beijing time).
    pub date: String,
    /// wechat, alipay or csv.
    pub format: String,
}

#[utoipa::path(post, path = "/v1/recon/statements", tag = "reconciliation", params(StatementQuery),
    request_body(content = String, description = "the statement file as the channel sent it", content_type = "application/octet-stream"),
    responses((status = 201, description = "imported and reconciled", body = ImportResponse),
        (status = 200, description = "the same file again: its statement and run as they are", body = ImportResponse),
        (status = 400, description = "invalid_field (date, format)", body = ErrorBody),
        (status = 404, description = "channel_not_found", body = ErrorBody),
        (status = 422, description = "invalid_statement: the line and reason; nothing imported", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<StatementQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let payments = &state.payments;
    let file = spool(payments, body).await?;
    let imported = payments
        .import_statement_file(&query.channel, &query.date, &query.format, file, "upload")
        .await?;
    let (run, ran) = payments.reconcile(&imported.statement).await?;
    let body = ImportResponse {
        statement: render::statement(&imported.statement),
        run: render::run(&run),
    };
    Ok(created_or_replayed(body, imported.created || ran))
}

/// Streams an upload into an anonymous spool file.
async fn spool(
    payments: &paycore_payment_service::PaymentService,
    body: Body,
) -> Result<std::fs::File, ApiError> {
    use http_body_util::BodyExt;
    use tokio::io::AsyncWriteExt;
    let spool_failed = |e: std::io::Error| {
        tracing::error!(error = %e, "spooling a statement failed");
        ApiError::internal(format!("spooling the statement: {e}"))
    };
    let file = payments.statement_spool().map_err(spool_failed)?;
    let mut file = tokio::fs::File::from_std(file);
    let (mut body, mut written) = (body, 0u64);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("reading the statement: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        written += data.len() as u64;
        if written > STATEMENT_BYTES_MAX {
            return Err(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("a statement is at most {STATEMENT_BYTES_MAX} bytes"),
            ));
        }
        file.write_all(&data).await.map_err(spool_failed)?;
    }
    file.flush().await.map_err(spool_failed)?;
    Ok(file.into_std().await)
}

#[utoipa::path(post, path = "/v1/recon/runs", tag = "reconciliation", request_body = CreateRunRequest,
    responses((status = 201, description = "the statement fetched through the channel, imported and reconciled", body = RunResponse),
        (status = 200, description = "the same statement again: its run", body = RunResponse),
        (status = 400, body = ErrorBody), (status = 404, description = "channel_not_found", body = ErrorBody),
        (status = 422, description = "invalid_statement", body = ErrorBody),
        (status = 503, description = "the channel did not serve its statement", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_run(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateRunRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let payments = &state.payments;
    let imported = payments
        .fetch_statement(
            &request.channel,
            &request.date,
            request.format.as_deref().unwrap_or("csv"),
        )
        .await?;
    let (run, ran) = payments.reconcile(&imported.statement).await?;
    Ok(created_or_replayed(
        render::run(&run),
        imported.created || ran,
    ))
}

#[utoipa::path(get, path = "/v1/recon/runs/{id}", tag = "reconciliation", params(("id" = String, Path)),
    responses((status = 200, body = RunResponse), (status = 404, description = "run_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<RunResponse>, ApiError> {
    principal.require(Need::Read)?;
    Ok(Json(render::run(&state.payments.recon_run(&id).await?)))
}

#[derive(Deserialize, IntoParams)]
pub struct RunQuery {
    /// Runs of this channel (default: all).
    pub channel: Option<String>,
    /// 1–1000 (default 100).
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/v1/recon/runs", tag = "reconciliation", params(RunQuery),
    responses((status = 200, description = "newest day first", body = RunList)),
    security(("bearer" = [])))]
pub async fn list_runs(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<RunQuery>,
) -> Result<Json<RunList>, ApiError> {
    principal.require(Need::Read)?;
    let channel = query.channel.unwrap_or_default();
    let runs = state
        .payments
        .recon_runs(&channel, limit(query.limit))
        .await?;
    Ok(Json(RunList {
        runs: runs.iter().map(render::run).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct ExceptionParams {
    /// open, resolving or closed.
    pub status: Option<String>,
    /// Of this run.
    pub run: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<u64>,
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/v1/recon/exceptions", tag = "reconciliation", params(ExceptionParams),
    responses((status = 200, description = "oldest first", body = ExceptionList), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_exceptions(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ExceptionParams>,
) -> Result<Json<ExceptionList>, ApiError> {
    principal.require(Need::Read)?;
    let status = params.status.unwrap_or_default();
    if !status.is_empty() && paycore_recon::ExceptionStatus::from_name(&status).is_none() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "field `status`: open, resolving or closed",
        ));
    }
    let limit = limit(params.limit);
    let query = ExceptionQuery {
        status,
        run_id: params.run.unwrap_or_default(),
        after: params.after.unwrap_or(0).min(i64::MAX as u64),
        limit,
    };
    let page = state.payments.exceptions(query).await?;
    let next = match page.last() {
        Some((_, seq)) if page.len() as u64 == limit => Some(*seq),
        _ => None,
    };
    Ok(Json(ExceptionList {
        exceptions: page.iter().map(|(e, _)| render::exception(e)).collect(),
        next,
    }))
}

#[utoipa::path(get, path = "/v1/recon/exceptions/{id}", tag = "reconciliation", params(("id" = String, Path)),
    responses((status = 200, body = ExceptionResponse), (status = 404, description = "exception_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show_exception(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<ExceptionResponse>, ApiError> {
    principal.require(Need::Read)?;
    Ok(Json(render::exception(
        &state.payments.exception(&id).await?,
    )))
}

#[utoipa::path(post, path = "/v1/recon/exceptions/{id}/resolve", tag = "reconciliation", params(("id" = String, Path)),
    request_body = ResolveRequest,
    responses((status = 200, description = "accept: closed; supplement / write_off: resolving until its adjustment (proposed by this operator, approved by another) is posted", body = ExceptionResponse),
        (status = 400, description = "invalid_field (action, reason)", body = ErrorBody),
        (status = 404, description = "exception_not_found", body = ErrorBody),
        (status = 409, description = "exception_closed (not open), action_not_applicable (refund is not built yet; supplement only for money the channel has, write_off only for money it lacks)", body = ErrorBody),
        (status = 422, description = "the ledger refused the adjustment's accounts", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resolve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> Result<Json<ExceptionResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    let action = Action::from_name(&request.action).ok_or_else(|| {
        ApiError::from(paycore_payment_service::ServiceError::Recon(
            ReconError::invalid("action", "refund, supplement, accept or write_off"),
        ))
    })?;
    let resolution = Resolution {
        action,
        reason: request.reason,
        debit_account: request.debit_account,
        credit_account: request.credit_account,
    };
    let exception = state
        .payments
        .resolve_exception(&id, resolution, &principal.operator)
        .await?;
    Ok(Json(render::exception(&exception)))
}

#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    pub channel: String,
    /// `YYYY-MM-DD`.
    pub date: String,
}

#[utoipa::path(get, path = "/v1/recon/report", tag = "reconciliation", params(ReportQuery),
    responses((status = 200, description = "the day's runs of the channel, and their exceptions by kind and status", body = ReportResponse),
        (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ReportQuery>,
) -> Result<Json<ReportResponse>, ApiError> {
    principal.require(Need::Read)?;
    let (runs, exceptions) = state
        .payments
        .recon_report(&query.channel, &query.date)
        .await?;
    let mut cells: BTreeMap<String, BTreeMap<String, ReportCell>> = BTreeMap::new();
    for e in &exceptions {
        let cell = cells
            .entry(e.kind.name().to_owned())
            .or_default()
            .entry(e.status.name().to_owned())
            .or_default();
        cell.count += 1;
        cell.amount = cell.amount.saturating_add(e.amount);
    }
    Ok(Json(ReportResponse {
        channel: query.channel,
        date: query.date,
        runs: runs.iter().map(render::run).collect(),
        exceptions: cells,
    }))
}
