//! A background checkpointer for one WAL database with a single writer that commits large
//! transactions. SQLite's automatic checkpoint runs inside the writer's `COMMIT`, copying every
//! page the transaction wrote back into the database file on the writer's time; this thread
//! does that copy on its own connection (a PASSIVE checkpoint never blocks the writer) while
//! the writer goes on with the next transaction. Under a stream of small commits it starts at
//! most one checkpoint per `INTERVAL`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// Beyond this size the writer waits for a checkpoint to finish before its next transaction,
/// so the WAL cannot grow without bound when checkpoints fall behind.
const WAL_BYTES_MAX: u64 = 1 << 30;
/// The least time between two checkpoints. A checkpoint after each of many small commits
/// copied the same pages again and again (a tenth of the server's CPU under single-transfer
/// HTTP load, before the followers paced their commits); one a second made each checkpoint's
/// fsync so large that it stalled the log's fsync behind it (p99.9 240 ms at 10,000
/// transfers/s, against 65 ms at 100 ms: docs/http.md). Frames left in the WAL meanwhile are
/// as durable as the database file.
const INTERVAL: Duration = Duration::from_millis(100);

pub struct Checkpointer {
    requests: Option<SyncSender<()>>,
    done: Receiver<rusqlite::Result<()>>,
    in_flight: bool,
    last_started: Option<Instant>,
    wal: PathBuf,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Turns off the writer connection's automatic checkpoints and starts the thread.
    pub fn start(writer: &Connection, path: &Path) -> rusqlite::Result<Checkpointer> {
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let (requests, receive) = mpsc::sync_channel::<()>(1);
        let (report, done) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("paycore-checkpoint".into())
            .spawn(move || {
                for () in receive {
                    let result = conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                        .map(|_| ());
                    if report.send(result).is_err() {
                        return;
                    }
                }
            })
            .expect("spawning the checkpoint thread");
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(Checkpointer {
            requests: Some(requests),
            done,
            in_flight: false,
            last_started: None,
            wal: wal.into(),
            thread: Some(thread),
        })
    }

    /// Call after each commit: starts a checkpoint unless one is still running or the last
    /// one started less than `INTERVAL` ago.
    pub fn committed(&mut self) -> rusqlite::Result<()> {
        self.collect(false)?;
        if self.in_flight || self.last_started.is_some_and(|at| at.elapsed() < INTERVAL) {
            return Ok(());
        }
        let requests = self.requests.as_ref().expect("running until dropped");
        match requests.try_send(()) {
            Ok(()) => {
                self.in_flight = true;
                self.last_started = Some(Instant::now());
            }
            Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISUSE),
                    Some("the checkpoint thread has stopped".into()),
                ));
            }
        }
        Ok(())
    }

    /// Call before a transaction: waits for the running checkpoint when the WAL is too large.
    pub fn before_transaction(&mut self) -> rusqlite::Result<()> {
        let wal_bytes = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        self.collect(wal_bytes > WAL_BYTES_MAX)
    }

    fn collect(&mut self, wait: bool) -> rusqlite::Result<()> {
        if !self.in_flight {
            return Ok(());
        }
        let result = if wait {
            self.done.recv().ok()
        } else {
            self.done.try_recv().ok()
        };
        match result {
            Some(outcome) => {
                self.in_flight = false;
                outcome
            }
            None => Ok(()),
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open;

    #[test]
    fn commits_are_checkpointed_off_the_writer_and_nothing_is_lost() {
        let dir = std::env::temp_dir().join(format!("paycore-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.sqlite");
        {
            let mut conn = open(&path, 1024, Duration::from_secs(1)).unwrap();
            let page: i64 = conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap();
            assert_eq!(page, crate::PAGE_BYTES);
            conn.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b BLOB NOT NULL)")
                .unwrap();
            let mut checkpointer = Checkpointer::start(&conn, &path).unwrap();
            for round in 0..20i64 {
                checkpointer.before_transaction().unwrap();
                let tx = conn.transaction().unwrap();
                for i in 0..200 {
                    tx.execute(
                        "INSERT INTO t VALUES (?1, zeroblob(1000))",
                        [round * 200 + i],
                    )
                    .unwrap();
                }
                tx.commit().unwrap();
                checkpointer.committed().unwrap();
            }
            // Waiting for the last checkpoint leaves every page in the database file.
            checkpointer.collect(true).unwrap();
            let (_, wal_frames, copied): (i64, i64, i64) = conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .unwrap();
            assert_eq!(wal_frames, copied);
        }
        let conn = open(&path, 1024, Duration::from_secs(1)).unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 4_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
