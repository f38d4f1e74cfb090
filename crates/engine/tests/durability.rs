//! The engine's durability contract, with real files: restart keeps everything, torn final
//! records are dropped, corruption anywhere else refuses to start, snapshots fall back, and a
//! failing disk fails only the batches it touched.

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

#[test]
fn a_failing_disk_fails_only_its_batches_and_the_engine_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.segment_bytes = 64 << 10;
    let faults = cfg.faults.clone();
    let engine = Engine::open(cfg.clone()).unwrap();
    setup(&engine, 4, 1_000_000);
    let h = engine.hasher();
    let before = digest(&engine);

    faults.fail_writes.store(1, Ordering::SeqCst);
    let error = engine
        .submit_blocking(vec![transfer(
            &h,
            "w1",
            "C0",
            "C1",
            10,
            TransferKind::Transfer,
        )])
        .unwrap_err();
    assert!(matches!(error, EngineError::Storage(_)), "{error}");
    assert_eq!(error.code(), "storage_error");
    assert_eq!(digest(&engine), before, "nothing applied");

    faults.fail_syncs.store(1, Ordering::SeqCst);
    assert!(engine
        .submit_blocking(vec![transfer(
            &h,
            "w1",
            "C0",
            "C1",
            10,
            TransferKind::Transfer
        )])
        .is_err());
    assert_eq!(digest(&engine), before);

    // Space returns: the same id goes through, exactly once.
    let ok = engine
        .submit_blocking(vec![transfer(
            &h,
            "w1",
            "C0",
            "C1",
            10,
            TransferKind::Transfer,
        )])
        .unwrap();
    assert_eq!((ok[0].result, ok[0].replayed), (Ok(()), false));

    // Segment rollover with a full disk: refused until a segment can be created.
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
    assert!(engine.metrics().failed_batches >= 4);
    let expected = digest(&engine);
    drop(engine);

    let engine = Engine::open(cfg).unwrap();
    assert_eq!(
        digest(&engine),
        expected,
        "the log holds exactly the acknowledged batches"
    );
    assert_eq!(balance(&engine, "C1"), 1_000_010);
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
