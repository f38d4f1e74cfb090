//! The journal part of the PostgreSQL store (entries, runs, flush members), written on a
//! connection of its own by the projector's second writer thread while the first writes
//! records, accounts and balances: the server works on both transactions at once. The journal
//! commits only after the main part has, so a reader's snapshot never holds an entry without
//! its record.

use postgres::{Client, Transaction};

use crate::backend::{commit_after_main, JournalWriter, Phases, StoreError};
use crate::postgres::{close, session};
use crate::postgres_chunks::{split, ENTRY_SPAN};
use crate::postgres_copy::copy_rows;
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

/// The journal as chunks of consecutive entries, one array per column (migration V8 says why).
fn copy_entries(tx: &mut Transaction<'_>, entries: &[EntryRow]) -> Result<(), StoreError> {
    // Nine numbers and three texts (each with its length word, at most).
    let size =
        |e: &EntryRow| 9 * 8 + 3 * 4 + e.client_id.len() + e.kind.len() + e.accounting_date.len();
    copy_rows(tx, "entry_chunks", &split(entries, size), |copy, chunk| {
        debug_assert!(chunk.windows(2).all(|w| w[0].seq < w[1].seq));
        let (first, last) = (chunk[0].seq, chunk[chunk.len() - 1].seq);
        if last - first >= ENTRY_SPAN {
            return Err(StoreError::Invalid(format!(
                "journal entries {first}..={last} are not dense: a chunk must span fewer than {ENTRY_SPAN} sequences"
            )));
        }
        let uint8 = |f: fn(&EntryRow) -> u64| chunk.iter().map(f);
        let int8 = |f: fn(&EntryRow) -> i64| chunk.iter().map(f);
        copy.row(13)?;
        copy.uint8(chunk[0].seq);
        copy.uint8_array(uint8(|e| e.seq));
        copy.uint8_array(uint8(|e| e.account_id));
        copy.uint8_array(uint8(|e| e.record_id));
        copy.text_array(chunk.iter().map(|e| e.client_id.as_str()));
        copy.text_array(chunk.iter().map(|e| &*e.kind));
        copy.uint8_array(uint8(|e| e.amount));
        copy.int8_array(int8(|e| e.balance_before));
        copy.int8_array(int8(|e| e.balance_after));
        copy.int8_array(int8(|e| e.frozen_after));
        copy.text_array(chunk.iter().map(|e| e.accounting_date.as_str()));
        copy.uint8_array(uint8(|e| e.timestamp));
        copy.uint8_array(uint8(|e| e.aggregated));
        Ok(())
    })
}

fn copy_runs(tx: &mut Transaction<'_>, runs: &[EntryRun]) -> Result<(), StoreError> {
    copy_rows(tx, "entry_runs", runs, |copy, run| {
        copy.row(4)?;
        copy.uint8(run.account_id);
        copy.uint8(run.last_seq);
        copy.text(&run.last_date);
        copy.uint8_array(run.seqs.iter().copied());
        Ok(())
    })
}

fn copy_flush_members(tx: &mut Transaction<'_>, members: &[(u64, u64)]) -> Result<(), StoreError> {
    copy_rows(
        tx,
        "flush_members",
        members,
        |copy, &(entry_seq, record_id)| {
            copy.row(2)?;
            copy.uint8(entry_seq);
            copy.uint8(record_id);
            Ok(())
        },
    )
}
