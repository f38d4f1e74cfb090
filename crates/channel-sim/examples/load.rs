//! Load on the simulator: quick-pay requests through the sim-json or sim-form adapter from many
//! concurrent tasks against a simulator in a child process, whose CPU time is read from
//! /proc. Prints requests/s, latency percentiles and the simulator's CPU per 1,000 requests/s.
//!
//! `cargo run --release -p paycore-channel-sim --example load -- [requests] [concurrency] [sim-form|sim-json]`

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use paycore_channels::{
    adapter, ChannelEndpoint, Currency, Method, PayOrder, Protocol, SigningSecret,
};

/// Linux reports process CPU time in ticks of 1/100 s.
const TICKS_PER_SECOND: f64 = 100.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return serve();
    }
    let requests: usize = args
        .first()
        .map_or(100_000, |a| a.parse().expect("requests"));
    let concurrency: usize = args.get(1).map_or(64, |a| a.parse().expect("concurrency"));
    let protocol = args.get(2).map_or(Protocol::SimJson, |a| {
        Protocol::from_name(a).expect("protocol")
    });
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .expect("simulator starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let url = line.trim().rsplit(' ').next().expect("address").to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(load(&url, child.id(), requests, concurrency, protocol));
    child.kill().expect("simulator stops");
    child.wait().expect("simulator reaped");
}

fn serve() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let listen = "127.0.0.1:0".parse().expect("address");
    runtime
        .block_on(paycore_channel_sim::run(listen, 1, std::future::pending()))
        .expect("simulator serves");
}

/// The simulator's user + system CPU seconds so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .expect("stat")
        .split_whitespace()
        .collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / TICKS_PER_SECOND
}

async fn load(url: &str, pid: u32, requests: usize, concurrency: usize, protocol: Protocol) {
    let http = reqwest::Client::new();
    let config = serde_json::json!({ "protocol": protocol.name(), "secret": "load-secret", "callback": "none" });
    let put = http
        .put(format!("{url}/sim/channels/load"))
        .body(config.to_string())
        .send()
        .await;
    assert!(put.expect("configure").status().is_success());
    let endpoint = ChannelEndpoint {
        channel_id: "load".to_owned(),
        protocol,
        endpoint: url.to_owned(),
        secret: SigningSecret::new("load-secret"),
    };
    let adapter = adapter(endpoint, http, Duration::from_secs(5));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (cpu_before, started) = (cpu_seconds(pid), Instant::now());
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (adapter, next) = (adapter.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= requests {
                        return latencies;
                    }
                    let order = PayOrder {
                        channel_order_no: format!("L{i}"),
                        amount_minor: 100 + (i as u64 % 1000),
                        currency: Currency::CNY,
                        method: Method::Quickpay,
                        subject: "load".to_owned(),
                        notify_url: String::new(),
                    };
                    let sent = Instant::now();
                    adapter.pay(&order).await.expect("pay answered");
                    latencies.push(sent.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    for task in tasks {
        latencies.extend(task.await.expect("task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let rate = requests as f64 / elapsed;
    println!("protocol {} requests {requests} concurrency {concurrency} (client and simulator share this machine)", protocol.name());
    println!("throughput {rate:.0} pay requests/s over {elapsed:.2} s");
    println!(
        "latency p50 {:?} p99 {:?} max {:?}",
        at(0.5),
        at(0.99),
        at(1.0)
    );
    println!(
        "simulator CPU {cpu:.2} s = {:.0}% of a core, {:.1}% of a core per 1,000 requests/s",
        100.0 * cpu / elapsed,
        100.0 * cpu / elapsed / (rate / 1000.0)
    );
}
