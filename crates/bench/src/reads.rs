//! `paycore bench reads`: account statements (账户流水) under concurrent readers, on a store that
//! is idle, that the projector is writing into, and that a verify scan is reading in full.
//!
//! Each cell runs `c` readers for `--seconds` — tasks on an async runtime reading through
//! `Readers::read`, the server's own path to the store — each asking the first 100 entries of
//! a random account, through a pool of `p` reading handles. `p = 1` is one shared handle, as the
//! server had before its readers were pooled: every read queues behind the one in progress,
//! including a verify scan. The pool size the server uses (`READERS_MAX`) is measured beside it
//! in the same run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use paycore_engine::Engine;
use paycore_ledger::BATCH_COMMANDS_MAX;
use paycore_store::{open_store, EntryQuery, Projector, Readers, StoreUrl, READERS_MAX};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::engine::{build_batches, open_engine, Traffic};
use crate::store::post;

#[derive(clap::Args, Debug, Clone)]
pub struct ReadsBenchArgs {
    /// Transfers posted before the readers start.
    #[arg(long, default_value_t = 1_000_000)]
    pub transfers: usize,
    /// Accounts (each opened and funded first).
    #[arg(long, default_value_t = 10_000)]
    pub accounts: u32,
    /// Query store URL (an empty database); default: a SQLite file in a temporary directory.
    #[arg(long)]
    pub store: Option<String>,
    /// Seconds per cell.
    #[arg(long, default_value_t = 3)]
    pub seconds: u64,
    /// Concurrent readers, one cell each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    pub readers: Vec<usize>,
    /// Pool sizes to compare, one set of cells each (1 is one shared handle).
    #[arg(long, value_delimiter = ',', default_values_t = [1, READERS_MAX])]
    pub pools: Vec<u32>,
    /// Transfers per second posted while the projector writes.
    #[arg(long, default_value_t = 20_000)]
    pub write_rate: u64,
}

/// What else the store is doing while the readers read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Load {
    Idle,
    Projecting,
    Verifying,
}

impl Load {
    fn name(self) -> &'static str {
        match self {
            Load::Idle => "idle",
            Load::Projecting => "projector writing",
            Load::Verifying => "verify scanning",
        }
    }
}

pub fn run(args: ReadsBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.readers.iter().all(|&c| c >= 1),
        "--readers must be ≥ 1"
    );
    anyhow::ensure!(args.pools.iter().all(|&p| p >= 1), "--pools must be ≥ 1");
    let runtime = crate::payments::runtime("bench-reads", 2)?;
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-reads-")
        .tempdir_in(".")?;
    let data = temp.path().join("data");
    let engine = Arc::new(open_engine(&data, 0)?);
    let url = args.store.as_deref().map_or_else(
        || StoreUrl::Sqlite(temp.path().join("store.sqlite")),
        StoreUrl::parse,
    );
    println!(
        "paycore bench reads: {} transfers over {} accounts into {url:?}; {} s per cell",
        args.transfers, args.accounts, args.seconds
    );
    post(&engine, args.accounts, args.transfers)?;
    let durable = {
        let engine = engine.clone();
        Arc::new(move || engine.metrics().durable_sequence)
    };
    let mut projector = Projector::start(data, open_store(&url)?, durable);
    anyhow::ensure!(
        projector.wait_for(
            engine.metrics().durable_sequence,
            Duration::from_secs(3_600)
        ),
        "projection did not finish"
    );
    let entries = engine.read(|l| l.next_entry_seq() - 1);
    println!(
        "projected  {entries} journal entries; statement = first 100 entries of a random account"
    );
    println!(
        "{:<18} {:>5} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "load", "pool", "readers", "reads/s", "p50", "p99", "max"
    );
    let mut round = 0;
    for load in [Load::Idle, Load::Projecting, Load::Verifying] {
        for &pool in &args.pools {
            let readers = Readers::open(&url, pool)?;
            for &concurrency in &args.readers {
                round += 1;
                let background = Background::start(load, &engine, &readers, &args, round, &runtime);
                let cell = runtime.block_on(read_for(&readers, concurrency, &args))?;
                let done = background.stop()?;
                print_cell(load, pool, concurrency, &cell, done);
            }
        }
    }
    projector.stop();
    Ok(())
}

/// What one cell measured.
struct Cell {
    latencies_us: Histogram<u64>,
    elapsed: Duration,
}

fn print_cell(load: Load, pool: u32, concurrency: usize, cell: &Cell, background: String) {
    let h = &cell.latencies_us;
    let ms = |us: u64| format!("{:.2} ms", us as f64 / 1_000.0);
    println!(
        "{:<18} {pool:>5} {concurrency:>8} {:>10.0} {:>10} {:>10} {:>10}  {background}",
        load.name(),
        h.len() as f64 / cell.elapsed.as_secs_f64(),
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
    );
}

/// `concurrency` readers reading statements for `--seconds`.
async fn read_for(
    readers: &Readers,
    concurrency: usize,
    args: &ReadsBenchArgs,
) -> anyhow::Result<Cell> {
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|i| {
            tokio::spawn(read_statements(
                readers.clone(),
                args.accounts,
                until,
                i as u64,
            ))
        })
        .collect();
    let mut latencies_us = Histogram::<u64>::new(3)?;
    for task in tasks {
        latencies_us.add(task.await??)?;
    }
    Ok(Cell {
        latencies_us,
        elapsed: started.elapsed(),
    })
}

async fn read_statements(
    readers: Readers,
    accounts: u32,
    until: Instant,
    seed: u64,
) -> anyhow::Result<Histogram<u64>> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut latencies_us = Histogram::<u64>::new(3)?;
    while Instant::now() < until {
        let account = rng.gen_range(1..=u64::from(accounts));
        let start = Instant::now();
        let page = readers
            .read(move |store| {
                store.entries(&EntryQuery {
                    account_id: Some(account),
                    limit: 100,
                    ..Default::default()
                })
            })
            .await?;
        latencies_us.record(start.elapsed().as_micros() as u64)?;
        anyhow::ensure!(!page.is_empty(), "account {account} has entries");
    }
    Ok(latencies_us)
}

/// The load beside the readers: a thread posting transfers at `--write-rate` (which the
/// projector follows), or one running verify's journal scan over and over.
struct Background {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<anyhow::Result<String>>>,
}

impl Background {
    fn start(
        load: Load,
        engine: &Arc<Engine>,
        readers: &Readers,
        args: &ReadsBenchArgs,
        round: usize,
        runtime: &tokio::runtime::Runtime,
    ) -> Background {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = match load {
            Load::Idle => None,
            Load::Projecting => {
                let (engine, stop, args) = (engine.clone(), stop.clone(), args.clone());
                Some(thread::spawn(move || {
                    write_until(&engine, &stop, &args, round)
                }))
            }
            Load::Verifying => {
                let (readers, stop) = (readers.clone(), stop.clone());
                let runtime = runtime.handle().clone();
                Some(thread::spawn(move || {
                    runtime.block_on(scan_until(&readers, &stop))
                }))
            }
        };
        Background { stop, thread }
    }

    /// Stops the load and says what it did.
    fn stop(mut self) -> anyhow::Result<String> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take() {
            None => Ok(String::new()),
            Some(thread) => thread
                .join()
                .map_err(|_| anyhow::anyhow!("the background load panicked"))?,
        }
    }
}

fn write_until(
    engine: &Engine,
    stop: &AtomicBool,
    args: &ReadsBenchArgs,
    round: usize,
) -> anyhow::Result<String> {
    // Batches of 1,000, spaced to the rate; enough for the cell with room to spare.
    let per_batch = 1_000.min(BATCH_COMMANDS_MAX);
    let interval = Duration::from_secs_f64(per_batch as f64 / args.write_rate as f64);
    let traffic = Traffic {
        transfers: (args.write_rate * (args.seconds + 2)) as usize,
        accounts: args.accounts,
        batch: per_batch,
        hot: false,
        hot_account: 1,
    };
    let batches = build_batches(engine, &traffic, &format!("reads-{round}-"));
    let started = Instant::now();
    let mut posted = 0;
    for (i, batch) in batches.into_iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        posted += batch.len();
        engine.submit_blocking(batch)?;
        let next = started + interval * (i as u32 + 1);
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let rate = posted as f64 / started.elapsed().as_secs_f64();
    Ok(format!("({rate:.0} transfers/s posted and projected)"))
}

/// Verify's scan through the same queue as the statements, as the server runs it.
async fn scan_until(readers: &Readers, stop: &AtomicBool) -> anyhow::Result<String> {
    let mut scans = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let sums = readers.read(|store| store.journal_sums(u64::MAX)).await?;
        anyhow::ensure!(!sums.is_empty(), "the journal has entries");
        scans.push(start.elapsed());
    }
    let mean = scans.iter().sum::<Duration>() / scans.len().max(1) as u32;
    Ok(format!("({} verify scans, {mean:.2?} each)", scans.len()))
}
