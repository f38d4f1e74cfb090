//! The dispatcher's side of the outbox: which notifications are `due`, `claim`ing one before
//! it is sent (so no second look sends it again while it is in flight, and a crash only
//! delays it until the claim lapses), and `record_attempt` after each try.

use std::sync::OnceLock;

use super::{
    attempts_json, from_row, select_notifications, Attempt, Notification, Status,
    ATTEMPTS_KEPT_MAX, PAGE_MAX, REASON_BYTES_MAX,
};
use crate::sql::{Sql, Value};
use crate::StoreError;

/// Most merchants `due_excluding` leaves out.
pub const EXCLUDED_MAX: usize = 128;

/// Pending notifications due by `$1`, that are the first pending one of their order and meet
/// `$cond`, soonest first, at most `$2`.
macro_rules! first_due {
    ($cond:literal) => {
        select_notifications!(
            "WHERE status = 'pending' AND next_attempt_at <= $1 AND ",
            $cond,
            " AND NOT EXISTS (SELECT 1 FROM pay_notifications earlier \
               WHERE earlier.order_id = pay_notifications.order_id \
               AND earlier.order_seq < pay_notifications.order_seq \
               AND earlier.status = 'pending') \
             ORDER BY next_attempt_at, event_id LIMIT $2"
        )
    };
}

/// Pending notifications due by `now`, soonest first — of each order only the one with the
/// lowest pending `order_seq` (a later one waits until it is delivered or dead).
pub fn due(sql: &mut dyn Sql, now: u64, limit: u64) -> Result<Vec<Notification>, StoreError> {
    due_excluding(sql, now, &[], limit)
}

/// `due`, leaving out the notifications of `merchants` (at most `EXCLUDED_MAX`): those with
/// no free connection, so one merchant's backlog does not fill the page.
pub fn due_excluding(
    sql: &mut dyn Sql,
    now: u64,
    merchants: &[&str],
    limit: u64,
) -> Result<Vec<Notification>, StoreError> {
    if merchants.len() > EXCLUDED_MAX {
        return Err(StoreError::Invalid(format!(
            "at most {EXCLUDED_MAX} merchants are left out of a look"
        )));
    }
    let mut params = vec![Value::uint(now), Value::uint(limit.min(PAGE_MAX))];
    // Unused places hold '', which no merchant id is.
    let place = |i: usize| Value::text(merchants.get(i).copied().unwrap_or(""));
    params.extend((0..EXCLUDED_MAX).map(place));
    sql.query(due_excluding_statement().as_str(), &params)?
        .iter()
        .map(from_row)
        .collect()
}

/// The query of `due_excluding`, with `EXCLUDED_MAX` places ($3…), built once.
fn due_excluding_statement() -> &'static String {
    static STATEMENT: OnceLock<String> = OnceLock::new();
    STATEMENT.get_or_init(|| {
        let places: Vec<String> = (0..EXCLUDED_MAX).map(|i| format!("${}", i + 3)).collect();
        format!(first_due!("merchant NOT IN ({})"), places.join(", "))
    })
}

/// `due` for one merchant (the dispatcher's look when one of its connections came free).
pub fn due_for(
    sql: &mut dyn Sql,
    merchant: &str,
    now: u64,
    limit: u64,
) -> Result<Vec<Notification>, StoreError> {
    sql.query(
        first_due!("merchant = $3"),
        &[
            Value::uint(now),
            Value::uint(limit.min(PAGE_MAX)),
            Value::text(merchant),
        ],
    )?
    .iter()
    .map(from_row)
    .collect()
}

/// When the next pending notification falls due after `now` (claims included: a lapsed
/// claim makes its notification due again).
pub fn next_due_at(sql: &mut dyn Sql, now: u64) -> Result<Option<u64>, StoreError> {
    let row = sql.query_opt(
        "SELECT MIN(next_attempt_at) FROM pay_notifications \
         WHERE status = 'pending' AND next_attempt_at > $1",
        &[Value::uint(now)],
    )?;
    match row {
        Some(r) => r.opt_uint(0),
        None => Ok(None),
    }
}

/// Takes a due notification for sending until `until`, if it is still pending, due at `now`
/// and has made `attempt_count` attempts (what the dispatcher read): false if anything moved.
pub fn claim(
    sql: &mut dyn Sql,
    event_id: &str,
    attempt_count: u32,
    now: u64,
    until: u64,
) -> Result<bool, StoreError> {
    if until <= now {
        return Err(StoreError::Invalid(
            "a claim must end after it starts".into(),
        ));
    }
    let changed = sql.exec(
        "UPDATE pay_notifications SET next_attempt_at = $4, claimed_until = $4 \
         WHERE event_id = $1 AND status = 'pending' AND attempt_count = $2 \
         AND next_attempt_at <= $3",
        &[
            Value::text(event_id),
            Value::uint(u64::from(attempt_count)),
            Value::uint(now),
            Value::uint(until),
        ],
    )?;
    Ok(changed == 1)
}

/// Gives back every claim still running (the dispatcher starting: a payment store has one
/// dispatcher, the server that owns it, so a running claim was its dead predecessor's and no
/// attempt of it is in flight). Those notifications are due at `now`; how many.
pub fn release_all_claims(sql: &mut dyn Sql, now: u64) -> Result<u64, StoreError> {
    sql.exec(
        "UPDATE pay_notifications SET next_attempt_at = $1, claimed_until = NULL \
         WHERE status = 'pending' AND claimed_until IS NOT NULL AND claimed_until > $1",
        &[Value::uint(now)],
    )
}

/// Gives back a claim that was not used (a dispatcher stopping with notifications it claimed
/// but did not send): the notification is due again at `now`. False if it moved meanwhile.
pub fn release(
    sql: &mut dyn Sql,
    event_id: &str,
    attempt_count: u32,
    now: u64,
) -> Result<bool, StoreError> {
    let changed = sql.exec(
        "UPDATE pay_notifications SET next_attempt_at = $3, claimed_until = NULL \
         WHERE event_id = $1 AND status = 'pending' AND attempt_count = $2 \
         AND claimed_until IS NOT NULL",
        &[
            Value::text(event_id),
            Value::uint(u64::from(attempt_count)),
            Value::uint(now),
        ],
    )?;
    Ok(changed == 1)
}

/// What follows an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The merchant acknowledged it.
    Delivered,
    /// Failed; try again then.
    RetryAt(u64),
    /// Failed, and the schedule is spent.
    Dead,
}

/// Appends `attempt` to a pending notification that had made `attempts_before` attempts,
/// ends its claim and applies `next`. `None` (nothing written) if the notification is not
/// pending any more or another attempt was recorded meanwhile: an attempt is recorded once.
pub fn record_attempt(
    sql: &mut dyn Sql,
    event_id: &str,
    attempts_before: u32,
    attempt: &Attempt,
    next: Next,
) -> Result<Option<Status>, StoreError> {
    // Only what the record changes (not the body).
    let row = sql.query_opt(
        "SELECT status, attempt_count, attempts FROM pay_notifications WHERE event_id = $1",
        &[Value::text(event_id)],
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.text(0)? != Status::Pending.name() || row.uint(1)? != u64::from(attempts_before) {
        return Ok(None);
    }
    let attempts = appended(attempts_json::decode(&row.text(2)?)?, attempt);
    let (status, next_attempt_at, delivered_at) = match next {
        Next::Delivered => (Status::Delivered, None, Some(attempt.at)),
        Next::RetryAt(at) => (Status::Pending, Some(at), None),
        Next::Dead => (Status::Dead, None, None),
    };
    let changed = sql.exec(
        "UPDATE pay_notifications SET status = $3, attempts = $4, attempt_count = $5, \
         next_attempt_at = $6, claimed_until = NULL, delivered_at = $7 \
         WHERE event_id = $1 AND status = 'pending' AND attempt_count = $2",
        &[
            Value::text(event_id),
            Value::uint(u64::from(attempts_before)),
            Value::text(status.name()),
            Value::text(attempts_json::encode(&attempts)),
            Value::uint(u64::from(attempts_before) + 1),
            Value::opt_uint(next_attempt_at),
            Value::opt_uint(delivered_at),
        ],
    )?;
    if changed != 1 {
        return Err(StoreError::Corrupt(format!(
            "notification {event_id} changed within its transaction"
        )));
    }
    Ok(Some(status))
}

/// The kept attempts plus `attempt` (its reason bounded), dropping the oldest beyond
/// `ATTEMPTS_KEPT_MAX`.
fn appended(mut attempts: Vec<Attempt>, attempt: &Attempt) -> Vec<Attempt> {
    let mut attempt = attempt.clone();
    if let Some(reason) = &mut attempt.reason {
        if reason.len() > REASON_BYTES_MAX {
            let mut end = REASON_BYTES_MAX;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
    }
    attempts.push(attempt);
    let excess = attempts.len().saturating_sub(ATTEMPTS_KEPT_MAX);
    attempts.drain(..excess);
    attempts
}
