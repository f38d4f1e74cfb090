//! One channel's records and rules: idempotent orders (same number, same content → the recorded
//! order; other content → refused), refunds within the payment, outcomes drawn once at arrival,
//! and the callbacks each new order asks for. Pure: time comes in with each call.

use std::time::Duration;

use hashbrown::HashMap;
use paycore_channels::wire::{BankCall, BankReply, Refusal, ReportState};
use paycore_channels::{Currency, Method, OrderKind};
use tokio::time::Instant;
use xxhash_rust::xxh3::xxh3_64;

use crate::config::{CallbackMode, ChannelConfig};
use crate::draw::{self, Drawn};
use crate::order::{Order, OrderView, Visible};

/// When a call arrives, at which bank.
pub struct Arrival<'a> {
    pub seed: u64,
    pub channel_id: &'a str,
    pub now: Instant,
    pub unix_ms: i64,
}

/// What the bank does about a call: answer this, after that long, and maybe call back.
#[derive(Debug)]
pub struct Decision {
    pub reply: BankReply,
    pub wait: Duration,
    pub notify: Option<NotifyPlan>,
}

/// A callback a new order asks for.
#[derive(Debug, Clone)]
pub struct NotifyPlan {
    /// The order's place in the channel's records.
    pub index: usize,
    pub url: String,
    pub due: Instant,
    /// 1, or 2 for a duplicated callback.
    pub copies: u8,
}

/// A create call's order, before the bank has looked at it.
struct NewOrder {
    kind: OrderKind,
    order_no: String,
    paid_order_no: Option<String>,
    method: Option<Method>,
    amount_minor: u64,
    currency: Currency,
    fingerprint: u64,
    notify_url: String,
}

impl NewOrder {
    fn of(call: BankCall) -> Result<NewOrder, (OrderKind, String)> {
        let order = |kind, order_no, amount_minor, currency, notify_url| NewOrder {
            kind,
            order_no,
            paid_order_no: None,
            method: None,
            amount_minor,
            currency,
            fingerprint: 0,
            notify_url,
        };
        let (mut new, account) = match call {
            BankCall::Pay(o) => {
                let mut new = order(
                    OrderKind::Pay,
                    o.channel_order_no,
                    o.amount_minor,
                    o.currency,
                    o.notify_url,
                );
                new.method = Some(o.method);
                (new, String::new())
            }
            BankCall::Refund(o) => {
                let mut new = order(
                    OrderKind::Refund,
                    o.refund_no,
                    o.amount_minor,
                    o.currency,
                    o.notify_url,
                );
                new.paid_order_no = Some(o.channel_order_no);
                (new, String::new())
            }
            BankCall::Payout(o) => {
                let new = order(
                    OrderKind::Payout,
                    o.payout_no,
                    o.amount_minor,
                    o.currency,
                    o.notify_url,
                );
                (new, o.bank_account)
            }
            BankCall::Query { kind, order_no } => return Err((kind, order_no)),
        };
        let content = format!(
            "{}|{}|{}|{}|{}|{account}",
            new.kind.name(),
            new.amount_minor,
            new.currency.code(),
            new.method.map_or("", Method::name),
            new.paid_order_no.as_deref().unwrap_or_default()
        );
        new.fingerprint = xxh3_64(content.as_bytes());
        Ok(new)
    }
}

/// A channel's configuration and records.
pub struct ChannelState {
    pub config: ChannelConfig,
    orders: Vec<Order>,
    index: HashMap<String, usize>,
}

impl ChannelState {
    pub fn new(config: ChannelConfig) -> ChannelState {
        ChannelState {
            config,
            orders: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Decides a call arriving at `at`.
    pub fn decide(&mut self, call: BankCall, at: &Arrival<'_>) -> Decision {
        let latency = Duration::from_millis(self.config.latency_ms);
        match NewOrder::of(call) {
            Err((kind, order_no)) => {
                let reply = match self.order(&order_no) {
                    Some(order) if order.kind == kind => {
                        BankReply::Report(order.report(at.now + latency))
                    }
                    _ => BankReply::NotFound,
                };
                answer(reply, latency)
            }
            Ok(new) => match self.index.get(&new.order_no) {
                Some(&index) => self.repeat(index, &new, at, latency),
                None => self.create(new, at, latency),
            },
        }
    }

    /// A create call for a number the bank has: the recorded order, or a refusal.
    fn repeat(
        &mut self,
        index: usize,
        new: &NewOrder,
        at: &Arrival<'_>,
        latency: Duration,
    ) -> Decision {
        let order = &mut self.orders[index];
        if order.fingerprint != new.fingerprint {
            return answer(BankReply::Refused(Refusal::OrderConflict), latency);
        }
        order.requests += 1;
        answer(BankReply::Report(order.report(at.now + latency)), latency)
    }

    fn create(&mut self, new: NewOrder, at: &Arrival<'_>, latency: Duration) -> Decision {
        if let Some(paid) = &new.paid_order_no {
            if let Err(refusal) = self.check_refund(paid, &new, at.now) {
                return answer(BankReply::Refused(refusal), latency);
            }
        }
        let drawn = draw::outcome(at.seed, at.channel_id, &new.order_no, &self.config);
        let wait = match drawn {
            Drawn::Timeout { .. } => {
                latency.max(Duration::from_millis(self.config.timeout_hold_ms))
            }
            _ => latency,
        };
        let bank_ref = draw::bank_ref(at.seed, at.channel_id, &new.order_no);
        let order = Order {
            kind: new.kind,
            order_no: new.order_no,
            paid_order_no: new.paid_order_no,
            method: new.method,
            amount_minor: new.amount_minor,
            currency: new.currency,
            fingerprint: new.fingerprint,
            succeeds: drawn.succeeds(),
            visible_at: at.now + latency,
            bank_ref,
            created_unix_ms: at.unix_ms,
            refunded_minor: 0,
            requests: 1,
            callbacks_sent: 0,
            callbacks_acked: 0,
        };
        if let (Some(paid), true) = (&order.paid_order_no, order.succeeds) {
            let paid = self.index[paid.as_str()];
            self.orders[paid].refunded_minor += order.amount_minor;
        }
        let mut report = order.report(at.now + wait);
        if order.method == Some(Method::Netbank) {
            report.state = ReportState::Processing;
        }
        let notify = self.plan_callback(&order, at, new.notify_url);
        self.index.insert(order.order_no.clone(), self.orders.len());
        self.orders.push(order);
        Decision {
            reply: BankReply::Report(report),
            wait,
            notify,
        }
    }

    /// A refund needs a visible, succeeded payment in its currency with room for its amount.
    fn check_refund(&self, paid: &str, new: &NewOrder, now: Instant) -> Result<(), Refusal> {
        let payment = self
            .order(paid)
            .filter(|p| p.kind == OrderKind::Pay && p.visible(now) == Visible::Succeeded)
            .ok_or(Refusal::PaymentNotSucceeded)?;
        if payment.currency != new.currency {
            return Err(Refusal::InvalidRequest(
                "refund currency differs from the payment's".to_owned(),
            ));
        }
        let refunded = payment.refunded_minor.saturating_add(new.amount_minor);
        if refunded > payment.amount_minor {
            return Err(Refusal::RefundExceedsPayment);
        }
        Ok(())
    }

    fn plan_callback(&self, order: &Order, at: &Arrival<'_>, url: String) -> Option<NotifyPlan> {
        let delay = match self.config.callback {
            CallbackMode::None => return None,
            CallbackMode::Immediate => Duration::ZERO,
            CallbackMode::Late => Duration::from_millis(self.config.callback_delay_ms),
        };
        if url.is_empty() {
            return None;
        }
        let pct = self.config.duplicate_callback_pct;
        let twice = draw::duplicate(at.seed, at.channel_id, &order.order_no, pct);
        Some(NotifyPlan {
            index: self.orders.len(),
            url,
            due: order.visible_at + delay,
            copies: if twice { 2 } else { 1 },
        })
    }

    /// The order recorded under a number.
    pub fn order(&self, order_no: &str) -> Option<&Order> {
        self.index.get(order_no).map(|&i| &self.orders[i])
    }

    /// The order at a place in the records (from a [`NotifyPlan`]).
    pub fn order_at(&mut self, index: usize) -> &mut Order {
        &mut self.orders[index]
    }

    /// Orders in arrival order after `after` (a number), filtered, at most `limit`; and the
    /// number to continue after when more may follow.
    pub fn list(&self, filter: &ListFilter, now: Instant) -> (Vec<OrderView>, Option<String>) {
        let start = match &filter.after {
            Some(after) => self
                .index
                .get(after.as_str())
                .map_or(self.orders.len(), |i| i + 1),
            None => 0,
        };
        let matching = self.orders[start..].iter().filter(|order| {
            filter.kind.is_none_or(|kind| order.kind == kind)
                && filter
                    .status
                    .is_none_or(|status| order.visible(now) == status)
        });
        let views: Vec<OrderView> = matching
            .take(filter.limit + 1)
            .map(|o| o.view(now))
            .collect();
        if views.len() > filter.limit {
            let mut views = views;
            views.truncate(filter.limit);
            let next = views.last().map(|v| v.order_no.clone());
            return (views, next);
        }
        (views, None)
    }
}

/// Which orders a list shows.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub kind: Option<OrderKind>,
    pub status: Option<Visible>,
    pub after: Option<String>,
    pub limit: usize,
}

fn answer(reply: BankReply, wait: Duration) -> Decision {
    Decision {
        reply,
        wait,
        notify: None,
    }
}
