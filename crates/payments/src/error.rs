//! Why the payment domain refused a request: one enum with a stable machine code per case
//! and a kind the HTTP edge maps to a status, once.

use thiserror::Error;

/// What sort of refusal an error is; the server turns it into 400, 404, 409 or 422.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed (400).
    Invalid,
    /// Something it names does not exist (404).
    NotFound,
    /// It conflicts with the state of what exists (409).
    Conflict,
    /// A business rule refuses it (422).
    Unprocessable,
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PayError {
    #[error("field `{field}`: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("merchant {0:?} not found")]
    MerchantNotFound(String),
    #[error("channel {0:?} not found")]
    ChannelNotFound(String),
    #[error("trade {0:?} not found")]
    TradeNotFound(String),
    #[error("payment {0:?} not found")]
    PaymentNotFound(String),
    #[error("the id {0:?} was already used for a request with different content")]
    IdConflict(String),
    #[error("notify_url host {host:?} is not one of the merchant's callback_hosts")]
    NotifyUrlNotAllowed { host: String },
    #[error("currency {given} does not match the merchant's account currency {expected}")]
    CurrencyMismatch { given: String, expected: String },
    #[error("no channel available: {reasons}")]
    NoChannelAvailable { reasons: String },
    #[error("the payment's outcome at the channel is not known yet; it cannot be rerouted")]
    PaymentOutcomeUnknown,
    #[error("the payment already succeeded")]
    PaymentAlreadySucceeded,
    #[error("the payment's outcome is final ({status}); there is nothing to resend")]
    PaymentFinal { status: &'static str },
    #[error("the trade is already paid")]
    TradeAlreadyPaid,
    #[error("the trade expired at {expires_at} ms")]
    TradeExpired { expires_at: u64 },
    #[error("the trade is closed")]
    TradeClosed,
    #[error("amount overflow")]
    AmountOverflow,
    #[error(
        "a payment of this trade is still in flight (or being posted); try again when it is final"
    )]
    PaymentPending,
    #[error("refund {0:?} not found")]
    RefundNotFound(String),
    #[error("payout {0:?} not found")]
    PayoutNotFound(String),
    #[error("refunds of this payment would come to {total}, more than the {paid} it paid")]
    RefundExceedsPayment { total: u64, paid: u64 },
    #[error("only a succeeded payment can be refunded (this one is {status})")]
    PaymentNotRefundable { status: &'static str },
    #[error("the payout's outcome at the channel is not known yet; it cannot be rerouted")]
    PayoutOutcomeUnknown,
    #[error("the payout already succeeded")]
    PayoutAlreadySucceeded,
    #[error("the order's outcome is final ({status}); there is nothing to resend")]
    OrderFinal { status: &'static str },
}

impl PayError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> PayError {
        PayError::InvalidField {
            field,
            reason: reason.into(),
        }
    }

    /// The stable machine code used by the API, the CLI and the docs.
    pub fn code(&self) -> &'static str {
        match self {
            PayError::InvalidField { .. } => "invalid_field",
            PayError::MerchantNotFound(_) => "merchant_not_found",
            PayError::ChannelNotFound(_) => "channel_not_found",
            PayError::TradeNotFound(_) => "trade_not_found",
            PayError::PaymentNotFound(_) => "payment_not_found",
            PayError::IdConflict(_) => "id_conflict",
            PayError::NotifyUrlNotAllowed { .. } => "notify_url_not_allowed",
            PayError::CurrencyMismatch { .. } => "currency_mismatch",
            PayError::NoChannelAvailable { .. } => "no_channel_available",
            PayError::PaymentOutcomeUnknown => "payment_outcome_unknown",
            PayError::PaymentAlreadySucceeded => "payment_already_succeeded",
            PayError::PaymentFinal { .. } => "payment_final",
            PayError::TradeAlreadyPaid => "trade_already_paid",
            PayError::TradeExpired { .. } => "trade_expired",
            PayError::TradeClosed => "trade_closed",
            PayError::AmountOverflow => "amount_overflow",
            PayError::PaymentPending => "payment_pending",
            PayError::RefundNotFound(_) => "refund_not_found",
            PayError::PayoutNotFound(_) => "payout_not_found",
            PayError::RefundExceedsPayment { .. } => "refund_exceeds_payment",
            PayError::PaymentNotRefundable { .. } => "payment_not_refundable",
            PayError::PayoutOutcomeUnknown => "payout_outcome_unknown",
            PayError::PayoutAlreadySucceeded => "payout_already_succeeded",
            PayError::OrderFinal { .. } => "order_final",
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            PayError::InvalidField { .. } => ErrorKind::Invalid,
            PayError::MerchantNotFound(_)
            | PayError::ChannelNotFound(_)
            | PayError::TradeNotFound(_)
            | PayError::PaymentNotFound(_)
            | PayError::RefundNotFound(_)
            | PayError::PayoutNotFound(_) => ErrorKind::NotFound,
            PayError::IdConflict(_)
            | PayError::PaymentOutcomeUnknown
            | PayError::PaymentAlreadySucceeded
            | PayError::PaymentFinal { .. }
            | PayError::TradeAlreadyPaid
            | PayError::TradeExpired { .. }
            | PayError::TradeClosed
            | PayError::PaymentPending
            | PayError::PaymentNotRefundable { .. }
            | PayError::PayoutOutcomeUnknown
            | PayError::PayoutAlreadySucceeded
            | PayError::OrderFinal { .. } => ErrorKind::Conflict,
            PayError::NotifyUrlNotAllowed { .. }
            | PayError::CurrencyMismatch { .. }
            | PayError::NoChannelAvailable { .. }
            | PayError::AmountOverflow
            | PayError::RefundExceedsPayment { .. } => ErrorKind::Unprocessable,
        }
    }
}
