//! Refunds (退款): money back to the payer, through the payment's channel. A refund a merchant
//! asks for comes out of the merchant's account — held first, captured to the channel's
//! clearing account when the bank says it succeeded, released if it definitively failed; an
//! automatic refund (of a duplicate payment, a late success…) comes out of the suspense
//! account the money was put in. Timeouts are unknown, never failures (`ChannelOrder`).

use paycore_money::Currency;

use crate::error::PayError;
use crate::hold::HoldState;
use crate::ids::{self, Millis};
use crate::order::{BankReport, ChannelOrder, Failure, OrderEffect, OrderStatus, Timing};

/// Where a refund's money comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundSource {
    /// The merchant's account (a refund the merchant asked for).
    Merchant,
    /// The suspense account (money a payment received but did not keep).
    Suspense,
    /// Money the channel holds that paycore never counted (a reconciliation exception a
    /// person resolved with `refund`): on success its receipt into suspense and its return
    /// are posted together, so the ledger records both movements and nets to nothing.
    Reconciliation,
}

impl RefundSource {
    pub fn name(self) -> &'static str {
        match self {
            RefundSource::Merchant => "merchant",
            RefundSource::Suspense => "suspense",
            RefundSource::Reconciliation => "reconciliation",
        }
    }

    pub fn from_name(name: &str) -> Option<RefundSource> {
        [
            RefundSource::Merchant,
            RefundSource::Suspense,
            RefundSource::Reconciliation,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub payment_id: String,
    pub trade_id: String,
    pub merchant: String,
    pub amount: u64,
    pub currency: Currency,
    pub reason: String,
    pub source: RefundSource,
    /// The refund's own order at the channel (its number is the refund number).
    pub order: ChannelOrder,
    /// The payment's channel order it refunds.
    pub paid_order_no: String,
    pub hold: HoldState,
    /// Whether the ledger posted it (a refund is `succeeded` only then).
    pub posted: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub next_check_at: Option<Millis>,
    pub failure: Option<Failure>,
    pub anomalies: Vec<String>,
}

/// What must happen next for a refund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundStep {
    /// Hold the amount on the merchant's account before anything is sent.
    PlaceHold,
    /// Send it to the channel (never sent yet).
    Send,
    AskBank,
    /// The bank refunded: capture the hold (merchant) or post from suspense.
    Post,
    /// The bank definitively refused: release the hold.
    Release,
    Done,
}

/// A refund request, checked against its payment by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRefund {
    pub id: String,
    pub amount: u64,
    pub reason: String,
}

impl NewRefund {
    pub fn check(&self) -> Result<(), PayError> {
        ids::check_order_id("id", &self.id, ids::ORDER_ID_BYTES_MAX)?;
        ids::check_amount("amount", self.amount)?;
        ids::check_text("reason", &self.reason, ids::SUBJECT_BYTES_MAX, false)
    }
}

/// What the payment a refund is for looks like, as far as the refund needs it.
#[derive(Clone, Debug)]
pub struct Refundable<'a> {
    pub payment_id: &'a str,
    pub trade_id: &'a str,
    pub merchant: &'a str,
    pub currency: Currency,
    pub channel: &'a str,
    pub paid_order_no: &'a str,
}

impl Refund {
    pub fn new(
        request: NewRefund,
        paid: &Refundable<'_>,
        source: RefundSource,
        order_no: String,
        now: Millis,
    ) -> Refund {
        Refund {
            id: request.id,
            payment_id: paid.payment_id.to_owned(),
            trade_id: paid.trade_id.to_owned(),
            merchant: paid.merchant.to_owned(),
            amount: request.amount,
            currency: paid.currency,
            reason: request.reason,
            source,
            order: ChannelOrder::unsent(paid.channel.to_owned(), order_no, now),
            paid_order_no: paid.paid_order_no.to_owned(),
            hold: match source {
                RefundSource::Merchant => HoldState::Pending,
                RefundSource::Suspense | RefundSource::Reconciliation => HoldState::NotNeeded,
            },
            posted: false,
            created_at: now,
            updated_at: now,
            next_check_at: Some(now),
            failure: None,
            anomalies: Vec::new(),
        }
    }

    /// Whether a create request with this content is a retry of this refund.
    pub fn same_request(&self, payment_id: &str, request: &NewRefund) -> bool {
        self.payment_id == payment_id
            && self.amount == request.amount
            && self.reason == request.reason
    }

    /// processing, unknown, succeeded (refunded and posted) or failed.
    pub fn status(&self) -> OrderStatus {
        match self.order.status {
            OrderStatus::Succeeded if !self.posted => OrderStatus::Processing,
            // Failed only once the merchant has the held money back.
            OrderStatus::Failed if self.hold == HoldState::Placed => OrderStatus::Processing,
            _ if self.hold == HoldState::Refused => OrderStatus::Failed,
            status => status,
        }
    }

    /// Whether it still counts against what the payment may refund.
    pub fn counts(&self) -> bool {
        self.status() != OrderStatus::Failed
    }

    pub fn next_step(&self) -> RefundStep {
        match (self.hold, self.order.status) {
            (HoldState::Refused, _) | (HoldState::Released, _) | (HoldState::Captured, _) => {
                RefundStep::Done
            }
            (HoldState::Pending, _) => RefundStep::PlaceHold,
            (_, OrderStatus::Succeeded) if !self.posted => RefundStep::Post,
            (_, OrderStatus::Succeeded) => RefundStep::Done,
            (HoldState::Placed, OrderStatus::Failed) => RefundStep::Release,
            (_, OrderStatus::Failed) => RefundStep::Done,
            _ if self.order.sends == 0 => RefundStep::Send,
            _ => RefundStep::AskBank,
        }
    }

    pub fn report(&mut self, report: &BankReport, now: Millis, timing: Timing) -> OrderEffect {
        assert_eq!(report.order_no, self.order.order_no);
        let effect = self
            .order
            .report(report.source, &report.result, self.amount, now, timing);
        if let OrderEffect::Anomaly(message) = &effect {
            self.anomaly(message.clone());
        }
        if self.order.status == OrderStatus::Failed {
            self.failure = self.order.failure.clone();
        }
        self.updated_at = self.updated_at.max(now);
        self.settle_schedule(now);
        effect
    }

    /// The hold is on the merchant's account; the refund is sent next.
    pub fn hold_placed(&mut self, now: Millis) {
        assert_eq!(self.hold, HoldState::Pending);
        self.hold = HoldState::Placed;
        self.updated_at = now;
    }

    /// The ledger refused a step that must still happen (the refund was sent, or its hold
    /// must be released): tried again after `retry_ms`, the refund saying why it waits.
    pub fn ledger_step_refused(&mut self, step: &str, code: &str, now: Millis, retry_ms: Millis) {
        self.anomaly(crate::posting::stuck_anomaly(step, code, retry_ms));
        self.next_check_at = Some(now + retry_ms);
    }

    fn anomaly(&mut self, message: String) {
        if !self.anomalies.contains(&message) {
            self.anomalies.push(message);
        }
    }

    /// The ledger refused the hold: the refund fails before anything was sent.
    pub fn hold_refused(&mut self, code: &str, now: Millis) {
        assert_eq!(self.hold, HoldState::Pending);
        self.hold = HoldState::Refused;
        self.failure = Some(Failure::new(
            code,
            format!("the merchant's account refused the hold: {code}"),
        ));
        self.next_check_at = None;
        self.updated_at = now;
    }

    /// The ledger posted the refund (captured the hold, or moved it out of suspense).
    pub fn posted(&mut self, now: Millis) {
        assert_eq!(self.next_step(), RefundStep::Post);
        self.posted = true;
        if self.hold == HoldState::Placed {
            self.hold = HoldState::Captured;
        }
        self.next_check_at = None;
        self.updated_at = now;
    }

    /// The hold was released after a definitive failure.
    pub fn released(&mut self, now: Millis) {
        assert_eq!(self.next_step(), RefundStep::Release);
        self.hold = HoldState::Released;
        self.next_check_at = None;
        self.updated_at = now;
    }

    /// Keeps the resolver looking while something is left to do.
    pub fn schedule_check(&mut self, at: Millis) {
        self.next_check_at = match self.next_step() {
            RefundStep::Done => None,
            _ => Some(at),
        };
    }

    fn settle_schedule(&mut self, now: Millis) {
        if matches!(self.next_step(), RefundStep::Post | RefundStep::Release) {
            self.next_check_at = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{BankResult, ReportSource};

    const TIMING: Timing = Timing {
        not_found_grace_ms: 1_000,
    };

    fn refund(source: RefundSource) -> Refund {
        let paid = Refundable {
            payment_id: "p",
            trade_id: "T",
            merchant: "m",
            currency: Currency::CNY,
            channel: "a",
            paid_order_no: "o1",
        };
        let request = NewRefund {
            id: "r".into(),
            amount: 40,
            reason: "changed mind".into(),
        };
        Refund::new(request, &paid, source, "o2".into(), 0)
    }

    fn report(result: BankResult) -> BankReport {
        BankReport {
            order_no: "o2".into(),
            source: ReportSource::Response,
            result,
        }
    }

    #[test]
    fn a_merchant_refund_holds_first_and_captures_only_on_success() {
        let mut r = refund(RefundSource::Merchant);
        assert_eq!(r.next_step(), RefundStep::PlaceHold);
        r.hold_placed(1);
        assert_eq!(r.next_step(), RefundStep::Send);
        r.order.mark_sent(1);
        r.report(
            &report(BankResult::NoAnswer {
                reason: "timeout".into(),
            }),
            2,
            TIMING,
        );
        assert_eq!(
            (r.next_step(), r.status()),
            (RefundStep::AskBank, OrderStatus::Unknown)
        );
        r.report(
            &report(BankResult::Succeeded {
                bank_ref: "R".into(),
                amount: 40,
            }),
            3,
            TIMING,
        );
        assert_eq!(
            (r.next_step(), r.status()),
            (RefundStep::Post, OrderStatus::Processing)
        );
        r.posted(4);
        assert_eq!(
            (r.next_step(), r.status(), r.hold),
            (
                RefundStep::Done,
                OrderStatus::Succeeded,
                HoldState::Captured
            )
        );
    }

    #[test]
    fn a_definitive_failure_releases_and_a_refused_hold_sends_nothing() {
        let mut r = refund(RefundSource::Merchant);
        r.hold_placed(1);
        r.order.mark_sent(1);
        r.report(
            &report(BankResult::Failed {
                code: "NO".into(),
                message: "no".into(),
            }),
            2,
            TIMING,
        );
        assert_eq!(
            (r.next_step(), r.status(), r.counts()),
            (RefundStep::Release, OrderStatus::Processing, true)
        );
        r.released(3);
        assert_eq!(
            (r.next_step(), r.status(), r.counts()),
            (RefundStep::Done, OrderStatus::Failed, false)
        );
        let mut refused = refund(RefundSource::Merchant);
        refused.hold_refused("insufficient_funds", 1);
        assert_eq!(
            (refused.next_step(), refused.status()),
            (RefundStep::Done, OrderStatus::Failed)
        );
        assert_eq!(refused.order.sends, 0);
    }

    #[test]
    fn an_automatic_refund_needs_no_hold() {
        let mut r = refund(RefundSource::Suspense);
        assert_eq!(r.next_step(), RefundStep::Send);
        r.order.mark_sent(1);
        r.report(
            &report(BankResult::Succeeded {
                bank_ref: "R".into(),
                amount: 40,
            }),
            2,
            TIMING,
        );
        r.posted(3);
        assert_eq!(
            (r.hold, r.status()),
            (HoldState::NotNeeded, OrderStatus::Succeeded)
        );
    }
}
