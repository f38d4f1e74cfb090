//! `GET /v1/verify` (`paycore verify`): recomputes every account's balance from the query
//! store's journal and compares it with the ledger, at one consistent point: the ledger state
//! as read, and the journal entries that state had produced.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use paycore_ledger::AccountId;

use super::journal::entry_response;
use super::with_store;
use crate::auth::{Need, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use paycore_api::ledger::{VerifyDifference, VerifyReport};

/// How long verify waits for the query store to catch up with the ledger.
const CATCH_UP_WAIT: Duration = Duration::from_secs(60);

#[utoipa::path(get, path = "/v1/verify", tag = "day-end",
    responses((status = 200, description = "differences is empty when the journal reproduces every balance", body = VerifyReport), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<VerifyReport>, ApiError> {
    principal.require(Need::Admin)?;
    let (sequence, entry_end, balances) = state.engine.read(|l| {
        let balances: Vec<(String, i64)> = (0..l.account_count())
            .map(|i| {
                (
                    l.account_info(AccountId(i))
                        .expect("info")
                        .number
                        .to_string(),
                    l.account(AccountId(i)).expect("account").balance,
                )
            })
            .collect();
        (
            state.engine.metrics().applied_sequence,
            l.next_entry_seq(),
            balances,
        )
    });
    let deadline = Instant::now() + CATCH_UP_WAIT;
    while state.projection.applied_sequence.load(Relaxed) < sequence {
        if Instant::now() > deadline {
            return Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "store_lagging",
                "the query store has not caught up with the ledger",
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report = with_store(&state, move |store| {
        let sums: HashMap<u64, (i64, u64)> = store
            .journal_sums(entry_end)?
            .into_iter()
            .map(|(a, s, n)| (a, (s, n)))
            .collect();
        let entries = sums.values().map(|(_, n)| n).sum();
        let mut differences = Vec::new();
        for (index, (number, balance)) in balances.iter().enumerate() {
            let journal_balance = sums.get(&(index as u64)).map_or(0, |(s, _)| *s);
            let broken = store
                .first_broken_entry(index as u64)?
                .filter(|e| e.seq < entry_end);
            if journal_balance != *balance || broken.is_some() {
                differences.push(VerifyDifference {
                    account_no: number.clone(),
                    ledger_balance: *balance,
                    journal_balance,
                    first_diverging_entry: broken.map(entry_response),
                });
            }
        }
        Ok(VerifyReport {
            sequence,
            accounts: balances.len() as u64,
            entries,
            differences,
        })
    })
    .await?;
    Ok(Json(report))
}
