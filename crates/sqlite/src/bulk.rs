//! Writing many rows through one prepared statement, bound without copies.
//!
//! This is the projections' hot path (millions of rows per second). rusqlite binds every
//! text as `SQLITE_TRANSIENT` (SQLite copies it into a fresh allocation, freed at the next
//! bind) and its statement cache hashes the statement's text and clears every binding each
//! time a statement is taken and returned: measured, a third of the journal writer's time on
//! texts of a few bytes. Here texts are bound `SQLITE_STATIC` from the rows themselves: a
//! `Binder<'r>` takes only texts that live as long as the row being bound (`'r`), and SQLite
//! reads them only in the step that follows, before the rows can go away.

use std::ffi::{c_char, c_int, CStr};
use std::marker::PhantomData;
use std::ptr;

use rusqlite::ffi;
use rusqlite::Transaction;

/// Binds one row's values, in column order.
pub type Bind<T> = for<'r> fn(&mut Binder<'r>, &'r T);

/// Rows per multi-row INSERT: amortizes statement execution over many rows while staying far
/// below SQLite's parameter limit (16 columns × 64 = 1,024 of 32,766).
pub const ROWS_PER_INSERT: usize = 64;

/// Appends `rows` to `table` (a table name, optionally with its column list) with multi-row
/// INSERTs of `ROWS_PER_INSERT` rows (the last one shorter), binding each row's `columns`
/// values with `bind`.
pub fn insert_rows<T>(
    tx: &Transaction<'_>,
    table: &str,
    columns: usize,
    rows: &[T],
    bind: Bind<T>,
) -> rusqlite::Result<()> {
    let mut full: Option<Prepared<'_>> = None;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut short;
        let statement = if chunk.len() == ROWS_PER_INSERT {
            match &mut full {
                Some(statement) => statement,
                None => full.insert(Prepared::new(
                    tx,
                    &multi_row_insert(table, columns, chunk.len()),
                )?),
            }
        } else {
            short = Prepared::new(tx, &multi_row_insert(table, columns, chunk.len()))?;
            &mut short
        };
        statement.run(chunk, columns, bind)?;
    }
    Ok(())
}

/// Executes `sql` (one row's parameters, `columns` of them) once for each of `rows`.
pub fn execute_each<T>(
    tx: &Transaction<'_>,
    sql: &str,
    columns: usize,
    rows: &[T],
    bind: Bind<T>,
) -> rusqlite::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut statement = Prepared::new(tx, sql)?;
    for row in rows {
        statement.run(std::slice::from_ref(row), columns, bind)?;
    }
    Ok(())
}

/// `INSERT OR FAIL INTO table VALUES (?,?,…),(?,?,…)…` for `rows` rows of `columns` values.
/// OR FAIL: a violation still fails the statement (and the caller's transaction), but SQLite
/// need not keep a statement journal to undo a partly inserted multi-row statement.
fn multi_row_insert(table: &str, columns: usize, rows: usize) -> String {
    let tuple = format!("({})", vec!["?"; columns].join(","));
    format!(
        "INSERT OR FAIL INTO {table} VALUES {}",
        vec![tuple; rows].join(",")
    )
}

/// A prepared statement of the transaction's connection, finalized on drop.
struct Prepared<'tx> {
    db: *mut ffi::sqlite3,
    statement: *mut ffi::sqlite3_stmt,
    parameters: usize,
    _tx: PhantomData<&'tx Transaction<'tx>>,
}

impl<'tx> Prepared<'tx> {
    fn new(tx: &'tx Transaction<'_>, sql: &str) -> rusqlite::Result<Prepared<'tx>> {
        // SAFETY: the handle is the transaction's open connection, used only on this thread
        // while `tx` is borrowed.
        let db = unsafe { tx.handle() };
        let mut statement = ptr::null_mut();
        let length = c_int::try_from(sql.len()).map_err(|_| failure(ffi::SQLITE_TOOBIG, None))?;
        // SAFETY: `sql` is valid for `length` bytes; `statement` receives the new handle.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast::<c_char>(),
                length,
                0,
                &mut statement,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc));
        }
        // SAFETY: a successfully prepared statement.
        let parameters = unsafe { ffi::sqlite3_bind_parameter_count(statement) } as usize;
        Ok(Prepared {
            db,
            statement,
            parameters,
            _tx: PhantomData,
        })
    }

    /// Binds `rows` (all of the statement's parameters), executes it and resets it. Texts
    /// stay bound after the reset, possibly past their rows' lifetime, but SQLite never reads
    /// them again: every step comes right after every parameter has been bound anew.
    fn run<T>(&mut self, rows: &[T], columns: usize, bind: Bind<T>) -> rusqlite::Result<()> {
        assert_eq!(
            rows.len() * columns,
            self.parameters,
            "a value for every parameter"
        );
        let mut binder = Binder {
            statement: self.statement,
            next: 1,
            rc: ffi::SQLITE_OK,
            _rows: PhantomData,
        };
        for row in rows {
            let before = binder.next;
            bind(&mut binder, row);
            assert_eq!(
                binder.next - before,
                columns as c_int,
                "bind binds every column"
            );
        }
        if binder.rc != ffi::SQLITE_OK {
            return Err(error(self.db, binder.rc));
        }
        // SAFETY: a prepared statement with every parameter bound to a live value.
        let rc = unsafe { ffi::sqlite3_step(self.statement) };
        // SAFETY: as above; resetting keeps the bindings.
        let reset = unsafe { ffi::sqlite3_reset(self.statement) };
        match rc {
            ffi::SQLITE_DONE | ffi::SQLITE_ROW => Ok(()),
            _ => Err(error(
                self.db,
                if reset != ffi::SQLITE_OK { reset } else { rc },
            )),
        }
    }
}

impl Drop for Prepared<'_> {
    fn drop(&mut self) {
        // SAFETY: finalized once; no binding outlives it.
        unsafe { ffi::sqlite3_finalize(self.statement) };
    }
}

/// Binds one row's values in order; the first failure is kept and reported by the caller.
pub struct Binder<'r> {
    statement: *mut ffi::sqlite3_stmt,
    next: c_int,
    rc: c_int,
    _rows: PhantomData<&'r ()>,
}

impl<'r> Binder<'r> {
    pub fn int(&mut self, value: i64) {
        // SAFETY: a live prepared statement; an index out of range only returns an error.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.statement, self.next, value) };
        self.done(rc);
    }

    pub fn opt_int(&mut self, value: Option<i64>) {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    /// A text borrowed for as long as the statement may read it.
    pub fn text(&mut self, value: &'r str) {
        // SAFETY: `value` outlives the statement's use of it (`'r`, see the module comment).
        unsafe { self.bind_text(value, ffi::SQLITE_STATIC()) }
    }

    pub fn opt_text(&mut self, value: Option<&'r str>) {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// A sum that may pass i64 (`crate::wide`): an integer while it fits, else its decimal text.
    pub fn wide(&mut self, value: i128) {
        match i64::try_from(value) {
            Ok(small) => self.int(small),
            Err(_) => self.text_copied(&value.to_string()),
        }
    }

    /// A text made for this binding (SQLite copies it).
    pub fn text_copied(&mut self, value: &str) {
        // SAFETY: SQLite copies `value` before returning.
        unsafe { self.bind_text(value, ffi::SQLITE_TRANSIENT()) }
    }

    /// # Safety
    /// With `SQLITE_STATIC`, `value` must stay valid until the statement's next step is done.
    unsafe fn bind_text(&mut self, value: &str, destructor: ffi::sqlite3_destructor_type) {
        let rc = unsafe {
            ffi::sqlite3_bind_text64(
                self.statement,
                self.next,
                value.as_ptr().cast::<c_char>(),
                value.len() as u64,
                destructor,
                ffi::SQLITE_UTF8 as u8,
            )
        };
        self.done(rc);
    }

    pub fn null(&mut self) {
        // SAFETY: a live prepared statement.
        let rc = unsafe { ffi::sqlite3_bind_null(self.statement, self.next) };
        self.done(rc);
    }

    fn done(&mut self, rc: c_int) {
        if self.rc == ffi::SQLITE_OK {
            self.rc = rc;
        }
        self.next += 1;
    }
}

fn error(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    // SAFETY: the connection is open; SQLite owns the message, copied here.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
    failure(rc, Some(message.to_string_lossy().into_owned()))
}

fn failure(rc: c_int, message: Option<String>) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (tempfile::TempDir, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::open(
            &dir.path().join("t.sqlite"),
            1024,
            std::time::Duration::from_secs(1),
        )
        .unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c INTEGER)")
            .unwrap();
        (dir, conn)
    }

    #[test]
    fn rows_go_in_whole_chunks_and_a_remainder() {
        let (_dir, mut conn) = table();
        let rows: Vec<(i64, String)> = (0..150).map(|i| (i, format!("r{i}"))).collect();
        let tx = conn.transaction().unwrap();
        insert_rows(&tx, "t (a, b, c)", 3, &rows, |b, (a, text)| {
            b.int(*a);
            b.text(text);
            b.opt_int((*a % 2 == 0).then_some(*a));
        })
        .unwrap();
        tx.commit().unwrap();
        let (count, last, evens): (i64, String, i64) = conn
            .query_row("SELECT COUNT(*), MAX(b), COUNT(c) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((count, last.as_str(), evens), (150, "r99", 75));
    }

    #[test]
    fn each_row_is_executed_and_a_violation_fails_with_sqlites_message() {
        let (_dir, mut conn) = table();
        let tx = conn.transaction().unwrap();
        let rows = [(1, "one"), (2, "two")];
        let sql = "INSERT INTO t (a, b) VALUES (?1, ?2)";
        execute_each(&tx, sql, 2, &rows, |b, (a, text)| {
            b.int(*a);
            b.text(text);
        })
        .unwrap();
        let again = execute_each(&tx, sql, 2, &rows[..1], |b, (a, text)| {
            b.int(*a);
            b.text_copied(text);
        });
        let message = again.unwrap_err().to_string();
        assert!(message.contains("UNIQUE constraint failed"), "{message}");
        let sql = "UPDATE t SET b = ?2 WHERE a = ?1";
        execute_each(&tx, sql, 2, &[(2, None::<&str>)], |b, (a, text)| {
            b.int(*a);
            b.opt_text(*text);
        })
        .unwrap();
        let nulls: i64 = tx
            .query_row("SELECT COUNT(*) FROM t WHERE b IS NULL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(nulls, 1);
    }
}
