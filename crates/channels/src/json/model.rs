//! The JSON bodies of the sim-json protocol (wire format only; the codecs map them to
//! [`crate::wire`] messages).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// Integer minor units.
    pub total: u64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    /// Integer minor units.
    pub refund: u64,
    pub currency: String,
}

/// `POST /json/v3/pay/transactions/{quickpay|netbank}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayBody {
    pub mchid: String,
    pub out_trade_no: String,
    pub amount: Amount,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub notify_url: String,
}

/// A payment as the bank reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transaction {
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transaction_id: String,
    pub trade_state: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trade_state_desc: String,
    pub amount: Amount,
}

/// `POST /json/v3/refund/domestic/refunds`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundBody {
    pub mchid: String,
    pub out_trade_no: String,
    pub out_refund_no: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub notify_url: String,
    pub amount: RefundAmount,
}

/// A refund as the bank reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundResource {
    pub mchid: String,
    pub out_trade_no: String,
    pub out_refund_no: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub refund_id: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_desc: String,
    pub amount: RefundAmount,
}

/// `POST /json/v3/transfer/batches`: a payout as a batch of one transfer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferBody {
    pub mchid: String,
    pub out_batch_no: String,
    pub amount: Amount,
    pub payee_account: String,
    #[serde(default)]
    pub notify_url: String,
}

/// A payout as the bank reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferResource {
    pub mchid: String,
    pub out_batch_no: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub batch_id: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fail_reason: String,
    pub amount: Amount,
}

/// Any non-200 answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// Any of the three resources, written as itself.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Resource {
    Transaction(Transaction),
    Refund(RefundResource),
    Transfer(TransferResource),
}

/// A callback: the resource in plain JSON (no encryption); read with `R` = a JSON value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notification<R = serde_json::Value> {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    pub resource_type: String,
    pub resource: R,
}
