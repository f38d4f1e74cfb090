//! Starting payments: a new payment, a resend (same channel, same channel order number) and
//! a reroute (a new channel order on another channel, only after a definitive failure). Each
//! is routed and stored by one writer job *before* the channel is called. A balance payment
//! has no channel: it claims its trade at once and is posted.

use paycore_channels::PayOrder;
use paycore_payment_store::repo::{payments, trades};
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::{
    Method, Millis, NewPayment, PayError, Payment, PaymentStatus, RouteDecision, RouteRequest,
    Trade,
};

use crate::clock::now_ms;
use crate::error::Result;
use crate::outcome::{bank_result, to_channel_method, Source};
use crate::state::WriterState;
use crate::PaymentService;

/// `POST /v1/trades/{trade_id}/payments`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayRequest {
    pub id: String,
    pub method: Method,
    /// Route to this channel (still through the filters).
    pub channel: Option<String>,
    /// The account a balance or combined payment debits.
    pub payer_account: Option<String>,
    /// A combined payment's part paid from `payer_account`.
    pub balance_amount: Option<u64>,
}

/// What the writer job that starts a payment decided.
enum Started {
    /// A retry of a payment that exists: nothing is sent again.
    Existing(Payment),
    /// Stored and ready to send, with the trade's subject.
    New(Payment, String),
}

type Job<T> = std::result::Result<std::result::Result<T, PayError>, StoreError>;

impl PaymentService {
    /// Starts a payment of a trade; a retry with the same id and content returns the payment
    /// as it is now (`false`), a different content is `id_conflict`.
    pub async fn pay(&self, trade_id: &str, request: PayRequest) -> Result<(Payment, bool)> {
        NewPayment::check_id(&request.id)?;
        if request.method == Method::Payout {
            return Err(
                PayError::invalid("method", "quickpay, netbank, balance or combined").into(),
            );
        }
        let now = now_ms();
        let first_check = self.first_check_at(now);
        let block_ms = self.inner.config.quickpay_block.as_millis() as Millis;
        let trade_id = trade_id.to_owned();
        let started = self
            .inner
            .writer
            .run(move |state, sql| {
                let ask = Ask {
                    now,
                    first_check,
                    block_ms,
                };
                start(state, sql, &trade_id, request, ask)
            })
            .await??;
        match started {
            Started::Existing(payment) => Ok((payment, false)),
            Started::New(payment, _) if payment.method == Method::Balance => {
                Ok((self.drive(payment).await?, true))
            }
            Started::New(payment, subject) => Ok((self.send(payment, subject).await?, true)),
        }
    }

    /// Sends the current channel order again, under the same number (the bank is idempotent).
    pub async fn resend(&self, payment_id: &str) -> Result<Payment> {
        let id = payment_id.to_owned();
        let now = now_ms();
        let (payment, subject) = self
            .inner
            .writer
            .run(move |_, sql| -> Job<(Payment, String)> {
                let mut payment = match load(sql, &id)? {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(e)),
                };
                if let Err(e) = payment.resend(now) {
                    return Ok(Err(e));
                }
                payments::save(sql, &payment)?;
                let subject = subject_of(sql, &payment.trade_id)?;
                Ok(Ok((payment, subject)))
            })
            .await??;
        tracing::info!(payment = %payment.id, order = %current(&payment).order.order_no, "payment resent");
        self.send(payment, subject).await
    }

    /// Routes a definitively failed payment to another channel under a new order number.
    pub async fn reroute(&self, payment_id: &str, channel: Option<String>) -> Result<Payment> {
        let id = payment_id.to_owned();
        let now = now_ms();
        let first_check = self.first_check_at(now);
        let (payment, subject) = self
            .inner
            .writer
            .run(move |state, sql| reroute(state, sql, &id, channel, now, first_check))
            .await??;
        let order = &current(&payment).order;
        tracing::info!(payment = %payment.id, order = %order.order_no, channel = %order.channel, "payment rerouted");
        self.send(payment, subject).await
    }

    pub(crate) fn first_check_at(&self, now: Millis) -> Millis {
        let timeout = self.inner.config.channel_timeout.as_millis() as Millis;
        self.inner
            .config
            .query_schedule
            .next_after(0, now + timeout)
    }

    /// Calls the channel with the payment's current order and applies its answer.
    async fn send(&self, payment: Payment, subject: String) -> Result<Payment> {
        let attempt = current(&payment).order.clone();
        let order = PayOrder {
            channel_order_no: attempt.order_no.clone(),
            amount_minor: payment.external_amount(),
            currency: payment.currency,
            method: to_channel_method(payment.method),
            subject,
            notify_url: self.callback_url(&attempt.channel),
        };
        let answer = match self.adapter(&attempt.channel) {
            Ok(adapter) => crate::clock::channel_call(adapter.pay(&order)).await,
            Err(e) => Err(paycore_channels::CallError::Transport(e.to_string())),
        };
        let result = bank_result(answer);
        self.apply_report(&payment.id, &attempt.order_no, Source::Response, result)
            .await
    }

    pub(crate) fn callback_url(&self, channel: &str) -> String {
        format!(
            "{}/v1/channels/{channel}/notify",
            self.inner.config.callback_base_url.trim_end_matches('/')
        )
    }
}

/// The current channel order of a payment through a channel.
fn current(payment: &Payment) -> &paycore_payments::Attempt {
    payment
        .current()
        .expect("a channel payment has a channel order")
}

/// When a start request is handled, and the knobs that depend on it.
#[derive(Clone, Copy)]
struct Ask {
    now: Millis,
    first_check: Millis,
    /// A quick payment waits this long for an earlier payment of its trade still in flight.
    block_ms: Millis,
}

fn load(sql: &mut dyn Sql, id: &str) -> Job<Payment> {
    Ok(payments::get(sql, id)?.ok_or_else(|| PayError::PaymentNotFound(id.to_owned())))
}

fn subject_of(sql: &mut dyn Sql, trade_id: &str) -> std::result::Result<String, StoreError> {
    let trade = trades::get(sql, trade_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("payment of missing trade {trade_id}")))?;
    Ok(trade.subject)
}

/// A trade that may take a payment now; one found expired is marked so.
fn payable_trade(sql: &mut dyn Sql, trade_id: &str, now: Millis) -> Job<Trade> {
    let Some(mut trade) = trades::get(sql, trade_id)? else {
        return Ok(Err(PayError::TradeNotFound(trade_id.to_owned())));
    };
    if let Err(refusal) = trade.check_payable(now) {
        if trade.expire_if_due(now) {
            trades::update(sql, &trade)?;
        }
        return Ok(Err(refusal));
    }
    Ok(Ok(trade))
}

fn route(
    state: &mut WriterState,
    trade: &Trade,
    amount: u64,
    method: Method,
    channel: Option<&str>,
    exclude: &[String],
    now: Millis,
) -> std::result::Result<RouteDecision, PayError> {
    if let Some(wanted) = channel {
        if state.channel(wanted).is_none() {
            return Err(PayError::ChannelNotFound(wanted.to_owned()));
        }
    }
    let request = RouteRequest {
        method: match method {
            Method::Combined => Method::Quickpay,
            other => other,
        },
        currency: trade.currency,
        amount,
        channel,
        exclude,
    };
    let channels = std::mem::take(&mut state.channels);
    let decision = state.router.route(&channels, &request, now);
    state.channels = channels;
    match &decision.chosen {
        Some(_) => Ok(decision),
        None => Err(PayError::NoChannelAvailable {
            reasons: decision.reasons(),
        }),
    }
}

/// A quick payment is refused while an earlier payment of the trade is still in flight and
/// younger than the block (the payer would likely pay twice).
fn check_not_blocked(
    sql: &mut dyn Sql,
    trade: &Trade,
    method: Method,
    ask: Ask,
) -> std::result::Result<std::result::Result<(), PayError>, StoreError> {
    if method != Method::Quickpay || ask.block_ms == 0 {
        return Ok(Ok(()));
    }
    let blocked = payments::of_trade(sql, &trade.trade_id)?.iter().any(|p| {
        matches!(p.status, PaymentStatus::Processing | PaymentStatus::Unknown)
            && ask.now < p.created_at.saturating_add(ask.block_ms)
    });
    Ok(if blocked {
        Err(PayError::PaymentPending)
    } else {
        Ok(())
    })
}

fn start(
    state: &mut WriterState,
    sql: &mut dyn Sql,
    trade_id: &str,
    request: PayRequest,
    ask: Ask,
) -> Job<Started> {
    let now = ask.now;
    let mut trade = match payable_trade(sql, trade_id, now)? {
        Ok(trade) => trade,
        Err(e) => {
            // A retry of a payment that exists gets it, whatever happened to the trade since.
            return match payments::get(sql, &request.id)? {
                Some(existing) => Ok(retry_of(existing, trade_id, &request)),
                None => Ok(Err(e)),
            };
        }
    };
    if let Some(existing) = payments::get(sql, &request.id)? {
        return Ok(retry_of(existing, trade_id, &request));
    }
    let merchant = state.merchant(sql, &trade.merchant)?.ok_or_else(|| {
        StoreError::Corrupt(format!("trade of missing merchant {}", trade.merchant))
    })?;
    let new = NewPayment {
        id: request.id,
        trade_id: trade.trade_id.clone(),
        merchant: merchant.id.clone(),
        method: request.method,
        amount: trade.amount,
        currency: trade.currency,
        fee: merchant.fee_for(trade.amount),
        requested_channel: request.channel,
        payer_account: request.payer_account,
        balance_amount: match request.method {
            Method::Balance => request.balance_amount.unwrap_or(trade.amount),
            _ => request.balance_amount.unwrap_or(0),
        },
    };
    if let Err(e) = new.check_parts() {
        return Ok(Err(e));
    }
    if let Err(e) = check_not_blocked(sql, &trade, new.method, ask)? {
        return Ok(Err(e));
    }
    if new.method == Method::Balance {
        if new.requested_channel.is_some() {
            return Ok(Err(PayError::invalid(
                "channel",
                "a balance payment has no channel",
            )));
        }
        let payment = Payment::new_balance(new, now);
        if trade.claim(&payment.id, now).is_err() {
            return Ok(Err(PayError::PaymentPending));
        }
        payments::save(sql, &payment)?;
        trades::update(sql, &trade)?;
        return Ok(Ok(Started::New(payment, trade.subject)));
    }
    let external = new.amount - new.balance_amount;
    let channel = new.requested_channel.as_deref();
    let decision = match route(state, &trade, external, new.method, channel, &[], now) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let order_no = state.next_order_no(now);
    let payment = Payment::new(new, order_no, decision, now, ask.first_check);
    payments::save(sql, &payment)?;
    state.count(&current(&payment).order.channel, |c| c.routed += 1);
    Ok(Ok(Started::New(payment, trade.subject)))
}

fn retry_of(
    existing: Payment,
    trade_id: &str,
    request: &PayRequest,
) -> std::result::Result<Started, PayError> {
    let same = existing.trade_id == trade_id
        && existing.method == request.method
        && existing.requested_channel == request.channel
        && existing.payer_account == request.payer_account
        && request
            .balance_amount
            .is_none_or(|b| b == existing.balance_amount);
    if same {
        Ok(Started::Existing(existing))
    } else {
        Err(PayError::IdConflict(request.id.clone()))
    }
}

fn reroute(
    state: &mut WriterState,
    sql: &mut dyn Sql,
    id: &str,
    channel: Option<String>,
    now: Millis,
    first_check: Millis,
) -> Job<(Payment, String)> {
    let mut payment = match load(sql, id)? {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = payment.check_reroute() {
        return Ok(Err(e));
    }
    let trade = match payable_trade(sql, &payment.trade_id, now)? {
        Ok(trade) => trade,
        Err(e) => return Ok(Err(e)),
    };
    let tried = payment.tried_channels();
    let external = payment.external_amount();
    let decision = match route(
        state,
        &trade,
        external,
        payment.method,
        channel.as_deref(),
        &tried,
        now,
    ) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let order_no = state.next_order_no(now);
    payment
        .reroute(order_no, decision, now, first_check)
        .expect("checked above, in the same job");
    payments::save(sql, &payment)?;
    state.count(&current(&payment).order.channel, |c| c.routed += 1);
    Ok(Ok((payment, trade.subject)))
}

impl PaymentService {
    pub async fn payment(&self, id: &str) -> Result<Option<Payment>> {
        let id = id.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| payments::get(sql, &id))
            .await?)
    }
}
