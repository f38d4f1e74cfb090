//! Payouts (出款): a merchant's money to a bank account. The amount is held on the
//! merchant's account before anything is sent (a refused hold — insufficient funds — sends
//! nothing and is the request's `422`); the bank's success captures the hold to the channel's
//! clearing account (kind `withdrawal`), a definitive failure releases it, an unknown outcome
//! keeps it and the resolver keeps asking. **Never rerouted automatically**: only a person's
//! `reroute`, only after a definitive failure, under a new channel order number and a new
//! hold. Every step is stored before the next starts, so the resolver finishes a payout after
//! a crash.

use paycore_channels::PayoutOrder;
use paycore_ledger::ErrorCode;
use paycore_payment_store::repo::payouts;
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::channel::clearing_account;
use paycore_payments::merchant::account_of;
use paycore_payments::posting::payout_ids;
use paycore_payments::{
    BankReport, BankResult, HoldState, LedgerKind, Method, Millis, NewPayout, PayError, Payout,
    PayoutStep, ReportSource,
};

use crate::clock::now_ms;
use crate::error::{Result, ServiceError};
use crate::outcome::{bank_result, track, Source};
use crate::pay::route;
use crate::state::WriterState;
use crate::PaymentService;

type Job<T> = std::result::Result<std::result::Result<T, PayError>, StoreError>;

impl PaymentService {
    /// `POST /v1/payouts`: holds the amount, then sends it. A retry with the same id and
    /// content returns the payout as it is (`false`); another content is `id_conflict`. A
    /// hold the ledger refused is the ledger's error (`insufficient_funds`…), for the retry
    /// too: nothing was sent.
    pub async fn payout(&self, request: NewPayout) -> Result<(Payout, bool)> {
        request.check()?;
        let now = now_ms();
        let started = self
            .inner
            .writer
            .run(move |state, sql| start(state, sql, request, now))
            .await??;
        let (payout, created) = match started {
            (payout, true) => (self.drive_payout(payout).await?, true),
            existing => existing,
        };
        refused_hold(&payout)?;
        Ok((payout, created))
    }

    pub async fn payout_by_id(&self, id: &str) -> Result<Option<Payout>> {
        let id = id.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| payouts::get(sql, &id))
            .await?)
    }

    /// A merchant's payouts, newest first, after the cursor `(created_at, id)`.
    pub async fn payouts_of(
        &self,
        merchant: &str,
        before: Option<(u64, String)>,
        limit: u64,
    ) -> Result<Vec<Payout>> {
        let merchant = merchant.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| {
                let before = before.as_ref().map(|(at, id)| (*at, id.as_str()));
                payouts::of_merchant(sql, &merchant, before, limit)
            })
            .await?)
    }

    /// Sends the current channel order again under the same number (the bank is
    /// idempotent); refused once its outcome is final (`order_final`).
    pub async fn resend_payout(&self, id: &str) -> Result<Payout> {
        let (id, now) = (id.to_owned(), now_ms());
        let payout = self
            .inner
            .writer
            .run(move |_, sql| -> Job<Payout> {
                let mut payout = match load(sql, &id)? {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(e)),
                };
                if let Err(e) = payout.mark_sent(now) {
                    return Ok(Err(e));
                }
                payouts::save(sql, &payout)?;
                Ok(Ok(payout))
            })
            .await??;
        tracing::info!(payout = %payout.id, order = %payout.current().order.order_no, "payout resent");
        let payout = self.call_bank(payout).await?;
        self.drive_payout(payout).await
    }

    /// A person's reroute after a definitive failure: a new channel order (another channel
    /// unless `channel` names one), held again and sent. While the outcome is open:
    /// `payout_outcome_unknown`.
    pub async fn reroute_payout(&self, id: &str, channel: Option<String>) -> Result<Payout> {
        let (id, now) = (id.to_owned(), now_ms());
        let payout = self
            .inner
            .writer
            .run(move |state, sql| reroute(state, sql, &id, channel, now))
            .await??;
        let order = &payout.current().order;
        tracing::info!(payout = %payout.id, order = %order.order_no, channel = %order.channel, "payout rerouted");
        let payout = self.drive_payout(payout).await?;
        refused_hold(&payout)?;
        Ok(payout)
    }

    /// Does every step the payout has left, up to an open outcome at the bank.
    pub(crate) async fn drive_payout(&self, mut payout: Payout) -> Result<Payout> {
        loop {
            let step = payout.next_step();
            let attempt = payout.attempts.len();
            let (hold, capture, free) = payout_ids(&payout.id, attempt);
            let reference = format!("payout {}", payout.id);
            let ledger = &self.inner.ledger;
            let done = match step {
                PayoutStep::AskBank | PayoutStep::Done => return Ok(payout),
                PayoutStep::Send => {
                    payout = self.send_payout(payout).await?;
                    continue;
                }
                PayoutStep::PlaceHold => {
                    let account = account_of(&payout.merchant);
                    let (amount, currency) = (payout.amount, payout.currency);
                    ledger
                        .freeze(&hold, &account, amount, currency, &reference)
                        .await?
                }
                PayoutStep::Capture => {
                    let channel = &payout.current().order.channel;
                    let clearing = clearing_account(channel, payout.currency);
                    let kind = LedgerKind::Withdrawal;
                    ledger
                        .capture(&capture, &hold, &clearing, kind, &reference)
                        .await?
                }
                PayoutStep::Release => ledger.release(&free, &hold).await?,
            };
            payout = self
                .record_payout_step(&payout.id, attempt, step, done)
                .await?;
            if payout.next_step() == step && payout.attempts.len() == attempt {
                return Ok(payout); // refused for now: the resolver tries again later
            }
        }
    }

    /// Records what the ledger did with the step of attempt `attempt`.
    async fn record_payout_step(
        &self,
        id: &str,
        attempt: usize,
        step: PayoutStep,
        done: std::result::Result<(), ErrorCode>,
    ) -> Result<Payout> {
        let (id, now, retry_ms) = (id.to_owned(), now_ms(), self.ledger_retry_ms());
        let payout = self
            .inner
            .writer
            .run(move |_, sql| -> Job<(Payout, bool)> {
                let mut payout = match load(sql, &id)? {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(e)),
                };
                if payout.next_step() != step || payout.attempts.len() != attempt {
                    return Ok(Ok((payout, false))); // done by someone else meanwhile
                }
                match (step, done) {
                    (PayoutStep::PlaceHold, Ok(())) => payout.hold_placed(now),
                    (PayoutStep::PlaceHold, Err(code)) => payout.hold_refused(code.code(), now),
                    (PayoutStep::Capture, Ok(())) => payout.captured(now),
                    (PayoutStep::Release, Ok(())) => payout.released(now),
                    (_, Err(code)) => {
                        tracing::error!(payout = %payout.id, ?step, code = code.code(), "the ledger refused a payout step; tried again later");
                        payout.ledger_step_refused(&format!("{step:?}"), code.code(), now, retry_ms);
                    }
                    (PayoutStep::Send | PayoutStep::AskBank | PayoutStep::Done, Ok(())) => {
                        unreachable!("not a ledger step")
                    }
                }
                payouts::save(sql, &payout)?;
                let queued = payout.finished() && notify_finished(sql, &payout, now)?;
                Ok(Ok((payout, queued)))
            })
            .await??;
        let (payout, queued) = payout;
        if queued {
            self.wake_notifications();
        }
        Ok(payout)
    }

    /// Marks the current order sent (stored before the call), then calls the bank.
    async fn send_payout(&self, payout: Payout) -> Result<Payout> {
        let (id, now) = (payout.id.clone(), now_ms());
        let first_check = self.first_check_at(now);
        let (payout, marked) = self
            .inner
            .writer
            .run(move |_, sql| -> Job<(Payout, bool)> {
                let mut payout = match load(sql, &id)? {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(e)),
                };
                if payout.next_step() != PayoutStep::Send {
                    return Ok(Ok((payout, false))); // sent by someone else meanwhile
                }
                payout
                    .mark_sent(now)
                    .expect("a payout to send has its hold and an open order");
                payout.schedule_check(first_check);
                payouts::save(sql, &payout)?;
                Ok(Ok((payout, true)))
            })
            .await??;
        if !marked {
            return Ok(payout);
        }
        self.call_bank(payout).await
    }

    /// Calls the bank with the current order and records its answer (the caller does the
    /// ledger steps it leads to).
    async fn call_bank(&self, payout: Payout) -> Result<Payout> {
        let current = payout.current().order.clone();
        let order = PayoutOrder {
            payout_no: current.order_no.clone(),
            amount_minor: payout.amount,
            currency: payout.currency,
            bank_account: payout.bank_account.clone(),
            notify_url: self.callback_url(&current.channel),
        };
        let answer = match self.adapter(&current.channel) {
            Ok(adapter) => crate::clock::channel_call(adapter.payout(&order)).await,
            Err(e) => Err(paycore_channels::CallError::Transport(e.to_string())),
        };
        let result = bank_result(answer);
        self.record_payout_report(&payout.id, &current.order_no, Source::Response, result)
            .await
    }

    /// Applies a report about one of a payout's channel orders, then finishes its ledger
    /// steps.
    pub(crate) async fn apply_payout_report(
        &self,
        payout_id: &str,
        order_no: &str,
        source: ReportSource,
        result: BankResult,
    ) -> Result<Payout> {
        let payout = self
            .record_payout_report(payout_id, order_no, source, result)
            .await?;
        self.drive_payout(payout).await
    }

    async fn record_payout_report(
        &self,
        payout_id: &str,
        order_no: &str,
        source: ReportSource,
        result: BankResult,
    ) -> Result<Payout> {
        let report = BankReport {
            order_no: order_no.to_owned(),
            source,
            result,
        };
        let (id, config, now) = (payout_id.to_owned(), self.inner.config.clone(), now_ms());
        let payout = self
            .inner
            .writer
            .run(move |state, sql| -> Job<Payout> {
                let mut payout = match load(sql, &id)? {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(e)),
                };
                let order = |p: &Payout| {
                    p.attempts
                        .iter()
                        .find(|a| a.order.order_no == report.order_no)
                        .map(|a| (a.order.channel.clone(), a.order.status))
                };
                let before = order(&payout);
                let effect = payout.report(&report, now, config.timing);
                if let (Some((channel, was)), Some((_, is))) = (before, order(&payout)) {
                    track(state, &channel, &report, (was, is), now);
                }
                if payout.next_step() == PayoutStep::AskBank {
                    let queries = payout.current().order.queries;
                    payout.schedule_check(config.query_schedule.next_after(queries, now));
                }
                if effect != paycore_payments::OrderEffect::Nothing || source == Source::Query {
                    payouts::save(sql, &payout)?;
                }
                if let paycore_payments::OrderEffect::Anomaly(message) = &effect {
                    tracing::warn!(payout = %payout.id, %message, "bank report contradicts the payout; kept for reconciliation");
                }
                Ok(Ok(payout))
            })
            .await??;
        Ok(payout)
    }
}

/// `payout.succeeded` or `payout.failed`, in the job that recorded the end; true when queued.
fn notify_finished(
    sql: &mut dyn Sql,
    p: &Payout,
    now: Millis,
) -> std::result::Result<bool, StoreError> {
    let notice = paycore_notify::PayoutNotice {
        payout_id: &p.id,
        merchant: &p.merchant,
        notify_url: p.notify_url.as_deref(),
        amount: p.amount,
        currency: p.currency.code(),
        succeeded: p.status() == paycore_payments::OrderStatus::Succeeded,
        failure_code: p.failure.as_ref().map(|f| f.code.as_str()),
        failure_message: p.failure.as_ref().map(|f| f.message.as_str()),
        finished_at: now,
    };
    Ok(paycore_notify::payout_finished(sql, &notice)?.is_some())
}

fn load(sql: &mut dyn Sql, id: &str) -> Job<Payout> {
    Ok(payouts::get(sql, id)?.ok_or_else(|| PayError::PayoutNotFound(id.to_owned())))
}

/// The writer job of `POST /v1/payouts`: a retry finds its payout; a new one is routed and
/// stored (`true`) before any hold or call.
fn start(
    state: &mut WriterState,
    sql: &mut dyn Sql,
    request: NewPayout,
    now: Millis,
) -> Job<(Payout, bool)> {
    if let Some(existing) = payouts::get(sql, &request.id)? {
        return Ok(if existing.same_request(&request) {
            Ok((existing, false))
        } else {
            Err(PayError::IdConflict(request.id))
        });
    }
    let Some(merchant) = state.merchant(sql, &request.merchant)? else {
        return Ok(Err(PayError::MerchantNotFound(request.merchant)));
    };
    if let Some(url) = &request.notify_url {
        if let Err(e) = merchant.check_notify_url(url) {
            return Ok(Err(e));
        }
    }
    let (currency, amount) = (request.currency, request.amount);
    let channel = request.channel.as_deref();
    let decision = match route(state, currency, amount, Method::Payout, channel, &[], now) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let order_no = state.next_order_no(now);
    let payout = Payout::new(request, order_no, decision, now);
    payouts::save(sql, &payout)?;
    state.count(&payout.current().order.channel, |c| c.routed += 1);
    Ok(Ok((payout, true)))
}

fn reroute(
    state: &mut WriterState,
    sql: &mut dyn Sql,
    id: &str,
    channel: Option<String>,
    now: Millis,
) -> Job<Payout> {
    let mut payout = match load(sql, id)? {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = payout.check_reroute() {
        return Ok(Err(e));
    }
    let tried = payout.tried_channels();
    let (currency, amount) = (payout.currency, payout.amount);
    let wanted = channel.as_deref();
    let decision = match route(state, currency, amount, Method::Payout, wanted, &tried, now) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let order_no = state.next_order_no(now);
    payout
        .reroute(order_no, decision, now)
        .expect("checked above, in the same job");
    payouts::save(sql, &payout)?;
    state.count(&payout.current().order.channel, |c| c.routed += 1);
    Ok(Ok(payout))
}

/// The ledger's refusal of the current attempt's hold, as the request's error: nothing was
/// sent to any channel.
fn refused_hold(payout: &Payout) -> Result<()> {
    let current = payout.current();
    if current.hold != HoldState::Refused {
        return Ok(());
    }
    assert_eq!(current.order.sends, 0, "a refused hold sends nothing");
    let code = payout
        .failure
        .as_ref()
        .and_then(|f| ErrorCode::ALL.into_iter().find(|c| c.code() == f.code))
        .unwrap_or(ErrorCode::InsufficientFunds);
    Err(ServiceError::Ledger {
        what: format!("the hold of payout {}", payout.id),
        code,
    })
}
