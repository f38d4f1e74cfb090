//! Turning followed ledger batches into what accounting writes: a voucher per posted ledger
//! transaction (or an exception when no rule maps it), and the movement of the ledger accounts
//! behind each control account per day (the sub-ledger side of the GL check). Pure: reads the
//! replica, writes nothing.

use std::collections::HashMap;

use paycore_engine::FollowedBatch;
use paycore_ledger::{AccountId, Date, Ledger, OpKind, Record};

use crate::chart::Side;
use crate::rules::LedgerSide;
use crate::voucher::{NewVoucher, Source, VoucherLine};
use crate::Config;

/// A ledger transaction no rule could post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    pub record_id: u64,
    pub client_id: String,
    pub kind: String,
    pub debit_type: String,
    pub debit_account_no: String,
    pub credit_type: String,
    pub credit_account_no: String,
    pub amount: i64,
    pub currency: String,
    pub ledger_date: String,
    pub reason: String,
}

/// Everything one accounting transaction writes.
#[derive(Debug, Default)]
pub struct FeedBatch {
    pub last_sequence: u64,
    pub last_timestamp: u64,
    /// The ledger's accounting date after the last batch.
    pub accounting_date: String,
    pub vouchers: Vec<NewVoucher>,
    pub exceptions: Vec<Exception>,
    /// (date, control code, currency) → credits − debits of the ledger accounts behind it.
    /// Change per day and control account; wide, as many accounts' changes may pass i64.
    pub subledger: HashMap<(Date, String, String), i128>,
    pub batches: usize,
}

/// Code under which ledger accounts with no control account are summed, so the GL check
/// shows them instead of losing them.
pub fn uncontrolled(account_type: &str) -> String {
    format!("(no control: {account_type})")
}

pub struct FeedBuilder {
    date: Date,
    batch: FeedBatch,
    /// Control code per ledger account, for the rules version it was computed with.
    controls: Vec<Option<String>>,
    controls_version: u32,
}

impl FeedBuilder {
    /// `date`: the ledger's accounting date before the first batch added.
    pub fn new(date: Date) -> FeedBuilder {
        FeedBuilder {
            date,
            batch: FeedBatch::default(),
            controls: Vec::new(),
            controls_version: 0,
        }
    }

    pub fn pending_vouchers(&self) -> usize {
        self.batch.vouchers.len() + self.batch.exceptions.len()
    }

    pub fn pending_batches(&self) -> usize {
        self.batch.batches
    }

    pub fn add(&mut self, batch: &FollowedBatch<'_>, config: &Config) {
        if self.controls_version != config.rules.version {
            self.controls.clear();
            self.controls_version = config.rules.version;
        }
        let ledger = batch.ledger;
        for outcome in batch.outcomes {
            let Some(id) = outcome.record.filter(|_| !outcome.replayed) else {
                continue;
            };
            let record = ledger.record(id).expect("outcomes point at records");
            if record.result.is_err() {
                continue;
            }
            match record.op {
                OpKind::Transfer | OpKind::Capture => {
                    self.move_subledger(ledger, record, config);
                    self.post(ledger, id.0, record, config);
                }
                OpKind::DayEnd => {
                    self.date = self.date.next_day().expect("dates stay far from 9999");
                }
                _ => {}
            }
        }
        self.batch.last_sequence = batch.sequence;
        self.batch.last_timestamp = batch.timestamp;
        self.batch.batches += 1;
    }

    /// The sub-ledger side: the transaction moves its amount out of the debited and into the
    /// credited account's control, on the day the ledger accepted it. Taken from the records
    /// (not the journal) so a credit a hot account buffers counts when it is accepted — as
    /// its voucher does — and its later aggregated flush entry is not counted twice.
    fn move_subledger(&mut self, ledger: &Ledger, record: &Record, config: &Config) {
        let Ok(amount) = i64::try_from(record.amount).map(i128::from) else {
            return; // never accepted by the ledger (amounts fit in i64)
        };
        let currency = record
            .currency
            .map_or_else(String::new, |c| c.code().to_owned());
        for (account, change) in [(record.debit, -amount), (record.credit, amount)] {
            let code = self.control(ledger, account, config);
            *self
                .batch
                .subledger
                .entry((self.date, code, currency.clone()))
                .or_default() += change;
        }
    }

    /// What is pending, handing it over; the builder starts empty again.
    pub fn finish(&mut self) -> FeedBatch {
        let mut batch = std::mem::take(&mut self.batch);
        batch.accounting_date = self.date.to_string();
        batch
    }

    fn control(&mut self, ledger: &Ledger, id: AccountId, config: &Config) -> String {
        let index = id.index();
        if self.controls.len() <= index {
            self.controls.resize(index + 1, None);
        }
        if let Some(code) = &self.controls[index] {
            return code.clone();
        }
        let side = ledger_side(ledger, id);
        let code = config
            .rules
            .control(side.as_side())
            .map_or_else(|| uncontrolled(&side.account_type), str::to_owned);
        self.controls[index] = Some(code.clone());
        code
    }

    fn post(&mut self, ledger: &Ledger, record_id: u64, record: &Record, config: &Config) {
        let kind = match (record.op, record.kind) {
            (_, Some(kind)) => kind.name(),
            (_, None) => "capture",
        };
        let debit = ledger_side(ledger, record.debit);
        let credit = ledger_side(ledger, record.credit);
        let client_id = ledger.record_client_id(record).to_owned();
        let currency = record
            .currency
            .map_or_else(String::new, |c| c.code().to_owned());
        let ledger_date = self.date.to_string();
        let amount = i64::try_from(record.amount);
        let mapped = amount
            .as_ref()
            .map_err(|_| "amount exceeds the GL's range".to_owned())
            .and_then(|_| {
                config
                    .rules
                    .map(kind, debit.as_side(), credit.as_side(), &config.chart)
            });
        match mapped {
            Ok(mapped) => {
                let amount = amount.expect("checked above");
                self.batch.vouchers.push(NewVoucher {
                    accounting_date: ledger_date.clone(),
                    ledger_date: Some(ledger_date),
                    source: Source::Ledger,
                    record_id: Some(record_id),
                    client_id,
                    kind: Some(kind.to_owned()),
                    rule: Some(mapped.rule),
                    rules_version: config.rules.version,
                    currency,
                    reverses: None,
                    note: String::new(),
                    lines: lines(mapped.lines, amount),
                })
            }
            Err(reason) => self.batch.exceptions.push(Exception {
                record_id,
                client_id,
                kind: kind.to_owned(),
                debit_type: debit.account_type,
                debit_account_no: debit.account_no,
                credit_type: credit.account_type,
                credit_account_no: credit.account_no,
                amount: amount.unwrap_or(i64::MAX),
                currency,
                ledger_date,
                reason,
            }),
        }
    }
}

/// Voucher lines for mapped (side, code) pairs, each for `amount`.
pub fn lines(mapped: Vec<(Side, String)>, amount: i64) -> Vec<VoucherLine> {
    mapped
        .into_iter()
        .map(|(side, code)| VoucherLine { code, side, amount })
        .collect()
}

/// An owned `LedgerSide`.
struct OwnedSide {
    account_type: String,
    account_no: String,
}

impl OwnedSide {
    fn as_side(&self) -> LedgerSide<'_> {
        LedgerSide {
            account_type: &self.account_type,
            account_no: &self.account_no,
        }
    }
}

fn ledger_side(ledger: &Ledger, id: AccountId) -> OwnedSide {
    OwnedSide {
        account_type: ledger.account(id).map_or("", |a| a.kind.name()).to_owned(),
        account_no: ledger
            .account_info(id)
            .map_or(String::new(), |i| i.number.to_string()),
    }
}
