//! Typed reads and writes of the payment tables, written once against `Sql` for both
//! backends: each module maps one table (or two) to the domain's types.

pub mod adjustments;
mod attempt_rows;
pub mod channels;
pub mod merchants;
pub mod notifications;
pub mod payments;
pub mod payouts;
pub mod recon;
pub mod refunds;
mod route_json;
pub mod state;
pub mod trades;

use paycore_money::Currency;

use crate::StoreError;

pub(crate) fn currency(code: &str) -> Result<Currency, StoreError> {
    Currency::from_code(code).map_err(|e| StoreError::Corrupt(format!("currency {code:?}: {e}")))
}

/// The resolver's queue query of a table with a nullable `next_check_at`.
macro_rules! due_checks_sql {
    ($table:literal) => {
        concat!(
            "SELECT id, next_check_at FROM ",
            $table,
            " WHERE next_check_at IS NOT NULL AND next_check_at <= $1 \
             ORDER BY next_check_at LIMIT $2"
        )
    };
}
pub(crate) use due_checks_sql;

/// Rows due by `until`, soonest first: (id, next check). `query` is `due_checks_sql!`.
pub(crate) fn due_checks(
    sql: &mut dyn crate::sql::Sql,
    query: &'static str,
    until: u64,
    limit: u64,
) -> Result<Vec<(String, u64)>, StoreError> {
    use crate::sql::Value;
    sql.query(query, &[Value::uint(until), Value::uint(limit)])?
        .iter()
        .map(|r| Ok((r.text(0)?, r.uint(1)?)))
        .collect()
}

pub(crate) fn failure(
    code: Option<String>,
    message: Option<String>,
) -> Option<paycore_payments::Failure> {
    code.map(|code| paycore_payments::Failure {
        code,
        message: message.unwrap_or_default(),
    })
}

pub(crate) fn small(v: u64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt("a count above u32".into()))
}

pub(crate) fn bool_of(v: i64) -> bool {
    v != 0
}
