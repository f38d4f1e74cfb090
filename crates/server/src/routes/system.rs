//! Unauthenticated operational endpoints: health, Prometheus metrics, the OpenAPI document.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use utoipa::OpenApi;

use crate::state::AppState;
use paycore_api::ledger::Health;

#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "`status` is `ok`", body = Health),
        (status = 503, description = "`status` is `engine_stopped`: a failed log write or fsync stopped the engine (`engine_error` says which); nothing is accepted until a restart, which recovers every acknowledged batch", body = Health)))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let metrics = state.engine.metrics();
    let engine_error = state.engine.health().err().map(|e| e.to_string());
    let (status, text) = match engine_error {
        None => (StatusCode::OK, "ok"),
        Some(_) => (StatusCode::SERVICE_UNAVAILABLE, "engine_stopped"),
    };
    let lag = store_lag(&state);
    let feed = super::accounting::feed_lag(&state);
    let health = Health {
        status: text.into(),
        engine_error,
        role: if state.engine.is_standby() {
            "standby"
        } else {
            "leader"
        }
        .into(),
        applied_sequence: metrics.applied_sequence,
        durable_sequence: metrics.durable_sequence,
        accounting_date: state.engine.read(|l| l.accounting_date().to_string()),
        utc_offset: offset_text(state.engine.config().utc_offset_seconds),
        store_sequence: lag.applied,
        store_lag_batches: lag.batches,
        store_lag_seconds: lag.seconds,
        store_error: state.projection.last_error.lock().clone(),
        accounting_sequence: feed.applied,
        accounting_lag_batches: feed.batches,
        accounting_lag_seconds: feed.seconds,
        accounting_error: state.books.status().last_error.lock().clone(),
    };
    (status, Json(health))
}

#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let m = state.engine.metrics();
    let (accounts, records) = state.engine.read(|l| (l.account_count(), l.record_count()));
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = write!(
            out,
            "# HELP paycore_{name} {help}\n# TYPE paycore_{name} {kind}\npaycore_{name} {value}\n"
        );
    };
    metric(
        "engine_batches_total",
        "counter",
        "Batches made durable (one log record and one fsync each).",
        m.batches,
    );
    metric(
        "engine_commands_total",
        "counter",
        "Commands made durable.",
        m.commands,
    );
    metric(
        "engine_failed_batches_total",
        "counter",
        "Batches refused because the log write failed.",
        m.failed_batches,
    );
    metric(
        "engine_stopped",
        "gauge",
        "1 once a failed log write or fsync stopped the engine (a restart recovers).",
        u64::from(state.engine.health().is_err()),
    );
    metric(
        "engine_fsyncs_total",
        "counter",
        "fdatasync calls on the log.",
        m.fsyncs,
    );
    metric(
        "engine_fsync_seconds_total_micros",
        "counter",
        "Time spent in fdatasync, microseconds.",
        m.fsync_nanos_total / 1_000,
    );
    metric(
        "engine_last_fsync_micros",
        "gauge",
        "Duration of the last fdatasync, microseconds.",
        m.fsync_nanos_last / 1_000,
    );
    metric(
        "engine_last_batch_commands",
        "gauge",
        "Commands in the last batch.",
        m.last_batch_commands,
    );
    metric(
        "engine_apply_micros_total",
        "counter",
        "Time the state machine spent applying batches, microseconds.",
        m.apply_nanos_total / 1_000,
    );
    metric(
        "engine_log_bytes_total",
        "counter",
        "Bytes appended to the log.",
        m.log_bytes,
    );
    metric(
        "engine_queue_depth",
        "gauge",
        "Requests waiting for the writer.",
        m.queue_depth,
    );
    metric(
        "engine_durable_sequence",
        "gauge",
        "Last batch sequence made durable.",
        m.durable_sequence,
    );
    metric(
        "engine_applied_sequence",
        "gauge",
        "Last batch sequence applied to the in-memory state.",
        m.applied_sequence,
    );
    metric(
        "engine_snapshot_sequence",
        "gauge",
        "Last batch sequence covered by a snapshot.",
        m.snapshot_sequence,
    );
    metric(
        "engine_recovery_micros",
        "gauge",
        "Time the last startup recovery took, microseconds.",
        m.recovery_nanos / 1_000,
    );
    metric(
        "ledger_accounts",
        "gauge",
        "Accounts in the ledger.",
        u64::from(accounts),
    );
    metric(
        "ledger_records",
        "gauge",
        "Decided commands stored (the idempotency index size).",
        records,
    );
    let store = store_lag(&state);
    metric(
        "store_applied_sequence",
        "gauge",
        "Last log batch the query store includes.",
        store.applied,
    );
    metric(
        "store_lag_batches",
        "gauge",
        "Durable batches the query store has not projected yet.",
        store.batches,
    );
    let feed = super::accounting::feed_lag(&state);
    metric(
        "accounting_applied_sequence",
        "gauge",
        "Last log batch the accounting feed has posted.",
        feed.applied,
    );
    metric(
        "accounting_lag_batches",
        "gauge",
        "Durable batches the accounting feed has not posted yet.",
        feed.batches,
    );
    metric(
        "http_responses_2xx_total",
        "counter",
        "HTTP responses with a 2xx status.",
        state.http.ok.load(Relaxed),
    );
    metric(
        "http_responses_4xx_total",
        "counter",
        "HTTP responses with a 4xx status.",
        state.http.client_errors.load(Relaxed),
    );
    metric(
        "http_responses_5xx_total",
        "counter",
        "HTTP responses with a 5xx status.",
        state.http.server_errors.load(Relaxed),
    );
    for (name, help, seconds) in [
        (
            "store_lag_seconds",
            "Engine time between the last durable batch and the last projected one.",
            store.seconds,
        ),
        (
            "accounting_lag_seconds",
            "Engine time between the last durable batch and the last one posted to accounting.",
            feed.seconds,
        ),
    ] {
        let _ = write!(
            out,
            "# HELP paycore_{name} {help}\n# TYPE paycore_{name} gauge\npaycore_{name} {seconds}\n"
        );
    }
    // Merchant notifications: deliveries, failures by reason, queue depth, oldest age.
    if let Some(notify) = state.payments.notify_metrics() {
        out.push_str(&notify.prometheus());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

#[utoipa::path(get, path = "/openapi.json", tag = "system", responses((status = 200, description = "this document")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::ApiDoc::openapi())
}

struct StoreLag {
    applied: u64,
    batches: u64,
    seconds: f64,
}

/// How far the query store is behind the durable log.
fn store_lag(state: &AppState) -> StoreLag {
    let applied = state.projection.applied_sequence.load(Relaxed);
    let durable = state.engine.metrics().durable_sequence;
    let batches = durable.saturating_sub(applied);
    let seconds = if batches == 0 {
        0.0
    } else {
        let projected = state.projection.applied_timestamp.load(Relaxed);
        state
            .engine
            .read(|l| l.last_timestamp())
            .saturating_sub(projected) as f64
            / 1e9
    };
    StoreLag {
        applied,
        batches,
        seconds,
    }
}

/// `+08:00` for 28,800 seconds.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn offsets_are_written_as_iso_8601() {
        assert_eq!(super::offset_text(28_800), "+08:00");
        assert_eq!(super::offset_text(-19_800), "-05:30");
        assert_eq!(super::offset_text(0), "+00:00");
    }
}
