//! The protocol-neutral messages both codecs translate: a call to the bank ([`BankCall`]),
//! the bank's answer ([`BankReply`]) and what a refusal means to paycore ([`Refusal::outcome`]).
//! The adapters encode calls and decode replies; the simulator does the reverse.

use paycore_money::Currency;

use crate::model::{valid_order_no, valid_text};
use crate::{BankStatus, CallError, Method, OrderKind, PayOrder, PayoutOrder, RefundOrder};

/// A request paycore makes of a bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankCall {
    Pay(PayOrder),
    Query { kind: OrderKind, order_no: String },
    Refund(RefundOrder),
    Payout(PayoutOrder),
}

impl BankCall {
    /// The kind of order the call is about.
    pub fn kind(&self) -> OrderKind {
        match self {
            BankCall::Pay(_) => OrderKind::Pay,
            BankCall::Query { kind, .. } => *kind,
            BankCall::Refund(_) => OrderKind::Refund,
            BankCall::Payout(_) => OrderKind::Payout,
        }
    }

    /// Checks the limits both sides hold a call to: plain order numbers and accounts, short
    /// texts, positive amounts, and a pay method on payments.
    pub fn validate(&self) -> Result<(), String> {
        let number = |name: &str, value: &str| match valid_order_no(value) {
            true => Ok(()),
            false => Err(format!("{name} must be 1 to 64 of A-Z a-z 0-9 _ -")),
        };
        let text = |name: &str, value: &str| match valid_text(value) {
            true => Ok(()),
            false => Err(format!("{name} is too long or has control characters")),
        };
        let positive = |amount: u64| match amount > 0 && i64::try_from(amount).is_ok() {
            true => Ok(()),
            false => Err("amount must be positive and below 2^63 minor units".to_owned()),
        };
        number("order number", self.order_no())?;
        match self {
            BankCall::Pay(order) => {
                if order.method == Method::Payout {
                    return Err("payout is not a pay method".to_owned());
                }
                positive(order.amount_minor)?;
                text("subject", &order.subject)?;
                text("notify_url", &order.notify_url)
            }
            BankCall::Query { .. } => Ok(()),
            BankCall::Refund(order) => {
                number("paid order number", &order.channel_order_no)?;
                positive(order.amount_minor)?;
                text("reason", &order.reason)?;
                text("notify_url", &order.notify_url)
            }
            BankCall::Payout(order) => {
                number("bank account", &order.bank_account)?;
                positive(order.amount_minor)?;
                text("notify_url", &order.notify_url)
            }
        }
    }

    /// The number of the order the call is about.
    pub fn order_no(&self) -> &str {
        match self {
            BankCall::Pay(order) => &order.channel_order_no,
            BankCall::Query { order_no, .. } => order_no,
            BankCall::Refund(order) => &order.refund_no,
            BankCall::Payout(order) => &order.payout_no,
        }
    }
}

/// Where an order stands at the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportState {
    Succeeded,
    Failed { message: String },
    Processing,
}

/// The bank's account of one order: the answer to a call, and the content of a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderReport {
    pub kind: OrderKind,
    pub order_no: String,
    /// Refunds: the paid order refunded.
    pub paid_order_no: Option<String>,
    pub amount_minor: u64,
    pub currency: Currency,
    pub state: ReportState,
    /// The bank's own reference of the order (its trade number).
    pub bank_ref: String,
}

impl OrderReport {
    /// The status paycore sees, given the protocol's code for a failure.
    pub fn status(&self, failure_code: &str) -> BankStatus {
        match &self.state {
            ReportState::Succeeded => BankStatus::Succeeded {
                bank_ref: self.bank_ref.clone(),
                amount_minor: self.amount_minor,
            },
            ReportState::Failed { message } => BankStatus::Failed {
                code: failure_code.to_owned(),
                message: message.clone(),
            },
            ReportState::Processing => BankStatus::Processing,
        }
    }
}

/// A bank's answer to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankReply {
    Report(OrderReport),
    NotFound,
    Refused(Refusal),
}

/// Why a bank refused a request without deciding about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The request's signature (or timestamp) did not verify.
    BadSignature,
    /// No channel of that id is configured at the bank.
    UnknownChannel,
    /// The request does not follow the protocol.
    InvalidRequest(String),
    /// The order number is taken by an order with other content (amount, kind, …).
    OrderConflict,
    /// A refund of a payment that does not exist or has not succeeded.
    PaymentNotSucceeded,
    /// Refunds would exceed the payment.
    RefundExceedsPayment,
}

impl Refusal {
    /// A human-readable reason.
    pub fn message(&self) -> String {
        match self {
            Refusal::BadSignature => "signature verification failed".to_owned(),
            Refusal::UnknownChannel => "no such merchant/app at this bank".to_owned(),
            Refusal::InvalidRequest(detail) => format!("invalid request: {detail}"),
            Refusal::OrderConflict => "order number already used with different content".to_owned(),
            Refusal::PaymentNotSucceeded => "the refunded payment has not succeeded".to_owned(),
            Refusal::RefundExceedsPayment => "refunds would exceed the payment".to_owned(),
        }
    }

    /// What a refusal tells paycore: a refund refused for its amount or its payment is a
    /// definite failure (nothing was recorded); every other refusal leaves the order's outcome
    /// open — a number reused with other content names an order that may well have succeeded.
    pub fn outcome(&self, code: &str, message: &str) -> Result<BankStatus, CallError> {
        match self {
            Refusal::PaymentNotSucceeded | Refusal::RefundExceedsPayment => {
                Ok(BankStatus::Failed {
                    code: code.to_owned(),
                    message: message.to_owned(),
                })
            }
            Refusal::BadSignature | Refusal::UnknownChannel => Err(CallError::BadSignature(
                format!("the bank refused our request ({code}): {message}"),
            )),
            Refusal::InvalidRequest(_) | Refusal::OrderConflict => Err(CallError::Protocol(
                format!("the bank refused the request ({code}): {message}"),
            )),
        }
    }
}

/// Checks that a reply is about the order asked for.
pub(crate) fn same_order(asked: &str, answered: &str) -> Result<(), CallError> {
    if asked == answered {
        Ok(())
    } else {
        Err(CallError::Protocol(format!(
            "asked about order {asked}, the answer is about {answered}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refund_refusals_are_failures() {
        let fails = [Refusal::PaymentNotSucceeded, Refusal::RefundExceedsPayment];
        for refusal in fails {
            assert!(matches!(
                refusal.outcome("C", "m"),
                Ok(BankStatus::Failed { code, .. }) if code == "C"
            ));
        }
        assert!(matches!(
            Refusal::OrderConflict.outcome("C", "m"),
            Err(CallError::Protocol(_))
        ));
        assert!(matches!(
            Refusal::InvalidRequest("x".into()).outcome("C", "m"),
            Err(CallError::Protocol(_))
        ));
        assert!(matches!(
            Refusal::BadSignature.outcome("C", "m"),
            Err(CallError::BadSignature(_))
        ));
        assert!(matches!(
            Refusal::UnknownChannel.outcome("C", "m"),
            Err(CallError::BadSignature(_))
        ));
    }

    #[test]
    fn report_status_carries_ref_and_amount() {
        let mut report = OrderReport {
            kind: OrderKind::Pay,
            order_no: "P1".into(),
            paid_order_no: None,
            amount_minor: 1234,
            currency: Currency::CNY,
            state: ReportState::Succeeded,
            bank_ref: "B1".into(),
        };
        assert_eq!(
            report.status("X"),
            BankStatus::Succeeded {
                bank_ref: "B1".into(),
                amount_minor: 1234
            }
        );
        report.state = ReportState::Failed {
            message: "no".into(),
        };
        assert_eq!(
            report.status("X"),
            BankStatus::Failed {
                code: "X".into(),
                message: "no".into()
            }
        );
        report.state = ReportState::Processing;
        assert_eq!(report.status("X"), BankStatus::Processing);
        assert!(same_order("P1", "P2").is_err());
    }
}
