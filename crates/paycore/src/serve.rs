//! `paycore serve`: the HTTP server on the embedded engine. Logs go to stderr; the admin key
//! created on first start is printed once on stdout.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use paycore_engine::{EngineConfig, ReplicatorHandle, Retention};
use paycore_money::Currency;
use paycore_notify::{Schedule, TargetPolicy};
use paycore_replication::{EtcdReplicator, StandbyOptions};
use paycore_server::{
    AdjustmentConfig, AdjustmentPolicy, HealthPolicy, NotifyConfig, PaymentOptions, QuerySchedule,
    Server, ServerConfig, StoreUrl,
};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where the ledger keeps its log, snapshots and API keys.
    #[arg(long, env = "PAYCORE_DATA_DIR", default_value = "./paycore-data")]
    pub data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "PAYCORE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Log format on stderr: text or json.
    #[arg(long, env = "PAYCORE_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// Currencies that get a settlement account (SETTLEMENT-<code>) for deposits and withdrawals.
    #[arg(
        long,
        env = "PAYCORE_CURRENCIES",
        value_delimiter = ',',
        default_value = "CNY"
    )]
    pub currencies: Vec<String>,
    /// Write a snapshot after this many commands (0: only at shutdown).
    #[arg(long, env = "PAYCORE_SNAPSHOT_EVERY", default_value_t = 5_000_000)]
    pub snapshot_every: u64,
    /// What to do with log segments covered by snapshots: keep, archive or delete.
    #[arg(long, env = "PAYCORE_LOG_RETENTION", default_value = "archive")]
    pub log_retention: String,
    /// Query store: a SQLite path (default: store.sqlite in the data directory) or a
    /// postgres://user:password@host/database URL.
    #[arg(long, env = "PAYCORE_STORE")]
    pub store: Option<String>,
    /// Close the accounting day automatically at this local time (HH:MM:SS, in the UTC offset
    /// of --utc-offset), e.g. 23:59:59. Without it, day-end runs on POST /v1/day-end.
    #[arg(long, env = "PAYCORE_DAY_END_AT")]
    pub day_end_at: Option<String>,
    /// Offset of the local accounting day from UTC, e.g. +08:00 (Asia/Shanghai, the default).
    #[arg(
        long,
        env = "PAYCORE_UTC_OFFSET",
        default_value = "+08:00",
        allow_hyphen_values = true
    )]
    pub utc_offset: String,
    /// How long a channel (bank) call may take before its outcome is `unknown` (then asked
    /// again until the bank says).
    #[arg(long, env = "PAYCORE_CHANNEL_TIMEOUT_MS", default_value_t = 5_000)]
    pub channel_timeout_ms: u64,
    /// The base URL banks send callbacks to (default: http://<listen address>).
    #[arg(long, env = "PAYCORE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Delays between status queries of an unknown outcome, e.g. 1s,2s,5s,10s (the last
    /// repeats; default 1s,2s,5s,10s,30s,1m,2m,5m,10m).
    #[arg(long, env = "PAYCORE_QUERY_SCHEDULE", value_delimiter = ',')]
    pub query_schedule: Vec<String>,
    /// A status query that finds no such order fails it only this long after it was sent.
    #[arg(long, env = "PAYCORE_NOT_FOUND_GRACE_MS", default_value_t = 60_000)]
    pub not_found_grace_ms: u64,
    /// A ledger step that must still happen but was refused (a frozen clearing account, a
    /// full suspense account) is tried again after this many milliseconds; the order's
    /// anomalies say why it waits.
    #[arg(long, env = "PAYCORE_LEDGER_RETRY_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub ledger_retry_ms: u64,
    /// A quick payment is refused (payment_pending) while an earlier payment of its trade is
    /// in flight and younger than this many seconds (0: never)
    #[arg(long, env = "PAYCORE_QUICKPAY_BLOCK_S", default_value_t = 180)]
    pub quickpay_block_s: u64,
    /// Reconciliation (对账): a success this many seconds before a day's end (Beijing time)
    /// that the statement does not list is carried to the next day's run (跨日).
    #[arg(long, env = "PAYCORE_RECON_CARRY_WINDOW_S", default_value_t = 600)]
    pub recon_carry_window_s: u64,
    /// Hours an adjustment (调账) waits for its approvals before it expires.
    #[arg(long, env = "PAYCORE_ADJUSTMENT_TTL_H", default_value_t = 72)]
    pub adjustment_ttl_h: u64,
    /// Adjustments above this amount (minor units, any currency) need two approvers besides
    /// the maker (default: 1,000,000.00 CNY).
    #[arg(
        long,
        env = "PAYCORE_ADJUSTMENT_DUAL_APPROVAL_ABOVE",
        default_value_t = 100_000_000
    )]
    pub adjustment_dual_approval_above: u64,
    /// Consecutive failures or timeouts that rest a channel (0: never).
    #[arg(long, env = "PAYCORE_CHANNEL_HEALTH_FAILURES", default_value_t = 10)]
    pub channel_health_failures: u32,
    /// How long a channel rests.
    #[arg(long, env = "PAYCORE_CHANNEL_REST_MS", default_value_t = 30_000)]
    pub channel_rest_ms: u64,
    /// How long one merchant notification attempt may take (connect, send, answer) before it
    /// counts as failed (`timeout`).
    #[arg(long, env = "PAYCORE_NOTIFY_TIMEOUT_MS", default_value_t = 5_000)]
    pub notify_timeout_ms: u64,
    /// Delays before each retry of a failed notification, e.g. 1s,2s,5s; after the last one
    /// it is dead. Default WeChat Pay v3's: 15s,15s,30s,3m,10m,20m,30m,30m,30m,60m,3h,3h,3h,6h,6h.
    #[arg(long, env = "PAYCORE_NOTIFY_SCHEDULE")]
    pub notify_schedule: Option<String>,
    /// Address ranges notifications may go to although private, loopback or otherwise
    /// refused, e.g. 127.0.0.1/32 for a local demo (comma separated; default none).
    #[arg(long, env = "PAYCORE_NOTIFY_ALLOW_CIDR", default_value = "")]
    pub notify_allow_cidr: String,
    /// Notification attempts in flight at once per merchant.
    #[arg(
        long,
        env = "PAYCORE_NOTIFY_CONNECTIONS_PER_MERCHANT",
        default_value_t = 4
    )]
    pub notify_connections_per_merchant: usize,
    /// Seconds a rotated-out notification secret keeps signing beside the new one, when the
    /// rotation asks for no other grace period.
    #[arg(long, env = "PAYCORE_NOTIFY_SECRET_GRACE_S", default_value_t = 86_400)]
    pub notify_secret_grace_s: u64,
    /// Replicate the ledger's log on etcd (etcd://host:port[,host:port…]): each batch is
    /// acknowledged only once etcd committed it, and this node must hold `--shard`.
    #[arg(long, env = "PAYCORE_REPLICATE", requires = "shard")]
    pub replicate: Option<String>,
    /// Follow the shard as a standby (with --replicate): take its batches from etcd, serve
    /// reads, refuse writes with `503 not_leader`, and take the shard over when its leader's
    /// lease expires.
    #[arg(long, env = "PAYCORE_STANDBY", requires = "replicate")]
    pub standby: bool,
    /// The shard this node leads (with --replicate).
    #[arg(long, env = "PAYCORE_SHARD")]
    pub shard: Option<String>,
    /// Seconds the shard's leadership lease lasts without a refresh (with --replicate). A
    /// failover takes about this long (the lease must expire); it is refreshed every third.
    #[arg(long, env = "PAYCORE_LEASE_S", default_value_t = 3)]
    pub lease_s: i64,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format)?;
    let currencies = args
        .currencies
        .iter()
        .map(|c| Currency::from_code(c.trim()).with_context(|| format!("--currencies: {c:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut engine = EngineConfig::new(&args.data_dir);
    engine.snapshot_every_commands = args.snapshot_every;
    engine.retention = Retention::from_name(&args.log_retention)
        .context("--log-retention must be keep, archive or delete")?;
    engine.utc_offset_seconds = parse_offset(&args.utc_offset)?;
    let standby = match (&args.replicate, args.standby) {
        (Some(url), true) => {
            engine.standby = true;
            Some(standby_options(&args, url)?)
        }
        (Some(url), false) => {
            engine.replicator = Some(replicator(&args, url)?);
            None
        }
        (None, _) => None,
    };
    let store = args
        .store
        .as_deref()
        .map_or_else(|| StoreUrl::default_in(&args.data_dir), StoreUrl::parse);
    let day_end_at = args.day_end_at.as_deref().map(parse_time).transpose()?;
    let config = ServerConfig {
        engine,
        listen: args.listen,
        currencies,
        bootstrap_key: std::env::var("PAYCORE_BOOTSTRAP_KEY").ok(),
        store,
        day_end_at,
        payments: PaymentOptions {
            channel_timeout: std::time::Duration::from_millis(args.channel_timeout_ms.max(1)),
            callback_base_url: args.public_url.clone(),
            query_schedule: query_schedule(&args.query_schedule)?,
            health: HealthPolicy {
                failures_max: args.channel_health_failures,
                rest_ms: args.channel_rest_ms,
            },
            not_found_grace: std::time::Duration::from_millis(args.not_found_grace_ms),
            ledger_retry: std::time::Duration::from_millis(args.ledger_retry_ms),
            quickpay_block: std::time::Duration::from_secs(args.quickpay_block_s),
            adjustments: adjustment_config(&args)?,
            recon_carry_window: std::time::Duration::from_secs(args.recon_carry_window_s),
            notify: Some(notify_config(&args)?),
            notify_secret_grace: std::time::Duration::from_secs(args.notify_secret_grace_s),
        },
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(config).await.context("starting paycore")?;
        if let Some(options) = standby {
            tracing::info!(shard = %options.shard, address = %options.address, "standby: following the shard's log from etcd");
            // Ends by itself once promoted or when the engine stops.
            drop(paycore_replication::spawn_standby(server.engine(), options));
        }
        if let Some(key) = &server.bootstrap_key {
            println!("admin API key (shown once; store it now): {}", key.expose());
        }
        println!(
            "paycore listening on http://{} (data in {})",
            server.local_addr(),
            server.data_dir.display()
        );
        tracing::info!(addr = %server.local_addr(), "listening");
        server.run(shutdown_signal()).await.context("serving")?;
        tracing::info!("stopped cleanly: every acknowledged batch is durable");
        Ok(())
    })
}

pub(crate) fn init_logging(format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAYCORE_LOG")
        .unwrap_or_else(|_| "info".into());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        "text" => builder.init(),
        "json" => builder.json().init(),
        other => anyhow::bail!("--log-format must be text or json, not {other:?}"),
    }
    log_panics();
    Ok(())
}

/// A panic (an invariant's assertion, or an overflow check in the money crates) is logged as
/// an error event, so JSON logs and log shippers carry it, before the default hook prints it.
fn log_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let thread = std::thread::current();
        tracing::error!(
            thread = thread.name().unwrap_or("unnamed"),
            location = %info.location().map(|l| l.to_string()).unwrap_or_default(),
            %message,
            "panic"
        );
        default(info);
    }));
}

/// Claims the shard on etcd and brings it level with the local log, before the engine opens.
/// The address other nodes and clients are told to send this node's shard's writes to.
fn node_address(args: &ServeArgs) -> String {
    args.public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen))
}

fn standby_options(args: &ServeArgs, url: &str) -> anyhow::Result<StandbyOptions> {
    Ok(StandbyOptions {
        endpoints: paycore_replication::parse_etcd_url(url)?,
        shard: args.shard.clone().context("--replicate needs --shard")?,
        address: node_address(args),
        ttl_s: args.lease_s.max(1),
        retry_for: replication_retry(args),
        poll: std::time::Duration::from_millis(20),
    })
}

/// How long an append is retried while etcd has no quorum: an etcd leader election under load
/// takes seconds. A lease that could not be kept alive ends it sooner.
fn replication_retry(args: &ServeArgs) -> std::time::Duration {
    std::time::Duration::from_secs((args.lease_s.max(1) as u64 * 3).max(6))
}

fn replicator(args: &ServeArgs, url: &str) -> anyhow::Result<ReplicatorHandle> {
    let endpoints = paycore_replication::parse_etcd_url(url)?;
    let shard = args.shard.as_deref().context("--replicate needs --shard")?;
    let address = node_address(args);
    let mut replicator = EtcdReplicator::start(
        &endpoints,
        shard,
        &address,
        args.lease_s.max(1),
        replication_retry(args),
    )
    .with_context(|| format!("claiming shard {shard} on {url}"))?;
    let head = replicator
        .push_local_tail(&args.data_dir)
        .with_context(|| {
            format!(
                "bringing shard {shard} level with {}",
                args.data_dir.display()
            )
        })?;
    tracing::info!(shard, %address, head, "leading the shard: every batch is replicated on etcd");
    Ok(ReplicatorHandle::new(replicator))
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests and batches");
}

/// `--adjustment-ttl-h` and `--adjustment-dual-approval-above`, checked.
fn adjustment_config(args: &ServeArgs) -> anyhow::Result<AdjustmentConfig> {
    anyhow::ensure!(
        args.adjustment_ttl_h > 0,
        "--adjustment-ttl-h must be at least 1"
    );
    let ttl_ms = args
        .adjustment_ttl_h
        .checked_mul(3_600_000)
        .ok_or_else(|| {
            anyhow::anyhow!("--adjustment-ttl-h {} is too long", args.adjustment_ttl_h)
        })?;
    let config = AdjustmentConfig {
        policy: AdjustmentPolicy {
            ttl_ms,
            dual_approval_above: args.adjustment_dual_approval_above,
        },
        ..AdjustmentConfig::default()
    };
    // Test only: stop every posting at one point so a test can kill -9 the process there.
    if let Ok(point) = std::env::var("PAYCORE_TEST_HOLD_ADJUSTMENT_POSTING") {
        anyhow::ensure!(
            config.faults.arm_hold(&point),
            "PAYCORE_TEST_HOLD_ADJUSTMENT_POSTING must be after_intent or after_post"
        );
        tracing::warn!(point, "adjustment postings are held (crash test)");
    }
    Ok(config)
}

/// `--notify-timeout-ms`, `--notify-schedule`, `--notify-allow-cidr`,
/// `--notify-connections-per-merchant`, checked (the dispatcher checks the ranges again).
fn notify_config(args: &ServeArgs) -> anyhow::Result<NotifyConfig> {
    anyhow::ensure!(
        (1..=600_000).contains(&args.notify_timeout_ms),
        "--notify-timeout-ms must be 1 to 600000"
    );
    let mut config = NotifyConfig {
        timeout: std::time::Duration::from_millis(args.notify_timeout_ms),
        allow: TargetPolicy::parse_allow(&args.notify_allow_cidr).context("--notify-allow-cidr")?,
        connections_per_merchant: args.notify_connections_per_merchant,
        ..NotifyConfig::default()
    };
    if let Some(text) = &args.notify_schedule {
        config.schedule = text
            .parse::<Schedule>()
            .context("--notify-schedule (e.g. 1s,2s,5s)")?;
    }
    Ok(config)
}

/// `+08:00`, `-05:30`, `Z` → seconds east of UTC.
fn parse_offset(text: &str) -> anyhow::Result<i32> {
    if text == "Z" || text == "UTC" {
        return Ok(0);
    }
    let invalid = || anyhow::anyhow!("--utc-offset must look like +08:00, not {text:?}");
    let (sign, rest) = match text.split_at_checked(1) {
        Some(("+", rest)) => (1, rest),
        Some(("-", rest)) => (-1, rest),
        _ => return Err(invalid()),
    };
    let (hours, minutes) = rest.split_once(':').ok_or_else(invalid)?;
    let hours: i32 = hours.parse().map_err(|_| invalid())?;
    let minutes: i32 = minutes.parse().map_err(|_| invalid())?;
    anyhow::ensure!(hours <= 14 && minutes < 60, invalid());
    Ok(sign * (hours * 3600 + minutes * 60))
}

/// `HH:MM:SS` → a time of day.
fn parse_time(text: &str) -> anyhow::Result<time::Time> {
    let invalid = || anyhow::anyhow!("--day-end-at must look like 23:59:59, not {text:?}");
    let parts: Vec<u8> = text
        .split(':')
        .map(|p| p.parse().map_err(|_| invalid()))
        .collect::<anyhow::Result<_>>()?;
    let [h, m, s] = parts[..] else {
        return Err(invalid());
    };
    time::Time::from_hms(h, m, s).map_err(|_| invalid())
}

/// `1s,500ms,2m` → delays in milliseconds (empty: the default schedule).
fn query_schedule(items: &[String]) -> anyhow::Result<QuerySchedule> {
    if items.is_empty() {
        return Ok(QuerySchedule::default());
    }
    let delays_ms = items
        .iter()
        .map(|item| parse_duration_ms(item.trim()))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("--query-schedule")?;
    Ok(QuerySchedule { delays_ms })
}

/// `250ms`, `15s`, `3m`, `6h` → milliseconds (at least 1).
pub(crate) fn parse_duration_ms(text: &str) -> anyhow::Result<u64> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| anyhow::anyhow!("{text:?} needs a unit: ms, s, m or h"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("{text:?} is not a duration like 15s"))?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => anyhow::bail!("{text:?}: the unit must be ms, s, m or h"),
    };
    let ms = number
        .checked_mul(factor)
        .ok_or_else(|| anyhow::anyhow!("{text:?} is too long"))?;
    anyhow::ensure!(ms > 0, "{text:?} must be longer than zero");
    Ok(ms)
}
