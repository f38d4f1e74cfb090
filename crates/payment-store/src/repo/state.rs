//! The writer's own state: the weighted split per channel set (`pay_splits`) and the
//! counters it hands out (`pay_sequences`).

use crate::sql::{Sql, Value};
use crate::StoreError;

pub fn splits(sql: &mut dyn Sql) -> Result<Vec<(String, String)>, StoreError> {
    sql.query("SELECT split_key, state FROM pay_splits", &[])?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?)))
        .collect()
}

pub fn save_split(sql: &mut dyn Sql, key: &str, state: &str) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_splits (split_key, state) VALUES ($1, $2) \
         ON CONFLICT (split_key) DO UPDATE SET state = excluded.state",
        &[Value::text(key), Value::text(state)],
    )?;
    Ok(())
}

/// The last value handed out under `name` (0 for none).
pub fn sequence(sql: &mut dyn Sql, name: &str) -> Result<u64, StoreError> {
    Ok(sql
        .query_opt(
            "SELECT value FROM pay_sequences WHERE name = $1",
            &[Value::text(name)],
        )?
        .map(|r| r.uint(0))
        .transpose()?
        .unwrap_or(0))
}

pub fn save_sequence(sql: &mut dyn Sql, name: &str, value: u64) -> Result<(), StoreError> {
    sql.exec(
        "INSERT INTO pay_sequences (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[Value::text(name), Value::uint(value)],
    )?;
    Ok(())
}
