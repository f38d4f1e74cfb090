//! Test harness: a ledger with a clock and terse builders for commands named by strings.
#![allow(dead_code)]

use paycore_ledger::*;

pub const T0: u64 = 1_700_000_000_000_000_000;

pub struct Harness {
    pub ledger: Ledger,
    pub out: BatchOutput,
    pub now: u64,
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

pub fn date(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
}

impl Harness {
    pub fn new() -> Harness {
        Harness {
            ledger: Ledger::new(LedgerConfig {
                hash_key: [42; 16],
                initial_date: date(2026, 11, 26),
            }),
            out: BatchOutput::default(),
            now: T0,
        }
    }

    pub fn id(&self, id: &str) -> ClientId {
        self.ledger.hasher().client_id(id).unwrap()
    }

    pub fn cmd(&self, id: &str, op: Op) -> Command {
        Command::new(self.id(id), op, self.ledger.hasher())
    }

    /// Applies one batch, checks every invariant, returns the outcomes.
    pub fn apply(&mut self, commands: &[Command]) -> Vec<Outcome> {
        self.now += 1_000;
        self.ledger.apply_batch(self.now, commands, &mut self.out);
        self.now += commands.len() as u64;
        self.ledger.check_invariants().unwrap();
        self.out.outcomes.clone()
    }

    pub fn one(&mut self, command: Command) -> Result<(), ErrorCode> {
        self.apply(&[command])[0].result
    }

    pub fn open_op(number: &str, kind: AccountType, currency: Currency) -> Op {
        Op::OpenAccount(OpenAccount {
            number: AccountNo::new(number).unwrap(),
            kind,
            currency,
            allow_negative: None,
            reference: Reference::NONE,
            opened_by: Operator::SYSTEM,
        })
    }

    pub fn open(&mut self, number: &str, kind: AccountType, currency: Currency) {
        let cmd = self.cmd(
            &format!("open-{number}"),
            Self::open_op(number, kind, currency),
        );
        self.one(cmd).unwrap();
    }

    /// Opens customer accounts A, B, C in CNY and a CNY settlement account.
    pub fn with_customers() -> Harness {
        let mut h = Harness::new();
        for number in ["A", "B", "C"] {
            h.open(number, AccountType::Customer, Currency::CNY);
        }
        h.open("SETTLE", AccountType::Settlement, Currency::CNY);
        h
    }

    pub fn key(number: &str) -> AccountKey {
        AccountKey::No(AccountNo::new(number).unwrap())
    }

    pub fn transfer_op(debit: &str, credit: &str, amount: u64, kind: TransferKind) -> Op {
        Op::Transfer(Transfer {
            debit: Self::key(debit),
            credit: Self::key(credit),
            amount,
            currency: Currency::CNY,
            kind,
            reference: Reference::NONE,
        })
    }

    pub fn transfer(&self, id: &str, debit: &str, credit: &str, amount: u64) -> Command {
        self.cmd(
            id,
            Self::transfer_op(debit, credit, amount, TransferKind::Transfer),
        )
    }

    pub fn close(&self, id: &str, number: &str) -> Command {
        self.cmd(
            id,
            Op::CloseAccount {
                account: Self::key(number),
            },
        )
    }

    pub fn deposit(&self, id: &str, account: &str, amount: u64) -> Command {
        self.cmd(
            id,
            Self::transfer_op("SETTLE", account, amount, TransferKind::Deposit),
        )
    }

    pub fn freeze(&self, id: &str, account: &str, amount: u64, expires_at: Option<u64>) -> Command {
        self.cmd(
            id,
            Op::Freeze(Freeze {
                account: Self::key(account),
                amount,
                currency: None,
                expires_at,
                reference: Reference::NONE,
            }),
        )
    }

    pub fn unfreeze(&self, id: &str, hold: &str, amount: Option<u64>) -> Command {
        self.cmd(
            id,
            Op::Unfreeze(Unfreeze {
                hold: self.id(hold),
                amount,
            }),
        )
    }

    pub fn capture(&self, id: &str, hold: &str, credit: &str, amount: Option<u64>) -> Command {
        self.cmd(
            id,
            Op::Capture(Capture {
                hold: self.id(hold),
                credit: Self::key(credit),
                amount,
                kind: TransferKind::Payment,
                reference: Reference::NONE,
            }),
        )
    }

    pub fn account(&self, number: &str) -> Account {
        let id = self
            .ledger
            .resolve(&AccountNo::new(number).unwrap())
            .unwrap();
        *self.ledger.account(id).unwrap()
    }

    pub fn balance(&self, number: &str) -> i64 {
        self.account(number).balance
    }
}
