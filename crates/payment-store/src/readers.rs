//! A pool of reading connections: reads run on blocking threads, each in a read-only
//! transaction of its own (one snapshot for a payment and its attempts), never queued behind
//! the writer or behind each other up to the pool's size.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::sql::{Connection, Sql};
use crate::StoreError;

type Factory = Arc<dyn Fn() -> Result<Box<dyn Connection>, StoreError> + Send + Sync>;

#[derive(Clone)]
pub struct Readers {
    idle: Arc<Mutex<Vec<Box<dyn Connection>>>>,
    open: Factory,
    idle_max: usize,
}

impl Readers {
    /// Connections are opened on demand; at most `idle_max` are kept between reads.
    pub fn new(
        open: impl Fn() -> Result<Box<dyn Connection>, StoreError> + Send + Sync + 'static,
        idle_max: usize,
    ) -> Readers {
        Readers {
            idle: Arc::new(Mutex::new(Vec::new())),
            open: Arc::new(open),
            idle_max,
        }
    }

    /// Runs `read` in a read-only transaction on a blocking thread.
    pub async fn read<R: Send + 'static>(
        &self,
        read: impl FnOnce(&mut dyn Sql) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.read_blocking(read))
            .await
            .map_err(|e| StoreError::Invalid(format!("read task failed: {e}")))?
    }

    /// Like `read`, on the calling thread.
    pub fn read_blocking<R>(
        &self,
        read: impl FnOnce(&mut dyn Sql) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let pooled = self.idle.lock().pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => (self.open)()?,
        };
        conn.begin(true)?;
        let result = read(conn.sql());
        let ended = match &result {
            Ok(_) => conn.commit(),
            Err(_) => conn.rollback(),
        };
        // A connection whose transaction did not end cleanly is not reused.
        if ended.is_ok() {
            let mut idle = self.idle.lock();
            if idle.len() < self.idle_max {
                idle.push(conn);
            }
        }
        let value = result?;
        ended?;
        Ok(value)
    }
}
