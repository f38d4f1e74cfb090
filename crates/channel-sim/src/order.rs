//! What the simulated bank records about an order — the truth tests compare against — and its
//! view at `GET /sim/channels/{id}/orders/{order_no}`.

use paycore_channels::wire::{OrderReport, ReportState};
use paycore_channels::{clock, Currency, Method, OrderKind};
use serde::Serialize;
use tokio::time::Instant;

/// Message of every declined order.
pub const DECLINED: &str = "declined by the simulated bank";

/// One order at the bank.
#[derive(Debug, Clone)]
pub struct Order {
    pub kind: OrderKind,
    pub order_no: String,
    /// Refunds: the paid order refunded.
    pub paid_order_no: Option<String>,
    /// Pay orders: quickpay or netbank.
    pub method: Option<Method>,
    pub amount_minor: u64,
    pub currency: Currency,
    /// Hash of the content a repeat must match (kind, amount, currency, method, payment,
    /// account).
    pub fingerprint: u64,
    /// The outcome, decided at arrival; visible from `visible_at` on.
    pub succeeds: bool,
    pub visible_at: Instant,
    pub bank_ref: String,
    pub created_unix_ms: i64,
    /// Pay orders: sum of the succeeded refunds.
    pub refunded_minor: u64,
    /// Create requests for this number (the first and every repeat).
    pub requests: u32,
    pub callbacks_sent: u32,
    pub callbacks_acked: u32,
}

/// Where an order stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visible {
    Succeeded,
    Failed,
    Processing,
}

impl Visible {
    pub fn name(self) -> &'static str {
        match self {
            Visible::Succeeded => "succeeded",
            Visible::Failed => "failed",
            Visible::Processing => "processing",
        }
    }

    pub fn from_name(name: &str) -> Option<Visible> {
        match name {
            "succeeded" => Some(Visible::Succeeded),
            "failed" => Some(Visible::Failed),
            "processing" => Some(Visible::Processing),
            _ => None,
        }
    }
}

impl Order {
    /// The order's status as seen at `at`.
    pub fn visible(&self, at: Instant) -> Visible {
        match (at >= self.visible_at, self.succeeds) {
            (false, _) => Visible::Processing,
            (true, true) => Visible::Succeeded,
            (true, false) => Visible::Failed,
        }
    }

    /// The report a reply or callback carries, as of `at`.
    pub fn report(&self, at: Instant) -> OrderReport {
        let state = match self.visible(at) {
            Visible::Succeeded => ReportState::Succeeded,
            Visible::Failed => ReportState::Failed {
                message: DECLINED.to_owned(),
            },
            Visible::Processing => ReportState::Processing,
        };
        OrderReport {
            kind: self.kind,
            order_no: self.order_no.clone(),
            paid_order_no: self.paid_order_no.clone(),
            amount_minor: self.amount_minor,
            currency: self.currency,
            state,
            bank_ref: self.bank_ref.clone(),
        }
    }

    /// The JSON view at `at`.
    pub fn view(&self, at: Instant) -> OrderView {
        OrderView {
            order_no: self.order_no.clone(),
            kind: self.kind.name(),
            method: self.method.map(Method::name),
            channel_order_no: self
                .paid_order_no
                .clone()
                .unwrap_or_else(|| self.order_no.clone()),
            amount: self.amount_minor,
            currency: self.currency.code().to_owned(),
            status: self.visible(at).name(),
            bank_ref: self.bank_ref.clone(),
            created_at: clock::rfc3339_utc(self.created_unix_ms),
            refunded: self.refunded_minor,
            requests: self.requests,
            callbacks_sent: self.callbacks_sent,
            callbacks_acked: self.callbacks_acked,
        }
    }
}

/// An order as `GET /sim/channels/{id}/orders/{order_no}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order_no: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'static str>,
    /// Refunds: the paid order; otherwise the order itself.
    pub channel_order_no: String,
    /// Minor units.
    pub amount: u64,
    pub currency: String,
    pub status: &'static str,
    pub bank_ref: String,
    pub created_at: String,
    /// Pay orders: minor units refunded so far.
    pub refunded: u64,
    pub requests: u32,
    pub callbacks_sent: u32,
    pub callbacks_acked: u32,
}
