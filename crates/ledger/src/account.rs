//! Accounts: the hot part every posting touches (`Account`) and the cold descriptive part
//! (`AccountInfo`), kept in separate arrays so postings stream through a compact array.

use paycore_money::Currency;

use crate::text::{AccountNo, Operator, Reference};
use crate::RecordId;

/// Dense index of an account inside the ledger, assigned in opening order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct AccountId(pub u32);

impl AccountId {
    /// Marks "no account" in fixed-size records (e.g. a rejected command's unresolved side).
    pub const NONE: AccountId = AccountId(u32::MAX);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What an account is for. Customer funds are liabilities; settlement (备付金) accounts mirror
/// the reserve funds at banks and go negative as customers deposit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub enum AccountType {
    Customer = 1,
    Merchant = 2,
    Internal = 3,
    /// 中间过渡户: money passing through; must be back at zero when a flow completes.
    Transit = 4,
    /// 备付金 / settlement: the counterpart of deposits and withdrawals.
    Settlement = 5,
}

impl AccountType {
    pub const ALL: [AccountType; 5] = [
        AccountType::Customer,
        AccountType::Merchant,
        AccountType::Internal,
        AccountType::Transit,
        AccountType::Settlement,
    ];

    /// Customer, merchant and transit balances may not go negative unless asked; internal
    /// and settlement accounts may, because they are the other side of every inflow.
    pub fn allows_negative_by_default(self) -> bool {
        matches!(self, AccountType::Internal | AccountType::Settlement)
    }

    pub fn name(self) -> &'static str {
        match self {
            AccountType::Customer => "customer",
            AccountType::Merchant => "merchant",
            AccountType::Internal => "internal",
            AccountType::Transit => "transit",
            AccountType::Settlement => "settlement",
        }
    }

    pub fn from_name(name: &str) -> Option<AccountType> {
        AccountType::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn from_u8(value: u8) -> Option<AccountType> {
        AccountType::ALL.into_iter().find(|t| *t as u8 == value)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum AccountStatus {
    Normal = 1,
    /// Account-level freeze: credits still arrive, debits are refused.
    Frozen = 2,
    /// Closed for good: no postings, no holds.
    Closed = 3,
}

impl AccountStatus {
    pub fn name(self) -> &'static str {
        match self {
            AccountStatus::Normal => "normal",
            AccountStatus::Frozen => "frozen",
            AccountStatus::Closed => "closed",
        }
    }

    pub fn from_u8(value: u8) -> Option<AccountStatus> {
        [
            AccountStatus::Normal,
            AccountStatus::Frozen,
            AccountStatus::Closed,
        ]
        .into_iter()
        .find(|s| *s as u8 == value)
    }
}

/// The part of an account that postings read and write. 24 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Account {
    /// Credits minus debits, in minor units. Across all accounts of a currency it sums to zero.
    pub balance: i64,
    /// Sum of the remaining amounts of the account's active holds; never negative.
    pub frozen: i64,
    pub currency: Currency,
    pub kind: AccountType,
    pub status: AccountStatus,
    /// When false (the default for customers and merchants), available may never go below 0.
    pub allow_negative: bool,
    /// How postings reach this account: directly, buffered (`Ledger::hot`), or spread over
    /// sub-accounts (`Ledger::sub_accounts`). Mirrors those maps so postings to ordinary
    /// accounts never look them up.
    pub mode: PostingMode,
}

/// How postings reach an account (热点账户 handling).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum PostingMode {
    Direct = 0,
    /// 缓冲记账: credits collect as pending credit and post in aggregated flushes.
    Buffered = 1,
    /// 二级子账户: the account is the sum of its sub-accounts, which carry its postings.
    Split = 2,
}

const _: () = assert!(
    std::mem::size_of::<Account>() == 24,
    "postings stream through 24-byte accounts"
);

impl Account {
    /// Balance minus frozen: what a debit may use. Pending debits are holds, so they are
    /// inside `frozen`. Computed in i128 so that it is exact for any balance.
    pub fn available(&self) -> i128 {
        i128::from(self.balance) - i128::from(self.frozen)
    }

    /// Saturated to i64 for display; exact for every account that may not go negative.
    pub fn available_i64(&self) -> i64 {
        self.available()
            .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// The descriptive part of an account, read by queries and never on the posting path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AccountInfo {
    pub number: AccountNo,
    pub opened_at: u64,
    pub opened_by: Operator,
    pub reference: Reference,
    /// The record of the command that opened it.
    pub opened_record: RecordId,
}
