//! Throughput of the pure state machine: batches of 8,190 transfers over 100,000 accounts,
//! uniform (random debit and credit) and hot (every transfer credits one account).
//! Commands are built (ids hashed, fingerprints taken) outside the timed region, as the engine
//! does on caller threads; the timed region is `Ledger::apply_batch` alone.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use paycore_ledger::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// As in the `paycore` binary: large blocks on transparent huge pages.
#[global_allocator]
static ALLOC: paycore_hugealloc::HugePageAlloc = paycore_hugealloc::HugePageAlloc;

const ACCOUNTS: u32 = 100_000;
const BATCH: usize = 8_190;

#[derive(Clone, Copy)]
enum Shape {
    Uniform,
    Hot,
}

struct Bench {
    ledger: Ledger,
    out: BatchOutput,
    rng: SmallRng,
    now: u64,
    next_id: u64,
    by_number: bool,
}

impl Bench {
    fn new(by_number: bool) -> Bench {
        let mut ledger = Ledger::new(LedgerConfig {
            hash_key: [7; 16],
            initial_date: Date::from_calendar_date(2026, time::Month::November, 26).unwrap(),
        });
        let mut out = BatchOutput::default();
        let hasher = *ledger.hasher();
        let open = |i: u32, kind| {
            let op = Op::OpenAccount(OpenAccount {
                number: number(i),
                kind,
                currency: Currency::CNY,
                allow_negative: None,
                reference: Reference::NONE,
                opened_by: Operator::SYSTEM,
            });
            Command::new(hasher.client_id(&format!("open-{i}")).unwrap(), op, &hasher)
        };
        let mut now = 1_000_000;
        let settlement = open(ACCOUNTS, AccountType::Settlement);
        let accounts: Vec<Command> = (0..ACCOUNTS)
            .map(|i| open(i, AccountType::Customer))
            .collect();
        for chunk in std::iter::once(&[settlement][..]).chain(accounts.chunks(BATCH)) {
            now += 1_000_000;
            ledger.apply_batch(now, chunk, &mut out);
        }
        let fund: Vec<Command> = (0..ACCOUNTS)
            .map(|i| {
                let op = Op::Transfer(Transfer {
                    debit: AccountKey::Id(AccountId(ACCOUNTS)),
                    credit: AccountKey::Id(AccountId(i)),
                    amount: 1 << 40,
                    currency: Currency::CNY,
                    kind: TransferKind::Deposit,
                    reference: Reference::NONE,
                });
                Command::new(hasher.client_id(&format!("fund-{i}")).unwrap(), op, &hasher)
            })
            .collect();
        for chunk in fund.chunks(BATCH) {
            now += 1_000_000;
            ledger.apply_batch(now, chunk, &mut out);
        }
        Bench {
            ledger,
            out,
            rng: SmallRng::seed_from_u64(42),
            now,
            next_id: 0,
            by_number,
        }
    }

    fn batch(&mut self, shape: Shape) -> Vec<Command> {
        let hasher = *self.ledger.hasher();
        (0..BATCH)
            .map(|_| {
                let debit = self.rng.gen_range(1..ACCOUNTS);
                let credit = match shape {
                    Shape::Hot => 0,
                    Shape::Uniform => (debit + self.rng.gen_range(1..ACCOUNTS)) % ACCOUNTS,
                };
                let key = |i: u32| {
                    if self.by_number {
                        AccountKey::No(number(i))
                    } else {
                        AccountKey::Id(AccountId(i))
                    }
                };
                let op = Op::Transfer(Transfer {
                    debit: key(debit),
                    credit: key(credit),
                    amount: self.rng.gen_range(1..1_000),
                    currency: Currency::CNY,
                    kind: TransferKind::Transfer,
                    reference: Reference::NONE,
                });
                self.next_id += 1;
                let id = hasher
                    .client_id(&format!("transfer-{:016}", self.next_id))
                    .unwrap();
                Command::new(id, op, &hasher)
            })
            .collect()
    }

    fn apply_timed(&mut self, shape: Shape) -> Duration {
        let batch = self.batch(shape);
        self.now += 1_000_000;
        let start = Instant::now();
        self.ledger.apply_batch(self.now, &batch, &mut self.out);
        let elapsed = start.elapsed();
        debug_assert!(self.out.outcomes.iter().all(|o| o.result.is_ok()));
        elapsed
    }
}

fn number(i: u32) -> AccountNo {
    AccountNo::new(&format!("ACCT{i:08}")).unwrap()
}

fn state_machine(c: &mut Criterion) {
    eprintln!(
        "size_of::<Command>() = {} bytes",
        std::mem::size_of::<Command>()
    );
    let mut group = c.benchmark_group("apply_batch");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(8));
    for (name, shape, by_number) in [
        ("uniform", Shape::Uniform, false),
        ("hot", Shape::Hot, false),
        ("uniform_by_number", Shape::Uniform, true),
    ] {
        let mut bench = Bench::new(by_number);
        group.bench_function(BenchmarkId::new(name, "8190x100k"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| bench.apply_timed(shape)).sum());
        });
        let report = bench.ledger.memory_report();
        eprintln!(
            "{name}: {} records, {:.0} bytes per stored id (records + index + arenas)",
            report.records,
            report.bytes_per_record()
        );
    }
    group.finish();
}

criterion_group!(benches, state_machine);
criterion_main!(benches);
