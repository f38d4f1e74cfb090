//! Applying what a bank said (its answer, a callback, a status query) to a payment, and
//! finishing a success: post it in the ledger, then mark the payment succeeded and its trade
//! paid. Each step is one writer job; between them nothing is assumed, every job re-reads
//! the payment and lets `Payment::report` decide.

use paycore_channels::{BankStatus, CallError};
use paycore_payment_store::repo::{payments, trades};
use paycore_payments::merchant::account_of;
use paycore_payments::routing::CallOutcome;
use paycore_payments::{
    payment_postings, AttemptStatus, BankReport, BankResult, Effect, Method, PayError, Payment,
    PaymentStatus, ReportSource,
};

use crate::clock::now_ms;
use crate::error::Result;
use crate::state::WriterState;
use crate::PaymentService;

pub(crate) type Source = ReportSource;

pub(crate) fn to_channel_method(method: Method) -> paycore_channels::Method {
    match method {
        Method::Quickpay => paycore_channels::Method::Quickpay,
        Method::Netbank => paycore_channels::Method::Netbank,
        Method::Payout => paycore_channels::Method::Payout,
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
    /// Applies a report about one of a payment's channel orders; a success is posted and the
    /// payment returned as it then is.
    pub(crate) async fn apply_report(
        &self,
        payment_id: &str,
        channel_order_no: &str,
        source: Source,
        result: BankResult,
    ) -> Result<Payment> {
        let report = BankReport {
            channel_order_no: channel_order_no.to_owned(),
            source,
            result,
        };
        let (id, config) = (payment_id.to_owned(), self.inner.config.clone());
        let now = now_ms();
        let (payment, effect) = self
            .inner
            .writer
            .run(move |state, sql| {
                let Some(mut payment) = payments::get(sql, &id)? else {
                    return Ok(Err(PayError::PaymentNotFound(id)));
                };
                let effect = apply(state, &mut payment, &report, now, &config);
                if effect != Effect::Nothing || report.source == ReportSource::Query {
                    payments::save(sql, &payment)?;
                }
                Ok(Ok((payment, effect)))
            })
            .await??;
        match effect {
            Effect::Post => self.post_and_mark(payment).await,
            Effect::Anomaly(message) => {
                tracing::warn!(payment = %payment.id, %message, "bank report contradicts the payment; kept for reconciliation");
                Ok(payment)
            }
            Effect::Nothing | Effect::Changed => Ok(payment),
        }
    }

    /// Posts a success the bank gave, then marks the payment succeeded and its trade paid
    /// (or, if the ledger refuses, failed with the bank's success on record).
    pub(crate) async fn post_and_mark(&self, payment: Payment) -> Result<Payment> {
        assert!(payment.needs_posting());
        let transfers = payment_postings(&payment, &account_of(&payment.merchant));
        let posted = self.inner.ledger.post(&transfers).await?;
        let id = payment.id.clone();
        let now = now_ms();
        let marked = self
            .inner
            .writer
            .run(move |state, sql| {
                let Some(mut payment) = payments::get(sql, &id)? else {
                    return Ok(Err(PayError::PaymentNotFound(id)));
                };
                if !payment.needs_posting() {
                    return Ok(Ok(payment)); // finished by a concurrent report
                }
                let channel = payment.current().channel.clone();
                state.count(&channel, |c| c.succeeded += 1);
                match posted {
                    Ok(()) => {
                        payment.mark_posted(now);
                        pay_trade(sql, &mut payment, now)?;
                    }
                    Err(code) => payment.mark_ledger_rejected(code.code(), now),
                }
                payments::save(sql, &payment)?;
                Ok(Ok(payment))
            })
            .await??;
        match marked.status {
            PaymentStatus::Succeeded => {
                tracing::debug!(payment = %marked.id, trade = %marked.trade_id, "payment succeeded")
            }
            _ => {
                tracing::warn!(payment = %marked.id, failure = ?marked.failure, "the channel succeeded but the ledger refused the posting")
            }
        }
        Ok(marked)
    }
}

/// The report, health and counters in the writer; schedules the next status query of an
/// attempt still open.
fn apply(
    state: &mut WriterState,
    payment: &mut Payment,
    report: &BankReport,
    now: u64,
    config: &crate::PaymentConfig,
) -> Effect {
    let before = payment.current().status;
    let channel = payment.current().channel.clone();
    let effect = payment.report(report, now, config.timing);
    if report.source == ReportSource::Response {
        state.record_health(&channel, call_outcome(&report.result), now);
    }
    let after = payment.current().status;
    if after != before {
        match after {
            AttemptStatus::Unknown => state.count(&channel, |c| c.unknown += 1),
            AttemptStatus::Failed => state.count(&channel, |c| c.failed += 1),
            AttemptStatus::Processing | AttemptStatus::Succeeded => {}
        }
    }
    let asked = report.source == ReportSource::Query;
    if !payment.status.is_final() && (effect != Effect::Nothing || asked) {
        let queries = payment.current().queries;
        payment.schedule_check(Some(config.query_schedule.next_after(queries, now)));
    }
    effect
}

/// Marks the payment's trade paid by it; a trade no longer open keeps its state and the
/// payment records why (a duplicate payment, or a success after the trade expired).
fn pay_trade(
    sql: &mut dyn paycore_payment_store::Sql,
    payment: &mut Payment,
    now: u64,
) -> std::result::Result<(), paycore_payment_store::StoreError> {
    let Some(mut trade) = trades::get(sql, &payment.trade_id)? else {
        return Err(paycore_payment_store::StoreError::Corrupt(format!(
            "payment {} of missing trade {}",
            payment.id, payment.trade_id
        )));
    };
    match trade.mark_paid(&payment.id, now) {
        Ok(()) => trades::update(sql, &trade),
        Err(status) => {
            payment.anomalies.push(format!(
                "succeeded while its trade was {} (paid by {:?})",
                status.name(),
                trade.paid_by
            ));
            Ok(())
        }
    }
}
