//! Commands: what callers ask the ledger to do. Every command carries a client id and a
//! fingerprint of its content; both are computed when the command is built, off the hot path.

use paycore_money::Currency;
use time::Date;

use crate::ids::{ClientId, ContentHasher, Fingerprint, IdHasher};
use crate::text::{AccountNo, Operator, Reference};
use crate::{AccountId, AccountType};

/// How a command names an account: by number (as clients do) or by dense id (once resolved
/// at the edge). The fingerprint is taken from the form the command was built with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AccountKey {
    Id(AccountId),
    No(AccountNo),
}

impl From<AccountId> for AccountKey {
    fn from(id: AccountId) -> Self {
        AccountKey::Id(id)
    }
}

impl From<AccountNo> for AccountKey {
    fn from(number: AccountNo) -> Self {
        AccountKey::No(number)
    }
}

/// The business meaning of a money movement; accounting's posting rules key on it.
/// Discriminants are stored: append, never renumber.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum TransferKind {
    Transfer = 1,
    /// 充值: debits a settlement account.
    Deposit = 2,
    /// 提现: credits a settlement account.
    Withdrawal = 3,
    Payment = 4,
    Refund = 5,
    Fee = 6,
    Settlement = 7,
    /// 调账: manual correction, only through maker-checker.
    Adjustment = 8,
    Reversal = 9,
}

impl TransferKind {
    pub const ALL: [TransferKind; 9] = [
        TransferKind::Transfer,
        TransferKind::Deposit,
        TransferKind::Withdrawal,
        TransferKind::Payment,
        TransferKind::Refund,
        TransferKind::Fee,
        TransferKind::Settlement,
        TransferKind::Adjustment,
        TransferKind::Reversal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TransferKind::Transfer => "transfer",
            TransferKind::Deposit => "deposit",
            TransferKind::Withdrawal => "withdrawal",
            TransferKind::Payment => "payment",
            TransferKind::Refund => "refund",
            TransferKind::Fee => "fee",
            TransferKind::Settlement => "settlement",
            TransferKind::Adjustment => "adjustment",
            TransferKind::Reversal => "reversal",
        }
    }

    pub fn from_name(name: &str) -> Option<TransferKind> {
        TransferKind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn from_u8(value: u8) -> Option<TransferKind> {
        TransferKind::ALL.into_iter().find(|k| *k as u8 == value)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OpenAccount {
    pub number: AccountNo,
    pub kind: AccountType,
    pub currency: Currency,
    /// `None` takes the type's default (see `AccountType::allows_negative_by_default`).
    pub allow_negative: Option<bool>,
    pub reference: Reference,
    pub opened_by: Operator,
}

/// Debit one account, credit another, same currency. Deposits and withdrawals are transfers
/// against a settlement account with kind `Deposit`/`Withdrawal`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Transfer {
    pub debit: AccountKey,
    pub credit: AccountKey,
    pub amount: u64,
    pub currency: Currency,
    pub kind: TransferKind,
    pub reference: Reference,
}

/// Freeze (冻结) an amount of an account as a hold named by the command's own client id.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Freeze {
    pub account: AccountKey,
    pub amount: u64,
    pub currency: Option<Currency>,
    /// Engine time (ns since the Unix epoch) at which the hold releases itself.
    pub expires_at: Option<u64>,
    pub reference: Reference,
}

/// Unfreeze (解冻) all (`amount: None`) or part of a hold.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Unfreeze {
    pub hold: ClientId,
    pub amount: Option<u64>,
}

/// Pay from frozen: release part or all of a hold and debit it to `credit` in one step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Capture {
    pub hold: ClientId,
    pub credit: AccountKey,
    pub amount: Option<u64>,
    pub kind: TransferKind,
    pub reference: Reference,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    OpenAccount(OpenAccount),
    CloseAccount {
        account: AccountKey,
    },
    /// Account-level freeze (no debits) or its lifting.
    SetAccountFrozen {
        account: AccountKey,
        frozen: bool,
    },
    Transfer(Transfer),
    Freeze(Freeze),
    Unfreeze(Unfreeze),
    Capture(Capture),
    /// Day-end cutover (日切): closes `date`, which must be the current accounting date.
    DayEnd {
        date: Date,
    },
    /// Buffered posting (缓冲记账) for `account` with these options, or off (`None`).
    SetHot {
        account: AccountKey,
        options: Option<crate::HotOptions>,
    },
    /// Split `account` (empty, direct) into `parts` sub-accounts (二级子账户).
    SplitAccount {
        account: AccountKey,
        parts: u8,
    },
}

/// A command as the state machine receives it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Command {
    pub id: ClientId,
    /// When set, this command and the next succeed or fail together (组合记账).
    pub linked: bool,
    pub fingerprint: Fingerprint,
    pub op: Op,
}

impl Command {
    pub fn new(id: ClientId, op: Op, hasher: &IdHasher) -> Command {
        let mut content = hasher.content_hasher();
        op.write_content(&mut content);
        Command {
            id,
            linked: false,
            fingerprint: content.finish(),
            op,
        }
    }

    pub fn linked(mut self, linked: bool) -> Command {
        self.linked = linked;
        self
    }

    /// Replaces account numbers by ids where `resolve` knows them. The fingerprint is kept,
    /// so a retry still matches however it was resolved.
    pub fn resolve_accounts(&mut self, resolve: impl Fn(&AccountNo) -> Option<AccountId>) {
        let swap = |key: &mut AccountKey| {
            if let AccountKey::No(number) = key {
                if let Some(id) = resolve(number) {
                    *key = AccountKey::Id(id);
                }
            }
        };
        match &mut self.op {
            Op::Transfer(t) => {
                swap(&mut t.debit);
                swap(&mut t.credit);
            }
            Op::Freeze(f) => swap(&mut f.account),
            Op::Capture(c) => swap(&mut c.credit),
            Op::CloseAccount { account }
            | Op::SetAccountFrozen { account, .. }
            | Op::SetHot { account, .. }
            | Op::SplitAccount { account, .. } => swap(account),
            Op::OpenAccount(_) | Op::Unfreeze(_) | Op::DayEnd { .. } => {}
        }
    }
}

impl Op {
    /// Writes every field in a fixed order with tags and length prefixes: the fingerprint
    /// is persisted, so this encoding must stay stable across versions.
    fn write_content(&self, h: &mut ContentHasher) {
        match self {
            Op::OpenAccount(o) => {
                h.u8(1).bytes(o.number.as_str().as_bytes()).u8(o.kind as u8);
                currency(h, Some(o.currency));
                h.u8(match o.allow_negative {
                    None => 0,
                    Some(false) => 1,
                    Some(true) => 2,
                });
                h.bytes(o.reference.as_bytes())
                    .bytes(o.opened_by.as_str().as_bytes());
            }
            Op::CloseAccount { account } => account_key(h.u8(2), account),
            Op::SetAccountFrozen { account, frozen } => {
                account_key(h.u8(3).u8(*frozen as u8), account)
            }
            Op::Transfer(t) => {
                h.u8(4);
                account_key(h, &t.debit);
                account_key(h, &t.credit);
                h.u64(t.amount);
                currency(h, Some(t.currency));
                h.u8(t.kind as u8).bytes(t.reference.as_bytes());
            }
            Op::Freeze(f) => {
                h.u8(5);
                account_key(h, &f.account);
                h.u64(f.amount);
                currency(h, f.currency);
                optional_u64(h, f.expires_at);
                h.bytes(f.reference.as_bytes());
            }
            Op::Unfreeze(u) => {
                h.u8(6).bytes(u.hold.as_bytes());
                optional_u64(h, u.amount);
            }
            Op::Capture(c) => {
                h.u8(7).bytes(c.hold.as_bytes());
                account_key(h, &c.credit);
                optional_u64(h, c.amount);
                h.u8(c.kind as u8).bytes(c.reference.as_bytes());
            }
            Op::DayEnd { date } => {
                h.u8(8).u32(date.to_julian_day() as u32);
            }
            Op::SplitAccount { account, parts } => {
                account_key(h.u8(10), account);
                h.u8(*parts);
            }
            Op::SetHot { account, options } => {
                account_key(h.u8(9), account);
                match options {
                    Some(o) => h
                        .u8(1)
                        .u32(o.flush_interval_ms)
                        .u32(o.max_entries)
                        .u64(o.credit_line),
                    None => h.u8(0),
                };
            }
        }
    }
}

fn account_key(h: &mut ContentHasher, key: &AccountKey) {
    match key {
        AccountKey::Id(id) => h.u8(b'I').u32(id.0),
        AccountKey::No(number) => h.u8(b'N').bytes(number.as_str().as_bytes()),
    };
}

fn currency(h: &mut ContentHasher, currency: Option<Currency>) {
    match currency {
        Some(c) => h.u8(1).bytes(&c.to_bytes()),
        None => h.u8(0),
    };
}

fn optional_u64(h: &mut ContentHasher, value: Option<u64>) {
    match value {
        Some(v) => h.u8(1).u64(v),
        None => h.u8(0),
    };
}
