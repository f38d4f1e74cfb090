//! `paycore shard add|list|assign`: the shard map in etcd (which shard each account lives
//! on), edited straight in etcd by compare-and-set (`paycore_replication::ShardDirectory`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use paycore_replication::{parse_etcd_url, ShardDirectory, ShardMap};

#[derive(Subcommand, Debug)]
pub enum ShardAction {
    /// Add a shard (the first one added holds every account not assigned elsewhere).
    Add { name: String },
    /// The shards, their leaders and the prefix assignments.
    List,
    /// Put accounts whose number starts with PREFIX on SHARD (never moves an assignment).
    Assign { prefix: String, shard: String },
}

#[derive(clap::Args, Debug)]
pub struct EtcdArgs {
    /// The etcd cluster holding the shard map: etcd://host:port[,host:port…].
    #[arg(long, env = "PAYCORE_ETCD", global = true)]
    pub etcd: Option<String>,
}

pub fn run(action: ShardAction, etcd: EtcdArgs) -> anyhow::Result<ExitCode> {
    let url = etcd
        .etcd
        .context("name the etcd cluster: --etcd etcd://host:port[,host:port…] (or PAYCORE_ETCD)")?;
    let endpoints = parse_etcd_url(&url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let directory = ShardDirectory::new(&endpoints, Duration::from_secs(10))?;
        match action {
            ShardAction::Add { name } => {
                let map = directory.edit(|map| map.add_shard(&name)).await?;
                println!("shard {name} added ({} shards)", map.shards().len());
            }
            ShardAction::Assign { prefix, shard } => {
                directory.edit(|map| map.assign(&prefix, &shard)).await?;
                println!("accounts {prefix}… live on shard {shard}");
            }
            ShardAction::List => print_map(&directory, &directory.load().await?).await?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn print_map(directory: &ShardDirectory, map: &ShardMap) -> anyhow::Result<()> {
    if map.shards().is_empty() {
        println!("no shards yet: paycore shard add NAME --etcd …");
        return Ok(());
    }
    let leaders = directory.leaders(map).await?;
    for shard in map.shards() {
        let default = if Some(shard.as_str()) == map.default_shard() {
            "  (default)"
        } else {
            ""
        };
        let leader = leaders
            .get(shard)
            .and_then(Option::as_deref)
            .unwrap_or("no leader");
        println!("shard {shard:<16} leader {leader}{default}");
    }
    for (prefix, shard) in map.assignments() {
        println!("assign {prefix:<16} → {shard}");
    }
    Ok(())
}
