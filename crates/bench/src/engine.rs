//! `paycore bench`: durable throughput of the engine, measured the way clients see it.
//!
//! Setup opens the accounts and funds them; then client threads submit pre-built batches of
//! transfers (ids hashed and fingerprints taken before the clock starts, as a client library
//! would) and time each batch from submit to reply. Printed: transfers/s, batch latency
//! p50/p99/max, fsyncs, and resident memory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use paycore_engine::{Engine, EngineConfig};
use paycore_ledger::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Transfers per scenario.
    #[arg(long, default_value_t = 1_000_000)]
    pub transfers: usize,
    /// Accounts the transfers run between.
    #[arg(long, default_value_t = 100_000)]
    pub accounts: u32,
    /// Transfers per batch (request); at most 8190.
    #[arg(long, default_value_t = 8_190)]
    pub batch: usize,
    /// Client threads submitting batches concurrently.
    #[arg(long, default_value_t = 2)]
    pub clients: usize,
    /// Scenarios to run: uniform, hot (every transfer credits one account), buffered (the same
    /// with that account on buffered posting), split (the same into an account split in 8).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "uniform,hot,buffered,split"
    )]
    pub scenarios: Vec<String>,
    /// Also write this many transfers, then time recovery (log replay, no snapshot).
    #[arg(long, default_value_t = 0)]
    pub recovery_transfers: usize,
    /// Where to put the data (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Replicate every batch on etcd before it counts as durable: `local` starts a 3-member
    /// cluster on this machine, or `etcd://host:port[,…]` names one. Each scenario leads a
    /// shard of its own.
    #[arg(long)]
    pub replicate: Option<String>,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=BATCH_COMMANDS_MAX).contains(&args.batch),
        "--batch must be 1..=8190"
    );
    keep_batches_out_of_the_heap();
    let etcd = Etcd::of(args.replicate.as_deref())?;
    println!(
        "paycore bench: {} transfers per scenario over {} accounts, batches of {}, {} clients{}",
        args.transfers,
        args.accounts,
        args.batch,
        args.clients,
        etcd.as_ref().map_or(String::new(), |e| format!(
            ", replicated on etcd at {}",
            e.url
        ))
    );
    for scenario in &args.scenarios {
        let hot = scenario != "uniform";
        let dir = Workdir::new(&args, scenario)?;
        let engine = match &etcd {
            Some(etcd) => etcd.open_engine(dir.path(), scenario)?,
            None => open_engine(dir.path(), 0)?,
        };
        setup(&engine, args.accounts)?;
        let mut traffic = Traffic::of(&args, hot);
        match scenario.as_str() {
            "uniform" | "hot" => {}
            "buffered" => buffer_hot_account(&engine)?,
            "split" => traffic.hot_account = open_split_account(&engine, args.accounts)?,
            other => anyhow::bail!("unknown scenario {other:?} (uniform, hot, buffered, split)"),
        }
        let batches = build_batches(&engine, &traffic, "bench");
        let result = drive(&engine, batches, args.clients)?;
        result.print(scenario, &engine);
    }
    if args.recovery_transfers > 0 {
        recovery(&args)?;
    }
    Ok(())
}

/// The etcd cluster a replicated bench appends to, started here for `local`.
struct Etcd {
    url: String,
    endpoints: Vec<String>,
    /// A run of its own: shards are named after it, so reruns on one cluster never collide.
    run: String,
    _cluster: Option<paycore_replication::cluster::EtcdCluster>,
}

impl Etcd {
    fn of(replicate: Option<&str>) -> anyhow::Result<Option<Etcd>> {
        let Some(replicate) = replicate else {
            return Ok(None);
        };
        let cluster = match replicate {
            "local" => Some(
                paycore_replication::cluster::EtcdCluster::start(3)
                    .context("etcd is not installed (Debian: etcd-server)")?,
            ),
            _ => None,
        };
        let url = cluster
            .as_ref()
            .map_or_else(|| replicate.to_owned(), |c| c.url());
        let mut nonce = [0u8; 4];
        getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        Ok(Some(Etcd {
            endpoints: paycore_replication::parse_etcd_url(&url)?,
            url,
            run: hex::encode(nonce),
            _cluster: cluster,
        }))
    }

    fn open_engine(&self, dir: &std::path::Path, scenario: &str) -> anyhow::Result<Engine> {
        let shard = format!("bench-{}-{scenario}", self.run);
        let replicator = paycore_replication::EtcdReplicator::start(
            &self.endpoints,
            &shard,
            "paycore-bench",
            5,
            Duration::from_secs(10),
        )?;
        let mut config = EngineConfig::new(dir);
        config.snapshot_every_commands = 0;
        config.snapshot_on_shutdown = false;
        config.segment_bytes = 256 << 20;
        config.replicator = Some(paycore_engine::ReplicatorHandle::new(replicator));
        Engine::open(config).context("opening the engine")
    }
}

/// Puts the account every hot transfer credits on buffered posting (default settings).
pub(crate) fn buffer_hot_account(engine: &Engine) -> anyhow::Result<()> {
    let h = engine.hasher();
    let op = Op::SetHot {
        account: AccountKey::Id(AccountId(1)),
        options: Some(HotOptions {
            flush_interval_ms: 1_000,
            max_entries: 10_000,
            credit_line: 0,
        }),
    };
    let outcome = engine.submit_blocking(vec![Command::new(h.client_id("bench-hot")?, op, &h)])?;
    anyhow::ensure!(outcome[0].result.is_ok(), "SetHot: {:?}", outcome[0].result);
    Ok(())
}

/// Opens merchant `SPLIT-HOT` right after the setup's accounts and splits it into 8
/// sub-accounts; returns its id.
fn open_split_account(engine: &Engine, accounts: u32) -> anyhow::Result<u32> {
    let h = engine.hasher();
    let number = AccountNo::new("SPLIT-HOT")?;
    let open = Op::OpenAccount(OpenAccount {
        number,
        kind: AccountType::Merchant,
        currency: Currency::CNY,
        allow_negative: None,
        reference: Reference::NONE,
        opened_by: Operator::SYSTEM,
    });
    let split = Op::SplitAccount {
        account: AccountKey::No(number),
        parts: 8,
    };
    let outcomes = engine.submit_blocking(vec![
        Command::new(h.client_id("bench-open-split")?, open, &h),
        Command::new(h.client_id("bench-split")?, split, &h),
    ])?;
    anyhow::ensure!(
        outcomes.iter().all(|o| o.result.is_ok()),
        "split setup: {outcomes:?}"
    );
    // The setup opened the settlement account (0) and customers 1..=accounts.
    Ok(accounts + 1)
}

/// The bench builds every batch before the clock starts. In glibc's heap, hundreds of
/// megabytes of freed batches below the last one are returned to the kernel in one go when
/// the last is freed (a 50 ms stall inside the engine's writer that real traffic, made of
/// small requests, never causes). Giving each multi-megabyte batch its own mapping frees them
/// one by one, as they are consumed.
fn keep_batches_out_of_the_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator's thresholds; called before threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// An engine for benchmarks: large segments, no snapshot at shutdown, snapshots every
/// `snapshot_every` commands (0: never).
pub(crate) fn open_engine(dir: &std::path::Path, snapshot_every: u64) -> anyhow::Result<Engine> {
    let mut config = EngineConfig::new(dir);
    config.snapshot_every_commands = snapshot_every;
    config.snapshot_on_shutdown = false;
    config.segment_bytes = 256 << 20;
    Engine::open(config).context("opening the engine")
}

/// A data directory for one run: the one given, or a temporary one.
struct Workdir {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Workdir {
    fn new(args: &BenchArgs, scenario: &str) -> anyhow::Result<Workdir> {
        match &args.data_dir {
            Some(dir) => {
                let path = dir.join(scenario);
                anyhow::ensure!(
                    !path.exists(),
                    "{} exists; bench wants an empty directory",
                    path.display()
                );
                Ok(Workdir { path, _temp: None })
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("paycore-bench-")
                    .tempdir_in(".")?;
                Ok(Workdir {
                    path: temp.path().to_owned(),
                    _temp: Some(temp),
                })
            }
        }
    }

    fn path(&self) -> &std::path::Path {
        &self.path
    }
}

fn number(i: u32) -> AccountNo {
    AccountNo::new(&format!("A{i:09}")).expect("valid account number")
}

/// Opens a settlement account (id 0) and `accounts` customer accounts (ids 1..), all funded.
pub(crate) fn setup(engine: &Engine, accounts: u32) -> anyhow::Result<()> {
    let h = engine.hasher();
    let open = |i: u32, kind| {
        let op = Op::OpenAccount(OpenAccount {
            number: number(i),
            kind,
            currency: Currency::CNY,
            allow_negative: None,
            reference: Reference::NONE,
            opened_by: Operator::SYSTEM,
        });
        Command::new(h.client_id(&format!("open-{i}")).expect("valid id"), op, &h)
    };
    let fund = |i: u32| {
        let op = Op::Transfer(Transfer {
            debit: AccountKey::Id(AccountId(0)),
            credit: AccountKey::Id(AccountId(i)),
            amount: 1 << 40,
            currency: Currency::CNY,
            kind: TransferKind::Deposit,
            reference: Reference::NONE,
        });
        Command::new(h.client_id(&format!("fund-{i}")).expect("valid id"), op, &h)
    };
    let mut commands = vec![open(0, AccountType::Settlement)];
    commands.extend((1..=accounts).map(|i| open(i, AccountType::Customer)));
    commands.extend((1..=accounts).map(fund));
    for chunk in commands.chunks(BATCH_COMMANDS_MAX) {
        let outcomes = engine.submit_blocking(chunk.to_vec())?;
        anyhow::ensure!(
            outcomes.iter().all(|o| o.result.is_ok()),
            "setup command rejected"
        );
    }
    Ok(())
}

/// The bench's traffic: `transfers` random transfers among the customer accounts `setup`
/// opened, in batches of `batch`. Hot: every transfer credits `hot_account` (a big merchant;
/// account 1 unless a scenario opened another).
pub(crate) struct Traffic {
    pub transfers: usize,
    pub accounts: u32,
    pub batch: usize,
    pub hot: bool,
    pub hot_account: u32,
}

impl Traffic {
    fn of(args: &BenchArgs, hot: bool) -> Self {
        Traffic {
            transfers: args.transfers,
            accounts: args.accounts,
            batch: args.batch,
            hot,
            hot_account: 1,
        }
    }
}

pub(crate) fn build_batches(engine: &Engine, traffic: &Traffic, prefix: &str) -> Vec<Vec<Command>> {
    let h = engine.hasher();
    let accounts = traffic.accounts;
    let mut rng = SmallRng::seed_from_u64(42);
    let mut batches = Vec::new();
    let mut made = 0;
    while made < traffic.transfers {
        let size = traffic.batch.min(traffic.transfers - made);
        let batch = (0..size)
            .map(|k| {
                let (debit, credit) = if traffic.hot {
                    (rng.gen_range(2..=accounts), traffic.hot_account)
                } else {
                    let debit = rng.gen_range(1..=accounts);
                    (
                        debit,
                        1 + (debit + rng.gen_range(0..accounts - 1)) % accounts,
                    )
                };
                let op = Op::Transfer(Transfer {
                    debit: AccountKey::Id(AccountId(debit)),
                    credit: AccountKey::Id(AccountId(credit)),
                    amount: rng.gen_range(1..10_000),
                    currency: Currency::CNY,
                    kind: TransferKind::Transfer,
                    reference: Reference::NONE,
                });
                Command::new(
                    h.client_id(&format!("{prefix}-{}", made + k))
                        .expect("valid id"),
                    op,
                    &h,
                )
            })
            .collect();
        made += size;
        batches.push(batch);
    }
    batches
}

pub(crate) struct RunResult {
    pub transfers: usize,
    pub rejected: usize,
    pub elapsed: Duration,
    latencies: Vec<Duration>,
    fsyncs: u64,
    fsync: Duration,
    write: Duration,
    apply: Duration,
}

/// Submits the batches from `clients` threads, each taking the next batch when its previous
/// one is answered.
pub(crate) fn drive(
    engine: &Engine,
    batches: Vec<Vec<Command>>,
    clients: usize,
) -> anyhow::Result<RunResult> {
    let transfers = batches.iter().map(Vec::len).sum();
    let before = engine.metrics();
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Vec<Command>>>> =
        batches.into_iter().map(|b| Mutex::new(Some(b))).collect();
    let start = Instant::now();
    let per_client: Vec<anyhow::Result<(Vec<Duration>, usize)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut latencies = Vec::new();
                    let mut rejected = 0;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = slots.get(i) else { break };
                        let batch = slot
                            .lock()
                            .expect("slot lock")
                            .take()
                            .expect("each batch is taken once");
                        let sent = Instant::now();
                        let outcomes = engine.submit_blocking(batch)?;
                        latencies.push(sent.elapsed());
                        rejected += outcomes.iter().filter(|o| o.result.is_err()).count();
                    }
                    Ok((latencies, rejected))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    let elapsed = start.elapsed();
    let mut latencies = Vec::new();
    let mut rejected = 0;
    for result in per_client {
        let (l, r) = result?;
        latencies.extend(l);
        rejected += r;
    }
    latencies.sort();
    let after = engine.metrics();
    Ok(RunResult {
        transfers,
        rejected,
        elapsed,
        latencies,
        fsyncs: after.fsyncs - before.fsyncs,
        fsync: Duration::from_nanos(after.fsync_nanos_total - before.fsync_nanos_total),
        write: Duration::from_nanos(after.write_nanos_total - before.write_nanos_total),
        apply: Duration::from_nanos(after.apply_nanos_total - before.apply_nanos_total),
    })
}

impl RunResult {
    fn print(&self, scenario: &str, engine: &Engine) {
        let rate = self.transfers as f64 / self.elapsed.as_secs_f64();
        let pct = |p: f64| self.latencies[((self.latencies.len() - 1) as f64 * p).round() as usize];
        let memory = engine.read(|l| l.memory_report());
        println!(
            "{scenario:>8}: {:>10.0} transfers/s durable | {} transfers in {:.2?}, {} rejected | batch latency p50 {:.2?} p99 {:.2?} max {:.2?} | {} fsyncs | RSS {} MiB, {:.0} B/stored id",
            rate,
            self.transfers,
            self.elapsed,
            self.rejected,
            pct(0.5),
            pct(0.99),
            self.latencies.last().copied().unwrap_or_default(),
            self.fsyncs,
            resident_mib(),
            memory.bytes_per_record(),
        );
        println!(
            "{:>8}  time per batch: encode+write {:.2?}, fsync {:.2?}, apply {:.2?} (writer and applier overlap)",
            "",
            self.write / self.fsyncs.max(1) as u32,
            self.fsync / self.fsyncs.max(1) as u32,
            self.apply / self.fsyncs.max(1) as u32,
        );
    }
}

/// Writes `recovery_transfers` transfers, stops without a snapshot, and times the restart.
fn recovery(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = Workdir::new(args, "recovery")?;
    let engine = open_engine(dir.path(), 0)?;
    setup(&engine, args.accounts)?;
    let mut written = 0;
    let mut round = 0;
    while written < args.recovery_transfers {
        let chunk = Traffic {
            transfers: (args.recovery_transfers - written).min(1_000_000),
            ..Traffic::of(args, false)
        };
        let batches = build_batches(&engine, &chunk, &format!("recovery{round}"));
        drive(&engine, batches, args.clients)?;
        written += chunk.transfers;
        round += 1;
    }
    let digest = engine.read(|l| l.digest());
    drop(engine);
    let start = Instant::now();
    let engine = open_engine(dir.path(), 0)?;
    let elapsed = start.elapsed();
    anyhow::ensure!(
        engine.read(|l| l.digest()) == digest,
        "recovered state differs"
    );
    let report = engine.recovery_report();
    println!(
        "recovery: replayed {} batches ({} commands) in {:.2?} = {:.0} commands/s; RSS {} MiB with {} stored ids",
        report.replayed_batches,
        report.replayed_commands,
        elapsed,
        report.replayed_commands as f64 / elapsed.as_secs_f64(),
        resident_mib(),
        engine.read(|l| l.record_count()),
    );
    Ok(())
}

fn resident_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}
