//! Payouts (出款): money from a merchant's account to a bank account, through a channel.
//! The merchant's funds are held first; success captures the hold to the channel's clearing
//! account, a definitive failure releases it, an unknown outcome keeps it. **Never rerouted
//! automatically**: a payout whose outcome is unknown may have paid, and a second channel
//! would pay again (资损). A reroute, by a person, only after a definitive failure, under a new
//! channel order number and a new hold.

use paycore_money::Currency;

use crate::error::PayError;
use crate::hold::HoldState;
use crate::ids::{self, Millis};
use crate::order::{BankReport, ChannelOrder, Failure, OrderEffect, OrderStatus, Timing};
use crate::routing::RouteDecision;

/// Reroutes a payout may have (its hold ids carry the attempt number).
pub const PAYOUT_ATTEMPTS_MAX: usize = 99;
pub const BANK_ACCOUNT_BYTES_MAX: usize = 64;

/// One channel order of a payout, with the hold that guards it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutAttempt {
    pub order: ChannelOrder,
    pub route: RouteDecision,
    pub hold: HoldState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payout {
    pub id: String,
    pub merchant: String,
    pub amount: u64,
    pub currency: Currency,
    pub bank_account: String,
    pub requested_channel: Option<String>,
    /// Where the merchant hears of the outcome (`payout.succeeded` / `payout.failed`).
    pub notify_url: Option<String>,
    pub attempts: Vec<PayoutAttempt>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub next_check_at: Option<Millis>,
    pub failure: Option<Failure>,
    pub anomalies: Vec<String>,
}

/// A payout request, as the edge parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayout {
    pub id: String,
    pub merchant: String,
    pub amount: u64,
    pub currency: Currency,
    pub bank_account: String,
    pub channel: Option<String>,
    pub notify_url: Option<String>,
}

impl NewPayout {
    pub fn check(&self) -> Result<(), PayError> {
        ids::check_order_id("id", &self.id, ids::ORDER_ID_BYTES_MAX)?;
        ids::check_amount("amount", self.amount)?;
        let safe = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        let account = &self.bank_account;
        if account.is_empty()
            || account.len() > BANK_ACCOUNT_BYTES_MAX
            || !account.bytes().all(safe)
        {
            return Err(PayError::invalid(
                "bank_account",
                "1 to 64 characters of A-Z a-z 0-9 _ -",
            ));
        }
        Ok(())
    }
}

/// What must happen next for a payout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayoutStep {
    PlaceHold,
    Send,
    AskBank,
    Capture,
    Release,
    Done,
}

/// The ledger id of the hold guarding attempt `number` (1-based) of a payout.
pub fn hold_id(payout: &str, number: usize) -> String {
    format!("payout-hold:{payout}:{number}")
}

impl Payout {
    pub fn new(request: NewPayout, order_no: String, route: RouteDecision, now: Millis) -> Payout {
        let channel = route
            .chosen
            .clone()
            .expect("a payout starts on a chosen channel");
        Payout {
            id: request.id,
            merchant: request.merchant,
            amount: request.amount,
            currency: request.currency,
            bank_account: request.bank_account,
            requested_channel: request.channel,
            notify_url: request.notify_url,
            attempts: vec![PayoutAttempt {
                order: ChannelOrder::unsent(channel, order_no, now),
                route,
                hold: HoldState::Pending,
            }],
            created_at: now,
            updated_at: now,
            next_check_at: Some(now),
            failure: None,
            anomalies: Vec::new(),
        }
    }

    pub fn same_request(&self, request: &NewPayout) -> bool {
        self.merchant == request.merchant
            && self.amount == request.amount
            && self.currency == request.currency
            && self.bank_account == request.bank_account
            && self.requested_channel == request.channel
            && self.notify_url == request.notify_url
    }

    /// Whether the current attempt ended (captured, released or never held): the moment the
    /// merchant is told.
    pub fn finished(&self) -> bool {
        matches!(
            self.current().hold,
            HoldState::Captured | HoldState::Released | HoldState::Refused
        )
    }

    pub fn current(&self) -> &PayoutAttempt {
        self.attempts.last().expect("a payout has an attempt")
    }

    fn current_mut(&mut self) -> &mut PayoutAttempt {
        self.attempts.last_mut().expect("a payout has an attempt")
    }

    /// The hold id of the current attempt.
    pub fn current_hold_id(&self) -> String {
        hold_id(&self.id, self.attempts.len())
    }

    /// processing, unknown, succeeded (captured) or failed (released, or never held).
    pub fn status(&self) -> OrderStatus {
        let attempt = self.current();
        match (attempt.hold, attempt.order.status) {
            (HoldState::Captured, _) => OrderStatus::Succeeded,
            (HoldState::Released | HoldState::Refused, _) => OrderStatus::Failed,
            (_, OrderStatus::Succeeded | OrderStatus::Failed) => OrderStatus::Processing,
            (_, status) => status,
        }
    }

    pub fn next_step(&self) -> PayoutStep {
        let attempt = self.current();
        match (attempt.hold, attempt.order.status) {
            (HoldState::Pending, _) => PayoutStep::PlaceHold,
            (HoldState::Placed, OrderStatus::Succeeded) => PayoutStep::Capture,
            (HoldState::Placed, OrderStatus::Failed) => PayoutStep::Release,
            (HoldState::Placed, _) if attempt.order.sends == 0 => PayoutStep::Send,
            (HoldState::Placed, _) => PayoutStep::AskBank,
            _ => PayoutStep::Done,
        }
    }

    pub fn report(&mut self, report: &BankReport, now: Millis, timing: Timing) -> OrderEffect {
        let amount = self.amount;
        let Some(attempt) = self
            .attempts
            .iter_mut()
            .find(|a| a.order.order_no == report.order_no)
        else {
            let message = format!("a report for unknown payout order {}", report.order_no);
            self.anomaly(message.clone());
            return OrderEffect::Anomaly(message);
        };
        let effect = attempt
            .order
            .report(report.source, &report.result, amount, now, timing);
        if let OrderEffect::Anomaly(message) = &effect {
            self.anomaly(message.clone());
        }
        self.updated_at = self.updated_at.max(now);
        if matches!(self.next_step(), PayoutStep::Capture | PayoutStep::Release) {
            self.next_check_at = Some(now);
        }
        effect
    }

    fn anomaly(&mut self, message: String) {
        if !self.anomalies.contains(&message) {
            self.anomalies.push(message);
        }
    }

    pub fn hold_placed(&mut self, now: Millis) {
        let attempt = self.current_mut();
        assert_eq!(attempt.hold, HoldState::Pending);
        attempt.hold = HoldState::Placed;
        self.updated_at = now;
    }

    /// The ledger refused a step that must still happen (the money was paid out, or its hold
    /// must be released): tried again after `retry_ms`, the payout saying why it waits.
    pub fn ledger_step_refused(&mut self, step: &str, code: &str, now: Millis, retry_ms: Millis) {
        self.anomaly(crate::posting::stuck_anomaly(step, code, retry_ms));
        self.next_check_at = Some(now + retry_ms);
    }

    /// The ledger refused the hold (insufficient funds…): nothing is sent.
    pub fn hold_refused(&mut self, code: &str, now: Millis) {
        let attempt = self.current_mut();
        assert_eq!(attempt.hold, HoldState::Pending);
        attempt.hold = HoldState::Refused;
        self.failure = Some(Failure::new(
            code,
            format!("the merchant's account refused the hold: {code}"),
        ));
        self.next_check_at = None;
        self.updated_at = now;
    }

    pub fn captured(&mut self, now: Millis) {
        assert_eq!(self.next_step(), PayoutStep::Capture);
        self.current_mut().hold = HoldState::Captured;
        self.failure = None;
        self.next_check_at = None;
        self.updated_at = now;
    }

    pub fn released(&mut self, now: Millis) {
        assert_eq!(self.next_step(), PayoutStep::Release);
        self.failure = self.current().order.failure.clone();
        self.current_mut().hold = HoldState::Released;
        self.next_check_at = None;
        self.updated_at = now;
    }

    /// The current order is about to be sent (again, for a resend: same number).
    pub fn mark_sent(&mut self, now: Millis) -> Result<(), PayError> {
        let status = self.status();
        let attempt = self.current_mut();
        if attempt.hold != HoldState::Placed || attempt.order.status.is_final() {
            return Err(PayError::OrderFinal {
                status: status.name(),
            });
        }
        attempt.order.mark_sent(now);
        self.updated_at = now;
        Ok(())
    }

    /// Whether a person may reroute it: only after a definitive failure (which released the
    /// hold or never placed it).
    pub fn check_reroute(&self) -> Result<(), PayError> {
        match self.status() {
            OrderStatus::Succeeded => Err(PayError::PayoutAlreadySucceeded),
            OrderStatus::Failed if self.attempts.len() >= PAYOUT_ATTEMPTS_MAX => Err(
                PayError::invalid("id", "this payout has been rerouted too often"),
            ),
            OrderStatus::Failed => Ok(()),
            OrderStatus::Processing | OrderStatus::Unknown => Err(PayError::PayoutOutcomeUnknown),
        }
    }

    pub fn reroute(
        &mut self,
        order_no: String,
        route: RouteDecision,
        now: Millis,
    ) -> Result<(), PayError> {
        self.check_reroute()?;
        let channel = route
            .chosen
            .clone()
            .expect("a reroute goes to a chosen channel");
        assert!(self.attempts.iter().all(|a| a.order.order_no != order_no));
        self.attempts.push(PayoutAttempt {
            order: ChannelOrder::unsent(channel, order_no, now),
            route,
            hold: HoldState::Pending,
        });
        self.failure = None;
        self.next_check_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    pub fn schedule_check(&mut self, at: Millis) {
        self.next_check_at = match self.next_step() {
            PayoutStep::Done => None,
            _ => Some(at),
        };
    }

    pub fn tried_channels(&self) -> Vec<String> {
        self.attempts
            .iter()
            .map(|a| a.order.channel.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{BankResult, ReportSource};
    use crate::routing::Strategy;

    const TIMING: Timing = Timing {
        not_found_grace_ms: 1_000,
    };

    fn route(channel: &str) -> RouteDecision {
        RouteDecision {
            chosen: Some(channel.into()),
            strategy: Strategy::Weighted,
            candidates: Vec::new(),
            split_key: None,
            at: 0,
        }
    }

    fn payout() -> Payout {
        let request = NewPayout {
            id: "w1".into(),
            merchant: "m".into(),
            amount: 500,
            currency: Currency::CNY,
            bank_account: "6222-0001".into(),
            channel: None,
            notify_url: None,
        };
        request.check().unwrap();
        Payout::new(request, "o1".into(), route("a"), 0)
    }

    fn said(p: &mut Payout, order: &str, result: BankResult) {
        let report = BankReport {
            order_no: order.into(),
            source: ReportSource::Response,
            result,
        };
        p.report(&report, 5, TIMING);
    }

    #[test]
    fn unknown_keeps_the_hold_and_refuses_a_reroute() {
        let mut p = payout();
        assert_eq!(p.next_step(), PayoutStep::PlaceHold);
        p.hold_placed(1);
        assert_eq!(p.next_step(), PayoutStep::Send);
        p.mark_sent(1).unwrap();
        said(
            &mut p,
            "o1",
            BankResult::NoAnswer {
                reason: "timeout".into(),
            },
        );
        assert_eq!(
            (p.status(), p.next_step()),
            (OrderStatus::Unknown, PayoutStep::AskBank)
        );
        assert_eq!(
            p.check_reroute().unwrap_err().code(),
            "payout_outcome_unknown"
        );
        assert!(p.mark_sent(6).is_ok(), "a resend keeps the number");
        said(
            &mut p,
            "o1",
            BankResult::Succeeded {
                bank_ref: "B".into(),
                amount: 500,
            },
        );
        assert_eq!(p.next_step(), PayoutStep::Capture);
        p.captured(7);
        assert_eq!(p.status(), OrderStatus::Succeeded);
        assert_eq!(
            p.check_reroute().unwrap_err().code(),
            "payout_already_succeeded"
        );
    }

    #[test]
    fn a_definitive_failure_releases_and_a_reroute_holds_again_under_a_new_number() {
        let mut p = payout();
        p.hold_placed(1);
        p.mark_sent(1).unwrap();
        said(
            &mut p,
            "o1",
            BankResult::Failed {
                code: "ACCOUNT_CLOSED".into(),
                message: "x".into(),
            },
        );
        assert_eq!(p.next_step(), PayoutStep::Release);
        p.released(6);
        assert_eq!(p.status(), OrderStatus::Failed);
        p.reroute("o2".into(), route("b"), 7).unwrap();
        assert_eq!(
            (p.next_step(), p.current_hold_id()),
            (PayoutStep::PlaceHold, "payout-hold:w1:2".to_owned())
        );
        said(
            &mut p,
            "o1",
            BankResult::Succeeded {
                bank_ref: "late".into(),
                amount: 500,
            },
        );
        assert_eq!(
            p.anomalies.len(),
            1,
            "a late word on the first order is only an anomaly"
        );
        assert_eq!(p.status(), OrderStatus::Processing);
    }

    #[test]
    fn a_refused_capture_waits_for_the_ledger_and_says_why_once() {
        let mut p = payout();
        p.hold_placed(1);
        p.mark_sent(1).unwrap();
        said(
            &mut p,
            "o1",
            BankResult::Succeeded {
                bank_ref: "B".into(),
                amount: 500,
            },
        );
        for now in [10, 60_010] {
            p.ledger_step_refused("Capture", "amount_overflow", now, 60_000);
            assert_eq!(p.next_check_at, Some(now + 60_000));
        }
        assert_eq!(
            p.anomalies,
            [crate::posting::stuck_anomaly(
                "Capture",
                "amount_overflow",
                60_000
            )]
        );
        assert_eq!(p.next_step(), PayoutStep::Capture, "the step is still due");
        p.captured(120_020);
        assert_eq!(p.status(), OrderStatus::Succeeded);
    }

    #[test]
    fn a_refused_hold_sends_nothing() {
        let mut p = payout();
        p.hold_refused("insufficient_funds", 1);
        assert_eq!(
            (p.status(), p.next_step()),
            (OrderStatus::Failed, PayoutStep::Done)
        );
        assert_eq!(p.current().order.sends, 0);
        assert_eq!(p.failure.as_ref().unwrap().code, "insufficient_funds");
    }
}
