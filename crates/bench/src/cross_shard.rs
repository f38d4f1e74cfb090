//! `paycore bench cross-shard`: transfers between two shards through `paycore router`
//! (issue 21: cross-shard transfers/s with 2 shards), beside transfers inside one shard sent
//! straight to its leader and sent through the router, measured one after another in one run.
//!
//! Starts a 3-member etcd, two replicated `paycore serve` leaders (s1 holds `A…`, s2 `B…`) and
//! a router, all processes of this binary on this machine. Each phase runs `--clients`
//! concurrent clients for `--seconds`; a cross-shard transfer is answered once it completed on
//! both shards (debit, credit and settle posted, its intent recorded and removed in etcd). At
//! the end nothing may be left in transit, the due accounts must net to zero and each
//! shard's books must balance.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use paycore_replication::cluster::EtcdCluster;
use paycore_replication::ShardDirectory;
use serde_json::{json, Value};

use crate::payments::histogram;
use crate::processes::{free_port, Node, NodeSpec};

#[derive(clap::Args, Debug, Clone)]
pub struct CrossShardBenchArgs {
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Accounts per shard.
    #[arg(long, default_value_t = 32)]
    pub accounts: usize,
}

const KEY: &str = "pck_bench_cross_shard_admin";
const FUNDS: u64 = 1 << 40;

pub fn run(args: CrossShardBenchArgs) -> anyhow::Result<()> {
    let cluster = EtcdCluster::start(3).context("etcd is not installed (Debian: etcd-server)")?;
    let etcd = cluster.url();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(shard_map(&cluster.endpoints()))?;
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-cross-shard-")
        .tempdir_in(".")?;
    let mut leaders = Vec::new();
    for shard in ["s1", "s2"] {
        let dir = temp.path().join(shard);
        leaders.push(Node::start(&NodeSpec {
            dir: &dir,
            port: free_port()?,
            etcd: &etcd,
            shard,
            lease_s: 3,
            standby: false,
            key: KEY,
        })?);
    }
    let router = Node::router(free_port()?, &etcd, KEY)?;
    let bench = Arc::new(Bench::new(&router.url, args.accounts)?);
    runtime.block_on(bench.set_up())?;
    println!(
        "paycore bench cross-shard: 2 shards on a 3-member etcd, {} clients, {} s per phase, {} accounts per shard",
        args.clients, args.seconds, args.accounts
    );
    let phases = [
        ("one shard, direct", leaders[0].url.clone(), Pairs::Inside),
        ("one shard, router", router.url.clone(), Pairs::Inside),
        ("cross-shard, router", router.url.clone(), Pairs::Across),
    ];
    for (name, url, pairs) in phases {
        let result = runtime.block_on(bench.clone().phase(url, pairs, &args));
        result.print(name);
    }
    runtime.block_on(bench.check())?;
    println!("nothing left in transit, due accounts net to zero, each shard's books balance");
    Ok(())
}

async fn shard_map(endpoints: &[String]) -> anyhow::Result<()> {
    let directory = ShardDirectory::new(endpoints, Duration::from_secs(5))?;
    directory.edit(|map| map.add_shard("s1")).await?;
    directory.edit(|map| map.add_shard("s2")).await?;
    directory.edit(|map| map.assign("B", "s2")).await?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Pairs {
    /// A → A on shard s1.
    Inside,
    /// A → B and B → A, alternating.
    Across,
}

struct Bench {
    http: reqwest::Client,
    router: String,
    accounts: usize,
    next_id: AtomicU64,
}

struct PhaseResult {
    transfers: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

impl PhaseResult {
    fn print(&self, name: &str) {
        let us = |q: f64| Duration::from_micros(self.latency.value_at_quantile(q));
        println!(
            "{name:>20}: {:>7.0} transfers/s ({} errors) | latency p50 {:.2?} p99 {:.2?} max {:.2?}",
            self.transfers as f64 / self.elapsed.as_secs_f64(),
            self.errors,
            us(0.5),
            us(0.99),
            Duration::from_micros(self.latency.max()),
        );
    }
}

impl Bench {
    fn new(router: &str, accounts: usize) -> anyhow::Result<Bench> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(512)
            .build()?;
        Ok(Bench {
            http,
            router: router.to_owned(),
            accounts,
            next_id: AtomicU64::new(0),
        })
    }

    async fn post(&self, url: &str, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        let response = self
            .http
            .post(format!("{url}{path}"))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str, shard: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.router))
            .bearer_auth(KEY)
            .header("Paycore-Shard", shard)
            .send()
            .await?;
        Ok(response.json().await?)
    }

    async fn set_up(&self) -> anyhow::Result<()> {
        for prefix in ["A", "B"] {
            for i in 0..self.accounts {
                let no = format!("{prefix}{i}");
                let open = json!({"account_no": no, "type": "customer", "currency": "CNY"});
                let (status, body) = self.post(&self.router, "/v1/accounts", open).await?;
                anyhow::ensure!(status == 201, "opening {no}: {status} {body}");
                let deposit = json!({"id": format!("fund-{no}"), "account": no, "amount": FUNDS, "currency": "CNY"});
                let (status, body) = self.post(&self.router, "/v1/deposits", deposit).await?;
                anyhow::ensure!(status == 201, "funding {no}: {status} {body}");
            }
        }
        Ok(())
    }

    fn transfer(&self, pairs: Pairs) -> Value {
        let n = self.next_id.fetch_add(1, Relaxed);
        let (i, j) = (
            n as usize % self.accounts,
            (n as usize / 7 + 1) % self.accounts,
        );
        let (debit, credit) = match pairs {
            Pairs::Inside if i == j => (format!("A{i}"), format!("A{}", (j + 1) % self.accounts)),
            Pairs::Inside => (format!("A{i}"), format!("A{j}")),
            Pairs::Across if n.is_multiple_of(2) => (format!("A{i}"), format!("B{j}")),
            Pairs::Across => (format!("B{i}"), format!("A{j}")),
        };
        json!({"id": format!("b{n}"), "debit_account": debit, "credit_account": credit, "amount": 1, "currency": "CNY"})
    }

    async fn phase(
        self: Arc<Self>,
        url: String,
        pairs: Pairs,
        args: &CrossShardBenchArgs,
    ) -> PhaseResult {
        let started = Instant::now();
        let until = started + Duration::from_secs(args.seconds);
        let totals = Arc::new(Mutex::new((0u64, 0u64, histogram())));
        let mut tasks = Vec::new();
        for _ in 0..args.clients {
            let (bench, url, totals) = (self.clone(), url.clone(), totals.clone());
            tasks.push(tokio::spawn(async move {
                let (mut done, mut errors) = (0, 0);
                let mut latency = histogram();
                while Instant::now() < until {
                    let sent = Instant::now();
                    match bench
                        .post(&url, "/v1/transfers", bench.transfer(pairs))
                        .await
                    {
                        Ok((201, _)) => {
                            done += 1;
                            latency.saturating_record(sent.elapsed().as_micros() as u64);
                        }
                        _ => errors += 1,
                    }
                }
                let mut totals = totals.lock().unwrap();
                totals.0 += done;
                totals.1 += errors;
                totals.2.add(&latency).expect("same histogram bounds");
            }));
        }
        for task in tasks {
            task.await.expect("a client task");
        }
        let elapsed = started.elapsed();
        let (transfers, errors, latency) =
            std::mem::replace(&mut *totals.lock().unwrap(), (0, 0, histogram()));
        PhaseResult {
            transfers,
            errors,
            elapsed,
            latency,
        }
    }

    async fn check(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let report: Value = self
                .http
                .get(format!("{}/v1/shards/transit", self.router))
                .bearer_auth(KEY)
                .send()
                .await?
                .json()
                .await?;
            if report["clean"] == true {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "transit never settled: {report}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for shard in ["s1", "s2"] {
            let mut sum = 0i64;
            let mut after = String::new();
            loop {
                let page = self
                    .get(&format!("/v1/accounts?limit=1000&after={after}"), shard)
                    .await?;
                sum += page["accounts"]
                    .as_array()
                    .context("accounts")?
                    .iter()
                    .filter_map(|a| a["balance"].as_i64())
                    .sum::<i64>();
                match page["next"].as_str() {
                    Some(next) => after = next.to_owned(),
                    None => break,
                }
            }
            anyhow::ensure!(sum == 0, "shard {shard}'s books do not balance: {sum}");
        }
        Ok(())
    }
}
