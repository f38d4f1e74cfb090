//! The engine's durability contract, with real files: restart keeps everything, torn final
//! records are dropped, corruption anywhere else refuses to start, snapshots fall back, a
//! failed log write or fsync stops the engine with every acknowledged batch recoverable, and a
//! full disk at segment rollover refuses only the batches that needed the new segment.

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;

use common::*;
use paycore_engine::log::reader::{scan, Start};
use paycore_engine::{verify_log, Engine, EngineError, Retention};
use paycore_ledger::*;

#[test]
fn everything_acknowledged_survives_a_restart_and_retries_stay_retries() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let engine = Engine::open(config(dir.path())).unwrap();
        setup(&engine, 3, 1_000);
        let h = engine.hasher();
        let outcome = engine
            .submit_blocking(vec![transfer(
                &h,
                "t1",
                "C0",
                "C1",
                250,
                TransferKind::Transfer,
            )])
            .unwrap();
        assert_eq!(outcome[0].result, Ok(()));
        digest(&engine)
    };
    let engine = Engine::open(config(dir.path())).unwrap();
    assert_eq!(digest(&engine), before);
    assert_eq!(
        (balance(&engine, "C0"), balance(&engine, "C1")),
        (750, 1_250)
    );
    assert_eq!(engine.recovery_report().replayed_batches, 3);
    let h = engine.hasher();
    let retry = engine
        .submit_blocking(vec![transfer(
            &h,
            "t1",
            "C0",
            "C1",
            250,
            TransferKind::Transfer,
        )])
        .unwrap();
    assert!(retry[0].replayed);
    assert_eq!(balance(&engine, "C1"), 1_250);
    engine.read(|l| l.check_invariants()).unwrap();
}

#[test]
fn concurrent_callers_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(config(dir.path())).unwrap();
    setup(&engine, 8, 1_000_000);
    let before = engine.metrics();
    std::thread::scope(|s| {
        for t in 0..8 {
            let engine = &engine;
            s.spawn(move || {
                let h = engine.hasher();
                for i in 0..300 {
                    let command = transfer(
                        &h,
                        &format!("c{t}-{i}"),
                        &format!("C{t}"),
                        &format!("C{}", (t + 1) % 8),
                        1,
                        TransferKind::Transfer,
                    );
                    assert_eq!(
                        engine.submit_blocking(vec![command]).unwrap()[0].result,
                        Ok(())
                    );
                }
            });
        }
    });
    let after = engine.metrics();
    assert_eq!(after.commands - before.commands, 2_400);
    assert!(
        after.fsyncs - before.fsyncs < 2_400,
        "{} fsyncs",
        after.fsyncs - before.fsyncs
    );
    assert_eq!(after.fsyncs, after.batches);
    engine.read(|l| l.check_invariants()).unwrap();
}

/// Writes a few batches and returns (digest before the last batch, last segment path, start
/// and end offset of the last record's header and body).
fn log_with_small_final_record(dir: &std::path::Path) -> (u128, std::path::PathBuf, u64, u64) {
    let engine = Engine::open(config(dir)).unwrap();
    setup(&engine, 3, 1_000);
    let before_last = digest(&engine);
    let h = engine.hasher();
    engine
        .submit_blocking(vec![transfer(
            &h,
            "last",
            "C0",
            "C2",
            7,
            TransferKind::Transfer,
        )])
        .unwrap();
    drop(engine);
    let mut last = None;
    let start = Start::At {
        sequence: 1,
        prev_checksum: 0,
    };
    scan(
        &dir.join("log"),
        start,
        1 << 24,
        |header, _, path, offset| {
            // Padding after the body is outside the record's content: cut within the content.
            last = Some((
                path.to_owned(),
                offset,
                offset + 64 + u64::from(header.body_len),
            ));
            Ok(())
        },
    )
    .unwrap();
    let (segment, start, end) = last.unwrap();
    (before_last, segment, start, end)
}

#[test]
fn a_torn_final_record_is_dropped_at_every_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (before_last, segment, start, end) = log_with_small_final_record(dir.path());
    let original = fs::read(&segment).unwrap();
    for cut in start..end {
        for fill in [0u8, 0xA5] {
            let copy = tempfile::tempdir().unwrap();
            copy_dir(dir.path(), copy.path());
            let mut bytes = original.clone();
            bytes[cut as usize..end as usize].fill(fill);
            if bytes == original {
                continue; // the "torn" bytes equal the written ones: the record is complete
            }
            fs::write(
                copy.path().join("log").join(segment.file_name().unwrap()),
                &bytes,
            )
            .unwrap();
            let engine = Engine::open(config(copy.path()))
                .unwrap_or_else(|e| panic!("cut {cut} fill {fill}: {e}"));
            assert_eq!(digest(&engine), before_last, "cut at {cut}, fill {fill:#x}");
            assert_eq!(engine.recovery_report().replayed_batches, 2);
            // The engine continues writing where the torn record was.
            let h = engine.hasher();
            let again = engine
                .submit_blocking(vec![transfer(
                    &h,
                    "last",
                    "C0",
                    "C2",
                    7,
                    TransferKind::Transfer,
                )])
                .unwrap();
            assert_eq!((again[0].result, again[0].replayed), (Ok(()), false));
            drop(engine);
            assert_eq!(verify_log(copy.path()).unwrap().last_sequence, Some(3));
        }
    }
}

#[test]
fn a_flipped_byte_in_an_earlier_record_refuses_to_start_and_names_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let (_, segment, start, _) = log_with_small_final_record(dir.path());
    for at in [0u64, 20, 70, start - 9] {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), copy.path());
        let path = copy.path().join("log").join(segment.file_name().unwrap());
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, at).unwrap();
        file.write_all_at(&[byte[0] ^ 0x10], at).unwrap();
        let error = Engine::open(config(copy.path()))
            .err()
            .expect("must refuse");
        let message = error.to_string();
        assert!(matches!(error, EngineError::Log(_)), "{message}");
        assert!(
            message.contains("00000000000000000001.seg") && message.contains("offset"),
            "{message}"
        );
        let verify = verify_log(copy.path()).unwrap_err().to_string();
        assert!(verify.contains("corrupt"), "{verify}");
    }
}

#[test]
fn a_damaged_snapshot_falls_back_to_an_older_one_or_the_full_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.snapshot_on_shutdown = true;
    let expected = {
        let engine = Engine::open(cfg.clone()).unwrap();
        setup(&engine, 4, 500);
        digest(&engine)
    };
    let snapshots: Vec<_> = fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(snapshots.len(), 1);
    let engine = Engine::open(cfg.clone()).unwrap();
    assert_eq!(
        engine.recovery_report().replayed_batches,
        0,
        "loaded from the snapshot"
    );
    assert_eq!(digest(&engine), expected);
    drop(engine);

    // Flip a byte in the middle of the snapshot: the full log (kept) takes over.
    let bytes = fs::read(&snapshots[0]).unwrap();
    let mut damaged = bytes.clone();
    damaged[bytes.len() / 2] ^= 0x01;
    fs::write(&snapshots[0], &damaged).unwrap();
    let engine = Engine::open(cfg.clone()).unwrap();
    let report = engine.recovery_report().clone();
    assert_eq!(report.unusable_snapshots.len(), 1, "{report:?}");
    assert!(
        report.unusable_snapshots[0].contains("checksum"),
        "{report:?}"
    );
    assert_eq!(report.replayed_batches, 2);
    assert_eq!(digest(&engine), expected);
    drop(engine);

    // Without the log it covered, a damaged snapshot means refusing to start.
    fs::write(&snapshots[0], &damaged).unwrap();
    let log = dir.path().join("log");
    for entry in fs::read_dir(&log).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let error = Engine::open(cfg).err().expect("must refuse");
    assert!(
        error.to_string().contains("unusable") || error.to_string().contains("snapshot"),
        "{error}"
    );
}

/// What each posting thread saw while a storage fault hit the engine.
#[derive(Default)]
struct Seen {
    /// Ids whose batch was acknowledged (durable and applied).
    acknowledged: Vec<String>,
    /// Ids of the batch whose write or fsync failed: answered `storage_error`.
    failed: Vec<String>,
    /// Ids refused because the engine had stopped: answered `engine_unavailable`.
    refused: Vec<String>,
}

/// Requests each thread sends after its first error, to show they are all refused.
const SUBMITS_AFTER_AN_ERROR: usize = 5;

/// Transfer `p{thread}-{i}`: 1 from C{thread} to the next customer.
fn posted(h: &IdHasher, id: &str) -> Command {
    let thread: usize = id[1..id.find('-').unwrap()].parse().unwrap();
    let (debit, credit) = (format!("C{thread}"), format!("C{}", (thread + 1) % 4));
    transfer(h, id, &debit, &credit, 1, TransferKind::Transfer)
}

/// Posts transfers of 1 from C{thread} to the next customer until an error comes back, then a
/// few more, which must all be refused.
fn post_until_refused(engine: &Engine, thread: usize) -> Seen {
    let h = engine.hasher();
    let mut seen = Seen::default();
    let mut after_error = 0;
    for i in 0..1_000_000 {
        let id = format!("p{thread}-{i}");
        match engine.submit_blocking(vec![posted(&h, &id)]) {
            Ok(outcomes) => {
                assert_eq!(after_error, 0, "{id} acknowledged after an error");
                assert_eq!(outcomes[0].result, Ok(()));
                seen.acknowledged.push(id);
            }
            Err(error) => {
                match (&error, after_error) {
                    (EngineError::Storage(_), 0) => seen.failed.push(id),
                    (EngineError::Stopped { .. }, _) => seen.refused.push(id),
                    _ => panic!("{id}: unexpected {error}"),
                }
                after_error += 1;
                if after_error > SUBMITS_AFTER_AN_ERROR {
                    return seen;
                }
            }
        }
    }
    panic!("thread {thread} never saw the injected fault")
}

/// Four threads post while `arm` injects a fault into the log once posting is under way.
/// Returns what they saw, merged, and the state the stopped engine had applied.
fn post_through_a_fault(engine: &Engine, arm: impl FnOnce()) -> (Seen, u128) {
    let seen = std::thread::scope(|s| {
        let threads: Vec<_> = (0..4)
            .map(|t| s.spawn(move || post_until_refused(engine, t)))
            .collect();
        while engine.metrics().batches < 20 {
            std::thread::yield_now();
        }
        arm();
        let mut all = Seen::default();
        for thread in threads {
            let seen = thread.join().unwrap();
            all.acknowledged.extend(seen.acknowledged);
            all.failed.extend(seen.failed);
            all.refused.extend(seen.refused);
        }
        all
    });
    assert!(!seen.failed.is_empty(), "some caller saw the failing batch");
    assert!(seen.refused.len() >= 4 * SUBMITS_AFTER_AN_ERROR);
    let error = engine.health().unwrap_err();
    assert!(matches!(error, EngineError::Stopped { .. }), "{error}");
    assert_eq!(error.code(), "engine_unavailable");
    let stopped = engine.metrics();
    assert_eq!(stopped.applied_sequence, stopped.durable_sequence);
    assert!(stopped.failed_batches >= 1);
    (seen, digest(engine))
}

/// The engine after a restart: every acknowledged command is there; no refused command is;
/// a failed one is there exactly if `failed_batch_kept`. Then it posts again.
fn check_recovered(engine: &Engine, seen: &Seen, failed_batch_kept: bool) {
    let h = engine.hasher();
    let present = |id: &String| engine.read(|l| l.find_record(&h.client_id(id).unwrap()).is_some());
    assert!(
        seen.acknowledged.iter().all(present),
        "an acknowledged command was lost"
    );
    assert!(
        !seen.refused.iter().any(present),
        "a refused command was written"
    );
    assert!(seen
        .failed
        .iter()
        .all(|id| present(id) == failed_batch_kept));
    engine.read(|l| l.check_invariants()).unwrap();
    engine.health().unwrap();
    let again = engine
        .submit_blocking(vec![transfer(
            &h,
            "after",
            "C0",
            "C1",
            1,
            TransferKind::Transfer,
        )])
        .unwrap();
    assert_eq!((again[0].result, again[0].replayed), (Ok(()), false));
    let retried = engine
        .submit_blocking(vec![posted(&h, &seen.failed[0])])
        .unwrap();
    assert_eq!(
        (retried[0].result, retried[0].replayed),
        (Ok(()), failed_batch_kept),
        "a retry of the failed batch"
    );
}

#[test]
fn a_failed_fsync_stops_the_engine_and_a_restart_recovers_every_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let faults = cfg.faults.clone();
    let engine = Engine::open(cfg.clone()).unwrap();
    setup(&engine, 4, 1_000_000);
    let (seen, _) = post_through_a_fault(&engine, || faults.fail_syncs.store(1, Ordering::SeqCst));
    drop(engine);

    let engine = Engine::open(cfg).unwrap();
    // The injected fault fails the fsync after a complete write, and nothing drops the page
    // cache here: the failed batch is in the log, as a real failure may or may not leave it.
    check_recovered(&engine, &seen, true);
    drop(engine);
    assert!(verify_log(dir.path()).unwrap().torn_tail.is_none());
}

#[test]
fn a_failed_write_stops_the_engine_and_a_restart_recovers_every_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let faults = cfg.faults.clone();
    let engine = Engine::open(cfg.clone()).unwrap();
    setup(&engine, 4, 1_000_000);
    let (seen, stopped_state) =
        post_through_a_fault(&engine, || faults.fail_writes.store(1, Ordering::SeqCst));
    drop(engine);

    let engine = Engine::open(cfg).unwrap();
    // The injected write is torn half-way: recovery drops it, and the state is exactly what
    // the stopped engine had acknowledged.
    assert!(engine.recovery_report().torn_tail.is_some());
    assert_eq!(digest(&engine), stopped_state);
    check_recovered(&engine, &seen, false);
}

/// 800 transfers of 1 from C2 to C3: a record of 32–64 KiB, so two do not fit in one
/// 64 KiB segment.
fn large_batch(h: &IdHasher, name: &str) -> Vec<Command> {
    (0..800)
        .map(|j| {
            transfer(
                h,
                &format!("{name}-{j}"),
                "C2",
                "C3",
                1,
                TransferKind::Transfer,
            )
        })
        .collect()
}

#[test]
fn a_failed_write_into_a_new_segment_recovers_and_the_log_continues_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.segment_bytes = 64 << 10;
    let faults = cfg.faults.clone();
    let segments = || fs::read_dir(dir.path().join("log")).unwrap().count();
    let engine = Engine::open(cfg.clone()).unwrap();
    setup(&engine, 4, 1_000_000);
    let h = engine.hasher();
    engine.submit_blocking(large_batch(&h, "first")).unwrap();
    assert_eq!(segments(), 1);
    faults.fail_writes.store(1, Ordering::SeqCst);
    let error = engine
        .submit_blocking(large_batch(&h, "second"))
        .unwrap_err();
    assert!(matches!(error, EngineError::Storage(_)), "{error}");
    assert_eq!(
        segments(),
        2,
        "the failed write was the first into a new segment"
    );
    let stopped_state = digest(&engine);
    drop(engine);

    let engine = Engine::open(cfg.clone()).unwrap();
    let (torn, _) = engine.recovery_report().torn_tail.clone().unwrap();
    assert!(
        torn.ends_with("00000000000000000002.seg"),
        "{}",
        torn.display()
    );
    assert_eq!(digest(&engine), stopped_state);
    // The retry rolls over into the same segment again and overwrites the torn write.
    let h = engine.hasher();
    let retried = engine.submit_blocking(large_batch(&h, "second")).unwrap();
    assert!(retried.iter().all(|o| o.result.is_ok() && !o.replayed));
    drop(engine);
    let report = verify_log(dir.path()).unwrap();
    assert_eq!((report.records, report.torn_tail), (4, None));
    let engine = Engine::open(cfg).unwrap();
    assert_eq!(balance(&engine, "C3"), 1_000_000 + 1_600);
}

#[test]
fn a_full_disk_at_segment_rollover_refuses_only_its_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.segment_bytes = 64 << 10;
    let faults = cfg.faults.clone();
    let engine = Engine::open(cfg.clone()).unwrap();
    setup(&engine, 4, 1_000_000);
    let h = engine.hasher();

    // No new segment can be created: the batches that needed one are refused (nothing was
    // written, so the engine goes on), then space returns.
    faults.fail_creates.store(2, Ordering::SeqCst);
    let mut refused = 0;
    for i in 0..200 {
        let batch = (0..20)
            .map(|j| {
                transfer(
                    &h,
                    &format!("r{i}-{j}"),
                    "C2",
                    "C3",
                    1,
                    TransferKind::Transfer,
                )
            })
            .collect();
        match engine.submit_blocking(batch) {
            Ok(outcomes) => assert!(outcomes.iter().all(|o| o.result.is_ok())),
            Err(EngineError::Storage(_)) => refused += 1,
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(refused, 2);
    assert_eq!(engine.metrics().failed_batches, 2);
    engine.health().unwrap();
    let expected = digest(&engine);
    drop(engine);

    let engine = Engine::open(cfg).unwrap();
    assert_eq!(
        digest(&engine),
        expected,
        "the log holds exactly the acknowledged batches"
    );
    assert_eq!(balance(&engine, "C3"), 1_000_000 + 198 * 20);
    assert!(verify_log(dir.path()).unwrap().records > 10);
}

#[test]
fn snapshots_and_retention_keep_recovery_short_and_correct() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.segment_bytes = 64 << 10;
    cfg.snapshot_every_commands = 500;
    cfg.retention = Retention::Archive;
    let engine = Engine::open(cfg.clone()).unwrap();
    setup(&engine, 10, 1_000_000);
    let h = engine.hasher();
    for i in 0..60 {
        let batch = (0..100)
            .map(|j| {
                transfer(
                    &h,
                    &format!("b{i}-{j}"),
                    &format!("C{}", j % 10),
                    &format!("C{}", (j + 3) % 10),
                    1,
                    TransferKind::Transfer,
                )
            })
            .collect();
        engine.submit_blocking(batch).unwrap();
    }
    let expected = digest(&engine);
    drop(engine);
    let archived = fs::read_dir(dir.path().join("archive"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(archived > 0, "covered segments were archived");
    let snapshots = fs::read_dir(dir.path().join("snapshots")).unwrap().count();
    assert!(snapshots <= 2);

    let engine = Engine::open(cfg).unwrap();
    assert_eq!(digest(&engine), expected);
    assert!(engine.recovery_report().snapshot.is_some());
    assert!(engine.recovery_report().replayed_batches < 62);
    engine.read(|l| l.check_invariants()).unwrap();
}

#[test]
fn a_second_process_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Engine::open(config(dir.path())).unwrap();
    let error = Engine::open(config(dir.path())).err().expect("locked");
    assert!(matches!(error, EngineError::Locked { .. }), "{error}");
}
