//! Reads that are the same SQL on both backends, written once. A backend runs them through
//! `Dialect`: it binds the parameters (written `$1`, `$2`… here, PostgreSQL's spelling; the
//! SQLite side rewrites them to `?1`, `?2`…) and hands each row back through `Row`. What a
//! backend's physical layout forces — journal entries and records in runs and chunks — stays
//! in that backend's files.

use crate::backend::{sql_u64, StoreError};
use crate::rows::{AccountRow, DailyRow, DayClosing, DayFlow, HoldQuery, HoldRow, SuspenseRow};

/// A parameter of a shared query.
pub(crate) enum Param<'a> {
    Int(i64),
    Text(&'a str),
}

/// One row of an answer, read by column index.
pub(crate) trait Row {
    fn int(&self, column: usize) -> Result<i64, StoreError>;
    fn text(&self, column: usize) -> Result<String, StoreError>;

    /// A sum that may pass i64 (`paycore_sqlite::wide`), selected as `CAST(x AS TEXT)`.
    fn wide(&self, column: usize) -> Result<i128, StoreError> {
        let text = self.text(column)?;
        paycore_sqlite::wide::parse(&text).ok_or_else(|| {
            StoreError::Invalid(format!("column {column} holds {text:?}, not an integer"))
        })
    }
}

/// How a backend runs a shared query.
pub(crate) trait Dialect {
    fn rows<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        map: impl Fn(&dyn Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError>;
}

/// Ids, sequences and timestamps are `u64` in the ledger and `BIGINT` in SQL; the store never
/// writes one above `i64::MAX`.
fn u64_of(value: i64) -> u64 {
    debug_assert!(value >= 0, "an id or count read back negative: {value}");
    value as u64
}

pub(crate) fn account_id(
    db: &mut impl Dialect,
    account_no: &str,
) -> Result<Option<u64>, StoreError> {
    let sql = "SELECT id FROM accounts WHERE account_no = $1";
    let ids = db.rows(sql, &[Param::Text(account_no)], |r| r.int(0))?;
    Ok(ids.first().copied().map(u64_of))
}

pub(crate) fn account(db: &mut impl Dialect, id: u64) -> Result<Option<AccountRow>, StoreError> {
    let sql =
        "SELECT id, account_no, account_type, currency, balance, frozen, status, allow_negative, \
               reference, opened_at, opened_by, pending_credit FROM accounts WHERE id = $1";
    let rows = db.rows(sql, &[Param::Int(sql_u64(id))], |r| {
        Ok(AccountRow {
            id: u64_of(r.int(0)?),
            account_no: r.text(1)?,
            account_type: r.text(2)?,
            currency: r.text(3)?,
            balance: r.int(4)?,
            frozen: r.int(5)?,
            status: r.text(6)?,
            allow_negative: r.int(7)? != 0,
            reference: r.text(8)?,
            opened_at: u64_of(r.int(9)?),
            opened_by: r.text(10)?,
            pending_credit: r.int(11)?,
        })
    })?;
    Ok(rows.into_iter().next())
}

pub(crate) fn holds(db: &mut impl Dialect, q: &HoldQuery) -> Result<Vec<HoldRow>, StoreError> {
    // An empty status matches every hold, so one statement serves both filters.
    let sql = "SELECT hold_id, client_id, account_id, amount, remaining, captured, status, \
               COALESCE(expires_at, -1), record_id FROM holds \
               WHERE account_id = $1 AND hold_id > $2 AND ($3 = '' OR status = $3) ORDER BY hold_id LIMIT $4";
    let params = [
        Param::Int(sql_u64(q.account_id)),
        Param::Int(q.after_hold.map_or(-1, sql_u64)),
        Param::Text(q.status.as_deref().unwrap_or("")),
        Param::Int(q.limit.min(i64::MAX as usize) as i64),
    ];
    db.rows(sql, &params, |r| {
        let expires_at = r.int(7)?;
        Ok(HoldRow {
            hold_id: u64_of(r.int(0)?),
            client_id: r.text(1)?,
            account_id: u64_of(r.int(2)?),
            amount: u64_of(r.int(3)?),
            remaining: u64_of(r.int(4)?),
            captured: u64_of(r.int(5)?),
            status: r.text(6)?,
            expires_at: (expires_at >= 0).then(|| u64_of(expires_at)),
            record_id: u64_of(r.int(8)?),
        })
    })
}

pub(crate) fn daily_rows(
    db: &mut impl Dialect,
    account_id: u64,
    from: &str,
    to: &str,
) -> Result<Vec<DailyRow>, StoreError> {
    let sql = "SELECT accounting_date, opening, CAST(debits AS TEXT), CAST(credits AS TEXT), closing, entries FROM daily_balances \
               WHERE account_id = $1 AND accounting_date >= $2 AND accounting_date <= $3 ORDER BY accounting_date";
    let params = [
        Param::Int(sql_u64(account_id)),
        Param::Text(from),
        Param::Text(to),
    ];
    db.rows(sql, &params, |r| {
        Ok(DailyRow {
            accounting_date: r.text(0)?,
            opening: r.int(1)?,
            debits: r.wide(2)?,
            credits: r.wide(3)?,
            closing: r.int(4)?,
            entries: r.int(5)?,
        })
    })
}

pub(crate) fn closing_before(
    db: &mut impl Dialect,
    account_id: u64,
    date: &str,
) -> Result<Option<i64>, StoreError> {
    let sql = "SELECT closing FROM daily_balances WHERE account_id = $1 AND accounting_date < $2 \
               ORDER BY accounting_date DESC LIMIT 1";
    let params = [Param::Int(sql_u64(account_id)), Param::Text(date)];
    Ok(db.rows(sql, &params, |r| r.int(0))?.first().copied())
}

pub(crate) fn day_flows(db: &mut impl Dialect, date: &str) -> Result<Vec<DayFlow>, StoreError> {
    let sql =
        "SELECT accounting_date, account_type, currency, CAST(debits AS TEXT), CAST(credits AS TEXT), entries FROM day_flows \
               WHERE accounting_date = $1 ORDER BY account_type, currency";
    db.rows(sql, &[Param::Text(date)], |r| {
        Ok(DayFlow {
            accounting_date: r.text(0)?,
            account_type: r.text(1)?,
            currency: r.text(2)?,
            debits: r.wide(3)?,
            credits: r.wide(4)?,
            entries: r.int(5)?,
        })
    })
}

pub(crate) fn day_closings(
    db: &mut impl Dialect,
    date: &str,
) -> Result<Vec<DayClosing>, StoreError> {
    let sql =
        "SELECT accounting_date, account_type, currency, accounts, CAST(closing AS TEXT) FROM day_closings \
               WHERE accounting_date = $1 ORDER BY account_type, currency";
    db.rows(sql, &[Param::Text(date)], |r| {
        Ok(DayClosing {
            accounting_date: r.text(0)?,
            account_type: r.text(1)?,
            currency: r.text(2)?,
            accounts: r.int(3)?,
            closing: r.wide(4)?,
        })
    })
}

pub(crate) fn day_suspense(
    db: &mut impl Dialect,
    date: &str,
) -> Result<Vec<SuspenseRow>, StoreError> {
    let sql =
        "SELECT accounting_date, account_id, balance FROM day_suspense WHERE accounting_date = $1 \
               ORDER BY account_id";
    db.rows(sql, &[Param::Text(date)], |r| {
        Ok(SuspenseRow {
            accounting_date: r.text(0)?,
            account_id: u64_of(r.int(1)?),
            balance: r.int(2)?,
        })
    })
}

/// Per account: credits minus debits and the number of entries, over entries before `seq_end`.
pub(crate) fn journal_sums(
    db: &mut impl Dialect,
    seq_end: u64,
) -> Result<Vec<(u64, i64, u64)>, StoreError> {
    let sql = "SELECT account_id, \
               CAST(SUM(CASE kind WHEN 'credit' THEN amount WHEN 'debit' THEN -amount ELSE 0 END) AS BIGINT), \
               COUNT(*) FROM entries WHERE seq < $1 GROUP BY account_id ORDER BY account_id";
    db.rows(sql, &[Param::Int(sql_u64(seq_end))], |r| {
        Ok((u64_of(r.int(0)?), r.int(1)?, u64_of(r.int(2)?)))
    })
}

/// `$1`, `$2`… as SQLite's `?1`, `?2`… (a `$` is never part of the shared queries otherwise).
pub(crate) fn numbered_placeholders(sql: &str) -> String {
    sql.replace('$', "?")
}

mod on_sqlite {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    use rusqlite::{params_from_iter, Connection, ToSql};

    use super::{numbered_placeholders, Dialect, Param, Row};
    use crate::backend::StoreError;

    impl ToSql for Param<'_> {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(match self {
                Param::Int(value) => ToSqlOutput::from(*value),
                Param::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            })
        }
    }

    impl Row for rusqlite::Row<'_> {
        fn int(&self, column: usize) -> Result<i64, StoreError> {
            Ok(self.get(column)?)
        }

        fn text(&self, column: usize) -> Result<String, StoreError> {
            Ok(self.get(column)?)
        }
    }

    impl Dialect for Connection {
        fn rows<T>(
            &mut self,
            sql: &str,
            params: &[Param<'_>],
            map: impl Fn(&dyn Row) -> Result<T, StoreError>,
        ) -> Result<Vec<T>, StoreError> {
            let mut statement = self.prepare_cached(&numbered_placeholders(sql))?;
            let mut rows = statement.query(params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(map(row)?);
            }
            Ok(out)
        }
    }
}

mod on_postgres {
    use postgres::types::{ToSql, Type};
    use postgres::Client;

    use super::{Dialect, Param, Row};
    use crate::backend::StoreError;

    impl Row for postgres::Row {
        /// Integers of any width (`allow_negative` is a SMALLINT, counts are BIGINT).
        fn int(&self, column: usize) -> Result<i64, StoreError> {
            let kind = self.columns()[column].type_();
            Ok(match *kind {
                Type::INT2 => i64::from(self.try_get::<_, i16>(column)?),
                Type::INT4 => i64::from(self.try_get::<_, i32>(column)?),
                _ => self.try_get::<_, i64>(column)?,
            })
        }

        fn text(&self, column: usize) -> Result<String, StoreError> {
            Ok(self.try_get(column)?)
        }
    }

    impl Dialect for Client {
        fn rows<T>(
            &mut self,
            sql: &str,
            params: &[Param<'_>],
            map: impl Fn(&dyn Row) -> Result<T, StoreError>,
        ) -> Result<Vec<T>, StoreError> {
            let params: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| match p {
                    Param::Int(value) => value as &(dyn ToSql + Sync),
                    Param::Text(text) => text as &(dyn ToSql + Sync),
                })
                .collect();
            let rows = self.query(sql, &params)?;
            rows.iter().map(|row| map(row)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_keep_their_numbers() {
        assert_eq!(
            super::numbered_placeholders("a = $1 AND b < $2 OR c = $1"),
            "a = ?1 AND b < ?2 OR c = ?1"
        );
    }
}
