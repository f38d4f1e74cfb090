//! Refunds (退款): a merchant's, of a succeeded payment (partial ones allowed, their sum never
//! above what was paid), and the automatic return of money a payment did not keep. A
//! merchant's refund first holds the amount on the merchant's account; the bank's success
//! captures the hold to the channel's clearing account, a definitive failure releases it,
//! an unknown outcome keeps it (a timeout is not a failure). An automatic refund is paid out
//! of the suspense account. Every step is stored before the next one starts, so the resolver
//! finishes a refund after a crash. The job that records a refund's end queues its
//! notification (`refund.succeeded` / `refund.failed`, or `payment.refunded` for paycore's own).

use paycore_channels::RefundOrder;
use paycore_ledger::ErrorCode;
use paycore_notify::outbox;
use paycore_payment_store::repo::{payments, refunds, trades};
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::channel::clearing_account;
use paycore_payments::merchant::account_of;
use paycore_payments::posting::{recon_refund_postings, refund_ids, suspense_refund_posting};
use paycore_payments::{
    BankReport, BankResult, LedgerKind, NewRefund, OrderStatus, PayError, Payment, PaymentStatus,
    Refund, RefundSource, RefundStep, Refundable, ReportSource,
};

use crate::clock::now_ms;
use crate::drive::RETURN_PREFIX;
use crate::error::{Result, ServiceError};
use crate::outcome::{bank_result, Source};
use crate::PaymentService;

impl PaymentService {
    /// `POST /v1/payments/{id}/refunds`: a retry with the same id and content returns the
    /// refund as it is (`false`); another content is `id_conflict`.
    pub async fn refund(&self, payment_id: &str, request: NewRefund) -> Result<(Refund, bool)> {
        request.check()?;
        if request.id.starts_with(RETURN_PREFIX) {
            return Err(
                PayError::invalid("id", "ids starting with return: are paycore's own").into(),
            );
        }
        let payment_id = payment_id.to_owned();
        let now = now_ms();
        let created = self
            .inner
            .writer
            .run(move |state, sql| {
                if let Some(existing) = refunds::get(sql, &request.id)? {
                    return Ok(if existing.same_request(&payment_id, &request) {
                        Ok((existing, false))
                    } else {
                        Err(PayError::IdConflict(request.id))
                    });
                }
                let Some(payment) = payments::get(sql, &payment_id)? else {
                    return Ok(Err(PayError::PaymentNotFound(payment_id)));
                };
                if payment.status != PaymentStatus::Succeeded {
                    return Ok(Err(PayError::PaymentNotRefundable {
                        status: payment.status.name(),
                    }));
                }
                let Some(attempt) = payment.received_by() else {
                    return Ok(Err(PayError::PaymentNotRefundable { status: "balance" }));
                };
                // A reconciliation refund returns money the payment never counted.
                let counted: u64 = refunds::of_payment(sql, &payment.id)?
                    .iter()
                    .filter(|r| r.source != RefundSource::Reconciliation && r.counts())
                    .map(|r| r.amount)
                    .sum();
                let paid = payment.external_amount();
                let total = counted.saturating_add(request.amount);
                if total > paid {
                    return Ok(Err(PayError::RefundExceedsPayment { total, paid }));
                }
                let paid = Refundable {
                    payment_id: &payment.id,
                    trade_id: &payment.trade_id,
                    merchant: &payment.merchant,
                    currency: payment.currency,
                    channel: &attempt.order.channel,
                    paid_order_no: &attempt.order.order_no,
                };
                let order_no = state.next_order_no(now);
                let refund = Refund::new(request, &paid, RefundSource::Merchant, order_no, now);
                refunds::save(sql, &refund)?;
                Ok(Ok((refund, true)))
            })
            .await??;
        match created {
            (refund, true) => Ok((self.drive_refund(refund).await?, true)),
            existing => Ok(existing),
        }
    }

    pub async fn refund_by_id(&self, id: &str) -> Result<Option<Refund>> {
        let id = id.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| refunds::get(sql, &id))
            .await?)
    }

    /// Every refund of a payment.
    pub async fn refunds_of(&self, payment_id: &str) -> Result<Vec<Refund>> {
        let id = payment_id.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| refunds::of_payment(sql, &id))
            .await?)
    }

    /// Does every step the refund has left, up to an open outcome at the bank; a
    /// reconciliation refund that ended is followed by its exception.
    pub(crate) async fn drive_refund(&self, refund: Refund) -> Result<Refund> {
        let refund = self.refund_steps(refund).await?;
        self.follow_recon_refund(&refund).await;
        Ok(refund)
    }

    async fn refund_steps(&self, mut refund: Refund) -> Result<Refund> {
        loop {
            let step = refund.next_step();
            refund = match step {
                RefundStep::AskBank | RefundStep::Done => return Ok(refund),
                RefundStep::Send => self.send_refund(refund).await?,
                RefundStep::PlaceHold => {
                    let (hold, _, _) = refund_ids(&refund.id);
                    let reference = format!("refund {}", refund.id);
                    let account = account_of(&refund.merchant);
                    let ledger = &self.inner.ledger;
                    let placed = ledger
                        .freeze(&hold, &account, refund.amount, refund.currency, &reference)
                        .await?;
                    self.record_refund_step(&refund.id, step, placed).await?
                }
                RefundStep::Post => {
                    let posted = self.post_refund(&refund).await?;
                    self.record_refund_step(&refund.id, step, posted).await?
                }
                RefundStep::Release => {
                    let (hold, _, free) = refund_ids(&refund.id);
                    let released = self.inner.ledger.release(&free, &hold).await?;
                    self.record_refund_step(&refund.id, step, released).await?
                }
            };
            if refund.next_step() == step {
                return Ok(refund); // refused for now: the resolver tries again later
            }
        }
    }

    async fn post_refund(&self, refund: &Refund) -> Result<std::result::Result<(), ErrorCode>> {
        let (hold, capture, _) = refund_ids(&refund.id);
        match refund.source {
            RefundSource::Merchant => {
                let clearing = clearing_account(&refund.order.channel, refund.currency);
                let reference = format!("refund {}", refund.id);
                let ledger = &self.inner.ledger;
                ledger
                    .capture(&capture, &hold, &clearing, LedgerKind::Refund, &reference)
                    .await
            }
            RefundSource::Suspense => {
                let payment = self.payment_of(refund).await?;
                let transfer = suspense_refund_posting(&payment, &refund.id, refund.amount);
                self.inner.ledger.post(&[transfer]).await
            }
            RefundSource::Reconciliation => {
                let payment = self.payment_of(refund).await?;
                self.inner.ledger.ensure_suspense(refund.currency).await?;
                let channel = &refund.order.channel;
                let pair = recon_refund_postings(&payment, channel, &refund.id, refund.amount);
                self.inner.ledger.post(&pair).await
            }
        }
    }

    async fn payment_of(&self, refund: &Refund) -> Result<Payment> {
        let id = refund.payment_id.clone();
        self.inner
            .readers
            .read(move |sql| payments::get(sql, &id))
            .await?
            .ok_or_else(|| ServiceError::Internal("refund of a missing payment".into()))
    }

    /// Records what the ledger did with a refund's step (and, for an automatic refund that
    /// was posted, that its payment is refunded); a refund that ended queues its
    /// notification in the same job (`notify_finished`).
    async fn record_refund_step(
        &self,
        id: &str,
        step: RefundStep,
        done: std::result::Result<(), ErrorCode>,
    ) -> Result<Refund> {
        let (id, now, retry_ms) = (id.to_owned(), now_ms(), self.ledger_retry_ms());
        let (refund, queued) = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut refund) = refunds::get(sql, &id)? else {
                    return Ok(Err(PayError::RefundNotFound(id)));
                };
                if refund.next_step() != step {
                    return Ok(Ok((refund, false)));
                }
                match (step, done) {
                    (RefundStep::PlaceHold, Ok(())) => refund.hold_placed(now),
                    (RefundStep::PlaceHold, Err(code)) => refund.hold_refused(code.code(), now),
                    (RefundStep::Post, Ok(())) => refund.posted(now),
                    (RefundStep::Release, Ok(())) => refund.released(now),
                    (_, Err(code)) => {
                        tracing::error!(refund = %refund.id, ?step, code = code.code(), "the ledger refused a refund step; tried again later");
                        refund.ledger_step_refused(&format!("{step:?}"), code.code(), now, retry_ms);
                    }
                    (RefundStep::Send | RefundStep::AskBank | RefundStep::Done, Ok(())) => {
                        unreachable!("not a ledger step")
                    }
                }
                refunds::save(sql, &refund)?;
                let queued = notify_finished(sql, &refund, step, now)?;
                Ok(Ok((refund, queued)))
            })
            .await??;
        if queued {
            self.wake_notifications();
        }
        Ok(refund)
    }

    /// Marks the refund's order sent (stored before the call), calls the bank and applies its
    /// answer.
    async fn send_refund(&self, refund: Refund) -> Result<Refund> {
        let (id, now) = (refund.id.clone(), now_ms());
        let first_check = self.first_check_at(now);
        let (refund, marked) = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut refund) = refunds::get(sql, &id)? else {
                    return Ok(Err(PayError::RefundNotFound(id)));
                };
                if refund.next_step() != RefundStep::Send {
                    return Ok(Ok((refund, false))); // sent by someone else meanwhile
                }
                refund.order.mark_sent(now);
                refund.schedule_check(first_check);
                refunds::save(sql, &refund)?;
                Ok(Ok((refund, true)))
            })
            .await??;
        if !marked {
            return Ok(refund);
        }
        let order = RefundOrder {
            refund_no: refund.order.order_no.clone(),
            channel_order_no: refund.paid_order_no.clone(),
            amount_minor: refund.amount,
            currency: refund.currency,
            reason: refund.reason.clone(),
            notify_url: self.callback_url(&refund.order.channel),
        };
        let answer = match self.adapter(&refund.order.channel) {
            Ok(adapter) => crate::clock::channel_call(adapter.refund(&order)).await,
            Err(e) => Err(paycore_channels::CallError::Transport(e.to_string())),
        };
        let result = bank_result(answer);
        self.record_refund_report(&refund.id, Source::Response, result)
            .await
    }

    /// Applies a report about a refund's channel order, then finishes its ledger steps.
    pub(crate) async fn apply_refund_report(
        &self,
        refund_id: &str,
        source: ReportSource,
        result: BankResult,
    ) -> Result<Refund> {
        let refund = self.record_refund_report(refund_id, source, result).await?;
        self.drive_refund(refund).await
    }

    async fn record_refund_report(
        &self,
        refund_id: &str,
        source: ReportSource,
        result: BankResult,
    ) -> Result<Refund> {
        let (id, config, now) = (refund_id.to_owned(), self.inner.config.clone(), now_ms());
        let refund = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut refund) = refunds::get(sql, &id)? else {
                    return Ok(Err(PayError::RefundNotFound(id)));
                };
                let report = BankReport {
                    order_no: refund.order.order_no.clone(),
                    source,
                    result,
                };
                let effect = refund.report(&report, now, config.timing);
                if refund.next_step() == RefundStep::AskBank {
                    let at = config.query_schedule.next_after(refund.order.queries, now);
                    refund.schedule_check(at);
                }
                if effect != paycore_payments::OrderEffect::Nothing || source == ReportSource::Query
                {
                    refunds::save(sql, &refund)?;
                }
                Ok(Ok(refund))
            })
            .await??;
        Ok(refund)
    }
}

/// After a refund's step was recorded: a merchant's refund that ended queues
/// `refund.succeeded` or `refund.failed`; paycore's own refund, once posted, marks its payment
/// refunded and queues `payment.refunded`. True when a notification was queued.
fn notify_finished(
    sql: &mut dyn Sql,
    refund: &Refund,
    step: RefundStep,
    now: u64,
) -> std::result::Result<bool, StoreError> {
    if refund.next_step() != RefundStep::Done {
        return Ok(false);
    }
    let trade = trades::get(sql, &refund.trade_id)?.ok_or_else(|| {
        StoreError::Corrupt(format!("refund of missing trade {}", refund.trade_id))
    })?;
    let queued = match refund.source {
        RefundSource::Merchant => {
            let succeeded = refund.status() == OrderStatus::Succeeded;
            outbox::refund_finished(sql, &trade, refund, succeeded, now)?
        }
        RefundSource::Suspense if step == RefundStep::Post => {
            let payment = mark_payment_refunded(sql, &refund.payment_id, now)?;
            outbox::payment_refunded(sql, &trade, &payment, refund, now)?
        }
        // Reconciliation's own refunds: the exception follows them (`recon::exceptions`).
        RefundSource::Suspense | RefundSource::Reconciliation => None,
    };
    Ok(queued.is_some())
}

fn mark_payment_refunded(
    sql: &mut dyn Sql,
    payment_id: &str,
    now: u64,
) -> std::result::Result<Payment, StoreError> {
    let mut payment = payments::get(sql, payment_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("refund of missing payment {payment_id}")))?;
    payment.refunded(now);
    payments::save(sql, &payment)?;
    Ok(payment)
}
