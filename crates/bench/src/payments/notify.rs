//! `paycore bench payments --notify`: the pay-ins again with a `notify_url` on every trade,
//! pointing at a merchant served here that acknowledges with `success` — what writing,
//! signing and sending merchant notifications costs the payment path, beside the run
//! without them in the same process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The merchant's notification endpoint: counts what it received.
pub(super) struct Merchant {
    pub url: String,
    received: Arc<AtomicU64>,
}

impl Merchant {
    pub async fn start() -> anyhow::Result<Merchant> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/notify", listener.local_addr()?);
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        let app = axum::Router::new().route(
            "/notify",
            axum::routing::post(move || {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    "success"
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Merchant { url, received })
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Waits (at most `limit`) until `expected` notifications arrived; how long it took.
    pub async fn drained(&self, expected: u64, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        while self.received() < expected {
            if started.elapsed() > limit {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Some(started.elapsed())
    }
}
