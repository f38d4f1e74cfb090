//! What the ledger (or a refund) must do next for a payment, derived from its stored state
//! alone, and what each finished step changes. The service does `next_step` until it says
//! `AskBank` or `Done`; after a crash the resolver does the same, so every step is done again
//! until it is recorded, and the ledger's ids (derived from the payment) make it once.

use super::{Attempt, Disposition, Payment, PaymentStatus, Posted, ReturnReason};
use crate::channel::Method;
use crate::error::PayError;
use crate::ids::Millis;
use crate::order::{ChannelOrder, Failure};
use crate::routing::RouteDecision;
use crate::trade::Trade;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The outcome at the bank is open: ask it (at `next_check_at`) or wait for its callback.
    AskBank,
    /// Post a kept channel payment: clearing → merchant (net of the fee), → fee income.
    PostKeep,
    /// Post what the channel received into the suspense account (money to return, or a
    /// combined payment's external part until its balance part is posted).
    PostToSuspense,
    /// Post a combined payment's balance part and pay the merchant from suspense.
    PostCombined,
    /// Post a balance payment: payer → merchant (net), → fee income.
    PostBalance,
    /// Refund, through the channel, money that is not kept.
    Refund,
    Done,
}

impl Payment {
    pub fn next_step(&self) -> Step {
        if self.status.is_final() {
            return Step::Done;
        }
        match (self.method, self.disposition, self.posted) {
            (Method::Balance, _, Posted::Nothing) => Step::PostBalance,
            (_, None, _) => Step::AskBank,
            (Method::Combined, Some(Disposition::Keep), Posted::Nothing) => Step::PostToSuspense,
            (Method::Combined, Some(Disposition::Keep), Posted::ToSuspense) => Step::PostCombined,
            (_, Some(Disposition::Keep), Posted::Nothing) => Step::PostKeep,
            (_, Some(Disposition::Return(_)), Posted::Nothing) => Step::PostToSuspense,
            (_, Some(Disposition::Return(_)), Posted::ToSuspense) if self.refund_id.is_none() => {
                Step::Refund
            }
            _ => Step::Done,
        }
    }

    /// `PostKeep`, `PostCombined` or `PostBalance` was posted: the payment succeeded and paid
    /// its trade.
    pub fn kept(&mut self, trade: &mut Trade, now: Millis) {
        assert_eq!(self.disposition, Some(Disposition::Keep));
        trade
            .mark_paid(&self.id, now)
            .expect("a kept payment claimed its trade");
        self.posted = Posted::Final;
        self.status = PaymentStatus::Succeeded;
        self.succeeded_at = Some(now);
        self.failure = None;
        self.next_check_at = None;
        self.touch(now);
    }

    /// The ledger refused `PostKeep` (the merchant's account closed, say): the money goes
    /// back to the payer.
    pub fn keep_refused(&mut self, trade: &mut Trade, code: &str, now: Millis) {
        self.give_back(trade, ReturnReason::LedgerRejected, code, now);
    }

    /// The ledger refused the posting into suspense, which has no other way out (money the
    /// bank took must reach an account; the clearing account may be frozen, suspense full).
    /// It is tried again after `retry_ms`, and the payment says why it waits, where an
    /// operator sees it. `tried` is the `ledger_tries` the refused posting was built with: only
    /// a refusal of the current id moves to a new one, so every earlier id is known refused
    /// and at most one id can ever post (a stale answer from a concurrent try changes nothing).
    pub fn suspense_refused(&mut self, tried: u16, code: &str, now: Millis, retry_ms: Millis) {
        if tried != self.ledger_tries {
            return;
        }
        self.anomaly(crate::posting::refusal_anomaly(
            "PostToSuspense",
            code,
            retry_ms,
        ));
        // Saved with the refusal in one job: a crash before that retries the refused id,
        // whose replayed refusal brings the payment here again.
        self.ledger_tries = self.ledger_tries.saturating_add(1);
        self.next_check_at = Some(now + retry_ms);
    }

    /// The ledger refused a combined payment's balance part (insufficient funds, a frozen or
    /// closed account): the external part goes back.
    pub fn combined_refused(&mut self, trade: &mut Trade, code: &str, now: Millis) {
        assert_eq!(self.posted, Posted::ToSuspense);
        self.give_back(trade, ReturnReason::BalanceFailed, code, now);
    }

    fn give_back(&mut self, trade: &mut Trade, reason: ReturnReason, code: &str, now: Millis) {
        assert_eq!(self.disposition, Some(Disposition::Keep));
        trade.unclaim(&self.id);
        self.disposition = Some(Disposition::Return(reason));
        self.status = PaymentStatus::Refunding;
        self.failure = Some(Failure::new(
            reason.name(),
            format!("the ledger refused the posting: {code}"),
        ));
        self.touch(now);
    }

    /// The ledger refused a balance payment: nothing moved.
    pub fn balance_refused(&mut self, trade: &mut Trade, code: &str, now: Millis) {
        assert_eq!(self.method, Method::Balance);
        trade.unclaim(&self.id);
        self.status = PaymentStatus::Failed;
        self.failure = Some(Failure::new(
            code,
            format!("the payer's account refused the payment: {code}"),
        ));
        self.next_check_at = None;
        self.touch(now);
    }

    /// `PostToSuspense` was posted.
    pub fn in_suspense(&mut self, now: Millis) {
        assert_eq!(self.posted, Posted::Nothing);
        self.posted = Posted::ToSuspense;
        self.touch(now);
    }

    /// The automatic refund `refund_id` was created; it has a life (and checks) of its own.
    pub fn refund_started(&mut self, refund_id: &str, now: Millis) {
        assert_eq!(self.next_step(), super::Step::Refund);
        self.refund_id = Some(refund_id.to_owned());
        self.next_check_at = None;
        self.touch(now);
    }

    /// The automatic refund succeeded and was posted.
    pub fn refunded(&mut self, now: Millis) {
        let reason = self
            .refund_reason()
            .expect("only money not kept is refunded");
        self.status = reason.final_status();
        self.touch(now);
    }

    /// The automatic refund failed at the bank: the money stays in suspense for a person.
    pub fn refund_failed(&mut self, message: &str, now: Millis) {
        self.anomaly(format!("the automatic refund failed: {message}"));
        self.touch(now);
    }

    /// Counts a resend of the current channel order (same number).
    pub fn resend(&mut self, now: Millis) -> Result<&Attempt, PayError> {
        let open =
            self.status.in_flight() && self.current_mut().is_some_and(|a| a.order.resend(now));
        if !open {
            return Err(PayError::PaymentFinal {
                status: self.status.name(),
            });
        }
        self.touch(now);
        Ok(self.current().expect("checked above"))
    }

    /// Whether a reroute may start: only after a definitive failure that received no money.
    pub fn check_reroute(&self) -> Result<(), PayError> {
        match self.status {
            PaymentStatus::Processing | PaymentStatus::Unknown => {
                Err(PayError::PaymentOutcomeUnknown)
            }
            PaymentStatus::Succeeded => Err(PayError::PaymentAlreadySucceeded),
            PaymentStatus::Failed if self.received_by().is_some() => {
                Err(PayError::PaymentAlreadySucceeded)
            }
            PaymentStatus::Failed if self.method == Method::Balance => {
                Err(PayError::PaymentFinal { status: "failed" })
            }
            PaymentStatus::Failed => Ok(()),
            PaymentStatus::Refunding | PaymentStatus::Refunded => Err(PayError::PaymentFinal {
                status: self.status.name(),
            }),
        }
    }

    /// Starts a new channel order on the routed channel after a definitive failure.
    pub fn reroute(
        &mut self,
        order_no: String,
        route: RouteDecision,
        now: Millis,
        first_check: Millis,
    ) -> Result<(), PayError> {
        self.check_reroute()?;
        let channel = route
            .chosen
            .clone()
            .expect("a reroute goes to a chosen channel");
        assert!(self.attempts.iter().all(|a| a.order.order_no != order_no));
        self.attempts.push(Attempt {
            order: ChannelOrder::new(channel, order_no, now),
            route,
        });
        self.status = PaymentStatus::Processing;
        self.failure = None;
        self.next_check_at = Some(first_check);
        self.touch(now);
        Ok(())
    }

    /// Schedules the next look while the outcome at the bank is open.
    pub fn schedule_check(&mut self, at: Millis) {
        if self.next_step() == Step::AskBank {
            self.next_check_at = Some(at);
        }
    }
}
