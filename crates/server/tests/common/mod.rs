//! A real server on an ephemeral port, in-process, and a small JSON client for tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use paycore_engine::{EngineConfig, Retention};
use paycore_money::Currency;
use paycore_server::{Server, ServerConfig, StoreUrl};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_KEY: &str = "pck_admin_for_tests";

pub struct TestServer {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub key: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), paycore_server::ServerError>>>,
    pub bootstrap_printed: bool,
}

pub async fn start(dir: &Path) -> TestServer {
    start_configured(dir, |_| {}, paycore_server::PaymentOptions::default()).await
}

/// Like `start`, with the engine's configuration adjusted first (e.g. to inject faults).
pub async fn start_with(dir: &Path, adjust: impl FnOnce(&mut EngineConfig)) -> TestServer {
    start_configured(dir, adjust, paycore_server::PaymentOptions::default()).await
}

/// A server whose payment side uses `payments` (short timeouts and schedules in tests).
pub async fn start_with_payments(
    dir: &Path,
    payments: paycore_server::PaymentOptions,
) -> TestServer {
    start_configured(dir, |_| {}, payments).await
}

async fn start_configured(
    dir: &Path,
    adjust: impl FnOnce(&mut EngineConfig),
    payments: paycore_server::PaymentOptions,
) -> TestServer {
    let mut engine = EngineConfig::new(dir);
    engine.segment_bytes = 4 << 20;
    engine.retention = Retention::Keep;
    adjust(&mut engine);
    let config = ServerConfig {
        engine,
        listen: "127.0.0.1:0".parse().unwrap(),
        currencies: vec![Currency::CNY],
        bootstrap_key: Some(ADMIN_KEY.into()),
        store: store_url(dir),
        day_end_at: None,
        payments,
    };
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addr();
    let bootstrap_printed = server.bootstrap_key.is_some();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        http: reqwest::Client::new(),
        key: ADMIN_KEY.into(),
        stop: Some(stop),
        task: Some(task),
        bootstrap_printed,
    }
}

/// The query store for a test server: SQLite in the data directory, or a fresh PostgreSQL
/// database when PAYCORE_TEST_POSTGRES is set (CI).
pub fn store_url(dir: &Path) -> StoreUrl {
    match std::env::var("PAYCORE_TEST_POSTGRES") {
        Ok(admin) => {
            let database = format!(
                "paycore_api_{}",
                dir.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            );
            // The synchronous client runs its own runtime: keep it off the test's async threads.
            let (admin_url, name) = (admin.clone(), database.clone());
            std::thread::spawn(move || {
                let mut client = ::postgres::Client::connect(&admin_url, ::postgres::NoTls)
                    .expect("PAYCORE_TEST_POSTGRES reachable");
                if client
                    .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                    .unwrap()
                    .is_none()
                {
                    client
                        .batch_execute(&format!("CREATE DATABASE {name}"))
                        .unwrap();
                }
            })
            .join()
            .unwrap();
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(base, _)| base);
            StoreUrl::Postgres(format!("{base}/{database}"))
        }
        Err(_) => StoreUrl::default_in(dir),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub replayed: bool,
}

impl Reply {
    /// The error code of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }

    pub async fn send(&self, request: reqwest::RequestBuilder, key: Option<&str>) -> Reply {
        let request = match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let replayed = response.headers().get("idempotent-replayed").is_some();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            replayed,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.http.post(self.url(path)).json(&body), Some(&self.key))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(self.http.patch(self.url(path)).json(&body), Some(&self.key))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(self.http.put(self.url(path)).json(&body), Some(&self.key))
            .await
    }

    pub async fn post_as(&self, key: &str, path: &str, body: Value) -> Reply {
        self.send(self.http.post(self.url(path)).json(&body), Some(key))
            .await
    }

    pub async fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.send(
            self.http.post(self.url(path)).body(body.to_owned()),
            Some(&self.key),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(self.url(path)), Some(&self.key))
            .await
    }

    /// The body of a GET as text. Past u64 a JSON number only stays exact when read into an
    /// integer type, so such answers are parsed as the API's own types, not as a `Value`.
    pub async fn get_text(&self, path: &str) -> String {
        let response = self.http.get(self.url(path)).bearer_auth(&self.key).send();
        response.await.unwrap().text().await.unwrap()
    }

    pub async fn get_as(&self, key: Option<&str>, path: &str) -> Reply {
        self.send(self.http.get(self.url(path)), key).await
    }

    pub async fn open(&self, number: &str, kind: &str) -> Reply {
        self.post(
            "/v1/accounts",
            json!({"account_no": number, "type": kind, "currency": "CNY"}),
        )
        .await
    }

    pub async fn deposit(&self, id: &str, account: &str, amount: u64) -> Reply {
        self.post(
            "/v1/deposits",
            json!({"id": id, "account": account, "amount": amount, "currency": "CNY"}),
        )
        .await
    }

    pub async fn transfer(&self, id: &str, from: &str, to: &str, amount: u64) -> Reply {
        self.post("/v1/transfers", json!({"id": id, "debit_account": from, "credit_account": to, "amount": amount, "currency": "CNY"})).await
    }

    pub async fn balance(&self, account: &str) -> i64 {
        self.get(&format!("/v1/accounts/{account}")).await.body["balance"]
            .as_i64()
            .unwrap()
    }

    /// Creates a key named `name` for the person `operator` and returns its secret.
    pub async fn key_of(&self, name: &str, operator: &str, role: &str) -> String {
        let body = json!({"name": name, "operator": operator, "role": role});
        let reply = self.post("/v1/keys", body).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        assert_eq!(reply.body["operator"], operator);
        reply.body["key"].as_str().unwrap().to_owned()
    }

    /// The sum of every account's balance per currency: zero when the books balance. Summed
    /// wide, so accounts near i64's limits cannot overflow a partial sum.
    pub async fn balance_sums(&self) -> std::collections::BTreeMap<String, i128> {
        let mut sums = std::collections::BTreeMap::new();
        let mut after = String::new();
        loop {
            let path = match after.as_str() {
                "" => "/v1/accounts?limit=1000".to_owned(),
                after => format!("/v1/accounts?limit=1000&after={after}"),
            };
            let page = self.get(&path).await;
            assert_eq!(page.status, 200, "{:?}", page.body);
            for a in page.body["accounts"].as_array().unwrap() {
                if a["sub_accounts"].as_array().is_none_or(|s| s.is_empty()) {
                    *sums
                        .entry(a["currency"].as_str().unwrap().to_owned())
                        .or_insert(0) += i128::from(a["balance"].as_i64().unwrap())
                        + i128::from(a["pending_credit"].as_i64().unwrap_or(0));
                }
            }
            match page.body["next"].as_str() {
                Some(next) => after = next.to_owned(),
                None => return sums,
            }
        }
    }

    /// Asserts that every currency's balances sum to zero (total debits = total credits).
    pub async fn assert_books_balance(&self) {
        let sums = self.balance_sums().await;
        assert!(
            sums.values().all(|v| *v == 0),
            "books do not balance: {sums:?}"
        );
    }

    /// Creates a key of `role` and returns its secret.
    pub async fn key_for(&self, role: &str) -> String {
        let reply = self
            .post(
                "/v1/keys",
                json!({"name": format!("{role}-key"), "role": role}),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body["key"].as_str().unwrap().to_owned()
    }
}

/// Waits until accounting has posted every durable batch.
pub async fn posted(s: &TestServer) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = s.get("/v1/accounting/status").await.body;
        if status["lag_batches"] == 0 && status["applied_sequence"] == status["durable_sequence"] {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "accounting never caught up: {status}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the query store has every durable batch.
pub async fn projected(s: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let health = s.get_as(None, "/healthz").await.body;
        if health["store_lag_batches"] == 0
            && health["store_sequence"].as_u64() >= health["durable_sequence"].as_u64()
        {
            return;
        }
        assert!(Instant::now() < deadline, "store never caught up: {health}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
