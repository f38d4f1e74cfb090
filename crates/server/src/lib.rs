//! paycore's HTTP/JSON API on axum. Requests from every connection become engine commands,
//! so concurrent single-transfer requests share the engine's batches and fsyncs.
//!
//! Layout: `routes/` (handlers per resource; the wire types are `paycore_api::ledger` and its
//! siblings), `input` (request fields
//! to ledger values), `render` (ledger values to responses), `error` (codes and statuses),
//! `auth` (API keys, their operators, roles), `admin_reset` (offline recovery of an admin key), `openapi` (the
//! generated document).

mod admin_reset;
mod auth;
mod error;
mod extract;
mod input;
mod json;
pub mod openapi;
mod render;
mod routes;
mod state;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::serve::ListenerExt;
use axum::Router;
use paycore_accounting::{Books, Feed};
pub use paycore_adjustments::Policy as AdjustmentPolicy;
use paycore_engine::{Engine, EngineConfig, EngineError};
use paycore_ledger::{
    AccountNo, AccountType, Command, ErrorCode, Op, OpenAccount, Operator, Reference,
};
use paycore_money::Currency;
pub use paycore_payment_service::{AdjustmentConfig, AdjustmentFaults};
pub use paycore_payment_service::{DispatcherConfig as NotifyConfig, NotifyMetrics};
use paycore_payment_service::{PaymentConfig, PaymentService};
use paycore_payment_store::Location;
pub use paycore_payments::schedule::QuerySchedule;
pub use paycore_payments::HealthPolicy;
use paycore_store::{open_store, Projector, ProjectorStatus, Readers, READERS_MAX};
use tokio::net::TcpListener;

pub use admin_reset::{reset_admin, RecoveredKey, ResetAdminError, RECOVERED_ADMIN_NAME};
pub use auth::{Role, Secret};
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use paycore_store::StoreUrl;
pub use routes::REPLAYED_HEADER;

use crate::auth::KeyStore;
use crate::state::{AppState, HttpCounters, Shared};

/// Largest request body accepted (a full batch of 8,190 transfers fits).
pub const BODY_BYTES_MAX: usize = 4 << 20;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub engine: EngineConfig,
    pub listen: SocketAddr,
    /// A settlement account `SETTLEMENT-<code>` is opened for each, if missing.
    pub currencies: Vec<Currency>,
    /// Admin key to create on first start instead of a random one (PAYCORE_BOOTSTRAP_KEY).
    pub bootstrap_key: Option<String>,
    /// The query store (SQLite file in the data directory by default, or PostgreSQL).
    pub store: StoreUrl,
    /// Local time (engine UTC offset) of the automatic day-end cutover, if any.
    pub day_end_at: Option<time::Time>,
    pub payments: PaymentOptions,
}

/// The payment side's settings (see `paycore serve --help`).
#[derive(Clone, Debug)]
pub struct PaymentOptions {
    /// How long a channel call may take before its outcome is unknown.
    pub channel_timeout: std::time::Duration,
    /// The base URL banks send callbacks to; default `http://<listen address>`.
    pub callback_base_url: Option<String>,
    /// Delays between status queries of an unknown outcome (the last repeats).
    pub query_schedule: QuerySchedule,
    /// When a run of failures rests a channel, and for how long.
    pub health: HealthPolicy,
    /// A status query that finds no such order fails it only this long after it was sent.
    pub not_found_grace: std::time::Duration,
    /// A quick payment waits this long for an earlier in-flight payment of its trade.
    pub quickpay_block: std::time::Duration,
    /// A refused ledger step that must still happen is tried again after this long.
    pub ledger_retry: std::time::Duration,
    /// Adjustments (调账): expiry, the dual-approval threshold, the sweep.
    pub adjustments: AdjustmentConfig,
    /// Reconciliation: successes this close to a day's end are carried to the next day's run.
    pub recon_carry_window: std::time::Duration,
    /// Merchant notifications: timeout, schedule, allowed CIDRs (`--notify-*`); `None`
    /// runs no dispatcher (the outbox still fills).
    pub notify: Option<NotifyConfig>,
    /// How long a rotated-out notification secret keeps signing by default.
    pub notify_secret_grace: std::time::Duration,
}

impl Default for PaymentOptions {
    fn default() -> Self {
        PaymentOptions {
            channel_timeout: std::time::Duration::from_millis(5_000),
            callback_base_url: None,
            query_schedule: QuerySchedule::default(),
            health: HealthPolicy::default(),
            not_found_grace: std::time::Duration::from_secs(60),
            quickpay_block: std::time::Duration::from_secs(180),
            ledger_retry: std::time::Duration::from_secs(60),
            adjustments: AdjustmentConfig::default(),
            recon_carry_window: std::time::Duration::from_millis(
                paycore_recon::CARRY_WINDOW_MS_DEFAULT,
            ),
            notify: Some(NotifyConfig::default()),
            notify_secret_grace: std::time::Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Keys(#[from] auth::KeyStoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("settlement account {number} cannot be used: {reason}")]
    Settlement { number: String, reason: String },
    #[error(transparent)]
    Store(#[from] paycore_store::StoreError),
    #[error(transparent)]
    Accounting(#[from] paycore_accounting::AccountingError),
    #[error("payments: {0}")]
    Payments(#[from] paycore_payment_service::ServiceError),
}

/// A bound, ready server. `bootstrap_key` holds the admin key created on first start (shown
/// once).
pub struct Server {
    state: AppState,
    listener: TcpListener,
    projector: Projector,
    feed: Feed,
    day_end_at: Option<time::Time>,
    pub bootstrap_key: Option<Secret>,
    pub data_dir: PathBuf,
}

impl Server {
    /// Opens the engine (recovering its state), the key store and the settlement accounts,
    /// and binds the listener.
    pub async fn bind(config: ServerConfig) -> Result<Server, ServerError> {
        let data_dir = config.engine.data_dir.clone();
        let projection = Arc::new(ProjectorStatus::default());
        let books_dir = data_dir.clone();
        let books = tokio::task::spawn_blocking(move || Books::open(&books_dir))
            .await
            .map_err(|e| ServerError::Serve(std::io::Error::other(e)))??;
        let books = Arc::new(books);
        let mut engine_config = config.engine.clone();
        // Retention keeps every log segment the projection or the accounting feed has not
        // read yet.
        engine_config.retention_floors = vec![
            projection.applied_sequence.clone(),
            books.status().applied_sequence.clone(),
        ];
        let store_url = config.store.clone();
        let opened = tokio::task::spawn_blocking(move || -> Result<_, ServerError> {
            let engine = Engine::open(engine_config)?;
            // The projector's handle creates and migrates the store before readers open it.
            let writer = open_store(&store_url)?;
            Ok((engine, writer, Readers::open(&store_url, READERS_MAX)?))
        });
        let (engine, writer, reader) = opened
            .await
            .map_err(|e| ServerError::Serve(std::io::Error::other(e)))??;
        let engine = Arc::new(engine);
        let durable = {
            let engine = engine.clone();
            Arc::new(move || engine.metrics().durable_sequence)
        };
        let projector = Projector::start_with(
            data_dir.clone(),
            writer,
            durable.clone(),
            projection.clone(),
        );
        let feed = Feed::start(data_dir.clone(), books.clone(), durable);
        let (keys, bootstrap_key) = KeyStore::open(&data_dir, config.bootstrap_key.as_deref())?;
        let settlements = match engine.is_standby() {
            // The leader opened them; they arrive with the shard's log.
            true => settlement_numbers(&config.currencies),
            false => open_settlement_accounts(&engine, &config.currencies).await?,
        };
        let listen = config.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Listen {
                addr: listen,
                source,
            })?;
        let payments = start_payments(&config, &engine, &listener).await?;
        let state = AppState::new(Shared {
            payments,
            default_currency: config.currencies.first().copied().unwrap_or(Currency::CNY),
            engine,
            store: reader,
            projection,
            books,
            keys: Arc::new(keys),
            settlements: Arc::new(settlements),
            http: Arc::new(HttpCounters::default()),
        });
        Ok(Server {
            state,
            listener,
            projector,
            feed,
            day_end_at: config.day_end_at,
            bootstrap_key,
            data_dir,
        })
    }

    /// The engine (a standby's follower feeds it the shard's log).
    pub fn engine(&self) -> Arc<Engine> {
        self.state.engine.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and batches, writes a
    /// final snapshot and stops the engine.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let engine = self.state.engine.clone();
        if let Some(at) = self.day_end_at {
            routes::dayend::schedule(self.state.clone(), at, engine.config().utc_offset_seconds);
        }
        // Small responses must leave at once, not wait for Nagle's algorithm.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY not set");
            }
        });
        let payments = self.state.payments.clone();
        let served = axum::serve(listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await;
        payments.shutdown().await;
        let (mut projector, mut feed) = (self.projector, self.feed);
        let stopped = tokio::task::spawn_blocking(move || {
            engine.shutdown();
            projector.stop();
            feed.stop();
        });
        stopped
            .await
            .map_err(|e| ServerError::Serve(std::io::Error::other(e)))?;
        served.map_err(ServerError::Serve)
    }
}

/// Every route of the API.
pub fn router(state: AppState) -> Router {
    use routes::{accounting, accounts, dayend, holds, journal, keys, system, transfers, verify};
    Router::new()
        .merge(payment_routes().merge(recon_routes()))
        .merge(paycore_console::router())
        .route(
            "/v1/accounting/accounts",
            get(accounting::chart).post(accounting::create_account),
        )
        .route(
            "/v1/accounting/accounts/{code}",
            patch(accounting::update_account).delete(accounting::delete_account),
        )
        .route(
            "/v1/accounting/vouchers",
            get(accounting::vouchers).post(accounting::post_voucher),
        )
        .route(
            "/v1/accounting/vouchers/{voucher_no}",
            get(accounting::voucher),
        )
        .route(
            "/v1/accounting/vouchers/{voucher_no}/reverse",
            post(accounting::reverse),
        )
        .route(
            "/v1/accounting/trial-balance",
            get(accounting::trial_balance),
        )
        .route("/v1/accounting/gl-check", get(accounting::gl_check))
        .route(
            "/v1/accounting/reserve-report",
            get(accounting::reserve_report),
        )
        .route("/v1/accounting/status", get(accounting::status))
        .route("/v1/accounting/exceptions", get(accounting::exceptions))
        .route(
            "/v1/accounting/exceptions/retry",
            post(accounting::retry_exceptions),
        )
        .route(
            "/v1/accounting/rules",
            get(accounting::rules).put(accounting::replace_rules),
        )
        .route("/v1/accounting/periods", get(accounting::periods))
        .route(
            "/v1/accounting/periods/{period}/close",
            post(accounting::close_period),
        )
        .route("/v1/accounts", post(accounts::open).get(accounts::list))
        .route("/v1/accounts/{account_no}", get(accounts::show))
        .route("/v1/accounts/{account_no}/close", post(accounts::close))
        .route("/v1/accounts/{account_no}/hot", put(accounts::set_hot))
        .route("/v1/accounts/{account_no}/freeze", post(accounts::freeze))
        .route(
            "/v1/accounts/{account_no}/unfreeze",
            post(accounts::unfreeze),
        )
        .route(
            "/v1/transfers",
            post(transfers::create).get(journal::transfers),
        )
        .route("/v1/accounts/{account_no}/entries", get(journal::entries))
        .route("/v1/accounts/{account_no}/holds", get(holds::of_account))
        .route(
            "/v1/accounts/{account_no}/entries/{seq}/transfers",
            get(journal::entry_transfers),
        )
        .route(
            "/v1/accounts/{account_no}/daily-balances",
            get(journal::daily_balances),
        )
        .route("/v1/events", get(journal::events))
        .route("/v1/day-end", post(dayend::day_end))
        .route("/v1/reports/day-end", get(dayend::report))
        .route("/v1/verify", get(verify::verify))
        .route("/v1/transfers/batch", post(transfers::batch))
        .route("/v1/transfers/{id}", get(transfers::show))
        .route("/v1/deposits", post(transfers::deposit))
        .route("/v1/withdrawals", post(transfers::withdraw))
        .route("/v1/holds", post(holds::create))
        .route("/v1/holds/{id}", get(holds::show))
        .route("/v1/holds/{id}/release", post(holds::release))
        .route("/v1/holds/{id}/capture", post(holds::capture))
        .route("/v1/keys", post(keys::create).get(keys::list))
        .route("/v1/keys/{id}/revoke", post(keys::revoke))
        .route("/v1/whoami", get(keys::whoami))
        .route("/healthz", get(system::health))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .layer(middleware::from_fn(own_time))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::internal("internal error").into_response()
        }))
        .with_state(state)
}

/// Starts the payment service on the query store's database (SQLite: a file of its own beside
/// it, `payments.sqlite`, as SQLite has one writer per file).
async fn start_payments(
    config: &ServerConfig,
    engine: &Arc<Engine>,
    listener: &TcpListener,
) -> Result<PaymentService, ServerError> {
    let location = match &config.store {
        StoreUrl::Sqlite(_) => Location::Sqlite(config.engine.data_dir.join("payments.sqlite")),
        StoreUrl::Postgres(url) => Location::Postgres(url.clone()),
    };
    let callback_base = match &config.payments.callback_base_url {
        Some(url) => url.clone(),
        None => {
            let addr = listener.local_addr().map_err(ServerError::Serve)?;
            format!("http://{addr}")
        }
    };
    let mut payments = PaymentConfig::new(location, callback_base);
    payments.channel_timeout = config.payments.channel_timeout;
    payments.query_schedule = config.payments.query_schedule.clone();
    payments.health = config.payments.health;
    payments.timing.not_found_grace_ms = config.payments.not_found_grace.as_millis() as u64;
    payments.quickpay_block = config.payments.quickpay_block;
    payments.ledger_retry = config.payments.ledger_retry;
    payments.recon_carry_window = config.payments.recon_carry_window;
    payments.adjustments = config.payments.adjustments.clone();
    payments.notifications = config.payments.notify.clone();
    payments.secret_grace = config.payments.notify_secret_grace;
    payments.spool_dir = Some(config.engine.data_dir.join("recon-spool"));
    Ok(PaymentService::start(payments, engine.clone()).await?)
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept this method",
    )
}

/// The payment side's routes.
fn payment_routes() -> Router<AppState> {
    use routes::adjustments;
    use routes::pay::{
        channels, merchants, notifications, notify, payments, payouts, refunds, trades,
    };
    Router::new()
        .route(
            "/v1/adjustments",
            post(adjustments::create).get(adjustments::list),
        )
        .route("/v1/adjustments/{id}", get(adjustments::show))
        .route("/v1/adjustments/{id}/approve", post(adjustments::approve))
        .route("/v1/adjustments/{id}/reject", post(adjustments::reject))
        .route(
            "/v1/merchants",
            post(merchants::create).get(merchants::list),
        )
        .route("/v1/merchants/{id}", get(merchants::show))
        .route(
            "/v1/merchants/{id}/secret/rotate",
            post(merchants::rotate_secret),
        )
        .route("/v1/notifications", get(notifications::list))
        .route("/v1/notifications/{event_id}", get(notifications::show))
        .route(
            "/v1/notifications/{event_id}/retry",
            post(notifications::retry),
        )
        .route("/v1/channels", post(channels::create).get(channels::list))
        .route(
            "/v1/channels/{id}",
            get(channels::show).patch(channels::patch),
        )
        .route("/v1/channels/{id}/notify", post(notify::notify))
        .route("/v1/trades", post(trades::create).get(trades::find))
        .route("/v1/trades/{trade_id}", get(trades::show))
        .route("/v1/trades/{trade_id}/payments", post(payments::create))
        .route("/v1/payments/{id}", get(payments::show))
        .route("/v1/payments/{id}/resend", post(payments::resend))
        .route("/v1/payments/{id}/reroute", post(payments::reroute))
        .route("/v1/payments/{id}/refunds", post(refunds::create))
        .route("/v1/refunds/{id}", get(refunds::show))
        .route("/v1/payouts", post(payouts::create).get(payouts::list))
        .route("/v1/payouts/{id}", get(payouts::show))
        .route("/v1/payouts/{id}/resend", post(payouts::resend))
        .route("/v1/payouts/{id}/reroute", post(payouts::reroute))
        .route("/v1/trades/{trade_id}/close", post(trades::close))
}

/// Reconciliation's routes.
fn recon_routes() -> Router<AppState> {
    use routes::recon;
    // The upload streams to a spool file with its own limit (`recon::STATEMENT_BYTES_MAX`).
    let statements = post(recon::import).layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/v1/recon/statements", statements)
        .route(
            "/v1/recon/runs",
            post(recon::create_run).get(recon::list_runs),
        )
        .route("/v1/recon/runs/{id}", get(recon::show_run))
        .route("/v1/recon/exceptions", get(recon::list_exceptions))
        .route("/v1/recon/exceptions/{id}", get(recon::show_exception))
        .route("/v1/recon/exceptions/{id}/resolve", post(recon::resolve))
        .route("/v1/recon/report", get(recon::report))
}

/// Header on every response: paycore's own time on the request, in milliseconds — the whole
/// time less what it spent waiting for channels (banks).
pub const OWN_TIME_HEADER: &str = "paycore-own-time-ms";

async fn own_time(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let (mut response, channel_wait) =
        paycore_payment_service::with_channel_clock(next.run(request)).await;
    let own = started.elapsed().saturating_sub(channel_wait);
    let millis = format!("{:.3}", own.as_secs_f64() * 1e3);
    if let Ok(value) = axum::http::HeaderValue::from_str(&millis) {
        response.headers_mut().insert(OWN_TIME_HEADER, value);
    }
    response
}

async fn count_responses(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let counter = match response.status().as_u16() {
        200..=399 => &state.http.ok,
        400..=499 => &state.http.client_errors,
        _ => &state.http.server_errors,
    };
    counter.fetch_add(1, Relaxed);
    response
}

/// Opens `SETTLEMENT-<code>` for each currency if missing (idempotent across restarts).
fn settlement_number(currency: Currency) -> AccountNo {
    AccountNo::new(&format!("SETTLEMENT-{}", currency.code())).expect("valid account number")
}

fn settlement_numbers(currencies: &[Currency]) -> BTreeMap<Currency, AccountNo> {
    currencies
        .iter()
        .map(|c| (*c, settlement_number(*c)))
        .collect()
}

async fn open_settlement_accounts(
    engine: &Engine,
    currencies: &[Currency],
) -> Result<BTreeMap<Currency, AccountNo>, ServerError> {
    let hasher = engine.hasher();
    let mut settlements = BTreeMap::new();
    for currency in currencies {
        let number = settlement_number(*currency);
        let op = Op::OpenAccount(OpenAccount {
            number,
            kind: AccountType::Settlement,
            currency: *currency,
            allow_negative: None,
            reference: Reference::new("settlement account opened at startup")
                .expect("short reference"),
            opened_by: Operator::SYSTEM,
        });
        let id = hasher
            .client_id(&format!("bootstrap:open:{number}"))
            .expect("valid id");
        let outcome = engine.submit(vec![Command::new(id, op, &hasher)]).await?;
        let usable = engine.read(|l| {
            l.resolve(&number)
                .and_then(|a| l.account(a))
                .is_some_and(|a| a.kind == AccountType::Settlement && a.currency == *currency)
        });
        match outcome[0].result {
            Ok(()) | Err(ErrorCode::AccountExists) if usable => {}
            other => {
                let reason = format!("{other:?}: it must be a {currency} settlement account");
                return Err(ServerError::Settlement {
                    number: number.to_string(),
                    reason,
                });
            }
        }
        settlements.insert(*currency, number);
    }
    Ok(settlements)
}
