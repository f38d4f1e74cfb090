//! Payment domain values as the API's JSON.

use paycore_api::notifications::{NotificationAttempt, NotificationResponse};
use paycore_api::payments::{
    AttemptResponse, CandidateResponse, ChannelCounters, ChannelHealth, ChannelResponse,
    FailureResponse, MerchantResponse, PaymentResponse, PayoutAttemptResponse, PayoutResponse,
    RefundResponse, RouteResponse, TradeResponse,
};
use paycore_payment_service::{ChannelView, TradeView};
use paycore_payment_store::repo::notifications::Notification;
use paycore_payments::channel::clearing_account;
use paycore_payments::{
    Attempt, Failure, Merchant, Payment, Payout, PayoutStep, Refund, RouteDecision, Step, Trade,
};

pub fn time(ms: u64) -> String {
    crate::render::timestamp(ms.saturating_mul(1_000_000))
}

fn failure(f: &Option<Failure>) -> Option<FailureResponse> {
    f.as_ref().map(|f| FailureResponse {
        code: f.code.clone(),
        message: f.message.clone(),
    })
}

pub fn merchant(m: &Merchant) -> MerchantResponse {
    MerchantResponse {
        id: m.id.clone(),
        name: m.name.clone(),
        callback_hosts: m.callback_hosts.clone(),
        fee_rate_bp: m.fee_rate_bp,
        currency: m.currency.code().to_owned(),
        account: m.account.clone(),
        created_at: time(m.created_at),
        notify_secret: None,
    }
}

pub fn notification(n: &Notification) -> NotificationResponse {
    NotificationResponse {
        event_id: n.event_id.clone(),
        event_type: n.event_type.clone(),
        merchant: n.merchant.clone(),
        order: n.order_id.clone(),
        order_seq: n.order_seq,
        url: n.url.clone(),
        status: n.status.name().to_owned(),
        attempts: n
            .attempts
            .iter()
            .map(|a| NotificationAttempt {
                at: time(a.at),
                status_code: a.status_code,
                reason: a.reason.clone(),
                latency_ms: a.latency_ms,
            })
            .collect(),
        attempt_count: n.attempt_count,
        next_attempt_at: n.next_attempt_at.map(time),
        created_at: time(n.created_at),
        delivered_at: n.delivered_at.map(time),
        body: n.body.clone(),
    }
}

pub fn channel(view: &ChannelView) -> ChannelResponse {
    let c = &view.channel;
    ChannelResponse {
        id: c.id.clone(),
        protocol: c.protocol.clone(),
        endpoint: c.endpoint.clone(),
        methods: c.methods.iter().map(|m| m.name().to_owned()).collect(),
        currencies: c.currencies.iter().map(|c| c.code().to_owned()).collect(),
        min_amount: c.min_amount,
        max_amount: c.max_amount,
        weight: c.weight,
        rate_limit_per_s: c.rate_limit_per_s,
        enabled: c.enabled,
        clearing_accounts: c
            .currencies
            .iter()
            .map(|cur| clearing_account(&c.id, *cur))
            .collect(),
        counters: ChannelCounters {
            routed: view.counters.routed,
            succeeded: view.counters.succeeded,
            failed: view.counters.failed,
            unknown: view.counters.unknown,
        },
        health: ChannelHealth {
            consecutive_failures: view.health.consecutive_failures,
            resting_until: view.health.resting_until.map(time),
        },
        created_at: time(c.created_at),
    }
}

pub fn trade(t: &Trade, payments: &[Payment]) -> TradeResponse {
    TradeResponse {
        trade_id: t.trade_id.clone(),
        merchant: t.merchant.clone(),
        merchant_order_no: t.merchant_order_no.clone(),
        amount: t.amount,
        currency: t.currency.code().to_owned(),
        subject: t.subject.clone(),
        notify_url: t.notify_url.clone(),
        status: t.status.name().to_owned(),
        created_at: time(t.created_at),
        expires_at: time(t.expires_at),
        paid_by: t.paid_by.clone(),
        paid_at: t.paid_at.map(time),
        payments: payments.iter().map(payment).collect(),
    }
}

pub fn trade_view(v: &TradeView) -> TradeResponse {
    trade(&v.trade, &v.payments)
}

pub fn route(d: &RouteDecision) -> RouteResponse {
    RouteResponse {
        chosen: d.chosen.clone(),
        strategy: d.strategy.name().to_owned(),
        split_key: d.split_key.clone(),
        at: time(d.at),
        candidates: d
            .candidates
            .iter()
            .map(|c| CandidateResponse {
                channel: c.channel.clone(),
                weight: c.weight,
                eligible: c.dropped.is_none(),
                reason: c.dropped.as_ref().map(|r| r.code().to_owned()),
                detail: c.dropped.as_ref().map(|r| r.describe()),
            })
            .collect(),
    }
}

fn attempt(a: &Attempt, next_check_at: Option<u64>) -> AttemptResponse {
    order(&a.order, &a.route, next_check_at)
}

fn order(
    o: &paycore_payments::ChannelOrder,
    decision: &RouteDecision,
    next_check_at: Option<u64>,
) -> AttemptResponse {
    AttemptResponse {
        channel: o.channel.clone(),
        channel_order_no: o.order_no.clone(),
        status: o.status.name().to_owned(),
        created_at: time(o.created_at),
        updated_at: time(o.updated_at),
        sends: o.sends,
        queries: o.queries,
        next_check_at: next_check_at.map(time),
        bank_ref: o.bank_ref.clone(),
        failure: failure(&o.failure),
        note: o.note.clone(),
        route: route(decision),
    }
}

pub fn payment(p: &Payment) -> PaymentResponse {
    let current = p.current();
    let asking = p.next_step() == Step::AskBank;
    let last = p.attempts.len().saturating_sub(1);
    PaymentResponse {
        id: p.id.clone(),
        trade_id: p.trade_id.clone(),
        merchant: p.merchant.clone(),
        status: p.status.name().to_owned(),
        method: p.method.name().to_owned(),
        amount: p.amount,
        currency: p.currency.code().to_owned(),
        fee: p.fee,
        channel: current.map(|a| a.order.channel.clone()),
        channel_order_no: current.map(|a| a.order.order_no.clone()),
        attempts: p
            .attempts
            .iter()
            .enumerate()
            .map(|(i, a)| attempt(a, p.next_check_at.filter(|_| asking && i == last)))
            .collect(),
        route: current.map(|a| route(&a.route)),
        payer_account: p.payer_account.clone(),
        balance_amount: p.balance_amount,
        refund_reason: p.refund_reason().map(|r| r.name().to_owned()),
        refund_id: p.refund_id.clone(),
        created_at: time(p.created_at),
        updated_at: time(p.updated_at),
        succeeded_at: p.succeeded_at.map(time),
        failure: failure(&p.failure),
        anomalies: p.anomalies.clone(),
    }
}

pub fn refund(r: &Refund) -> RefundResponse {
    RefundResponse {
        id: r.id.clone(),
        payment_id: r.payment_id.clone(),
        trade_id: r.trade_id.clone(),
        merchant: r.merchant.clone(),
        amount: r.amount,
        currency: r.currency.code().to_owned(),
        reason: r.reason.clone(),
        status: r.status().name().to_owned(),
        source: r.source.name().to_owned(),
        channel: r.order.channel.clone(),
        channel_order_no: r.order.order_no.clone(),
        paid_order_no: r.paid_order_no.clone(),
        hold: r.hold.name().to_owned(),
        created_at: time(r.created_at),
        updated_at: time(r.updated_at),
        bank_ref: r.order.bank_ref.clone(),
        failure: failure(&r.failure),
        anomalies: r.anomalies.clone(),
    }
}

pub fn payout(p: &Payout) -> PayoutResponse {
    let current = p.current();
    let asking = p.next_step() == PayoutStep::AskBank;
    let last = p.attempts.len() - 1;
    PayoutResponse {
        id: p.id.clone(),
        merchant: p.merchant.clone(),
        amount: p.amount,
        currency: p.currency.code().to_owned(),
        bank_account: p.bank_account.clone(),
        status: p.status().name().to_owned(),
        channel: current.order.channel.clone(),
        channel_order_no: current.order.order_no.clone(),
        hold: current.hold.name().to_owned(),
        attempts: p
            .attempts
            .iter()
            .enumerate()
            .map(|(i, a)| PayoutAttemptResponse {
                order: order(
                    &a.order,
                    &a.route,
                    p.next_check_at.filter(|_| asking && i == last),
                ),
                hold: a.hold.name().to_owned(),
                hold_id: paycore_payments::payout::hold_id(&p.id, i + 1),
            })
            .collect(),
        requested_channel: p.requested_channel.clone(),
        notify_url: p.notify_url.clone(),
        created_at: time(p.created_at),
        updated_at: time(p.updated_at),
        failure: failure(&p.failure),
        anomalies: p.anomalies.clone(),
    }
}
