//! Binary encoding of commands in the log body. Compact (a transfer between accounts named by
//! id is 50 bytes plus its client id) and independent of in-memory layout.
//!
//! Every string is length-prefixed, every optional field has a presence byte, every enum is
//! its stored discriminant. Decoding validates all of it: a record that passed its checksum
//! but does not decode is reported as corruption, never silently skipped.

use paycore_ledger::{
    AccountId, AccountKey, AccountNo, AccountType, Capture, ClientId, Command, Currency, Date,
    Fingerprint, Freeze, HotOptions, IdHasher, Op, OpenAccount, Operator, Reference, Transfer,
    TransferKind, Unfreeze,
};

const LINKED: u8 = 0x80;

mod tag {
    pub const OPEN: u8 = 1;
    pub const CLOSE: u8 = 2;
    pub const SET_FROZEN: u8 = 3;
    pub const TRANSFER: u8 = 4;
    pub const FREEZE: u8 = 5;
    pub const UNFREEZE: u8 = 6;
    pub const CAPTURE: u8 = 7;
    pub const DAY_END: u8 = 8;
    pub const SET_HOT: u8 = 9;
    pub const SPLIT: u8 = 10;
}

/// Largest encoding of one command, for sizing buffers and checking record lengths.
pub const COMMAND_BYTES_MAX: usize = 512;

pub fn encode(command: &Command, out: &mut Vec<u8>) {
    let start = out.len();
    let (op_tag, linked) = (op_tag(&command.op), if command.linked { LINKED } else { 0 });
    out.push(op_tag | linked);
    put_str(out, command.id.as_bytes());
    out.extend_from_slice(&command.fingerprint.0[0].to_le_bytes());
    out.extend_from_slice(&command.fingerprint.0[1].to_le_bytes());
    match &command.op {
        Op::OpenAccount(o) => {
            put_str(out, o.number.as_str().as_bytes());
            out.push(o.kind as u8);
            out.extend_from_slice(&o.currency.to_bytes());
            out.push(match o.allow_negative {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            });
            put_str(out, o.reference.as_bytes());
            put_str(out, o.opened_by.as_str().as_bytes());
        }
        Op::CloseAccount { account } => put_key(out, account),
        Op::SetAccountFrozen { account, frozen } => {
            put_key(out, account);
            out.push(u8::from(*frozen));
        }
        Op::Transfer(t) => {
            put_key(out, &t.debit);
            put_key(out, &t.credit);
            out.extend_from_slice(&t.amount.to_le_bytes());
            out.extend_from_slice(&t.currency.to_bytes());
            out.push(t.kind as u8);
            put_str(out, t.reference.as_bytes());
        }
        Op::Freeze(f) => {
            put_key(out, &f.account);
            out.extend_from_slice(&f.amount.to_le_bytes());
            match f.currency {
                Some(c) => {
                    out.push(1);
                    out.extend_from_slice(&c.to_bytes());
                }
                None => out.push(0),
            }
            put_optional(out, f.expires_at);
            put_str(out, f.reference.as_bytes());
        }
        Op::Unfreeze(u) => {
            put_str(out, u.hold.as_bytes());
            put_optional(out, u.amount);
        }
        Op::Capture(c) => {
            put_str(out, c.hold.as_bytes());
            put_key(out, &c.credit);
            put_optional(out, c.amount);
            out.push(c.kind as u8);
            put_str(out, c.reference.as_bytes());
        }
        Op::DayEnd { date } => out.extend_from_slice(&date.to_julian_day().to_le_bytes()),
        Op::SplitAccount { account, parts } => {
            put_key(out, account);
            out.push(*parts);
        }
        Op::SetHot { account, options } => {
            put_key(out, account);
            match options {
                None => out.push(0),
                Some(o) => {
                    out.push(1);
                    out.extend_from_slice(&o.flush_interval_ms.to_le_bytes());
                    out.extend_from_slice(&o.max_entries.to_le_bytes());
                    out.extend_from_slice(&o.credit_line.to_le_bytes());
                }
            }
        }
    }
    debug_assert!(out.len() - start <= COMMAND_BYTES_MAX);
}

fn op_tag(op: &Op) -> u8 {
    match op {
        Op::OpenAccount(_) => tag::OPEN,
        Op::CloseAccount { .. } => tag::CLOSE,
        Op::SetAccountFrozen { .. } => tag::SET_FROZEN,
        Op::Transfer(_) => tag::TRANSFER,
        Op::Freeze(_) => tag::FREEZE,
        Op::Unfreeze(_) => tag::UNFREEZE,
        Op::Capture(_) => tag::CAPTURE,
        Op::DayEnd { .. } => tag::DAY_END,
        Op::SetHot { .. } => tag::SET_HOT,
        Op::SplitAccount { .. } => tag::SPLIT,
    }
}

fn put_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

fn put_key(out: &mut Vec<u8>, key: &AccountKey) {
    match key {
        AccountKey::Id(id) => {
            out.push(0);
            out.extend_from_slice(&id.0.to_le_bytes());
        }
        AccountKey::No(number) => {
            out.push(1);
            put_str(out, number.as_str().as_bytes());
        }
    }
}

fn put_optional(out: &mut Vec<u8>, value: Option<u64>) {
    match value {
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_le_bytes());
        }
        None => out.push(0),
    }
}

/// Why bytes did not decode into a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable command at byte {offset}: {reason}")]
pub struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Decodes a whole record body into `commands` (cleared first), checking the count against the
/// header's.
pub fn decode_batch(
    body: &[u8],
    command_count: u32,
    commands_max: usize,
    hasher: IdHasher,
    commands: &mut Vec<Command>,
) -> Result<(), String> {
    commands.clear();
    let mut decoder = Decoder::new(body, hasher);
    while !decoder.is_at_end() {
        commands.push(decoder.next_command().map_err(|e| e.to_string())?);
    }
    if commands.len() != command_count as usize || commands.len() > commands_max {
        return Err(format!(
            "record holds {} commands, header says {command_count}",
            commands.len()
        ));
    }
    Ok(())
}

/// Decodes commands one after another from a log body.
pub struct Decoder<'a> {
    bytes: &'a [u8],
    position: usize,
    hasher: IdHasher,
}

impl<'a> Decoder<'a> {
    pub fn new(bytes: &'a [u8], hasher: IdHasher) -> Decoder<'a> {
        Decoder {
            bytes,
            position: 0,
            hasher,
        }
    }

    pub fn next_command(&mut self) -> Result<Command, DecodeError> {
        let head = self.u8()?;
        let linked = head & LINKED != 0;
        let id = self.client_id()?;
        let fingerprint = Fingerprint([self.u64()?, self.u64()?]);
        let op = match head & !LINKED {
            tag::OPEN => Op::OpenAccount(self.open()?),
            tag::CLOSE => Op::CloseAccount {
                account: self.key()?,
            },
            tag::SET_FROZEN => Op::SetAccountFrozen {
                account: self.key()?,
                frozen: self.u8()? != 0,
            },
            tag::TRANSFER => Op::Transfer(self.transfer()?),
            tag::FREEZE => Op::Freeze(self.freeze()?),
            tag::UNFREEZE => Op::Unfreeze(Unfreeze {
                hold: self.client_id()?,
                amount: self.optional()?,
            }),
            tag::CAPTURE => Op::Capture(self.capture()?),
            tag::DAY_END => {
                let julian = i32::from_le_bytes(self.array()?);
                Op::DayEnd {
                    date: Date::from_julian_day(julian).map_err(|_| self.error("date"))?,
                }
            }
            tag::SPLIT => Op::SplitAccount {
                account: self.key()?,
                parts: self.u8()?,
            },
            tag::SET_HOT => Op::SetHot {
                account: self.key()?,
                options: self.hot_options()?,
            },
            _ => return Err(self.error("unknown command tag")),
        };
        Ok(Command {
            id,
            linked,
            fingerprint,
            op,
        })
    }

    pub fn is_at_end(&self) -> bool {
        self.position == self.bytes.len()
    }

    fn open(&mut self) -> Result<OpenAccount, DecodeError> {
        let number = AccountNo::new(self.str()?).map_err(|_| self.error("account number"))?;
        let kind = AccountType::from_u8(self.u8()?).ok_or_else(|| self.error("account type"))?;
        let currency = self.currency()?;
        let allow_negative = match self.u8()? {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return Err(self.error("allow_negative")),
        };
        let reference = self.reference()?;
        let opened_by = Operator::new(self.str()?).map_err(|_| self.error("operator"))?;
        Ok(OpenAccount {
            number,
            kind,
            currency,
            allow_negative,
            reference,
            opened_by,
        })
    }

    fn transfer(&mut self) -> Result<Transfer, DecodeError> {
        Ok(Transfer {
            debit: self.key()?,
            credit: self.key()?,
            amount: self.u64()?,
            currency: self.currency()?,
            kind: self.kind()?,
            reference: self.reference()?,
        })
    }

    fn freeze(&mut self) -> Result<Freeze, DecodeError> {
        let account = self.key()?;
        let amount = self.u64()?;
        let currency = match self.u8()? {
            0 => None,
            1 => Some(self.currency()?),
            _ => return Err(self.error("currency presence")),
        };
        Ok(Freeze {
            account,
            amount,
            currency,
            expires_at: self.optional()?,
            reference: self.reference()?,
        })
    }

    fn capture(&mut self) -> Result<Capture, DecodeError> {
        Ok(Capture {
            hold: self.client_id()?,
            credit: self.key()?,
            amount: self.optional()?,
            kind: self.kind()?,
            reference: self.reference()?,
        })
    }

    fn error(&self, reason: &'static str) -> DecodeError {
        DecodeError {
            offset: self.position,
            reason,
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .position
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| self.error("truncated"))?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        Ok(self
            .take(N)?
            .try_into()
            .expect("take returns exactly N bytes"))
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let len = usize::from(self.u8()?);
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| self.error("string is not UTF-8"))
    }

    fn client_id(&mut self) -> Result<ClientId, DecodeError> {
        let text = self.str()?;
        self.hasher
            .client_id(text)
            .map_err(|_| self.error("client id"))
    }

    fn reference(&mut self) -> Result<Reference, DecodeError> {
        Reference::new(self.str()?).map_err(|_| self.error("reference"))
    }

    fn currency(&mut self) -> Result<Currency, DecodeError> {
        Currency::from_bytes(self.array()?).ok_or_else(|| self.error("currency"))
    }

    fn kind(&mut self) -> Result<TransferKind, DecodeError> {
        TransferKind::from_u8(self.u8()?).ok_or_else(|| self.error("transfer kind"))
    }

    fn key(&mut self) -> Result<AccountKey, DecodeError> {
        match self.u8()? {
            0 => Ok(AccountKey::Id(AccountId(u32::from_le_bytes(self.array()?)))),
            1 => Ok(AccountKey::No(
                AccountNo::new(self.str()?).map_err(|_| self.error("account number"))?,
            )),
            _ => Err(self.error("account key tag")),
        }
    }

    fn hot_options(&mut self) -> Result<Option<HotOptions>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(HotOptions {
                flush_interval_ms: u32::from_le_bytes(self.array()?),
                max_entries: u32::from_le_bytes(self.array()?),
                credit_line: self.u64()?,
            })),
            _ => Err(self.error("hot options presence")),
        }
    }

    fn optional(&mut self) -> Result<Option<u64>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u64()?)),
            _ => Err(self.error("optional presence")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> IdHasher {
        IdHasher::new([3; 16])
    }

    fn sample_commands() -> Vec<Command> {
        let h = hasher();
        let id = |s: &str| h.client_id(s).unwrap();
        let no = |s: &str| AccountKey::No(AccountNo::new(s).unwrap());
        let ops = vec![
            Op::OpenAccount(OpenAccount {
                number: AccountNo::new("A-1").unwrap(),
                kind: AccountType::Merchant,
                currency: Currency::CNY,
                allow_negative: Some(true),
                reference: Reference::new("商户").unwrap(),
                opened_by: Operator::new("alice").unwrap(),
            }),
            Op::CloseAccount {
                account: AccountKey::Id(AccountId(7)),
            },
            Op::SetAccountFrozen {
                account: no("B"),
                frozen: true,
            },
            Op::Transfer(Transfer {
                debit: AccountKey::Id(AccountId(1)),
                credit: no("C"),
                amount: u64::MAX,
                currency: Currency::JPY,
                kind: TransferKind::Refund,
                reference: Reference::NONE,
            }),
            Op::Freeze(Freeze {
                account: no("A"),
                amount: 5,
                currency: None,
                expires_at: Some(99),
                reference: Reference::NONE,
            }),
            Op::Unfreeze(Unfreeze {
                hold: id("h1"),
                amount: None,
            }),
            Op::Capture(Capture {
                hold: id("h1"),
                credit: no("D"),
                amount: Some(3),
                kind: TransferKind::Payment,
                reference: Reference::new("r").unwrap(),
            }),
            Op::DayEnd {
                date: Date::from_calendar_date(2026, time::Month::November, 26).unwrap(),
            },
            Op::SetHot {
                account: no("M"),
                options: Some(HotOptions {
                    flush_interval_ms: 1_000,
                    max_entries: 500,
                    credit_line: 7,
                }),
            },
            Op::SetHot {
                account: AccountKey::Id(AccountId(3)),
                options: None,
            },
            Op::SplitAccount {
                account: no("M"),
                parts: 8,
            },
        ];
        ops.into_iter()
            .enumerate()
            .map(|(i, op)| Command::new(id(&format!("cmd-{i}")), op, &h).linked(i % 2 == 0))
            .collect()
    }

    #[test]
    fn every_command_round_trips() {
        let commands = sample_commands();
        let mut bytes = Vec::new();
        for c in &commands {
            encode(c, &mut bytes);
        }
        let mut decoder = Decoder::new(&bytes, hasher());
        for c in &commands {
            assert_eq!(&decoder.next_command().unwrap(), c);
        }
        assert!(decoder.is_at_end());
    }

    #[test]
    fn truncated_or_mangled_input_is_an_error_not_a_panic() {
        let mut bytes = Vec::new();
        for c in &sample_commands() {
            encode(c, &mut bytes);
        }
        for len in 0..bytes.len() {
            let mut decoder = Decoder::new(&bytes[..len], hasher());
            while !decoder.is_at_end() {
                if decoder.next_command().is_err() {
                    break;
                }
            }
        }
        for i in 0..bytes.len() {
            let mut mangled = bytes.clone();
            mangled[i] ^= 0xFF;
            let mut decoder = Decoder::new(&mangled, hasher());
            while !decoder.is_at_end() {
                if decoder.next_command().is_err() {
                    break;
                }
            }
        }
    }
}
