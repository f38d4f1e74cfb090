//! The journal part of the PostgreSQL store (entries, runs, flush members), written on a
//! connection of its own by the projector's second writer thread while the first writes
//! records, accounts and balances: the server works on both transactions at once. The journal
//! commits only after the main part has, so a reader's snapshot never holds an entry without
//! its record.

use postgres::types::Type;
use postgres::{Client, Transaction};

use crate::backend::{commit_after_main, sql_u64, JournalWriter, Phases, StoreError};
use crate::postgres::{close, copy_binary, session};
use crate::projection::Projection;
use crate::rows::*;

pub(crate) struct PostgresJournalWriter {
    /// Always `Some` until dropped.
    client: Option<Client>,
}

impl PostgresJournalWriter {
    pub(crate) fn connect(url: &str) -> Result<PostgresJournalWriter, StoreError> {
        Ok(PostgresJournalWriter {
            client: Some(session(url)?),
        })
    }
}

impl Drop for PostgresJournalWriter {
    fn drop(&mut self) {
        close(self.client.take());
    }
}

impl JournalWriter for PostgresJournalWriter {
    fn apply(
        &mut self,
        p: &Projection,
        main_committed: &mut dyn FnMut() -> bool,
    ) -> Result<(), StoreError> {
        let client = self.client.as_mut().expect("the client lives until drop");
        let mut tx = client.transaction()?;
        let mut phases = Phases::start();
        copy_entries(&mut tx, &p.entries)?;
        phases.mark("entries");
        copy_runs(&mut tx, &p.runs)?;
        phases.mark("runs");
        copy_flush_members(&mut tx, &p.flush_members)?;
        tx.execute(
            "INSERT INTO journal_state VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET applied_sequence = EXCLUDED.applied_sequence",
            &[&(p.last_sequence as i64)],
        )?;
        phases.mark("the rest");
        commit_after_main(main_committed, phases, p, || Ok(tx.commit()?))?;
        Ok(())
    }
}

fn copy_entries(tx: &mut Transaction<'_>, entries: &[EntryRow]) -> Result<(), StoreError> {
    use Type as T;
    let types = [
        T::INT8,
        T::INT8,
        T::INT8,
        T::TEXT,
        T::INT8,
        T::INT8,
        T::INT8,
        T::INT8,
        T::TEXT,
        T::INT8,
        T::INT8,
    ];
    copy_binary(tx, "entries", &types, entries, |e, write| {
        write(&[
            &sql_u64(e.seq),
            &sql_u64(e.account_id),
            &sql_u64(e.record_id),
            &e.kind.as_ref(),
            &sql_u64(e.amount),
            &e.balance_before,
            &e.balance_after,
            &e.frozen_after,
            &e.accounting_date,
            &sql_u64(e.timestamp),
            &sql_u64(e.aggregated),
        ])
    })
}

fn copy_runs(tx: &mut Transaction<'_>, runs: &[EntryRun]) -> Result<(), StoreError> {
    let types = [Type::INT8, Type::INT8, Type::TEXT, Type::INT8_ARRAY];
    copy_binary(tx, "entry_runs", &types, runs, |run, write| {
        let seqs: Vec<i64> = run.seqs.iter().map(|&seq| sql_u64(seq)).collect();
        write(&[
            &sql_u64(run.account_id),
            &sql_u64(run.last_seq),
            &run.last_date,
            &seqs,
        ])
    })
}

fn copy_flush_members(tx: &mut Transaction<'_>, members: &[(u64, u64)]) -> Result<(), StoreError> {
    let types = [Type::INT8, Type::INT8];
    copy_binary(
        tx,
        "flush_members",
        &types,
        members,
        |(entry_seq, record_id), write| write(&[&sql_u64(*entry_seq), &sql_u64(*record_id)]),
    )
}
