//! The columns of one routed channel order (a payment's attempt, a payout's), shared by
//! `pay_attempts` and `pay_payout_attempts`: both tables start with the same fifteen columns,
//! in this order.

use paycore_payments::{ChannelOrder, OrderStatus, RouteDecision};

use super::{failure, route_json, small};
use crate::sql::{Row, Value};
use crate::StoreError;

/// The shared columns for an `INSERT` (values `$1…$15`, from `order_values`); `$owner` is
/// the table's column naming the payment or payout.
macro_rules! attempt_columns {
    ($owner:literal) => {
        concat!(
            "channel_order_no, ",
            $owner,
            ", attempt, channel, status, route, created_at, updated_at, sent_at, sends, \
             queries, bank_ref, failure_code, failure_message, note"
        )
    };
}
pub(crate) use attempt_columns;

/// What a `SELECT` reads back, in the order `order_from_row` expects.
macro_rules! attempt_select {
    () => {
        "channel_order_no, channel, status, route, created_at, updated_at, sent_at, sends, \
         queries, bank_ref, failure_code, failure_message, note"
    };
}
pub(crate) use attempt_select;

/// The values of the shared columns: owner (payment or payout id), 1-based number, order.
pub(crate) fn order_values(
    owner: &str,
    number: u64,
    o: &ChannelOrder,
    route: &RouteDecision,
) -> Vec<Value> {
    let mut values = vec![
        Value::text(&o.order_no),
        Value::text(owner),
        Value::uint(number),
        Value::text(&o.channel),
        Value::text(o.status.name()),
        Value::text(route_json::encode(route)),
        Value::uint(o.created_at),
    ];
    values.extend(progress_values(o));
    values
}

/// What changes of a channel order as it goes (after its status), in column order:
/// updated_at, sent_at, sends, queries, bank_ref, failure_code, failure_message, note.
pub(crate) fn progress_values(o: &ChannelOrder) -> [Value; 8] {
    [
        Value::uint(o.updated_at),
        Value::uint(o.sent_at),
        Value::uint(o.sends as u64),
        Value::uint(o.queries as u64),
        Value::opt_text(o.bank_ref.as_deref()),
        Value::opt_text(o.failure.as_ref().map(|f| f.code.as_str())),
        Value::opt_text(o.failure.as_ref().map(|f| f.message.as_str())),
        Value::opt_text(o.note.as_deref()),
    ]
}

/// The update clause of the shared columns after `ON CONFLICT (channel_order_no) DO UPDATE SET`.
macro_rules! attempt_updates {
    () => {
        "status = excluded.status, updated_at = excluded.updated_at, \
         sent_at = excluded.sent_at, sends = excluded.sends, queries = excluded.queries, \
         bank_ref = excluded.bank_ref, failure_code = excluded.failure_code, \
         failure_message = excluded.failure_message, note = excluded.note"
    };
}
pub(crate) use attempt_updates;

/// Columns 0–12 of a row selected with `attempt_select!`.
pub(crate) fn order_from_row(r: &Row) -> Result<(ChannelOrder, RouteDecision), StoreError> {
    let status = r.text(2)?;
    let order = ChannelOrder {
        order_no: r.text(0)?,
        channel: r.text(1)?,
        status: OrderStatus::from_name(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("order status {status:?}")))?,
        created_at: r.uint(4)?,
        updated_at: r.uint(5)?,
        sent_at: r.uint(6)?,
        sends: small(r.uint(7)?)?,
        queries: small(r.uint(8)?)?,
        bank_ref: r.opt_text(9)?,
        failure: failure(r.opt_text(10)?, r.opt_text(11)?),
        note: r.opt_text(12)?,
    };
    Ok((order, route_json::decode(&r.text(3)?)?))
}
