//! Shared state of the HTTP server: the engine, the key store, settlement accounts per
//! currency, and request counters.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use paycore_engine::Engine;
use paycore_ledger::{AccountNo, Currency};

use crate::auth::KeyStore;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub keys: Arc<KeyStore>,
    /// The settlement (备付金) account used by deposits and withdrawals that name none.
    pub settlements: Arc<BTreeMap<Currency, AccountNo>>,
    pub http: Arc<HttpCounters>,
}

/// Responses by status class, for `/metrics`.
#[derive(Default)]
pub struct HttpCounters {
    pub ok: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
}
