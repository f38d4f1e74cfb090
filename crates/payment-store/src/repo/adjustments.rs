//! `pay_adjustments` and their history in `pay_adjustment_history`. An adjustment is read
//! whole (its row and every history entry). History rows are only inserted — with a plain
//! INSERT, so rewriting an entry that exists fails the transaction: the history is never
//! edited.

use paycore_adjustments::{Action, Adjustment, Event, Status};

use super::currency;
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, debit_account, credit_account, amount, currency, reason, evidence, \
             exception_id, maker, approvals_required, status, post_attempt, created_at, \
             expires_at, updated_at, posted_at, seq FROM pay_adjustments ",
            $rest
        )
    };
}

/// What a list asks for: adjustments after `after_seq` in creation order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<Status>,
    pub maker: Option<String>,
    pub after_seq: u64,
    pub limit: u64,
}

/// Stores a new adjustment (the next creation number) with its history.
pub fn insert(sql: &mut dyn Sql, a: &Adjustment) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_adjustments (id, seq, debit_account, credit_account, amount, \
         currency, reason, evidence, exception_id, maker, approvals_required, status, \
         post_attempt, created_at, expires_at, updated_at, posted_at) \
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM pay_adjustments), $2, $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        &[
            Value::text(&a.id),
            Value::text(&a.debit_account),
            Value::text(&a.credit_account),
            Value::uint(a.amount),
            Value::text(a.currency.code()),
            Value::text(&a.reason),
            Value::opt_text(a.evidence.as_deref()),
            Value::opt_text(a.exception_id.as_deref()),
            Value::text(&a.maker),
            Value::uint(u64::from(a.approvals_required)),
            Value::text(a.status.name()),
            Value::uint(u64::from(a.post_attempt)),
            Value::uint(a.created_at),
            Value::uint(a.expires_at),
            Value::uint(a.updated_at),
            Value::opt_uint(a.posted_at),
        ],
    )?;
    append_history(sql, &a.id, &a.history, 0)
}

/// Stores a changed adjustment: its state, and the history entries not stored yet.
pub fn save(sql: &mut dyn Sql, a: &Adjustment) -> Result<(), StoreError> {
    let changed = sql.exec(
        "UPDATE pay_adjustments SET status = $2, post_attempt = $3, updated_at = $4, \
         posted_at = $5 WHERE id = $1",
        &[
            Value::text(&a.id),
            Value::text(a.status.name()),
            Value::uint(u64::from(a.post_attempt)),
            Value::uint(a.updated_at),
            Value::opt_uint(a.posted_at),
        ],
    )?;
    if changed != 1 {
        return Err(StoreError::Corrupt(format!(
            "adjustment {} is not stored",
            a.id
        )));
    }
    let stored = sql
        .query_opt(
            "SELECT COALESCE(MAX(seq), 0) FROM pay_adjustment_history WHERE adjustment_id = $1",
            &[Value::text(&a.id)],
        )?
        .map(|r| r.uint(0))
        .transpose()?
        .unwrap_or(0);
    let stored = usize::try_from(stored).map_err(|_| StoreError::Corrupt("history".into()))?;
    if stored > a.history.len() {
        return Err(StoreError::Invalid(format!(
            "adjustment {}: {} history entries stored, {} given: history is never shortened",
            a.id,
            stored,
            a.history.len()
        )));
    }
    append_history(sql, &a.id, &a.history, stored)
}

fn append_history(
    sql: &mut dyn Sql,
    id: &str,
    history: &[Event],
    stored: usize,
) -> Result<(), StoreError> {
    for event in &history[stored..] {
        sql.exec(
            "INSERT INTO pay_adjustment_history (adjustment_id, seq, at, action, operator, \
             comment, code, ledger_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Value::text(id),
                Value::uint(u64::from(event.seq)),
                Value::uint(event.at),
                Value::text(event.action.name()),
                Value::text(&event.operator),
                Value::opt_text(event.comment.as_deref()),
                Value::opt_text(event.code.as_deref()),
                Value::opt_text(event.ledger_id.as_deref()),
            ],
        )?;
    }
    Ok(())
}

pub fn get(sql: &mut dyn Sql, id: &str) -> Result<Option<Adjustment>, StoreError> {
    match sql.query_opt(select!("WHERE id = $1"), &[Value::text(id)])? {
        Some(row) => whole(sql, &row).map(|(_, a)| Some(a)),
        None => Ok(None),
    }
}

/// A page of adjustments in creation order, each with its creation number (the cursor).
pub fn list(sql: &mut dyn Sql, filter: &Filter) -> Result<Vec<(u64, Adjustment)>, StoreError> {
    let rows = sql.query(
        select!(
            // The casts type the parameters for PostgreSQL, which cannot infer one from
            // `$2 IS NULL` alone.
            "WHERE seq > $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR maker = $3) ORDER BY seq LIMIT $4"
        ),
        &[
            Value::uint(filter.after_seq),
            Value::opt_text(filter.status.map(Status::name)),
            Value::opt_text(filter.maker.as_deref()),
            Value::uint(filter.limit),
        ],
    )?;
    rows.iter().map(|row| whole(sql, row)).collect()
}

/// Ids of adjustments in `status`, oldest first.
pub fn ids_with_status(
    sql: &mut dyn Sql,
    status: Status,
    limit: u64,
) -> Result<Vec<String>, StoreError> {
    sql.query(
        "SELECT id FROM pay_adjustments WHERE status = $1 ORDER BY seq LIMIT $2",
        &[Value::text(status.name()), Value::uint(limit)],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// Ids of adjustments still waiting for approvals whose expiry is at or before `now`.
pub fn due(sql: &mut dyn Sql, now: u64, limit: u64) -> Result<Vec<String>, StoreError> {
    sql.query(
        "SELECT id FROM pay_adjustments WHERE status IN ('pending_approval', \
         'partially_approved') AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2",
        &[Value::uint(now), Value::uint(limit)],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// Every adjustment made for a reconciliation exception, in creation order.
pub fn of_exception(sql: &mut dyn Sql, exception_id: &str) -> Result<Vec<Adjustment>, StoreError> {
    let rows = sql.query(
        select!("WHERE exception_id = $1 ORDER BY seq"),
        &[Value::text(exception_id)],
    )?;
    rows.iter()
        .map(|row| whole(sql, row).map(|(_, a)| a))
        .collect()
}

fn history_of(sql: &mut dyn Sql, id: &str) -> Result<Vec<Event>, StoreError> {
    sql.query(
        "SELECT seq, at, action, operator, comment, code, ledger_id FROM \
         pay_adjustment_history WHERE adjustment_id = $1 ORDER BY seq",
        &[Value::text(id)],
    )?
    .iter()
    .map(event_from_row)
    .collect()
}

fn event_from_row(r: &Row) -> Result<Event, StoreError> {
    let action = r.text(2)?;
    Ok(Event {
        seq: u32::try_from(r.uint(0)?).map_err(|_| StoreError::Corrupt("history seq".into()))?,
        at: r.uint(1)?,
        action: Action::from_name(&action)
            .ok_or_else(|| StoreError::Corrupt(format!("history action {action:?}")))?,
        operator: r.text(3)?,
        comment: r.opt_text(4)?,
        code: r.opt_text(5)?,
        ledger_id: r.opt_text(6)?,
    })
}

fn small<T: TryFrom<u64>>(v: u64, what: &str) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} out of range")))
}

/// The row and its history.
fn whole(sql: &mut dyn Sql, r: &Row) -> Result<(u64, Adjustment), StoreError> {
    let id = r.text(0)?;
    let status = r.text(10)?;
    let adjustment = Adjustment {
        history: history_of(sql, &id)?,
        id,
        debit_account: r.text(1)?,
        credit_account: r.text(2)?,
        amount: r.uint(3)?,
        currency: currency(&r.text(4)?)?,
        reason: r.text(5)?,
        evidence: r.opt_text(6)?,
        exception_id: r.opt_text(7)?,
        maker: r.text(8)?,
        approvals_required: small(r.uint(9)?, "approvals_required")?,
        status: Status::from_name(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("adjustment status {status:?}")))?,
        post_attempt: small(r.uint(11)?, "post_attempt")?,
        created_at: r.uint(12)?,
        expires_at: r.uint(13)?,
        updated_at: r.uint(14)?,
        posted_at: r.opt_uint(15)?,
    };
    Ok((r.uint(16)?, adjustment))
}
