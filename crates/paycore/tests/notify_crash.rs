//! Merchant notifications across a kill -9: `paycore channel-sim` and `paycore serve` as real
//! processes, and a merchant HTTP server here (plain TCP) that first refuses every
//! notification, then acknowledges them slowly. The server is killed with SIGKILL while some
//! are delivered, some in flight and the rest pending; after the restart every paid trade's
//! `trade.paid` must be delivered, none lost, none invented, and a notification received
//! twice only ever with the same event id and the same body.

mod common;

use common::{free_port, start, Process};

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KEY: &str = "pck_notify_crash_admin";
const TRADES: usize = 30;

fn serve(dir: &std::path::Path, port: u16) -> Process {
    let listen = format!("127.0.0.1:{port}");
    let schedule = vec!["300ms"; 60].join(",");
    start(
        &[
            "serve",
            "--listen",
            &listen,
            "--data-dir",
            dir.to_str().unwrap(),
            "--notify-allow-cidr",
            "127.0.0.1/32",
            "--notify-schedule",
            &schedule,
            "--notify-timeout-ms",
            "1000",
        ],
        "paycore listening on ",
        KEY,
    )
}

fn ok(request: reqwest::blocking::RequestBuilder) -> Value {
    let response = request.bearer_auth(KEY).send().unwrap();
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// What the merchant received: (event id, body, acknowledged).
#[derive(Default)]
struct Inbox {
    acknowledge: bool,
    got: Vec<(String, String, bool)>,
}

type Shared = Arc<Mutex<Inbox>>;

/// The merchant's server: one thread per connection, one request per connection.
fn merchant() -> (String, Shared) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let inbox = Shared::default();
    let shared = Arc::clone(&inbox);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let inbox = Arc::clone(&shared);
            std::thread::spawn(move || answer(stream, &inbox));
        }
    });
    (url, inbox)
}

fn answer(mut stream: TcpStream, inbox: &Shared) {
    let Some((event_id, body)) = read_request(&mut stream) else {
        return;
    };
    let acknowledge = inbox.lock().unwrap().acknowledge;
    if acknowledge {
        std::thread::sleep(Duration::from_millis(40)); // slow: the kill finds some in flight
    }
    let reply: &[u8] = match acknowledge {
        true => b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nsuccess",
        false => {
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        }
    };
    let answered = stream.write_all(reply).is_ok();
    inbox
        .lock()
        .unwrap()
        .got
        .push((event_id, body, acknowledge && answered));
}

/// The `Paycore-Event-Id` header and the body of one HTTP request.
fn read_request(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let (mut length, mut event_id) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "paycore-event-id" => event_id = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((event_id, String::from_utf8(body).ok()?))
}

fn set_up(http: &reqwest::blocking::Client, url: &str, sim: &str) {
    let put = http
        .put(format!("{sim}/sim/channels/ok"))
        .json(&json!({"protocol": "sim-json", "secret": "s-ok", "latency_ms": 2}))
        .send()
        .unwrap();
    assert!(put.status().is_success());
    ok(http.post(format!("{url}/v1/channels")).json(&json!({
        "id": "ok", "protocol": "sim-json", "endpoint": sim, "secret": "s-ok",
        "methods": ["quickpay"], "currencies": ["CNY"], "weight": 100})));
    ok(http.post(format!("{url}/v1/merchants")).json(&json!({
        "id": "shop", "name": "Shop", "callback_hosts": ["127.0.0.1"]})));
}

/// Pays `TRADES` trades notifying `notify_url`; their ids.
fn pay_trades(http: &reqwest::blocking::Client, url: &str, notify_url: &str) -> Vec<String> {
    (0..TRADES)
        .map(|i| {
            let trade = ok(http.post(format!("{url}/v1/trades")).json(&json!({
                "merchant": "shop", "merchant_order_no": format!("o-{i}"), "amount": 100 + i,
                "currency": "CNY", "subject": "tea", "notify_url": notify_url})));
            let trade = trade["trade_id"].as_str().unwrap().to_owned();
            let paid = ok(http
                .post(format!("{url}/v1/trades/{trade}/payments"))
                .json(&json!({"id": format!("p-{i}"), "method": "quickpay"})));
            assert_eq!(paid["status"], "succeeded", "{paid}");
            trade
        })
        .collect()
}

fn acknowledged(inbox: &Shared) -> BTreeSet<String> {
    let inbox = inbox.lock().unwrap();
    inbox
        .got
        .iter()
        .filter(|g| g.2)
        .map(|g| g.0.clone())
        .collect()
}

#[test]
fn kill_9_with_notifications_pending_loses_and_invents_none() {
    let sim = start(
        &["channel-sim", "--listen", "127.0.0.1:0", "--seed", "7"],
        "channel-sim listening on ",
        KEY,
    );
    let (notify_url, inbox) = merchant();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = serve(dir.path(), port);
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    set_up(&http, &server.url, &sim.url);
    let trades = pay_trades(&http, &server.url, &notify_url);
    let expected: BTreeSet<String> = trades
        .iter()
        .map(|t| format!("evt_{t}_trade.paid"))
        .collect();

    // The merchant acknowledges from now on, slowly; kill -9 once a third are delivered.
    inbox.lock().unwrap().acknowledge = true;
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged(&inbox).len() < TRADES / 3 {
        assert!(Instant::now() < deadline, "notifications too slow");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let before_restart = acknowledged(&inbox).len();
    assert!(before_restart < TRADES, "the kill came before the end");

    let server = serve(dir.path(), port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged(&inbox) != expected {
        assert!(
            Instant::now() < deadline,
            "not every notification arrived: {:?}",
            expected
                .difference(&acknowledged(&inbox))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // None invented, and a repeat is the same event byte for byte.
    let mut bodies = BTreeMap::<String, String>::new();
    for (event_id, body, _) in &inbox.lock().unwrap().got {
        assert!(expected.contains(event_id), "unexpected event {event_id}");
        let first = bodies
            .entry(event_id.clone())
            .or_insert_with(|| body.clone());
        assert_eq!(first, body, "{event_id} came back with another body");
    }
    // The outbox agrees once the last attempts are recorded (an acknowledgement reaches the
    // merchant just before paycore records it).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = ok(http.get(format!(
            "{}/v1/notifications?status=delivered&limit=1000",
            server.url
        )));
        if listed["notifications"].as_array().unwrap().len() == TRADES {
            break;
        }
        assert!(Instant::now() < deadline, "{listed}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pending = ok(http.get(format!("{}/v1/notifications?status=pending", server.url)));
    assert!(pending["notifications"].as_array().unwrap().is_empty());
    eprintln!(
        "{TRADES} notifications, {before_restart} acknowledged before the kill, {} requests in all",
        inbox.lock().unwrap().got.len()
    );
}
