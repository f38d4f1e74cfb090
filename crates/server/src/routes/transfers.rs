//! Money movements: transfers (single and batch), deposits, withdrawals, and lookups.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use paycore_ledger::{
    AccountKey, Command, ErrorCode, IdHasher, Op, Outcome, Transfer, TransferKind,
    BATCH_COMMANDS_MAX,
};

use super::{decided, submit_command, submit_one};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::extract::Path;
use crate::input;
use crate::json::ApiJson;
use crate::render;
use crate::state::AppState;
use paycore_api::ledger::{
    BatchItemResult, BatchRequest, BatchResponse, DepositRequest, TransferRequest, TransferResponse,
};

#[utoipa::path(post, path = "/v1/transfers", tag = "transfers", request_body = TransferRequest,
    responses(
        (status = 201, description = "posted (a retry answers the same, with header idempotent-replayed: true)", body = TransferResponse),
        (status = 400, body = ErrorBody), (status = 404, description = "account_not_found", body = ErrorBody),
        (status = 409, description = "id_conflict", body = ErrorBody),
        (status = 403, description = "adjustment_requires_approval: kind `adjustment` is posted only through /v1/adjustments", body = ErrorBody),
        (status = 422, description = "insufficient_funds, currency_mismatch, account_closed, account_frozen, same_account, amount_zero, amount_overflow", body = ErrorBody),
        (status = 503, description = "engine_unavailable, storage_error", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<TransferRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let command = transfer_command(&state.engine.hasher(), &request)?;
    let outcome = submit_command(&state, command).await?;
    Ok(transfer_response(&state, &outcome))
}

fn transfer_command(hasher: &IdHasher, request: &TransferRequest) -> Result<Command, ApiError> {
    let op = Op::Transfer(Transfer {
        debit: input::account_key(&request.debit_account)?,
        credit: input::account_key(&request.credit_account)?,
        amount: request.amount,
        currency: input::currency(&request.currency)?,
        kind: input::kind(request.kind.as_deref(), TransferKind::Transfer)?,
        reference: input::reference(request.reference.as_deref())?,
    });
    Ok(Command::new(
        input::command_id(hasher, &request.id)?,
        op,
        hasher,
    ))
}

fn transfer_response(state: &AppState, outcome: &Outcome) -> Response {
    decided(outcome, StatusCode::CREATED, || {
        state.engine.read(|l| render::transfer(l, outcome.record?))
    })
}

#[utoipa::path(post, path = "/v1/transfers/batch", tag = "transfers", request_body = BatchRequest,
    responses((status = 200, description = "one result per transfer, in order", body = BatchResponse), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn batch(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    let count = request.transfers.len();
    if count == 0 || count > BATCH_COMMANDS_MAX {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("field `transfers`: between 1 and {BATCH_COMMANDS_MAX} transfers, got {count}"),
        ));
    }
    let hasher = state.engine.hasher();
    let mut commands = Vec::with_capacity(count);
    for (i, item) in request.transfers.iter().enumerate() {
        let command = transfer_command(&hasher, item).map_err(|e| ApiError {
            message: format!("transfers[{i}]: {}", e.message),
            ..e
        })?;
        commands.push(command.linked(request.linked && i + 1 < count));
    }
    let outcomes = state.engine.submit(commands).await?;
    let results: Vec<BatchItemResult> = state.engine.read(|l| {
        outcomes
            .iter()
            .zip(&request.transfers)
            .enumerate()
            .map(|(index, (outcome, item))| BatchItemResult {
                index,
                id: item.id.clone(),
                status: if outcome.result.is_ok() {
                    "posted"
                } else {
                    "failed"
                }
                .to_owned(),
                error: outcome.result.err().map(detail),
                transfer: outcome
                    .record
                    .and_then(|r| render::transfer(l, r))
                    .filter(|_| outcome.result.is_ok()),
            })
            .collect()
    });
    let failed = results.iter().filter(|r| r.status == "failed").count();
    let failed_index = outcomes
        .iter()
        .position(|o| matches!(o.result, Err(code) if code != ErrorCode::LinkedBatchFailed))
        .filter(|_| request.linked);
    Ok(Json(BatchResponse {
        linked: request.linked,
        posted: count - failed,
        failed,
        failed_index,
        results,
    }))
}

fn detail(code: ErrorCode) -> ErrorDetail {
    ErrorDetail {
        code: code.code().to_owned(),
        message: code.to_string(),
    }
}

#[utoipa::path(get, path = "/v1/transfers/{id}", tag = "transfers", params(("id" = String, Path, description = "the transfer's idempotency key")),
    responses((status = 200, description = "posted or rejected", body = TransferResponse), (status = 404, description = "transfer_not_found", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<TransferResponse>, ApiError> {
    principal.require(Need::Read)?;
    let client_id = input::client_id(&state.engine.hasher(), &id)?;
    state
        .engine
        .read(|l| render::transfer(l, l.find_record(&client_id)?))
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found("transfer_not_found", format!("no transfer with id {id:?}"))
        })
}

#[utoipa::path(post, path = "/v1/deposits", tag = "transfers", request_body = DepositRequest,
    responses((status = 201, description = "充值: debits the settlement account, credits the account", body = TransferResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "id_conflict: the command id was used with different content", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn deposit(
    state: State<AppState>,
    principal: Principal,
    body: ApiJson<DepositRequest>,
) -> Result<Response, ApiError> {
    settle(state, principal, body, TransferKind::Deposit).await
}

#[utoipa::path(post, path = "/v1/withdrawals", tag = "transfers", request_body = DepositRequest,
    responses((status = 201, description = "提现: debits the account, credits the settlement account", body = TransferResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "id_conflict: the command id was used with different content", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn withdraw(
    state: State<AppState>,
    principal: Principal,
    body: ApiJson<DepositRequest>,
) -> Result<Response, ApiError> {
    settle(state, principal, body, TransferKind::Withdrawal).await
}

async fn settle(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<DepositRequest>,
    kind: TransferKind,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let currency = input::currency(&request.currency)?;
    let settlement = match &request.settlement_account {
        Some(number) => input::account_key(number)?,
        None => AccountKey::No(*state.settlements.get(&currency).ok_or_else(|| {
            ApiError::bad_request("no_settlement_account", format!("no settlement account is configured for {currency}; name one in `settlement_account`"))
        })?),
    };
    let account = input::account_key(&request.account)?;
    let (debit, credit) = if kind == TransferKind::Deposit {
        (settlement, account)
    } else {
        (account, settlement)
    };
    let op = Op::Transfer(Transfer {
        debit,
        credit,
        amount: request.amount,
        currency,
        kind,
        reference: input::reference(request.reference.as_deref())?,
    });
    let id = input::command_id(&state.engine.hasher(), &request.id)?;
    let outcome = submit_one(&state, id, op).await?;
    Ok(transfer_response(&state, &outcome))
}
