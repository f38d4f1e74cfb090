//! Accounting (会计) over HTTP: the chart, posting rules and their exception queue, vouchers
//! (list, manual entry, red-letter reversal), reports (trial balance, GL vs sub-ledger check,
//! reserve funds), period close and the feed's status. The books live in
//! `paycore_accounting::Books`; handlers only translate: requests into domain calls, and the
//! domain's results into the wire types of `paycore_api::accounting` (mapped at the end of this
//! file), which alone define the JSON.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use paycore_accounting::reports::{ControlCheck, ReserveRow, TrialRow, TrialTotals};
use paycore_accounting::{
    AccountingError, Books, Class, ClosedPeriod, Exception, GlAccount, GlCheck, ManualVoucher,
    NewGlAccount, ReserveReport, Side, TrialBalance, Voucher, VoucherLine, VoucherQuery,
};
use paycore_api::accounting::{
    AccountingStatusResponse, ClosedPeriodList, ClosedPeriodResponse, ControlCheckResponse,
    GlAccountList, GlAccountResponse, GlCheckResponse, PostingExceptionList,
    PostingExceptionResponse, ReserveReportResponse, ReserveRowResponse, RetryExceptionsResponse,
    RulesReplacedResponse, RulesResponse, TrialBalanceResponse, TrialRowResponse,
    TrialTotalsResponse, VoucherLineResponse, VoucherPage, VoucherResponse,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::REPLAYED_HEADER;
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::json::ApiJson;
use crate::state::AppState;
use paycore_api::ledger::{GlAccountPatch, GlAccountRequest, ManualVoucherRequest, ReverseRequest};

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

/// A read any role may make: `work` runs on the books.
async fn read<T: Send + 'static>(
    state: &AppState,
    principal: &Principal,
    work: impl FnOnce(&Books) -> Result<T, AccountingError> + Send + 'static,
) -> Result<T, ApiError> {
    principal.require(Need::Read)?;
    with_books(state, work).await
}

/// The ledger's current accounting date: the default day of every report.
fn today(state: &AppState) -> String {
    state.engine.read(|l| l.accounting_date().to_string())
}

#[utoipa::path(get, path = "/v1/accounting/accounts", tag = "accounting",
    responses((status = 200, description = "the chart of accounts (会计科目), three levels, in code order", body = GlAccountList)), security(("bearer" = [])))]
pub async fn chart(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<GlAccountList>, ApiError> {
    principal.require(Need::Read)?;
    let config = state.books.config();
    let accounts = config.chart.accounts().map(account_response).collect();
    Ok(Json(GlAccountList { accounts }))
}

#[utoipa::path(post, path = "/v1/accounting/accounts", tag = "accounting", request_body = GlAccountRequest,
    responses((status = 201, description = "created", body = GlAccountResponse), (status = 409, description = "gl_account_exists / gl_account_in_use", body = ErrorBody), (status = 422, description = "invalid_gl_account", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_account(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<GlAccountRequest>,
) -> Result<(StatusCode, Json<GlAccountResponse>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(account_response(&account))))
}

fn field(name: &str, expected: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_field",
        format!("field `{name}`: expected {expected}"),
    )
}

#[utoipa::path(patch, path = "/v1/accounting/accounts/{code}", tag = "accounting", request_body = GlAccountPatch,
    params(("code" = String, Path)), responses((status = 200, description = "updated", body = GlAccountResponse), (status = 404, body = ErrorBody), (status = 422, description = "the chart refuses the change", body = ErrorBody)), security(("bearer" = [])))]
pub async fn update_account(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiJson(patch): ApiJson<GlAccountPatch>,
) -> Result<Json<GlAccountResponse>, ApiError> {
    principal.require(Need::Admin)?;
    let account = with_books(&state, move |books| {
        books.update_account(&code, patch.name, patch.enabled)
    })
    .await?;
    Ok(Json(account_response(&account)))
}

#[utoipa::path(delete, path = "/v1/accounting/accounts/{code}", tag = "accounting", params(("code" = String, Path)),
    responses((status = 204, description = "deleted (never used)"), (status = 404, body = ErrorBody), (status = 409, description = "gl_account_in_use: disable it instead", body = ErrorBody)), security(("bearer" = [])))]
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
    responses((status = 200, description = "vouchers (记账凭证) in id order, with their lines", body = VoucherPage)), security(("bearer" = [])))]
pub async fn vouchers(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<VouchersQuery>,
) -> Result<Json<VoucherPage>, ApiError> {
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
    Ok(Json(VoucherPage {
        vouchers: page.into_iter().map(voucher_response).collect(),
        next_after: next_after.flatten(),
    }))
}

#[utoipa::path(get, path = "/v1/accounting/vouchers/{voucher_no}", tag = "accounting", params(("voucher_no" = String, Path)),
    responses((status = 200, description = "one voucher", body = VoucherResponse), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn voucher(
    State(state): State<AppState>,
    principal: Principal,
    Path(voucher_no): Path<String>,
) -> Result<Json<VoucherResponse>, ApiError> {
    let voucher = read(&state, &principal, move |books| {
        books.voucher_by_no(&voucher_no)
    })
    .await?;
    Ok(Json(voucher_response(voucher)))
}

fn posted(voucher: Voucher, replayed: bool) -> Response {
    let mut response = (StatusCode::CREATED, Json(voucher_response(voucher))).into_response();
    if replayed {
        *response.status_mut() = StatusCode::OK;
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

#[utoipa::path(post, path = "/v1/accounting/vouchers", tag = "accounting", request_body = ManualVoucherRequest,
    responses((status = 201, description = "posted", body = VoucherResponse), (status = 200, description = "a retry: the original voucher", body = VoucherResponse), (status = 409, description = "id_conflict / period_closed", body = ErrorBody), (status = 422, description = "voucher_unbalanced / invalid_voucher", body = ErrorBody)),
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
    responses((status = 201, description = "the red-letter reversal (红字冲销)", body = VoucherResponse), (status = 200, description = "a retry: the original reversal", body = VoucherResponse), (status = 404, body = ErrorBody), (status = 409, description = "voucher_already_reversed / id_conflict", body = ErrorBody), (status = 422, description = "the books refuse the reversal (e.g. its period is closed)", body = ErrorBody)),
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
    responses((status = 200, description = "试算平衡表: rows (code, name, level, opening, debit, credit, closing; balances signed towards each account's normal side) and totals", body = TrialBalanceResponse)), security(("bearer" = [])))]
pub async fn trial_balance(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReportQuery>,
) -> Result<Json<TrialBalanceResponse>, ApiError> {
    let (from, to) = q.range(&state);
    let currency = q.currency.unwrap_or_else(|| "CNY".into());
    let report = read(&state, &principal, move |books| {
        books.trial_balance(&from, &to, &currency)
    })
    .await?;
    Ok(Json(trial_balance_response(report)))
}

#[utoipa::path(get, path = "/v1/accounting/gl-check", tag = "accounting", params(ReportQuery),
    responses((status = 200, description = "each control account against its ledger accounts at the end of `date`; `differences` is empty when they agree", body = GlCheckResponse)), security(("bearer" = [])))]
pub async fn gl_check(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReportQuery>,
) -> Result<Json<GlCheckResponse>, ApiError> {
    let (_, date) = q.range(&state);
    let check = read(&state, &principal, move |books| books.gl_check(&date)).await?;
    Ok(Json(gl_check_response(check)))
}

#[utoipa::path(get, path = "/v1/accounting/reserve-report", tag = "accounting", params(ReportQuery),
    responses((status = 200, description = "备付金: opening, inflows, outflows, closing per reserve-fund bank account per day", body = ReserveReportResponse)), security(("bearer" = [])))]
pub async fn reserve_report(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReportQuery>,
) -> Result<Json<ReserveReportResponse>, ApiError> {
    let (from, to) = q.range(&state);
    let report = read(&state, &principal, move |books| {
        books.reserve_report(&from, &to)
    })
    .await?;
    Ok(Json(reserve_report_response(report)))
}

#[utoipa::path(get, path = "/v1/accounting/status", tag = "accounting",
    responses((status = 200, description = "the feed's position and lag behind the ledger", body = AccountingStatusResponse)), security(("bearer" = [])))]
pub async fn status(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<AccountingStatusResponse>, ApiError> {
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
    Ok(Json(AccountingStatusResponse {
        applied_sequence: lag.applied,
        durable_sequence: lag.durable,
        lag_batches: lag.batches,
        lag_seconds: lag.seconds,
        accounting_date: position.map(|p| p.accounting_date),
        vouchers,
        exceptions: count(exceptions),
        rules_version: state.books.config().rules.version,
        last_error: feed.last_error.lock().clone(),
    }))
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
    responses((status = 200, description = "ledger transactions no posting rule maps, waiting (never dropped)", body = PostingExceptionList)), security(("bearer" = [])))]
pub async fn exceptions(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<PostingExceptionList>, ApiError> {
    let list = read(&state, &principal, |books| books.exceptions()).await?;
    Ok(Json(PostingExceptionList {
        exceptions: list.into_iter().map(exception_response).collect(),
    }))
}

#[utoipa::path(post, path = "/v1/accounting/exceptions/retry", tag = "accounting",
    responses((status = 200, description = "how many were posted and how many still wait", body = RetryExceptionsResponse)), security(("bearer" = [])))]
pub async fn retry_exceptions(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<RetryExceptionsResponse>, ApiError> {
    principal.require(Need::PostMoney)?;
    let (posted, remaining) = with_books(&state, |books| books.retry_exceptions()).await?;
    Ok(Json(RetryExceptionsResponse {
        posted: count(posted),
        remaining: count(remaining),
    }))
}

#[utoipa::path(get, path = "/v1/accounting/rules", tag = "accounting",
    responses((status = 200, description = "the posting rules in force (TOML text) and their version", body = RulesResponse)), security(("bearer" = [])))]
pub async fn rules(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<RulesResponse>, ApiError> {
    let text = read(&state, &principal, |books| books.rules_text()).await?;
    Ok(Json(RulesResponse {
        version: state.books.config().rules.version,
        rules: text,
    }))
}

#[utoipa::path(put, path = "/v1/accounting/rules", tag = "accounting", request_body(content = String, content_type = "application/toml", description = "the complete rules file (TOML)"),
    responses((status = 200, description = "the new version; parked transactions were retried", body = RulesReplacedResponse), (status = 422, description = "invalid_rules", body = ErrorBody)), security(("bearer" = [])))]
pub async fn replace_rules(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> Result<Json<RulesReplacedResponse>, ApiError> {
    principal.require(Need::Admin)?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("invalid_rules", "the rules must be UTF-8 TOML"))?;
    let (rules, posted, remaining) =
        with_books(&state, move |books| books.replace_rules(&text)).await?;
    Ok(Json(RulesReplacedResponse {
        version: rules.version,
        posted: count(posted),
        remaining: count(remaining),
    }))
}

#[utoipa::path(get, path = "/v1/accounting/periods", tag = "accounting",
    responses((status = 200, description = "closed periods", body = ClosedPeriodList)), security(("bearer" = [])))]
pub async fn periods(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ClosedPeriodList>, ApiError> {
    let closed = read(&state, &principal, |books| books.closed_periods()).await?;
    Ok(Json(ClosedPeriodList {
        closed: closed.into_iter().map(closed_period_response).collect(),
    }))
}

#[utoipa::path(post, path = "/v1/accounting/periods/{period}/close", tag = "accounting", params(("period" = String, Path, description = "YYYY-MM-DD or YYYY-MM")),
    responses((status = 200, description = "closed: it accepts no new vouchers", body = ClosedPeriodResponse), (status = 409, description = "period_closed", body = ErrorBody), (status = 422, description = "period_not_ended: the ledger's day-end has not passed it", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close_period(
    State(state): State<AppState>,
    principal: Principal,
    Path(period): Path<String>,
) -> Result<Json<ClosedPeriodResponse>, ApiError> {
    principal.require(Need::Admin)?;
    let closed = with_books(&state, move |books| books.close_period(&period)).await?;
    Ok(Json(closed_period_response(closed)))
}

// ----- domain → wire (`paycore_api::accounting`) -----

/// A count for the wire (`usize` is at most 64 bits on every target paycore runs on).
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn account_response(a: &GlAccount) -> GlAccountResponse {
    GlAccountResponse {
        code: a.code.clone(),
        name: a.name.clone(),
        level: a.level(),
        parent: a.parent().map(str::to_owned),
        class: a.class.name().to_owned(),
        side: a.side.name().to_owned(),
        enabled: a.enabled,
    }
}

fn line_response(l: VoucherLine) -> VoucherLineResponse {
    VoucherLineResponse {
        code: l.code,
        side: l.side.name().to_owned(),
        amount: l.amount,
    }
}

fn voucher_response(v: Voucher) -> VoucherResponse {
    let body = v.body;
    VoucherResponse {
        id: v.id,
        voucher_no: v.voucher_no,
        period: v.period,
        number: v.number,
        accounting_date: body.accounting_date,
        ledger_date: body.ledger_date,
        source: body.source.name().to_owned(),
        record_id: body.record_id,
        client_id: body.client_id,
        kind: body.kind,
        rule: body.rule,
        rules_version: body.rules_version,
        currency: body.currency,
        reverses: body.reverses,
        note: body.note,
        lines: body.lines.into_iter().map(line_response).collect(),
    }
}

fn trial_row_response(r: TrialRow) -> TrialRowResponse {
    TrialRowResponse {
        code: r.code,
        name: r.name,
        level: r.level,
        class: r.class,
        side: r.side,
        opening: r.opening,
        debit: r.debit,
        credit: r.credit,
        closing: r.closing,
    }
}

fn trial_totals_response(t: TrialTotals) -> TrialTotalsResponse {
    TrialTotalsResponse {
        debit: t.debit,
        credit: t.credit,
        opening_debit: t.opening_debit,
        opening_credit: t.opening_credit,
        closing_debit: t.closing_debit,
        closing_credit: t.closing_credit,
        balanced: t.balanced,
    }
}

fn trial_balance_response(t: TrialBalance) -> TrialBalanceResponse {
    TrialBalanceResponse {
        from: t.from,
        to: t.to,
        currency: t.currency,
        rows: t.rows.into_iter().map(trial_row_response).collect(),
        totals: trial_totals_response(t.totals),
    }
}

fn control_check_response(c: ControlCheck) -> ControlCheckResponse {
    ControlCheckResponse {
        code: c.code,
        name: c.name,
        currency: c.currency,
        gl_balance: c.gl_balance,
        subledger_balance: c.subledger_balance,
        difference: c.difference,
    }
}

fn exception_response(e: Exception) -> PostingExceptionResponse {
    PostingExceptionResponse {
        record_id: e.record_id,
        client_id: e.client_id,
        kind: e.kind,
        debit_type: e.debit_type,
        debit_account_no: e.debit_account_no,
        credit_type: e.credit_type,
        credit_account_no: e.credit_account_no,
        amount: e.amount,
        currency: e.currency,
        ledger_date: e.ledger_date,
        reason: e.reason,
    }
}

fn gl_check_response(g: GlCheck) -> GlCheckResponse {
    GlCheckResponse {
        date: g.date,
        checked: g.checked.into_iter().map(control_check_response).collect(),
        differences: g
            .differences
            .into_iter()
            .map(control_check_response)
            .collect(),
        unposted: g.unposted.into_iter().map(exception_response).collect(),
    }
}

fn reserve_row_response(r: ReserveRow) -> ReserveRowResponse {
    ReserveRowResponse {
        date: r.date,
        code: r.code,
        name: r.name,
        currency: r.currency,
        opening: r.opening,
        inflow: r.inflow,
        outflow: r.outflow,
        closing: r.closing,
    }
}

fn reserve_report_response(r: ReserveReport) -> ReserveReportResponse {
    ReserveReportResponse {
        from: r.from,
        to: r.to,
        rows: r.rows.into_iter().map(reserve_row_response).collect(),
    }
}

fn closed_period_response(p: ClosedPeriod) -> ClosedPeriodResponse {
    ClosedPeriodResponse {
        period: p.period,
        closed_at: p.closed_at,
        vouchers: p.vouchers,
        debit: p.debit,
        credit: p.credit,
    }
}
