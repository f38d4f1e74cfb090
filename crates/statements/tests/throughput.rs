//! Parse speed on a generated statement of a million lines (plus 200,000 for Alipay), read
//! from memory: `cargo test -p paycore-statements --test throughput -- --ignored --nocapture`.

mod common;

use std::io::Cursor;
use std::time::Instant;

use common::{payment, refund};
use paycore_statements::{write_statement, Format, LineKind, StatementLine, StatementReader};

/// A pool of distinct lines the statement cycles through.
fn pool(format: Format) -> Vec<StatementLine> {
    (0..4096u64)
        .map(|i| {
            let order = format!("PC2024030100{i:06}");
            let bank_ref = format!("4200002101202403011{i:09}");
            let mut line = if i % 5 == 4 {
                refund(
                    &order,
                    &bank_ref,
                    &format!("RF2024030100{i:06}"),
                    100 + i,
                    -1,
                )
            } else {
                payment(&order, &bank_ref, 1000 + i * 37, 6 + (i % 7) as i64)
            };
            if format == Format::Alipay {
                line.status = if line.kind == LineKind::Refund {
                    "退款"
                } else {
                    "交易"
                }
                .into();
            }
            line
        })
        .collect()
}

fn measure(format: Format, count: usize) {
    let pool = pool(format);
    let mut bytes = Vec::new();
    write_statement(format, pool.iter().cycle().take(count), &mut bytes).unwrap();
    // The best of three: caches and frequency vary on a shared machine.
    let seconds = (0..3)
        .map(|_| time_reading(format, &bytes, count))
        .fold(f64::MAX, f64::min);
    let mib = bytes.len() as f64 / (1 << 20) as f64;
    println!(
        "{format:>6}: {count} lines, {mib:.0} MiB in {seconds:.2} s on one core: {:.0} lines/s, {:.0} MiB/s",
        count as f64 / seconds,
        mib / seconds
    );
}

/// Seconds this thread has run on a CPU (Linux: /proc/thread-self/schedstat), else `None`.
/// On a shared machine wall time also counts the neighbours' turns.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 / 1e9)
}

/// Seconds (on-CPU where the system tells, else wall) to read every line of `bytes`.
fn time_reading(format: Format, bytes: &[u8], count: usize) -> f64 {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut read = 0usize;
    for line in StatementReader::open(format, Cursor::new(bytes)).unwrap() {
        line.unwrap();
        read += 1;
    }
    assert_eq!(read, count);
    match (cpu, cpu_seconds()) {
        (Some(start), Some(end)) => end - start,
        _ => wall.elapsed().as_secs_f64(),
    }
}

#[test]
#[ignore = "a measurement: run it alone, optimised"]
fn parse_throughput() {
    measure(Format::Csv, 1_000_000);
    measure(Format::Wechat, 1_000_000);
    measure(Format::Alipay, 200_000);
}
