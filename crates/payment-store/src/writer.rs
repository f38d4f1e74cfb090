//! The group-commit writer: one thread owns the write connection and a state `S` of the
//! caller's (the payment service keeps its router there). Callers hand it jobs; it drains
//! every job waiting into one transaction, runs them in order, lets the state write what it
//! batched (`before_commit`), commits once (one fsync for all), and only then answers each
//! job. So concurrency turns into bigger transactions, jobs are serialised (a job sees every
//! earlier job's writes and nothing runs between its read and its write), and nothing a
//! caller was told is lost.
//!
//! If a job fails (a store error: its statement failed, or the data read is corrupt) or the
//! commit fails, the whole transaction fails: every job in it is answered with that error,
//! and the state is rebuilt from the database (`init`), as its in-memory changes were rolled
//! back with the rows. One rule for both backends: PostgreSQL aborts a transaction at the
//! first failed statement anyway, and a job that failed halfway may have written half.

use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::sql::{Connection, Sql};
use crate::StoreError;

/// Most jobs in one transaction.
pub const JOBS_PER_TRANSACTION_MAX: usize = 4_096;

type Done = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A job runs with the state and the transaction, or is told (`None`) that it will not run
/// (the transaction could not start, or an earlier job in it failed); either way it gives
/// back its own error, if it failed, and how to answer it.
type Job<S> = Box<dyn FnOnce(Option<(&mut S, &mut dyn Sql)>) -> (Option<StoreError>, Done) + Send>;

/// Builds the writer's state from the database (at start and after a failed transaction).
pub type Init<S> = Box<dyn FnMut(&mut dyn Sql) -> Result<S, StoreError> + Send>;
/// Writes what the state batched during a transaction, just before its commit.
pub type BeforeCommit<S> = Box<dyn FnMut(&mut S, &mut dyn Sql) -> Result<(), StoreError> + Send>;

pub struct Writer<S> {
    jobs: Option<mpsc::Sender<Job<S>>>,
    thread: Option<JoinHandle<()>>,
}

impl<S: Send + 'static> Writer<S> {
    /// Builds the state and starts the writer thread on `conn`.
    pub fn start(
        mut conn: Box<dyn Connection>,
        mut init: Init<S>,
        before_commit: BeforeCommit<S>,
    ) -> Result<Writer<S>, StoreError> {
        let state = init(conn.sql())?;
        let (jobs, queue) = mpsc::channel::<Job<S>>();
        let thread = std::thread::Builder::new()
            .name("payment-writer".into())
            .spawn(move || {
                let mut thread = WriterThread {
                    conn,
                    state,
                    init,
                    before_commit,
                };
                thread.run(queue)
            })
            .map_err(|e| StoreError::Invalid(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `job` in the next transaction and returns its result once that committed. A job
    /// that returns an error fails its whole transaction, so refusals the caller expects
    /// (a duplicate id, a closed trade) belong in `R`, not in the error.
    pub async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut S, &mut dyn Sql) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(job, reply)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Like `run`, for plain threads (not from inside an async runtime).
    pub fn run_blocking<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut S, &mut dyn Sql) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.submit(job, reply)?;
        answer.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    fn submit<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut S, &mut dyn Sql) -> Result<R, StoreError> + Send + 'static,
        reply: tokio::sync::oneshot::Sender<Result<R, StoreError>>,
    ) -> Result<(), StoreError> {
        let job: Job<S> = Box::new(move |context| {
            let result = context.map(|(state, sql)| job(state, sql));
            let failed = match &result {
                Some(Err(error)) => Some(error.clone()),
                _ => None,
            };
            let done: Done = Box::new(move |committed: Result<(), StoreError>| {
                let answer = match (committed, result) {
                    (Ok(()), Some(result)) => result,
                    (Err(error), _) => Err(error),
                    (Ok(()), None) => Err(StoreError::Closed),
                };
                let _ = reply.send(answer);
            });
            (failed, done)
        });
        self.jobs
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(job)
            .map_err(|_| StoreError::Closed)
    }

    /// Finishes the jobs already handed over, then stops the thread.
    pub fn stop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the payment writer thread panicked");
            }
        }
    }
}

impl<S> Drop for Writer<S> {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct WriterThread<S> {
    conn: Box<dyn Connection>,
    state: S,
    init: Init<S>,
    before_commit: BeforeCommit<S>,
}

impl<S> WriterThread<S> {
    fn run(&mut self, queue: mpsc::Receiver<Job<S>>) {
        while let Ok(first) = queue.recv() {
            let mut batch = vec![first];
            while batch.len() < JOBS_PER_TRANSACTION_MAX {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.transaction(batch);
        }
    }

    fn transaction(&mut self, batch: Vec<Job<S>>) {
        let mut done = Vec::with_capacity(batch.len());
        let result = self.run_batch(batch, &mut done);
        let result = match result {
            Ok(()) => Ok(()),
            Err(error) => {
                tracing::error!(%error, jobs = done.len(), "payment store transaction failed");
                if let Err(rollback) = self.conn.rollback() {
                    tracing::error!(error = %rollback, "rollback failed");
                }
                self.rebuild_state();
                Err(error)
            }
        };
        for reply in done {
            reply(result.clone());
        }
    }

    fn run_batch(&mut self, batch: Vec<Job<S>>, done: &mut Vec<Done>) -> Result<(), StoreError> {
        if let Err(error) = self.conn.begin(false) {
            // Every job is still answered: none runs, all fail with the error.
            done.extend(batch.into_iter().map(|job| job(None).1));
            return Err(error);
        }
        let mut failed = None;
        for job in batch {
            if failed.is_some() {
                done.push(job(None).1);
                continue;
            }
            let (error, answer) = job(Some((&mut self.state, self.conn.sql())));
            done.push(answer);
            failed = error;
        }
        if let Some(error) = failed {
            return Err(error);
        }
        (self.before_commit)(&mut self.state, self.conn.sql())?;
        self.conn.commit()
    }

    fn rebuild_state(&mut self) {
        match (self.init)(self.conn.sql()) {
            Ok(state) => self.state = state,
            Err(error) => tracing::error!(%error, "rebuilding the payment writer's state failed"),
        }
    }
}
