//! Alipay trade bill (业务明细): the columns, names and markers its reader and writer share.
//! The bill is a zip archive whose detail file is GBK CSV between `#` comment lines.

pub(crate) mod archive;
pub(crate) mod read;
pub(crate) mod write;

use crate::columns::Column;

pub(crate) const BANK_REF: Column = Column::new("支付宝交易号");
pub(crate) const ORDER_NO: Column = Column::new("商户订单号");
pub(crate) const KIND: Column = Column::new("业务类型");
pub(crate) const TIME: Column = Column::new("完成时间");
pub(crate) const AMOUNT: Column = Column::aka("订单金额（元）", &["订单金额(元)"]);
pub(crate) const FEE: Column = Column::aka("服务费（元）", &["服务费(元)"]);
pub(crate) const REFUND_NO: Column = Column::new("退款批次号/请求号");

/// 业务类型 of a payment and of a refund.
pub(crate) const TRADE: &str = "交易";
pub(crate) const REFUND: &str = "退款";

/// What names the detail file in the archive, and what names the summary file beside it.
pub(crate) const DETAIL_MARK: &str = "业务明细";
pub(crate) const SUMMARY_MARK: &str = "汇总";

/// The detail header Alipay prints, which the writer writes.
pub(crate) const HEADER: [&str; 25] = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
];

/// Alipay pads values with tabs (and sometimes spaces) so spreadsheets keep long numbers.
pub(crate) fn trimmed(value: &str) -> &str {
    let pad = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = value.as_bytes();
    let start = bytes.iter().position(|b| !pad(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !pad(b)).map_or(start, |p| p + 1);
    // Both ends sit next to ASCII bytes, so they are character boundaries.
    value.get(start..end).unwrap_or("")
}
