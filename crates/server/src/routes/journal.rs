//! Queries answered by the query store: an account's journal (账户流水), transfers by account,
//! reference or date, daily balances, and the event stream. Pages follow the journal's global
//! sequence (or the ledger's record order), never a clock, so they neither skip nor repeat.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use paycore_store::{carry_forward, EntryQuery, EntryRow, RecordQuery, RecordRow, Store};
use serde::Deserialize;
use utoipa::IntoParams;

use super::with_store;
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::extract::{Path, Query};
use crate::input;
use crate::render::timestamp;
use crate::state::AppState;
use paycore_api::ledger::{
    DailyBalanceResponse, DailyBalances, EntryPage, EntryResponse, EventPage, TransferPage,
    TransferResponse,
};

const PAGE_DEFAULT: usize = 100;
const PAGE_MAX: usize = 1_000;
const DAYS_MAX: i64 = 366;
const WAIT_MAX_SECONDS: u64 = 30;

pub fn entry_response(e: EntryRow) -> EntryResponse {
    EntryResponse {
        seq: e.seq,
        account_no: e.account_no,
        transfer_id: e.client_id,
        kind: e.kind.into_owned(),
        amount: e.amount,
        balance_before: e.balance_before,
        balance_after: e.balance_after,
        frozen_after: e.frozen_after,
        accounting_date: e.accounting_date,
        timestamp: timestamp(e.timestamp),
        aggregated: e.aggregated,
    }
}

/// A split account's sub-accounts, whose journal is the split account's (the ledger and the
/// store share account ids); empty for any other account.
fn sub_accounts(state: &AppState, account_no: &str) -> Vec<u64> {
    state
        .engine
        .read(|l| {
            let number = paycore_ledger::AccountNo::new(account_no).ok()?;
            let subs = l.sub_accounts(l.resolve(&number)?)?;
            Some(subs.iter().map(|s| u64::from(s.0)).collect())
        })
        .unwrap_or_default()
}

fn page_size(limit: Option<usize>) -> usize {
    limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX)
}

/// The store's id of an account, or 404 if the store does not know it (yet).
pub fn store_account(store: &mut dyn Store, account_no: &str) -> Result<u64, ApiError> {
    store
        .account_id(account_no)?
        .ok_or_else(|| ApiError::from(paycore_ledger::ErrorCode::AccountNotFound))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// First accounting date (YYYY-MM-DD), inclusive.
    from_date: Option<String>,
    /// Last accounting date, inclusive.
    to_date: Option<String>,
    /// First sequence number, inclusive (the `next_from_seq` of the previous page).
    from_seq: Option<u64>,
    /// Page size, 1–1000 (default 100).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/v1/accounts/{account_no}/entries", tag = "journal", params(("account_no" = String, Path), EntriesQuery),
    responses((status = 200, description = "entries in sequence order", body = EntryPage), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn entries(
    State(state): State<AppState>,
    principal: Principal,
    Path(account_no): Path<String>,
    Query(q): Query<EntriesQuery>,
) -> Result<Json<EntryPage>, ApiError> {
    principal.require(Need::Read)?;
    input::account_no(&account_no)?;
    let from_date = q
        .from_date
        .as_deref()
        .map(|d| input::date("from_date", d).map(|d| d.to_string()))
        .transpose()?;
    let to_date = q
        .to_date
        .as_deref()
        .map(|d| input::date("to_date", d).map(|d| d.to_string()))
        .transpose()?;
    let limit = page_size(q.limit);
    let sub_accounts = sub_accounts(&state, &account_no);
    let rows = with_store(&state, move |store| {
        let account_id = store_account(store, &account_no)?;
        let query = EntryQuery {
            account_id: Some(account_id),
            sub_accounts,
            from_seq: q.from_seq.unwrap_or(0),
            from_date,
            to_date,
            limit,
        };
        Ok(store.entries(&query)?)
    })
    .await?;
    let next_from_seq = (rows.len() == limit)
        .then(|| rows.last().map(|e| e.seq + 1))
        .flatten();
    Ok(Json(EntryPage {
        entries: rows.into_iter().map(entry_response).collect(),
        next_from_seq,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TransfersQuery {
    /// Transfers debiting or crediting this account.
    account: Option<String>,
    /// Transfers with exactly this reference.
    reference: Option<String>,
    /// First accounting date (YYYY-MM-DD), inclusive.
    from: Option<String>,
    /// Last accounting date, inclusive.
    to: Option<String>,
    /// Continue after this position (the `next` of the previous page).
    after: Option<u64>,
    /// Page size, 1–1000 (default 100).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/v1/transfers", tag = "journal", params(TransfersQuery),
    responses((status = 200, description = "transfers in ledger order", body = TransferPage), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn transfers(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<TransfersQuery>,
) -> Result<Json<TransferPage>, ApiError> {
    principal.require(Need::Read)?;
    let from_date = q
        .from
        .as_deref()
        .map(|d| input::date("from", d).map(|d| d.to_string()))
        .transpose()?;
    let to_date =
        q.to.as_deref()
            .map(|d| input::date("to", d).map(|d| d.to_string()))
            .transpose()?;
    if let Some(account) = &q.account {
        input::account_no(account)?;
    }
    let subs = q
        .account
        .as_deref()
        .map(|a| sub_accounts(&state, a))
        .unwrap_or_default();
    let limit = page_size(q.limit);
    let page = with_store(&state, move |store| {
        let account_id = q
            .account
            .as_deref()
            .map(|a| store_account(store, a))
            .transpose()?;
        let query = RecordQuery {
            account_id,
            sub_accounts: subs,
            reference: q.reference,
            from_date,
            to_date,
            after_record: q.after,
            limit,
        };
        let rows = store.records(&query)?;
        let next = (rows.len() == limit)
            .then(|| rows.last().map(|r| r.record_id))
            .flatten();
        let mut numbers = HashMap::new();
        let transfers = rows
            .into_iter()
            .map(|r| record_response(store, &mut numbers, r))
            .collect::<Result<_, ApiError>>()?;
        Ok(TransferPage { transfers, next })
    })
    .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/v1/accounts/{account_no}/entries/{seq}/transfers", tag = "journal",
    params(("account_no" = String, Path), ("seq" = u64, Path, description = "an aggregated credit entry of the account")),
    responses((status = 200, description = "the transfers a hot account's aggregated credit contains (drill-down), in record order", body = TransferPage), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn entry_transfers(
    State(state): State<AppState>,
    principal: Principal,
    Path((account_no, seq)): Path<(String, u64)>,
) -> Result<Json<TransferPage>, ApiError> {
    principal.require(Need::Read)?;
    let page = with_store(&state, move |store| {
        let account_id = store_account(store, &account_no)?;
        let entry = store
            .entries(&EntryQuery {
                account_id: Some(account_id),
                from_seq: seq,
                limit: 1,
                ..Default::default()
            })?
            .into_iter()
            .find(|e| e.seq == seq)
            .ok_or_else(|| {
                ApiError::not_found(
                    "entry_not_found",
                    format!("account {account_no} has no entry {seq}"),
                )
            })?;
        let rows = if entry.aggregated > 0 {
            store.flush_members(seq)?
        } else {
            let record = RecordQuery {
                after_record: entry.record_id.checked_sub(1),
                limit: 1,
                ..Default::default()
            };
            store
                .records(&record)?
                .into_iter()
                .filter(|r| r.record_id == entry.record_id)
                .collect()
        };
        let mut numbers = HashMap::new();
        let transfers = rows
            .into_iter()
            .map(|r| record_response(store, &mut numbers, r))
            .collect::<Result<_, ApiError>>()?;
        Ok(TransferPage {
            transfers,
            next: None,
        })
    })
    .await?;
    Ok(Json(page))
}

fn record_response(
    store: &mut dyn Store,
    numbers: &mut HashMap<u64, String>,
    r: RecordRow,
) -> Result<TransferResponse, ApiError> {
    let mut number = |id: Option<u64>| -> Result<Option<String>, ApiError> {
        let Some(id) = id else { return Ok(None) };
        if let Some(known) = numbers.get(&id) {
            return Ok(Some(known.clone()));
        }
        let found = store.account(id)?.map(|a| a.account_no);
        if let Some(found) = &found {
            numbers.insert(id, found.clone());
        }
        Ok(found)
    };
    let error = (r.result != "ok").then(|| ErrorDetail {
        code: r.result.to_string(),
        message: String::new(),
    });
    Ok(TransferResponse {
        id: r.client_id,
        debit_account: number(r.debit_account)?,
        credit_account: number(r.credit_account)?,
        amount: r.amount,
        currency: r.currency.map(|c| c.into_owned()),
        kind: r.kind.map_or_else(|| "transfer".into(), |k| k.into_owned()),
        reference: r.reference,
        status: if error.is_none() {
            "posted"
        } else {
            "rejected"
        }
        .into(),
        error,
        timestamp: timestamp(r.timestamp),
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DailyQuery {
    /// First day (YYYY-MM-DD); default: six days before `to`.
    from: Option<String>,
    /// Last day; default: the current accounting date.
    to: Option<String>,
}

#[utoipa::path(get, path = "/v1/accounts/{account_no}/daily-balances", tag = "journal", params(("account_no" = String, Path), DailyQuery),
    responses((status = 200, description = "one row per day; opening(T) = closing(T-1)", body = DailyBalances), (status = 404, body = ErrorBody), (status = 503, description = "store_unavailable: the query store could not answer", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn daily_balances(
    State(state): State<AppState>,
    principal: Principal,
    Path(account_no): Path<String>,
    Query(q): Query<DailyQuery>,
) -> Result<Json<DailyBalances>, ApiError> {
    principal.require(Need::Read)?;
    input::account_no(&account_no)?;
    let today = state.engine.read(|l| l.accounting_date());
    let to =
        q.to.as_deref()
            .map(|d| input::date("to", d))
            .transpose()?
            .unwrap_or(today);
    let from = q
        .from
        .as_deref()
        .map(|d| input::date("from", d))
        .transpose()?
        .unwrap_or(to - time::Duration::days(6));
    if from > to || (to - from).whole_days() >= DAYS_MAX {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("`from` must not be after `to`, and the range is at most {DAYS_MAX} days"),
        ));
    }
    let result = with_store(&state, move |store| {
        let id = store_account(store, &account_no)?;
        let account = store
            .account(id)?
            .expect("ids come from the accounts table");
        let rows = store.daily_rows(id, &from.to_string(), &to.to_string())?;
        let before = store.closing_before(id, &from.to_string())?;
        let days = carry_forward(from, to, before, &rows)
            .into_iter()
            .map(|d| DailyBalanceResponse {
                accounting_date: d.accounting_date,
                opening: d.opening,
                debits: d.debits,
                credits: d.credits,
                closing: d.closing,
                entries: d.entries,
            })
            .collect();
        Ok(DailyBalances {
            account_no: account.account_no,
            currency: account.currency,
            days,
        })
    })
    .await?;
    Ok(Json(result))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Return events after this sequence number (0: from the start).
    after: Option<u64>,
    /// Most events to return, 1–1000 (default 100).
    limit: Option<usize>,
    /// Seconds to wait for an event when there is none yet (long poll), at most 30.
    wait: Option<u64>,
}

#[utoipa::path(get, path = "/v1/events", tag = "journal", params(EventsQuery),
    responses((status = 200, description = "every committed posting in log order, with balances after it; resumable from any sequence", body = EventPage)),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<EventsQuery>,
) -> Result<Json<EventPage>, ApiError> {
    principal.require(Need::Read)?;
    let after = q.after.unwrap_or(0);
    let limit = page_size(q.limit);
    let deadline = Instant::now() + Duration::from_secs(q.wait.unwrap_or(0).min(WAIT_MAX_SECONDS));
    loop {
        let rows = with_store(&state, move |store| {
            Ok(store.entries(&EntryQuery {
                from_seq: after.saturating_add(1),
                limit,
                ..Default::default()
            })?)
        })
        .await?;
        if !rows.is_empty() || Instant::now() >= deadline {
            let next_after = rows.last().map_or(after, |e| e.seq);
            return Ok(Json(EventPage {
                events: rows.into_iter().map(entry_response).collect(),
                next_after,
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
