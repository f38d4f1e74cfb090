//! The PostgreSQL backend: the payment tables live in the query store's database (prefixed
//! `pay_`, migrated under their own history table). Commits are synchronous (the session
//! default): a commit is durable before the writer answers anyone.

use std::collections::HashMap;

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use crate::sql::{Connection, Row, Sql, Value};
use crate::StoreError;

pub struct PostgresConnection {
    /// Only `None` while being dropped.
    client: Option<Client>,
    prepared: HashMap<usize, Statement>,
}

impl PostgresConnection {
    fn client(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("the client is only taken when dropped")
    }
}

impl Drop for PostgresConnection {
    /// The synchronous client runs a runtime of its own to close; inside tokio (the server
    /// dropping its payment service) that must happen on a thread outside the runtime.
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            let closing = std::thread::spawn(move || drop(client));
            if closing.join().is_err() {
                tracing::warn!("closing a PostgreSQL connection panicked");
            }
        }
    }
}

mod migrations {
    refinery::embed_migrations!("migrations");
}

impl PostgresConnection {
    /// Connects, and migrates the schema when `migrate` (the writer does; readers trust it).
    pub fn connect(url: &str, migrate: bool) -> Result<PostgresConnection, StoreError> {
        let mut client = Client::connect(url, NoTls)?;
        client.batch_execute("SET jit = off; SET synchronous_commit = on")?;
        if migrate {
            migrations::migrations::runner()
                .set_migration_table_name(crate::MIGRATION_TABLE)
                .run(&mut client)?;
        }
        Ok(PostgresConnection {
            client: Some(client),
            prepared: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        let key = sql.as_ptr() as usize;
        if let Some(statement) = self.prepared.get(&key) {
            return Ok(statement.clone());
        }
        let statement = self.client().prepare(sql)?;
        self.prepared.insert(key, statement.clone());
        Ok(statement)
    }
}

fn bound(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|v| match v {
            Value::Int(v) => v as &(dyn ToSql + Sync),
            Value::Text(v) => v as &(dyn ToSql + Sync),
        })
        .collect()
}

fn read_row(row: &postgres::Row) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let value = match *column.type_() {
            Type::INT8 => Value::Int(row.try_get(i)?),
            Type::INT4 => Value::Int(row.try_get::<_, Option<i32>>(i)?.map(i64::from)),
            Type::TEXT | Type::VARCHAR => Value::Text(row.try_get(i)?),
            ref other => {
                return Err(StoreError::Corrupt(format!(
                    "column {} has type {other}",
                    column.name()
                )))
            }
        };
        values.push(value);
    }
    Ok(Row(values))
}

impl Sql for PostgresConnection {
    fn exec(&mut self, sql: &'static str, params: &[Value]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client().execute(&statement, &bound(params))?)
    }

    fn query(&mut self, sql: &'static str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        let rows = self.client().query(&statement, &bound(params))?;
        rows.iter().map(read_row).collect()
    }
}

impl Connection for PostgresConnection {
    fn begin(&mut self, read_only: bool) -> Result<(), StoreError> {
        let begin = if read_only {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        } else {
            "BEGIN"
        };
        self.client().batch_execute(begin)?;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.client().batch_execute("COMMIT")?;
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        self.client().batch_execute("ROLLBACK")?;
        Ok(())
    }

    fn sql(&mut self) -> &mut dyn Sql {
        self
    }
}
