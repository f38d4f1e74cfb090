//! Accounts: open (admin), show, list, close (admin), account-level freeze and unfreeze (admin).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use paycore_ledger::{AccountId, AccountNo, Command, Op, OpenAccount, Operator};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{decided, submit_one};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::input;
use crate::json::{ApiJson, OptionalJson};
use crate::render;
use crate::state::AppState;
use paycore_api::ledger::{
    AccountActionRequest, AccountList, AccountResponse, HotSettings, OpenAccountRequest,
};

const LIST_LIMIT_DEFAULT: usize = 100;
const LIST_LIMIT_MAX: usize = 1_000;

#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = OpenAccountRequest,
    responses((status = 201, body = AccountResponse), (status = 400, body = ErrorBody), (status = 409, description = "account_exists or id_conflict", body = ErrorBody), (status = 422, description = "invalid_split", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn open(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<OpenAccountRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::Admin)?;
    let number = input::account_no(&request.account_no)?;
    let op = Op::OpenAccount(OpenAccount {
        number,
        kind: input::account_type(&request.account_type)?,
        currency: input::currency(&request.currency)?,
        allow_negative: request.allow_negative,
        reference: input::reference(request.reference.as_deref())?,
        opened_by: Operator::new(&principal.operator)?,
    });
    let hot = request.hot.as_ref().map(input::hot_options).transpose()?;
    if hot.is_some() && request.split.is_some() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "fields `hot` and `split`: an account is buffered or split, not both",
        ));
    }
    let id = request
        .id
        .unwrap_or_else(|| format!("open:{}", request.account_no));
    let hasher = state.engine.hasher();
    let mut commands = vec![Command::new(input::command_id(&hasher, &id)?, op, &hasher)];
    if let Some(options) = hot {
        // Right behind the opening, in the same engine batch.
        let set = Op::SetHot {
            account: input::account_key(&request.account_no)?,
            options,
        };
        let hot_id = input::client_id(&hasher, &format!("hot:{id}"))?;
        commands.push(Command::new(hot_id, set, &hasher));
    }
    if let Some(parts) = request.split {
        // Refused before the opening goes in: the two commands are not one transaction.
        if paycore_ledger::sub_numbers(&input::account_no(&request.account_no)?, parts).is_none() {
            return Err(paycore_ledger::ErrorCode::InvalidSplit.into());
        }
        let split = Op::SplitAccount {
            account: input::account_key(&request.account_no)?,
            parts,
        };
        let split_id = input::client_id(&hasher, &format!("split:{id}"))?;
        commands.push(Command::new(split_id, split, &hasher));
    }
    let outcomes = state.engine.submit(commands).await?;
    let outcome = match outcomes.as_slice() {
        [opened, set] if opened.result.is_ok() && set.result.is_err() => *set,
        [opened, ..] => *opened,
        [] => return Err(ApiError::internal("the engine answered without an outcome")),
    };
    Ok(decided(&outcome, StatusCode::CREATED, || {
        state
            .engine
            .read(|l| render::account(l, l.resolve(&number)?))
    }))
}

#[utoipa::path(get, path = "/v1/accounts/{account_no}", tag = "accounts",
    params(("account_no" = String, Path)),
    responses((status = 200, body = AccountResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(account_no): Path<String>,
) -> Result<Json<AccountResponse>, ApiError> {
    principal.require(Need::Read)?;
    let number = input::account_no(&account_no)?;
    state
        .engine
        .read(|l| render::account(l, l.resolve(&number)?))
        .map(Json)
        .ok_or_else(|| ApiError::from(paycore_ledger::ErrorCode::AccountNotFound))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Start after this account number (from `next` of the previous page).
    after: Option<String>,
    /// Page size, 1–1000 (default 100).
    limit: Option<usize>,
    /// Only accounts whose number starts with this (the console's search).
    prefix: Option<String>,
}

#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", params(ListQuery),
    responses((status = 200, body = AccountList), (status = 404, description = "account_not_found: `after` names no account", body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<AccountList>, ApiError> {
    principal.require(Need::Read)?;
    let limit = query
        .limit
        .unwrap_or(LIST_LIMIT_DEFAULT)
        .clamp(1, LIST_LIMIT_MAX);
    // An empty cursor is the first page, as in the other lists.
    let after = query.after.as_deref().filter(|a| !a.is_empty());
    let after = after.map(input::account_no).transpose()?;
    let page = state.engine.read(|l| {
        let start = match &after {
            Some(number) => l
                .resolve(number)
                .map(|id| id.0 + 1)
                .ok_or_else(|| ApiError::from(paycore_ledger::ErrorCode::AccountNotFound))?,
            None => 0,
        };
        let Some(prefix) = query.prefix.as_deref() else {
            let end = l.account_count().min(start.saturating_add(limit as u32));
            let accounts: Vec<_> = (start..end)
                .filter_map(|i| render::account(l, AccountId(i)))
                .collect();
            let next = (end < l.account_count())
                .then(|| accounts.last().map(|a| a.account_no.clone()))
                .flatten();
            return Ok::<_, ApiError>(AccountList { accounts, next });
        };
        // Numbers are kept in opening order, not sorted: the search walks them (in memory).
        let mut accounts: Vec<paycore_api::ledger::AccountResponse> = Vec::new();
        let mut next = None;
        for i in start..l.account_count() {
            let Some(account) = render::account(l, AccountId(i)) else {
                continue;
            };
            if !account.account_no.starts_with(prefix) {
                continue;
            }
            if accounts.len() == limit {
                next = accounts.last().map(|a| a.account_no.clone());
                break;
            }
            accounts.push(account);
        }
        Ok(AccountList { accounts, next })
    })?;
    Ok(Json(page))
}

#[utoipa::path(post, path = "/v1/accounts/{account_no}/close", tag = "accounts",
    params(("account_no" = String, Path)), request_body(content = AccountActionRequest, description = "optional"),
    responses((status = 200, body = AccountResponse), (status = 404, body = ErrorBody), (status = 409, description = "system_account: system accounts are never closed", body = ErrorBody), (status = 422, description = "balance_not_zero, account_closed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close(
    state: State<AppState>,
    principal: Principal,
    path: Path<String>,
    body: OptionalJson<AccountActionRequest>,
) -> Result<Response, ApiError> {
    account_action(state, principal, path, body, Action::Close).await
}

#[utoipa::path(post, path = "/v1/accounts/{account_no}/freeze", tag = "accounts",
    params(("account_no" = String, Path)), request_body(content = AccountActionRequest, description = "optional"),
    responses((status = 200, description = "account frozen: credits arrive, debits are refused", body = AccountResponse), (status = 404, body = ErrorBody), (status = 409, description = "id_conflict: the command id was used with different content", body = ErrorBody), (status = 422, description = "account_closed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn freeze(
    state: State<AppState>,
    principal: Principal,
    path: Path<String>,
    body: OptionalJson<AccountActionRequest>,
) -> Result<Response, ApiError> {
    account_action(state, principal, path, body, Action::Freeze).await
}

#[utoipa::path(post, path = "/v1/accounts/{account_no}/unfreeze", tag = "accounts",
    params(("account_no" = String, Path)), request_body(content = AccountActionRequest, description = "optional"),
    responses((status = 200, body = AccountResponse), (status = 404, body = ErrorBody), (status = 409, description = "id_conflict: the command id was used with different content", body = ErrorBody), (status = 422, description = "account_closed", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn unfreeze(
    state: State<AppState>,
    principal: Principal,
    path: Path<String>,
    body: OptionalJson<AccountActionRequest>,
) -> Result<Response, ApiError> {
    account_action(state, principal, path, body, Action::Unfreeze).await
}

#[utoipa::path(put, path = "/v1/accounts/{account_no}/hot", tag = "accounts",
    params(("account_no" = String, Path)), request_body = HotSettings,
    responses((status = 200, description = "the account with its new settings; pending credit was posted first", body = AccountResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "id_conflict: the command id was used with different content", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_hot(
    State(state): State<AppState>,
    principal: Principal,
    Path(account_no): Path<String>,
    ApiJson(settings): ApiJson<HotSettings>,
) -> Result<Response, ApiError> {
    principal.require(Need::Admin)?;
    let number = input::account_no(&account_no)?;
    let options = input::hot_options(&settings)?;
    let op = Op::SetHot {
        account: input::account_key(&account_no)?,
        options,
    };
    let id = settings
        .id
        .clone()
        .unwrap_or_else(|| input::hot_id(&account_no, options));
    let id = input::command_id(&state.engine.hasher(), &id)?;
    let outcome = submit_one(&state, id, op).await?;
    Ok(decided(&outcome, StatusCode::OK, || {
        state
            .engine
            .read(|l| render::account(l, l.resolve(&number)?))
    }))
}

#[derive(PartialEq, Eq)]
enum Action {
    Close,
    Freeze,
    Unfreeze,
}

/// A closed account never reopens: closing the settlement account of a currency would stop
/// its deposits and withdrawals for good, closing a fee income account every payment with a
/// fee. Both are refused (`409 system_account`).
fn refuse_closing_a_system_account(state: &AppState, number: &AccountNo) -> Result<(), ApiError> {
    let settlement = state.settlements.values().any(|s| s == number);
    let fee_income = paycore_money::CURRENCIES
        .iter()
        .any(|c| paycore_payments::posting::fee_account(*c) == number.as_str());
    if settlement || fee_income {
        let role = if settlement {
            "the settlement account of its currency's deposits and withdrawals"
        } else {
            "where payment fees are credited"
        };
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "system_account",
            format!(
                "{number} is {role}: paycore needs it open, and a closed account never reopens"
            ),
        ));
    }
    Ok(())
}

async fn account_action(
    State(state): State<AppState>,
    principal: Principal,
    Path(account_no): Path<String>,
    OptionalJson(request): OptionalJson<AccountActionRequest>,
    action: Action,
) -> Result<Response, ApiError> {
    principal.require(Need::Admin)?;
    let number = input::account_no(&account_no)?;
    let account = input::account_key(&account_no)?;
    if action == Action::Close {
        refuse_closing_a_system_account(&state, &number)?;
    }
    let (op, default_id) = match action {
        // Closing is final, so the account number names the one close.
        Action::Close => (Op::CloseAccount { account }, format!("close:{account_no}")),
        // Freeze and unfreeze may alternate; without an id each call is a new command.
        Action::Freeze => (
            Op::SetAccountFrozen {
                account,
                frozen: true,
            },
            input::unique_id("freeze")?,
        ),
        Action::Unfreeze => (
            Op::SetAccountFrozen {
                account,
                frozen: false,
            },
            input::unique_id("unfreeze")?,
        ),
    };
    let id = input::command_id(&state.engine.hasher(), &request.id.unwrap_or(default_id))?;
    let outcome = submit_one(&state, id, op).await?;
    Ok(decided(&outcome, StatusCode::OK, || {
        state
            .engine
            .read(|l| render::account(l, l.resolve(&number)?))
    }))
}
