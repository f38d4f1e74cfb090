//! The sim-json protocol (in the manner of WeChat Pay v3): JSON resources under
//! `{endpoint}/json/v3/...`, amounts in integer minor units, every message signed in the
//! `Sim-*` headers. Both sides of every message: [`request`], [`reply`], [`callback`].

pub mod callback;
pub mod model;
pub mod reply;
pub mod request;

use crate::OrderKind;

/// Content type of every JSON message.
pub const CONTENT_TYPE: &str = "application/json";
/// Prefix of every protocol path.
pub const PATH_PREFIX: &str = "/json/v3/";

/// The names that differ between pay, refund and payout resources.
#[derive(Debug)]
pub struct KindNames {
    /// Path of the create call (POST) and prefix of the query path (GET `{query}/{no}`).
    pub create_path: &'static str,
    pub query_path: &'static str,
    /// Callback `event_type` prefix and `resource_type`.
    pub event_prefix: &'static str,
    pub resource_type: &'static str,
    /// States written for each outcome; `failed_also` reads as failed too.
    pub succeeded: &'static str,
    pub failed: &'static str,
    pub failed_also: &'static str,
    pub processing: &'static str,
    pub processing_also: &'static str,
}

const PAY: KindNames = KindNames {
    create_path: "/json/v3/pay/transactions/",
    query_path: "/json/v3/pay/transactions/out-trade-no/",
    event_prefix: "TRANSACTION",
    resource_type: "transaction",
    succeeded: "SUCCESS",
    failed: "PAYERROR",
    failed_also: "CLOSED",
    processing: "USERPAYING",
    processing_also: "NOTPAY",
};

const REFUND: KindNames = KindNames {
    create_path: "/json/v3/refund/domestic/refunds",
    query_path: "/json/v3/refund/domestic/refunds/",
    event_prefix: "REFUND",
    resource_type: "refund",
    succeeded: "SUCCESS",
    failed: "CLOSED",
    failed_also: "ABNORMAL",
    processing: "PROCESSING",
    processing_also: "PROCESSING",
};

const PAYOUT: KindNames = KindNames {
    create_path: "/json/v3/transfer/batches",
    query_path: "/json/v3/transfer/batches/out-batch-no/",
    event_prefix: "TRANSFER",
    resource_type: "transfer",
    succeeded: "SUCCESS",
    failed: "FAIL",
    failed_also: "FAIL",
    processing: "PROCESSING",
    processing_also: "ACCEPTED",
};

/// The names of one kind of order.
pub fn names(kind: OrderKind) -> &'static KindNames {
    match kind {
        OrderKind::Pay => &PAY,
        OrderKind::Refund => &REFUND,
        OrderKind::Payout => &PAYOUT,
    }
}
