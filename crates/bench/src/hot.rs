//! `paycore bench hot`: a hot account end to end. The same transfers run uniformly, with every
//! one crediting one account, and the same with that account on buffered posting (缓冲记账),
//! through the engine and into the query store, side by side; then the classic database answer
//! — PostgreSQL with `SELECT … FOR UPDATE` row locks — runs the uniform and hot workloads as a
//! baseline, and the ratios are printed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use paycore_ledger::BATCH_COMMANDS_MAX;
use paycore_store::{open_store, EntryQuery, Projector, StoreUrl};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::engine::{buffer_hot_account, build_batches, drive, open_engine, setup, Traffic};

/// The account every hot transfer credits (the first customer the setup opens).
const HOT_ACCOUNT: u64 = 1;

#[derive(clap::Args, Debug, Clone)]
pub struct HotBenchArgs {
    /// Transfers per scenario through paycore.
    #[arg(long, default_value_t = 1_000_000)]
    pub transfers: usize,
    /// Accounts the transfers run between.
    #[arg(long, default_value_t = 100_000)]
    pub accounts: u32,
    /// PostgreSQL for the row-lock baseline (a database the user may create tables in);
    /// without it the baseline is skipped.
    #[arg(long, env = "PAYCORE_BENCH_POSTGRES")]
    pub postgres: Option<String>,
    /// Transfers per scenario in the PostgreSQL baseline.
    #[arg(long, default_value_t = 20_000)]
    pub pg_transfers: usize,
    /// Concurrent PostgreSQL sessions (each one transfer per transaction).
    #[arg(long, default_value_t = 16)]
    pub pg_clients: usize,
}

struct EndToEnd {
    posting: f64,
    end_to_end: f64,
    hot_rows: usize,
}

pub fn run(args: HotBenchArgs) -> anyhow::Result<()> {
    println!(
        "paycore bench hot: {} transfers over {} accounts, uniform vs all crediting account {HOT_ACCOUNT}, engine + query store (SQLite)",
        args.transfers, args.accounts
    );
    let uniform = end_to_end(&args, false, false)?;
    let hot = end_to_end(&args, true, false)?;
    let buffered = end_to_end(&args, true, true)?;
    for (name, r) in [
        ("uniform", &uniform),
        ("hot", &hot),
        ("buffered", &buffered),
    ] {
        println!(
            "{name:>8}: posting {:>10.0} transfers/s durable | end to end (posted and projected) {:>9.0} transfers/s | journal rows of account {HOT_ACCOUNT}: {}",
            r.posting, r.end_to_end, r.hot_rows
        );
    }
    println!(
        "   ratio: hot / uniform posting {:.2}, end to end {:.2}; buffered / uniform posting {:.2}, end to end {:.2}; hot-account rows without / with buffering {:.0}×",
        hot.posting / uniform.posting,
        hot.end_to_end / uniform.end_to_end,
        buffered.posting / uniform.posting,
        buffered.end_to_end / uniform.end_to_end,
        hot.hot_rows as f64 / buffered.hot_rows.max(1) as f64
    );
    let Some(url) = &args.postgres else {
        println!("postgres baseline skipped: pass --postgres URL (or PAYCORE_BENCH_POSTGRES)");
        return Ok(());
    };
    let pg_uniform = postgres_baseline(url, &args, false)?;
    let pg_hot = postgres_baseline(url, &args, true)?;
    println!(
        "postgres: {} sessions, one transfer per transaction with SELECT … FOR UPDATE: uniform {pg_uniform:.0} transfers/s, hot {pg_hot:.0} transfers/s (hot / uniform {:.2})",
        args.pg_clients,
        pg_hot / pg_uniform
    );
    println!(
        "   ratio: paycore / postgres, hot posting {:.1}×, hot end to end {:.1}×",
        hot.posting / pg_hot,
        hot.end_to_end / pg_hot
    );
    Ok(())
}

/// Posts the transfers while the projector follows into a fresh SQLite store; returns the
/// posting rate, the rate until the store has everything, and the hot account's rows.
/// `buffered`: the hot account posts its credits in aggregated flushes (default settings).
fn end_to_end(args: &HotBenchArgs, hot: bool, buffered: bool) -> anyhow::Result<EndToEnd> {
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-hot-")
        .tempdir_in(".")?;
    let data = temp.path().join("data");
    let engine = Arc::new(open_engine(&data, 0)?);
    setup(&engine, args.accounts)?;
    if buffered {
        buffer_hot_account(&engine)?;
    }
    let traffic = Traffic {
        transfers: args.transfers,
        accounts: args.accounts,
        batch: BATCH_COMMANDS_MAX,
        hot,
        hot_account: 1,
    };
    let batches = build_batches(&engine, &traffic, "t");
    let url = StoreUrl::Sqlite(temp.path().join("store.sqlite"));
    let durable = {
        let engine = engine.clone();
        Arc::new(move || engine.metrics().durable_sequence)
    };
    let before = hot_rows(&url)?;
    let mut projector = Projector::start(data, open_store(&url)?, durable);
    let started = Instant::now();
    let posted = drive(&engine, batches, 2)?;
    anyhow::ensure!(
        posted.rejected == 0,
        "{} transfers rejected",
        posted.rejected
    );
    anyhow::ensure!(
        projector.wait_for(
            engine.metrics().durable_sequence,
            Duration::from_secs(3_600)
        ),
        "the projection did not finish"
    );
    let end_to_end = started.elapsed();
    projector.stop();
    Ok(EndToEnd {
        posting: posted.transfers as f64 / posted.elapsed.as_secs_f64(),
        end_to_end: posted.transfers as f64 / end_to_end.as_secs_f64(),
        hot_rows: hot_rows(&url)? - before,
    })
}

/// Journal rows the store holds for the hot account (pages of 1,000).
fn hot_rows(url: &StoreUrl) -> anyhow::Result<usize> {
    let mut store = open_store(url)?;
    let (mut rows, mut from_seq) = (0, 0);
    loop {
        let page = store.entries(&EntryQuery {
            account_id: Some(HOT_ACCOUNT),
            from_seq,
            limit: 1_000,
            ..Default::default()
        })?;
        let Some(last) = page.last() else {
            return Ok(rows);
        };
        rows += page.len();
        from_seq = last.seq + 1;
    }
}

/// The row-lock baseline: accounts and a journal in PostgreSQL; each transfer locks both rows
/// (in id order, so sessions never deadlock), updates them and appends two journal rows, in
/// one committed transaction. Returns transfers per second.
fn postgres_baseline(url: &str, args: &HotBenchArgs, hot: bool) -> anyhow::Result<f64> {
    let mut admin = postgres::Client::connect(url, postgres::NoTls)
        .with_context(|| format!("connecting to {url}"))?;
    admin.batch_execute(
        "DROP TABLE IF EXISTS bench_hot_entries, bench_hot_accounts;
         CREATE TABLE bench_hot_accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL);
         CREATE TABLE bench_hot_entries (seq BIGSERIAL PRIMARY KEY, account_id BIGINT NOT NULL,
             amount BIGINT NOT NULL, balance_after BIGINT NOT NULL);
         CREATE INDEX ON bench_hot_entries (account_id, seq);",
    )?;
    admin.execute(
        "INSERT INTO bench_hot_accounts SELECT g, 1000000000 FROM generate_series(1, $1::BIGINT) g",
        &[&i64::from(args.accounts)],
    )?;
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..args.pg_clients.max(1))
            .map(|worker| {
                let next = &next;
                s.spawn(move || -> anyhow::Result<()> {
                    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
                    let lock = client.prepare("SELECT id, balance FROM bench_hot_accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE")?;
                    let update = client.prepare("UPDATE bench_hot_accounts SET balance = balance + $2 WHERE id = $1 RETURNING balance")?;
                    let journal = client.prepare("INSERT INTO bench_hot_entries (account_id, amount, balance_after) VALUES ($1, $2, $3), ($4, $5, $6)")?;
                    let mut rng = SmallRng::seed_from_u64(worker as u64);
                    let accounts = i64::from(args.accounts);
                    while next.fetch_add(1, Ordering::Relaxed) < args.pg_transfers {
                        let credit = if hot { HOT_ACCOUNT as i64 } else { rng.gen_range(1..=accounts) };
                        let mut debit = rng.gen_range(1..=accounts);
                        if debit == credit {
                            debit = debit % accounts + 1;
                        }
                        let amount = rng.gen_range(1..100i64);
                        let mut tx = client.transaction()?;
                        tx.query(&lock, &[&debit, &credit])?;
                        let after_debit: i64 = tx.query_one(&update, &[&debit, &-amount])?.get(0);
                        let after_credit: i64 = tx.query_one(&update, &[&credit, &amount])?.get(0);
                        tx.execute(&journal, &[&debit, &-amount, &after_debit, &credit, &amount, &after_credit])?;
                        tx.commit()?;
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("baseline session")?;
        }
        Ok(())
    })?;
    let rate = args.pg_transfers as f64 / started.elapsed().as_secs_f64();
    admin.batch_execute("DROP TABLE bench_hot_entries, bench_hot_accounts")?;
    Ok(rate)
}
