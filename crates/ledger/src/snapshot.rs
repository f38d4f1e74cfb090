//! Snapshots: a consistent copy of the whole state taken between batches, and its encoding.
//!
//! Taking one is cheap: append-only data (records, strings, account descriptions, holds) is
//! held in shared chunks that the live ledger copies only when it writes into them again, and
//! only the 24-byte-per-account balance array is copied outright. Encoding — slow for millions
//! of records — can then run on another thread while the ledger keeps applying batches.
//!
//! The encoding is field by field, little-endian, independent of the in-memory layout; the
//! idempotency index, the account-number map and the expiry queue are rebuilt on decode.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use time::Date;

use crate::store::{ByteArena, ChunkedVec};
use crate::text::{AccountNo, Operator, Reference};
use crate::{
    Account, AccountId, AccountInfo, AccountStatus, AccountType, Currency, ErrorCode, Fingerprint,
    Hold, HoldId, HoldStatus, HotBuffer, HotOptions, Ledger, LedgerConfig, OpKind, PostingMode,
    Record, RecordId, TransferKind,
};

const MAGIC: &[u8; 4] = b"PCLS";
/// 2 added the buffers of hot accounts, 3 split accounts; older versions are still read.
const VERSION: u32 = 3;
const END: &[u8; 4] = b"END!";

/// A frozen copy of a ledger's state.
#[derive(Clone)]
pub struct LedgerSnapshot {
    hash_key: [u8; 16],
    next_entry_seq: u64,
    last_timestamp: u64,
    accounting_date: Date,
    accounts: Vec<Account>,
    infos: ChunkedVec<AccountInfo>,
    holds: ChunkedVec<Hold>,
    records: ChunkedVec<Record>,
    client_ids: ByteArena,
    references: ByteArena,
    hot: BTreeMap<AccountId, HotBuffer>,
    splits: BTreeMap<AccountId, Vec<AccountId>>,
}

/// Why a snapshot could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot read failed: {0}")]
    Io(#[from] io::Error),
    #[error("snapshot is corrupt: {0}")]
    Corrupt(String),
}

impl Ledger {
    /// Takes a consistent copy of the state. Call between batches.
    pub fn snapshot(&self) -> LedgerSnapshot {
        assert!(self.undo.is_idle(), "snapshots are taken between batches");
        LedgerSnapshot {
            hash_key: self.hasher.key(),
            next_entry_seq: self.next_entry_seq,
            last_timestamp: self.last_timestamp,
            accounting_date: self.accounting_date,
            accounts: self.accounts.clone(),
            infos: self.infos.clone(),
            holds: self.holds.clone(),
            records: self.records.clone(),
            client_ids: self.client_ids.clone(),
            references: self.references.clone(),
            hot: self.hot.clone(),
            splits: self.splits.clone(),
        }
    }
}

impl LedgerSnapshot {
    pub fn record_count(&self) -> u64 {
        self.records.len()
    }

    /// Writes the canonical encoding. Two ledgers in the same state encode identically.
    pub fn encode(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        out.write_all(&self.hash_key)?;
        put_u64(out, self.next_entry_seq)?;
        put_u64(out, self.last_timestamp)?;
        out.write_all(&self.accounting_date.to_julian_day().to_le_bytes())?;
        put_u64(out, self.accounts.len() as u64)?;
        for (account, info) in self.accounts.iter().zip(self.infos.iter()) {
            encode_account(out, account, info)?;
        }
        put_u64(out, self.holds.len())?;
        for hold in self.holds.iter() {
            encode_hold(out, hold)?;
        }
        put_u64(out, self.records.len())?;
        for record in self.records.iter() {
            encode_record(out, record, &self.client_ids, &self.references)?;
        }
        put_u64(out, self.hot.len() as u64)?;
        for (id, buffer) in &self.hot {
            encode_hot(out, *id, buffer)?;
        }
        put_u64(out, self.splits.len() as u64)?;
        for (id, subs) in &self.splits {
            out.write_all(&id.0.to_le_bytes())?;
            out.write_all(&[subs.len() as u8])?;
            for sub in subs {
                out.write_all(&sub.0.to_le_bytes())?;
            }
        }
        out.write_all(END)
    }

    /// Reads an encoding back into a working ledger, rebuilding the indexes.
    pub fn decode(input: &mut impl Read) -> Result<Ledger, SnapshotError> {
        let mut r = Reader(input);
        if &r.array::<4>()? != MAGIC {
            return Err(corrupt("not a paycore ledger snapshot"));
        }
        let version = r.u32()?;
        if !(1..=VERSION).contains(&version) {
            return Err(corrupt("not a paycore ledger snapshot of a known version"));
        }
        let hash_key = r.array::<16>()?;
        let next_entry_seq = r.u64()?;
        let last_timestamp = r.u64()?;
        let julian = i32::from_le_bytes(r.array::<4>()?);
        let accounting_date =
            Date::from_julian_day(julian).map_err(|_| corrupt("accounting date"))?;
        let mut ledger = Ledger::new(LedgerConfig {
            hash_key,
            initial_date: accounting_date,
        });
        ledger.next_entry_seq = next_entry_seq;
        ledger.last_timestamp = last_timestamp;
        let account_count = r.u64()?;
        for i in 0..account_count {
            let (account, info) = decode_account(&mut r)?;
            let id = AccountId(u32::try_from(i).map_err(|_| corrupt("too many accounts"))?);
            if ledger.numbers.insert(info.number, id).is_some() {
                return Err(corrupt("duplicate account number"));
            }
            ledger.accounts.push(account);
            ledger.infos.push(info);
        }
        let hold_count = r.u64()?;
        for i in 0..hold_count {
            let hold = decode_hold(&mut r, account_count)?;
            if let (HoldStatus::Active, Some(at)) = (hold.status, hold.expires_at) {
                ledger.expiries.insert((at, HoldId(i as u32)));
            }
            ledger.holds.push(hold);
        }
        let record_count = r.u64()?;
        ledger
            .index
            .reserve(usize::try_from(record_count).map_err(|_| corrupt("record count"))?);
        for i in 0..record_count {
            let record = decode_record(&mut r, &mut ledger, account_count, hold_count)?;
            let hash = ledger
                .hasher
                .hash_id_bytes(ledger.client_ids.get(record.client_id));
            if ledger
                .index
                .find(hash, |other| {
                    ledger
                        .record(RecordId(other))
                        .map(|o| ledger.client_ids.get(o.client_id))
                        == Some(ledger.client_ids.get(record.client_id))
                })
                .is_some()
            {
                return Err(corrupt("duplicate client id"));
            }
            ledger.index.insert(hash, i);
            ledger.records.push(record);
        }
        if version >= 2 {
            let hot_count = r.u64()?;
            for _ in 0..hot_count {
                let (id, buffer) = decode_hot(&mut r, account_count, record_count)?;
                if ledger.hot.insert(id, buffer).is_some() {
                    return Err(corrupt("duplicate hot account"));
                }
                ledger.accounts[id.index()].mode = PostingMode::Buffered;
            }
        }
        if version >= 3 {
            let split_count = r.u64()?;
            for _ in 0..split_count {
                let id = AccountId(r.u32()?);
                let parts = r.array::<1>()?[0];
                let mut subs = Vec::with_capacity(usize::from(parts));
                for _ in 0..parts {
                    let sub = AccountId(r.u32()?);
                    if u64::from(sub.0) >= account_count {
                        return Err(corrupt("sub-account of a split account"));
                    }
                    subs.push(sub);
                }
                if u64::from(id.0) >= account_count || ledger.splits.insert(id, subs).is_some() {
                    return Err(corrupt("split account"));
                }
                ledger.accounts[id.index()].mode = PostingMode::Split;
            }
        }
        if &r.array::<4>()? != END {
            return Err(corrupt("missing end marker"));
        }
        ledger
            .check_invariants()
            .map_err(|e| corrupt(&e.to_string()))?;
        Ok(ledger)
    }
}

fn corrupt(what: &str) -> SnapshotError {
    SnapshotError::Corrupt(what.to_owned())
}

fn put_u64(out: &mut impl Write, value: u64) -> io::Result<()> {
    out.write_all(&value.to_le_bytes())
}

fn put_str(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    out.write_all(&[bytes.len() as u8])?;
    out.write_all(bytes)
}

fn encode_hot(out: &mut impl Write, id: AccountId, b: &HotBuffer) -> io::Result<()> {
    out.write_all(&id.0.to_le_bytes())?;
    out.write_all(&b.options.flush_interval_ms.to_le_bytes())?;
    out.write_all(&b.options.max_entries.to_le_bytes())?;
    put_u64(out, b.options.credit_line)?;
    put_u64(out, b.pending as u64)?;
    put_u64(out, b.since)?;
    put_u64(out, b.members.len() as u64)?;
    for member in &b.members {
        put_u64(out, member.0)?;
    }
    Ok(())
}

fn decode_hot<R: Read>(
    r: &mut Reader<R>,
    accounts: u64,
    records: u64,
) -> Result<(AccountId, HotBuffer), SnapshotError> {
    let id = AccountId(r.u32()?);
    if u64::from(id.0) >= accounts {
        return Err(corrupt("hot buffer of an unknown account"));
    }
    let options = HotOptions {
        flush_interval_ms: r.u32()?,
        max_entries: r.u32()?,
        credit_line: r.u64()?,
    };
    if !options.is_valid() {
        return Err(corrupt("hot account options"));
    }
    let pending = r.u64()? as i64;
    let since = r.u64()?;
    let count = r.u64()?;
    if count > records {
        return Err(corrupt("hot buffer members"));
    }
    let mut members = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let member = r.u64()?;
        if member >= records {
            return Err(corrupt("hot buffer member record"));
        }
        members.push(RecordId(member));
    }
    Ok((
        id,
        HotBuffer {
            options,
            pending,
            since,
            members,
        },
    ))
}

fn encode_account(out: &mut impl Write, a: &Account, info: &AccountInfo) -> io::Result<()> {
    out.write_all(&a.balance.to_le_bytes())?;
    out.write_all(&a.frozen.to_le_bytes())?;
    out.write_all(&a.currency.to_bytes())?;
    out.write_all(&[a.kind as u8, a.status as u8, a.allow_negative as u8])?;
    put_str(out, info.number.as_str().as_bytes())?;
    put_u64(out, info.opened_at)?;
    put_str(out, info.opened_by.as_str().as_bytes())?;
    put_str(out, info.reference.as_bytes())?;
    put_u64(out, info.opened_record.0)
}

fn encode_hold(out: &mut impl Write, h: &Hold) -> io::Result<()> {
    out.write_all(&h.account.0.to_le_bytes())?;
    put_u64(out, h.amount)?;
    put_u64(out, h.remaining)?;
    put_u64(out, h.captured)?;
    out.write_all(&[h.expires_at.is_some() as u8])?;
    put_u64(out, h.expires_at.unwrap_or(0))?;
    out.write_all(&[h.status as u8])?;
    put_u64(out, h.record.0)
}

fn encode_record(
    out: &mut impl Write,
    r: &Record,
    ids: &ByteArena,
    refs: &ByteArena,
) -> io::Result<()> {
    put_u64(out, r.fingerprint.0[0])?;
    put_u64(out, r.fingerprint.0[1])?;
    put_u64(out, r.timestamp)?;
    put_u64(out, r.amount)?;
    out.write_all(&r.debit.0.to_le_bytes())?;
    out.write_all(&r.credit.0.to_le_bytes())?;
    out.write_all(&r.hold.0.to_le_bytes())?;
    out.write_all(&r.currency.map_or([0; 4], Currency::to_bytes))?;
    let kind = r.kind.map_or(0, |k| k as u8);
    let result = r.result.err().map_or(0, |e| e as u8);
    out.write_all(&[r.op as u8, kind, result])?;
    put_str(out, ids.get(r.client_id))?;
    put_str(out, refs.get(r.reference))
}

struct Reader<'a, R: Read>(&'a mut R);

impl<R: Read> Reader<'_, R> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut bytes = [0; N];
        self.0.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn string(&mut self) -> Result<String, SnapshotError> {
        let len = usize::from(self.u8()?);
        let mut bytes = vec![0; len];
        self.0.read_exact(&mut bytes)?;
        String::from_utf8(bytes).map_err(|_| corrupt("string is not UTF-8"))
    }

    fn account_id(&mut self, count: u64) -> Result<AccountId, SnapshotError> {
        let id = AccountId(self.u32()?);
        if id != AccountId::NONE && u64::from(id.0) >= count {
            return Err(corrupt("account id out of range"));
        }
        Ok(id)
    }
}

fn decode_account<R: Read>(r: &mut Reader<R>) -> Result<(Account, AccountInfo), SnapshotError> {
    let balance = r.i64()?;
    let frozen = r.i64()?;
    let currency = Currency::from_bytes(r.array()?).ok_or_else(|| corrupt("currency"))?;
    let kind = AccountType::from_u8(r.u8()?).ok_or_else(|| corrupt("account type"))?;
    let status = AccountStatus::from_u8(r.u8()?).ok_or_else(|| corrupt("account status"))?;
    let allow_negative = r.u8()? != 0;
    let number = AccountNo::new(&r.string()?).map_err(|_| corrupt("account number"))?;
    let opened_at = r.u64()?;
    let opened_by = Operator::new(&r.string()?).map_err(|_| corrupt("operator"))?;
    let reference = Reference::new(&r.string()?).map_err(|_| corrupt("reference"))?;
    let opened_record = RecordId(r.u64()?);
    let account = Account {
        balance,
        frozen,
        currency,
        kind,
        status,
        allow_negative,
        // Set from the hot-account and split sections, which follow.
        mode: PostingMode::Direct,
    };
    let info = AccountInfo {
        number,
        opened_at,
        opened_by,
        reference,
        opened_record,
    };
    Ok((account, info))
}

fn decode_hold<R: Read>(r: &mut Reader<R>, accounts: u64) -> Result<Hold, SnapshotError> {
    let account = r.account_id(accounts)?;
    let amount = r.u64()?;
    let remaining = r.u64()?;
    let captured = r.u64()?;
    let has_expiry = r.u8()? != 0;
    let expires_at = r.u64()?;
    let status = HoldStatus::from_u8(r.u8()?).ok_or_else(|| corrupt("hold status"))?;
    let record = RecordId(r.u64()?);
    Ok(Hold {
        account,
        amount,
        remaining,
        captured,
        expires_at: has_expiry.then_some(expires_at),
        status,
        record,
    })
}

fn decode_record<R: Read>(
    r: &mut Reader<R>,
    ledger: &mut Ledger,
    accounts: u64,
    holds: u64,
) -> Result<Record, SnapshotError> {
    let fingerprint = Fingerprint([r.u64()?, r.u64()?]);
    let timestamp = r.u64()?;
    let amount = r.u64()?;
    let debit = r.account_id(accounts)?;
    let credit = r.account_id(accounts)?;
    let hold = HoldId(r.u32()?);
    if hold != HoldId::NONE && u64::from(hold.0) >= holds {
        return Err(corrupt("hold id out of range"));
    }
    let currency_bytes: [u8; 4] = r.array()?;
    let currency = match currency_bytes {
        [0, 0, 0, 0] => None,
        bytes => Some(Currency::from_bytes(bytes).ok_or_else(|| corrupt("record currency"))?),
    };
    let op = OpKind::from_u8(r.u8()?).ok_or_else(|| corrupt("record op"))?;
    let kind = match r.u8()? {
        0 => None,
        k => Some(TransferKind::from_u8(k).ok_or_else(|| corrupt("transfer kind"))?),
    };
    let result = match r.u8()? {
        0 => Ok(()),
        e => Err(ErrorCode::from_u8(e).ok_or_else(|| corrupt("result code"))?),
    };
    let id = r.string()?;
    if id.is_empty() {
        return Err(corrupt("empty client id"));
    }
    let reference = r.string()?;
    Ok(Record {
        fingerprint,
        timestamp,
        amount,
        client_id: ledger.client_ids.push(id.as_bytes()),
        reference: ledger.references.push(reference.as_bytes()),
        debit,
        credit,
        hold,
        currency,
        op,
        kind,
        result,
    })
}
