//! The statement record every format reads into and writes from, and the format names.

use std::fmt;
use std::str::FromStr;

use paycore_money::Currency;

/// Whether a line moves money to the merchant (a payment) or back to the payer (a refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    Payment,
    Refund,
}

impl LineKind {
    /// The plain CSV spelling: `payment`, `refund`.
    pub fn name(self) -> &'static str {
        match self {
            LineKind::Payment => "payment",
            LineKind::Refund => "refund",
        }
    }

    /// Inverse of [`LineKind::name`].
    pub fn from_name(name: &str) -> Option<LineKind> {
        match name {
            "payment" => Some(LineKind::Payment),
            "refund" => Some(LineKind::Refund),
            _ => None,
        }
    }
}

/// One payment or refund as the channel reported it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatementLine {
    /// Physical line of the file (1-based) the line was read from, for error messages and
    /// reconciliation exceptions. Writers ignore it.
    pub line_no: u64,
    /// `YYYY-MM-DD HH:MM:SS` as the channel printed it: the trade time of a payment, the refund
    /// time of a refund (WeChat 交易时间, Alipay 完成时间).
    pub time: String,
    /// paycore's order number at the channel (WeChat and Alipay 商户订单号); a refund carries the
    /// number of the order it refunds.
    pub channel_order_no: String,
    /// The channel's own reference of the order (WeChat 微信订单号, Alipay 支付宝交易号).
    pub bank_ref: String,
    pub kind: LineKind,
    /// The status as printed: WeChat 交易状态 (SUCCESS, REFUND, REVOKED, …), Alipay 业务类型
    /// (交易, 退款), the plain CSV's `status` column.
    pub status: String,
    /// Minor units of `currency`: the order amount (订单金额) of a payment, the refunded amount
    /// (退款金额) of a refund. Never negative, whatever sign the channel printed.
    pub amount_minor: u64,
    /// The channel's fee for this line in minor units, rounded half away from zero when the
    /// channel prints more decimals (WeChat: five). Positive when charged, negative when a
    /// refund returns it.
    pub fee_minor: i64,
    pub currency: Currency,
    /// The merchant's refund number (商户退款单号, Alipay 退款批次号/请求号) of a refund; `None`
    /// for payments and for refunds printed without one.
    pub refund_no: Option<String>,
}

/// The statement formats paycore reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// WeChat Pay trade bill (交易账单, ALL): UTF-8 CSV, backticked values, a summary row.
    Wechat,
    /// Alipay 业务明细: GBK CSV with `#` comment lines inside a zip archive.
    Alipay,
    /// paycore's plain UTF-8 CSV (see the crate documentation).
    Csv,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Wechat, Format::Alipay, Format::Csv];

    /// `wechat`, `alipay` or `csv`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Wechat => "wechat",
            Format::Alipay => "alipay",
            Format::Csv => "csv",
        }
    }

    /// Inverse of [`Format::name`] (exact, lower case).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of [`Format::from_str`]: the name that matched no format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown statement format {0:?}: expected wechat, alipay or csv")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Format, UnknownFormat> {
        Format::from_name(name).ok_or_else(|| UnknownFormat(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::from_name(format.name()), Some(format));
            assert_eq!(format.to_string().parse::<Format>(), Ok(format));
        }
        assert_eq!(Format::from_name("WeChat"), None);
        let err = "ofx".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("\"ofx\""), "{err}");
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in [LineKind::Payment, LineKind::Refund] {
            assert_eq!(LineKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(LineKind::from_name("Payment"), None);
    }
}
