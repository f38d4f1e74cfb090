//! `paycore serve`: the HTTP server on the embedded engine. Logs go to stderr; the admin key
//! created on first start is printed once on stdout.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use paycore_engine::{EngineConfig, Retention};
use paycore_money::Currency;
use paycore_server::{Server, ServerConfig};

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
    let config = ServerConfig {
        engine,
        listen: args.listen,
        currencies,
        bootstrap_key: std::env::var("PAYCORE_BOOTSTRAP_KEY").ok(),
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(config).await.context("starting paycore")?;
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

fn init_logging(format: &str) -> anyhow::Result<()> {
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
    Ok(())
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
