//! One way to run SQL on either backend: statements are written once, in PostgreSQL's
//! placeholder style (`$1`), over BIGINT and TEXT columns only, so the same text runs on
//! SQLite (where `$N` becomes `?N`) and on PostgreSQL. Values are integers or texts, either
//! possibly NULL — all the payment tables need.

use crate::StoreError;

/// A value bound to or read from a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl Value {
    pub fn int(v: i64) -> Value {
        Value::Int(Some(v))
    }

    pub fn uint(v: u64) -> Value {
        Value::Int(Some(to_i64(v)))
    }

    pub fn opt_uint(v: Option<u64>) -> Value {
        Value::Int(v.map(to_i64))
    }

    pub fn text(v: impl Into<String>) -> Value {
        Value::Text(Some(v.into()))
    }

    pub fn opt_text(v: Option<impl Into<String>>) -> Value {
        Value::Text(v.map(Into::into))
    }
}

/// Amounts and times are at most i64::MAX (checked at the domain's edge); a larger value
/// here is a bug.
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).expect("stored integers fit in BIGINT")
}

/// One result row.
#[derive(Clone, Debug)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn get(&self, i: usize) -> Result<&Value, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("column {i} missing")))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.get(i)? {
            Value::Int(v) => Ok(*v),
            Value::Text(None) => Ok(None),
            Value::Text(Some(_)) => {
                Err(StoreError::Corrupt(format!("column {i} is not an integer")))
            }
        }
    }

    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }

    pub fn uint(&self, i: usize) -> Result<u64, StoreError> {
        u64::try_from(self.int(i)?).map_err(|_| StoreError::Corrupt(format!("column {i} < 0")))
    }

    pub fn opt_uint(&self, i: usize) -> Result<Option<u64>, StoreError> {
        self.opt_int(i)?
            .map(|v| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {i} < 0"))))
            .transpose()
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.get(i)? {
            Value::Text(v) => Ok(v.clone()),
            Value::Int(None) => Ok(None),
            Value::Int(Some(_)) => Err(StoreError::Corrupt(format!("column {i} is not text"))),
        }
    }

    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?
            .ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }
}

/// Runs statements. Implemented by both backends' connections; every query of the payment
/// store is written against this trait once.
pub trait Sql {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &'static str, params: &[Value]) -> Result<u64, StoreError>;
    fn query(&mut self, sql: &'static str, params: &[Value]) -> Result<Vec<Row>, StoreError>;

    fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[Value],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The writer's cache of rows it wrote or read (`cache.rs`), where it has one.
    fn cache(&mut self) -> Option<&mut crate::cache::RowCache> {
        None
    }
}

/// A connection: `Sql` plus transactions.
pub trait Connection: Sql + Send {
    /// Starts a write transaction, or a read-only one that sees one snapshot.
    fn begin(&mut self, read_only: bool) -> Result<(), StoreError>;
    fn commit(&mut self) -> Result<(), StoreError>;
    fn rollback(&mut self) -> Result<(), StoreError>;
    /// The connection as `Sql`, for code that runs inside a transaction.
    fn sql(&mut self) -> &mut dyn Sql;
}

/// `$1` → `?1` for SQLite. Placeholders inside string literals would be rewritten too; the
/// store's statements have none.
pub fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE b = $2 AND c = $10 OR d = '$'"),
            "SELECT a FROM t WHERE b = ?2 AND c = ?10 OR d = '$'"
        );
    }
}
