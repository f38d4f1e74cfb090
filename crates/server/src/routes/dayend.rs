//! Day-end cutover (日切): the command that closes the current accounting date, and the day-end
//! report built from the query store — flows and closings per account type, the debits =
//! credits check, and transit accounts left with a balance (挂账).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use paycore_ledger::Op;
use paycore_store::{EntryQuery, Store};
use serde::Deserialize;
use utoipa::IntoParams;

use super::journal::entry_response;
use super::{decided, submit_one, with_store};
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;
use crate::input;
use crate::json::OptionalJson;
use crate::state::AppState;
use paycore_api::ledger::{
    ClosingRow, CurrencyCheck, DayEndReport, DayEndRequest, DayEndResponse, FlowRow,
    SuspenseAccount,
};

/// Entries listed per suspended transit account at most.
const OPEN_ENTRIES_MAX: usize = 100;

#[utoipa::path(post, path = "/v1/day-end", tag = "day-end", request_body(content = DayEndRequest, description = "optional"),
    responses((status = 200, body = DayEndResponse), (status = 422, description = "day_end_date_mismatch", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn day_end(
    State(state): State<AppState>,
    principal: Principal,
    OptionalJson(request): OptionalJson<DayEndRequest>,
) -> Result<Response, ApiError> {
    principal.require(Need::Admin)?;
    let current = state.engine.read(|l| l.accounting_date());
    let date = request
        .date
        .as_deref()
        .map(|d| input::date("date", d))
        .transpose()?
        .unwrap_or(current);
    let id = request.id.unwrap_or_else(|| format!("day-end:{date}"));
    let outcome = submit_one(
        &state,
        input::client_id(&state.engine.hasher(), &id)?,
        Op::DayEnd { date },
    )
    .await?;
    Ok(decided(&outcome, StatusCode::OK, || {
        let next = date.next_day()?;
        Some(DayEndResponse {
            closed_date: date.to_string(),
            accounting_date: next.to_string(),
        })
    }))
}

/// Starts the automatic cutover: at `at` local time (engine UTC offset) every day, the current
/// accounting date is closed, exactly as `POST /v1/day-end` would.
pub fn schedule(state: AppState, at: time::Time, utc_offset_seconds: i32) {
    tokio::spawn(async move {
        let offset =
            time::UtcOffset::from_whole_seconds(utc_offset_seconds).unwrap_or(time::UtcOffset::UTC);
        loop {
            let now = time::OffsetDateTime::now_utc().to_offset(offset);
            let mut next = now.replace_time(at);
            if next <= now {
                next += time::Duration::days(1);
            }
            let wait = (next - now).unsigned_abs();
            tokio::time::sleep(wait).await;
            let date = state.engine.read(|l| l.accounting_date());
            let id = format!("day-end:{date}");
            match input::client_id(&state.engine.hasher(), &id) {
                Ok(id) => match submit_one(&state, id, Op::DayEnd { date }).await {
                    Ok(outcome) => {
                        tracing::info!(%date, result = ?outcome.result, "automatic day-end")
                    }
                    Err(error) => {
                        tracing::error!(%date, message = %error.message, "automatic day-end failed")
                    }
                },
                Err(error) => tracing::error!(message = %error.message, "automatic day-end id"),
            }
        }
    });
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The accounting date (YYYY-MM-DD); default: the last closed day.
    date: Option<String>,
}

#[utoipa::path(get, path = "/v1/reports/day-end", tag = "day-end", params(ReportQuery),
    responses((status = 200, body = DayEndReport), (status = 400, body = ErrorBody), (status = 503, description = "store_unavailable: the query store could not answer", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReportQuery>,
) -> Result<Json<DayEndReport>, ApiError> {
    principal.require(Need::Read)?;
    let last_closed = state.engine.read(|l| l.accounting_date()).previous_day();
    let date = match q.date.as_deref() {
        Some(d) => input::date("date", d)?,
        None => last_closed
            .ok_or_else(|| ApiError::bad_request("invalid_field", "no day has been closed"))?,
    };
    let report = with_store(&state, move |store| build_report(store, &date.to_string())).await?;
    Ok(Json(report))
}

fn build_report(store: &mut dyn Store, date: &str) -> Result<DayEndReport, ApiError> {
    let flows = store.day_flows(date)?;
    let closings = store.day_closings(date)?;
    let mut currencies: BTreeMap<String, CurrencyCheck> = BTreeMap::new();
    fn check<'a>(
        currencies: &'a mut BTreeMap<String, CurrencyCheck>,
        currency: &str,
    ) -> &'a mut CurrencyCheck {
        currencies
            .entry(currency.to_owned())
            .or_insert_with(|| CurrencyCheck {
                currency: currency.to_owned(),
                debits: 0,
                credits: 0,
                balanced: true,
                closing_sum: 0,
            })
    }
    for flow in &flows {
        let c = check(&mut currencies, &flow.currency);
        c.debits += flow.debits;
        c.credits += flow.credits;
    }
    for closing in &closings {
        check(&mut currencies, &closing.currency).closing_sum += closing.closing;
    }
    for c in currencies.values_mut() {
        c.balanced = c.debits == c.credits && c.closing_sum == 0;
    }
    let mut suspense = Vec::new();
    for row in store.day_suspense(date)? {
        let account = store
            .account(row.account_id)?
            .expect("suspense rows name projected accounts");
        suspense.push(SuspenseAccount {
            account_no: account.account_no,
            balance: row.balance,
            open_entries: open_entries(store, row.account_id, date)?,
        });
    }
    Ok(DayEndReport {
        date: date.to_owned(),
        closed: !closings.is_empty(),
        flows: flows
            .into_iter()
            .map(|f| FlowRow {
                account_type: f.account_type,
                currency: f.currency,
                debits: f.debits,
                credits: f.credits,
                entries: f.entries,
            })
            .collect(),
        closings: closings
            .into_iter()
            .map(|c| ClosingRow {
                account_type: c.account_type,
                currency: c.currency,
                accounts: c.accounts,
                closing: c.closing,
            })
            .collect(),
        currencies: currencies.into_values().collect(),
        suspense,
    })
}

/// The account's entries up to `date` since its balance was last zero.
fn open_entries(
    store: &mut dyn Store,
    account_id: u64,
    date: &str,
) -> Result<Vec<paycore_api::ledger::EntryResponse>, ApiError> {
    let mut open = Vec::new();
    let mut from_seq = 0;
    loop {
        let page = store.entries(&EntryQuery {
            account_id: Some(account_id),
            from_seq,
            to_date: Some(date.to_owned()),
            limit: 10_000,
            ..Default::default()
        })?;
        let Some(last) = page.last() else { break };
        from_seq = last.seq + 1;
        for entry in page {
            if entry.balance_after == 0 {
                open.clear();
            } else {
                open.push(entry);
            }
        }
    }
    let skip = open.len().saturating_sub(OPEN_ENTRIES_MAX);
    Ok(open.into_iter().skip(skip).map(entry_response).collect())
}
