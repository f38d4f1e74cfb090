//! Starting payments: a new payment, a resend (same channel, same channel order number) and
//! a reroute (a new channel order on another channel, only after a definitive failure). Each
//! is routed and stored by one writer job *before* the channel is called.

use paycore_channels::PayOrder;
use paycore_payment_store::repo::{payments, trades};
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::{
    Method, Millis, NewPayment, PayError, Payment, RouteDecision, RouteRequest, Trade, TradeStatus,
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
            return Err(PayError::invalid("method", "quickpay or netbank").into());
        }
        let now = now_ms();
        let first_check = self.first_check_at(now);
        let trade_id = trade_id.to_owned();
        let started = self
            .inner
            .writer
            .run(move |state, sql| start(state, sql, &trade_id, request, now, first_check))
            .await??;
        match started {
            Started::Existing(payment) => Ok((payment, false)),
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
        tracing::info!(payment = %payment.id, order = %payment.current().channel_order_no, "payment resent");
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
        tracing::info!(payment = %payment.id, order = %payment.current().channel_order_no, channel = %payment.current().channel, "payment rerouted");
        self.send(payment, subject).await
    }

    fn first_check_at(&self, now: Millis) -> Millis {
        let timeout = self.inner.config.channel_timeout.as_millis() as Millis;
        self.inner
            .config
            .query_schedule
            .next_after(0, now + timeout)
    }

    /// Calls the channel with the payment's current order and applies its answer.
    async fn send(&self, payment: Payment, subject: String) -> Result<Payment> {
        let attempt = payment.current().clone();
        let order = PayOrder {
            channel_order_no: attempt.channel_order_no.clone(),
            amount_minor: payment.amount,
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
        self.apply_report(
            &payment.id,
            &attempt.channel_order_no,
            Source::Response,
            result,
        )
        .await
    }

    pub(crate) fn callback_url(&self, channel: &str) -> String {
        format!(
            "{}/v1/channels/{channel}/notify",
            self.inner.config.callback_base_url.trim_end_matches('/')
        )
    }
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
        if matches!(refusal, PayError::TradeExpired { .. }) && trade.status == TradeStatus::Open {
            trade.status = TradeStatus::Expired;
            trades::update(sql, &trade)?;
        }
        return Ok(Err(refusal));
    }
    Ok(Ok(trade))
}

fn route(
    state: &mut WriterState,
    trade: &Trade,
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
        method,
        currency: trade.currency,
        amount: trade.amount,
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

fn start(
    state: &mut WriterState,
    sql: &mut dyn Sql,
    trade_id: &str,
    request: PayRequest,
    now: Millis,
    first_check: Millis,
) -> Job<Started> {
    if let Some(existing) = payments::get(sql, &request.id)? {
        let same = existing.same_request(trade_id, request.method, request.channel.as_deref());
        return Ok(if same {
            Ok(Started::Existing(existing))
        } else {
            Err(PayError::IdConflict(request.id))
        });
    }
    let trade = match payable_trade(sql, trade_id, now)? {
        Ok(trade) => trade,
        Err(e) => return Ok(Err(e)),
    };
    let merchant = state.merchant(sql, &trade.merchant)?.ok_or_else(|| {
        StoreError::Corrupt(format!("trade of missing merchant {}", trade.merchant))
    })?;
    let decision = match route(
        state,
        &trade,
        request.method,
        request.channel.as_deref(),
        &[],
        now,
    ) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let new = NewPayment {
        id: request.id,
        trade_id: trade.trade_id.clone(),
        merchant: merchant.id.clone(),
        method: request.method,
        amount: trade.amount,
        currency: trade.currency,
        fee: merchant.fee_for(trade.amount),
        requested_channel: request.channel,
    };
    let order_no = state.next_order_no(now);
    let payment = Payment::new(new, order_no, decision, now, first_check);
    payments::save(sql, &payment)?;
    state.count(&payment.current().channel, |c| c.routed += 1);
    Ok(Ok(Started::New(payment, trade.subject)))
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
    let decision = match route(
        state,
        &trade,
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
    state.count(&payment.current().channel, |c| c.routed += 1);
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
