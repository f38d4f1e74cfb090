//! `paycore bench etcd`: the replicated log's append path alone (`paycore_replication`): one
//! leader appending batches of a given size to a shard's log in etcd, one at a time, each
//! acknowledged only once etcd committed it on a quorum. The floor under a replicated engine:
//! its batches/s at a batch size bound its transfers/s.
//!
//! Starts a 3-member etcd cluster on this machine (Debian's `etcd` on PATH) unless `--etcd`
//! names one.

use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use paycore_replication::cluster::EtcdCluster;
use paycore_replication::{parse_etcd_url, Campaign, ShardLog};

#[derive(clap::Args, Debug, Clone)]
pub struct EtcdBenchArgs {
    /// The etcd cluster to use, `etcd://host:port[,host:port…]` (default: start 3 members here).
    #[arg(long)]
    pub etcd: Option<String>,
    /// Batch sizes to append, in bytes.
    #[arg(long, value_delimiter = ',', default_value = "4096,65536,524288")]
    pub sizes: Vec<usize>,
    /// Seconds per batch size.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
}

pub fn run(args: EtcdBenchArgs) -> anyhow::Result<()> {
    let cluster = match &args.etcd {
        Some(_) => None,
        None => Some(EtcdCluster::start(3).context("etcd is not installed (Debian: etcd-server)")?),
    };
    let url = args
        .etcd
        .clone()
        .or_else(|| cluster.as_ref().map(EtcdCluster::url))
        .context("an etcd URL")?;
    let endpoints = parse_etcd_url(&url)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "paycore bench etcd: {} member(s) at {url}, {} s per size, one append in flight",
        endpoints.len(),
        args.seconds
    );
    for &size in &args.sizes {
        let figures = runtime.block_on(append_for(&endpoints, size, args.seconds))?;
        figures.print(size);
    }
    drop(cluster);
    Ok(())
}

struct Figures {
    appends: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

impl Figures {
    fn print(&self, size: usize) {
        let per_s = self.appends as f64 / self.elapsed.as_secs_f64();
        let us = |q: f64| Duration::from_micros(self.latency.value_at_quantile(q));
        println!(
            "{:>8} KiB batches: {per_s:>7.0} appends/s {:>7.1} MB/s | latency p50 {:.2?} p99 {:.2?} max {:.2?}",
            size / 1024,
            per_s * size as f64 / 1e6,
            us(0.5),
            us(0.99),
            Duration::from_micros(self.latency.max()),
        );
    }
}

async fn append_for(endpoints: &[String], size: usize, seconds: u64) -> anyhow::Result<Figures> {
    let shard = format!("bench-{}-{size}", std::process::id());
    let mut log = ShardLog::connect(endpoints, &shard, Duration::from_secs(10)).await?;
    let leadership = match log.campaign("bench", 30).await? {
        Campaign::Won(leadership) => leadership,
        Campaign::Lost { leader } => anyhow::bail!("shard {shard} is held by {leader:?}"),
    };
    let mut latency = Histogram::<u64>::new(3)?;
    // Incompressible content, as a batch of transfers nearly is after encoding.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let batch: Vec<u8> = (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut sequence = 0;
    while Instant::now() < deadline {
        sequence += 1;
        let sent = Instant::now();
        log.append(&leadership, sequence, &batch).await?;
        latency.record(sent.elapsed().as_micros() as u64)?;
    }
    let elapsed = started.elapsed();
    log.compact(&leadership, sequence + 1).await?;
    log.resign(leadership).await?;
    Ok(Figures {
        appends: sequence,
        elapsed,
        latency,
    })
}
