//! `paycore bench recon`: one channel's day of `--lines` statement lines reconciled against as
//! many orders, through the real path — the upload streamed to the server's spool, parsed,
//! stored, matched page by page against the payment store — and the process's peak memory.
//!
//! The orders are written straight into the payment store's SQLite file once the server
//! created it, before anything is timed (creating a million payments through the API would bench the payment path, not
//! reconciliation); the statement is written to a file row by row. Neither is timed. A few
//! lines per thousand are made wrong on purpose (one dropped, one extra, one amount changed)
//! and the run must find exactly those, so the figure is of a run that did its job.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use paycore_engine::EngineConfig;
use paycore_money::{format_minor, Currency};
use paycore_server::{Server, ServerConfig};
use serde_json::{json, Value};

#[derive(clap::Args, Debug, Clone)]
pub struct ReconBenchArgs {
    /// Statement lines, and orders paycore holds.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: u64,
}

const KEY: &str = "pck_bench_recon_admin";
const CHANNEL: &str = "rb";
const DAY: &str = "2026-11-30";

pub fn run(args: ReconBenchArgs) -> anyhow::Result<()> {
    // PAYCORE_LOG=info shows the time of each pass.
    let temp = tempfile::Builder::new()
        .prefix("paycore-bench-recon-")
        .tempdir_in(".")?;
    let statement = temp.path().join("statement.csv");
    write_statement(&statement, args.lines, day_start_ms()?)?;
    let rss_before = peak_rss_kib();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(reconcile(temp.path(), &statement, args.lines))?;
    let rss = peak_rss_kib();
    println!(
        "  peak RSS {} MiB (before the server started: {} MiB)",
        rss >> 10,
        rss_before >> 10
    );
    Ok(())
}

async fn reconcile(data_dir: &Path, statement: &Path, orders: u64) -> anyhow::Result<()> {
    let sim = paycore_channel_sim::Simulator::bind("127.0.0.1:0".parse()?, 1).await?;
    let sim_url = format!("http://{}", sim.local_addr());
    tokio::spawn(sim.serve(std::future::pending()));
    let config = ServerConfig {
        engine: EngineConfig::new(data_dir),
        listen: "127.0.0.1:0".parse()?,
        currencies: vec![Currency::CNY],
        bootstrap_key: Some(KEY.into()),
        store: paycore_server::StoreUrl::default_in(data_dir),
        day_end_at: None,
        payments: Default::default(),
    };
    let server = Server::bind(config).await?;
    let url = format!("http://{}", server.local_addr());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3_600))
        .build()?;
    add_channel(&http, &url, &sim_url).await?;
    let seeding = Instant::now();
    let db = data_dir.join("payments.sqlite");
    tokio::task::spawn_blocking(move || seed_orders(&db, orders, day_start_ms()?)).await??;
    let size = std::fs::metadata(statement)?.len();
    println!(
        "paycore bench recon: {orders} orders and a {} MiB statement of {orders} lines written in {:.1?} (not timed)",
        size >> 20,
        seeding.elapsed()
    );
    // Streamed from the file: neither side holds the statement in memory.
    let body = reqwest::Body::from(tokio::fs::File::open(statement).await?);
    let started = Instant::now();
    let response = http
        .post(format!(
            "{url}/v1/recon/statements?channel={CHANNEL}&date={DAY}&format=csv"
        ))
        .bearer_auth(KEY)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let run: Value = response.json().await?;
    let elapsed = started.elapsed();
    ensure!(status == 201, "import and run: {status} {run}");
    let lines = run["statement"]["lines"].as_u64().unwrap_or(0);
    println!(
        "  import + run: {:>9.0} records/s ({lines} lines in {elapsed:.2?}; matched {}, differences {})",
        lines as f64 / elapsed.as_secs_f64(),
        run["run"]["matched"],
        run["run"]["differences"]
    );
    check_differences(&run["run"], orders)?;
    let _ = stop_tx.send(());
    task.await??;
    Ok(())
}

/// The run found exactly the faults the statement was written with.
fn check_differences(run: &Value, orders: u64) -> anyhow::Result<()> {
    let (dropped, changed) = (count_of(orders, DROPPED), count_of(orders, CHANGED));
    let mut want = serde_json::Map::new();
    for (kind, count) in [
        ("amount_mismatch", changed),
        ("missing_ours", dropped),
        ("missing_theirs", dropped),
    ] {
        if count > 0 {
            want.insert(kind.into(), json!(count));
        }
    }
    ensure!(
        run["differences"] == Value::Object(want.clone()),
        "the run found {} where the statement holds {want:?}",
        run["differences"]
    );
    let matched = orders - dropped - changed;
    ensure!(
        run["matched"].as_u64() == Some(matched),
        "matched {} of {matched}",
        run["matched"]
    );
    Ok(())
}

async fn add_channel(http: &reqwest::Client, url: &str, sim: &str) -> anyhow::Result<()> {
    let secret = "bench-recon-secret";
    let put = http
        .put(format!("{sim}/sim/channels/{CHANNEL}"))
        .json(&json!({"protocol": "sim-json", "secret": secret}))
        .send()
        .await?;
    ensure!(
        put.status().is_success(),
        "simulator: {}",
        put.text().await?
    );
    let added = http
        .post(format!("{url}/v1/channels"))
        .bearer_auth(KEY)
        .json(
            &json!({"id": CHANNEL, "protocol": "sim-json", "endpoint": sim, "secret": secret,
            "methods": ["quickpay"], "currencies": ["CNY"], "weight": 100}),
        )
        .send()
        .await?;
    ensure!(
        added.status().is_success(),
        "channel: {}",
        added.text().await?
    );
    Ok(())
}

/// Of each thousand orders, the statement drops the one with this remainder (and lists one
/// paycore lacks in its place)…
const DROPPED: u64 = 7;
/// … and prints this one's amount a cent higher.
const CHANGED: u64 = 500;

/// How many of `orders` have remainder `r` modulo a thousand.
fn count_of(orders: u64, r: u64) -> u64 {
    (orders + 999 - r) / 1_000
}

fn key(n: u64) -> String {
    format!("rb{n:010}")
}

fn amount(n: u64) -> u64 {
    100 + n % 100_000
}

/// Orders spread over the day, none near its end (nothing carried).
fn at(day_start: u64, n: u64) -> u64 {
    day_start + 3_600_000 + (n * 37) % (18 * 3_600_000)
}

/// Midnight of `DAY` in Beijing (UTC+8), in Unix milliseconds.
fn day_start_ms() -> anyhow::Result<u64> {
    let date = time::Date::from_calendar_date(2026, time::Month::November, 30)?;
    let utc_midnight = date.midnight().assume_utc().unix_timestamp();
    Ok(((utc_midnight - 8 * 3_600) * 1_000) as u64)
}

/// Succeeded payments with their attempts, as the service stores them.
fn seed_orders(path: &Path, orders: u64, day_start: u64) -> anyhow::Result<()> {
    let mut db = rusqlite::Connection::open(path).context("the server's payment store")?;
    db.pragma_update(None, "synchronous", "OFF")?;
    let tx = db.transaction()?;
    {
        let mut payment = tx.prepare(
            "INSERT INTO pay_payments (id, trade_id, merchant, method, amount, currency, fee, \
             status, balance_amount, disposition, posted, created_at, updated_at, succeeded_at, \
             anomalies) VALUES (?1, ?1, 'bench', 'quickpay', ?2, 'CNY', 0, 'succeeded', 0, \
             'keep', 'final', ?3, ?3, ?3, '[]')",
        )?;
        let mut attempt = tx.prepare(
            "INSERT INTO pay_attempts (channel_order_no, payment_id, attempt, channel, status, \
             route, created_at, updated_at, sent_at, sends, queries, bank_ref) \
             VALUES (?1, ?2, 1, ?3, 'succeeded', '{}', ?4, ?4, ?4, 1, 0, ?1)",
        )?;
        for n in 0..orders {
            let (id, at) = (format!("rbp{n}"), at(day_start, n) as i64);
            payment.execute(rusqlite::params![id, amount(n) as i64, at])?;
            attempt.execute(rusqlite::params![key(n), id, CHANNEL, at])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The channel's statement: every order but the dropped ones, one changed amount and one
/// extra line per thousand.
fn write_statement(path: &Path, orders: u64, day_start: u64) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        out,
        "time,channel_order_no,bank_ref,kind,status,amount,fee,currency,refund_no"
    )?;
    for n in 0..orders {
        let time = beijing_time(at(day_start, n), day_start);
        if n % 1_000 == DROPPED {
            line(&mut out, &time, &format!("rbx{n:010}"), amount(n))?;
            continue;
        }
        line(
            &mut out,
            &time,
            &key(n),
            amount(n) + u64::from(n % 1_000 == CHANGED),
        )?;
    }
    out.flush()?;
    Ok(())
}

fn line(out: &mut impl Write, time: &str, key: &str, amount: u64) -> anyhow::Result<()> {
    let yuan = format_minor(amount as i64, Currency::CNY);
    let fee = format_minor((amount / 1_000) as i64, Currency::CNY);
    writeln!(out, "{time},{key},B{key},payment,SUCCESS,{yuan},{fee},CNY,")?;
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time, within `DAY`.
fn beijing_time(at: u64, day_start: u64) -> String {
    let seconds = (at - day_start) / 1_000;
    let (h, m, s) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    format!("{DAY} {h:02}:{m:02}:{s:02}")
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
