//! The brief's deadlock case — A→B, B→C and C→A posted at the same time by different
//! clients — at the state-machine level: client threads hand commands to one writer thread,
//! which drains whatever is waiting into a batch. One writer means no locks, so no deadlock.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::Harness;
use paycore_ledger::*;

type Request = (Command, mpsc::Sender<Outcome>);

const TRANSFERS_PER_CLIENT: usize = 3_000;

#[test]
fn a_to_b_b_to_c_c_to_a_from_concurrent_clients_completes_and_balances() {
    let mut h = Harness::with_customers();
    for account in ["A", "B", "C"] {
        let deposit = h.deposit(&format!("seed-{account}"), account, 100);
        h.one(deposit).unwrap();
    }
    let hasher = *h.ledger.hasher();
    let (requests, inbox) = mpsc::sync_channel::<Request>(1024);

    let clients: Vec<_> = [("A", "B"), ("B", "C"), ("C", "A")]
        .into_iter()
        .flat_map(|pair| [pair, pair])
        .enumerate()
        .map(|(client, (debit, credit))| {
            let requests = requests.clone();
            thread::spawn(move || {
                let (reply, answers) = mpsc::channel();
                let mut accepted = 0;
                for i in 0..TRANSFERS_PER_CLIENT {
                    let id = hasher.client_id(&format!("c{client}-{i}")).unwrap();
                    let op = Harness::transfer_op(debit, credit, 1, TransferKind::Transfer);
                    requests
                        .send((Command::new(id, op, &hasher), reply.clone()))
                        .unwrap();
                    let outcome = answers
                        .recv_timeout(Duration::from_secs(30))
                        .expect("writer answers");
                    accepted += usize::from(outcome.result.is_ok());
                }
                accepted
            })
        })
        .collect();
    drop(requests);

    let writer = thread::spawn(move || {
        let mut batches = 0;
        while let Ok(first) = inbox.recv() {
            let mut waiting = vec![first];
            waiting.extend(inbox.try_iter().take(BATCH_COMMANDS_MAX - 1));
            let commands: Vec<Command> = waiting.iter().map(|(c, _)| *c).collect();
            let outcomes = h.apply(&commands);
            for ((_, reply), outcome) in waiting.iter().zip(outcomes) {
                reply.send(outcome).unwrap();
            }
            batches += 1;
        }
        (h, batches)
    });

    let accepted: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    let (h, batches) = writer.join().unwrap();
    assert!(batches > 1);
    h.ledger.check_invariants().unwrap();
    let total = h.balance("A") + h.balance("B") + h.balance("C");
    assert_eq!(total, 300, "money only moved around the cycle");
    assert!(h.balance("A") >= 0 && h.balance("B") >= 0 && h.balance("C") >= 0);
    assert_eq!(
        h.ledger.record_count() as usize,
        4 + 3 + 6 * TRANSFERS_PER_CLIENT
    );
    assert!(accepted > 0);
}
