//! The replication stage with a replicator that is slow and, when told, fails: several
//! batches ship in one call, in order and without gaps; every acknowledged command is in a
//! shipped batch; after a failure nothing more is acknowledged, the engine says why, and a
//! restart recovers every acknowledged command.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, setup, transfer};
use paycore_engine::{
    Engine, EngineError, ReplicateError, ReplicatedBatch, Replicator, ReplicatorHandle,
};
use paycore_ledger::TransferKind;

/// What the replicator was given, call by call: (first sequence, batches, commands).
type Shipped = Arc<Mutex<Vec<(u64, usize, u32)>>>;

struct Slow {
    shipped: Shipped,
    /// Calls after this many fail.
    fail_after: Option<usize>,
}

impl Replicator for Slow {
    fn replicate(&mut self, batch: &ReplicatedBatch<'_>) -> Result<(), ReplicateError> {
        self.replicate_many(std::slice::from_ref(batch))
    }

    fn replicate_many(&mut self, batches: &[ReplicatedBatch<'_>]) -> Result<(), ReplicateError> {
        std::thread::sleep(Duration::from_millis(15));
        let mut shipped = self.shipped.lock().unwrap();
        if self.fail_after.is_some_and(|n| shipped.len() >= n) {
            return Err(ReplicateError::Failed("the replica is gone".into()));
        }
        let commands = batches.iter().map(|b| b.count).sum();
        shipped.push((batches[0].sequence, batches.len(), commands));
        Ok(())
    }
}

fn engine(dir: &std::path::Path, shipped: &Shipped, fail_after: Option<usize>) -> Engine {
    let mut config = config(dir);
    let replicator = Slow {
        shipped: shipped.clone(),
        fail_after,
    };
    config.replicator = Some(ReplicatorHandle::new(replicator));
    Engine::open(config).unwrap()
}

/// Four threads posting one transfer per request: (id, acknowledged) for each.
fn post_from_threads(engine: &Engine, per_thread: usize) -> Vec<(String, bool)> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                scope.spawn(move || {
                    let h = engine.hasher();
                    (0..per_thread)
                        .map(|i| {
                            let id = format!("t{t}-{i}");
                            let command = transfer(&h, &id, "C0", "C1", 1, TransferKind::Transfer);
                            let acked = matches!(engine.submit_blocking(vec![command]), Ok(o) if o[0].result.is_ok());
                            (id, acked)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    })
}

#[test]
fn several_batches_ship_in_one_call_in_order_and_every_acknowledged_one_was_shipped() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Shipped::default();
    let engine = engine(dir.path(), &shipped, None);
    setup(&engine, 2, 1_000_000);
    let posted = post_from_threads(&engine, 100);
    assert!(posted.iter().all(|(_, acked)| *acked));
    let calls = shipped.lock().unwrap().clone();
    let mut next = 1;
    for (first, batches, _) in &calls {
        assert_eq!(*first, next, "shipped in order, no gap: {calls:?}");
        next += *batches as u64;
    }
    assert_eq!(
        engine.metrics().durable_sequence,
        next - 1,
        "durable = shipped"
    );
    assert!(
        calls.iter().any(|(_, batches, _)| *batches > 1),
        "while one call is slow the writer goes on, and the next call takes several: {calls:?}"
    );
}

#[test]
fn after_a_failed_shipment_nothing_more_is_acknowledged_and_a_restart_keeps_every_acknowledged_command(
) {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Shipped::default();
    let acknowledged = {
        let engine = engine(dir.path(), &shipped, Some(6));
        setup(&engine, 2, 1_000_000);
        let posted = post_from_threads(&engine, 150);
        let acked: Vec<String> = posted
            .into_iter()
            .filter(|(_, a)| *a)
            .map(|(id, _)| id)
            .collect();
        assert!(
            matches!(engine.health(), Err(EngineError::Stopped { reason }) if reason.contains("the replica is gone"))
        );
        let shipped_commands: u32 = shipped.lock().unwrap().iter().map(|(_, _, c)| c).sum();
        // The set-up's two batches (3 opens, 2 deposits) were shipped before the posts.
        assert!(
            acked.len() as u32 <= shipped_commands - 5,
            "{} acked, {shipped_commands} shipped",
            acked.len()
        );
        assert!(acked.len() < 600, "the failure stopped the posts");
        engine.shutdown();
        acked
    };
    let engine = Engine::open(config(dir.path())).unwrap();
    let h = engine.hasher();
    for id in &acknowledged {
        let retry = transfer(&h, id, "C0", "C1", 1, TransferKind::Transfer);
        let outcome = engine.submit_blocking(vec![retry]).unwrap();
        assert!(
            outcome[0].replayed,
            "{id} was acknowledged, so it is in the log"
        );
    }
}
