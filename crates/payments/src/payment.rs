//! Payment orders (支付订单) and their channel orders (机构订单, `Attempt`s), and the rules
//! every report from a bank goes through.
//!
//! The rules, in the order `Payment::report` applies them:
//! - **A timeout is not a failure.** No answer leaves the attempt `unknown`; only the bank's
//!   own word (a definitive failure, or "no such order" long after it was sent) fails it.
//! - **A final state never changes.** A report that contradicts a final attempt is kept as an
//!   anomaly (reconciliation's business), never applied.
//! - **Success counts once the ledger posted it.** A bank success makes the attempt
//!   `succeeded` (the bank holds the money) and returns `Effect::Post`; the payment becomes
//!   `succeeded` only through `mark_posted`. Until then every report returns `Effect::Post`
//!   again (`needs_posting`), so a crash between the bank's word and the posting is finished
//!   by whoever comes next (the resolver, a callback), and the ledger's ids make it once.
//! - **Reroute only after a definitive failure**, with a new channel order number.

use paycore_money::Currency;

use crate::channel::Method;
use crate::error::PayError;
use crate::ids::{self, Millis};
use crate::routing::RouteDecision;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    Processing,
    Succeeded,
    Failed,
    Unknown,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 4] = [
        PaymentStatus::Processing,
        PaymentStatus::Succeeded,
        PaymentStatus::Failed,
        PaymentStatus::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PaymentStatus::Processing => "processing",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Unknown => "unknown",
        }
    }

    pub fn from_name(name: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Succeeded | PaymentStatus::Failed)
    }
}

/// The state of one channel order at the bank, as far as paycore knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptStatus {
    Processing,
    Unknown,
    Succeeded,
    Failed,
}

impl AttemptStatus {
    pub const ALL: [AttemptStatus; 4] = [
        AttemptStatus::Processing,
        AttemptStatus::Unknown,
        AttemptStatus::Succeeded,
        AttemptStatus::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AttemptStatus::Processing => "processing",
            AttemptStatus::Unknown => "unknown",
            AttemptStatus::Succeeded => "succeeded",
            AttemptStatus::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<AttemptStatus> {
        AttemptStatus::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn is_final(self) -> bool {
        matches!(self, AttemptStatus::Succeeded | AttemptStatus::Failed)
    }
}

/// Why something failed: a stable code and the words that came with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

/// One channel order: a request to one channel under one channel order number. A resend
/// reuses it (the bank is idempotent); a reroute makes a new one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub channel: String,
    pub channel_order_no: String,
    pub status: AttemptStatus,
    pub route: RouteDecision,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// When the last request was sent (a resend restarts the not-found grace).
    pub sent_at: Millis,
    /// Requests sent to the channel (1 + resends).
    pub sends: u32,
    /// Status queries made.
    pub queries: u32,
    /// When the resolver asks the bank next; `None` once final.
    pub next_check_at: Option<Millis>,
    pub bank_ref: Option<String>,
    pub failure: Option<Failure>,
    /// Why the outcome is not known (timeout, transport error, bad signature…).
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: String,
    pub trade_id: String,
    pub merchant: String,
    pub method: Method,
    pub amount: u64,
    pub currency: Currency,
    /// The merchant's fee, fixed when the payment was created.
    pub fee: u64,
    pub status: PaymentStatus,
    /// In order; the last is the current one.
    pub attempts: Vec<Attempt>,
    /// The channel the request named, if any.
    pub requested_channel: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub succeeded_at: Option<Millis>,
    pub failure: Option<Failure>,
    /// Reports that contradicted a final state, kept for reconciliation.
    pub anomalies: Vec<String>,
}

/// Where a bank report came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportSource {
    /// The answer to paycore's pay request.
    Response,
    Query,
    Callback,
}

impl ReportSource {
    pub fn name(self) -> &'static str {
        match self {
            ReportSource::Response => "response",
            ReportSource::Query => "query",
            ReportSource::Callback => "callback",
        }
    }
}

/// What the bank said, or that it said nothing usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BankResult {
    Succeeded {
        bank_ref: String,
        amount: u64,
    },
    Failed {
        code: String,
        message: String,
    },
    Processing,
    NotFound,
    /// Timeout, connection error, bad signature, malformed answer: the outcome is unknown.
    NoAnswer {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankReport {
    pub channel_order_no: String,
    pub source: ReportSource,
    pub result: BankResult,
}

/// What the caller must do after a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing changed (a repeat of what is known).
    Nothing,
    /// The payment changed; store it.
    Changed,
    /// The bank says it succeeded: post it in the ledger, then `mark_posted`.
    Post,
    /// The report contradicts a final state or our order; kept as an anomaly, not applied.
    Anomaly(String),
}

/// Knobs of the rules that depend on time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// A query that finds no such order fails the attempt only this long after it was sent
    /// (the request may still be on its way).
    pub not_found_grace_ms: u64,
}

/// Everything needed to create a payment, as the edge and the router produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayment {
    pub id: String,
    pub trade_id: String,
    pub merchant: String,
    pub method: Method,
    pub amount: u64,
    pub currency: Currency,
    pub fee: u64,
    pub requested_channel: Option<String>,
}

impl NewPayment {
    pub fn check_id(id: &str) -> Result<(), PayError> {
        ids::check_order_id("id", id, ids::ORDER_ID_BYTES_MAX)
    }
}

impl Payment {
    /// A new payment with its first channel order, stored before the channel is called.
    pub fn new(
        request: NewPayment,
        channel_order_no: String,
        route: RouteDecision,
        now: Millis,
        first_check_at: Millis,
    ) -> Payment {
        let channel = route
            .chosen
            .clone()
            .expect("a payment starts on a chosen channel");
        assert!(request.fee <= request.amount);
        Payment {
            id: request.id,
            trade_id: request.trade_id,
            merchant: request.merchant,
            method: request.method,
            amount: request.amount,
            currency: request.currency,
            fee: request.fee,
            status: PaymentStatus::Processing,
            attempts: vec![Attempt::new(
                channel,
                channel_order_no,
                route,
                now,
                first_check_at,
            )],
            requested_channel: request.requested_channel,
            created_at: now,
            updated_at: now,
            succeeded_at: None,
            failure: None,
            anomalies: Vec::new(),
        }
    }

    pub fn current(&self) -> &Attempt {
        self.attempts.last().expect("a payment has an attempt")
    }

    fn current_mut(&mut self) -> &mut Attempt {
        self.attempts.last_mut().expect("a payment has an attempt")
    }

    /// Whether a create request with this content is a retry of this payment.
    pub fn same_request(&self, trade_id: &str, method: Method, channel: Option<&str>) -> bool {
        self.trade_id == trade_id
            && self.method == method
            && self.requested_channel.as_deref() == channel
    }

    /// Applies what a bank said about one of this payment's channel orders.
    pub fn report(&mut self, report: &BankReport, now: Millis, timing: Timing) -> Effect {
        let Some(index) = self
            .attempts
            .iter()
            .position(|a| a.channel_order_no == report.channel_order_no)
        else {
            return self.anomaly(format!(
                "{} for unknown channel order {}",
                report.source.name(),
                report.channel_order_no
            ));
        };
        let is_current = index + 1 == self.attempts.len();
        if is_current && self.needs_posting() {
            // A contradiction is kept for reconciliation; the bank's earlier success still
            // holds the money, so the posting goes on.
            self.report_on_final(index, report);
            return Effect::Post;
        }
        let attempt = &self.attempts[index];
        if attempt.status.is_final() || !is_current {
            return self.report_on_final(index, report);
        }
        let effect = match &report.result {
            BankResult::Succeeded { bank_ref, amount } => self.bank_succeeded(bank_ref, *amount),
            BankResult::Failed { code, message } => {
                self.fail_current(code, message, now);
                Effect::Changed
            }
            BankResult::Processing => self.still_open(AttemptStatus::Processing, None),
            BankResult::NotFound => self.not_found(report.source, now, timing),
            BankResult::NoAnswer { reason } => {
                self.still_open(AttemptStatus::Unknown, Some(reason.clone()))
            }
        };
        if report.source == ReportSource::Query {
            self.current_mut().queries += 1;
        }
        self.touch(now);
        effect
    }

    fn report_on_final(&mut self, index: usize, report: &BankReport) -> Effect {
        let attempt = &self.attempts[index];
        let agrees = match (&report.result, attempt.status) {
            (BankResult::Succeeded { .. }, AttemptStatus::Succeeded) => true,
            (BankResult::Failed { .. }, AttemptStatus::Failed) => true,
            // Silence or "still working" adds nothing to a final state.
            (BankResult::NoAnswer { .. } | BankResult::Processing, _) => true,
            _ => false,
        };
        if agrees {
            return Effect::Nothing;
        }
        let message = format!(
            "{} says {:?} for channel order {} which is {}",
            report.source.name(),
            report.result,
            attempt.channel_order_no,
            attempt.status.name()
        );
        self.anomaly(message)
    }

    fn anomaly(&mut self, message: String) -> Effect {
        if !self.anomalies.contains(&message) {
            self.anomalies.push(message.clone());
        }
        Effect::Anomaly(message)
    }

    fn bank_succeeded(&mut self, bank_ref: &str, amount: u64) -> Effect {
        if amount != self.amount {
            let message = format!(
                "bank reports success for {amount} but the payment is for {}",
                self.amount
            );
            self.still_open(AttemptStatus::Unknown, Some(message.clone()));
            return self.anomaly(message);
        }
        let attempt = self.current_mut();
        attempt.bank_ref = Some(bank_ref.to_owned());
        // Final at the bank; the resolver's next check stays, to finish the posting after a
        // crash.
        attempt.status = AttemptStatus::Succeeded;
        attempt.note = None;
        Effect::Post
    }

    /// The bank took the money for the current attempt and the ledger has not posted it yet.
    pub fn needs_posting(&self) -> bool {
        !self.status.is_final() && self.current().status == AttemptStatus::Succeeded
    }

    fn fail_current(&mut self, code: &str, message: &str, now: Millis) {
        let failure = Failure {
            code: code.to_owned(),
            message: message.to_owned(),
        };
        let attempt = self.current_mut();
        attempt.status = AttemptStatus::Failed;
        attempt.failure = Some(failure.clone());
        attempt.next_check_at = None;
        attempt.updated_at = now;
        self.status = PaymentStatus::Failed;
        self.failure = Some(failure);
    }

    fn still_open(&mut self, status: AttemptStatus, note: Option<String>) -> Effect {
        let attempt = self.current_mut();
        let changed = attempt.status != status || (note.is_some() && attempt.note != note);
        attempt.status = status;
        if note.is_some() {
            attempt.note = note;
        }
        self.status = match status {
            AttemptStatus::Unknown => PaymentStatus::Unknown,
            _ => PaymentStatus::Processing,
        };
        if changed {
            Effect::Changed
        } else {
            Effect::Nothing
        }
    }

    fn not_found(&mut self, source: ReportSource, now: Millis, timing: Timing) -> Effect {
        let sent_long_ago = now.saturating_sub(self.current().sent_at) >= timing.not_found_grace_ms;
        if source == ReportSource::Query && sent_long_ago {
            self.fail_current(
                "order_not_found",
                "the channel has no such order long after it was sent",
                now,
            );
            return Effect::Changed;
        }
        self.still_open(
            AttemptStatus::Unknown,
            Some("the channel does not know the order yet".into()),
        )
    }

    /// The ledger posted the success: the payment has succeeded.
    pub fn mark_posted(&mut self, now: Millis) {
        assert!(
            self.needs_posting(),
            "only a bank success not yet posted is posted"
        );
        let attempt = self.current_mut();
        assert!(
            attempt.bank_ref.is_some(),
            "posted without the bank's success"
        );
        attempt.next_check_at = None;
        attempt.note = None;
        attempt.updated_at = now;
        self.status = PaymentStatus::Succeeded;
        self.succeeded_at = Some(now);
        self.failure = None;
        self.touch(now);
    }

    /// The bank took the money but the ledger refused to post it (e.g. the merchant's account
    /// was closed): the payment fails, and the channel's success stays on record for
    /// reconciliation (a difference to resolve, never a silent success).
    pub fn mark_ledger_rejected(&mut self, code: &str, now: Millis) {
        assert!(self.needs_posting());
        let attempt = self.current_mut();
        attempt.next_check_at = None;
        attempt.updated_at = now;
        let failure = Failure {
            code: "ledger_rejected".into(),
            message: format!("the channel succeeded but the ledger refused the posting: {code}"),
        };
        self.status = PaymentStatus::Failed;
        self.failure = Some(failure);
        self.anomalies
            .push(format!("ledger rejected the posting: {code}"));
        self.touch(now);
    }

    /// Whether the bank holds the payer's money for this payment (some attempt succeeded).
    pub fn received_at_channel(&self) -> bool {
        self.attempts
            .iter()
            .any(|a| a.status == AttemptStatus::Succeeded)
    }

    /// Checks that the current attempt may be sent again (same channel order number) and
    /// counts the send.
    pub fn resend(&mut self, now: Millis) -> Result<&Attempt, PayError> {
        if self.status.is_final() {
            return Err(PayError::PaymentFinal {
                status: self.status.name(),
            });
        }
        let attempt = self.current_mut();
        attempt.sends += 1;
        attempt.sent_at = now;
        attempt.updated_at = now;
        self.touch(now);
        Ok(self.current())
    }

    /// Whether a reroute may start: only after a definitive failure that took no money.
    pub fn check_reroute(&self) -> Result<(), PayError> {
        match self.status {
            PaymentStatus::Processing | PaymentStatus::Unknown => {
                Err(PayError::PaymentOutcomeUnknown)
            }
            PaymentStatus::Succeeded => Err(PayError::PaymentAlreadySucceeded),
            PaymentStatus::Failed if self.received_at_channel() => {
                Err(PayError::PaymentAlreadySucceeded)
            }
            PaymentStatus::Failed => Ok(()),
        }
    }

    /// Channels this payment already tried.
    pub fn tried_channels(&self) -> Vec<String> {
        self.attempts.iter().map(|a| a.channel.clone()).collect()
    }

    /// Starts a new channel order on the routed channel after a definitive failure.
    pub fn reroute(
        &mut self,
        channel_order_no: String,
        route: RouteDecision,
        now: Millis,
        first_check_at: Millis,
    ) -> Result<(), PayError> {
        self.check_reroute()?;
        let channel = route
            .chosen
            .clone()
            .expect("a reroute goes to a chosen channel");
        assert!(self
            .attempts
            .iter()
            .all(|a| a.channel_order_no != channel_order_no));
        self.attempts.push(Attempt::new(
            channel,
            channel_order_no,
            route,
            now,
            first_check_at,
        ));
        self.status = PaymentStatus::Processing;
        self.failure = None;
        self.touch(now);
        Ok(())
    }

    /// Schedules the current attempt's next check (a status query, or finishing a posting);
    /// a final payment has none.
    pub fn schedule_check(&mut self, at: Option<Millis>) {
        let open = !self.status.is_final();
        self.current_mut().next_check_at = if open { at } else { None };
    }

    fn touch(&mut self, now: Millis) {
        self.updated_at = self.updated_at.max(now);
        let attempt = self.current_mut();
        attempt.updated_at = attempt.updated_at.max(now);
    }
}

impl Attempt {
    fn new(
        channel: String,
        channel_order_no: String,
        route: RouteDecision,
        now: Millis,
        first_check_at: Millis,
    ) -> Attempt {
        Attempt {
            channel,
            channel_order_no,
            status: AttemptStatus::Processing,
            route,
            created_at: now,
            updated_at: now,
            sent_at: now,
            sends: 1,
            queries: 0,
            next_check_at: Some(first_check_at),
            bank_ref: None,
            failure: None,
            note: None,
        }
    }
}

#[cfg(test)]
mod tests;
