//! Finishing a payment once the bank's outcome is known: `Payment::next_step` says what the
//! ledger must post next (keep it, move it to suspense, post a combined or balance payment)
//! or that received money must be refunded. Each step is a ledger command under ids derived
//! from the payment, then one writer job that records it — and only if the payment still
//! wants that step (a concurrent report or the resolver may have done it). A crash between
//! the two repeats the ledger command, which the ledger replays. The job that marks a trade
//! paid queues its `trade.paid` notification (`paycore_notify::outbox`).

use paycore_ledger::ErrorCode;
use paycore_notify::outbox;
use paycore_payment_store::repo::{payments, refunds, trades};
use paycore_payments::merchant::account_of;
use paycore_payments::posting::{balance_postings, combined_postings, suspense_posting};
use paycore_payments::{
    payment_postings, NewRefund, PayError, Payment, Refund, RefundSource, Refundable, Step, Trade,
    TradeStatus,
};

use crate::clock::now_ms;
use crate::error::Result;
use crate::outcome::with_trade;
use crate::PaymentService;

/// How the ids of automatic refunds start; a merchant's refund id may not.
pub(crate) const RETURN_PREFIX: &str = "return:";

/// The id of the automatic refund of a payment's money.
pub(crate) fn return_refund_id(payment_id: &str) -> String {
    format!("{RETURN_PREFIX}{payment_id}")
}

impl PaymentService {
    /// Does every step the payment has left that needs no answer from the bank.
    pub(crate) async fn drive(&self, mut payment: Payment) -> Result<Payment> {
        loop {
            let step = payment.next_step();
            let transfers = match step {
                Step::AskBank | Step::Done => return Ok(payment),
                Step::Refund => {
                    let (payment, refund) = self.start_return(&payment.id).await?;
                    if let Some(refund) = refund {
                        self.drive_refund(refund).await?;
                    }
                    return self
                        .payment(&payment.id)
                        .await?
                        .ok_or_else(|| crate::ServiceError::Internal("payment vanished".into()));
                }
                Step::PostKeep => payment_postings(&payment, &account_of(&payment.merchant)),
                Step::PostToSuspense => vec![suspense_posting(&payment)],
                Step::PostCombined => combined_postings(&payment, &account_of(&payment.merchant)),
                Step::PostBalance => balance_postings(&payment, &account_of(&payment.merchant)),
            };
            self.ensure_payment_accounts(&payment, step).await?;
            let posted = self.inner.ledger.post(&transfers).await?;
            let tried = payment.ledger_tries;
            let next = self
                .record_posting(&payment.id, (step, tried), posted)
                .await?;
            if next.next_step() == step {
                return Ok(next); // refused for now: the resolver tries again later
            }
            payment = next;
        }
    }

    /// Opens the suspense account on first use.
    async fn ensure_payment_accounts(&self, payment: &Payment, step: Step) -> Result<()> {
        if matches!(step, Step::PostToSuspense | Step::PostCombined) {
            self.inner.ledger.ensure_suspense(payment.currency).await?;
        }
        Ok(())
    }

    /// Records what the ledger did with `step`'s postings; a trade paid now queues its
    /// `trade.paid` notification in the same job.
    async fn record_posting(
        &self,
        id: &str,
        (step, tried): (Step, u16),
        posted: std::result::Result<(), ErrorCode>,
    ) -> Result<Payment> {
        let (id, now, retry_ms) = (id.to_owned(), now_ms(), self.ledger_retry_ms());
        let (payment, queued) = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some((mut payment, mut trade)) = with_trade(sql, &id)? else {
                    return Ok(Err(PayError::PaymentNotFound(id)));
                };
                if payment.next_step() != step {
                    return Ok(Ok((payment, false))); // done meanwhile
                }
                let (before, payment_before) = (trade.clone(), payment.clone());
                apply_posting(
                    &mut payment,
                    &mut trade,
                    (step, tried),
                    posted,
                    (now, retry_ms),
                );
                payments::save_over(sql, &payment, &payment_before)?;
                if trade != before {
                    trades::update(sql, &trade)?;
                }
                let paid_now =
                    trade.status == TradeStatus::Paid && before.status != TradeStatus::Paid;
                let queued = paid_now && outbox::trade_paid(sql, &trade, &payment, now)?.is_some();
                Ok(Ok((payment, queued)))
            })
            .await??;
        if queued {
            self.wake_notifications();
        }
        Ok(payment)
    }

    /// Creates the automatic refund of money the payment does not keep (once).
    async fn start_return(&self, id: &str) -> Result<(Payment, Option<Refund>)> {
        let id = id.to_owned();
        let now = now_ms();
        let started = self
            .inner
            .writer
            .run(move |state, sql| {
                let Some(mut payment) = payments::get(sql, &id)? else {
                    return Ok(Err(PayError::PaymentNotFound(id)));
                };
                if payment.next_step() != Step::Refund {
                    return Ok(Ok((payment, None)));
                }
                let reason = payment.refund_reason().expect("a return has a reason");
                let refund_id = return_refund_id(&payment.id);
                let attempt = payment.received_by().expect("money was received").clone();
                let paid = Refundable {
                    payment_id: &payment.id,
                    trade_id: &payment.trade_id,
                    merchant: &payment.merchant,
                    currency: payment.currency,
                    channel: &attempt.order.channel,
                    paid_order_no: &attempt.order.order_no,
                };
                let request = NewRefund {
                    id: refund_id.clone(),
                    amount: payment.external_amount(),
                    reason: reason.name().to_owned(),
                };
                let order_no = state.next_order_no(now);
                let refund = Refund::new(request, &paid, RefundSource::Suspense, order_no, now);
                refunds::save(sql, &refund)?;
                payment.refund_started(&refund_id, now);
                payments::save(sql, &payment)?;
                Ok(Ok((payment, Some(refund))))
            })
            .await??;
        if let (payment, Some(refund)) = &started {
            tracing::info!(payment = %payment.id, refund = %refund.id, reason = %refund.reason, "money not kept is refunded");
        }
        Ok(started)
    }
}

/// What the ledger's answer to `step` makes of the payment (and its trade).
fn apply_posting(
    payment: &mut Payment,
    trade: &mut Trade,
    (step, tried): (Step, u16),
    posted: std::result::Result<(), ErrorCode>,
    (now, retry_ms): (u64, u64),
) {
    match (step, posted) {
        (Step::PostKeep | Step::PostCombined | Step::PostBalance, Ok(())) => {
            payment.kept(trade, now)
        }
        (Step::PostToSuspense, Ok(())) => payment.in_suspense(now),
        (Step::PostKeep, Err(code)) => payment.keep_refused(trade, code.code(), now),
        (Step::PostCombined, Err(code)) => payment.combined_refused(trade, code.code(), now),
        (Step::PostBalance, Err(code)) => payment.balance_refused(trade, code.code(), now),
        (Step::PostToSuspense, Err(code)) => {
            tracing::error!(payment = %payment.id, ?step, code = code.code(), "the ledger refused a payment step; tried again later");
            payment.suspense_refused(tried, code.code(), now, retry_ms);
        }
        (Step::AskBank | Step::Refund | Step::Done, _) => {
            unreachable!("not a posting step")
        }
    }
}
