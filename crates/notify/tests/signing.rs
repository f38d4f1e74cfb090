//! Signatures as merchants see them: rotation through the dispatcher (two `v1=` during the
//! grace, one after), and the Python helper of docs/notifications.md run against a request
//! the crate signed (the Rust helper runs as a doctest).

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use paycore_notify::{signature_header, Secret};
use paycore_payment_store::repo::notifications::{secrets, Status};

const SECOND: &str = "whsec_test_secret_two_0123456789";
const THIRD: &str = "whsec_test_secret_three_01234567";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_beside_the_old_one_until_the_grace_ends() {
    for backend in backends() {
        let store = Store::open(backend, "rotation").await;
        let merchant = Merchant::start().await;
        store.secret("m1", SECRET).await;
        let dispatcher = store.dispatcher(config());
        let deliver = |id: &'static str| {
            let n = notification(id, "m1", id, &merchant.url("/ack/x"));
            let store = &store;
            async move {
                store.insert(n).await;
                store.wait_for(id, Status::Delivered).await;
            }
        };

        deliver("before").await;
        assert_signed_by(&merchant.received_for("before")[0], &[SECRET]);

        let rotated = store
            .write(|sql| secrets::rotate(sql, "m1", SECOND, now_ms(), 60_000))
            .await;
        assert_eq!(rotated, 2);
        deliver("during").await;
        assert_signed_by(&merchant.received_for("during")[0], &[SECOND, SECRET]);

        // A short grace this time, and a notification after it ended.
        store
            .write(|sql| secrets::rotate(sql, "m1", THIRD, now_ms(), 1_500))
            .await;
        deliver("grace").await;
        assert_signed_by(&merchant.received_for("grace")[0], &[THIRD, SECOND, SECRET]);
        tokio::time::sleep(Duration::from_millis(1_600)).await;
        deliver("after").await;
        let after = &merchant.received_for("after")[0];
        assert_signed_by(after, &[THIRD]);
        let now_s = now_ms() / 1_000;
        let tolerance = paycore_notify::signature::TOLERANCE_DEFAULT;
        let check = |secret| {
            paycore_notify::verify(
                &after.signature,
                &after.timestamp,
                &after.body,
                secret,
                now_s,
                tolerance,
            )
        };
        assert_eq!(check(THIRD), Ok(()));
        assert_eq!(check(SECRET), Err(paycore_notify::VerifyError::Mismatch));
        dispatcher.stop().await;
    }
}

/// The ```python block of docs/notifications.md.
fn python_helper() -> String {
    let doc = include_str!("../../../docs/notifications.md");
    let start = doc.find("```python\n").expect("a python block") + "```python\n".len();
    let end = start + doc[start..].find("```").expect("the block ends");
    doc[start..end].to_owned()
}

#[test]
fn the_documented_python_helper_verifies_what_paycore_signs() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found: the documented Python helper is not run here");
        return;
    }
    let body = r#"{"event_id":"evt_T9_trade.paid","type":"trade.paid","amount":1}"#;
    let now_s = now_ms() / 1_000;
    let secrets = [Secret::new(SECOND), Secret::new(SECRET)];
    let header = signature_header(&secrets, now_s, body);
    let one = signature_header(&secrets[1..], now_s, body);
    let old = signature_header(&secrets[1..], now_s - 301, body);
    let cases = [
        // (signature, timestamp, body, secret, accepted)
        (header.as_str(), now_s, body, SECRET, true),
        (header.as_str(), now_s, body, SECOND, true),
        (one.as_str(), now_s, body, SECRET, true),
        (one.as_str(), now_s, body, SECOND, false),
        (one.as_str(), now_s, r#"{"amount":2}"#, SECRET, false),
        (one.as_str(), now_s + 1, body, SECRET, false),
        (old.as_str(), now_s - 301, body, SECRET, false),
        ("v1=zz", now_s, body, SECRET, false),
        ("", now_s, body, SECRET, false),
    ];
    let mut script = python_helper();
    script.push_str("\nimport json, sys\nresults = []\n");
    for (signature, timestamp, body, secret, _) in cases {
        let call = format!(
            "results.append(verify_paycore({{'Paycore-Timestamp': {ts}, 'Paycore-Signature': {sig}}}, {body}.encode(), {secret}))\n",
            ts = json(&timestamp.to_string()),
            sig = json(signature),
            body = json(body),
            secret = json(secret),
        );
        script.push_str(&call);
    }
    script.push_str("print(json.dumps(results))\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verify.py");
    std::fs::write(&path, script).unwrap();
    let output = Command::new("python3").arg(&path).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<bool> = serde_json::from_slice(&output.stdout).unwrap();
    let expected: Vec<bool> = cases.iter().map(|c| c.4).collect();
    assert_eq!(results, expected);
}

/// A Python string literal (JSON's string syntax is valid Python).
fn json(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}
