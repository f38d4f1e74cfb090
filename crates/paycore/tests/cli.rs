//! The binary as a newcomer uses it: `paycore serve` in one process, CLI commands against it,
//! output and exit codes checked, then SIGTERM and `verify-log`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const KEY: &str = "pck_cli_test_admin";

struct Served {
    child: Child,
    url: String,
}

fn serve(dir: &std::path::Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("PAYCORE_BOOTSTRAP_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server prints its address").unwrap();
        if let Some(rest) = line.strip_prefix("paycore listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    Served { child, url }
}

/// Waits until the server's query store and accounting have every durable batch.
fn projected(url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let health: serde_json::Value = reqwest::blocking::get(format!("{url}/healthz"))
            .unwrap()
            .json()
            .unwrap();
        if health["store_lag_batches"] == 0 && health["accounting_lag_batches"] == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "store never caught up: {health}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn paycore(url: &str, key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(args)
        .env("PAYCORE_URL", url)
        .env("PAYCORE_KEY", key)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

#[test]
fn a_newcomer_session_from_open_to_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path());
    let run = |args: &[&str]| paycore(&server.url, KEY, args);

    assert_eq!(code(&run(&["account", "open", "alice"])), 0);
    assert_eq!(
        code(&run(&["account", "open", "bob", "--type", "merchant"])),
        0
    );
    let deposit = run(&[
        "deposit",
        "--id",
        "d1",
        "--account",
        "alice",
        "--amount",
        "1005.30",
    ]);
    assert_eq!(
        code(&deposit),
        0,
        "{}",
        String::from_utf8_lossy(&deposit.stderr)
    );
    assert!(
        stdout(&deposit).contains("1005.30 CNY  壹仟零伍元叁角"),
        "{}",
        stdout(&deposit)
    );
    assert_eq!(
        code(&run(&[
            "transfer", "--id", "t1", "--from", "alice", "--to", "bob", "--amount", "5.30"
        ])),
        0
    );
    assert_eq!(
        code(&run(&[
            "transfer", "--id", "t1", "--from", "alice", "--to", "bob", "--amount", "5.30"
        ])),
        0,
        "a retry succeeds"
    );
    assert_eq!(
        code(&run(&[
            "transfer", "--id", "t1", "--from", "alice", "--to", "bob", "--amount", "6"
        ])),
        6,
        "id_conflict"
    );
    let rejected = run(&[
        "transfer", "--id", "t2", "--from", "alice", "--to", "bob", "--amount", "99999",
    ]);
    assert_eq!(code(&rejected), 4);
    assert!(String::from_utf8_lossy(&rejected.stderr).contains("insufficient_funds"));
    assert_eq!(
        code(&run(&[
            "transfer", "--id", "t3", "--from", "alice", "--to", "bob", "--amount", "1.001"
        ])),
        1,
        "too many decimals is refused locally"
    );

    let shown = run(&["account", "show", "bob", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(json["balance"], 530);
    let table = stdout(&run(&["account", "show", "alice"]));
    assert!(table.contains("1000.00 CNY  壹仟元整"), "{table}");
    assert_eq!(code(&run(&["account", "show", "nobody"])), 5);
    assert_eq!(
        code(&paycore(
            &server.url,
            "pck_wrong",
            &["account", "show", "alice"]
        )),
        7
    );
    assert!(stdout(&run(&["account", "list"])).contains("SETTLEMENT-CNY"));
    assert!(stdout(&run(&["transfer", "show", "t1"])).contains("posted"));

    assert_eq!(
        code(&run(&[
            "hold",
            "create",
            "--id",
            "h1",
            "--account",
            "alice",
            "--amount",
            "100"
        ])),
        0
    );
    assert!(stdout(&run(&[
        "hold", "release", "h1", "--amount", "40", "--id", "r1"
    ]))
    .contains("remaining  60.00 CNY"));
    assert_eq!(
        code(&run(&[
            "hold", "capture", "h1", "--to", "bob", "--id", "c1"
        ])),
        0
    );
    assert!(stdout(&run(&["hold", "show", "h1"])).contains("captured"));
    assert_eq!(
        code(&run(&[
            "withdraw",
            "--id",
            "w1",
            "--account",
            "bob",
            "--amount",
            "1"
        ])),
        0
    );

    let created = stdout(&run(&[
        "keys", "create", "--name", "ops", "--role", "operator",
    ]));
    let secret = created
        .lines()
        .find_map(|l| l.strip_prefix("secret     "))
        .unwrap()
        .to_owned();
    assert_eq!(
        code(&paycore(&server.url, &secret, &["account", "open", "eve"])),
        7,
        "operators may not open accounts"
    );
    assert_eq!(
        code(&paycore(
            &server.url,
            &secret,
            &["transfer", "--id", "o1", "--from", "alice", "--to", "bob", "--amount", "1"]
        )),
        0
    );
    assert!(stdout(&run(&["keys", "list"])).contains("ops"));

    // The query store: statement, CSV export, transfer search, day-end and its report, verify.
    projected(&server.url);
    let statement = stdout(&run(&["entries", "alice"]));
    assert!(
        statement.contains("d1") && statement.contains("credit"),
        "{statement}"
    );
    let csv = stdout(&run(&["entries", "alice", "--csv"]));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("seq,accounting_date,timestamp,transfer_id,kind,amount,balance_before,balance_after,frozen_after"));
    assert!(lines.count() >= 5, "{csv}");
    assert!(stdout(&run(&["transfer", "list", "--account", "bob"])).contains("t1"));
    let cut = run(&["day-end"]);
    assert_eq!(code(&cut), 0, "{}", String::from_utf8_lossy(&cut.stderr));
    projected(&server.url);
    let report = stdout(&run(&["report", "day-end"]));
    assert!(
        report.contains("balanced") && report.contains("closed"),
        "{report}"
    );
    let verified = run(&["verify"]);
    assert_eq!(code(&verified), 0, "{}", stdout(&verified));
    assert!(stdout(&verified).contains("reproduces every balance"));

    // Accounting: the day's vouchers, a balanced trial balance, the GL check, reserve funds,
    // then the closed day is closed in accounting too.
    let closed_day = report
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.len() == 10 && w.starts_with("20"))
        })
        .expect("the report names the closed day")
        .to_owned();
    let trial = run(&["accounting", "trial-balance", "--date", &closed_day]);
    assert_eq!(code(&trial), 0);
    assert!(
        stdout(&trial).contains("balanced") && stdout(&trial).contains("1002"),
        "{}",
        stdout(&trial)
    );
    let trial_csv = stdout(&run(&[
        "accounting",
        "trial-balance",
        "--date",
        &closed_day,
        "--csv",
    ]));
    assert!(
        trial_csv.starts_with("code,name,level,side,opening,debit,credit,closing\n"),
        "{trial_csv}"
    );
    let gl = run(&["accounting", "gl-check", "--date", &closed_day]);
    assert_eq!(code(&gl), 0, "{}", stdout(&gl));
    let vouchers = stdout(&run(&[
        "accounting",
        "vouchers",
        "--date",
        &closed_day,
        "--csv",
    ]));
    assert!(vouchers.lines().count() > 10, "{vouchers}");
    assert!(stdout(&run(&["accounting", "chart"])).contains("应付客户备付金"));
    assert!(stdout(&run(&[
        "accounting",
        "reserve-report",
        "--date",
        &closed_day
    ]))
    .contains("10020101"));
    let close = run(&["accounting", "close", &closed_day]);
    assert_eq!(
        code(&close),
        0,
        "{}",
        String::from_utf8_lossy(&close.stderr)
    );
    assert_eq!(
        code(&run(&["accounting", "close", &closed_day])),
        6,
        "closing twice conflicts"
    );
    // The chart and the rules are editable from the CLI too.
    let add = [
        "accounting",
        "account",
        "add",
        "10020103",
        "备付金存款-第三银行",
    ];
    assert_eq!(code(&run(&add)), 0);
    assert_eq!(code(&run(&add)), 6, "the code exists");
    assert_eq!(
        code(&run(&["accounting", "account", "disable", "10020103"])),
        0
    );
    let rules = stdout(&run(&["accounting", "rules"]));
    assert!(rules.starts_with("# paycore posting rules"), "{rules}");
    let edited = dir.path().join("rules-edited.toml");
    std::fs::write(&edited, &rules).unwrap();
    let set = run(&["accounting", "rules", "--set", edited.to_str().unwrap()]);
    assert_eq!(code(&set), 0, "{}", String::from_utf8_lossy(&set.stderr));
    assert!(stdout(&set).contains("\"version\": 2"), "{}", stdout(&set));

    // SIGTERM: finish in-flight work, fsync, exit 0.
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(server.child.id() as i32, libc::SIGTERM);
    }
    assert!(server.child.wait().unwrap().success());
    let verified = Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(["verify-log", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&verified), 0);
    assert!(
        stdout(&verified).contains("log intact"),
        "{}",
        stdout(&verified)
    );

    // Restart: balances intact.
    let mut server = serve(dir.path());
    let shown = paycore(&server.url, KEY, &["account", "show", "bob", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(json["balance"], 530 + 6_000 - 100 + 100);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

fn reset_admin(dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(["keys", "reset-admin", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap()
}

/// Locked out: `keys reset-admin` is refused while the server runs, and after SIGTERM prints a
/// new admin key that works once the server is back; the other keys stay.
#[test]
fn keys_reset_admin_recovers_administration_of_a_stopped_server() {
    let not_a_data_dir = tempfile::tempdir().unwrap();
    let refused = reset_admin(not_a_data_dir.path());
    assert_eq!(code(&refused), 1);
    let message = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        message.contains("not a paycore data directory"),
        "{message}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path());
    let keys_before = std::fs::read(dir.path().join("keys.json")).unwrap();
    let refused = reset_admin(dir.path());
    assert_eq!(code(&refused), 10, "data directory in use");
    let message = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        message.contains("in use by a running paycore server"),
        "{message}"
    );
    assert!(stdout(&refused).is_empty(), "no key printed");
    assert_eq!(
        std::fs::read(dir.path().join("keys.json")).unwrap(),
        keys_before
    );

    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(server.child.id() as i32, libc::SIGTERM);
    }
    assert!(server.child.wait().unwrap().success());
    let reset = reset_admin(dir.path());
    let audit = String::from_utf8_lossy(&reset.stderr).into_owned();
    assert_eq!(code(&reset), 0, "{audit}");
    assert!(
        audit.contains("audit:") && audit.contains("recovered-admin"),
        "{audit}"
    );
    let key = stdout(&reset).trim().to_owned();
    assert!(key.starts_with("pck_"), "{key}");

    let mut server = serve(dir.path());
    let listed = paycore(&server.url, &key, &["keys", "list", "--json"]);
    assert_eq!(
        code(&listed),
        0,
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<_> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["bootstrap-admin", "recovered-admin"]);
    assert_eq!(code(&paycore(&server.url, KEY, &["keys", "list"])), 0);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

/// kill -9 of the server while it posts heavily: after a restart the query store catches up
/// with no gap and no duplicate, and its journal reproduces every balance.
#[test]
fn the_query_store_survives_kill_9_of_the_server() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3u64 {
        let mut server = serve(dir.path());
        let url = server.url.clone();
        let http = reqwest::blocking::Client::new();
        let post = |path: &str, body: serde_json::Value| {
            http.post(format!("{url}{path}"))
                .bearer_auth(KEY)
                .json(&body)
                .send()
        };
        if round == 0 {
            for n in ["ka", "kb"] {
                post(
                    "/v1/accounts",
                    serde_json::json!({"account_no": n, "type": "customer", "currency": "CNY"}),
                )
                .unwrap();
            }
            post("/v1/deposits", serde_json::json!({"id": "kdep", "account": "ka", "amount": 1_000_000_000, "currency": "CNY"})).unwrap();
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let poster = {
            let (url, stop) = (url.clone(), stop.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                for batch in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let transfers: Vec<_> = (0..200)
                        .map(|i| serde_json::json!({"id": format!("k{round}-{batch}-{i}"), "debit_account": "ka", "credit_account": "kb", "amount": 1, "currency": "CNY"}))
                        .collect();
                    let sent = http
                        .post(format!("{url}/v1/transfers/batch"))
                        .bearer_auth(KEY)
                        .json(&serde_json::json!({"transfers": transfers}))
                        .send();
                    if sent.is_err() {
                        break; // the server is gone
                    }
                }
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300 + 250 * round));
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        poster.join().unwrap();

        let mut server = serve(dir.path());
        projected(&server.url);
        let verified = paycore(&server.url, KEY, &["verify"]);
        assert_eq!(code(&verified), 0, "round {round}: {}", stdout(&verified));
        // The global journal has every sequence number exactly once.
        let mut expected = 1;
        let mut after = 0;
        loop {
            let page: serde_json::Value = reqwest::blocking::Client::new()
                .get(format!("{}/v1/events?after={after}&limit=1000", server.url))
                .bearer_auth(KEY)
                .send()
                .unwrap()
                .json()
                .unwrap();
            let events = page["events"].as_array().unwrap();
            if events.is_empty() {
                break;
            }
            for e in events {
                assert_eq!(
                    e["seq"].as_u64(),
                    Some(expected),
                    "round {round}: gap or duplicate"
                );
                expected += 1;
            }
            after = page["next_after"].as_u64().unwrap();
        }
        assert!(expected > 1_000, "round {round}: only {expected} entries");
        // Accounting posted every transfer exactly once (kb received 1 per transfer) and its
        // GL agrees with the ledger.
        let checked = paycore(&server.url, KEY, &["accounting", "gl-check"]);
        assert_eq!(code(&checked), 0, "round {round}: {}", stdout(&checked));
        let status: serde_json::Value = serde_json::from_slice(
            &paycore(&server.url, KEY, &["accounting", "status", "--json"]).stdout,
        )
        .unwrap();
        let kb: serde_json::Value = serde_json::from_slice(
            &paycore(&server.url, KEY, &["account", "show", "kb", "--json"]).stdout,
        )
        .unwrap();
        assert_eq!(
            status["vouchers"].as_i64(),
            Some(kb["balance"].as_i64().unwrap() + 1),
            "round {round}: {status}"
        );
        server.child.kill().unwrap();
        server.child.wait().unwrap();
    }
}
