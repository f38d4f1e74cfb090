//! Property test: long random command sequences applied to the ledger and to a reference
//! model written as plainly as possible (maps of strings, clone-and-commit for chains).
//! After every batch: same outcomes, same balances, ledger invariants hold, and retries
//! change nothing. At the end, replaying the batches into a fresh ledger gives the same digest.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{Harness, T0};
use paycore_ledger::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

const NUMBERS: [&str; 7] = ["A", "B", "C", "S", "U", "D", "T"];
const HOLD_IDS: usize = 24;
const IDS: usize = 600;

// ---------------------------------------------------------------------------------------
// Generated commands: strings only, no ledger types beyond enums.

#[derive(Clone, Debug, PartialEq)]
enum MOp {
    Open {
        no: String,
        kind: AccountType,
        currency: Currency,
        allow_negative: Option<bool>,
    },
    Close {
        no: String,
    },
    SetFrozen {
        no: String,
        frozen: bool,
    },
    Transfer {
        debit: String,
        credit: String,
        amount: u64,
        currency: Currency,
        kind: TransferKind,
    },
    Freeze {
        no: String,
        amount: u64,
        currency: Option<Currency>,
        expires_at: Option<u64>,
    },
    Unfreeze {
        hold: String,
        amount: Option<u64>,
    },
    Capture {
        hold: String,
        credit: String,
        amount: Option<u64>,
    },
    DayEnd {
        date: Date,
    },
}

#[derive(Clone, Debug)]
struct MCmd {
    id: String,
    linked: bool,
    op: MOp,
}

/// Generated before the model's date is known: day-end says how far from the current date.
#[derive(Clone, Debug)]
enum Gen {
    Op(MCmd),
    DayEnd {
        id: String,
        delta: i64,
    },
    /// Repeat the n-th earlier command (mod count) exactly: a client retry.
    Retry(usize),
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(NUMBERS[..4].to_vec()),
        1 => proptest::sample::select(NUMBERS[4..].to_vec()),
    ]
    .prop_map(str::to_owned)
}

fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 0u64..200,
        2 => 0u64..5_000,
        1 => Just(i64::MAX as u64),
        1 => Just(i64::MAX as u64 + 1),
    ]
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![6 => Just(Currency::CNY), 1 => Just(Currency::USD)]
}

fn kind() -> impl Strategy<Value = TransferKind> {
    prop_oneof![
        4 => Just(TransferKind::Transfer),
        3 => Just(TransferKind::Deposit),
        2 => Just(TransferKind::Withdrawal),
        1 => Just(TransferKind::Payment),
    ]
}

fn account_type() -> impl Strategy<Value = AccountType> {
    proptest::sample::select(AccountType::ALL.to_vec())
}

fn hold_id() -> impl Strategy<Value = String> {
    (0..HOLD_IDS).prop_map(|i| format!("h{i}"))
}

fn expiry(horizon: u64) -> impl Strategy<Value = Option<u64>> {
    prop_oneof![2 => Just(None), 1 => (0..horizon).prop_map(move |t| Some(T0 + t))]
}

fn op(horizon: u64) -> impl Strategy<Value = MOp> {
    prop_oneof![
        10 => (number(), number(), amount(), currency(), kind())
            .prop_map(|(debit, credit, amount, currency, kind)| MOp::Transfer { debit, credit, amount, currency, kind }),
        2 => (number(), account_type(), currency(), proptest::option::of(any::<bool>()))
            .prop_map(|(no, kind, currency, allow_negative)| MOp::Open { no, kind, currency, allow_negative }),
        1 => number().prop_map(|no| MOp::Close { no }),
        1 => (number(), any::<bool>()).prop_map(|(no, frozen)| MOp::SetFrozen { no, frozen }),
        4 => (number(), amount(), proptest::option::of(currency()), expiry(horizon))
            .prop_map(|(no, amount, currency, expires_at)| MOp::Freeze { no, amount, currency, expires_at }),
        3 => (hold_id(), proptest::option::of(amount()))
            .prop_map(|(hold, amount)| MOp::Unfreeze { hold, amount }),
        3 => (hold_id(), number(), proptest::option::of(amount()))
            .prop_map(|(hold, credit, amount)| MOp::Capture { hold, credit, amount }),
    ]
}

fn command(horizon: u64, linked: bool) -> impl Strategy<Value = MCmd> {
    let id = (0..IDS).prop_map(|i| format!("id{i}"));
    (id, hold_id(), op(horizon)).prop_map(move |(id, hold, op)| {
        // Freezes use the small hold-id pool so releases and captures find them.
        let id = if matches!(op, MOp::Freeze { .. }) {
            hold
        } else {
            id
        };
        MCmd { id, linked, op }
    })
}

fn gen_cmd(horizon: u64) -> impl Strategy<Value = Vec<Gen>> {
    let id = (0..IDS).prop_map(|i| format!("id{i}"));
    let single = |g: Gen| vec![g];
    prop_oneof![
        20 => command(horizon, false).prop_map(move |c| single(Gen::Op(c))),
        // A stray linked flag: chains that end mid-batch or stay open at its end.
        2 => command(horizon, true).prop_map(move |c| single(Gen::Op(c))),
        // A well-formed chain of 2 to 4 members.
        4 => proptest::collection::vec(command(horizon, true), 2..5).prop_map(|mut chain| {
            chain.last_mut().unwrap().linked = false;
            chain.into_iter().map(Gen::Op).collect()
        }),
        // Typical composite flows, likely to succeed: pay from frozen, and A→B→C.
        3 => (hold_id(), (0..IDS, 0..IDS), number(), number(), 1u64..300, 0u64..300).prop_map(|(hold, ids, from, to, amount, part)| {
            let op_id = |i: usize| format!("id{i}");
            vec![
                MCmd { id: hold.clone(), linked: true, op: MOp::Freeze { no: from, amount, currency: None, expires_at: None } },
                MCmd { id: op_id(ids.0), linked: true, op: MOp::Capture { hold: hold.clone(), credit: to, amount: Some(part) } },
                MCmd { id: op_id(ids.1), linked: false, op: MOp::Unfreeze { hold, amount: None } },
            ]
            .into_iter()
            .map(Gen::Op)
            .collect()
        }),
        3 => ((0..IDS, 0..IDS), number(), number(), number(), 1u64..300).prop_map(|(ids, a, b, c, amount)| {
            let transfer = |debit: &str, credit: &str| MOp::Transfer {
                debit: debit.into(),
                credit: credit.into(),
                amount,
                currency: Currency::CNY,
                kind: TransferKind::Transfer,
            };
            vec![
                Gen::Op(MCmd { id: format!("id{}", ids.0), linked: true, op: transfer(&a, &b) }),
                Gen::Op(MCmd { id: format!("id{}", ids.1), linked: false, op: transfer(&b, &c) }),
            ]
        }),
        1 => (id, -1i64..=1).prop_map(move |(id, delta)| single(Gen::DayEnd { id, delta })),
        3 => any::<usize>().prop_map(move |n| single(Gen::Retry(n))),
    ]
}

fn batches() -> impl Strategy<Value = Vec<Vec<Gen>>> {
    let count = 40usize;
    let batch = proptest::collection::vec(gen_cmd(count as u64 * 1_000), 0..8)
        .prop_map(|groups| groups.into_iter().flatten().collect::<Vec<_>>());
    proptest::collection::vec(batch, 1..count)
}

// ---------------------------------------------------------------------------------------
// The reference model.

#[derive(Clone, Debug)]
struct MAccount {
    kind: AccountType,
    currency: Currency,
    balance: i128,
    frozen: i128,
    status: AccountStatus,
    allow_negative: bool,
}

#[derive(Clone, Debug)]
struct MHold {
    account: String,
    remaining: i128,
    status: HoldStatus,
    expires_at: Option<u64>,
}

#[derive(Clone, Debug)]
struct MRecord {
    op: MOp,
    result: Result<(), ErrorCode>,
}

#[derive(Clone, Debug)]
struct Model {
    accounts: BTreeMap<String, MAccount>,
    holds: BTreeMap<String, MHold>,
    records: HashMap<String, MRecord>,
    date: Date,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct MOutcome {
    result: Result<(), ErrorCode>,
    replayed: bool,
    recorded: bool,
}

type R = Result<(), ErrorCode>;

impl Model {
    fn apply_batch(&mut self, ts: u64, cmds: &[MCmd]) -> Vec<MOutcome> {
        self.expire(ts);
        let mut outcomes = Vec::new();
        let mut i = 0;
        while i < cmds.len() {
            let mut end = i;
            while end < cmds.len() && cmds[end].linked {
                end += 1;
            }
            if end == cmds.len() {
                // Open chain: nothing recorded.
                for _ in i..end {
                    outcomes.push(MOutcome {
                        result: Err(ErrorCode::LinkedChainOpen),
                        replayed: false,
                        recorded: false,
                    });
                }
                break;
            }
            if end == i {
                outcomes.push(self.decide(ts + i as u64, &cmds[i]));
            } else {
                outcomes.extend(self.chain(ts + i as u64, &cmds[i..=end]));
            }
            i = end + 1;
        }
        outcomes
    }

    fn expire(&mut self, now: u64) {
        for hold in self.holds.values_mut() {
            if hold.status == HoldStatus::Active && hold.expires_at.is_some_and(|at| at <= now) {
                self.accounts.get_mut(&hold.account).unwrap().frozen -= hold.remaining;
                hold.remaining = 0;
                hold.status = HoldStatus::Expired;
            }
        }
    }

    fn chain(&mut self, ts: u64, chain: &[MCmd]) -> Vec<MOutcome> {
        let mut trial = self.clone();
        let mut outcomes = Vec::new();
        let mut failed = None;
        for (k, cmd) in chain.iter().enumerate() {
            let outcome = if matches!(cmd.op, MOp::DayEnd { .. }) {
                MOutcome {
                    result: Err(ErrorCode::NotLinkable),
                    replayed: false,
                    recorded: false,
                }
            } else {
                trial.decide(ts + k as u64, cmd)
            };
            outcomes.push(outcome);
            if outcome.result.is_err() {
                failed = Some((k, outcome));
                break;
            }
        }
        let Some((failed_k, failed_outcome)) = failed else {
            *self = trial;
            return outcomes;
        };
        let mut outcomes = Vec::new();
        for (k, cmd) in chain.iter().enumerate() {
            if k == failed_k {
                if failed_outcome.recorded && !failed_outcome.replayed {
                    self.records.insert(
                        cmd.id.clone(),
                        MRecord {
                            op: cmd.op.clone(),
                            result: failed_outcome.result,
                        },
                    );
                }
                outcomes.push(failed_outcome);
            } else if self.records.contains_key(&cmd.id) {
                outcomes.push(self.retry(cmd));
            } else {
                let result = Err(ErrorCode::LinkedBatchFailed);
                self.records.insert(
                    cmd.id.clone(),
                    MRecord {
                        op: cmd.op.clone(),
                        result,
                    },
                );
                outcomes.push(MOutcome {
                    result,
                    replayed: false,
                    recorded: true,
                });
            }
        }
        outcomes
    }

    fn retry(&self, cmd: &MCmd) -> MOutcome {
        let record = &self.records[&cmd.id];
        if record.op == cmd.op {
            MOutcome {
                result: record.result,
                replayed: true,
                recorded: true,
            }
        } else {
            MOutcome {
                result: Err(ErrorCode::IdConflict),
                replayed: false,
                recorded: false,
            }
        }
    }

    fn decide(&mut self, ts: u64, cmd: &MCmd) -> MOutcome {
        if self.records.contains_key(&cmd.id) {
            return self.retry(cmd);
        }
        let result = self.execute(ts, &cmd.id, &cmd.op);
        self.records.insert(
            cmd.id.clone(),
            MRecord {
                op: cmd.op.clone(),
                result,
            },
        );
        MOutcome {
            result,
            replayed: false,
            recorded: true,
        }
    }

    fn execute(&mut self, ts: u64, id: &str, op: &MOp) -> R {
        match op.clone() {
            MOp::Open {
                no,
                kind,
                currency,
                allow_negative,
            } => {
                if self.accounts.contains_key(&no) {
                    return Err(ErrorCode::AccountExists);
                }
                let allow_negative = allow_negative.unwrap_or(matches!(
                    kind,
                    AccountType::Internal | AccountType::Settlement
                ));
                let account = MAccount {
                    kind,
                    currency,
                    balance: 0,
                    frozen: 0,
                    status: AccountStatus::Normal,
                    allow_negative,
                };
                self.accounts.insert(no, account);
                Ok(())
            }
            MOp::Close { no } => {
                let a = self
                    .accounts
                    .get_mut(&no)
                    .ok_or(ErrorCode::AccountNotFound)?;
                if a.status == AccountStatus::Closed {
                    return Err(ErrorCode::AccountClosed);
                }
                if a.balance != 0 || a.frozen != 0 {
                    return Err(ErrorCode::BalanceNotZero);
                }
                a.status = AccountStatus::Closed;
                Ok(())
            }
            MOp::SetFrozen { no, frozen } => {
                let a = self
                    .accounts
                    .get_mut(&no)
                    .ok_or(ErrorCode::AccountNotFound)?;
                if a.status == AccountStatus::Closed {
                    return Err(ErrorCode::AccountClosed);
                }
                a.status = if frozen {
                    AccountStatus::Frozen
                } else {
                    AccountStatus::Normal
                };
                Ok(())
            }
            MOp::Transfer {
                debit,
                credit,
                amount,
                currency,
                kind,
            } => self.transfer(&debit, &credit, amount, currency, kind),
            MOp::Freeze {
                no,
                amount,
                currency,
                expires_at,
            } => self.freeze(ts, id, &no, amount, currency, expires_at),
            MOp::Unfreeze { hold, amount } => {
                let (h, amount) = self.usable_hold(ts, &hold, amount)?;
                self.accounts.get_mut(&h.account).unwrap().frozen -= amount;
                let h = self.holds.get_mut(&hold).unwrap();
                h.remaining -= amount;
                if h.remaining == 0 {
                    h.status = HoldStatus::Released;
                }
                Ok(())
            }
            MOp::Capture {
                hold,
                credit,
                amount,
            } => self.capture(ts, &hold, &credit, amount),
            MOp::DayEnd { date } => {
                if date != self.date {
                    return Err(ErrorCode::DayEndDateMismatch);
                }
                self.date = date.next_day().unwrap();
                Ok(())
            }
        }
    }

    fn transfer(
        &mut self,
        debit: &str,
        credit: &str,
        amount: u64,
        currency: Currency,
        kind: TransferKind,
    ) -> R {
        if amount == 0 {
            return Err(ErrorCode::AmountZero);
        }
        if amount > i64::MAX as u64 {
            return Err(ErrorCode::AmountOverflow);
        }
        let d = self
            .accounts
            .get(debit)
            .ok_or(ErrorCode::AccountNotFound)?
            .clone();
        let c = self
            .accounts
            .get(credit)
            .ok_or(ErrorCode::AccountNotFound)?
            .clone();
        if debit == credit {
            return Err(ErrorCode::SameAccount);
        }
        if d.currency != currency || c.currency != currency {
            return Err(ErrorCode::CurrencyMismatch);
        }
        if d.status == AccountStatus::Closed || c.status == AccountStatus::Closed {
            return Err(ErrorCode::AccountClosed);
        }
        if d.status == AccountStatus::Frozen {
            return Err(ErrorCode::AccountFrozen);
        }
        if (kind == TransferKind::Deposit && d.kind != AccountType::Settlement)
            || (kind == TransferKind::Withdrawal && c.kind != AccountType::Settlement)
        {
            return Err(ErrorCode::NotSettlementAccount);
        }
        let amount = amount as i128;
        if !d.allow_negative && d.balance - d.frozen < amount {
            return Err(ErrorCode::InsufficientFunds);
        }
        if d.balance - amount < i64::MIN as i128 || c.balance + amount > i64::MAX as i128 {
            return Err(ErrorCode::AmountOverflow);
        }
        self.accounts.get_mut(debit).unwrap().balance -= amount;
        self.accounts.get_mut(credit).unwrap().balance += amount;
        Ok(())
    }

    fn freeze(
        &mut self,
        ts: u64,
        id: &str,
        no: &str,
        amount: u64,
        currency: Option<Currency>,
        expires_at: Option<u64>,
    ) -> R {
        if amount == 0 {
            return Err(ErrorCode::AmountZero);
        }
        if amount > i64::MAX as u64 {
            return Err(ErrorCode::AmountOverflow);
        }
        let a = self
            .accounts
            .get(no)
            .ok_or(ErrorCode::AccountNotFound)?
            .clone();
        if currency.is_some_and(|c| c != a.currency) {
            return Err(ErrorCode::CurrencyMismatch);
        }
        if a.status == AccountStatus::Closed {
            return Err(ErrorCode::AccountClosed);
        }
        if expires_at.is_some_and(|at| at <= ts) {
            return Err(ErrorCode::InvalidExpiry);
        }
        let amount = amount as i128;
        if !a.allow_negative && a.balance - a.frozen < amount {
            return Err(ErrorCode::InsufficientFunds);
        }
        if a.frozen + amount > i64::MAX as i128 {
            return Err(ErrorCode::AmountOverflow);
        }
        self.accounts.get_mut(no).unwrap().frozen += amount;
        let hold = MHold {
            account: no.to_owned(),
            remaining: amount,
            status: HoldStatus::Active,
            expires_at,
        };
        self.holds.insert(id.to_owned(), hold);
        Ok(())
    }

    fn usable_hold(
        &self,
        ts: u64,
        hold: &str,
        amount: Option<u64>,
    ) -> Result<(MHold, i128), ErrorCode> {
        let is_hold = self
            .records
            .get(hold)
            .is_some_and(|r| matches!(r.op, MOp::Freeze { .. }) && r.result.is_ok());
        let h = match self.holds.get(hold) {
            Some(h) if is_hold => h.clone(),
            _ => return Err(ErrorCode::HoldNotFound),
        };
        let past_expiry = h.expires_at.is_some_and(|at| at <= ts);
        if h.status == HoldStatus::Expired || (h.status == HoldStatus::Active && past_expiry) {
            return Err(ErrorCode::HoldExpired);
        }
        if h.status != HoldStatus::Active {
            return Err(ErrorCode::HoldClosed);
        }
        let amount = match amount {
            None => h.remaining,
            Some(0) => return Err(ErrorCode::AmountZero),
            Some(a) if a as i128 > h.remaining => return Err(ErrorCode::HoldAmountExceeded),
            Some(a) => a as i128,
        };
        Ok((h, amount))
    }

    fn capture(&mut self, ts: u64, hold: &str, credit: &str, amount: Option<u64>) -> R {
        let (h, amount) = self.usable_hold(ts, hold, amount)?;
        let d = self.accounts[&h.account].clone();
        let c = self
            .accounts
            .get(credit)
            .ok_or(ErrorCode::AccountNotFound)?
            .clone();
        if h.account == credit {
            return Err(ErrorCode::SameAccount);
        }
        if c.currency != d.currency {
            return Err(ErrorCode::CurrencyMismatch);
        }
        if c.status == AccountStatus::Closed {
            return Err(ErrorCode::AccountClosed);
        }
        if d.status == AccountStatus::Frozen {
            return Err(ErrorCode::AccountFrozen);
        }
        if d.balance - amount < i64::MIN as i128 || c.balance + amount > i64::MAX as i128 {
            return Err(ErrorCode::AmountOverflow);
        }
        let debit = self.accounts.get_mut(&h.account).unwrap();
        debit.balance -= amount;
        debit.frozen -= amount;
        self.accounts.get_mut(credit).unwrap().balance += amount;
        let h = self.holds.get_mut(hold).unwrap();
        h.remaining -= amount;
        if h.remaining == 0 {
            h.status = HoldStatus::Captured;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Driving both.

fn to_command(h: &Harness, cmd: &MCmd) -> Command {
    let key = |no: &str| AccountKey::No(AccountNo::new(no).unwrap());
    let op = match cmd.op.clone() {
        MOp::Open {
            no,
            kind,
            currency,
            allow_negative,
        } => Op::OpenAccount(OpenAccount {
            number: AccountNo::new(&no).unwrap(),
            kind,
            currency,
            allow_negative,
            reference: Reference::new(&format!("ref {no}")).unwrap(),
            opened_by: Operator::SYSTEM,
        }),
        MOp::Close { no } => Op::CloseAccount { account: key(&no) },
        MOp::SetFrozen { no, frozen } => Op::SetAccountFrozen {
            account: key(&no),
            frozen,
        },
        MOp::Transfer {
            debit,
            credit,
            amount,
            currency,
            kind,
        } => Op::Transfer(Transfer {
            debit: key(&debit),
            credit: key(&credit),
            amount,
            currency,
            kind,
            reference: Reference::NONE,
        }),
        MOp::Freeze {
            no,
            amount,
            currency,
            expires_at,
        } => Op::Freeze(Freeze {
            account: key(&no),
            amount,
            currency,
            expires_at,
            reference: Reference::NONE,
        }),
        MOp::Unfreeze { hold, amount } => Op::Unfreeze(Unfreeze {
            hold: h.id(&hold),
            amount,
        }),
        MOp::Capture {
            hold,
            credit,
            amount,
        } => Op::Capture(Capture {
            hold: h.id(&hold),
            credit: key(&credit),
            amount,
            kind: TransferKind::Payment,
            reference: Reference::NONE,
        }),
        MOp::DayEnd { date } => Op::DayEnd { date },
    };
    h.cmd(&cmd.id, op).linked(cmd.linked)
}

fn setup() -> Vec<MCmd> {
    let open = |no: &str, kind, currency| MCmd {
        id: format!("open-{no}"),
        linked: false,
        op: MOp::Open {
            no: no.into(),
            kind,
            currency,
            allow_negative: None,
        },
    };
    let deposit = |no: &str, amount| MCmd {
        id: format!("seed-{no}"),
        linked: false,
        op: MOp::Transfer {
            debit: "S".into(),
            credit: no.into(),
            amount,
            currency: Currency::CNY,
            kind: TransferKind::Deposit,
        },
    };
    vec![
        open("A", AccountType::Customer, Currency::CNY),
        open("B", AccountType::Merchant, Currency::CNY),
        open("C", AccountType::Customer, Currency::CNY),
        open("S", AccountType::Settlement, Currency::CNY),
        open("U", AccountType::Customer, Currency::USD),
        deposit("A", 1_000),
        deposit("B", 500),
    ]
}

fn resolve_gen(model: &Model, history: &[MCmd], gen: &Gen) -> MCmd {
    match gen {
        Gen::Op(cmd) => cmd.clone(),
        Gen::DayEnd { id, delta } => MCmd {
            id: id.clone(),
            linked: false,
            op: MOp::DayEnd {
                date: model.date + time::Duration::days(*delta),
            },
        },
        Gen::Retry(n) if !history.is_empty() => MCmd {
            linked: false,
            ..history[n % history.len()].clone()
        },
        Gen::Retry(_) => setup()[0].clone(),
    }
}

fn assert_same_state(model: &Model, h: &Harness) {
    assert_eq!(h.ledger.account_count() as usize, model.accounts.len());
    for (no, m) in &model.accounts {
        let a = h.account(no);
        assert_eq!(
            (i128::from(a.balance), i128::from(a.frozen), a.status),
            (m.balance, m.frozen, m.status),
            "account {no}"
        );
        assert_eq!(
            (a.kind, a.currency, a.allow_negative),
            (m.kind, m.currency, m.allow_negative)
        );
    }
    assert_eq!(h.ledger.accounting_date(), model.date);
}

/// Runs the batches through model and ledger side by side; returns the commands as applied.
type Applied = Vec<(u64, Vec<Command>, Vec<Outcome>)>;

fn run(batches: &[Vec<Gen>]) -> (Harness, Applied) {
    let mut midway: Option<(LedgerSnapshot, u128)> = None;
    let mut h = Harness::new();
    let mut model = Model {
        accounts: BTreeMap::new(),
        holds: BTreeMap::new(),
        records: HashMap::new(),
        date: h.ledger.accounting_date(),
    };
    let mut history: Vec<MCmd> = Vec::new();
    let mut applied = Vec::new();
    let mut balances: BTreeMap<AccountId, i128> = BTreeMap::new();
    let setup_batch = [setup().into_iter().map(Gen::Op).collect::<Vec<_>>()];
    for (k, batch) in setup_batch.iter().chain(batches).enumerate() {
        let cmds: Vec<MCmd> = batch
            .iter()
            .map(|g| resolve_gen(&model, &history, g))
            .collect();
        let commands: Vec<Command> = cmds.iter().map(|c| to_command(&h, c)).collect();
        let ts = T0 + (k as u64 + 1) * 1_000;
        let expected = model.apply_batch(ts, &cmds);
        h.ledger.apply_batch(ts, &commands, &mut h.out);
        let actual: Vec<MOutcome> = h
            .out
            .outcomes
            .iter()
            .map(|o| MOutcome {
                result: o.result,
                replayed: o.replayed,
                recorded: o.record.is_some(),
            })
            .collect();
        assert_eq!(actual, expected, "batch {k}: {cmds:#?}");
        h.ledger.check_invariants().unwrap();
        assert_same_state(&model, &h);
        check_journal(&h, &mut balances);
        history.extend(cmds);
        applied.push((ts, commands, h.out.outcomes.clone()));
        if k == batches.len() / 2 {
            midway = Some((h.ledger.snapshot(), h.ledger.digest()));
        }
    }
    // The snapshot taken half way is unaffected by everything applied since (copy on write).
    let (snapshot, digest) = midway.unwrap();
    let mut encoded = Vec::new();
    snapshot.encode(&mut encoded).unwrap();
    assert_eq!(xxhash_rust::xxh3::xxh3_128(&encoded), digest);
    (h, applied)
}

/// The journal is gap-free and each entry continues its account's previous balance.
fn check_journal(h: &Harness, balances: &mut BTreeMap<AccountId, i128>) {
    let first_seq = h.ledger.next_entry_seq() - h.out.journal.len() as u64;
    for (seq, entry) in (first_seq..).zip(&h.out.journal) {
        assert_eq!(entry.seq, seq);
        let before = balances.entry(entry.account).or_insert(0);
        assert_eq!(i128::from(entry.balance_before), *before, "{entry:?}");
        let delta = match entry.kind {
            EntryKind::Debit => -i128::from(entry.amount),
            EntryKind::Credit => i128::from(entry.amount),
            _ => 0,
        };
        assert_eq!(i128::from(entry.balance_after), *before + delta);
        *before = i128::from(entry.balance_after);
    }
    for (account, balance) in balances.iter() {
        assert_eq!(
            i128::from(h.ledger.account(*account).unwrap().balance),
            *balance
        );
    }
}

fn config(cases: u32, seed: u64) -> Config {
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(96, 0x5EED_1ED6))]

    #[test]
    fn ledger_agrees_with_the_model_and_replays_identically(batches in batches()) {
        let (h, applied) = run(&batches);

        // Replaying the same batches into a fresh ledger reproduces the state bit for bit.
        let mut replay = Harness::new();
        for (ts, commands, _) in &applied {
            replay.ledger.apply_batch(*ts, commands, &mut replay.out);
        }
        prop_assert_eq!(replay.ledger.digest(), h.ledger.digest());

        // A snapshot decodes into the same state, indexes rebuilt: retries still find their ids.
        let mut encoded = Vec::new();
        h.ledger.snapshot().encode(&mut encoded).unwrap();
        let restored = LedgerSnapshot::decode(&mut &encoded[..]).unwrap();
        prop_assert_eq!(restored.digest(), h.ledger.digest());
        for (_, commands, _) in &applied {
            for command in commands {
                prop_assert_eq!(restored.find_record(&command.id), h.ledger.find_record(&command.id));
            }
        }

        // Retrying every command that was decided changes no balance and stores nothing.
        // First let every hold expire, so that only retries could change anything.
        let mut h = h;
        let mut ts = applied.last().unwrap().0 + 10_000_000;
        h.ledger.apply_batch(ts, &[], &mut h.out);
        let accounts = h.ledger.accounts().to_vec();
        let records = h.ledger.record_count();
        for (_, commands, outcomes) in &applied {
            let decided: Vec<(Command, Outcome)> = commands
                .iter()
                .zip(outcomes)
                .filter(|(_, o)| o.record.is_some())
                .map(|(c, o)| (c.linked(false), *o))
                .collect();
            let singles: Vec<Command> = decided.iter().map(|(c, _)| *c).collect();
            ts += 100_000;
            h.ledger.apply_batch(ts, &singles, &mut h.out);
            for (retry, (_, original)) in h.out.outcomes.iter().zip(&decided) {
                prop_assert!(retry.replayed);
                prop_assert_eq!((retry.result, retry.record), (original.result, original.record));
            }
        }
        prop_assert_eq!(h.ledger.record_count(), records);
        prop_assert_eq!(h.ledger.accounts(), &accounts[..]);
    }
}
