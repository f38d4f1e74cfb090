//! `paycore router`: one address in front of a sharded ledger (`paycore_router`): requests go
//! to the leader of their account's shard, transfers between shards are coordinated.

use std::time::Duration;

use anyhow::Context;
use paycore_replication::parse_etcd_url;
use paycore_router::RouterConfig;

#[derive(clap::Args, Debug)]
pub struct RouterArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: std::net::SocketAddr,
    /// The etcd cluster holding the shard map, leaders and cross-shard intents:
    /// etcd://host:port[,host:port…].
    #[arg(long, env = "PAYCORE_ETCD")]
    etcd: String,
    /// An admin API key valid on every shard, for the coordinator's own calls (it opens
    /// transit accounts and posts the steps of cross-shard transfers).
    #[arg(long, env = "PAYCORE_API_KEY", hide_env_values = true)]
    api_key: String,
    /// How long a cross-shard transfer may take before it is answered 202 in_flight (it is
    /// finished in the background).
    #[arg(long, default_value_t = 10_000)]
    transfer_wait_ms: u64,
}

pub fn run(args: RouterArgs) -> anyhow::Result<()> {
    crate::serve::init_logging("text")?;
    let mut config = RouterConfig::new(parse_etcd_url(&args.etcd)?, args.api_key);
    config.transfer_wait = Duration::from_millis(args.transfer_wait_ms);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        println!(
            "paycore router listening on http://{}",
            listener.local_addr()?
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        paycore_router::serve(listener, config, shutdown).await?;
        anyhow::Ok(())
    })
}
