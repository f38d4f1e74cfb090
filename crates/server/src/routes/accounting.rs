//! Accounting (会计) over HTTP: the chart, posting rules and their exception queue, vouchers
//! (list, manual entry, red-letter reversal), reports (trial balance, GL vs sub-ledger check,
//! reserve funds), period close and the feed's status. The books live in
//! `paycore_accounting::Books`; handlers only translate.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycore_accounting::{
    AccountingError, Books, Class, GlAccount, ManualVoucher, NewGlAccount, Side, VoucherLine,
    VoucherQuery,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::REPLAYED_HEADER;
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::model::{GlAccountPatch, GlAccountRequest, ManualVoucherRequest, ReverseRequest};
use crate::state::AppState;

impl From<AccountingError> for ApiError {
    fn from(error: AccountingError) -> ApiError {
        let code = error.code();
        let status = match code {
            "internal" => return ApiError::internal(error.to_string()),
            "invalid_date" => StatusCode::BAD_REQUEST,
            "gl_account_not_found" | "voucher_not_found" => StatusCode::NOT_FOUND,
            "gl_account_exists"
            | "gl_account_in_use"
            | "id_conflict"
            | "period_closed"
            | "voucher_already_reversed" => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Runs `work` on the books off the async workers.
async fn with_books<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Books) -> Result<T, AccountingError> + Send + 'static,
) -> Result<T, ApiError> {
    let books: Arc<Books> = state.books.clone();
    tokio::task::spawn_blocking(move || work(&books).map_err(ApiError::from))
        .await
        .map_err(|e| ApiError::internal(format!("accounting task failed: {e}")))?
}

/// A read any role may make: `work` runs on the books and its result is the response body.
async fn read<T: Serialize + Send + 'static>(
    state: &AppState,
    principal: &Principal,
    work: impl FnOnce(&Books) -> Result<T, AccountingError> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Read)?;
    Ok(Json(json!(with_books(state, work).await?)))
}

/// The ledger's current accounting date: the default day of every report.
fn today(state: &AppState) -> String {
    state.engine.read(|l| l.accounting_date().to_string())
}

#[derive(Serialize)]
struct GlAccountResponse {
    code: String,
    name: String,
    level: u8,
    parent: Option<String>,
    class: &'static str,
    side: &'static str,
    enabled: bool,
}

fn account_response(a: &GlAccount) -> GlAccountResponse {
    GlAccountResponse {
        code: a.code.clone(),
        name: a.name.clone(),
        level: a.level(),
        parent: a.parent().map(str::to_owned),
        class: a.class.name(),
        side: a.side.name(),
        enabled: a.enabled,
    }
}

#[utoipa::path(get, path = "/v1/accounting/accounts", tag = "accounting",
    responses((status = 200, description = "the chart of accounts (会计科目), three levels, in code order")), security(("bearer" = [])))]
pub async fn chart(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Read)?;
    let config = state.books.config();
    let accounts: Vec<_> = config.chart.accounts().map(account_response).collect();
    Ok(Json(json!({ "accounts": accounts })))
}

#[utoipa::path(post, path = "/v1/accounting/accounts", tag = "accounting", request_body = GlAccountRequest,
    responses((status = 201, description = "created"), (status = 409, description = "gl_account_exists / gl_account_in_use", body = ErrorBody), (status = 422, description = "invalid_gl_account", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_account(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<GlAccountRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require(Need::Admin)?;
    let class = request
        .class
        .as_deref()
        .map(|c| {
            Class::parse(c).ok_or_else(|| {
                field(
                    "class",
                    "asset, liability, equity, common, income or expense",
                )
            })
        })
        .transpose()?;
    let side = request
        .side
        .as_deref()
        .map(|s| Side::parse(s).ok_or_else(|| field("side", "debit or credit")))
        .transpose()?;
    let new = NewGlAccount {
        code: request.code,
        name: request.name,
        class,
        side,
    };
    let account = with_books(&state, move |books| books.create_account(new)).await?;
    Ok((StatusCode::CREATED, Json(json!(account_response(&account)))))
}

fn field(name: &str, expected: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_field",
        format!("field `{name}`: expected {expected}"),
    )
}

#[utoipa::path(patch, path = "/v1/accounting/accounts/{code}", tag = "accounting", request_body = GlAccountPatch,
    params(("code" = String, Path)), responses((status = 200, description = "updated"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_account(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiJson(patch): ApiJson<GlAccountPatch>,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Admin)?;
    let account = with_books(&state, move |books| {
        books.update_account(&code, patch.name, patch.enabled)
    })
    .await?;
    Ok(Json(json!(account_response(&account))))
}

#[utoipa::path(delete, path = "/v1/accounting/accounts/{code}", tag = "accounting", params(("code" = String, Path)),
    responses((status = 204, description = "deleted (never used)"), (status = 409, description = "gl_account_in_use: disable it instead", body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_account(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Need::Admin)?;
    with_books(&state, move |books| books.delete_account(&code)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VouchersQuery {
    /// Accounting date (YYYY-MM-DD).
    date: Option<String>,
    /// Only vouchers with a line on this account code.
    account: Option<String>,
    /// Vouchers after this id (the `next_after` of the previous page).
    after: Option<u64>,
    /// Page size, 1–1000 (default 100).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/v1/accounting/vouchers", tag = "accounting", params(VouchersQuery),
    responses((status = 200, description = "vouchers (记账凭证) in id order, with their lines")), security(("bearer" = [])))]
pub async fn vouchers(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<VouchersQuery>,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Read)?;
    let query = VoucherQuery {
        date: q.date,
        account: q.account,
        after: q.after,
        limit: q.limit.unwrap_or(100),
    };
    let limit = query.limit;
    let page = with_books(&state, move |books| books.vouchers(&query)).await?;
    let next_after = (page.len() >= limit.clamp(1, 1_000)).then(|| page.last().map(|v| v.id));
    Ok(Json(
        json!({ "vouchers": page, "next_after": next_after.flatten() }),
    ))
}

#[utoipa::path(get, path = "/v1/accounting/vouchers/{voucher_no}", tag = "accounting", params(("voucher_no" = String, Path)),
    responses((status = 200, description = "one voucher"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn voucher(
    State(state): State<AppState>,
    principal: Principal,
    Path(voucher_no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    read(&state, &principal, move |books| {
        books.voucher_by_no(&voucher_no)
    })
    .await
}

fn posted(voucher: paycore_accounting::Voucher, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(json!(voucher))).into_response();
    if replayed {
        *response.status_mut() = StatusCode::OK;
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

#[utoipa::path(post, path = "/v1/accounting/vouchers", tag = "accounting", request_body = ManualVoucherRequest,
    responses((status = 201, description = "posted"), (status = 200, description = "a retry: the original voucher"), (status = 409, description = "id_conflict / period_closed", body = ErrorBody), (status = 422, description = "voucher_unbalanced / invalid_voucher", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_voucher(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<ManualVoucherRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let mut lines = Vec::with_capacity(request.lines.len());
    for line in request.lines {
        lines.push(VoucherLine {
            code: line.code,
            side: Side::parse(&line.side)
                .ok_or_else(|| field("lines[].side", "debit or credit"))?,
            amount: line.amount,
        });
    }
    let manual = ManualVoucher {
        id: request.id,
        date: request.date,
        currency: request.currency,
        note: request.note.unwrap_or_default(),
        lines,
    };
    let (voucher, replayed) = with_books(&state, move |books| books.post_manual(manual)).await?;
    Ok(posted(voucher, replayed))
}

#[utoipa::path(post, path = "/v1/accounting/vouchers/{voucher_no}/reverse", tag = "accounting", request_body = ReverseRequest,
    params(("voucher_no" = String, Path)),
    responses((status = 201, description = "the red-letter reversal (红字冲销)"), (status = 404, body = ErrorBody), (status = 409, description = "voucher_already_reversed / id_conflict", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reverse(
    State(state): State<AppState>,
    principal: Principal,
    Path(voucher_no): Path<String>,
    ApiJson(request): ApiJson<ReverseRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::PostMoney)?;
    let note = request.note.unwrap_or_default();
    let (voucher, replayed) = with_books(&state, move |books| {
        books.reverse(&voucher_no, &request.id, &note)
    })
    .await?;
    Ok(posted(voucher, replayed))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// One accounting date (YYYY-MM-DD); default: the ledger's current date.
    date: Option<String>,
    /// First date of a period (with `to`), instead of `date`.
    from: Option<String>,
    /// Last date of a period, inclusive.
    to: Option<String>,
    /// Currency (default CNY).
    currency: Option<String>,
}

impl ReportQuery {
    fn range(&self, state: &AppState) -> (String, String) {
        let day = self.date.clone().unwrap_or_else(|| today(state));
        let from = self.from.clone().unwrap_or_else(|| day.clone());
        let to = self.to.clone().unwrap_or(day);
        (from, to)
    }
}

#[utoipa::path(get, path = "/v1/accounting/trial-balance", tag = "accounting", params(ReportQuery),
    responses((status = 200, description = "试算平衡表: rows (code, name, level, opening, debit, credit, closing; balances signed towards each account's normal side) and totals")), security(("bearer" = [])))]
pub async fn trial_balance(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Value>, ApiError> {
    let (from, to) = q.range(&state);
    let currency = q.currency.unwrap_or_else(|| "CNY".into());
    read(&state, &principal, move |books| {
        books.trial_balance(&from, &to, &currency)
    })
    .await
}

#[utoipa::path(get, path = "/v1/accounting/gl-check", tag = "accounting", params(ReportQuery),
    responses((status = 200, description = "each control account against its ledger accounts at the end of `date`; `differences` is empty when they agree")), security(("bearer" = [])))]
pub async fn gl_check(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Value>, ApiError> {
    let (_, date) = q.range(&state);
    read(&state, &principal, move |books| books.gl_check(&date)).await
}

#[utoipa::path(get, path = "/v1/accounting/reserve-report", tag = "accounting", params(ReportQuery),
    responses((status = 200, description = "备付金: opening, inflows, outflows, closing per reserve-fund bank account per day")), security(("bearer" = [])))]
pub async fn reserve_report(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Value>, ApiError> {
    let (from, to) = q.range(&state);
    read(&state, &principal, move |books| {
        books.reserve_report(&from, &to)
    })
    .await
}

#[utoipa::path(get, path = "/v1/accounting/status", tag = "accounting",
    responses((status = 200, description = "the feed's position and lag behind the ledger")), security(("bearer" = [])))]
pub async fn status(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Read)?;
    let lag = feed_lag(&state);
    let (position, vouchers, exceptions) = with_books(&state, |books| {
        Ok((
            books.position()?,
            books.voucher_count()?,
            books.exceptions()?.len(),
        ))
    })
    .await?;
    let feed = state.books.status();
    Ok(Json(json!({
        "applied_sequence": lag.applied,
        "durable_sequence": lag.durable,
        "lag_batches": lag.batches,
        "lag_seconds": lag.seconds,
        "accounting_date": position.map(|p| p.accounting_date),
        "vouchers": vouchers,
        "exceptions": exceptions,
        "rules_version": state.books.config().rules.version,
        "last_error": feed.last_error.lock().clone(),
    })))
}

/// How far the feed is behind the durable log.
pub struct FeedLag {
    pub applied: u64,
    pub durable: u64,
    pub batches: u64,
    pub seconds: f64,
}

pub fn feed_lag(state: &AppState) -> FeedLag {
    let feed = state.books.status();
    let applied = feed.applied_sequence.load(Relaxed);
    let metrics = state.engine.metrics();
    let durable = metrics.durable_sequence;
    let batches = durable.saturating_sub(applied);
    let seconds = if batches == 0 {
        0.0
    } else {
        let last = state.engine.read(|l| l.last_timestamp());
        last.saturating_sub(feed.applied_timestamp.load(Relaxed)) as f64 / 1e9
    };
    FeedLag {
        applied,
        durable,
        batches,
        seconds,
    }
}

#[utoipa::path(get, path = "/v1/accounting/exceptions", tag = "accounting",
    responses((status = 200, description = "ledger transactions no posting rule maps, waiting (never dropped)")), security(("bearer" = [])))]
pub async fn exceptions(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Read)?;
    let list = with_books(&state, |books| books.exceptions()).await?;
    Ok(Json(json!({ "exceptions": list })))
}

#[utoipa::path(post, path = "/v1/accounting/exceptions/retry", tag = "accounting",
    responses((status = 200, description = "how many were posted and how many still wait")), security(("bearer" = [])))]
pub async fn retry_exceptions(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::PostMoney)?;
    let (posted, remaining) = with_books(&state, |books| books.retry_exceptions()).await?;
    Ok(Json(json!({ "posted": posted, "remaining": remaining })))
}

#[utoipa::path(get, path = "/v1/accounting/rules", tag = "accounting",
    responses((status = 200, description = "the posting rules in force (TOML text) and their version")), security(("bearer" = [])))]
pub async fn rules(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Read)?;
    let text = with_books(&state, |books| books.rules_text()).await?;
    Ok(Json(
        json!({ "version": state.books.config().rules.version, "rules": text }),
    ))
}

#[utoipa::path(put, path = "/v1/accounting/rules", tag = "accounting", request_body(content = String, content_type = "application/toml", description = "the complete rules file (TOML)"),
    responses((status = 200, description = "the new version; parked transactions were retried"), (status = 422, description = "invalid_rules", body = ErrorBody)), security(("bearer" = [])))]
pub async fn replace_rules(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Admin)?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("invalid_rules", "the rules must be UTF-8 TOML"))?;
    let (rules, posted, remaining) =
        with_books(&state, move |books| books.replace_rules(&text)).await?;
    Ok(Json(
        json!({ "version": rules.version, "posted": posted, "remaining": remaining }),
    ))
}

#[utoipa::path(get, path = "/v1/accounting/periods", tag = "accounting",
    responses((status = 200, description = "closed periods")), security(("bearer" = [])))]
pub async fn periods(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Read)?;
    let closed = with_books(&state, |books| books.closed_periods()).await?;
    Ok(Json(json!({ "closed": closed })))
}

#[utoipa::path(post, path = "/v1/accounting/periods/{period}/close", tag = "accounting", params(("period" = String, Path, description = "YYYY-MM-DD or YYYY-MM")),
    responses((status = 200, description = "closed: it accepts no new vouchers"), (status = 409, description = "period_closed", body = ErrorBody), (status = 422, description = "period_not_ended: the ledger's day-end has not passed it", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close_period(
    State(state): State<AppState>,
    principal: Principal,
    Path(period): Path<String>,
) -> Result<Json<Value>, ApiError> {
    principal.require(Need::Admin)?;
    let closed = with_books(&state, move |books| books.close_period(&period)).await?;
    Ok(Json(json!(closed)))
}
