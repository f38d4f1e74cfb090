//! Accounting's own storage: a SQLite file (`accounting.sqlite` in the data directory, WAL).
//! Every write happens in one `BEGIN IMMEDIATE` transaction through `Posting`, which numbers
//! vouchers per month, moves items dated in a closed period to the next open day, and updates
//! the per-day GL movements with them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use paycore_sqlite::{insert_rows, Binder, Wide};
use rusqlite::{
    params, Connection, OptionalExtension, Params, Row, Transaction, TransactionBehavior,
};

use crate::chart::{Class, GlAccount, Side};
use crate::posting::{Exception, FeedBatch};
use crate::voucher::{
    decode_lines, encode_lines, period_of, voucher_no, NewVoucher, Source, Voucher, VoucherLine,
};
use crate::{dates, AccountingError};

mod migrations {
    refinery::embed_migrations!("migrations");
}

/// Where the feed stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedPosition {
    pub sequence: u64,
    pub timestamp: u64,
    pub accounting_date: String,
}

pub struct Db {
    conn: Connection,
}

impl Db {
    pub fn open(path: &Path) -> Result<Db, AccountingError> {
        let mut conn = paycore_sqlite::open(path, 64 * 1024, std::time::Duration::from_secs(30))?;
        migrations::migrations::runner().run(&mut conn)?;
        Ok(Db { conn })
    }

    pub fn position(&self) -> Result<Option<FeedPosition>, AccountingError> {
        let sql = "SELECT applied_sequence, applied_timestamp, accounting_date FROM feed_state WHERE id = 1";
        Ok(self
            .conn
            .query_row(sql, [], |r| {
                Ok(FeedPosition {
                    sequence: r.get::<_, i64>(0)? as u64,
                    timestamp: r.get::<_, i64>(1)? as u64,
                    accounting_date: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// Starts a write transaction.
    pub fn begin(&mut self) -> Result<Posting<'_>, AccountingError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Posting::new(tx)
    }

    /// Writes one feed batch and the new position, atomically.
    pub fn apply_feed(&mut self, batch: FeedBatch, now: u64) -> Result<(), AccountingError> {
        let mut posting = self.begin()?;
        for voucher in batch.vouchers {
            posting.post(voucher, now)?;
        }
        for exception in &batch.exceptions {
            posting.park(exception, now)?;
        }
        posting.add_subledger(&batch.subledger)?;
        posting.set_position(&FeedPosition {
            sequence: batch.last_sequence,
            timestamp: batch.last_timestamp,
            accounting_date: batch.accounting_date.clone(),
        })?;
        posting.commit()
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The chart as stored; empty before it was first seeded.
    pub fn chart(&self) -> Result<Vec<GlAccount>, AccountingError> {
        let mut statement = self
            .conn
            .prepare("SELECT code, name, class, side, enabled FROM gl_accounts ORDER BY code")?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)? != 0,
            ))
        })?;
        let mut chart = Vec::new();
        for row in rows {
            let (code, name, class, side, enabled) = row?;
            chart.push(GlAccount {
                class: Class::parse(&class).ok_or(AccountingError::Corrupt("class"))?,
                side: Side::parse(&side).ok_or(AccountingError::Corrupt("side"))?,
                code,
                name,
                enabled,
            });
        }
        Ok(chart)
    }

    pub fn save_account(&mut self, account: &GlAccount) -> Result<(), AccountingError> {
        self.conn.execute(
            "INSERT INTO gl_accounts VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (code) DO UPDATE SET \
             name = excluded.name, enabled = excluded.enabled",
            params![
                account.code,
                account.name,
                account.class.name(),
                account.side.name(),
                account.enabled as i64
            ],
        )?;
        Ok(())
    }

    pub fn delete_account(&mut self, code: &str) -> Result<(), AccountingError> {
        self.conn
            .execute("DELETE FROM gl_accounts WHERE code = ?1", [code])?;
        Ok(())
    }

    /// Whether any voucher line was ever posted to `code`.
    pub fn account_used(&self, code: &str) -> Result<bool, AccountingError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM voucher_lines WHERE code = ?1 LIMIT 1",
                [code],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

/// One write transaction on the books.
pub struct Posting<'c> {
    tx: Transaction<'c>,
    closed: BTreeSet<String>,
    numbers: HashMap<String, u64>,
    next_id: u64,
    /// Debits, credits (wide: a day's turnover may pass i64) and lines per day and GL account.
    gl: HashMap<(String, String, String), (i128, i128, i64)>,
    /// Vouchers posted in this transaction, written by `commit` in multi-row INSERTs.
    pending: Vec<(Voucher, u64)>,
}

impl<'c> Posting<'c> {
    fn new(tx: Transaction<'c>) -> Result<Posting<'c>, AccountingError> {
        let closed = {
            let mut statement = tx.prepare("SELECT period FROM closed_periods")?;
            let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let next_id = tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM vouchers", [], |r| {
            r.get::<_, i64>(0)
        })? as u64;
        Ok(Posting {
            tx,
            closed,
            numbers: HashMap::new(),
            next_id,
            gl: HashMap::new(),
            pending: Vec::new(),
        })
    }

    pub fn is_closed(&self, date: &str) -> bool {
        self.closed.contains(date) || self.closed.contains(period_of(date))
    }

    /// The first day on or after `date` that is open for vouchers.
    pub fn open_day(&self, date: &str) -> Result<String, AccountingError> {
        let mut day = dates::parse(date).ok_or(AccountingError::Corrupt("date"))?;
        while self.is_closed(&day.to_string()) {
            day = day.next_day().ok_or(AccountingError::Corrupt("date"))?;
        }
        Ok(day.to_string())
    }

    /// Numbers and stores a voucher (moved to the next open day, with a note, when its date is
    /// closed) and adds its lines to the day's GL movements.
    pub fn post(&mut self, mut v: NewVoucher, now: u64) -> Result<&Voucher, AccountingError> {
        debug_assert!(crate::voucher::balanced(&v.lines), "vouchers balance");
        if !crate::voucher::balanced(&v.lines) {
            return Err(AccountingError::Unbalanced);
        }
        let open = self.open_day(&v.accounting_date)?;
        if open != v.accounting_date {
            let late = format!("late item: period of {} was closed", v.accounting_date);
            v.note = if v.note.is_empty() {
                late
            } else {
                format!("{}; {late}", v.note)
            };
            v.accounting_date = open;
        }
        let period = period_of(&v.accounting_date).to_owned();
        let number = self.next_number(&period)?;
        let id = self.next_id;
        self.next_id += 1;
        for line in &v.lines {
            let key = (
                v.accounting_date.clone(),
                line.code.clone(),
                v.currency.clone(),
            );
            let movement = self.gl.entry(key).or_default();
            match line.side {
                Side::Debit => movement.0 += i128::from(line.amount),
                Side::Credit => movement.1 += i128::from(line.amount),
            }
            movement.2 += 1;
        }
        let voucher = Voucher {
            id,
            voucher_no: voucher_no(&period, number),
            period,
            number,
            body: v,
        };
        self.pending.push((voucher, now));
        Ok(&self.pending.last().expect("just pushed").0)
    }

    fn next_number(&mut self, period: &str) -> Result<u64, AccountingError> {
        if !self.numbers.contains_key(period) {
            let last = self.tx.query_row(
                "SELECT COALESCE(MAX(number), 0) FROM vouchers WHERE period = ?1",
                [period],
                |r| r.get::<_, i64>(0),
            )? as u64;
            self.numbers.insert(period.to_owned(), last);
        }
        let number = self.numbers.get_mut(period).expect("inserted above");
        *number += 1;
        Ok(*number)
    }

    pub fn park(&mut self, e: &Exception, now: u64) -> Result<(), AccountingError> {
        self.tx
            .prepare_cached(
                "INSERT INTO exceptions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                 ON CONFLICT (record_id) DO UPDATE SET reason = excluded.reason",
            )?
            .execute(params![
                e.record_id as i64,
                e.client_id,
                e.kind,
                e.debit_type,
                e.debit_account_no,
                e.credit_type,
                e.credit_account_no,
                e.amount,
                e.currency,
                e.ledger_date,
                e.reason,
                now as i64
            ])?;
        Ok(())
    }

    pub fn exceptions(&self) -> Result<Vec<Exception>, AccountingError> {
        exceptions(&self.tx)
    }

    pub fn resolve(&mut self, record_id: u64) -> Result<(), AccountingError> {
        self.tx.execute(
            "DELETE FROM exceptions WHERE record_id = ?1",
            [record_id as i64],
        )?;
        Ok(())
    }

    pub fn add_subledger(
        &mut self,
        changes: &HashMap<(paycore_ledger::Date, String, String), i128>,
    ) -> Result<(), AccountingError> {
        let mut upsert = self.tx.prepare_cached(
            "INSERT INTO subledger_daily VALUES (?1, ?2, ?3, ?4) ON CONFLICT (accounting_date, code, currency) \
             DO UPDATE SET change = wide_add(change, excluded.change)",
        )?;
        for ((date, code, currency), change) in changes {
            upsert.execute(params![date.to_string(), code, currency, Wide(*change)])?;
        }
        Ok(())
    }

    pub fn set_position(&mut self, p: &FeedPosition) -> Result<(), AccountingError> {
        self.tx.execute(
            "INSERT INTO feed_state VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET \
             applied_sequence = excluded.applied_sequence, applied_timestamp = excluded.applied_timestamp, \
             accounting_date = excluded.accounting_date",
            params![p.sequence as i64, p.timestamp as i64, p.accounting_date],
        )?;
        Ok(())
    }

    /// A stored non-ledger voucher with this client id, if any.
    pub fn manual_voucher(&self, client_id: &str) -> Result<Option<Voucher>, AccountingError> {
        let id = self
            .tx
            .query_row(
                "SELECT id FROM vouchers WHERE client_id = ?1 AND source <> 'ledger'",
                [client_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?;
        match id {
            Some(id) => voucher(&self.tx, id as u64),
            None => Ok(None),
        }
    }

    pub fn voucher(&self, id: u64) -> Result<Option<Voucher>, AccountingError> {
        voucher(&self.tx, id)
    }

    /// Whether a reversal of voucher `id` exists.
    pub fn reversal_of(&self, id: u64) -> Result<Option<u64>, AccountingError> {
        Ok(self
            .tx
            .query_row(
                "SELECT id FROM vouchers WHERE reverses = ?1",
                [id as i64],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|id| id as u64))
    }

    pub fn close_period(
        &mut self,
        period: &str,
        now: u64,
    ) -> Result<(u64, i128, i128), AccountingError> {
        let pattern = if period.len() == 7 {
            format!("{period}-%")
        } else {
            period.to_owned()
        };
        let vouchers = self.tx.query_row(
            "SELECT COUNT(DISTINCT voucher_id) FROM voucher_lines WHERE accounting_date LIKE ?1",
            [&pattern],
            |r| r.get::<_, i64>(0),
        )?;
        // The period's lines are its days' GL movements, one sum over them all.
        let totals = sum_wide(
            &self.tx,
            "SELECT debit, credit FROM gl_daily WHERE accounting_date LIKE ?1",
            [&pattern],
            |_| Ok(()),
        )?;
        let [debit, credit] = totals.get(&()).copied().unwrap_or_default();
        self.tx.execute(
            "INSERT INTO closed_periods VALUES (?1, ?2, ?3, ?4, ?5)",
            params![period, now as i64, vouchers, Wide(debit), Wide(credit)],
        )?;
        self.closed.insert(period.to_owned());
        Ok((vouchers as u64, debit, credit))
    }

    /// Writes the vouchers and GL movements gathered by `post`, and commits.
    pub fn commit(self) -> Result<(), AccountingError> {
        insert_rows(&self.tx, "vouchers", 16, &self.pending, bind_voucher)?;
        let lines: Vec<LineRow<'_>> = self
            .pending
            .iter()
            .flat_map(|(v, _)| {
                v.body
                    .lines
                    .iter()
                    .enumerate()
                    .map(move |(index, line)| LineRow(v, index, line))
            })
            .collect();
        insert_rows(&self.tx, "voucher_lines", 7, &lines, bind_line)?;
        {
            let mut upsert = self.tx.prepare_cached(
                "INSERT INTO gl_daily VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (accounting_date, code, currency) \
                 DO UPDATE SET debit = wide_add(debit, excluded.debit), credit = wide_add(credit, excluded.credit), lines = lines + excluded.lines",
            )?;
            for ((date, code, currency), (debit, credit, lines)) in &self.gl {
                upsert.execute(params![
                    date,
                    code,
                    currency,
                    Wide(*debit),
                    Wide(*credit),
                    lines
                ])?;
            }
        }
        self.tx.commit()?;
        Ok(())
    }
}

pub(crate) fn exceptions(conn: &Connection) -> Result<Vec<Exception>, AccountingError> {
    let mut statement = conn.prepare(
        "SELECT record_id, client_id, kind, debit_type, debit_account_no, credit_type, credit_account_no, \
         amount, currency, ledger_date, reason FROM exceptions ORDER BY record_id",
    )?;
    let rows = statement.query_map([], |r| {
        Ok(Exception {
            record_id: r.get::<_, i64>(0)? as u64,
            client_id: r.get(1)?,
            kind: r.get(2)?,
            debit_type: r.get(3)?,
            debit_account_no: r.get(4)?,
            credit_type: r.get(5)?,
            credit_account_no: r.get(6)?,
            amount: r.get(7)?,
            currency: r.get(8)?,
            ledger_date: r.get(9)?,
            reason: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) const VOUCHER_COLUMNS: &str = "id, period, number, accounting_date, ledger_date, source, record_id, client_id, kind, rule, rules_version, currency, reverses, note, lines";

fn bind_voucher<'r>(b: &mut Binder<'r>, (v, now): &'r (Voucher, u64)) {
    b.int(v.id as i64);
    b.text(&v.period);
    b.int(v.number as i64);
    b.text(&v.body.accounting_date);
    b.opt_text(v.body.ledger_date.as_deref());
    b.text(v.body.source.name());
    b.opt_int(v.body.record_id.map(|r| r as i64));
    b.text(&v.body.client_id);
    b.opt_text(v.body.kind.as_deref());
    b.opt_text(v.body.rule.as_deref());
    b.int(i64::from(v.body.rules_version));
    b.text(&v.body.currency);
    b.opt_int(v.body.reverses.map(|r| r as i64));
    b.text(&v.body.note);
    b.int(*now as i64);
    b.text_copied(&encode_lines(&v.body.lines));
}

/// One line of a voucher, as `voucher_lines` stores it.
struct LineRow<'a>(&'a Voucher, usize, &'a VoucherLine);

fn bind_line<'r>(b: &mut Binder<'r>, LineRow(v, index, line): &'r LineRow<'_>) {
    b.text(&line.code);
    b.text(&v.body.accounting_date);
    b.int(v.id as i64);
    b.int(*index as i64);
    b.text(line.side.name());
    b.int(line.amount);
    b.text(&v.body.currency);
}

/// A voucher row without its lines.
pub(crate) fn voucher_row(r: &rusqlite::Row) -> rusqlite::Result<Voucher> {
    let period: String = r.get(1)?;
    let number = r.get::<_, i64>(2)? as u64;
    let source: String = r.get(5)?;
    Ok(Voucher {
        id: r.get::<_, i64>(0)? as u64,
        voucher_no: voucher_no(&period, number),
        period,
        number,
        body: NewVoucher {
            accounting_date: r.get(3)?,
            ledger_date: r.get(4)?,
            source: Source::parse(&source).unwrap_or(Source::Manual),
            record_id: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
            client_id: r.get(7)?,
            kind: r.get(8)?,
            rule: r.get(9)?,
            rules_version: r.get(10)?,
            currency: r.get(11)?,
            reverses: r.get::<_, Option<i64>>(12)?.map(|v| v as u64),
            note: r.get(13)?,
            lines: decode_lines(&r.get::<_, String>(14)?).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    14,
                    rusqlite::types::Type::Text,
                    "voucher lines are not `<D|C> <code> <amount>;…`".into(),
                )
            })?,
        },
    })
}

pub(crate) fn voucher(conn: &Connection, id: u64) -> Result<Option<Voucher>, AccountingError> {
    let sql = format!("SELECT {VOUCHER_COLUMNS} FROM vouchers WHERE id = ?1");
    Ok(conn.query_row(&sql, [id as i64], voucher_row).optional()?)
}

/// Sums the `N` wide columns that follow the key columns of each row of `sql`, per key, in
/// i128: these columns may pass i64 and SQLite's SUM would fail or turn to REAL there.
pub(crate) fn sum_wide<K: Ord, const N: usize>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    key: impl Fn(&Row<'_>) -> rusqlite::Result<K>,
) -> Result<BTreeMap<K, [i128; N]>, AccountingError> {
    let mut statement = conn.prepare_cached(sql)?;
    let first = statement.column_count() - N;
    let mut rows = statement.query(params)?;
    let mut sums: BTreeMap<K, [i128; N]> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let sum = sums.entry(key(r)?).or_insert([0; N]);
        for (i, total) in sum.iter_mut().enumerate() {
            *total += r.get::<_, Wide>(first + i)?.0;
        }
    }
    Ok(sums)
}
