//! `paycore bench http`: load on the HTTP API, the way clients produce it.
//!
//! Starts a server in-process on a temporary data directory (or targets `--server`), opens and
//! funds accounts, then runs three phases: as many single-transfer POSTs as `--connections`
//! concurrent connections can push; the same at a fixed `--rate`; and the batch endpoint.
//! Latency is measured per request from send to full response (HdrHistogram).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::local_server::LocalServer;

#[derive(clap::Args, Debug, Clone)]
pub struct HttpBenchArgs {
    /// Concurrent connections posting single transfers.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Target rate of the fixed-rate phase, transfers/s.
    #[arg(long, default_value_t = 10_000)]
    pub rate: u64,
    /// Transfers per request in the batch phase.
    #[arg(long, default_value_t = 1_000)]
    pub batch: usize,
    /// Accounts the transfers run between.
    #[arg(long, default_value_t = 10_000)]
    pub accounts: usize,
    /// Bench a running server instead of starting one (needs --key with admin role).
    #[arg(long)]
    pub server: Option<String>,
    #[arg(long, env = "PAYCORE_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Which phases to run, in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "max,rate,batch"
    )]
    pub phases: Vec<Phase>,
}

/// One phase of the HTTP bench.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Single transfers, as fast as `--connections` connections go.
    Max,
    /// Single transfers at `--rate` per second.
    Rate,
    /// The batch endpoint, `--batch` transfers per request.
    Batch,
}

const BENCH_KEY: &str = "pck_bench_admin";
/// Connections posting to the batch endpoint.
const BATCH_CONNECTIONS: usize = 4;

pub fn run(args: HttpBenchArgs) -> anyhow::Result<()> {
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-http-")
        .tempdir_in(".")?;
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (url, key, stop) = match &args.server {
        Some(url) => (
            url.clone(),
            args.key
                .clone()
                .context("--key is required with --server")?,
            None,
        ),
        None => {
            let server =
                LocalServer::start(&server_runtime, temp.path(), BENCH_KEY, Default::default())?;
            (server.url.clone(), BENCH_KEY.to_owned(), Some(server))
        }
    };
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    client_runtime.block_on(async {
        let bench = Arc::new(Bench::new(url, key, &args).await?);
        println!(
            "paycore bench http: {} accounts, {} connections, {} s per phase",
            args.accounts, args.connections, args.seconds
        );
        for phase in &args.phases {
            bench.phase(*phase, &args).await?;
        }
        anyhow::Ok(())
    })?;
    if let Some(server) = stop {
        server.stop(&server_runtime)?;
    }
    Ok(())
}

struct Bench {
    http: reqwest::Client,
    url: String,
    key: String,
    accounts: usize,
    next_id: AtomicU64,
    run: String,
}

struct PhaseResult {
    requests: u64,
    transfers: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

impl PhaseResult {
    fn print(&self, name: &str) {
        let us = |q: f64| Duration::from_micros(self.latency.value_at_quantile(q));
        println!(
            "{name:>18}: {:>8.0} transfers/s ({} requests, {} errors) | latency p50 {:.2?} p99 {:.2?} p99.9 {:.2?} max {:.2?}",
            self.transfers as f64 / self.elapsed.as_secs_f64(),
            self.requests,
            self.errors,
            us(0.5),
            us(0.99),
            us(0.999),
            Duration::from_micros(self.latency.max()),
        );
    }
}

impl Bench {
    /// Runs one phase while sampling the query store's lag, and prints both.
    async fn phase(self: &Arc<Bench>, phase: Phase, args: &HttpBenchArgs) -> anyhow::Result<()> {
        let seconds = args.seconds;
        let run = async {
            match phase {
                Phase::Max => self.single(args.connections, None, seconds).await,
                Phase::Rate => {
                    self.single(args.connections, Some(args.rate), seconds)
                        .await
                }
                Phase::Batch => self.batches(args.batch, seconds).await,
            }
        };
        let (result, lag) = tokio::join!(run, self.max_store_lag(seconds));
        result?.print(&match phase {
            Phase::Max => "single, max rate".to_owned(),
            Phase::Rate => format!("single, {} /s", args.rate),
            Phase::Batch => format!("batch of {}", args.batch),
        });
        self.print_store_lag(lag?).await
    }

    async fn new(url: String, key: String, args: &HttpBenchArgs) -> anyhow::Result<Bench> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(args.connections.max(8))
            .build()?;
        let mut nonce = [0u8; 4];
        getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let run = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let bench = Bench {
            http,
            url,
            key,
            accounts: args.accounts,
            next_id: AtomicU64::new(0),
            run,
        };
        bench.setup().await?;
        Ok(bench)
    }

    fn account(&self, i: usize) -> String {
        format!("B{}-{i}", self.run)
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<reqwest::StatusCode> {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        Ok(status)
    }

    async fn setup(&self) -> anyhow::Result<()> {
        for i in 0..self.accounts {
            let status = self
                .post(
                    "/v1/accounts",
                    &json!({"account_no": self.account(i), "type": "customer", "currency": "CNY"}),
                )
                .await?;
            anyhow::ensure!(status.is_success(), "opening accounts: HTTP {status}");
        }
        let deposits: Vec<Value> = (0..self.accounts)
            .map(|i| json!({"id": format!("fund-{}-{i}", self.run), "debit_account": "SETTLEMENT-CNY", "credit_account": self.account(i), "amount": 1u64 << 40, "currency": "CNY", "kind": "deposit"}))
            .collect();
        for chunk in deposits.chunks(1_000) {
            let status = self
                .post("/v1/transfers/batch", &json!({"transfers": chunk}))
                .await?;
            anyhow::ensure!(status.is_success(), "funding accounts: HTTP {status}");
        }
        Ok(())
    }

    async fn health(&self) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}/healthz", self.url))
            .send()
            .await?;
        Ok(response.json().await?)
    }

    /// The query store's largest lag behind the log (seconds) seen in `seconds`, sampled.
    async fn max_store_lag(&self, seconds: u64) -> anyhow::Result<f64> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut max = 0f64;
        while Instant::now() < deadline {
            let health = self.health().await?;
            max = max.max(health["store_lag_seconds"].as_f64().unwrap_or(0.0));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(max)
    }

    /// Whether the query store kept up: its largest lag during the phase, and how long after
    /// the phase it took to include everything the engine had made durable.
    async fn print_store_lag(&self, max_lag: f64) -> anyhow::Result<()> {
        let ended = Instant::now();
        loop {
            let health = self.health().await?;
            if health["store_lag_batches"].as_u64() == Some(0) {
                break;
            }
            anyhow::ensure!(
                ended.elapsed() < Duration::from_secs(300),
                "the query store did not catch up: {health}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        println!(
            "{:>18}  query store: largest lag {max_lag:.2} s, caught up {:.2?} after the phase",
            "",
            ended.elapsed()
        );
        Ok(())
    }

    fn transfer(&self) -> Value {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let debit = (n as usize * 7_919) % self.accounts;
        let credit = (debit + 1 + (n as usize * 104_729) % (self.accounts - 1)) % self.accounts;
        json!({"id": format!("h{}-{n}", self.run), "debit_account": self.account(debit), "credit_account": self.account(credit), "amount": 1 + n % 1_000, "currency": "CNY"})
    }

    /// `connections` tasks posting single transfers for `seconds`, each at `rate/connections`
    /// per second if a rate is given, else back to back.
    async fn single(
        self: &Arc<Bench>,
        connections: usize,
        rate: Option<u64>,
        seconds: u64,
    ) -> anyhow::Result<PhaseResult> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let interval = rate.map(|r| Duration::from_secs_f64(connections as f64 / r as f64));
        let started = Instant::now();
        let results = spawn_all(self, connections, move |bench| async move {
            let mut latency = Histogram::<u64>::new(3).expect("histogram");
            let (mut requests, mut errors) = (0u64, 0u64);
            let mut ticker = interval.map(tokio::time::interval);
            while Instant::now() < deadline {
                if let Some(ticker) = ticker.as_mut() {
                    ticker.tick().await;
                }
                let body = bench.transfer();
                let sent = Instant::now();
                let ok =
                    matches!(bench.post("/v1/transfers", &body).await, Ok(s) if s.as_u16() == 201);
                latency
                    .record(sent.elapsed().as_micros() as u64)
                    .expect("in range");
                requests += 1;
                errors += u64::from(!ok);
            }
            (requests, errors, latency)
        })
        .await?;
        Ok(merge(results, started.elapsed(), 1))
    }

    async fn batches(self: &Arc<Bench>, size: usize, seconds: u64) -> anyhow::Result<PhaseResult> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let results = spawn_all(self, BATCH_CONNECTIONS, move |bench| async move {
            let mut latency = Histogram::<u64>::new(3).expect("histogram");
            let (mut requests, mut errors) = (0u64, 0u64);
            while Instant::now() < deadline {
                let transfers: Vec<Value> = (0..size).map(|_| bench.transfer()).collect();
                let sent = Instant::now();
                let ok = matches!(bench.post("/v1/transfers/batch", &json!({"transfers": transfers})).await, Ok(s) if s.is_success());
                latency.record(sent.elapsed().as_micros() as u64).expect("in range");
                requests += 1;
                errors += u64::from(!ok);
            }
            (requests, errors, latency)
        })
        .await?;
        Ok(merge(results, started.elapsed(), size as u64))
    }
}

type ConnectionResult = (u64, u64, Histogram<u64>);

/// Runs `count` connection loops as tasks and collects their counts and histograms.
async fn spawn_all<F, Fut>(
    bench: &Arc<Bench>,
    count: usize,
    connection: F,
) -> anyhow::Result<Vec<ConnectionResult>>
where
    F: Fn(Arc<Bench>) -> Fut,
    Fut: std::future::Future<Output = ConnectionResult> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        tasks.spawn(connection(bench.clone()));
    }
    let mut results = Vec::with_capacity(count);
    while let Some(result) = tasks.join_next().await {
        results.push(result?);
    }
    Ok(results)
}

fn merge(
    results: Vec<ConnectionResult>,
    elapsed: Duration,
    transfers_per_request: u64,
) -> PhaseResult {
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    let (mut requests, mut errors) = (0, 0);
    for (r, e, h) in results {
        requests += r;
        errors += e;
        latency.add(h).expect("same precision");
    }
    PhaseResult {
        requests,
        transfers: (requests - errors) * transfers_per_request,
        errors,
        elapsed,
        latency,
    }
}
