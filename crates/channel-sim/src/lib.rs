//! The bank simulator (渠道模拟器): a separate process that behaves like real banks so the
//! payment path runs locally. It speaks both channel protocols with the codecs of
//! `paycore-channels` (verifying every request, signing every answer and callback), processes
//! pay, query, refund and payout, and calls back — immediately, late, never, or twice —
//! retrying unacknowledged callbacks.
//!
//! Invariants: an order's outcome is drawn from (seed, channel id, order number) alone, once, at
//! arrival — a timeout holds the answer, never the outcome; the bank is idempotent (same number,
//! same content → the recorded order); its records (`GET /sim/channels/{id}/orders/{no}`) are
//! the truth tests compare against. State is in memory; each channel has one lock, never held
//! across an await.

mod bank;
pub mod config;
pub mod draw;
mod error;
mod notify;
pub mod order;
mod routes;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt;

pub use error::SimError;

/// A bound simulator, not yet serving.
pub struct Simulator {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    bank: Arc<bank::Bank>,
}

impl Simulator {
    /// Binds `listen` (port 0 picks a free one); outcomes are keyed with `seed`.
    pub async fn bind(listen: SocketAddr, seed: u64) -> Result<Simulator, SimError> {
        let bind_error = |source| SimError::Bind {
            addr: listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        Ok(Simulator {
            listener,
            addr,
            bank: Arc::new(bank::Bank::new(seed)),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` resolves (then waits for answers in flight).
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), SimError> {
        // Small answers must leave at once, not wait for Nagle's algorithm.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY not set");
            }
        });
        axum::serve(listener, routes::router(self.bank))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(SimError::Serve)
    }
}

/// `paycore channel-sim`: binds, prints `channel-sim listening on http://ADDR` on stdout, and
/// serves until `shutdown` resolves.
pub async fn run(
    listen: SocketAddr,
    seed: u64,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SimError> {
    let simulator = Simulator::bind(listen, seed).await?;
    println!("channel-sim listening on http://{}", simulator.local_addr());
    tracing::info!(addr = %simulator.local_addr(), seed, "channel-sim started");
    simulator.serve(shutdown).await
}

/// Resolves on SIGINT or SIGTERM: the `shutdown` of the command-line simulator.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
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
        () = interrupt => {}
        () = terminate => {}
    }
}
