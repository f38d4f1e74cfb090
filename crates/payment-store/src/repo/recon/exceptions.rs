//! Reconciliation exceptions (`pay_recon_exceptions`): one row per difference a run found,
//! with its history of who did what, stored as JSON.

use paycore_recon::{Difference, Exception, ExceptionStatus, HistoryEntry};
use serde::{Deserialize, Serialize};

use super::corrupt;
use crate::sql::{Row, Sql, Value};
use crate::StoreError;

/// A history entry as stored; every field is required, so a damaged row is an error.
#[derive(Serialize, Deserialize)]
struct StoredEntry {
    at: u64,
    by: String,
    event: String,
    note: String,
}

fn history_json(history: &[HistoryEntry]) -> String {
    let stored: Vec<StoredEntry> = history
        .iter()
        .map(|h| StoredEntry {
            at: h.at,
            by: h.by.clone(),
            event: h.event.clone(),
            note: h.note.clone(),
        })
        .collect();
    serde_json::to_string(&stored).expect("entries serialize")
}

fn history_from(text: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    let stored: Vec<StoredEntry> = serde_json::from_str(text).map_err(|e| corrupt("history", e))?;
    Ok(stored
        .into_iter()
        .map(|h| HistoryEntry {
            at: h.at,
            by: h.by,
            event: h.event,
            note: h.note,
        })
        .collect())
}

/// The next exception's sequence number (ids and paging follow it).
pub fn next_exception_seq(sql: &mut dyn Sql) -> Result<u64, StoreError> {
    let row = sql.query_opt(
        "SELECT COALESCE(MAX(seq), 0) FROM pay_recon_exceptions",
        &[],
    )?;
    Ok(row.map(|r| r.uint(0)).transpose()?.unwrap_or(0) + 1)
}

/// Inserts or updates an exception (`seq` only on insert).
pub fn save_exception(sql: &mut dyn Sql, seq: u64, e: &Exception) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_recon_exceptions (id, seq, run_id, kind, channel, channel_order_no, \
         status, ours, theirs, amount, currency, adjustment_id, history, created_at, updated_at, \
         refund_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         adjustment_id = excluded.adjustment_id, refund_id = excluded.refund_id, \
         history = excluded.history, \
         updated_at = excluded.updated_at",
        &[
            Value::text(&e.id),
            Value::uint(seq),
            Value::text(&e.run_id),
            Value::text(e.kind.name()),
            Value::text(&e.channel),
            Value::text(&e.channel_order_no),
            Value::text(e.status.name()),
            Value::text(&e.ours),
            Value::text(&e.theirs),
            Value::uint(e.amount),
            Value::text(&e.currency),
            Value::opt_text(e.adjustment_id.as_deref()),
            Value::text(history_json(&e.history)),
            Value::uint(e.created_at),
            Value::uint(e.updated_at),
            Value::opt_text(e.refund_id.as_deref()),
        ],
    )?;
    Ok(())
}

macro_rules! select_exceptions {
    ($rest:literal) => {
        concat!(
            "SELECT id, run_id, kind, channel, channel_order_no, status, ours, theirs, amount, \
             currency, adjustment_id, history, created_at, updated_at, seq, refund_id \
             FROM pay_recon_exceptions ",
            $rest
        )
    };
}

pub fn exception(sql: &mut dyn Sql, id: &str) -> Result<Option<Exception>, StoreError> {
    sql.query_opt(select_exceptions!("WHERE id = $1"), &[Value::text(id)])?
        .map(|r| exception_from_row(&r).map(|(e, _)| e))
        .transpose()
}

/// Exceptions by status and run (either empty: any), after sequence `after`, oldest first;
/// with their sequence numbers for paging.
pub fn exceptions(
    sql: &mut dyn Sql,
    status: &str,
    run_id: &str,
    after: u64,
    limit: u64,
) -> Result<Vec<(Exception, u64)>, StoreError> {
    sql.query(
        select_exceptions!(
            "WHERE ($1 = '' OR status = $1) AND ($2 = '' OR run_id = $2) AND seq > $3 \
             ORDER BY seq LIMIT $4"
        ),
        &[
            Value::text(status),
            Value::text(run_id),
            Value::uint(after),
            Value::uint(limit),
        ],
    )?
    .iter()
    .map(exception_from_row)
    .collect()
}

/// The exception a reconciliation refund resolves.
pub fn exception_by_refund(
    sql: &mut dyn Sql,
    refund_id: &str,
) -> Result<Option<Exception>, StoreError> {
    sql.query_opt(
        select_exceptions!("WHERE refund_id = $1"),
        &[Value::text(refund_id)],
    )?
    .map(|r| exception_from_row(&r).map(|(e, _)| e))
    .transpose()
}

pub fn exception_by_adjustment(
    sql: &mut dyn Sql,
    adjustment_id: &str,
) -> Result<Option<Exception>, StoreError> {
    sql.query_opt(
        select_exceptions!("WHERE adjustment_id = $1"),
        &[Value::text(adjustment_id)],
    )?
    .map(|r| exception_from_row(&r).map(|(e, _)| e))
    .transpose()
}

fn exception_from_row(r: &Row) -> Result<(Exception, u64), StoreError> {
    let (kind, status) = (r.text(2)?, r.text(5)?);
    let exception = Exception {
        id: r.text(0)?,
        run_id: r.text(1)?,
        kind: Difference::from_name(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        channel: r.text(3)?,
        channel_order_no: r.text(4)?,
        status: ExceptionStatus::from_name(&status).ok_or_else(|| corrupt("status", &status))?,
        ours: r.text(6)?,
        theirs: r.text(7)?,
        amount: r.uint(8)?,
        currency: r.text(9)?,
        adjustment_id: r.opt_text(10)?,
        history: history_from(&r.text(11)?)?,
        created_at: r.uint(12)?,
        updated_at: r.uint(13)?,
        refund_id: r.opt_text(15)?,
    };
    Ok((exception, r.uint(14)?))
}
