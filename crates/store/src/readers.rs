//! A pool of reading handles on the query store. Each read checks one out for its duration, so
//! reads never queue behind each other (or behind a long one, such as `verify`'s journal scan)
//! up to the pool's size: SQLite in WAL mode lets every connection read its own snapshot while
//! the projector writes, and PostgreSQL serves each connection with a backend of its own.
//! Reads past the pool's size wait their turn in arrival order (a fair semaphore, on the async
//! side, so a waiting read holds no thread, and no read is overtaken by later ones); the pool's
//! own wait is a condition variable that wakes whichever waiter the OS picks.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::backend::{open_reader, Store, StoreError, StoreUrl};

/// Reading handles kept open at most. Past this, a read waits for a handle to come back.
pub const READERS_MAX: u32 = 8;
/// How long a read waits for a free handle before it fails as unavailable.
const CHECKOUT_WAIT: Duration = Duration::from_secs(30);

/// Reading handles on one store; cheap to clone (one pool).
#[derive(Clone)]
pub struct Readers {
    pool: r2d2::Pool<Opener>,
    /// One permit per handle: `read` takes one before it takes a handle.
    turns: Arc<Semaphore>,
}

/// A checked-out handle; it goes back to the pool when dropped.
pub type Reader = r2d2::PooledConnection<Opener>;

impl Readers {
    /// Opens one handle now (so a store that cannot be reached fails here, at start) and the
    /// rest on demand, up to `max`.
    pub fn open(url: &StoreUrl, max: u32) -> Result<Readers, StoreError> {
        assert!(max >= 1, "a pool of readers needs at least one");
        let pool = r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(1))
            // A handle is checked by use: `has_broken` drops one whose connection closed.
            .test_on_check_out(false)
            .connection_timeout(CHECKOUT_WAIT)
            .build(Opener { url: url.clone() })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Readers {
            pool,
            turns: Arc::new(Semaphore::new(max as usize)),
        })
    }

    /// Runs `read` on a handle of its own, on a blocking thread, once its turn has come.
    pub async fn read<T, E>(
        &self,
        read: impl FnOnce(&mut dyn Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the pool of readers is closed".into()))?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut handle = pool.get().map_err(unavailable)?;
            let result = read(handle.as_mut());
            drop(handle);
            drop(turn);
            result
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("read task failed: {e}")))?
    }

    /// A handle taken on the calling thread, for tools and tests: it skips the queue of `read`.
    pub fn get(&self) -> Result<Reader, StoreError> {
        self.pool.get().map_err(unavailable)
    }

    /// Handles open now, and of those how many are idle.
    pub fn state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }
}

fn unavailable(error: r2d2::Error) -> StoreError {
    StoreError::Unavailable(format!("no reader free: {error}"))
}

/// Opens reading handles for the pool.
pub struct Opener {
    url: StoreUrl,
}

impl r2d2::ManageConnection for Opener {
    type Connection = Box<dyn Store>;
    type Error = StoreError;

    fn connect(&self) -> Result<Box<dyn Store>, StoreError> {
        open_reader(&self.url)
    }

    fn is_valid(&self, store: &mut Box<dyn Store>) -> Result<(), StoreError> {
        store.applied().map(|_| ())
    }

    fn has_broken(&self, store: &mut Box<dyn Store>) -> bool {
        store.is_broken()
    }
}
