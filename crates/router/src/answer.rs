//! A cross-shard transfer as the router answers it: the transfer as a single-shard one looks
//! (so clients need not care where accounts live) plus `cross_shard`, its steps and phase.

use axum::http::StatusCode;
use paycore_crossshard::{Phase, Refusal, StepKind};
use serde_json::{json, Value};

use crate::coordinator::Driven;

pub fn render(driven: &Driven) -> (StatusCode, Value) {
    let intent = &driven.intent;
    let detail = cross_shard(driven);
    let status_of =
        |r: &Refusal| StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    if let Some(why) = &driven.pending {
        let body = json!({"id": intent.id, "status": "in_flight", "cross_shard": detail,
            "message": format!("recorded and being completed ({why}); ask again with the same id for the outcome")});
        return (StatusCode::ACCEPTED, body);
    }
    match &intent.phase {
        Phase::Credited | Phase::Completed | Phase::Unsettled { .. } => {
            (StatusCode::CREATED, posted(driven, detail))
        }
        Phase::Refused { refusal } => (
            status_of(refusal),
            error(&refusal.code, &refusal.message, detail),
        ),
        Phase::Compensated { refusal } => {
            let message = format!(
                "shard {} refused the credit: {}; the debit on shard {} was reversed",
                intent.target, refusal.message, intent.source
            );
            (status_of(refusal), error(&refusal.code, &message, detail))
        }
        Phase::CompensationRefused {
            refusal,
            compensation,
        } => {
            let message = format!("shard {} refused the credit ({}) and shard {} refused to reverse the debit ({}): the amount is held in transit account {} for an operator (挂账)",
                intent.target, refusal.message, intent.source, compensation.message, paycore_crossshard::transit_account(&intent.target, &intent.currency));
            (status_of(refusal), error(&refusal.code, &message, detail))
        }
        Phase::Started | Phase::Debited | Phase::Compensating { .. } => {
            unreachable!("a driven transfer without `pending` is credited or final")
        }
    }
}

fn posted(driven: &Driven, detail: Value) -> Value {
    let intent = &driven.intent;
    let credit = driven
        .steps
        .iter()
        .find(|s| s.step.kind == StepKind::Credit)
        .and_then(|s| s.accepted.as_ref());
    json!({
        "id": intent.id,
        "debit_account": intent.debit_account,
        "credit_account": intent.credit_account,
        "amount": intent.amount,
        "currency": intent.currency,
        "kind": intent.kind.as_deref().unwrap_or("transfer"),
        "reference": intent.reference.as_deref().unwrap_or(""),
        "status": "posted",
        "error": null,
        "timestamp": credit.map(|c| c["timestamp"].clone()).unwrap_or(Value::Null),
        "cross_shard": detail,
    })
}

fn error(code: &str, message: &str, detail: Value) -> Value {
    json!({"error": {"code": code, "message": message}, "cross_shard": detail})
}

fn cross_shard(driven: &Driven) -> Value {
    let steps: Vec<Value> = driven
        .steps
        .iter()
        .map(|record| {
            let step = &record.step;
            json!({
                "step": step_name(step.kind),
                "shard": step.shard,
                "id": step.id,
                "debit_account": step.debit_account,
                "credit_account": step.credit_account,
                "status": if record.accepted.is_some() { "posted" } else { "refused" },
            })
        })
        .collect();
    json!({
        "source_shard": driven.intent.source,
        "target_shard": driven.intent.target,
        "phase": driven.intent.phase_name(),
        "steps": steps,
    })
}

pub fn step_name(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Debit => "debit",
        StepKind::Credit => "credit",
        StepKind::Settle => "settle",
        StepKind::Compensate => "compensate",
    }
}
