//! `paycore bench store`: how fast the query store follows the ledger, how long a day-end cut
//! takes over many accounts, and how fast one account's statement comes back among millions of
//! journal entries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use paycore_engine::Engine;
use paycore_ledger::{Command, Op, BATCH_COMMANDS_MAX};
use paycore_store::{open_store, EntryQuery, Projector, StoreUrl};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::engine::{build_batches, open_engine, setup, Traffic};

#[derive(clap::Args, Debug, Clone)]
pub struct StoreBenchArgs {
    /// Transfers posted before the projection starts.
    #[arg(long, default_value_t = 1_000_000)]
    pub transfers: usize,
    /// Accounts (each opened and funded first).
    #[arg(long, default_value_t = 100_000)]
    pub accounts: u32,
    /// Query store URL (an empty database); default: a SQLite file in a temporary directory.
    #[arg(long)]
    pub store: Option<String>,
    /// Statement queries to time.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
}

pub fn run(args: StoreBenchArgs) -> anyhow::Result<()> {
    // PAYCORE_LOG=paycore_store=debug shows where each store transaction spends its time.
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-store-")
        .tempdir_in(".")?;
    let engine = Arc::new(open_engine(&temp.path().join("data"), 0)?);
    let url = args.store.as_deref().map_or_else(
        || StoreUrl::Sqlite(temp.path().join("store.sqlite")),
        StoreUrl::parse,
    );
    println!(
        "paycore bench store: {} transfers over {} accounts into {url:?}",
        args.transfers, args.accounts
    );

    let posted = Instant::now();
    let commands = post(&engine, args.accounts, args.transfers)?;
    println!("posted     {commands} commands in {:.2?}", posted.elapsed());
    let entries = engine.read(|l| l.next_entry_seq() - 1);

    let durable = {
        let engine = engine.clone();
        Arc::new(move || engine.metrics().durable_sequence)
    };
    let started = Instant::now();
    let cpu_before = process_cpu();
    let mut projector = Projector::start(temp.path().join("data"), open_store(&url)?, durable);
    anyhow::ensure!(
        projector.wait_for(
            engine.metrics().durable_sequence,
            Duration::from_secs(3_600)
        ),
        "projection did not finish"
    );
    let elapsed = started.elapsed();
    let cpu = process_cpu() - cpu_before;
    println!(
        "projected  {commands} commands ({} transfers, {entries} journal entries) in {elapsed:.2?} = {:.0} commands/s, {:.0} entries/s",
        args.transfers,
        commands as f64 / elapsed.as_secs_f64(),
        entries as f64 / elapsed.as_secs_f64(),
    );
    // The accounts' opening and funding are projected in the same time: a floor.
    println!(
        "           {:.0} transfers/s (the setup's {} commands projected in the same time)",
        args.transfers as f64 / elapsed.as_secs_f64(),
        commands - args.transfers
    );
    // This machine's wall clock is noisy (shared cores); CPU time per command is steadier.
    println!(
        "           CPU {cpu:.2?} in this process ({:.2} µs per command; a database server's own CPU is not included)",
        cpu.as_secs_f64() * 1e6 / commands as f64
    );

    let date = engine.read(|l| l.accounting_date());
    let cut = Instant::now();
    let id = engine
        .hasher()
        .client_id(&format!("bench-day-end-{date}"))?;
    engine.submit_blocking(vec![Command::new(
        id,
        Op::DayEnd { date },
        &engine.hasher(),
    )])?;
    anyhow::ensure!(
        projector.wait_for(engine.metrics().durable_sequence, Duration::from_secs(600)),
        "day-end not projected"
    );
    println!(
        "day-end    {} accounts cut and projected in {:.2?}",
        args.accounts + 1,
        cut.elapsed()
    );
    projector.stop();

    let mut reader = open_store(&url)?;
    let mut rng = SmallRng::seed_from_u64(9);
    let mut latencies = Vec::with_capacity(args.queries);
    for _ in 0..args.queries {
        let account = rng.gen_range(1..=u64::from(args.accounts));
        let start = Instant::now();
        let page = reader.entries(&EntryQuery {
            account_id: Some(account),
            limit: 100,
            ..Default::default()
        })?;
        latencies.push(start.elapsed());
        anyhow::ensure!(!page.is_empty(), "account {account} has entries");
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!("statement  first 100 entries of one account among {entries}: p50 {:.2?} p99 {:.2?} max {:.2?}", pct(0.5), pct(0.99), latencies[latencies.len() - 1]);
    Ok(())
}

/// Opens and funds the accounts, then posts the transfers; returns the commands posted.
pub(crate) fn post(engine: &Engine, accounts: u32, transfers: usize) -> anyhow::Result<usize> {
    setup(engine, accounts)?;
    let traffic = Traffic {
        transfers,
        accounts,
        batch: BATCH_COMMANDS_MAX,
        hot: false,
        hot_account: 1,
    };
    for batch in build_batches(engine, &traffic, "t") {
        engine.submit_blocking(batch)?;
    }
    // The settlement account, the customers, one funding deposit each, then the traffic.
    Ok(1 + 2 * accounts as usize + transfers)
}

/// User + system CPU time this process has used so far.
fn process_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    time(usage.ru_utime) + time(usage.ru_stime)
}
