//! How fast the dispatcher delivers to a local merchant server: a real payment store (SQLite
//! in a temp dir on disk, synchronous=FULL; or PostgreSQL with `--postgres <url>`), a real
//! axum merchant on 127.0.0.1 that answers `success` at once, the dispatcher with its default
//! configuration (4 connections per merchant) and the crate's real HTTP client.
//!
//! Two phases: **drain** — `--backlog` notifications already in the outbox, time until all
//! are delivered; **steady** — notifications inserted in writer jobs of `--batch` at
//! `--rate` per second, with `wake()` after each, latency from the insert's commit to the
//! merchant's receipt.
//!
//! `cargo run --release -p paycore-notify --example throughput -- --backlog 20000 --merchants 16`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use parking_lot::Mutex;
use paycore_notify::{Dispatcher, DispatcherConfig};
use paycore_payment_store::repo::merchants;
use paycore_payment_store::repo::notifications::{self as outbox, secrets, NewNotification};
use paycore_payment_store::{Location, Writer};
use paycore_payments::NewMerchant;

struct Options {
    backlog: usize,
    steady: usize,
    rate: usize,
    batch: usize,
    merchants: usize,
    postgres: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        backlog: 20_000,
        steady: 10_000,
        rate: 2_500,
        batch: 50,
        merchants: 16,
        postgres: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        let number = || value.parse::<usize>().expect("a number");
        match pair[0].as_str() {
            "--backlog" => o.backlog = number(),
            "--steady" => o.steady = number(),
            "--rate" => o.rate = number(),
            "--batch" => o.batch = number(),
            "--merchants" => o.merchants = number(),
            "--postgres" => o.postgres = Some(value.to_owned()),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// Event id → when the merchant received it (first time).
type Receipts = Arc<Mutex<HashMap<String, Instant>>>;

async fn merchant() -> (std::net::SocketAddr, Receipts) {
    let receipts: Receipts = Arc::default();
    let seen = Arc::clone(&receipts);
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let seen = Arc::clone(&seen);
        async move {
            if let Some(id) = headers
                .get("paycore-event-id")
                .and_then(|v| v.to_str().ok())
            {
                seen.lock()
                    .entry(id.to_owned())
                    .or_insert_with(Instant::now);
            }
            "success"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, receipts)
}

fn notification(i: usize, merchants: usize, url: &str) -> NewNotification {
    let id = format!("evt_T{i}_trade.paid");
    let fields =
        serde_json::json!({"trade_id": format!("T{i}"), "amount": 1999, "currency": "CNY"});
    NewNotification {
        body: paycore_notify::body(&id, "trade.paid", 1_714_564_800_000, fields).unwrap(),
        event_id: id,
        merchant: format!("m{}", i % merchants),
        order_id: format!("T{i}"),
        event_type: "trade.paid".into(),
        url: url.to_owned(),
        created_at: paycore_notify::now_ms(),
    }
}

async fn insert(writer: &Writer<()>, all: Vec<NewNotification>) {
    writer
        .run(move |_, sql| {
            all.iter()
                .try_for_each(|n| outbox::insert(sql, n).map(|_| ()))
        })
        .await
        .unwrap();
}

async fn wait_delivered(dispatcher: &Dispatcher, count: u64) {
    while dispatcher.metrics().delivered < count {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// CPU time this process used so far (user + system, every thread), from /proc/self/stat.
fn cpu_used() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    // Clock ticks of 10 ms (USER_HZ is 100 on Linux).
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn print_latency(label: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "  {label}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} samples)",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        latencies.len()
    );
}

async fn drain(o: &Options, writer: &Arc<Writer<()>>, start: impl Fn() -> Dispatcher, url: &str) {
    let all: Vec<_> = (0..o.backlog)
        .map(|i| notification(i, o.merchants, url))
        .collect();
    for chunk in all.chunks(2_000) {
        insert(writer, chunk.to_vec()).await;
    }
    let (started, cpu_before) = (Instant::now(), cpu_used());
    let dispatcher = start();
    wait_delivered(&dispatcher, o.backlog as u64).await;
    let (took, cpu) = (started.elapsed(), cpu_used() - cpu_before);
    let cpu_each = cpu.as_secs_f64() / o.backlog as f64;
    println!(
        "drain: {} notifications to {} merchants in {:.2} s = {:.0} delivered/s",
        o.backlog,
        o.merchants,
        took.as_secs_f64(),
        o.backlog as f64 / took.as_secs_f64()
    );
    println!(
        "  CPU (dispatcher, store, HTTP client and the merchant server together): {:.2} s = \
         {:.0} µs per notification; {:.1} cores busy on average",
        cpu.as_secs_f64(),
        cpu_each * 1e6,
        cpu.as_secs_f64() / took.as_secs_f64()
    );
    dispatcher.stop().await;
}

async fn steady(
    o: &Options,
    writer: &Arc<Writer<()>>,
    start: impl Fn() -> Dispatcher,
    url: &str,
    receipts: &Receipts,
) {
    let dispatcher = start();
    let base = o.backlog;
    let interval = Duration::from_secs_f64(o.batch as f64 / o.rate as f64);
    let mut committed: Vec<(String, Instant)> = Vec::with_capacity(o.steady);
    let started = Instant::now();
    let mut next = Instant::now();
    for first in (0..o.steady).step_by(o.batch) {
        let batch: Vec<_> = (first..(first + o.batch).min(o.steady))
            .map(|i| notification(base + i, o.merchants, url))
            .collect();
        let ids: Vec<String> = batch.iter().map(|n| n.event_id.clone()).collect();
        insert(writer, batch).await;
        let at = Instant::now();
        dispatcher.wake();
        committed.extend(ids.into_iter().map(|id| (id, at)));
        next += interval;
        tokio::time::sleep_until(next.into()).await;
    }
    wait_delivered(&dispatcher, o.steady as u64).await;
    let took = started.elapsed();
    println!(
        "steady: {} notifications offered at {}/s in batches of {}: {:.0} delivered/s",
        o.steady,
        o.rate,
        o.batch,
        o.steady as f64 / took.as_secs_f64()
    );
    dispatcher.stop().await;
    let seen = receipts.lock();
    let latencies = committed
        .iter()
        .map(|(id, at)| seen[id].saturating_duration_since(*at))
        .collect();
    print_latency("insert committed → merchant received", latencies);
}

fn main() {
    let o = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let location = match &o.postgres {
        Some(url) => Location::Postgres(url.clone()),
        None => Location::Sqlite(dir.path().join("payments.sqlite")),
    };
    let conn = location.connect(true).unwrap();
    let writer =
        Arc::new(Writer::<()>::start(conn, Box::new(|_| Ok(())), Box::new(|_, _| Ok(()))).unwrap());
    let readers = location.readers(4);
    let (secret_writer, merchants) = (Arc::clone(&writer), o.merchants);
    secret_writer
        .run_blocking(move |_, sql| {
            (0..merchants).try_for_each(|m| {
                let id = format!("m{m}");
                let merchant = NewMerchant {
                    id: id.clone(),
                    name: id.clone(),
                    callback_hosts: vec!["127.0.0.1".into()],
                    fee_rate_bp: 0,
                    currency: paycore_money::Currency::CNY,
                };
                let merchant = merchant.into_merchant(0).expect("a valid merchant");
                merchants::insert(sql, &merchant)?;
                secrets::create(sql, &id, "whsec_bench_secret_0123456789", 0).map(|_| ())
            })
        })
        .unwrap();
    runtime.block_on(async {
        let (addr, receipts) = merchant().await;
        let url = format!("http://{addr}/notify");
        let start = || {
            let config = DispatcherConfig {
                allow: vec!["127.0.0.1/32".parse().unwrap()],
                ..DispatcherConfig::default()
            };
            Dispatcher::start(config, readers.clone(), Arc::clone(&writer)).unwrap()
        };
        println!(
            "store: {}; {} merchants, 4 connections each; {} cores",
            if o.postgres.is_some() {
                "PostgreSQL"
            } else {
                "SQLite (synchronous=FULL)"
            },
            o.merchants,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        drain(&o, &writer, start, &url).await;
        steady(&o, &writer, start, &url, &receipts).await;
        let attempts = readers
            .read(|sql| {
                let filter = outbox::Filter {
                    limit: 1_000,
                    ..outbox::Filter::default()
                };
                outbox::list(sql, &filter)
            })
            .await
            .unwrap();
        let http = attempts
            .iter()
            .map(|n| Duration::from_millis(n.attempts[0].latency_ms))
            .collect();
        print_latency("HTTP attempt (first 1000 recorded, ms resolution)", http);
    });
    drop(readers);
}
