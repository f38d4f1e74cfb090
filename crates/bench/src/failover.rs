//! `paycore bench failover`: how long a replicated shard is without a leader when its leader is
//! killed (issue 21: ≤ 5 s from kill to the first accepted write, over 20 kills).
//!
//! Starts a 3-member etcd cluster and two `paycore serve` processes of this binary on one
//! shard, a leader and a standby. Each round posts transfers to the leader, kills it with
//! SIGKILL, times the standby from the kill to its first accepted transfer, then restarts the
//! killed node on its data directory as the new standby and waits until it caught up. At the
//! end every acknowledged transfer must be on the last leader, once, and the books balanced.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use paycore_replication::cluster::EtcdCluster;
use serde_json::{json, Value};

use crate::processes::{free_port, Node, NodeSpec};

#[derive(clap::Args, Debug, Clone)]
pub struct FailoverBenchArgs {
    /// Leaders killed, one after another.
    #[arg(long, default_value_t = 20)]
    pub kills: usize,
    /// Seconds of the leadership lease (`serve --lease-s`).
    #[arg(long, default_value_t = 2)]
    pub lease_s: u64,
    /// Transfers posted to each leader before it is killed.
    #[arg(long, default_value_t = 50)]
    pub transfers: usize,
}

const KEY: &str = "pck_bench_failover_admin";
const WAIT_MAX: Duration = Duration::from_secs(60);

pub fn run(args: FailoverBenchArgs) -> anyhow::Result<()> {
    let cluster = EtcdCluster::start(3).context("etcd is not installed (Debian: etcd-server)")?;
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-failover-")
        .tempdir_in(".")?;
    let dirs = [temp.path().join("a"), temp.path().join("b")];
    let nodes = [free_port()?, free_port()?];
    let etcd = cluster.url();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let node = |dir: &Path, port: u16, standby: bool| {
        Node::start(&NodeSpec {
            dir,
            port,
            etcd: &etcd,
            shard: "s1",
            lease_s: args.lease_s,
            standby,
            key: KEY,
        })
    };
    let mut leader = node(&dirs[0], nodes[0], false)?;
    set_up(&http, &leader.url)?;
    let mut standby = node(&dirs[1], nodes[1], true)?;
    println!(
        "paycore bench failover: {} kills, lease {} s, {} transfers per leader",
        args.kills, args.lease_s, args.transfers
    );
    let mut acknowledged = 0u64;
    let mut times = Vec::with_capacity(args.kills);
    let mut which = 0; // the index of the leader's directory
    for round in 0..args.kills {
        for i in 0..args.transfers {
            let id = format!("r{round}-{i}");
            anyhow::ensure!(
                transfer(&http, &leader.url, &id)? == 201,
                "the leader refused {id}"
            );
            acknowledged += 1;
        }
        caught_up(&http, &standby.url, &leader.url)?;
        let killed = Instant::now();
        drop(leader);
        let took = first_accepted_write(&http, &standby.url, killed, round)?;
        acknowledged += 1;
        println!(
            "kill {:>2}: first write accepted after {took:.2?}",
            round + 1
        );
        times.push(took);
        leader = standby;
        standby = node(&dirs[which], nodes[which], true)?;
        which = 1 - which;
        caught_up(&http, &standby.url, &leader.url)?;
    }
    times.sort();
    println!(
        "failover over {} kills: median {:.2?}, max {:.2?}, min {:.2?}",
        times.len(),
        times[times.len() / 2],
        times[times.len() - 1],
        times[0]
    );
    check_books(&http, &leader.url, acknowledged)?;
    println!("every acknowledged transfer ({acknowledged}) is on the last leader once; the books balance");
    Ok(())
}

fn post(
    http: &reqwest::blocking::Client,
    url: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<u16> {
    let response = http
        .post(format!("{url}{path}"))
        .bearer_auth(KEY)
        .json(&body)
        .send()?;
    Ok(response.status().as_u16())
}

fn get(http: &reqwest::blocking::Client, url: &str, path: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(format!("{url}{path}"))
        .bearer_auth(KEY)
        .send()?
        .json()?)
}

fn transfer(http: &reqwest::blocking::Client, url: &str, id: &str) -> anyhow::Result<u16> {
    post(
        http,
        url,
        "/v1/transfers",
        json!({"id": id, "debit_account": "FO1", "credit_account": "FO2", "amount": 1, "currency": "CNY"}),
    )
}

fn set_up(http: &reqwest::blocking::Client, leader: &str) -> anyhow::Result<()> {
    for no in ["FO1", "FO2"] {
        let status = post(
            http,
            leader,
            "/v1/accounts",
            json!({"account_no": no, "type": "customer", "currency": "CNY"}),
        )?;
        anyhow::ensure!(status == 201, "opening {no}: HTTP {status}");
    }
    let deposit = json!({"id": "dep", "account": "FO1", "amount": 1u64 << 40, "currency": "CNY"});
    anyhow::ensure!(
        post(http, leader, "/v1/deposits", deposit)? == 201,
        "funding FO1"
    );
    Ok(())
}

fn caught_up(http: &reqwest::blocking::Client, standby: &str, leader: &str) -> anyhow::Result<()> {
    let target = get(http, leader, "/healthz")?["durable_sequence"]
        .as_u64()
        .context("durable_sequence")?;
    let deadline = Instant::now() + WAIT_MAX;
    while get(http, standby, "/healthz")?["durable_sequence"].as_u64() < Some(target) {
        anyhow::ensure!(Instant::now() < deadline, "the standby never caught up");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn first_accepted_write(
    http: &reqwest::blocking::Client,
    node: &str,
    since: Instant,
    round: usize,
) -> anyhow::Result<Duration> {
    for i in 0.. {
        if matches!(transfer(http, node, &format!("probe-{round}-{i}")), Ok(201)) {
            return Ok(since.elapsed());
        }
        anyhow::ensure!(since.elapsed() < WAIT_MAX, "the standby never took over");
        std::thread::sleep(Duration::from_millis(10));
    }
    unreachable!("the loop returns or fails")
}

fn check_books(
    http: &reqwest::blocking::Client,
    leader: &str,
    acknowledged: u64,
) -> anyhow::Result<()> {
    let fo2 = get(http, leader, "/v1/accounts/FO2")?["balance"]
        .as_u64()
        .context("FO2")?;
    anyhow::ensure!(
        fo2 == acknowledged,
        "FO2 holds {fo2}, {acknowledged} transfers were acknowledged"
    );
    let accounts = get(http, leader, "/v1/accounts?limit=1000")?;
    let sum: i64 = accounts["accounts"]
        .as_array()
        .context("accounts")?
        .iter()
        .filter_map(|a| a["balance"].as_i64())
        .sum();
    anyhow::ensure!(sum == 0, "the books do not balance: {sum}");
    Ok(())
}
