//! The payment path as it runs for real: `paycore channel-sim` and `paycore serve` as
//! separate processes. The server is killed with SIGKILL in the middle of a stream of
//! payments over channels that time out, fail and call back late or twice; after a restart
//! every payment, refund and payout must end in the state the bank recorded, every success be
//! posted exactly once, nothing be posted for the rest, every refund's and payout's hold be
//! captured or released, and a response once given must still hold.

mod common;

use common::{free_port, start, Process};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KEY: &str = "pck_payments_crash_admin";

fn serve(dir: &std::path::Path, port: u16) -> Process {
    let listen = format!("127.0.0.1:{port}");
    start(
        &[
            "serve",
            "--listen",
            &listen,
            "--data-dir",
            dir.to_str().unwrap(),
            "--channel-timeout-ms",
            "300",
            "--query-schedule",
            "200ms,300ms,500ms",
            "--not-found-grace-ms",
            "1500",
            "--channel-health-failures",
            "0",
        ],
        "paycore listening on ",
        KEY,
    )
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn send(request: reqwest::blocking::RequestBuilder) -> Option<(u16, Value)> {
    let response = request.bearer_auth(KEY).send().ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().unwrap_or(Value::Null)))
}

fn ok(reply: Option<(u16, Value)>) -> Value {
    let (status, body) = reply.expect("the server answers");
    assert!((200..300).contains(&status), "{status}: {body}");
    body
}

const CHANNELS: [(&str, &str, &str); 3] = [
    ("ok", "sim-json", r#"{"latency_ms": 2}"#),
    (
        "mixed",
        "sim-form",
        r#"{"success_pct": 55, "fail_pct": 20, "timeout_pct": 25, "timeout_hold_ms": 700, "callback": "late", "callback_delay_ms": 400, "duplicate_callback_pct": 30}"#,
    ),
    (
        "quiet",
        "sim-json",
        r#"{"success_pct": 50, "fail_pct": 20, "timeout_pct": 30, "timeout_hold_ms": 700, "callback": "none"}"#,
    ),
];

fn set_up(http: &reqwest::blocking::Client, url: &str, sim: &str, round: usize) {
    for (name, protocol, behaviour) in CHANNELS {
        // Each round's server numbers its channel orders afresh: channels of their own at the bank.
        let id = format!("{name}{round}");
        let mut body: Value = serde_json::from_str(behaviour).unwrap();
        body["protocol"] = json!(protocol);
        body["secret"] = json!(format!("s-{id}"));
        let put = http
            .put(format!("{sim}/sim/channels/{id}"))
            .json(&body)
            .send()
            .unwrap();
        assert!(put.status().is_success());
        ok(send(
            http.post(format!("{url}/v1/channels")).json(&json!({
            "id": id, "protocol": protocol, "endpoint": sim, "secret": format!("s-{id}"),
            "methods": ["quickpay", "payout"], "currencies": ["CNY"], "weight": 100})),
        ));
    }
    ok(send(
        http.post(format!("{url}/v1/merchants")).json(&json!({
        "id": "shop", "name": "Shop", "callback_hosts": ["127.0.0.1"], "fee_rate_bp": 30})),
    ));
}

/// What the stream saw: payment, refund or payout id → (amount, the status a response
/// reported, if any). Refund ids start with `r-`, payout ids with `w-`.
type Seen = Arc<Mutex<HashMap<String, (u64, Option<String>)>>>;

/// Refunds half of every other payment that succeeded at once.
fn refund_half(
    http: &reqwest::blocking::Client,
    url: &str,
    seen: &Seen,
    n: usize,
    amount: u64,
) -> bool {
    if n % 2 == 1 {
        return true;
    }
    let (id, half) = (format!("r-{n}"), amount / 2);
    seen.lock().unwrap().insert(id.clone(), (half, None));
    let refunded = send(
        http.post(format!("{url}/v1/payments/p-{n}/refunds"))
            .json(&json!({"id": id, "amount": half, "reason": "crash test"})),
    );
    match refunded {
        Some((201, body)) => {
            let status = body["status"].as_str().unwrap().to_owned();
            seen.lock().unwrap().insert(id, (half, Some(status)));
            true
        }
        _ => false,
    }
}

/// Pays a quarter of every third payment that succeeded at once out to a bank account (a
/// refused hold, `422`, is a failed payout that sent nothing).
fn payout_quarter(
    http: &reqwest::blocking::Client,
    url: &str,
    seen: &Seen,
    n: usize,
    amount: u64,
) -> bool {
    if !n.is_multiple_of(3) {
        return true;
    }
    let (id, quarter) = (format!("w-{n}"), amount / 4);
    seen.lock().unwrap().insert(id.clone(), (quarter, None));
    let paid_out = send(http.post(format!("{url}/v1/payouts")).json(&json!({
        "id": id, "merchant": "shop", "amount": quarter, "currency": "CNY",
        "bank_account": format!("6222-{n}")})));
    let status = match paid_out {
        Some((201, body)) => body["status"].as_str().unwrap().to_owned(),
        Some((422, body)) if body["error"]["code"] == "insufficient_funds" => "failed".to_owned(),
        _ => return false,
    };
    seen.lock().unwrap().insert(id, (quarter, Some(status)));
    true
}

fn stream(url: String, seen: Seen, worker: usize, per_worker: usize) {
    let http = client();
    for i in 0..per_worker {
        let n = worker * per_worker + i;
        let amount = 1_000 + n as u64;
        let order_no = format!("o-{n}");
        let Some((201 | 200, trade)) = send(http.post(format!("{url}/v1/trades")).json(&json!({
            "merchant": "shop", "merchant_order_no": order_no, "amount": amount, "currency": "CNY"})))
        else {
            return; // the server is gone
        };
        let trade_id = trade["trade_id"].as_str().unwrap().to_owned();
        let id = format!("p-{n}");
        seen.lock().unwrap().insert(id.clone(), (amount, None));
        let paid = send(
            http.post(format!("{url}/v1/trades/{trade_id}/payments"))
                .json(&json!({"id": id, "method": "quickpay"})),
        );
        match paid {
            Some((201, body)) => {
                let status = body["status"].as_str().unwrap().to_owned();
                seen.lock()
                    .unwrap()
                    .insert(id, (amount, Some(status.clone())));
                if status == "succeeded"
                    && !(refund_half(&http, &url, &seen, n, amount)
                        && payout_quarter(&http, &url, &seen, n, amount))
                {
                    return;
                }
            }
            _ => return,
        }
    }
}

fn settled(http: &reqwest::blocking::Client, url: &str, id: &str) -> Option<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let path = match id.split_once('-') {
        Some(("r", _)) => "refunds",
        Some(("w", _)) => "payouts",
        _ => "payments",
    };
    loop {
        let (status, body) = send(http.get(format!("{url}/v1/{path}/{id}"))).unwrap();
        if status == 404 {
            return None;
        }
        let state = body["status"].as_str().unwrap();
        if state == "succeeded" || state == "failed" {
            return Some(body);
        }
        assert!(Instant::now() < deadline, "{id} never settled: {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn balance(http: &reqwest::blocking::Client, url: &str, account: &str) -> i64 {
    ok(send(http.get(format!("{url}/v1/accounts/{account}"))))["balance"]
        .as_i64()
        .unwrap()
}

#[test]
fn kill_9_during_a_stream_of_payments_loses_and_doubles_nothing() {
    let sim = start(
        &["channel-sim", "--listen", "127.0.0.1:0", "--seed", "7"],
        "channel-sim listening on ",
        KEY,
    );
    // Killed early (most payments in flight) and later (a longer history to recover).
    for (round, kill_after) in [(0, 60), (1, 180)] {
        kill_and_recover(&sim.url, round, kill_after);
    }
}

fn kill_and_recover(sim_url: &str, round: usize, kill_after: usize) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = serve(dir.path(), port);
    let http = client();
    set_up(&http, &server.url, sim_url, round);

    let seen: Seen = Arc::default();
    let workers: Vec<_> = (0..12)
        .map(|w| {
            let (url, seen) = (server.url.clone(), seen.clone());
            std::thread::spawn(move || stream(url, seen, w, 40))
        })
        .collect();
    // Kill it once a good part of the stream was answered.
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen
        .lock()
        .unwrap()
        .values()
        .filter(|v| v.1.is_some())
        .count()
        < kill_after
    {
        assert!(Instant::now() < deadline, "the stream is too slow");
        std::thread::sleep(Duration::from_millis(10));
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    for w in workers {
        w.join().unwrap();
    }

    let server = serve(dir.path(), port);
    let url = &server.url;
    let seen = seen.lock().unwrap().clone();
    let mut expected = HashMap::<String, i64>::new();
    let (mut succeeded, mut refunded, mut merchant, mut fees) = (0, 0, 0i64, 0i64);
    let mut paid_out = 0;
    for (id, (amount, answered)) in &seen {
        let Some(payment) = settled(&http, url, id) else {
            assert!(
                answered.is_none(),
                "{id} was answered {answered:?} but is gone"
            );
            continue;
        };
        let status = payment["status"].as_str().unwrap();
        if id.starts_with("r-") || id.starts_with("w-") {
            let hold = payment["hold"].as_str().unwrap();
            let settled = match status {
                "succeeded" => hold == "captured",
                _ => hold == "released" || hold == "refused",
            };
            assert!(settled, "{id}: the hold is settled ({payment})");
        }
        if answered
            .as_deref()
            .is_some_and(|a| a == "succeeded" || a == "failed")
        {
            assert_eq!(
                Some(status),
                answered.as_deref(),
                "{id}: a final answer holds"
            );
        }
        let channel = payment["channel"].as_str().unwrap();
        let order = payment["channel_order_no"].as_str().unwrap();
        let bank = http
            .get(format!("{sim_url}/sim/channels/{channel}/orders/{order}"))
            .send()
            .unwrap();
        let bank_status = if bank.status() == 404 {
            "failed".to_owned() // the bank never got it: failed as not found
        } else {
            bank.json::<Value>().unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            status, bank_status,
            "{id}: paycore and the bank agree ({payment})"
        );
        if status == "succeeded" && id.starts_with("w-") {
            paid_out += 1;
            merchant -= *amount as i64;
            *expected.entry(channel.to_owned()).or_default() += *amount as i64;
        } else if status == "succeeded" && id.starts_with("r-") {
            refunded += 1;
            merchant -= *amount as i64;
            *expected.entry(channel.to_owned()).or_default() += *amount as i64;
        } else if status == "succeeded" {
            succeeded += 1;
            let fee = (*amount as i64 * 30 + 5_000) / 10_000;
            merchant += *amount as i64 - fee;
            fees += fee;
            *expected.entry(channel.to_owned()).or_default() -= *amount as i64;
        }
    }
    let answered = seen.values().filter(|v| v.1.is_some()).count();
    eprintln!(
        "{} payments, refunds and payouts started, {answered} answered before the kill, {succeeded} payments, {refunded} refunds and {paid_out} payouts succeeded",
        seen.len()
    );
    assert!(refunded > 5, "the stream exercised refunds: {refunded}");
    assert!(paid_out > 3, "the stream exercised payouts: {paid_out}");
    assert!(
        succeeded > 20,
        "the stream exercised successes: {succeeded}"
    );
    assert!(answered < seen.len(), "the kill interrupted the stream");
    assert_eq!(
        balance(&http, url, "M-shop"),
        merchant,
        "each success posted exactly once"
    );
    assert_eq!(balance(&http, url, "FEE-INCOME-CNY"), fees);
    let shop = ok(send(http.get(format!("{url}/v1/accounts/M-shop"))));
    assert_eq!(shop["frozen"], 0, "every hold was captured or released");
    for (name, _, _) in &CHANNELS {
        let channel = format!("{name}{round}");
        let owed = expected.get(&channel).copied().unwrap_or(0);
        assert_eq!(
            balance(&http, url, &format!("CLR-{channel}-CNY")),
            owed,
            "{channel}"
        );
    }
}
