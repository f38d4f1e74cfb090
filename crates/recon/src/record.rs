//! One side's view of a key: what paycore recorded ([`Ours`]) and what the statement says
//! ([`Theirs`], every line with that key folded into one).

use paycore_money::Currency;

use crate::Millis;

/// A payment's channel order, or a refund's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Payment,
    Refund,
}

impl RecordKind {
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Payment => "payment",
            RecordKind::Refund => "refund",
        }
    }

    pub fn from_name(name: &str) -> Option<RecordKind> {
        [RecordKind::Payment, RecordKind::Refund]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// What paycore knows of the order at the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OurStatus {
    Succeeded,
    Processing,
    Unknown,
    Failed,
}

impl OurStatus {
    pub fn name(self) -> &'static str {
        match self {
            OurStatus::Succeeded => "succeeded",
            OurStatus::Processing => "processing",
            OurStatus::Unknown => "unknown",
            OurStatus::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<OurStatus> {
        [
            OurStatus::Succeeded,
            OurStatus::Processing,
            OurStatus::Unknown,
            OurStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ours {
    /// The channel order number (a payment's attempt, or a refund's own order).
    pub key: String,
    pub kind: RecordKind,
    /// The payment or refund it belongs to.
    pub owner: String,
    pub amount: u64,
    pub currency: Currency,
    pub status: OurStatus,
    /// When paycore learned the outcome (the order's last change).
    pub at: Millis,
}

/// Every statement line with one key, folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theirs {
    pub key: String,
    pub kind: RecordKind,
    /// The first line's amount; `amounts_agree` says whether every line printed it.
    pub amount: u64,
    pub amounts_agree: bool,
    /// The first line's status as printed.
    pub status: String,
    /// Lines with this key.
    pub lines: u64,
    /// Of those, lines of the other kind (a payment's reversal printed under its key).
    pub reversals: u64,
    /// The first line with this key (1-based), for the exception.
    pub line_no: u64,
    pub bank_ref: String,
    pub fee: i64,
}

impl Theirs {
    /// A payment listed more than once whose every extra listing the channel itself reversed
    /// (a refund line under the same key, for the same amount): nothing is left to decide.
    pub fn duplicate_reversed(&self) -> bool {
        let listings = self.lines.saturating_sub(self.reversals);
        self.kind == RecordKind::Payment
            && listings >= 2
            && self.reversals == listings - 1
            && self.amounts_agree
    }

    /// Whether the printed status says the money moved: a payment's SUCCESS (WeChat, CSV) or
    /// 交易 (Alipay), a refund's REFUND or 退款.
    pub fn says_done(&self) -> bool {
        let status = self.status.trim();
        match self.kind {
            RecordKind::Payment => {
                status.eq_ignore_ascii_case("SUCCESS") || status == "交易" || status == "支付"
            }
            RecordKind::Refund => status.eq_ignore_ascii_case("REFUND") || status == "退款",
        }
    }
}
