//! The journal part of the PostgreSQL store (entries, runs, flush members), written on a
//! connection of its own by the projector's second writer thread while the first writes
//! records, accounts and balances: the server works on both transactions at once. The journal
//! commits only after the main part has, so a reader's snapshot never holds an entry without
//! its record.

use std::fmt::Write as _;

use postgres::{Client, Transaction};

use crate::backend::{commit_after_main, JournalWriter, Phases, StoreError};
use crate::postgres::{close, copy, session};
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
    let mut text = String::with_capacity(entries.len() * 96);
    for e in entries {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            e.seq,
            e.account_id,
            e.record_id,
            e.kind,
            e.amount,
            e.balance_before,
            e.balance_after,
            e.frozen_after,
            e.accounting_date,
            e.timestamp,
            e.aggregated
        );
    }
    copy(tx, "COPY entries FROM STDIN", &text)
}

fn copy_runs(tx: &mut Transaction<'_>, runs: &[EntryRun]) -> Result<(), StoreError> {
    let mut text = String::with_capacity(runs.len() * 64);
    for run in runs {
        let _ = write!(
            text,
            "{}\t{}\t{}\t{{",
            run.account_id, run.last_seq, run.last_date
        );
        for (index, seq) in run.seqs.iter().enumerate() {
            let _ = write!(text, "{}{seq}", if index > 0 { "," } else { "" });
        }
        text.push_str("}\n");
    }
    copy(tx, "COPY entry_runs FROM STDIN", &text)
}

fn copy_flush_members(tx: &mut Transaction<'_>, members: &[(u64, u64)]) -> Result<(), StoreError> {
    if members.is_empty() {
        return Ok(());
    }
    let mut text = String::with_capacity(members.len() * 24);
    for (entry_seq, record_id) in members {
        let _ = writeln!(text, "{entry_seq}\t{record_id}");
    }
    copy(tx, "COPY flush_members FROM STDIN", &text)
}
