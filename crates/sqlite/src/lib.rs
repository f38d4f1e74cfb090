//! SQLite plumbing shared by the query store and accounting, both derived from the ledger's
//! log and written by one thread in large transactions: opening a WAL connection tuned for
//! that, and writing many rows through prepared statements bound without copies (`bulk.rs`).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

mod bulk;
mod checkpointer;
pub mod wide;
pub use bulk::{execute_each, insert_rows, Bind, Binder, ROWS_PER_INSERT};
pub use checkpointer::Checkpointer;
pub use wide::Wide;

/// Page size of a new database. Larger pages than SQLite's 4 KiB make the trees shallower and
/// an index insert cheaper (measured: 2.2M random-account journal entries 7.0 s at 16 KiB,
/// 9.1 s at 4 KiB); an existing file keeps the size it was created with.
const PAGE_BYTES: i64 = 16 * 1024;

/// Opens `path` in WAL mode (readers never block the writer) with synchronous=NORMAL: a power
/// cut may drop the last committed transactions, and the stored log position with them — the
/// data is re-derived from the log, so nothing is lost or doubled. `cache_kib` of page cache.
pub fn open(path: &Path, cache_kib: u64, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    open_with_pages(path, PAGE_BYTES, cache_kib, busy_timeout)
}

/// `open` with pages of `page_bytes` for a new database: an OLTP store of small transactions
/// (the payment store) writes every page it touches to the WAL once per commit, so its pages
/// are better small.
pub fn open_with_pages(
    path: &Path,
    page_bytes: i64,
    cache_kib: u64,
    busy_timeout: Duration,
) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "page_size", page_bytes)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "cache_size", -(cache_kib as i64))?;
    wide::register(&conn)?;
    Ok(conn)
}
