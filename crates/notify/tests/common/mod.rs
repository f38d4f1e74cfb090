//! What the dispatcher tests share: a real payment store (SQLite in a temp dir, or a fresh
//! PostgreSQL database when PAYCORE_TEST_POSTGRES is set), a real merchant HTTP server on
//! 127.0.0.1 whose behaviour is chosen by the path, and an HMAC written here from SHA-256
//! alone to check signatures independently of the crate's.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use paycore_notify::{Dispatcher, DispatcherConfig};
use paycore_payment_store::repo::merchants;
use paycore_payment_store::repo::notifications::{self as outbox, secrets, NewNotification};
use paycore_payment_store::repo::notifications::{Notification, Status};
use paycore_payment_store::{Location, Readers, Sql, StoreError, Writer};
use paycore_payments::NewMerchant;
use sha2::{Digest, Sha256};

/// The callback hosts the tests' merchants register: every name of this machine's loopback.
pub const LOCAL_HOSTS: [&str; 4] = ["127.0.0.1", "localhost", "::1", "::ffff:127.0.0.1"];

pub const SECRET: &str = "whsec_test_secret_one_0123456789";
pub const WAIT: Duration = Duration::from_secs(20);

/// The backends to run on: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<&'static str> {
    let mut backends = vec!["sqlite"];
    match std::env::var("PAYCORE_TEST_POSTGRES") {
        Ok(_) => backends.push("postgres"),
        Err(_) => eprintln!("PAYCORE_TEST_POSTGRES not set: PostgreSQL skipped here"),
    }
    backends
}

pub struct Store {
    pub location: Location,
    pub writer: Arc<Writer<()>>,
    pub readers: Readers,
    _dir: tempfile::TempDir,
}

impl Store {
    /// A fresh store on `backend`; `name` keeps PostgreSQL databases of tests apart.
    pub async fn open(backend: &str, name: &str) -> Store {
        let dir = tempfile::tempdir().unwrap();
        let location = match backend {
            "sqlite" => Location::Sqlite(dir.path().join("payments.sqlite")),
            _ => fresh_postgres(name).await,
        };
        Store::reopen(location, dir).await
    }

    async fn reopen(location: Location, dir: tempfile::TempDir) -> Store {
        let at = location.clone();
        // The synchronous PostgreSQL client runs a runtime of its own: keep it off async threads.
        let writer = tokio::task::spawn_blocking(move || {
            let conn = at.connect(true)?;
            Writer::start(conn, Box::new(|_| Ok(())), Box::new(|_, _| Ok(())))
        })
        .await
        .unwrap()
        .unwrap();
        Store {
            readers: location.readers(4),
            location,
            writer: Arc::new(writer),
            _dir: dir,
        }
    }

    pub async fn write<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut dyn Sql) -> Result<R, StoreError> + Send + 'static,
    ) -> R {
        self.writer.run(move |_, sql| job(sql)).await.unwrap()
    }

    pub async fn read<R: Send + 'static>(
        &self,
        read: impl FnOnce(&mut dyn Sql) -> Result<R, StoreError> + Send + 'static,
    ) -> R {
        self.readers.read(read).await.unwrap()
    }

    pub async fn insert(&self, n: NewNotification) {
        self.write(move |sql| outbox::insert(sql, &n)).await;
    }

    /// Inserts all in one transaction.
    pub async fn insert_all(&self, all: Vec<NewNotification>) {
        self.write(move |sql| {
            all.iter()
                .try_for_each(|n| outbox::insert(sql, n).map(|_| ()))
        })
        .await;
    }

    /// Registers `merchant` (callback hosts: `LOCAL_HOSTS`) with its first secret.
    pub async fn secret(&self, merchant: &str, secret: &str) {
        self.merchant(merchant, &LOCAL_HOSTS).await;
        let (merchant, secret) = (merchant.to_owned(), secret.to_owned());
        self.write(move |sql| secrets::create(sql, &merchant, &secret, now_ms()))
            .await;
    }

    /// Registers `merchant` with these callback hosts (the send-time check reads them).
    pub async fn merchant(&self, merchant: &str, hosts: &[&str]) {
        let new = NewMerchant {
            id: merchant.to_owned(),
            name: merchant.to_owned(),
            callback_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            fee_rate_bp: 0,
            currency: paycore_money::Currency::CNY,
        };
        let merchant = new.into_merchant(now_ms()).unwrap();
        self.write(move |sql| match merchants::get(sql, &merchant.id)? {
            Some(_) => Ok(()),
            None => merchants::insert(sql, &merchant),
        })
        .await;
    }

    pub async fn get(&self, event_id: &str) -> Notification {
        let id = event_id.to_owned();
        self.read(move |sql| outbox::get(sql, &id)).await.unwrap()
    }

    /// Waits until `event_id` is in `status`; the notification then.
    pub async fn wait_for(&self, event_id: &str, status: Status) -> Notification {
        let started = Instant::now();
        loop {
            let n = self.get(event_id).await;
            if n.status == status {
                return n;
            }
            assert!(
                started.elapsed() < WAIT,
                "{event_id} never became {status:?}: {n:#?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn dispatcher(&self, config: DispatcherConfig) -> Dispatcher {
        Dispatcher::start(config, self.readers.clone(), Arc::clone(&self.writer)).unwrap()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // A PostgreSQL connection blocks on a runtime of its own when dropped: not on the
        // test's async threads.
        let closed = Readers::new(|| Err(StoreError::Closed), 0);
        let readers = std::mem::replace(&mut self.readers, closed);
        let _ = std::thread::spawn(move || drop(readers)).join();
    }
}

async fn fresh_postgres(name: &str) -> Location {
    let admin = std::env::var("PAYCORE_TEST_POSTGRES").unwrap();
    let database = format!("paycore_test_notify_{name}_{}", std::process::id());
    let url = tokio::task::spawn_blocking(move || {
        let mut client = ::postgres::Client::connect(&admin, ::postgres::NoTls)
            .expect("PAYCORE_TEST_POSTGRES reachable");
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {database}"))
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        format!("{base}/{database}")
    })
    .await
    .unwrap();
    Location::Postgres(url)
}

pub fn now_ms() -> u64 {
    paycore_notify::now_ms()
}

/// The test configuration: a short schedule, local merchants allowed, quick looks.
pub fn config() -> DispatcherConfig {
    DispatcherConfig {
        schedule: "100ms,200ms".parse().unwrap(),
        timeout: Duration::from_millis(1_000),
        allow: vec!["127.0.0.1/32".parse().unwrap()],
        idle_poll: Duration::from_millis(50),
        stats_every: Duration::from_millis(20),
        ..DispatcherConfig::default()
    }
}

pub fn notification(event_id: &str, merchant: &str, order: &str, url: &str) -> NewNotification {
    let body = paycore_notify::body(
        event_id,
        paycore_notify::event_types::TRADE_PAID,
        1_714_564_800_000,
        serde_json::json!({"trade_id": order, "amount": 1999, "currency": "CNY"}),
    )
    .unwrap();
    NewNotification {
        event_id: event_id.into(),
        merchant: merchant.into(),
        order_id: order.into(),
        event_type: paycore_notify::event_types::TRADE_PAID.into(),
        url: url.into(),
        body,
        created_at: now_ms(),
    }
}

/// One request the merchant received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub event_id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub body: String,
    pub at: Instant,
}

#[derive(Default)]
struct MerchantState {
    received: Mutex<Vec<Received>>,
    healthy: AtomicBool,
    tries: Mutex<HashMap<String, u32>>,
    /// Requests being answered now and the most at once, per first path segment.
    active: Mutex<HashMap<String, (usize, usize)>>,
}

/// A merchant's HTTP server on 127.0.0.1. By the path's first segment: `ack` answers
/// `success`, `fail` 500, `silent` 200 `ok`, `slow/<ms>` `success` after a while,
/// `redirect?to=<url>` 302, `toggle` `success` once made healthy (500 before), `fail-twice`
/// 500 twice per event then `success`.
pub struct Merchant {
    pub addr: SocketAddr,
    state: Arc<MerchantState>,
}

impl Merchant {
    pub async fn start() -> Merchant {
        let state = Arc::new(MerchantState::default());
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Merchant { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().clone()
    }

    pub fn received_for(&self, event_id: &str) -> Vec<Received> {
        let all = self.received();
        all.into_iter().filter(|r| r.event_id == event_id).collect()
    }

    /// The most requests under `/<segment>` answered at the same time.
    pub fn most_at_once(&self, prefix: &str) -> usize {
        let segment = prefix.trim_start_matches('/');
        self.state
            .active
            .lock()
            .get(segment)
            .map_or(0, |(_, most)| *most)
    }

    pub fn heal(&self) {
        self.state.healthy.store(true, Ordering::SeqCst);
    }
}

async fn answer(
    State(state): State<Arc<MerchantState>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let received = Received {
        path: uri.path().to_owned(),
        event_id: header("paycore-event-id"),
        timestamp: header("paycore-timestamp"),
        signature: header("paycore-signature"),
        content_type: header("content-type"),
        body,
        at: Instant::now(),
    };
    let event_id = received.event_id.clone();
    state.received.lock().push(received);
    let mut segments = uri.path().trim_start_matches('/').split('/');
    let first = segments.next().unwrap_or("").to_owned();
    let _active = Active::begin(&state, &first);
    respond(&state, &first, segments.next(), &uri, event_id).await
}

/// Counts a request as being answered until dropped (also when the client gives up first).
struct Active<'a> {
    state: &'a MerchantState,
    segment: String,
}

impl<'a> Active<'a> {
    fn begin(state: &'a MerchantState, segment: &str) -> Active<'a> {
        let mut active = state.active.lock();
        let (now, most) = active.entry(segment.to_owned()).or_default();
        *now += 1;
        *most = (*most).max(*now);
        Active {
            state,
            segment: segment.to_owned(),
        }
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        if let Some((now, _)) = self.state.active.lock().get_mut(&self.segment) {
            *now -= 1;
        }
    }
}

async fn respond(
    state: &MerchantState,
    first: &str,
    second: Option<&str>,
    uri: &Uri,
    event_id: String,
) -> Response {
    match first {
        "ack" => (StatusCode::OK, " success\n").into_response(),
        "fail" => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        "silent" => (StatusCode::OK, "ok").into_response(),
        "slow" => {
            let ms: u64 = second.and_then(|s| s.parse().ok()).unwrap_or(500);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (StatusCode::OK, "success").into_response()
        }
        "redirect" => {
            let to = uri
                .query()
                .and_then(|q| q.strip_prefix("to="))
                .unwrap_or("/");
            (StatusCode::FOUND, [("location", to.to_owned())], "moved").into_response()
        }
        "toggle" if state.healthy.load(Ordering::SeqCst) => "success".into_response(),
        "toggle" => (StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
        "fail-twice" => {
            let mut tries = state.tries.lock();
            let seen = tries.entry(event_id).or_insert(0);
            *seen += 1;
            if *seen > 2 {
                "success".into_response()
            } else {
                (StatusCode::BAD_GATEWAY, "not yet").into_response()
            }
        }
        _ => (StatusCode::NOT_FOUND, "no such path").into_response(),
    }
}

/// HMAC-SHA256 from SHA-256 alone (RFC 2104), hex: the test's own, not the crate's.
pub fn independent_hmac_hex(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block_key.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `v1=` signatures of a header.
pub fn v1_signatures(header: &str) -> Vec<String> {
    header
        .split(',')
        .filter_map(|p| p.strip_prefix("v1="))
        .map(str::to_owned)
        .collect()
}

/// Asserts the request carries `secret`'s signature over `timestamp.body`, and only the
/// signatures of `secrets` in that order.
pub fn assert_signed_by(received: &Received, secrets: &[&str]) {
    let message = format!("{}.{}", received.timestamp, received.body);
    let expected: Vec<String> = secrets
        .iter()
        .map(|s| independent_hmac_hex(s.as_bytes(), message.as_bytes()))
        .collect();
    assert_eq!(v1_signatures(&received.signature), expected, "{received:?}");
}
