//! paycore's payment service: the async orchestration of the payment side. The rules live in
//! `paycore_payments` (pure), the rows in `paycore_payment_store`, the banks behind
//! `paycore_channels`; this crate drives them in the one order that keeps money safe:
//!
//! 1. a payment and its channel order are **stored before the channel is called**
//!    (`pay.rs`), routed by the writer in order so the split stays exact;
//! 2. the bank's answer, a callback (`callbacks.rs`) or a status query by the resolver
//!    (`resolver.rs`) is applied through `Payment::report` in one writer job (`outcome.rs`);
//! 3. money received is **posted in the ledger** with ids derived from the payment
//!    (`drive.rs`), and only then is the payment marked succeeded and its trade paid — or,
//!    if the trade was paid by another payment meanwhile (重复支付), expired or closed, the
//!    money goes to suspense and is refunded through the channel (`refunds.rs`).
//!
//! A crash anywhere leaves each order where its last commit put it; on restart the resolver
//! finds every payment and refund with a step left (its `next_check_at`) and finishes it:
//! queries the bank, or does the ledger step the stored state says is next.
//!
//! Merchant notifications (异步通知, `notifications.rs`): a state change a merchant must hear
//! of (a trade paid, a refund finished, money not kept paid back) inserts its notification
//! into the outbox in the same writer job (`paycore_notify::outbox`); the dispatcher
//! (`paycore_notify::Dispatcher`, started and stopped with the service) sends it.
//!
//! Adjustments (调账, `adjustments/`) live here too: they are rows of the same store, written
//! by the same single writer (SQLite has one writer per file), posted through the same
//! ledger handle; the reconciliation side will propose them for its exceptions.

pub mod adjustments;
mod callbacks;
mod channels;
mod clock;
mod drive;
mod error;
mod ledger;
mod merchants;
mod notifications;
mod outcome;
mod pay;
mod payouts;
pub mod recon;
mod refunds;
mod resolver;
mod state;
mod trades;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use paycore_channels::ChannelAdapter;
use paycore_engine::Engine;
use paycore_payment_store::{Location, Readers, Writer};
use paycore_payments::schedule::QuerySchedule;
use paycore_payments::{HealthPolicy, Timing};

pub use adjustments::{AdjustmentConfig, AdjustmentFaults, AdjustmentQuery, PostedAdjustment};
pub use channels::ChannelView;
pub use clock::{now_ms, with_channel_clock};
pub use error::{Result, ServiceError};
pub use notifications::{NotificationQuery, RotatedSecret};
pub use pay::PayRequest;
pub use paycore_notify::{DispatcherConfig, MetricsSnapshot as NotifyMetrics};
pub use paycore_payment_store::repo::channels::Counters;
pub use recon::{ExceptionQuery, Imported, Resolution};
pub use trades::TradeView;

use crate::state::{SharedHealth, WriterState};

/// How the payment side behaves; `Default` is what `paycore serve` uses.
#[derive(Clone, Debug)]
pub struct PaymentConfig {
    /// Where the payment tables live.
    pub location: Location,
    /// How long a call to a channel may take before its outcome is unknown.
    pub channel_timeout: Duration,
    /// The base URL banks send callbacks to (`{base}/v1/channels/{id}/notify`).
    pub callback_base_url: String,
    pub query_schedule: QuerySchedule,
    pub health: HealthPolicy,
    pub timing: Timing,
    /// Most status queries in flight at once.
    pub resolver_concurrency: usize,
    /// A ledger step that must still happen but was refused (a frozen clearing account, a
    /// full suspense account) is tried again after this long.
    pub ledger_retry: Duration,
    /// A quick payment is refused (`payment_pending`) while an earlier payment of its trade
    /// is in flight and younger than this.
    pub quickpay_block: Duration,
    /// Adjustments: approvals needed, expiry, the sweep.
    pub adjustments: AdjustmentConfig,
    /// Reconciliation: successes this close to a day's end are carried to the next day's run.
    pub recon_carry_window: Duration,
    /// Merchant notifications: the dispatcher's settings (`None`: notifications are still
    /// written to the outbox, but nothing sends them).
    pub notifications: Option<DispatcherConfig>,
    /// How long a rotated-out notification secret keeps signing when the rotation names no
    /// grace period.
    pub secret_grace: Duration,
    /// Where statements wait, as anonymous files, while they are imported (`None`: the
    /// system's temporary directory). On the same disk as the data: a statement may be
    /// larger than memory.
    pub spool_dir: Option<std::path::PathBuf>,
}

impl PaymentConfig {
    pub fn new(location: Location, callback_base_url: String) -> PaymentConfig {
        PaymentConfig {
            location,
            channel_timeout: Duration::from_millis(5_000),
            callback_base_url,
            query_schedule: QuerySchedule::default(),
            health: HealthPolicy::default(),
            timing: Timing {
                not_found_grace_ms: 60_000,
            },
            resolver_concurrency: 64,
            ledger_retry: Duration::from_secs(60),
            quickpay_block: Duration::from_secs(180),
            adjustments: AdjustmentConfig::default(),
            recon_carry_window: Duration::from_millis(paycore_recon::CARRY_WINDOW_MS_DEFAULT),
            notifications: Some(DispatcherConfig::default()),
            secret_grace: Duration::from_secs(24 * 3600),
            spool_dir: None,
        }
    }
}

/// The payment service. Cheap to clone (shared handles).
#[derive(Clone)]
pub struct PaymentService {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Arc<Writer<WriterState>>,
    readers: Readers,
    ledger: ledger::Ledger,
    http: reqwest::Client,
    adapters: RwLock<HashMap<String, Arc<dyn ChannelAdapter>>>,
    health: SharedHealth,
    config: PaymentConfig,
    resolver: resolver::Wakeup,
    /// Posted adjustments, for the reconciliation side.
    posted: tokio::sync::broadcast::Sender<PostedAdjustment>,
    /// Stops the adjustment sweep (a stored permit: never missed).
    sweep_stop: tokio::sync::Notify,
    /// The resolver and the sweep, awaited by `shutdown`.
    tasks: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The notification dispatcher, stopped by `shutdown`, and how to wake it.
    dispatcher: parking_lot::Mutex<Option<paycore_notify::Dispatcher>>,
    notify_waker: Option<paycore_notify::Waker>,
}

impl PaymentService {
    /// Opens the store (migrating it), loads the writer's state and starts the resolver, which
    /// picks up every open channel order at once. The payment side's own ledger accounts are
    /// opened with the first merchant or channel of their currency.
    pub async fn start(config: PaymentConfig, engine: Arc<Engine>) -> Result<PaymentService> {
        let health = SharedHealth::default();
        let writer = {
            let (location, policy, health) =
                (config.location.clone(), config.health, health.clone());
            tokio::task::spawn_blocking(move || -> Result<Writer<WriterState>> {
                let conn = location.connect(true)?;
                let init_health = health.clone();
                Ok(Writer::start(
                    conn,
                    Box::new(move |sql| WriterState::load(sql, policy, init_health.clone())),
                    Box::new(|state: &mut WriterState, sql| state.before_commit(sql)),
                )?)
            })
            .await
            .map_err(|e| ServiceError::Internal(format!("store start task: {e}")))??
        };
        let writer = Arc::new(writer);
        let dispatcher = match &config.notifications {
            Some(settings) => Some(
                paycore_notify::Dispatcher::start(
                    settings.clone(),
                    config.location.readers(4),
                    Arc::clone(&writer),
                )
                .map_err(|e| ServiceError::Internal(format!("notification dispatcher: {e}")))?,
            ),
            None => None,
        };
        let notify_waker = dispatcher.as_ref().map(paycore_notify::Dispatcher::waker);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ServiceError::Internal(format!("HTTP client: {e}")))?;
        let service = PaymentService {
            inner: Arc::new(Inner {
                readers: config.location.readers(16),
                writer,
                ledger: ledger::Ledger::new(engine),
                http,
                adapters: RwLock::new(HashMap::new()),
                health,
                config,
                resolver: resolver::Wakeup::default(),
                posted: adjustments::posted_channel(),
                sweep_stop: tokio::sync::Notify::new(),
                tasks: parking_lot::Mutex::new(Vec::new()),
                dispatcher: parking_lot::Mutex::new(dispatcher),
                notify_waker,
            }),
        };
        service.load_adapters().await?;
        // Postings a crash left open are finished before anyone can act on them.
        if let Err(error) = service.finish_open_postings().await {
            tracing::warn!(%error, "finishing open adjustment postings at start failed; the sweep tries again");
        }
        if let Err(error) = service.settle_resolving().await {
            tracing::warn!(%error, "following reconciliation exceptions at start failed; the sweep tries again");
        }
        let tasks = vec![
            resolver::spawn(service.clone()),
            adjustments::spawn_sweep(service.clone()),
        ];
        *service.inner.tasks.lock() = tasks;
        Ok(service)
    }

    pub fn config(&self) -> &PaymentConfig {
        &self.inner.config
    }

    pub(crate) fn ledger_retry_ms(&self) -> u64 {
        u64::try_from(self.inner.config.ledger_retry.as_millis()).unwrap_or(u64::MAX)
    }

    /// Stops the resolver and the adjustment sweep and waits until they (and whatever the
    /// resolver had in flight) finished, so nothing holds the engine afterwards; jobs already
    /// handed to the writer finish. Then stops the notification dispatcher once its attempts
    /// in flight are recorded (what is left pending stays in the outbox for the next start).
    pub async fn shutdown(&self) {
        self.inner.resolver.stop();
        self.inner.sweep_stop.notify_one();
        let tasks = std::mem::take(&mut *self.inner.tasks.lock());
        for task in tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "a payment background task failed");
            }
        }
        let dispatcher = self.inner.dispatcher.lock().take();
        if let Some(dispatcher) = dispatcher {
            dispatcher.stop().await;
        }
    }
}
