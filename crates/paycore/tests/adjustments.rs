//! Adjustments (调账) as they run for real: `paycore serve` in its own process with the
//! `--adjustment-*` flags, the `paycore adjust` CLI against it (capital numerals, the
//! confirmation, maker ≠ checker by operator), and kill -9 of the server between approval and
//! posting — after the restart the adjustment is posted exactly once, never half. With
//! PAYCORE_TEST_POSTGRES set, the stores live in a fresh PostgreSQL database.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KEY: &str = "pck_adjustments_admin";

struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--store` for a test: a fresh PostgreSQL database when PAYCORE_TEST_POSTGRES is set.
fn store_args(name: &str) -> Vec<String> {
    let Ok(admin) = std::env::var("PAYCORE_TEST_POSTGRES") else {
        return Vec::new();
    };
    let database = format!("paycore_adj_{name}_{}", std::process::id());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    vec!["--store".into(), format!("{base}/{database}")]
}

fn serve(dir: &std::path::Path, extra: &[String], hold: Option<&str>) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_paycore"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("PAYCORE_BOOTSTRAP_KEY", KEY)
        .env("PAYCORE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(point) = hold {
        command.env("PAYCORE_TEST_HOLD_ADJUSTMENT_POSTING", point);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server prints its address").unwrap();
        if let Some(rest) = line.strip_prefix("paycore listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Served { child, url }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn call(request: reqwest::blocking::RequestBuilder, key: &str) -> (u16, Value) {
    let response = request.bearer_auth(key).send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn post(url: &str, key: &str, path: &str, body: Value) -> (u16, Value) {
    call(http().post(format!("{url}{path}")).json(&body), key)
}

fn get(url: &str, path: &str) -> (u16, Value) {
    call(http().get(format!("{url}{path}")), KEY)
}

/// Opens SUSPENSE (internal) and bob (customer); keys for li and wang; their secrets.
fn set_up(url: &str) -> (String, String) {
    for (number, kind) in [("SUSPENSE", "internal"), ("bob", "customer")] {
        let body = json!({"account_no": number, "type": kind, "currency": "CNY"});
        assert_eq!(post(url, KEY, "/v1/accounts", body).0, 201);
    }
    let key = |name: &str, operator: &str| {
        let body = json!({"name": name, "operator": operator, "role": "operator"});
        let (status, key) = post(url, KEY, "/v1/keys", body);
        assert_eq!(status, 201, "{key}");
        key["key"].as_str().unwrap().to_owned()
    };
    (key("li-desk", "li"), key("wang-desk", "wang"))
}

fn paycore(url: &str, key: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(args)
        .env("PAYCORE_URL", url)
        .env("PAYCORE_KEY", key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `2026-12-01T22:57:27.123Z` → whole seconds since the epoch.
fn seconds(rfc3339: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| rfc3339[range].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + n(11..13) * 3_600 + n(14..16) * 60 + n(17..19)
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

#[test]
fn the_cli_proposes_in_capital_numerals_and_another_person_approves() {
    let dir = tempfile::tempdir().unwrap();
    let mut flags: Vec<String> = [
        "--adjustment-ttl-h",
        "2",
        "--adjustment-dual-approval-above",
        "1000",
    ]
    .map(String::from)
    .into();
    flags.extend(store_args("cli"));
    let server = serve(dir.path(), &flags, None);
    let url = server.url.clone();
    let (li, wang) = set_up(&url);
    let create = |id: &str, amount: &str, extra: &[&str], stdin: &str| {
        let mut args = vec![
            "adjust",
            "create",
            "--id",
            id,
            "--debit",
            "SUSPENSE",
            "--credit",
            "bob",
            "--amount",
            amount,
            "--reason",
            "payment P-42 went to the wrong customer",
        ];
        args.extend_from_slice(extra);
        paycore(&url, &li, &args, stdin)
    };

    // Declined (or no answer): the amount was shown in capital numerals, nothing was sent.
    for answer in ["n\n", ""] {
        let declined = create("a1", "10.00", &[], answer);
        assert_eq!(code(&declined), 1, "{declined:?}");
        assert!(
            text(&declined).contains("10.00 CNY  壹拾元整"),
            "{}",
            text(&declined)
        );
        assert_eq!(get(&url, "/v1/adjustments/a1").0, 404, "nothing sent");
    }
    let confirmed = create("a1", "10.00", &[], "y\n");
    assert_eq!(code(&confirmed), 0, "{confirmed:?}");
    let out = text(&confirmed);
    assert!(
        out.contains("adjustment a1 pending_approval") && out.contains("壹拾元整"),
        "{out}"
    );
    let a1 = get(&url, "/v1/adjustments/a1").1;
    assert_eq!(a1["maker"], "li");
    // --adjustment-ttl-h 2: it expires two hours after it was proposed.
    let at = |field: &str| seconds(a1[field].as_str().unwrap());
    assert_eq!(at("expires_at") - at("created_at"), 2 * 3_600);

    // The maker cannot approve; wang can, and a retry answers again.
    let own = paycore(&url, &li, &["adjust", "approve", "a1"], "");
    assert_eq!(code(&own), 7, "403 maker_checker_violation");
    assert!(String::from_utf8_lossy(&own.stderr).contains("maker_checker_violation"));
    let approved = paycore(
        &url,
        &wang,
        &["adjust", "approve", "a1", "--comment", "ok"],
        "",
    );
    assert_eq!(code(&approved), 0, "{approved:?}");
    assert!(
        text(&approved).contains("adjustment a1 posted"),
        "{}",
        text(&approved)
    );
    assert_eq!(
        code(&paycore(&url, &wang, &["adjust", "approve", "a1"], "")),
        0
    );
    assert_eq!(
        get(&url, "/v1/accounts/bob").1["balance"],
        1_000,
        "posted once"
    );

    // --adjustment-dual-approval-above 1000: 10.01 needs two approvers.
    let big = create("a2", "10.01", &["--yes"], "");
    assert_eq!(code(&big), 0, "{big:?}");
    assert!(text(&big).contains("(approvals 0/2)"), "{}", text(&big));
    let first = paycore(&url, &wang, &["adjust", "approve", "a2"], "");
    assert!(
        text(&first).contains("partially_approved"),
        "{}",
        text(&first)
    );

    // Reject needs a reason (clap), and records it.
    create("a3", "1.00", &["--yes"], "");
    assert_eq!(
        code(&paycore(&url, &wang, &["adjust", "reject", "a3"], "")),
        2
    );
    let rejected = paycore(
        &url,
        &wang,
        &["adjust", "reject", "a3", "--reason", "duplicate"],
        "",
    );
    assert!(
        text(&rejected).contains("adjustment a3 rejected"),
        "{}",
        text(&rejected)
    );

    let shown = text(&paycore(&url, &wang, &["adjust", "show", "a1"], ""));
    for line in ["created", "approved", "posted", "adjustment:a1"] {
        assert!(shown.contains(line), "{line} in {shown}");
    }
    let listed = text(&paycore(
        &url,
        &wang,
        &["adjust", "list", "--status", "rejected"],
        "",
    ));
    assert!(listed.contains("a3") && !listed.contains("a1 "), "{listed}");
    let plain = paycore(
        &url,
        KEY,
        &[
            "transfer",
            "--from",
            "SUSPENSE",
            "--to",
            "bob",
            "--amount",
            "1",
            "--kind",
            "adjustment",
        ],
        "",
    );
    assert_eq!(code(&plain), 7, "403 adjustment_requires_approval");
    assert!(String::from_utf8_lossy(&plain.stderr).contains("adjustment_requires_approval"));
}

/// Polls until `ready` holds of the adjustment `id`.
fn wait_for(url: &str, what: &str, ready: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready(url) {
        assert!(Instant::now() < deadline, "never reached: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_between_approval_and_posting_leaves_it_posted_exactly_once() {
    for point in ["after_intent", "after_post"] {
        let dir = tempfile::tempdir().unwrap();
        let store = store_args(point);
        let server = serve(dir.path(), &store, Some(point));
        let url = server.url.clone();
        let (li, wang) = set_up(&url);
        let proposal = json!({"id": "k1", "debit_account": "SUSPENSE", "credit_account": "bob",
            "amount": 4_200, "currency": "CNY", "reason": "missing credit"});
        assert_eq!(post(&url, &li, "/v1/adjustments", proposal).0, 201);

        // The approval hangs at the held point; the server is killed there.
        let approver = {
            let url = url.clone();
            std::thread::spawn(move || {
                let sent = http()
                    .post(format!("{url}/v1/adjustments/k1/approve"))
                    .bearer_auth(&wang)
                    .json(&json!({}))
                    .send();
                assert!(sent.is_err(), "the approval never answers before the kill");
                wang
            })
        };
        wait_for(&url, "the intent is stored", |url| {
            get(url, "/v1/adjustments/k1").1["status"] == "approved"
        });
        if point == "after_post" {
            wait_for(&url, "the ledger posted it", |url| {
                get(url, "/v1/transfers/adjustment:k1").0 == 200
            });
        }
        let mut server = server;
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        let wang = approver.join().unwrap();

        let server = serve(dir.path(), &store, None);
        let url = server.url.clone();
        let a = get(&url, "/v1/adjustments/k1").1;
        assert_eq!(a["status"], "posted", "{point}: finished at start: {a}");
        let history: Vec<_> = a["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_owned(),
                    e["operator"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected = [
            ("created", "li"),
            ("approved", "wang"),
            ("posted", "system"),
        ]
        .map(|(a, o)| (a.to_owned(), o.to_owned()));
        assert_eq!(history, expected, "{point}");
        let transfer = get(&url, "/v1/transfers/adjustment:k1").1;
        assert_eq!(
            (transfer["kind"].as_str(), transfer["amount"].as_u64()),
            (Some("adjustment"), Some(4_200))
        );
        assert_eq!(
            get(&url, "/v1/accounts/bob").1["balance"],
            4_200,
            "{point}: exactly once"
        );
        assert_eq!(
            get(&url, "/v1/accounts/SUSPENSE").1["balance"],
            -4_200,
            "{point}"
        );
        // A retried approval after the restart posts nothing more.
        let (status, again) = post(&url, &wang, "/v1/adjustments/k1/approve", json!({}));
        assert_eq!(
            (status, again["status"].as_str()),
            (200, Some("posted")),
            "{point}"
        );
        assert_eq!(get(&url, "/v1/accounts/bob").1["balance"], 4_200, "{point}");
    }
}
