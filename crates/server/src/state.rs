//! Shared state of the HTTP server: the engine, the query store, the accounting books, the key
//! store, settlement accounts per currency, and request counters.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use paycore_accounting::Books;
use paycore_engine::Engine;
use paycore_ledger::{AccountNo, Currency};
use paycore_payment_service::PaymentService;
use paycore_store::{ProjectorStatus, Readers};

use crate::auth::KeyStore;

/// What every handler shares, behind one `Arc`: axum clones the state for each request and
/// each middleware, and cloning (and dropping) ten handles each time showed in profiles.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub engine: Arc<Engine>,
    /// Reading handles on the query store (the projector writes through its own).
    pub store: Readers,
    pub projection: Arc<ProjectorStatus>,
    /// Accounting (会计): the general ledger fed from the log.
    pub books: Arc<Books>,
    pub keys: Arc<KeyStore>,
    /// The settlement (备付金) account used by deposits and withdrawals that name none.
    pub settlements: Arc<BTreeMap<Currency, AccountNo>>,
    pub http: Arc<HttpCounters>,
    /// The payment side: merchants, channels, trades, payments.
    pub payments: PaymentService,
    pub default_currency: Currency,
}

impl Shared {
    /// The currency of accounts a request does not give one for (the first configured).
    pub fn default_currency(&self) -> Currency {
        self.default_currency
    }
}

/// Responses by status class, for `/metrics`.
#[derive(Default)]
pub struct HttpCounters {
    pub ok: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
}
