//! kill -9 at random moments: a child process posts transfers and prints every acknowledged
//! id; after the kill, recovery must hold every acknowledged command exactly once with the
//! acknowledged result, linked pairs whole or not at all, and balanced books — including the
//! credits customer C0 (a hot account) had buffered but not yet posted.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use paycore_engine::{verify_log, Engine};
use rand::{Rng, SeedableRng};

const ROUNDS: usize = 8;

#[test]
fn every_acknowledged_command_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0xC0FFEE);
    let mut acknowledged: HashMap<String, String> = HashMap::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_paycore-crashtest"))
            .arg(dir.path())
            .arg(round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (started, ready) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = stdout.lines().map_while(Result::ok);
            let first = lines.next();
            let _ = started.send(());
            first.into_iter().chain(lines).collect::<Vec<_>>()
        });
        // Kill at a random moment after recovery finished and posting began.
        ready
            .recv_timeout(Duration::from_secs(120))
            .expect("child starts");
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..700)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        assert_eq!(
            lines.first().map(String::as_str),
            Some("ready"),
            "round {round}: child did not start"
        );
        for line in &lines[1..] {
            let mut parts = line.split(' ');
            if let (Some("ack"), Some(id), Some(result)) =
                (parts.next(), parts.next(), parts.next())
            {
                acknowledged.insert(id.to_owned(), result.to_owned());
            }
        }
        check_recovered(dir.path(), &acknowledged, round);
    }
    assert!(
        acknowledged.len() > 1_000,
        "only {} commands acknowledged",
        acknowledged.len()
    );
}

fn check_recovered(dir: &std::path::Path, acknowledged: &HashMap<String, String>, round: usize) {
    verify_log(dir).unwrap_or_else(|e| panic!("round {round}: {e}"));
    let engine = Engine::open(common::config(dir)).unwrap_or_else(|e| panic!("round {round}: {e}"));
    let hasher = engine.hasher();
    engine.read(|ledger| {
        ledger.check_invariants().unwrap();
        for (id, result) in acknowledged {
            let record = ledger
                .find_record(&hasher.client_id(id).unwrap())
                .and_then(|r| ledger.record(r))
                .unwrap_or_else(|| panic!("round {round}: acknowledged {id} is missing"));
            let recorded = record.result.err().map_or("ok", |e| e.code());
            assert_eq!(recorded, result, "round {round}: {id}");
            if let Some(first) = id.strip_suffix("-b") {
                let a = ledger
                    .find_record(&hasher.client_id(&format!("{first}-a")).unwrap())
                    .and_then(|r| ledger.record(r))
                    .unwrap();
                assert_eq!(
                    a.result.is_ok(),
                    record.result.is_ok(),
                    "round {round}: linked pair {first} split"
                );
            }
        }
        let customers: i64 = (0..10)
            .map(|i| {
                let id = ledger
                    .resolve(&paycore_ledger::AccountNo::new(&format!("C{i}")).unwrap())
                    .unwrap();
                ledger.account(id).unwrap().balance + ledger.pending_credit(id)
            })
            .sum();
        let c0 = ledger
            .resolve(&paycore_ledger::AccountNo::new("C0").unwrap())
            .unwrap();
        assert!(ledger.hot(c0).is_some(), "round {round}: C0 stays hot");
        assert_eq!(
            customers,
            10 * 1_000_000,
            "round {round}: transfers only move money between customers"
        );
    });
}
