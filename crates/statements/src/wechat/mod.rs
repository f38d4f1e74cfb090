//! WeChat Pay trade bill (交易账单, bill type ALL): the columns and totals its reader and
//! writer share. The layout is WeChat's published one: a detail header, detail rows whose
//! values start with a backtick, a summary header and one summary row.

pub(crate) mod read;
mod summary;
pub(crate) mod write;

use paycore_money::{format_minor, Currency};

use crate::amount;
use crate::columns::Column;
use crate::StatementError;

pub(crate) const TIME: Column = Column::new("交易时间");
pub(crate) const BANK_REF: Column = Column::new("微信订单号");
pub(crate) const ORDER_NO: Column = Column::new("商户订单号");
pub(crate) const STATUS: Column = Column::new("交易状态");
pub(crate) const CURRENCY: Column = Column::new("货币种类");
pub(crate) const REFUND_NO: Column = Column::new("商户退款单号");
pub(crate) const COUNT: Column = Column::new("总交易单数");

/// The 交易状态 of a refund row; every other status is a payment's.
pub(crate) const REFUND_STATUS: &str = "REFUND";

/// How a total's values are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Yuan with the currency's decimals.
    Amount,
    /// Yuan with up to five decimals, summed exactly.
    Fee,
}

impl Unit {
    /// Parses a value: minor units of an amount (never negative), exact units of a fee.
    pub(crate) fn parse(
        self,
        text: &str,
        currency: Currency,
        column: &str,
        line: u64,
    ) -> Result<i64, StatementError> {
        match self {
            Unit::Amount => amount::non_negative(text, currency, column, line),
            Unit::Fee => amount::fee(text, currency, column, line).map(|fee| fee.exact),
        }
    }

    /// Writes a value as WeChat prints it.
    pub(crate) fn show(self, value: i64, currency: Currency) -> String {
        match self {
            Unit::Amount => format_minor(value, currency),
            Unit::Fee => amount::format_fee(value),
        }
    }
}

/// A summary total and the detail column it is the sum of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Total {
    pub summary: Column,
    pub detail: Column,
    pub unit: Unit,
    /// Whether a bill without these columns is refused (the others are checked when present).
    pub required: bool,
}

const fn total(summary: &'static str, detail: &'static str, unit: Unit, required: bool) -> Total {
    Total {
        summary: Column::new(summary),
        detail: Column::new(detail),
        unit,
        required,
    }
}

/// Every total of the summary row, in the order WeChat prints them (after 总交易单数).
pub(crate) const TOTALS: [Total; 6] = [
    total("应结订单总金额", "应结订单金额", Unit::Amount, false),
    total("退款总金额", "退款金额", Unit::Amount, true),
    total("充值券退款总金额", "充值券退款金额", Unit::Amount, false),
    total("手续费总金额", "手续费", Unit::Fee, true),
    total("订单总金额", "订单金额", Unit::Amount, true),
    total("申请退款总金额", "申请退款金额", Unit::Amount, false),
];
/// Indexes into [`TOTALS`] of the columns a line is made of.
pub(crate) const REFUND_AMOUNT: usize = 1;
pub(crate) const ORDER_AMOUNT: usize = 4;

/// The detail header of an ALL bill, as WeChat prints it and the writer writes it.
pub(crate) const DETAIL_HEADER: [&str; 27] = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];

/// The summary header of an ALL bill.
pub(crate) const SUMMARY_HEADER: [&str; 7] = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
];

/// A value without the backtick WeChat puts before it.
pub(crate) fn unticked(value: &str) -> &str {
    value.strip_prefix('`').unwrap_or(value)
}
