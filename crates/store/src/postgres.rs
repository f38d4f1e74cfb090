//! The PostgreSQL backend (`--store postgres://…`). Records are streamed with binary COPY
//! (`postgres_copy.rs`); accounts, holds, daily balances and day flows are upserted from arrays
//! (one statement each per transaction). The journal is written on a second connection
//! (`postgres_journal.rs`).

use postgres::types::ToSql;
use postgres::{Client, NoTls, Transaction};

use crate::backend::{postgres_migrations, Applied, JournalWriter, Phases, Store, StoreError};
use crate::postgres_entries::{account_entries, account_journal, journal_entries};
use crate::postgres_journal::PostgresJournalWriter;
use crate::postgres_records::{copy_records, flush_members, search};
use crate::projection::Projection;
use crate::rows::*;
use crate::shared;

pub struct PostgresStore {
    /// Always `Some` until dropped.
    client: Option<Client>,
    /// For the journal writer's own connection.
    url: String,
}

impl PostgresStore {
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let mut client = session(url)?;
        postgres_migrations::migrations::runner().run(&mut client)?;
        Ok(PostgresStore {
            client: Some(client),
            url: url.to_owned(),
        })
    }

    /// A reading handle on a store the writer has created and migrated.
    pub fn connect_reader(url: &str) -> Result<PostgresStore, StoreError> {
        let mut client = session(url)?;
        client.batch_execute("SET default_transaction_read_only = on")?;
        Ok(PostgresStore {
            client: Some(client),
            url: url.to_owned(),
        })
    }

    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("the client lives until drop")
    }
}

/// A connection with the store's session settings.
pub(crate) fn session(url: &str) -> Result<Client, StoreError> {
    let mut client = Client::connect(url, NoTls)?;
    // The store is derived from the log: a server crash may drop the last commits, and the
    // stored position with them, and the projector writes them again; so commits need not
    // wait for the server's WAL flush.
    client.batch_execute("SET synchronous_commit = off")?;
    // Compiling a plan costs more than running any of the store's queries does.
    client.batch_execute("SET jit = off")?;
    Ok(client)
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        close(self.client.take());
    }
}

/// The synchronous client blocks on its own runtime when it closes, which is not allowed on
/// an async runtime's thread; closes it on a thread of its own.
pub(crate) fn close(client: Option<Client>) {
    if let Some(client) = client {
        let _ = std::thread::spawn(move || drop(client)).join();
    }
}

fn update_accounts(tx: &mut Transaction<'_>, accounts: &[AccountRow]) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&AccountRow) -> i64| accounts.iter().map(f).collect::<Vec<i64>>();
    let status: Vec<&str> = accounts.iter().map(|a| a.status.as_str()).collect();
    tx.execute(
        "UPDATE accounts a SET balance = u.balance, frozen = u.frozen, status = u.status, pending_credit = u.pending_credit \
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[]) AS u(id, balance, frozen, status, pending_credit) \
         WHERE a.id = u.id",
        &[
            &column(|a| a.id as i64), &column(|a| a.balance), &column(|a| a.frozen), &status,
            &column(|a| a.pending_credit),
        ],
    )?;
    Ok(())
}

fn insert_accounts(tx: &mut Transaction<'_>, accounts: &[AccountRow]) -> Result<(), StoreError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&AccountRow) -> i64| accounts.iter().map(f).collect::<Vec<i64>>();
    let text = |f: fn(&AccountRow) -> &str| {
        accounts
            .iter()
            .map(|a| f(a).to_owned())
            .collect::<Vec<String>>()
    };
    let flags: Vec<i16> = accounts
        .iter()
        .map(|a| i16::from(a.allow_negative))
        .collect();
    tx.execute(
        "INSERT INTO accounts SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::smallint[], $9::text[], $10::bigint[], $11::text[], $12::bigint[])",
        &[
            &column(|a| a.id as i64), &text(|a| &a.account_no), &text(|a| &a.account_type), &text(|a| &a.currency),
            &column(|a| a.balance), &column(|a| a.frozen), &text(|a| &a.status), &flags, &text(|a| &a.reference),
            &column(|a| a.opened_at as i64), &text(|a| &a.opened_by), &column(|a| a.pending_credit),
        ],
    )?;
    Ok(())
}

fn upsert_holds(tx: &mut Transaction<'_>, holds: &[HoldRow]) -> Result<(), StoreError> {
    if holds.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&HoldRow) -> i64| holds.iter().map(f).collect::<Vec<i64>>();
    let client_ids: Vec<String> = holds.iter().map(|h| h.client_id.clone()).collect();
    let statuses: Vec<String> = holds.iter().map(|h| h.status.clone()).collect();
    let expiries: Vec<Option<i64>> = holds
        .iter()
        .map(|h| h.expires_at.map(|t| t as i64))
        .collect();
    tx.execute(
        "INSERT INTO holds SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[]) \
         ON CONFLICT (hold_id) DO UPDATE SET remaining = EXCLUDED.remaining, captured = EXCLUDED.captured, status = EXCLUDED.status",
        &[
            &column(|h| h.hold_id as i64), &client_ids, &column(|h| h.account_id as i64), &column(|h| h.amount as i64),
            &column(|h| h.remaining as i64), &column(|h| h.captured as i64), &statuses, &expiries, &column(|h| h.record_id as i64),
        ],
    )?;
    Ok(())
}

/// Daily balances: rows the store has are updated in place; the others go through ON CONFLICT,
/// whose speculative insert costs the server ~40% more per row (100k rows: 0.77 s of its CPU
/// against 0.55 s).
fn write_daily(tx: &mut Transaction<'_>, daily: &[DailyDelta]) -> Result<(), StoreError> {
    let (stored, others): (Vec<&DailyDelta>, Vec<&DailyDelta>) =
        daily.iter().partition(|d| d.stored);
    let updated = daily_statement(
        tx,
        &stored,
        "UPDATE daily_balances b SET debits = b.debits + u.debits, credits = b.credits + u.credits, \
         closing = u.closing, entries = b.entries + u.entries FROM unnest($1::bigint[], $2::text[], $3::bigint[], \
         $4::text[]::numeric[], $5::text[]::numeric[], $6::bigint[], $7::bigint[]) AS u(account_id, accounting_date, opening, debits, credits, closing, entries) \
         WHERE b.account_id = u.account_id AND b.accounting_date = u.accounting_date",
    )?;
    if updated != stored.len() as u64 {
        // Not a row this builder wrote: the projection starts over (and upserts).
        return Err(StoreError::Invalid(format!(
            "{} of {} daily balance rows to update are missing",
            stored.len() as u64 - updated,
            stored.len()
        )));
    }
    daily_statement(
        tx,
        &others,
        "INSERT INTO daily_balances SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]::numeric[], $5::text[]::numeric[], $6::bigint[], $7::bigint[]) \
         ON CONFLICT (account_id, accounting_date) DO UPDATE SET debits = daily_balances.debits + EXCLUDED.debits, \
         credits = daily_balances.credits + EXCLUDED.credits, closing = EXCLUDED.closing, entries = daily_balances.entries + EXCLUDED.entries",
    )?;
    Ok(())
}

/// Runs `sql` with the deltas as seven arrays; the rows it changed.
fn daily_statement(
    tx: &mut Transaction<'_>,
    daily: &[&DailyDelta],
    sql: &str,
) -> Result<u64, StoreError> {
    if daily.is_empty() {
        return Ok(0);
    }
    let column = |f: fn(&DailyDelta) -> i64| daily.iter().map(|d| f(d)).collect::<Vec<i64>>();
    // NUMERIC has no Rust type here: the turnover goes as decimal text, cast in the SQL.
    let wide = |f: fn(&DailyDelta) -> i128| {
        daily
            .iter()
            .map(|d| f(d).to_string())
            .collect::<Vec<String>>()
    };
    let dates: Vec<&str> = daily.iter().map(|d| d.accounting_date.as_str()).collect();
    Ok(tx.execute(
        sql,
        &[
            &column(|d| d.account_id as i64),
            &dates,
            &column(|d| d.opening),
            &wide(|d| d.debits),
            &wide(|d| d.credits),
            &column(|d| d.closing),
            &column(|d| d.entries),
        ],
    )?)
}

fn write_days(tx: &mut Transaction<'_>, p: &Projection) -> Result<(), StoreError> {
    for f in &p.flows {
        tx.execute(
            "INSERT INTO day_flows VALUES ($1, $2, $3, $4::text::numeric, $5::text::numeric, $6) ON CONFLICT (accounting_date, account_type, currency) DO UPDATE SET \
             debits = day_flows.debits + EXCLUDED.debits, credits = day_flows.credits + EXCLUDED.credits, entries = day_flows.entries + EXCLUDED.entries",
            &[&f.accounting_date, &f.account_type, &f.currency, &f.debits.to_string(), &f.credits.to_string(), &f.entries],
        )?;
    }
    for c in &p.closings {
        tx.execute(
            "INSERT INTO day_closings VALUES ($1, $2, $3, $4, $5::text::numeric)",
            &[
                &c.accounting_date,
                &c.account_type,
                &c.currency,
                &c.accounts,
                &c.closing.to_string(),
            ],
        )?;
    }
    for s in &p.suspense {
        tx.execute(
            "INSERT INTO day_suspense VALUES ($1, $2, $3)",
            &[&s.accounting_date, &(s.account_id as i64), &s.balance],
        )?;
    }
    Ok(())
}

/// Dynamic WHERE clauses with numbered parameters.
#[derive(Default)]
pub(crate) struct Filter {
    pub sql: String,
    args: Vec<Box<dyn ToSql + Sync>>,
}

impl Filter {
    pub fn push(&mut self, clause: &str, value: impl ToSql + Sync + 'static) {
        self.args.push(Box::new(value));
        self.sql
            .push_str(&clause.replace('?', &format!("${}", self.args.len())));
    }

    /// SQL without a parameter.
    pub fn push_sql(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Narrows the query to the accounting dates from `from` to `to` (either may be open).
    pub fn date_range(&mut self, column: &str, from: &Option<String>, to: &Option<String>) {
        for (bound, op) in [(from, ">="), (to, "<=")] {
            if let Some(date) = bound {
                self.push(&format!(" AND {column} {op} ?"), date.clone());
            }
        }
    }

    pub fn args(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args.iter().map(|a| a.as_ref()).collect()
    }
}

impl Store for PostgresStore {
    fn applied(&mut self) -> Result<Option<Applied>, StoreError> {
        let row = self.client().query_opt("SELECT applied_sequence, applied_timestamp, accounting_date FROM projection_state WHERE id = 1", &[])?;
        Ok(row.map(|r| Applied {
            sequence: r.get::<_, i64>(0) as u64,
            timestamp: r.get::<_, i64>(1) as u64,
            accounting_date: r.get(2),
        }))
    }

    fn journal_applied(&mut self) -> Result<u64, StoreError> {
        let sql = "SELECT applied_sequence FROM journal_state WHERE id = 1";
        let row = self.client().query_opt(sql, &[])?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    fn stores_entry_client_ids(&self) -> bool {
        true
    }

    fn journal_writer(&mut self) -> Result<Box<dyn JournalWriter>, StoreError> {
        Ok(Box::new(PostgresJournalWriter::connect(&self.url)?))
    }

    fn apply_main(&mut self, p: &Projection) -> Result<(), StoreError> {
        let mut tx = self.client().transaction()?;
        let mut phases = Phases::start();
        copy_records(&mut tx, &p.records)?;
        phases.mark("records");
        insert_accounts(&mut tx, &p.new_accounts)?;
        update_accounts(&mut tx, &p.accounts)?;
        phases.mark("accounts");
        upsert_holds(&mut tx, &p.holds)?;
        write_daily(&mut tx, &p.daily)?;
        write_days(&mut tx, p)?;
        tx.execute(
            "INSERT INTO projection_state VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
             applied_sequence = EXCLUDED.applied_sequence, applied_timestamp = EXCLUDED.applied_timestamp, accounting_date = EXCLUDED.accounting_date",
            &[&(p.last_sequence as i64), &(p.last_timestamp as i64), &p.accounting_date],
        )?;
        phases.mark("the rest");
        tx.commit()?;
        phases.mark("commit");
        phases.log("main", p);
        Ok(())
    }

    fn account_id(&mut self, account_no: &str) -> Result<Option<u64>, StoreError> {
        shared::account_id(self.client(), account_no)
    }

    fn account(&mut self, id: u64) -> Result<Option<AccountRow>, StoreError> {
        shared::account(self.client(), id)
    }

    fn entries(&mut self, q: &EntryQuery) -> Result<Vec<EntryRow>, StoreError> {
        match q.account_id {
            Some(account) => account_entries(self.client(), account, q),
            None => journal_entries(self.client(), q),
        }
    }

    fn flush_members(&mut self, entry_seq: u64) -> Result<Vec<RecordRow>, StoreError> {
        flush_members(self.client(), entry_seq)
    }

    fn records(&mut self, q: &RecordQuery) -> Result<Vec<RecordRow>, StoreError> {
        search(self.client(), q)
    }

    fn holds(&mut self, q: &HoldQuery) -> Result<Vec<HoldRow>, StoreError> {
        shared::holds(self.client(), q)
    }

    fn daily_rows(
        &mut self,
        account_id: u64,
        from: &str,
        to: &str,
    ) -> Result<Vec<DailyRow>, StoreError> {
        shared::daily_rows(self.client(), account_id, from, to)
    }

    fn closing_before(&mut self, account_id: u64, date: &str) -> Result<Option<i64>, StoreError> {
        shared::closing_before(self.client(), account_id, date)
    }

    fn day_flows(&mut self, date: &str) -> Result<Vec<DayFlow>, StoreError> {
        shared::day_flows(self.client(), date)
    }

    fn day_closings(&mut self, date: &str) -> Result<Vec<DayClosing>, StoreError> {
        shared::day_closings(self.client(), date)
    }

    fn day_suspense(&mut self, date: &str) -> Result<Vec<SuspenseRow>, StoreError> {
        shared::day_suspense(self.client(), date)
    }

    fn journal_sums(&mut self, seq_end: u64) -> Result<Vec<(u64, i64, u64)>, StoreError> {
        shared::journal_sums(self.client(), seq_end)
    }

    fn first_broken_entry(&mut self, account_id: u64) -> Result<Option<EntryRow>, StoreError> {
        Ok(first_broken(account_journal(self.client(), account_id)?))
    }

    fn execute_raw(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client().batch_execute(sql)?;
        Ok(())
    }

    fn is_broken(&self) -> bool {
        self.client.as_ref().is_none_or(Client::is_closed)
    }
}
