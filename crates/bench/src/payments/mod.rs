//! `paycore bench payments`: pay-ins end to end over HTTP against the bank simulator.
//!
//! Starts a bank simulator and a server in-process (or targets `--server` and `--sim`), sets
//! up a merchant and two channels that succeed at once, then `--connections` clients each
//! create a trade and pay it, as fast as they can for `--seconds`. Reports payments/s, the
//! end-to-end latency of the payment request, and paycore's own time per payment (the
//! `Paycore-Own-Time-Ms` header: the request's time less its wait for the channel), p50/p99.
//! Then the mixed workload (`mixed.rs`): pay-ins, refunds and payouts over channels where 5%
//! of requests time out, with the same figures per kind. With `--notify`, the pay-ins run a
//! second time with merchant notifications (`notify.rs`), side by side.

mod mixed;
mod notify;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::local_server::LocalServer;

#[derive(clap::Args, Debug, Clone)]
pub struct PaymentsBenchArgs {
    /// Concurrent clients, each paying one trade after another.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Then the mixed workload (pay-ins, refunds, payouts, 5% timeouts) for this long; 0 skips
    /// it.
    #[arg(long, default_value_t = 10)]
    pub mixed_seconds: u64,
    /// Then the pay-ins again with a notify_url on every trade (a merchant here answering
    /// `success`): what merchant notifications cost, beside the run without them.
    #[arg(long)]
    pub notify: bool,
    /// Channels' callbacks: none (the synchronous answer decides) or immediate.
    #[arg(long, default_value = "none")]
    pub callbacks: String,
    /// Bench a running server (needs --key with admin role) …
    #[arg(long)]
    pub server: Option<String>,
    #[arg(long, env = "PAYCORE_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// … and a running simulator (`paycore channel-sim`).
    #[arg(long)]
    pub sim: Option<String>,
}

const BENCH_KEY: &str = "pck_bench_admin";

pub fn run(args: PaymentsBenchArgs) -> anyhow::Result<()> {
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-payments-")
        .tempdir_in(".")?;
    let server_runtime = runtime("bench-server", 2)?;
    let sim_runtime = runtime("bench-bank", 1)?;
    let sim = match &args.sim {
        Some(url) => url.clone(),
        None => sim_runtime.block_on(async {
            let sim = paycore_channel_sim::Simulator::bind("127.0.0.1:0".parse()?, 1).await?;
            let url = format!("http://{}", sim.local_addr());
            tokio::spawn(sim.serve(std::future::pending()));
            anyhow::Ok(url)
        })?,
    };
    let (url, key, stop) = match &args.server {
        Some(url) => (
            url.clone(),
            args.key
                .clone()
                .context("--key is required with --server")?,
            None,
        ),
        None => {
            let mut payments = paycore_server::PaymentOptions {
                // The mixed workload's timeouts are held 400 ms at the bank.
                channel_timeout: Duration::from_millis(mixed::CHANNEL_TIMEOUT_MS),
                ..Default::default()
            };
            if let Some(notify) = payments.notify.as_mut() {
                // The merchant of `--notify` listens on this machine.
                notify.allow.push("127.0.0.1/32".parse()?);
            }
            let server = LocalServer::start(&server_runtime, temp.path(), BENCH_KEY, payments)?;
            (server.url.clone(), BENCH_KEY.to_owned(), Some(server))
        }
    };
    let client_runtime = runtime("bench-client", 2)?;
    client_runtime.block_on(async {
        let bench = Arc::new(Bench::new(url, key, sim.clone(), &args).await?);
        println!(
            "paycore bench payments: {} connections, {} s, 2 channels (immediate success, callbacks {})",
            args.connections, args.seconds, args.callbacks
        );
        bench.pay_ins(args.connections, args.seconds).await?.print();
        if args.notify {
            let merchant = notify::Merchant::start().await?;
            *bench.notify_url.lock() = Some(merchant.url.clone());
            println!("pay-ins again, every trade with a notify_url (trade.paid to a merchant here):");
            let report = bench.pay_ins(args.connections, args.seconds).await?;
            let during = merchant.received();
            report.print();
            let drained = merchant.drained(report.totals.payments, Duration::from_secs(60)).await;
            println!(
                "  notifications: {during} delivered during the run, all {} after {}",
                report.totals.payments,
                drained.map_or("more than 60 s".to_owned(), |d| format!("{d:.2?} more"))
            );
            *bench.notify_url.lock() = None;
        }
        if args.mixed_seconds > 0 {
            bench.setup_mixed(&sim).await?;
            println!(
                "mixed: {} connections, {} s, {}",
                args.connections,
                args.mixed_seconds,
                mixed::DESCRIPTION
            );
            let report = bench.mixed(args.connections, args.mixed_seconds).await?;
            report.print();
        }
        anyhow::Ok(())
    })?;
    if let Some(server) = stop {
        server.stop(&server_runtime)?;
    }
    Ok(())
}

/// A runtime whose threads are named `name` (so a profile tells server, bank and load apart).
pub(crate) fn runtime(name: &str, workers: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()?)
}

pub(super) struct Bench {
    http: reqwest::Client,
    url: String,
    key: String,
    pub(super) next: AtomicU64,
    pub(super) run: String,
    /// Set: every trade asks for its notification there.
    notify_url: parking_lot::Mutex<Option<String>>,
}

#[derive(Default)]
struct Totals {
    payments: u64,
    errors: u64,
    not_succeeded: u64,
}

struct Report {
    totals: Totals,
    elapsed: Duration,
    latency_us: Histogram<u64>,
    own_us: Histogram<u64>,
    trade_own_us: Histogram<u64>,
}

impl Report {
    fn print(&self) {
        let q = |h: &Histogram<u64>, q: f64| Duration::from_micros(h.value_at_quantile(q));
        println!(
            "pay-ins: {:>8.0} payments/s ({} payments, {} errors, {} not succeeded)",
            self.totals.payments as f64 / self.elapsed.as_secs_f64(),
            self.totals.payments,
            self.totals.errors,
            self.totals.not_succeeded
        );
        println!(
            "  payment request latency  p50 {:.2?} p99 {:.2?} max {:.2?}",
            q(&self.latency_us, 0.5),
            q(&self.latency_us, 0.99),
            Duration::from_micros(self.latency_us.max())
        );
        println!(
            "  paycore own time/payment p50 {:.2?} p99 {:.2?} (trade creation: p50 {:.2?} p99 {:.2?})",
            q(&self.own_us, 0.5),
            q(&self.own_us, 0.99),
            q(&self.trade_own_us, 0.5),
            q(&self.trade_own_us, 0.99)
        );
    }
}

pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

pub(super) fn own_time_us(response: &reqwest::Response) -> Option<u64> {
    let ms: f64 = response
        .headers()
        .get("paycore-own-time-ms")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    Some((ms * 1_000.0).max(1.0) as u64)
}

impl Bench {
    async fn new(
        url: String,
        key: String,
        sim: String,
        args: &PaymentsBenchArgs,
    ) -> anyhow::Result<Bench> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(args.connections.max(8))
            .tcp_nodelay(true)
            .build()?;
        let mut nonce = [0u8; 4];
        getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let bench = Bench {
            http,
            url,
            key,
            next: AtomicU64::new(0),
            notify_url: parking_lot::Mutex::new(None),
            run: nonce.iter().map(|b| format!("{b:02x}")).collect(),
        };
        bench.setup(&sim, &args.callbacks).await?;
        Ok(bench)
    }

    pub(super) async fn post(&self, path: &str, body: &Value) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await?)
    }

    pub(super) fn merchant(&self) -> String {
        format!("bench{}", self.run)
    }

    async fn setup(&self, sim: &str, callbacks: &str) -> anyhow::Result<()> {
        let merchant = self.merchant();
        let created = self
            .post("/v1/merchants", &json!({"id": merchant, "name": "bench", "callback_hosts": ["127.0.0.1"], "fee_rate_bp": 30}))
            .await?;
        anyhow::ensure!(
            created.status().is_success(),
            "merchant: {}",
            created.text().await?
        );
        for (i, protocol) in ["sim-json", "sim-form"].into_iter().enumerate() {
            let id = format!("b{}-{i}", self.run);
            let behaviour = json!({"callback": callbacks});
            self.add_channel(sim, &id, protocol, behaviour, &["quickpay"])
                .await?;
        }
        Ok(())
    }

    /// Configures channel `id` at the simulator (`behaviour` plus protocol and secret) and
    /// adds it to paycore taking `methods`.
    pub(super) async fn add_channel(
        &self,
        sim: &str,
        id: &str,
        protocol: &str,
        mut behaviour: Value,
        methods: &[&str],
    ) -> anyhow::Result<()> {
        let secret = format!("bench-secret-{id}");
        behaviour["protocol"] = json!(protocol);
        behaviour["secret"] = json!(secret);
        let put = self
            .http
            .put(format!("{sim}/sim/channels/{id}"))
            .json(&behaviour)
            .send()
            .await?;
        anyhow::ensure!(
            put.status().is_success(),
            "simulator: {}",
            put.text().await?
        );
        let added = self
            .post(
                "/v1/channels",
                &json!({"id": id, "protocol": protocol, "endpoint": sim, "secret": secret,
                "methods": methods, "currencies": ["CNY"], "weight": 100}),
            )
            .await?;
        anyhow::ensure!(
            added.status().is_success(),
            "channel: {}",
            added.text().await?
        );
        Ok(())
    }

    /// One trade created and paid; (payment latency, own time of payment, of trade).
    async fn pay_in(&self, totals: &mut Totals) -> anyhow::Result<Option<(u64, u64, u64)>> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut request = json!({"merchant": self.merchant(), "merchant_order_no": format!("o{n}"),
            "amount": 1_000 + n % 9_000, "currency": "CNY"});
        if let Some(url) = self.notify_url.lock().clone() {
            request["notify_url"] = json!(url);
        }
        let trade = self.post("/v1/trades", &request).await?;
        let trade_own = own_time_us(&trade).unwrap_or(0);
        if trade.status() != 201 {
            totals.errors += 1;
            return Ok(None);
        }
        let trade: Value = trade.json().await?;
        let trade_id = trade["trade_id"].as_str().unwrap_or_default().to_owned();
        let started = Instant::now();
        let paid = self
            .post(
                &format!("/v1/trades/{trade_id}/payments"),
                &json!({"id": format!("{}-{n}", self.run), "method": "quickpay"}),
            )
            .await?;
        let own = own_time_us(&paid).unwrap_or(0);
        let status = paid.status();
        let body: Value = paid.json().await?;
        let latency = started.elapsed().as_micros().max(1) as u64;
        if status != 201 {
            totals.errors += 1;
            return Ok(None);
        }
        if body["status"] != "succeeded" {
            totals.not_succeeded += 1;
        }
        totals.payments += 1;
        Ok(Some((latency, own, trade_own)))
    }

    async fn pay_ins(self: &Arc<Self>, connections: usize, seconds: u64) -> anyhow::Result<Report> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let bench = self.clone();
            tasks.push(tokio::spawn(async move {
                let (mut totals, mut latency, mut own, mut trade_own) =
                    (Totals::default(), histogram(), histogram(), histogram());
                while Instant::now() < deadline {
                    match bench.pay_in(&mut totals).await {
                        Ok(Some((l, o, t))) => {
                            latency.saturating_record(l);
                            own.saturating_record(o.max(1));
                            trade_own.saturating_record(t.max(1));
                        }
                        Ok(None) => {}
                        Err(_) => totals.errors += 1,
                    }
                }
                (totals, latency, own, trade_own)
            }));
        }
        let mut report = Report {
            totals: Totals::default(),
            elapsed: Duration::ZERO,
            latency_us: histogram(),
            own_us: histogram(),
            trade_own_us: histogram(),
        };
        for task in tasks {
            let (totals, latency, own, trade_own) = task.await?;
            report.totals.payments += totals.payments;
            report.totals.errors += totals.errors;
            report.totals.not_succeeded += totals.not_succeeded;
            report.latency_us.add(&latency)?;
            report.own_us.add(&own)?;
            report.trade_own_us.add(&trade_own)?;
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }
}
