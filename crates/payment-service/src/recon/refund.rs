//! The `refund` action: money the channel holds that paycore does not count goes back to the
//! payer through the channel — a success the statement lists for a channel order paycore has
//! as failed (长款), or a payment the channel lists twice. It is a refund of that channel
//! order paid out of suspense (`RefundSource::Reconciliation`: on success the receipt and
//! its return are posted together), created in the same writer job that marks the exception
//! `resolving`. The exception closes when the refund succeeded and opens again when it
//! failed; a refund that ends later (a callback, the resolver) is followed as it ends and by
//! the sweep.

use paycore_payment_store::repo::{payments, recon, refunds};
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::{
    NewRefund, OrderStatus, Payment, Refund, RefundSource, RefundStep, Refundable,
};
use paycore_recon::{Action, Difference, Exception, ExceptionStatus, ReconError, RecordKind};

use super::exceptions::Resolution;
use crate::clock::now_ms;
use crate::error::Result;
use crate::state::WriterState;
use crate::PaymentService;

impl PaymentService {
    pub(super) async fn resolve_by_refund(
        &self,
        exception: Exception,
        resolution: Resolution,
        by: &str,
    ) -> Result<Exception> {
        let (by, reason, now) = (by.to_owned(), resolution.reason, now_ms());
        let (exception, refund) = self
            .inner
            .writer
            .run(move |state, sql| start_refund(state, sql, &exception.id, &by, &reason, now))
            .await??;
        tracing::info!(exception = %exception.id, refund = %refund.id, amount = refund.amount, "reconciliation refund sent");
        self.drive_refund(refund).await?;
        self.exception(&exception.id).await
    }

    /// Follows a reconciliation refund that ended: succeeded closes its exception, failed
    /// opens it again.
    pub(crate) async fn follow_recon_refund(&self, refund: &Refund) {
        if refund.source != RefundSource::Reconciliation || refund.next_step() != RefundStep::Done {
            return;
        }
        let (id, status, now) = (refund.id.clone(), refund.status(), now_ms());
        let failure = refund
            .failure
            .as_ref()
            .map_or(String::new(), |f| format!(": {} {}", f.code, f.message));
        let followed = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut e) = recon::exception_by_refund(sql, &id)? else {
                    return Ok(None);
                };
                if e.status != ExceptionStatus::Resolving {
                    return Ok(Some(e));
                }
                match status {
                    OrderStatus::Succeeded => {
                        e.close(now, "system", &format!("refund {id} succeeded"))
                    }
                    OrderStatus::Failed => {
                        e.reopen(now, "system", &format!("refund {id} failed{failure}"))
                    }
                    _ => return Ok(Some(e)),
                }
                recon::save_exception(sql, 0, &e)?;
                Ok::<_, StoreError>(Some(e))
            })
            .await;
        match followed {
            Ok(Some(e)) => {
                tracing::info!(exception = %e.id, status = e.status.name(), refund = %refund.id, "exception follows its refund")
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(refund = %refund.id, %error, "following a reconciliation refund failed; the sweep tries again")
            }
        }
    }
}

type Started = std::result::Result<(Exception, Refund), crate::error::ServiceError>;

/// Checks the exception against paycore's payment, then stores the refund and the resolving
/// exception together.
fn start_refund(
    state: &mut WriterState,
    sql: &mut dyn Sql,
    exception_id: &str,
    by: &str,
    reason: &str,
    now: u64,
) -> std::result::Result<Started, StoreError> {
    let Some(mut exception) = recon::exception(sql, exception_id)? else {
        return Ok(Err(
            ReconError::ExceptionNotFound(exception_id.to_owned()).into()
        ));
    };
    if let Err(e) = exception.check_action(Action::Refund) {
        return Ok(Err(e.into()));
    }
    let payment = match payment_to_refund(sql, &exception)? {
        Ok(payment) => payment,
        Err(reason) => {
            let refused = ReconError::ActionNotPossible {
                action: "refund",
                reason,
            };
            return Ok(Err(refused.into()));
        }
    };
    let refund_id = recon_refund_id(&exception);
    let refund = match refunds::get(sql, &refund_id)? {
        Some(existing) => existing,
        None => {
            let paid = Refundable {
                payment_id: &payment.id,
                trade_id: &payment.trade_id,
                merchant: &payment.merchant,
                currency: payment.currency,
                channel: &exception.channel,
                paid_order_no: &exception.channel_order_no,
            };
            let request = NewRefund {
                id: refund_id.clone(),
                amount: exception.amount,
                reason: format!("reconciliation {}: {reason}", exception.kind.name()),
            };
            let order_no = state.next_order_no(now);
            let refund = Refund::new(request, &paid, RefundSource::Reconciliation, order_no, now);
            refunds::save(sql, &refund)?;
            refund
        }
    };
    if let Err(e) = exception.resolving(Action::Refund, by, reason, &refund_id, now) {
        return Ok(Err(e.into()));
    }
    exception.refund_id = Some(refund_id);
    recon::save_exception(sql, 0, &exception)?;
    Ok(Ok((exception, refund)))
}

/// The payment whose channel order the channel holds money for, or why there is none to
/// refund through.
fn payment_to_refund(
    sql: &mut dyn Sql,
    exception: &Exception,
) -> std::result::Result<std::result::Result<Payment, String>, StoreError> {
    let key = &exception.channel_order_no;
    let ours = match exception.ours.as_str() {
        "null" => None,
        text => Some(recon::ours_from_json(text)?),
    };
    let Some(ours) = ours.filter(|o| o.kind == RecordKind::Payment) else {
        return Ok(Err(format!(
            "paycore has no payment for channel order {key} to refund through; supplement or accept"
        )));
    };
    let Some(payment) = payments::get(sql, &ours.owner)? else {
        return Ok(Err(format!("payment {} is gone", ours.owner)));
    };
    let Some(attempt) = payment.attempts.iter().find(|a| &a.order.order_no == key) else {
        return Ok(Err(format!(
            "payment {} has no channel order {key}",
            payment.id
        )));
    };
    let status = attempt.order.status;
    if exception.kind == Difference::MissingOurs && status != OrderStatus::Failed {
        return Ok(Err(format!(
            "channel order {key} is {} at paycore: its own outcome (or 补单) decides, not a refund",
            status.name()
        )));
    }
    Ok(Ok(payment))
}

/// The refund id of an exception's next `refund`: one at a time, a new one after a failed
/// one reopened it.
fn recon_refund_id(exception: &Exception) -> String {
    let sent = exception
        .history
        .iter()
        .filter(|h| h.event == "refund")
        .count();
    super::derived_id("recon-refund-", &format!("{}#{sent}", exception.id))
}
