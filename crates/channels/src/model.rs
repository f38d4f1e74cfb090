//! The channel layer's vocabulary: protocols, methods, order kinds, the orders paycore sends a
//! bank, what a bank says about them, and the limits every field is checked against.

use paycore_money::Currency;

use crate::SigningSecret;

/// Longest order number, channel id or bank account a message may carry.
pub const ORDER_NO_MAX_LEN: usize = 64;
/// Longest subject, reason or notify URL a message may carry.
pub const TEXT_MAX_LEN: usize = 256;

/// The wire protocol a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Form-encoded gateway, signed parameters (in the manner of Alipay's open platform).
    SimForm,
    /// JSON REST with signature headers (in the manner of WeChat Pay v3).
    SimJson,
}

impl Protocol {
    /// `"sim-form"` or `"sim-json"`.
    pub fn from_name(name: &str) -> Option<Protocol> {
        match name {
            "sim-form" => Some(Protocol::SimForm),
            "sim-json" => Some(Protocol::SimJson),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::SimForm => "sim-form",
            Protocol::SimJson => "sim-json",
        }
    }
}

/// How the money moves: quick pay (快捷, answered at once), net banking (网银, answered
/// later), or a payout (出款) to a bank account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Quickpay,
    Netbank,
    Payout,
}

impl Method {
    /// `"quickpay"`, `"netbank"` or `"payout"`.
    pub fn from_name(name: &str) -> Option<Method> {
        match name {
            "quickpay" => Some(Method::Quickpay),
            "netbank" => Some(Method::Netbank),
            "payout" => Some(Method::Payout),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Quickpay => "quickpay",
            Method::Netbank => "netbank",
            Method::Payout => "payout",
        }
    }
}

/// Which kind of order a number names at the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    Pay,
    Refund,
    Payout,
}

impl OrderKind {
    /// `"pay"`, `"refund"` or `"payout"`.
    pub fn from_name(name: &str) -> Option<OrderKind> {
        match name {
            "pay" => Some(OrderKind::Pay),
            "refund" => Some(OrderKind::Refund),
            "payout" => Some(OrderKind::Payout),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OrderKind::Pay => "pay",
            OrderKind::Refund => "refund",
            OrderKind::Payout => "payout",
        }
    }
}

/// Where a channel is and how paycore signs for it.
#[derive(Debug, Clone)]
pub struct ChannelEndpoint {
    pub channel_id: String,
    pub protocol: Protocol,
    /// Base URL, e.g. `http://127.0.0.1:9000`.
    pub endpoint: String,
    pub secret: SigningSecret,
}

/// A payment sent to a bank under the channel order number (机构订单号).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayOrder {
    pub channel_order_no: String,
    pub amount_minor: u64,
    pub currency: Currency,
    /// `Quickpay` or `Netbank`; a payout is a [`PayoutOrder`].
    pub method: Method,
    pub subject: String,
    pub notify_url: String,
}

/// A refund of (part of) a paid channel order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOrder {
    pub refund_no: String,
    /// The paid order being refunded.
    pub channel_order_no: String,
    pub amount_minor: u64,
    pub currency: Currency,
    pub reason: String,
    pub notify_url: String,
}

/// Money sent out to a bank account (出款).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutOrder {
    pub payout_no: String,
    pub amount_minor: u64,
    pub currency: Currency,
    pub bank_account: String,
    pub notify_url: String,
}

/// What the bank says about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankStatus {
    Succeeded {
        bank_ref: String,
        amount_minor: u64,
    },
    /// The bank decided against it (or refused the request outright): no money moved.
    Failed {
        code: String,
        message: String,
    },
    /// Accepted, outcome still to come (by callback or query).
    Processing,
    /// The bank has no order of that kind under that number.
    NotFound,
}

/// What the bank credited to paycore's bank account for one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub date: time::Date,
    pub currency: Currency,
    /// Net of the day in minor units: signed, because a day's refunds and payouts can exceed
    /// its payments.
    pub amount_minor: i64,
    pub count: u64,
}

/// An order number, channel id or bank account: 1..=64 of `A-Z a-z 0-9 _ -` (no encoding
/// needed anywhere, in a path, a query or a signed string).
pub fn valid_order_no(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= ORDER_NO_MAX_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Free text (subject, reason, URL): at most [`TEXT_MAX_LEN`] bytes, no control characters.
pub fn valid_text(text: &str) -> bool {
    text.len() <= TEXT_MAX_LEN && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in [Protocol::SimForm, Protocol::SimJson] {
            assert_eq!(Protocol::from_name(p.name()), Some(p));
        }
        for m in [Method::Quickpay, Method::Netbank, Method::Payout] {
            assert_eq!(Method::from_name(m.name()), Some(m));
        }
        for k in [OrderKind::Pay, OrderKind::Refund, OrderKind::Payout] {
            assert_eq!(OrderKind::from_name(k.name()), Some(k));
        }
        assert_eq!(Protocol::from_name("sim-xml"), None);
        assert_eq!(Method::from_name("Quickpay"), None);
    }

    #[test]
    fn order_numbers_are_plain() {
        assert!(valid_order_no("P-2024_0001"));
        assert!(valid_order_no(&"x".repeat(ORDER_NO_MAX_LEN)));
        for bad in [
            "",
            "a b",
            "a&b=c",
            "订单",
            "a/b",
            &"x".repeat(ORDER_NO_MAX_LEN + 1),
        ] {
            assert!(!valid_order_no(bad), "{bad:?}");
        }
        assert!(valid_text("苹果手机 iPhone"));
        assert!(!valid_text("line\nbreak"));
    }
}
