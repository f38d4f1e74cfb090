//! The sim-form protocol (in the manner of Alipay's open platform): form-encoded, signed
//! parameter sets POSTed to `{endpoint}/form/gateway`, answered and called back the same way.
//! Both sides of every message: [`request`], [`reply`], [`callback`].

pub mod callback;
mod params;
pub mod reply;
pub mod request;

pub use params::Params;

use crate::{amount, BankStatus, OrderKind};

/// Path of the gateway under the channel's endpoint.
pub const GATEWAY_PATH: &str = "/form/gateway";
/// Content type of every form message.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// `code` of an answer that reports an order.
pub const CODE_OK: &str = "10000";
/// `code` of a business failure or refusal.
pub const CODE_BUSINESS: &str = "40004";
/// `code` of a request refused for its parameters or signature.
pub const CODE_INVALID: &str = "40002";
/// `sub_code` of an order the bank does not have.
pub const SUB_NOT_FOUND: &str = "ACQ.TRADE_NOT_EXIST";
/// The literal body that acknowledges a callback.
pub const ACK_BODY: &str = "success";
/// The body that asks for a callback again.
pub const NACK_BODY: &str = "fail";

/// The parameter names and values that differ between pay, refund and payout messages.
#[derive(Debug)]
pub struct KindFields {
    /// The order number parameter.
    pub no: &'static str,
    /// The amount parameter (decimal text).
    pub amount: &'static str,
    /// The status parameter and its three values.
    pub status: &'static str,
    pub succeeded: &'static str,
    pub failed: &'static str,
    pub processing: &'static str,
    /// `sub_code` of a failed order.
    pub fail_code: &'static str,
    /// `method` of the call creating such an order and of its query.
    pub create_method: &'static str,
    pub query_method: &'static str,
    /// `notify_type` of its callbacks.
    pub notify_type: &'static str,
}

const PAY: KindFields = KindFields {
    no: "out_trade_no",
    amount: "total_amount",
    status: "trade_status",
    succeeded: "TRADE_SUCCESS",
    failed: "TRADE_CLOSED",
    processing: "WAIT_BUYER_PAY",
    fail_code: "ACQ.PAYMENT_FAIL",
    create_method: "trade.pay",
    query_method: "trade.query",
    notify_type: "trade_status_sync",
};

const REFUND: KindFields = KindFields {
    no: "out_request_no",
    amount: "refund_amount",
    status: "refund_status",
    succeeded: "REFUND_SUCCESS",
    failed: "REFUND_CLOSED",
    processing: "REFUND_PROCESSING",
    fail_code: "ACQ.REFUND_FAIL",
    create_method: "trade.refund",
    query_method: "refund.query",
    notify_type: "refund_status_sync",
};

const PAYOUT: KindFields = KindFields {
    no: "out_biz_no",
    amount: "trans_amount",
    status: "status",
    succeeded: "SUCCESS",
    failed: "FAIL",
    processing: "DEALING",
    fail_code: "PAYOUT.FAIL",
    create_method: "fund.payout",
    query_method: "payout.query",
    notify_type: "payout_status_sync",
};

/// The fields of one kind of order.
pub fn fields(kind: OrderKind) -> &'static KindFields {
    match kind {
        OrderKind::Pay => &PAY,
        OrderKind::Refund => &REFUND,
        OrderKind::Payout => &PAYOUT,
    }
}

/// Reads the order a reply or callback reports: its number and status.
pub(crate) fn decode_report(
    kind: OrderKind,
    params: &Params,
) -> Result<(String, BankStatus), String> {
    let fields = fields(kind);
    let order_no = params.require(fields.no)?.to_owned();
    let status = params.require(fields.status)?;
    let status = if status == fields.succeeded {
        let currency = paycore_money::Currency::from_code(params.require("currency")?)
            .map_err(|e| e.to_string())?;
        let text = params.require(fields.amount)?;
        let amount_minor = amount::from_decimal(text, currency)
            .ok_or_else(|| format!("{} {text:?} is not an amount", fields.amount))?;
        let bank_ref = params.require("trade_no")?.to_owned();
        BankStatus::Succeeded {
            bank_ref,
            amount_minor,
        }
    } else if status == fields.failed {
        BankStatus::Failed {
            code: params.get("sub_code").unwrap_or(fields.failed).to_owned(),
            message: params.get("sub_msg").unwrap_or_default().to_owned(),
        }
    } else if status == fields.processing {
        BankStatus::Processing
    } else {
        return Err(format!("unknown {} {status:?}", fields.status));
    };
    Ok((order_no, status))
}
