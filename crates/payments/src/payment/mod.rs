//! Payment orders (支付订单): a trade's payment by one method — through a channel (quickpay,
//! netbank), from the payer's balance, or combined (the external part through a channel
//! first, then the balance part) — with its channel orders (`Attempt`s).
//!
//! The rules (`report.rs`, `steps.rs`):
//! - Everything a bank says goes through `ChannelOrder::report` (a timeout is not a failure;
//!   a final state never changes).
//! - **The money a payment receives is kept or returned, decided once**, when the bank says
//!   it succeeded: kept if the payment can claim its trade (`Trade::claim`), returned
//!   otherwise (the trade is paid by another payment — a duplicate, 重复支付 — or expired, or
//!   closed). A returned payment is refunded automatically through its channel.
//! - **Success counts once the ledger posted it**: `next_step` says what the ledger must post
//!   next, derived from the stored state, so after a crash the same step is done again and
//!   the ledger's ids (derived from the payment) make it once.
//! - **Reroute only after a definitive failure that received no money**, under a new channel
//!   order number.

mod report;
pub use report::Effect;
mod steps;

use paycore_money::Currency;

pub use crate::order::{
    BankReport, BankResult, ChannelOrder, Failure, OrderEffect, OrderStatus, ReportSource, Timing,
};
pub use steps::Step;

use crate::channel::Method;
use crate::error::PayError;
use crate::ids::{self, Millis};
use crate::routing::RouteDecision;

/// A payment order's status as clients see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    Processing,
    Unknown,
    /// Posted in the ledger and kept: it paid its trade.
    Succeeded,
    Failed,
    /// Received but not kept (a duplicate, a late success…): its refund is on the way.
    Refunding,
    /// Received, not kept, and refunded.
    Refunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Processing,
        PaymentStatus::Unknown,
        PaymentStatus::Succeeded,
        PaymentStatus::Failed,
        PaymentStatus::Refunding,
        PaymentStatus::Refunded,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PaymentStatus::Processing => "processing",
            PaymentStatus::Unknown => "unknown",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunding => "refunding",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn from_name(name: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            PaymentStatus::Succeeded | PaymentStatus::Failed | PaymentStatus::Refunded
        )
    }

    /// Whether the outcome at the bank is still open.
    pub fn in_flight(self) -> bool {
        matches!(self, PaymentStatus::Processing | PaymentStatus::Unknown)
    }
}

/// Why received money goes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnReason {
    /// Another payment paid the trade first (重复支付).
    DuplicatePayment,
    /// The success arrived after the trade expired.
    TradeExpired,
    /// The success arrived after the trade was closed.
    TradeClosed,
    /// A combined payment's balance part failed after its external part succeeded.
    BalanceFailed,
    /// The ledger refused to credit the merchant (its account closed, say).
    LedgerRejected,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 5] = [
        ReturnReason::DuplicatePayment,
        ReturnReason::TradeExpired,
        ReturnReason::TradeClosed,
        ReturnReason::BalanceFailed,
        ReturnReason::LedgerRejected,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReturnReason::DuplicatePayment => "duplicate_payment",
            ReturnReason::TradeExpired => "trade_expired",
            ReturnReason::TradeClosed => "trade_closed",
            ReturnReason::BalanceFailed => "balance_failed",
            ReturnReason::LedgerRejected => "ledger_rejected",
        }
    }

    pub fn from_name(name: &str) -> Option<ReturnReason> {
        ReturnReason::ALL.into_iter().find(|r| r.name() == name)
    }

    /// A payment whose money went back for this reason ends `failed` (it never paid), or
    /// `refunded` (it paid, but something else had already).
    fn final_status(self) -> PaymentStatus {
        match self {
            ReturnReason::BalanceFailed | ReturnReason::LedgerRejected => PaymentStatus::Failed,
            _ => PaymentStatus::Refunded,
        }
    }
}

/// What happens to the money a payment received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Keep,
    Return(ReturnReason),
}

/// How far the ledger has gone with the money the payment received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    Nothing,
    /// The channel's part is in the suspense account (to be returned, or, for a combined
    /// payment, until its balance part is posted).
    ToSuspense,
    /// Everything for a kept payment is posted.
    Final,
}

impl Posted {
    pub fn name(self) -> &'static str {
        match self {
            Posted::Nothing => "nothing",
            Posted::ToSuspense => "suspense",
            Posted::Final => "final",
        }
    }

    pub fn from_name(name: &str) -> Option<Posted> {
        [Posted::Nothing, Posted::ToSuspense, Posted::Final]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

/// One channel order of a payment and how it was routed. A resend reuses it (the bank is
/// idempotent); a reroute makes a new one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub order: ChannelOrder,
    pub route: RouteDecision,
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
    /// The account a balance or combined payment debits.
    pub payer_account: Option<String>,
    /// The part paid from `payer_account` (the whole amount for a balance payment).
    pub balance_amount: u64,
    /// In order; the last is the current one. None for a balance payment.
    pub attempts: Vec<Attempt>,
    pub requested_channel: Option<String>,
    pub disposition: Option<Disposition>,
    pub posted: Posted,
    /// The automatic refund of money not kept.
    pub refund_id: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub succeeded_at: Option<Millis>,
    pub failure: Option<Failure>,
    /// When the resolver looks at it next (an open outcome, a posting to finish); `None`
    /// when nothing is left to do here.
    pub next_check_at: Option<Millis>,
    /// Reports that contradicted a final state, kept for reconciliation.
    pub anomalies: Vec<String>,
    /// How often the ledger refused the step into suspense (`ledger_step_refused`). The ledger
    /// answers a retry of one id with its recorded refusal, so each try after a stored refusal
    /// posts under a new id (`posting::suspense_posting`); only a refused id is ever left
    /// behind, so nothing posts twice.
    pub ledger_tries: u16,
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
    pub payer_account: Option<String>,
    pub balance_amount: u64,
}

impl NewPayment {
    pub fn check_id(id: &str) -> Result<(), PayError> {
        ids::check_order_id("id", id, ids::ORDER_ID_BYTES_MAX)
    }

    /// A method's own fields: a payer account for balance and combined payments, and a
    /// combined payment's balance part strictly between nothing and everything.
    pub fn check_parts(&self) -> Result<(), PayError> {
        let needs_payer = matches!(self.method, Method::Balance | Method::Combined);
        if needs_payer != self.payer_account.is_some() {
            return Err(PayError::invalid(
                "payer_account",
                "required for balance and combined payments, and only for them",
            ));
        }
        match self.method {
            Method::Combined if self.balance_amount == 0 || self.balance_amount >= self.amount => {
                Err(PayError::invalid(
                    "balance_amount",
                    "more than 0 and less than the trade's amount",
                ))
            }
            Method::Balance if self.balance_amount != self.amount => Err(PayError::invalid(
                "balance_amount",
                "a balance payment pays the whole amount",
            )),
            Method::Quickpay | Method::Netbank if self.balance_amount != 0 => Err(
                PayError::invalid("balance_amount", "only for combined payments"),
            ),
            _ => Ok(()),
        }
    }
}

impl Payment {
    /// A payment through a channel (quickpay, netbank, combined) with its first channel
    /// order, stored before the channel is called.
    pub fn new(
        request: NewPayment,
        order_no: String,
        route: RouteDecision,
        now: Millis,
        first_check: Millis,
    ) -> Payment {
        let channel = route
            .chosen
            .clone()
            .expect("a payment starts on a chosen channel");
        let attempt = Attempt {
            order: ChannelOrder::new(channel, order_no, now),
            route,
        };
        let mut payment = Payment::from_request(request, now);
        payment.attempts.push(attempt);
        payment.next_check_at = Some(first_check);
        payment
    }

    /// A payment from the payer's balance: no channel; it claims its trade at once.
    pub fn new_balance(request: NewPayment, now: Millis) -> Payment {
        assert_eq!(request.method, Method::Balance);
        let mut payment = Payment::from_request(request, now);
        payment.disposition = Some(Disposition::Keep);
        payment.next_check_at = Some(now);
        payment
    }

    fn from_request(request: NewPayment, now: Millis) -> Payment {
        assert!(request.fee <= request.amount);
        assert!(request.balance_amount <= request.amount);
        Payment {
            id: request.id,
            trade_id: request.trade_id,
            merchant: request.merchant,
            method: request.method,
            amount: request.amount,
            currency: request.currency,
            fee: request.fee,
            status: PaymentStatus::Processing,
            payer_account: request.payer_account,
            balance_amount: request.balance_amount,
            attempts: Vec::new(),
            requested_channel: request.requested_channel,
            disposition: None,
            posted: Posted::Nothing,
            refund_id: None,
            created_at: now,
            updated_at: now,
            succeeded_at: None,
            failure: None,
            next_check_at: None,
            ledger_tries: 0,
            anomalies: Vec::new(),
        }
    }

    /// The part paid through the channel.
    pub fn external_amount(&self) -> u64 {
        self.amount - self.balance_amount
    }

    pub fn current(&self) -> Option<&Attempt> {
        self.attempts.last()
    }

    pub(crate) fn current_mut(&mut self) -> Option<&mut Attempt> {
        self.attempts.last_mut()
    }

    /// The channel order that received the money, if one did.
    pub fn received_by(&self) -> Option<&Attempt> {
        self.attempts
            .iter()
            .find(|a| a.order.status == OrderStatus::Succeeded)
    }

    /// Whether a create request with this content is a retry of this payment.
    pub fn same_request(&self, request: &NewPayment) -> bool {
        self.trade_id == request.trade_id
            && self.method == request.method
            && self.requested_channel == request.requested_channel
            && self.payer_account == request.payer_account
            && self.balance_amount == request.balance_amount
    }

    /// The reason the money went back, if it does.
    pub fn refund_reason(&self) -> Option<ReturnReason> {
        match self.disposition {
            Some(Disposition::Return(reason)) => Some(reason),
            _ => None,
        }
    }

    pub(crate) fn anomaly(&mut self, message: String) {
        if !self.anomalies.contains(&message) {
            self.anomalies.push(message);
        }
    }

    pub(crate) fn touch(&mut self, now: Millis) {
        self.updated_at = self.updated_at.max(now);
    }

    /// Channels this payment already tried.
    pub fn tried_channels(&self) -> Vec<String> {
        self.attempts
            .iter()
            .map(|a| a.order.channel.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests;
