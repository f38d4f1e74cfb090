//! paycore's plain CSV statement (format `csv`, described in the crate documentation): its
//! columns, read by name, and written in this order.

pub(crate) mod read;
pub(crate) mod write;

use crate::columns::Column;

pub(crate) const TIME: Column = Column::new("time");
pub(crate) const ORDER_NO: Column = Column::new("channel_order_no");
pub(crate) const BANK_REF: Column = Column::new("bank_ref");
pub(crate) const KIND: Column = Column::new("kind");
pub(crate) const STATUS: Column = Column::new("status");
pub(crate) const AMOUNT: Column = Column::new("amount");
pub(crate) const FEE: Column = Column::new("fee");
pub(crate) const CURRENCY: Column = Column::new("currency");
/// Optional: a statement without refunds may leave it out.
pub(crate) const REFUND_NO: Column = Column::new("refund_no");

pub(crate) const HEADER: [&str; 9] = [
    "time",
    "channel_order_no",
    "bank_ref",
    "kind",
    "status",
    "amount",
    "fee",
    "currency",
    "refund_no",
];
