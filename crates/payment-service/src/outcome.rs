//! Applying what a bank said (its answer, a callback, a status query) to a payment, in one
//! writer job through `Payment::report` — which decides, once, whether received money is
//! kept (the payment claims its trade) or returned. What the ledger must do next then follows
//! from the stored payment alone (`drive.rs`).

use paycore_channels::{BankStatus, CallError};
use paycore_payment_store::repo::{payments, trades};
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::routing::CallOutcome;
use paycore_payments::{
    BankReport, BankResult, Effect, Method, OrderStatus, PayError, Payment, ReportSource, Step,
    Trade,
};

use crate::clock::now_ms;
use crate::error::Result;
use crate::state::WriterState;
use crate::PaymentService;

pub(crate) type Source = ReportSource;

pub(crate) fn to_channel_method(method: Method) -> paycore_channels::Method {
    match method {
        Method::Netbank => paycore_channels::Method::Netbank,
        Method::Payout => paycore_channels::Method::Payout,
        // A combined payment's external part goes through the channel as a quick payment.
        Method::Quickpay | Method::Combined | Method::Balance => paycore_channels::Method::Quickpay,
    }
}

/// A channel call's result as the domain sees it: no usable answer is never a failure.
pub(crate) fn bank_result(answer: std::result::Result<BankStatus, CallError>) -> BankResult {
    match answer {
        Ok(BankStatus::Succeeded {
            bank_ref,
            amount_minor,
        }) => BankResult::Succeeded {
            bank_ref,
            amount: amount_minor,
        },
        Ok(BankStatus::Failed { code, message }) => BankResult::Failed { code, message },
        Ok(BankStatus::Processing) => BankResult::Processing,
        Ok(BankStatus::NotFound) => BankResult::NotFound,
        Err(error) => BankResult::NoAnswer {
            reason: match error {
                CallError::Timeout => "timeout".to_owned(),
                CallError::Transport(e) => format!("transport: {e}"),
                CallError::BadSignature(e) => format!("bad signature: {e}"),
                CallError::Protocol(e) => format!("protocol: {e}"),
            },
        },
    }
}

fn call_outcome(result: &BankResult) -> CallOutcome {
    match result {
        BankResult::Succeeded { .. } | BankResult::Processing => CallOutcome::Succeeded,
        BankResult::Failed { .. } | BankResult::NotFound => CallOutcome::Failed,
        BankResult::NoAnswer { .. } => CallOutcome::NoAnswer,
    }
}

impl PaymentService {
    /// Applies a report about one of a payment's channel orders, then finishes whatever the
    /// ledger must do for it; returns the payment as it then is.
    pub(crate) async fn apply_report(
        &self,
        payment_id: &str,
        order_no: &str,
        source: Source,
        result: BankResult,
    ) -> Result<Payment> {
        let report = BankReport {
            order_no: order_no.to_owned(),
            source,
            result,
        };
        let (id, config) = (payment_id.to_owned(), self.inner.config.clone());
        let now = now_ms();
        let (payment, effect) = self
            .inner
            .writer
            .run(move |state, sql| {
                let Some((mut payment, mut trade)) = with_trade(sql, &id)? else {
                    return Ok(Err(PayError::PaymentNotFound(id)));
                };
                let (before, payment_before) = (trade.clone(), payment.clone());
                let effect = apply(state, &mut payment, &mut trade, &report, now, &config);
                if effect != Effect::Nothing || report.source == ReportSource::Query {
                    payments::save_over(sql, &payment, &payment_before)?;
                }
                if trade != before {
                    trades::update(sql, &trade)?;
                }
                Ok(Ok((payment, effect)))
            })
            .await??;
        if let Effect::Anomaly(message) = &effect {
            tracing::warn!(payment = %payment.id, %message, "bank report contradicts the payment; kept for reconciliation");
        }
        self.drive(payment).await
    }
}

/// A payment with its trade.
pub(crate) fn with_trade(
    sql: &mut dyn Sql,
    id: &str,
) -> std::result::Result<Option<(Payment, Trade)>, StoreError> {
    let Some(payment) = payments::get(sql, id)? else {
        return Ok(None);
    };
    let trade = trades::get(sql, &payment.trade_id)?.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "payment {id} of missing trade {}",
            payment.trade_id
        ))
    })?;
    Ok(Some((payment, trade)))
}

/// The report, health and counters in the writer; schedules the next status query while the
/// outcome is open.
fn apply(
    state: &mut WriterState,
    payment: &mut Payment,
    trade: &mut Trade,
    report: &BankReport,
    now: u64,
    config: &crate::PaymentConfig,
) -> Effect {
    let Some(index) = payment
        .attempts
        .iter()
        .position(|a| a.order.order_no == report.order_no)
    else {
        return payment.report(trade, report, now, config.timing);
    };
    let before = payment.attempts[index].order.status;
    let channel = payment.attempts[index].order.channel.clone();
    let effect = payment.report(trade, report, now, config.timing);
    let after = payment.attempts[index].order.status;
    track(state, &channel, report, (before, after), now);
    let asked = report.source == ReportSource::Query;
    if payment.next_step() == Step::AskBank && (effect != Effect::Nothing || asked) {
        let queries = payment.current().map_or(0, |a| a.order.queries);
        payment.schedule_check(config.query_schedule.next_after(queries, now));
    }
    effect
}

/// A channel's health (from its own answers) and counters (from each order's status
/// changes), after `report` moved one of its orders from `moved.0` to `moved.1`.
pub(crate) fn track(
    state: &mut WriterState,
    channel: &str,
    report: &BankReport,
    moved: (OrderStatus, OrderStatus),
    now: u64,
) {
    if report.source == ReportSource::Response {
        state.record_health(channel, call_outcome(&report.result), now);
    }
    if moved.0 != moved.1 {
        match moved.1 {
            OrderStatus::Unknown => state.count(channel, |c| c.unknown += 1),
            OrderStatus::Failed => state.count(channel, |c| c.failed += 1),
            OrderStatus::Succeeded => state.count(channel, |c| c.succeeded += 1),
            OrderStatus::Processing => {}
        }
    }
}
