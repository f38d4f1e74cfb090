//! The outbox's caller side: `insert` (in the payment service's writer job, beside the state
//! change), and what operators use: `get`, `list`, `retry_now`, `stats`.

use super::{
    attempts_json, from_row, select_notifications, NewNotification, Notification, Status,
    BODY_BYTES_MAX, ID_BYTES_MAX, PAGE_MAX, URL_BYTES_MAX,
};
use crate::sql::{Sql, Value};
use crate::StoreError;

/// What `insert` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Stored as the `order_seq`-th notification of its order.
    New { order_seq: u64 },
    /// The same event with the same content was already stored: nothing written.
    Duplicate { order_seq: u64 },
}

/// Stores a notification, pending and due at `created_at`, as the next of its order.
///
/// Checks before it writes (one row), so a caller's job may call it before or after its own
/// writes: an error leaves nothing behind. The same `event_id` with other content is an
/// error (`StoreError::Invalid`, "notification_conflict: …").
pub fn insert(sql: &mut dyn Sql, n: &NewNotification) -> Result<Inserted, StoreError> {
    check(n)?;
    if let Some(stored) = get(sql, &n.event_id)? {
        return if same_content(&stored, n) {
            Ok(Inserted::Duplicate {
                order_seq: stored.order_seq,
            })
        } else {
            Err(StoreError::Invalid(format!(
                "notification_conflict: event {} is already stored with other content",
                n.event_id
            )))
        };
    }
    let order_seq = next_order_seq(sql, &n.order_id)?;
    sql.exec(
        "INSERT INTO pay_notifications (event_id, merchant, order_id, order_seq, event_type, \
         url, body, status, attempts, attempt_count, next_attempt_at, claimed_until, \
         created_at, delivered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, 0, $9, NULL, $9, NULL)",
        &[
            Value::text(&n.event_id),
            Value::text(&n.merchant),
            Value::text(&n.order_id),
            Value::uint(order_seq),
            Value::text(&n.event_type),
            Value::text(&n.url),
            Value::text(&n.body),
            Value::text(attempts_json::encode(&[])),
            Value::uint(n.created_at),
        ],
    )?;
    Ok(Inserted::New { order_seq })
}

fn check(n: &NewNotification) -> Result<(), StoreError> {
    let ids = [
        ("event_id", &n.event_id),
        ("merchant", &n.merchant),
        ("order_id", &n.order_id),
        ("event_type", &n.event_type),
    ];
    for (field, value) in ids {
        if value.is_empty() || value.len() > ID_BYTES_MAX {
            return Err(StoreError::Invalid(format!(
                "notification {field}: 1 to {ID_BYTES_MAX} bytes"
            )));
        }
    }
    if n.url.is_empty() || n.url.len() > URL_BYTES_MAX {
        return Err(StoreError::Invalid(format!(
            "notification url: 1 to {URL_BYTES_MAX} bytes"
        )));
    }
    if n.body.len() > BODY_BYTES_MAX {
        return Err(StoreError::Invalid(format!(
            "notification body: at most {BODY_BYTES_MAX} bytes"
        )));
    }
    Ok(())
}

fn same_content(stored: &Notification, n: &NewNotification) -> bool {
    stored.merchant == n.merchant
        && stored.order_id == n.order_id
        && stored.event_type == n.event_type
        && stored.url == n.url
        && stored.body == n.body
}

fn next_order_seq(sql: &mut dyn Sql, order_id: &str) -> Result<u64, StoreError> {
    let row = sql.query_opt(
        "SELECT MAX(order_seq) FROM pay_notifications WHERE order_id = $1",
        &[Value::text(order_id)],
    )?;
    let last = match row {
        Some(r) => r.opt_uint(0)?.unwrap_or(0),
        None => 0,
    };
    Ok(last + 1)
}

pub fn get(sql: &mut dyn Sql, event_id: &str) -> Result<Option<Notification>, StoreError> {
    sql.query_opt(
        select_notifications!("WHERE event_id = $1"),
        &[Value::text(event_id)],
    )?
    .map(|r| from_row(&r))
    .transpose()
}

/// Which notifications `list` returns: every filter set must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<Status>,
    pub merchant: Option<String>,
    pub order_id: Option<String>,
    /// The last event id of the previous page.
    pub after: Option<String>,
    /// At most `PAGE_MAX`.
    pub limit: u64,
}

/// The conditions every list shares after its leading one (which picks the index). A filter
/// not set is NULL (the CAST tells PostgreSQL the parameter's type).
macro_rules! listed {
    ($lead:literal) => {
        select_notifications!(
            $lead,
            " AND (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR merchant = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR order_id = $3) AND (CAST($4 AS TEXT) IS NULL OR (created_at, event_id) > \
             (SELECT created_at, event_id FROM pay_notifications WHERE event_id = $4)) \
             ORDER BY created_at, event_id LIMIT $5"
        )
    };
}

/// Notifications in creation order (then event id), a page after `filter.after`.
pub fn list(sql: &mut dyn Sql, filter: &Filter) -> Result<Vec<Notification>, StoreError> {
    let statement = if filter.order_id.is_some() {
        listed!("WHERE order_id = $3")
    } else if filter.merchant.is_some() {
        listed!("WHERE merchant = $2")
    } else {
        listed!("WHERE 1 = 1")
    };
    let params = [
        Value::opt_text(filter.status.map(Status::name)),
        Value::opt_text(filter.merchant.as_deref()),
        Value::opt_text(filter.order_id.as_deref()),
        Value::opt_text(filter.after.as_deref()),
        Value::uint(filter.limit.min(PAGE_MAX)),
    ];
    sql.query(statement, &params)?
        .iter()
        .map(from_row)
        .collect()
}

/// What `retry_now` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Pending and due now (a dead one is pending again: it gets one more attempt, and is
    /// dead again if that fails, since its schedule is spent).
    Scheduled,
    /// A dispatcher is sending it right now: nothing changed.
    InFlight,
    /// Already acknowledged: nothing changed.
    AlreadyDelivered,
    NotFound,
}

/// Makes a pending or dead notification due at `now` (wake the dispatcher after commit).
pub fn retry_now(sql: &mut dyn Sql, event_id: &str, now: u64) -> Result<Retry, StoreError> {
    let Some(n) = get(sql, event_id)? else {
        return Ok(Retry::NotFound);
    };
    match n.status {
        Status::Delivered => return Ok(Retry::AlreadyDelivered),
        Status::Pending if n.claimed_until.is_some_and(|until| until > now) => {
            return Ok(Retry::InFlight)
        }
        Status::Pending | Status::Dead => {}
    }
    sql.exec(
        "UPDATE pay_notifications SET status = 'pending', next_attempt_at = $2, \
         claimed_until = NULL WHERE event_id = $1",
        &[Value::text(event_id), Value::uint(now)],
    )?;
    Ok(Retry::Scheduled)
}

/// The queue as a whole, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Pending notifications (due or not, in flight or not).
    pub pending: u64,
    /// When the oldest pending one was created.
    pub oldest_pending_created_at: Option<u64>,
}

pub fn stats(sql: &mut dyn Sql) -> Result<Stats, StoreError> {
    let row = sql.query_opt(
        "SELECT COUNT(*), MIN(created_at) FROM pay_notifications WHERE status = 'pending'",
        &[],
    )?;
    let Some(r) = row else {
        return Ok(Stats::default());
    };
    Ok(Stats {
        pending: r.uint(0)?,
        oldest_pending_created_at: r.opt_uint(1)?,
    })
}
