//! The `/sim/` control of statements (unsigned, the test harness's): set and show a channel's
//! statement faults, and tell which lines of a day's statement got which fault.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;

use super::admin::{error, json};
use crate::bank::Bank;
use crate::calendar;
use crate::faults::{FaultsBody, StatementFaults};

pub async fn put_faults(
    State(bank): State<Arc<Bank>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(channel) = bank.channel(&id) else {
        return error(404, "channel_not_found", format!("no channel {id}"));
    };
    let faults = serde_json::from_slice::<FaultsBody>(&body)
        .map_err(|e| e.to_string())
        .and_then(StatementFaults::from_body);
    match faults {
        Ok(faults) => {
            channel.state.lock().faults = faults;
            tracing::info!(channel = %id, ?faults, "statement faults set");
            json(200, &faults)
        }
        Err(message) => error(400, "invalid_faults", message),
    }
}

pub async fn get_faults(State(bank): State<Arc<Bank>>, Path(id): Path<String>) -> Response {
    match bank.channel(&id) {
        Some(channel) => json(200, &channel.state.lock().faults),
        None => error(404, "channel_not_found", format!("no channel {id}")),
    }
}

pub async fn get_truth(
    State(bank): State<Arc<Bank>>,
    Path((id, date)): Path<(String, String)>,
) -> Response {
    let Some(channel) = bank.channel(&id) else {
        return error(404, "channel_not_found", format!("no channel {id}"));
    };
    let Some(date) = calendar::parse_date(&date) else {
        return error(400, "invalid_date", "the date must be YYYY-MM-DD");
    };
    json(200, &bank.day(&channel, date).truth())
}
