//! paycore's router (`paycore router`): one address in front of a sharded ledger.
//!
//! Each request goes to the leader of the shard its account lives on (the shard map and the
//! leaders are in etcd); a transfer between accounts on two shards is coordinated here,
//! through transit accounts, with its intent kept in etcd until it is final, so a router that
//! dies mid-way leaves nothing half done: any router finishes it.
//!
//! - `routing.rs` (pure): which shard a request belongs to.
//! - `topology.rs`: the shard map and leaders, cached from etcd.
//! - `shards.rs`: calls to shard leaders, sent again while a shard has no leader.
//! - `coordinator.rs`: cross-shard transfers driven step by step (the steps and their rules
//!   are `paycore-crossshard`); `recovery.rs` finishes those left in flight; `answer.rs`
//!   renders them; `intent_writer.rs` coalesces their etcd writes; `lookup.rs` finds a transfer or hold by id on whichever shard has it.
//! - `transit.rs`: the cross-shard position report (`GET /v1/shards/transit`).
//! - `routes.rs`: the HTTP endpoints.

mod answer;
mod coordinator;
mod intent_writer;
mod lookup;
mod recovery;
mod routes;
mod routing;
mod shards;
mod topology;
mod transit;

use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use paycore_replication::{IntentLog, ReplicationError, ShardDirectory};

pub use routing::{route, Route, Unroutable};

pub struct RouterConfig {
    /// etcd's client URLs (`http://host:port`).
    pub etcd: Vec<String>,
    /// An API key valid on every shard (admin: it opens transit accounts), for the
    /// coordinator's own calls.
    pub key: String,
    /// How long a cross-shard transfer may take before it is answered `202 in_flight`.
    pub transfer_wait: Duration,
    /// How long a call keeps trying to reach a shard without a leader.
    pub patience: Duration,
    /// How often intents left in flight are looked for.
    pub recovery_every: Duration,
}

impl RouterConfig {
    pub fn new(etcd: Vec<String>, key: String) -> RouterConfig {
        RouterConfig {
            etcd,
            key,
            transfer_wait: Duration::from_secs(10),
            patience: Duration::from_secs(8),
            recovery_every: Duration::from_secs(1),
        }
    }
}

/// The router's HTTP application, its background work (map reloads, recovery) started on
/// the current runtime.
pub async fn app(config: RouterConfig) -> Result<axum::Router, ReplicationError> {
    let etcd_timeout = Duration::from_secs(5);
    let directory = ShardDirectory::new(&config.etcd, etcd_timeout)?;
    let topology = topology::Topology::load(directory).await?;
    topology.refresh_every(Duration::from_secs(1));
    let shards = shards::Shards::new(topology, config.patience);
    let intents = IntentLog::new(&config.etcd, etcd_timeout)?;
    let coordinator = Arc::new(coordinator::Coordinator::new(
        intents,
        shards.clone(),
        &config.key,
    ));
    recovery::spawn_recovery(coordinator.clone(), config.recovery_every);
    Ok(routes::app(Arc::new(routes::RouterState {
        shards,
        coordinator,
        transfer_wait: config.transfer_wait,
    })))
}

#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    #[error(transparent)]
    Etcd(#[from] ReplicationError),
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves the router on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: RouterConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RouterError> {
    let app = app(config).await?;
    // Small responses must leave at once, not wait for Nagle's algorithm (as the server's).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
