//! Records: what the ledger remembers of every command it decided, accepted or rejected.
//! They back idempotency (a retry returns the stored result) and lookups by client id.

use paycore_money::Currency;

use crate::command::TransferKind;
use crate::ids::Fingerprint;
use crate::store::Span;
use crate::{AccountId, ErrorCode, HoldId};

/// Dense index of a record: the ledger's internal transaction number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct RecordId(pub u64);

/// Which command a record stores. Discriminants are stored: append, never renumber.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum OpKind {
    OpenAccount = 1,
    CloseAccount = 2,
    SetAccountFrozen = 3,
    Transfer = 4,
    Freeze = 5,
    Unfreeze = 6,
    Capture = 7,
    DayEnd = 8,
    /// Buffered posting switched on, changed or off for an account.
    SetHot = 9,
    /// An account split into sub-accounts.
    SplitAccount = 10,
}

impl OpKind {
    pub const ALL: [OpKind; 10] = [
        OpKind::OpenAccount,
        OpKind::CloseAccount,
        OpKind::SetAccountFrozen,
        OpKind::Transfer,
        OpKind::Freeze,
        OpKind::Unfreeze,
        OpKind::Capture,
        OpKind::DayEnd,
        OpKind::SetHot,
        OpKind::SplitAccount,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OpKind::OpenAccount => "open_account",
            OpKind::CloseAccount => "close_account",
            OpKind::SetAccountFrozen => "set_account_frozen",
            OpKind::Transfer => "transfer",
            OpKind::Freeze => "freeze",
            OpKind::Unfreeze => "unfreeze",
            OpKind::Capture => "capture",
            OpKind::DayEnd => "day_end",
            OpKind::SetHot => "set_hot",
            OpKind::SplitAccount => "split_account",
        }
    }

    pub fn from_u8(value: u8) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| *k as u8 == value)
    }
}

/// A decided command. Fixed size; strings live in the ledger's byte arenas.
///
/// Field use by kind: `debit` is the account debited, frozen, opened, closed or (un)frozen;
/// `credit` the account credited; `amount` the amount actually moved, frozen or released
/// (for a day-end, the Julian day of the closed date). Unresolved sides are `AccountId::NONE`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Record {
    pub fingerprint: Fingerprint,
    pub timestamp: u64,
    pub amount: u64,
    pub client_id: Span,
    pub reference: Span,
    pub debit: AccountId,
    pub credit: AccountId,
    pub hold: HoldId,
    pub currency: Option<Currency>,
    pub op: OpKind,
    pub kind: Option<TransferKind>,
    pub result: Result<(), ErrorCode>,
}

/// What the state machine says about one command of a batch.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Outcome {
    pub result: Result<(), ErrorCode>,
    /// The record holding the decision; `None` when nothing was stored (id conflict, open chain).
    pub record: Option<RecordId>,
    /// True when this was a retry answered from the stored record, changing nothing.
    pub replayed: bool,
}
