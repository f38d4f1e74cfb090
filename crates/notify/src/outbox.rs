//! The payment side's way into the outbox: one function per notifiable state change, called
//! **inside the writer job that makes the change** (`writer.run(move |state, sql| …)`), so the
//! notification commits or rolls back with it. Each builds the body (`body.rs`) from the
//! domain's values and inserts it (`repo::notifications::insert`) as the next notification
//! of its order.
//!
//! - `trade_paid` — `trade.paid`, when a payment's money is kept and its trade is paid;
//! - `payment_refunded` — `payment.refunded`, when money a payment did not keep (a duplicate,
//!   an expired or closed trade, a refused balance part) was paid back;
//! - `refund_finished` — `refund.succeeded` / `refund.failed`, a merchant's refund;
//! - `payout_finished` — `payout.succeeded` / `payout.failed`, from a payout's fields
//!   (`PayoutNotice`), for the payout code.
//!
//! Trade, payment and refund events are ordered under their **trade** (`order_id` is the
//! trade id: a trade's `trade.paid` goes out before a refund of it); a payout is its own
//! order. Nothing is inserted for an order without a `notify_url`.
//!
//! *Invariant: an event id names one event; a second call for an event already stored
//! writes nothing (the first content stands), so a repeated state change never fails its
//! job over its notification.*

use paycore_payment_store::repo::notifications::{self as store, Inserted, NewNotification};
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::{Payment, Refund, Trade};
use serde_json::{json, Value as Json};

use crate::body::{body, event_id, event_types};

/// A finished payout, as the payout code hands it over (plain fields, so the payout's own
/// types may change freely).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayoutNotice<'a> {
    pub payout_id: &'a str,
    pub merchant: &'a str,
    /// Where the merchant wants to hear of it; `None`: nothing is sent.
    pub notify_url: Option<&'a str>,
    /// Minor units.
    pub amount: u64,
    /// ISO 4217 code.
    pub currency: &'a str,
    /// `true`: `payout.succeeded`; `false`: `payout.failed` (for good).
    pub succeeded: bool,
    /// The failure's stable code and message, for `payout.failed`.
    pub failure_code: Option<&'a str>,
    pub failure_message: Option<&'a str>,
    /// When it finished, milliseconds since the epoch.
    pub finished_at: u64,
}

/// `trade.paid`: `payment` kept its money and `trade` is paid by it.
pub fn trade_paid(
    sql: &mut dyn Sql,
    trade: &Trade,
    payment: &Payment,
    now: u64,
) -> Result<Option<Inserted>, StoreError> {
    let fields = json!({
        "trade_id": trade.trade_id,
        "merchant": trade.merchant,
        "merchant_order_no": trade.merchant_order_no,
        "amount": trade.amount,
        "currency": trade.currency.code(),
        "status": trade.status.name(),
        "payment_id": payment.id,
        "method": payment.method.name(),
        "fee": payment.fee,
        "paid_at": trade.paid_at.unwrap_or(now),
    });
    let event = Event {
        subject: &trade.trade_id,
        event_type: event_types::TRADE_PAID,
        merchant: &trade.merchant,
        order_id: &trade.trade_id,
        url: trade.notify_url.as_deref(),
        at: trade.paid_at.unwrap_or(now),
    };
    insert(sql, &event, fields)
}

/// `payment.refunded`: the money `payment` did not keep was paid back by `refund` (paycore's
/// own refund; `payment.refund_reason()` says why).
pub fn payment_refunded(
    sql: &mut dyn Sql,
    trade: &Trade,
    payment: &Payment,
    refund: &Refund,
    now: u64,
) -> Result<Option<Inserted>, StoreError> {
    let fields = json!({
        "payment_id": payment.id,
        "trade_id": trade.trade_id,
        "merchant": trade.merchant,
        "merchant_order_no": trade.merchant_order_no,
        "amount": refund.amount,
        "currency": refund.currency.code(),
        "status": payment.status.name(),
        "refund_id": refund.id,
        "refund_reason": payment.refund_reason().map(|r| r.name()),
        "refunded_at": now,
    });
    let event = Event {
        subject: &payment.id,
        event_type: event_types::PAYMENT_REFUNDED,
        merchant: &trade.merchant,
        order_id: &trade.trade_id,
        url: trade.notify_url.as_deref(),
        at: now,
    };
    insert(sql, &event, fields)
}

/// `refund.succeeded` or `refund.failed`: a merchant's refund of a payment of `trade` ended.
pub fn refund_finished(
    sql: &mut dyn Sql,
    trade: &Trade,
    refund: &Refund,
    succeeded: bool,
    now: u64,
) -> Result<Option<Inserted>, StoreError> {
    let event_type = if succeeded {
        event_types::REFUND_SUCCEEDED
    } else {
        event_types::REFUND_FAILED
    };
    let fields = json!({
        "refund_id": refund.id,
        "payment_id": refund.payment_id,
        "trade_id": trade.trade_id,
        "merchant": trade.merchant,
        "merchant_order_no": trade.merchant_order_no,
        "amount": refund.amount,
        "currency": refund.currency.code(),
        "reason": refund.reason,
        "status": if succeeded { "succeeded" } else { "failed" },
        "failure_code": refund.failure.as_ref().map(|f| f.code.as_str()),
        "failure_message": refund.failure.as_ref().map(|f| f.message.as_str()),
        "finished_at": now,
    });
    let event = Event {
        subject: &refund.id,
        event_type,
        merchant: &trade.merchant,
        order_id: &trade.trade_id,
        url: trade.notify_url.as_deref(),
        at: now,
    };
    insert(sql, &event, fields)
}

/// `payout.succeeded` or `payout.failed`: call it in the writer job that records the
/// payout's final state. The payout is its own order (`order_id` = payout id).
pub fn payout_finished(
    sql: &mut dyn Sql,
    payout: &PayoutNotice<'_>,
) -> Result<Option<Inserted>, StoreError> {
    let (event_type, status) = if payout.succeeded {
        (event_types::PAYOUT_SUCCEEDED, "succeeded")
    } else {
        (event_types::PAYOUT_FAILED, "failed")
    };
    let fields = json!({
        "payout_id": payout.payout_id,
        "merchant": payout.merchant,
        "amount": payout.amount,
        "currency": payout.currency,
        "status": status,
        "failure_code": payout.failure_code,
        "failure_message": payout.failure_message,
        "finished_at": payout.finished_at,
    });
    let event = Event {
        subject: payout.payout_id,
        event_type,
        merchant: payout.merchant,
        order_id: payout.payout_id,
        url: payout.notify_url,
        at: payout.finished_at,
    };
    insert(sql, &event, fields)
}

/// What every event shares.
struct Event<'a> {
    /// What the event id names (a trade, payment, refund or payout id).
    subject: &'a str,
    event_type: &'static str,
    merchant: &'a str,
    /// The order it is ordered under.
    order_id: &'a str,
    url: Option<&'a str>,
    /// When it happened (the envelope's `created_at`, and when it is first due).
    at: u64,
}

fn insert(
    sql: &mut dyn Sql,
    event: &Event<'_>,
    fields: Json,
) -> Result<Option<Inserted>, StoreError> {
    let Some(url) = event.url else {
        return Ok(None);
    };
    let id = event_id(event.subject, event.event_type);
    if let Some(stored) = store::get(sql, &id)? {
        return Ok(Some(Inserted::Duplicate {
            order_seq: stored.order_seq,
        }));
    }
    let text = body(&id, event.event_type, event.at, without_nulls(fields))
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let notification = NewNotification {
        event_id: id,
        merchant: event.merchant.to_owned(),
        order_id: event.order_id.to_owned(),
        event_type: event.event_type.to_owned(),
        url: url.to_owned(),
        body: text,
        created_at: event.at,
    };
    let inserted = store::insert(sql, &notification)?;
    tracing::debug!(event_id = %notification.event_id, order = %notification.order_id, "notification queued");
    Ok(Some(inserted))
}

/// Fields that do not apply (`null`) are left out of the body.
fn without_nulls(fields: Json) -> Json {
    match fields {
        Json::Object(map) => Json::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}
