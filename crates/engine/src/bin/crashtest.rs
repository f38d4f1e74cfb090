//! Crash-test workload for the engine's kill -9 tests: posts transfers (some as linked pairs)
//! from several threads forever and prints `ack <id> <result>` for every acknowledged command,
//! flushing each line before anything else is done with it. The test kills this process at a
//! random moment and checks the recovered ledger against what was acknowledged. Customer C0
//! is a hot account with buffered posting, so crashes also land between a buffered credit and
//! its flush.
//!
//! Usage: paycore-crashtest DATA_DIR RUN_NUMBER

use std::io::Write;
use std::sync::Mutex;

use paycore_engine::{Engine, EngineConfig};
use paycore_ledger::*;

const CUSTOMERS: usize = 10;
const FUNDS: u64 = 1_000_000;
const THREADS: usize = 4;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("DATA_DIR");
    let run: u64 = args.next().expect("RUN_NUMBER").parse().expect("a number");
    let mut config = EngineConfig::new(&dir);
    config.segment_bytes = 1 << 20;
    config.snapshot_every_commands = 3_000;
    let engine = Engine::open(config).expect("engine opens");
    setup(&engine);
    println!("ready");
    let stdout = Mutex::new(std::io::stdout());
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (engine, stdout) = (&engine, &stdout);
            s.spawn(move || post_forever(engine, stdout, run, thread));
        }
    });
}

fn setup(engine: &Engine) {
    let h = engine.hasher();
    let open = |number: &str, kind| {
        let op = Op::OpenAccount(OpenAccount {
            number: AccountNo::new(number).unwrap(),
            kind,
            currency: Currency::CNY,
            allow_negative: None,
            reference: Reference::NONE,
            opened_by: Operator::SYSTEM,
        });
        Command::new(h.client_id(&format!("open-{number}")).unwrap(), op, &h)
    };
    let mut commands = vec![open("S", AccountType::Settlement)];
    commands.extend((0..CUSTOMERS).map(|i| open(&format!("C{i}"), AccountType::Customer)));
    commands.extend((0..CUSTOMERS).map(|i| {
        transfer(
            &h,
            &format!("fund-{i}"),
            "S",
            &format!("C{i}"),
            FUNDS,
            TransferKind::Deposit,
        )
    }));
    let hot = Op::SetHot {
        account: AccountKey::No(AccountNo::new("C0").unwrap()),
        options: Some(HotOptions {
            flush_interval_ms: 20,
            max_entries: 50,
            credit_line: 0,
        }),
    };
    commands.push(Command::new(h.client_id("hot-C0").unwrap(), hot, &h));
    engine.submit_blocking(commands).expect("setup is accepted");
}

fn transfer(
    h: &IdHasher,
    id: &str,
    debit: &str,
    credit: &str,
    amount: u64,
    kind: TransferKind,
) -> Command {
    let op = Op::Transfer(Transfer {
        debit: AccountKey::No(AccountNo::new(debit).unwrap()),
        credit: AccountKey::No(AccountNo::new(credit).unwrap()),
        amount,
        currency: Currency::CNY,
        kind,
        reference: Reference::NONE,
    });
    Command::new(h.client_id(id).unwrap(), op, h)
}

fn post_forever(engine: &Engine, stdout: &Mutex<std::io::Stdout>, run: u64, thread: usize) {
    let h = engine.hasher();
    let mut state = (run * 1_000 + thread as u64) * 0x9E37_79B9 + 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for n in 0u64.. {
        let size = 1 + next() % 40;
        let mut commands = Vec::new();
        for i in 0..size {
            let debit = next() as usize % CUSTOMERS;
            let credit = (debit + 1 + next() as usize % (CUSTOMERS - 1)) % CUSTOMERS;
            let amount = 1 + next() % 5_000;
            let id = format!("r{run}-t{thread}-{n}-{i}");
            let (d, c) = (format!("C{debit}"), format!("C{credit}"));
            if next() % 4 == 0 {
                // A linked pair: both legs or neither.
                commands.push(
                    transfer(
                        &h,
                        &format!("{id}-a"),
                        &d,
                        &c,
                        amount,
                        TransferKind::Transfer,
                    )
                    .linked(true),
                );
                commands.push(transfer(
                    &h,
                    &format!("{id}-b"),
                    &c,
                    &d,
                    amount / 2 + 1,
                    TransferKind::Transfer,
                ));
            } else {
                commands.push(transfer(&h, &id, &d, &c, amount, TransferKind::Transfer));
            }
        }
        let Ok(outcomes) = engine.submit_blocking(commands.clone()) else {
            return;
        };
        let mut out = stdout.lock().unwrap();
        for (command, outcome) in commands.iter().zip(outcomes) {
            let result = outcome.result.err().map_or("ok", |e| e.code());
            writeln!(out, "ack {} {result}", command.id.as_str()).unwrap();
        }
        out.flush().unwrap();
    }
}
