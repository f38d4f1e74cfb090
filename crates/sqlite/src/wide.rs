//! Sums of amounts that may pass i64: turnover (debits and credits of an account or a GL
//! account over a day or a period) and totals over many accounts. Each amount and each
//! balance fits in i64, but a day's debits of one account need not — deposit i64::MAX,
//! withdraw it, deposit it again. These sums are `i128` in Rust.
//!
//! SQLite has no 128-bit integer, so a column holding such a sum stores an INTEGER while the
//! value fits in i64 (every real figure, and every row written before this existed) and the
//! decimal TEXT of the value beyond. SQL must not add these columns with `+` or `SUM` (SQLite
//! would turn an overflow into a REAL): upserts add with `wide_add(a, b)`, registered on every
//! connection `open` makes, and reports sum the rows in Rust. `CAST(x AS TEXT)` reads either
//! form as the decimal text `parse` takes, which is how SQL shared with PostgreSQL (where
//! these columns are NUMERIC) reads them.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Value, ValueRef};
use rusqlite::Connection;

/// An `i128` as SQLite stores it: INTEGER when it fits in i64, decimal TEXT beyond.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Wide(pub i128);

impl ToSql for Wide {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(value_of(self.0)))
    }
}

impl FromSql for Wide {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Integer(i) => Ok(Wide(i128::from(i))),
            ValueRef::Text(text) => std::str::from_utf8(text)
                .ok()
                .and_then(parse)
                .map(Wide)
                .ok_or(FromSqlError::InvalidType),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

fn value_of(sum: i128) -> Value {
    match i64::try_from(sum) {
        Ok(small) => Value::Integer(small),
        Err(_) => Value::Text(sum.to_string()),
    }
}

/// A decimal integer as `CAST(x AS TEXT)` gives it (SQLite) or `x::text` (PostgreSQL NUMERIC).
pub fn parse(text: &str) -> Option<i128> {
    text.trim().parse().ok()
}

/// Registers `wide_add(a, b)`: the exact sum of two wide values, an error (never a REAL) if
/// it passes i128.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "wide_add",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        wide_add,
    )
}

fn wide_add(ctx: &Context<'_>) -> rusqlite::Result<Value> {
    let a: Wide = ctx.get(0)?;
    let b: Wide = ctx.get(1)?;
    let sum = a.0.checked_add(b.0).ok_or_else(|| {
        rusqlite::Error::UserFunctionError(format!("wide_add({}, {}) passes i128", a.0, b.0).into())
    })?;
    Ok(value_of(sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)")
            .unwrap();
        conn
    }

    fn add(conn: &Connection, value: i128) {
        conn.execute(
            "INSERT INTO t VALUES (1, ?1) ON CONFLICT (k) DO UPDATE SET v = wide_add(v, excluded.v)",
            [Wide(value)],
        )
        .unwrap();
    }

    fn read(conn: &Connection) -> (Wide, String, String) {
        conn.query_row("SELECT v, typeof(v), CAST(v AS TEXT) FROM t", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap()
    }

    #[test]
    fn a_sum_stays_an_integer_while_it_fits_and_becomes_exact_text_beyond() {
        let conn = conn();
        add(&conn, i128::from(i64::MAX));
        assert_eq!(read(&conn).1, "integer");
        add(&conn, 1);
        let (sum, kind, text) = read(&conn);
        assert_eq!(sum, Wide(i128::from(i64::MAX) + 1));
        assert_eq!((kind.as_str(), parse(&text)), ("text", Some(sum.0)));
        add(&conn, -2);
        let (sum, kind, _) = read(&conn);
        assert_eq!(
            (sum, kind.as_str()),
            (Wide(i128::from(i64::MAX) - 1), "integer")
        );
    }

    #[test]
    fn passing_i128_is_an_error_not_a_real() {
        let conn = conn();
        add(&conn, i128::MAX);
        let err = conn
            .execute("UPDATE t SET v = wide_add(v, ?1)", [Wide(1)])
            .unwrap_err();
        assert!(err.to_string().contains("passes i128"), "{err}");
        assert_eq!(read(&conn).0, Wide(i128::MAX));
    }

    #[test]
    fn a_real_or_garbage_is_refused_on_read() {
        let conn = conn();
        conn.execute("INSERT INTO t VALUES (1, 1.5)", []).unwrap();
        assert!(conn
            .query_row("SELECT v FROM t", [], |r| r.get::<_, Wide>(0))
            .is_err());
    }
}
