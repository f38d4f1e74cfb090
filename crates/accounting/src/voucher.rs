//! Vouchers (记账凭证): balanced, immutable, numbered per period (month), dated by the
//! ledger's accounting date. Corrections are red-letter reversals (红字冲销: the same lines with
//! negated amounts) plus a new voucher. Pure: the balance rule and numbering format.

use crate::chart::Side;

/// Where a voucher came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Posted by the feed from a ledger transaction (原始凭证), keyed by its record.
    Ledger,
    /// Entered by a person through the API.
    Manual,
    /// A red-letter reversal of another voucher.
    Reversal,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Ledger => "ledger",
            Source::Manual => "manual",
            Source::Reversal => "reversal",
        }
    }

    pub fn parse(name: &str) -> Option<Source> {
        [Source::Ledger, Source::Manual, Source::Reversal]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherLine {
    pub code: String,
    pub side: Side,
    /// Minor units; negative only in a red-letter reversal.
    pub amount: i64,
}

/// A stored voucher: its number and what it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voucher {
    pub id: u64,
    /// `<period>-<number>`, e.g. `2026-11-000042`.
    pub voucher_no: String,
    /// The month (`YYYY-MM`) it is numbered in.
    pub period: String,
    pub number: u64,
    pub body: NewVoucher,
}

/// What a voucher carries besides its number: all a voucher about to be numbered and stored
/// has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewVoucher {
    /// The accounting date it is booked on.
    pub accounting_date: String,
    /// The ledger's accounting date of the transaction (every ledger voucher; it differs from
    /// `accounting_date` for a late item booked in the next open period).
    pub ledger_date: Option<String>,
    pub source: Source,
    pub record_id: Option<u64>,
    /// The ledger transaction's id, or the id the API client gave a manual voucher.
    pub client_id: String,
    pub kind: Option<String>,
    pub rule: Option<String>,
    pub rules_version: u32,
    pub currency: String,
    pub reverses: Option<u64>,
    pub note: String,
    pub lines: Vec<VoucherLine>,
}

/// Total debits and credits of some lines, or `None` on overflow.
pub fn totals(lines: &[VoucherLine]) -> Option<(i64, i64)> {
    let (mut debit, mut credit) = (0i64, 0i64);
    for line in lines {
        let total = match line.side {
            Side::Debit => &mut debit,
            Side::Credit => &mut credit,
        };
        *total = total.checked_add(line.amount)?;
    }
    Some((debit, credit))
}

/// A voucher balances when it has lines on both sides and debits equal credits.
pub fn balanced(lines: &[VoucherLine]) -> bool {
    let both_sides =
        lines.iter().any(|l| l.side == Side::Debit) && lines.iter().any(|l| l.side == Side::Credit);
    both_sides && totals(lines).is_some_and(|(d, c)| d == c)
}

/// The month a date (`YYYY-MM-DD`) is numbered in.
pub fn period_of(date: &str) -> &str {
    &date[..7]
}

pub fn voucher_no(period: &str, number: u64) -> String {
    format!("{period}-{number:06}")
}

/// The red-letter reversal of `original`'s lines.
pub fn reversed(lines: &[VoucherLine]) -> Vec<VoucherLine> {
    lines
        .iter()
        .map(|l| VoucherLine {
            code: l.code.clone(),
            side: l.side,
            amount: -l.amount,
        })
        .collect()
}

/// Lines as stored with their voucher: `<D|C> <code> <amount>` joined by `;`.
pub fn encode_lines(lines: &[VoucherLine]) -> String {
    let mut text = String::with_capacity(lines.len() * 24);
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            text.push(';');
        }
        let side = match line.side {
            Side::Debit => 'D',
            Side::Credit => 'C',
        };
        use std::fmt::Write as _;
        let _ = write!(text, "{side} {} {}", line.code, line.amount);
    }
    text
}

/// The inverse of `encode_lines`; `None` if the text is not in that form.
pub fn decode_lines(text: &str) -> Option<Vec<VoucherLine>> {
    text.split(';')
        .map(|line| {
            let mut parts = line.split(' ');
            let side = match parts.next()? {
                "D" => Side::Debit,
                "C" => Side::Credit,
                _ => return None,
            };
            let code = parts.next()?.to_owned();
            let amount = parts.next()?.parse().ok()?;
            parts
                .next()
                .is_none()
                .then_some(VoucherLine { code, side, amount })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(code: &str, side: Side, amount: i64) -> VoucherLine {
        VoucherLine {
            code: code.into(),
            side,
            amount,
        }
    }

    #[test]
    fn balance_needs_both_sides_and_equal_totals() {
        let lines = [
            line("10020101", Side::Debit, 100),
            line("22010101", Side::Credit, 60),
            line("60210101", Side::Credit, 40),
        ];
        assert!(balanced(&lines));
        assert!(balanced(&reversed(&lines)));
        assert!(!balanced(&lines[..2]));
        assert!(!balanced(&[line("1", Side::Debit, 0)]));
        assert!(!balanced(&[
            line("a", Side::Debit, i64::MAX),
            line("a", Side::Debit, 1),
            line("b", Side::Credit, 1),
        ]));
        assert_eq!(voucher_no(period_of("2026-11-26"), 42), "2026-11-000042");
        let text = encode_lines(&reversed(&lines));
        assert_eq!(text, "D 10020101 -100;C 22010101 -60;C 60210101 -40");
        assert_eq!(decode_lines(&text).unwrap(), reversed(&lines));
        assert!(decode_lines("X 1 2").is_none() && decode_lines("D 1 2 3").is_none());
    }
}
