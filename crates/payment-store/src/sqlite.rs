//! The SQLite backend: the embedded default, a file of its own in the data directory
//! (`payments.sqlite`; SQLite allows one writer per file, and the query store's projector
//! holds its own for long transactions). WAL with synchronous=FULL: a commit is on disk before
//! the writer answers anyone.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::cache::RowCache;
use crate::sql::{sqlite_placeholders, Connection, Row, Sql, Value};
use crate::StoreError;

/// Page size of a new payment store. Each commit of the writer's group transactions writes
/// every page it touched to the WAL; at 16 KiB (the query store's size, chosen for its bulk
/// inserts) that was ~690 KB per transaction and 110 MB/s under 2,900 pay-ins/s.
const PAGE_BYTES: i64 = 4 * 1024;

pub struct SqliteConnection {
    conn: rusqlite::Connection,
    /// The writer's: copies committed pages into the database file on a thread of its own,
    /// so no commit of the writer pays for a checkpoint.
    checkpointer: Option<paycore_sqlite::Checkpointer>,
    /// The writer's (`cache.rs`).
    cache: Option<RowCache>,
    /// Statements rewritten to SQLite's placeholders, by the address of their text.
    rewritten: HashMap<usize, String>,
}

mod migrations {
    refinery::embed_migrations!("migrations");
}

impl SqliteConnection {
    /// Opens (creating if needed) the file, and migrates the schema when `migrate` (the
    /// writer does; readers trust it).
    pub fn open(path: &Path, migrate: bool) -> Result<SqliteConnection, StoreError> {
        let mut conn =
            paycore_sqlite::open_with_pages(path, PAGE_BYTES, 64 * 1024, Duration::from_secs(30))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut checkpointer = None;
        if migrate {
            migrations::migrations::runner()
                .set_migration_table_name(crate::MIGRATION_TABLE)
                .run(&mut conn)?;
            checkpointer = Some(paycore_sqlite::Checkpointer::start(&conn, path)?);
        }
        Ok(SqliteConnection {
            conn,
            checkpointer,
            cache: migrate.then(RowCache::default),
            rewritten: HashMap::new(),
        })
    }

    fn prepared(&mut self, sql: &'static str) -> Result<rusqlite::CachedStatement<'_>, StoreError> {
        let text = self
            .rewritten
            .entry(sql.as_ptr() as usize)
            .or_insert_with(|| sqlite_placeholders(sql));
        Ok(self.conn.prepare_cached(text)?)
    }
}

struct Bound<'a>(&'a Value);

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Int(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Int(None) | Value::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

fn read_value(value: ValueRef<'_>) -> Result<Value, StoreError> {
    Ok(match value {
        ValueRef::Null => Value::Int(None),
        ValueRef::Integer(v) => Value::int(v),
        ValueRef::Text(t) => {
            Value::text(std::str::from_utf8(t).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        }
        other => return Err(StoreError::Corrupt(format!("unexpected value {other:?}"))),
    })
}

impl Sql for SqliteConnection {
    fn exec(&mut self, sql: &'static str, params: &[Value]) -> Result<u64, StoreError> {
        let mut statement = self.prepared(sql)?;
        let bound: Vec<Bound> = params.iter().map(Bound).collect();
        Ok(statement.execute(rusqlite::params_from_iter(bound))? as u64)
    }

    fn query(&mut self, sql: &'static str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut statement = self.prepared(sql)?;
        let columns = statement.column_count();
        let bound: Vec<Bound> = params.iter().map(Bound).collect();
        let mut rows = statement.query(rusqlite::params_from_iter(bound))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let values = (0..columns)
                .map(|i| read_value(row.get_ref(i)?))
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }

    fn cache(&mut self) -> Option<&mut RowCache> {
        self.cache.as_mut()
    }
}

impl Connection for SqliteConnection {
    fn begin(&mut self, read_only: bool) -> Result<(), StoreError> {
        let begin = if read_only {
            "BEGIN DEFERRED"
        } else {
            if let Some(checkpointer) = self.checkpointer.as_mut() {
                checkpointer.before_transaction()?;
            }
            "BEGIN IMMEDIATE"
        };
        self.conn.execute_batch(begin)?;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        if let Some(checkpointer) = self.checkpointer.as_mut() {
            checkpointer.committed()?;
        }
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        if let Some(cache) = self.cache.as_mut() {
            cache.clear();
        }
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    fn sql(&mut self) -> &mut dyn Sql {
        self
    }
}
