//! `Books`: the accounting service the API, CLI and benches use. It owns the configuration
//! (chart + rules, replaced whole), a connection for reads and manual writes, and the feed's
//! status. Every write goes through `db::Posting` in one transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use paycore_sqlite::Wide;
use rusqlite::{params, Connection, OptionalExtension, Params, Row};

use crate::chart::{default_chart, level_of, parent_of, Chart, Class, GlAccount, Side};
use crate::db::{self, Db, FeedPosition};
use crate::feed::FeedStatus;
use crate::posting::{lines, Exception};
use crate::reports::{self, ControlCheck, ReserveRow, Sums, TrialRow, TrialTotals};
use crate::rules::{LedgerSide, Rules, DEFAULT_RULES};
use crate::voucher::{balanced, reversed, NewVoucher, Source, Voucher, VoucherLine};
use crate::{dates, now_nanos, AccountingError, Config};

/// Longest idempotency id of a manual voucher or a reversal, in bytes.
pub const VOUCHER_ID_BYTES_MAX: usize = 128;
const RULES_FILE: &str = "rules.toml";
/// Vouchers per page at most.
pub const VOUCHER_PAGE_MAX: usize = 1_000;
/// Days in one reserve report at most.
const REPORT_DAYS_MAX: usize = 366;
/// Reserve funds: the leaves under 备付金存款.
pub const RESERVE_PREFIX: &str = "100201";

pub struct Books {
    dir: PathBuf,
    db: Mutex<Db>,
    config: RwLock<Arc<Config>>,
    status: Arc<FeedStatus>,
}

/// A new account of the chart; class and side default to the parent's.
#[derive(Clone, Debug)]
pub struct NewGlAccount {
    pub code: String,
    pub name: String,
    pub class: Option<Class>,
    pub side: Option<Side>,
}

#[derive(Clone, Debug, Default)]
pub struct VoucherQuery {
    pub date: Option<String>,
    pub account: Option<String>,
    pub after: Option<u64>,
    pub limit: usize,
}

/// A voucher entered by a person; `id` makes retries safe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManualVoucher {
    pub id: String,
    pub date: Option<String>,
    pub currency: String,
    pub note: String,
    pub lines: Vec<VoucherLine>,
}

#[derive(Clone, Debug)]
pub struct TrialBalance {
    pub from: String,
    pub to: String,
    pub currency: String,
    pub rows: Vec<TrialRow>,
    pub totals: TrialTotals,
}

#[derive(Clone, Debug)]
pub struct GlCheck {
    pub date: String,
    pub checked: Vec<ControlCheck>,
    /// Empty when the GL and the sub-ledger agree.
    pub differences: Vec<ControlCheck>,
    /// Ledger transactions of this date or earlier still waiting for a posting rule: they
    /// move the sub-ledger but not yet the GL.
    pub unposted: Vec<Exception>,
}

#[derive(Clone, Debug)]
pub struct ReserveReport {
    pub from: String,
    pub to: String,
    pub rows: Vec<ReserveRow>,
}

#[derive(Clone, Debug)]
pub struct ClosedPeriod {
    pub period: String,
    pub closed_at: u64,
    pub vouchers: u64,
    pub debit: i128,
    pub credit: i128,
}

impl Books {
    /// Opens (creating on first use) the books under `<data_dir>/accounting`: the default
    /// chart and rules are written the first time.
    pub fn open(data_dir: &Path) -> Result<Books, AccountingError> {
        let dir = data_dir.join("accounting");
        std::fs::create_dir_all(&dir)?;
        let mut db = Db::open(&dir.join("accounting.sqlite"))?;
        let mut chart = db.chart()?;
        if chart.is_empty() {
            chart = default_chart();
            for account in &chart {
                db.save_account(account)?;
            }
        }
        let rules_path = dir.join(RULES_FILE);
        if !rules_path.exists() {
            write_durably(&rules_path, DEFAULT_RULES)?;
        }
        let rules = Rules::parse(&std::fs::read_to_string(&rules_path)?)?;
        let chart = Chart::new(chart);
        rules.validate(&chart)?;
        Ok(Books {
            dir,
            db: Mutex::new(db),
            config: RwLock::new(Arc::new(Config { chart, rules })),
            status: Arc::new(FeedStatus::default()),
        })
    }

    /// A separate connection for the feed's writes.
    pub(crate) fn open_writer(&self) -> Result<Db, AccountingError> {
        Db::open(&self.dir.join("accounting.sqlite"))
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.read().clone()
    }

    pub fn status(&self) -> &Arc<FeedStatus> {
        &self.status
    }

    pub fn position(&self) -> Result<Option<FeedPosition>, AccountingError> {
        self.db.lock().position()
    }

    /// The ledger's accounting date as far as the feed has followed it.
    fn current_date(&self) -> Result<Option<String>, AccountingError> {
        Ok(self.position()?.map(|p| p.accounting_date))
    }

    // ----- chart -----

    pub fn create_account(&self, new: NewGlAccount) -> Result<GlAccount, AccountingError> {
        let level = level_of(&new.code).ok_or_else(|| {
            AccountingError::InvalidAccount(format!(
                "code {:?} must have 4, 6 or 8 digits",
                new.code
            ))
        })?;
        check_account_name(&new.name)?;
        let mut config = self.config.write();
        if config.chart.get(&new.code).is_some() {
            return Err(AccountingError::AccountExists(new.code));
        }
        let mut db = self.db.lock();
        let parent = match parent_of(&new.code) {
            Some(parent) => {
                let parent_account = config.chart.get(parent).ok_or_else(|| {
                    AccountingError::InvalidAccount(format!("parent account {parent} is missing"))
                })?;
                if db.account_used(parent)? {
                    return Err(AccountingError::AccountInUse(parent.to_owned()));
                }
                Some(parent_account.clone())
            }
            None => None,
        };
        let (class, side) = match (&parent, new.class, new.side) {
            (Some(p), class, side) => (class.unwrap_or(p.class), side.unwrap_or(p.side)),
            (None, Some(class), Some(side)) => (class, side),
            (None, _, _) => {
                return Err(AccountingError::InvalidAccount(format!(
                    "a level-{level} account needs a class and a side"
                )))
            }
        };
        if parent.as_ref().is_some_and(|p| p.class != class) {
            return Err(AccountingError::InvalidAccount(
                "a sub-account has its parent's class".into(),
            ));
        }
        let account = GlAccount {
            code: new.code,
            name: new.name,
            class,
            side,
            enabled: true,
        };
        db.save_account(&account)?;
        let mut chart = config.chart.clone();
        chart.insert(account.clone());
        *config = Arc::new(Config {
            chart,
            rules: config.rules.clone(),
        });
        Ok(account)
    }

    /// Renames, disables or enables an account.
    pub fn update_account(
        &self,
        code: &str,
        name: Option<String>,
        enabled: Option<bool>,
    ) -> Result<GlAccount, AccountingError> {
        let mut config = self.config.write();
        let mut account = config
            .chart
            .get(code)
            .cloned()
            .ok_or_else(|| AccountingError::AccountNotFound(code.to_owned()))?;
        if let Some(name) = name {
            check_account_name(&name)?;
            account.name = name;
        }
        if let Some(enabled) = enabled {
            account.enabled = enabled;
        }
        self.db.lock().save_account(&account)?;
        let mut chart = config.chart.clone();
        chart.insert(account.clone());
        *config = Arc::new(Config {
            chart,
            rules: config.rules.clone(),
        });
        Ok(account)
    }

    /// Deletes an account never used: no postings, no sub-accounts, not named by the rules.
    pub fn delete_account(&self, code: &str) -> Result<(), AccountingError> {
        let mut config = self.config.write();
        if config.chart.get(code).is_none() {
            return Err(AccountingError::AccountNotFound(code.to_owned()));
        }
        let mut db = self.db.lock();
        let named = config.rules.controls.iter().any(|c| c.code == code)
            || config
                .rules
                .rules
                .iter()
                .any(|r| r.lines.iter().any(|l| l.account == code));
        if named || config.chart.has_children(code) || db.account_used(code)? {
            return Err(AccountingError::AccountInUse(code.to_owned()));
        }
        db.delete_account(code)?;
        let mut chart = config.chart.clone();
        chart.remove(code);
        *config = Arc::new(Config {
            chart,
            rules: config.rules.clone(),
        });
        Ok(())
    }

    // ----- rules and exceptions -----

    /// Replaces the rules (validated against the chart) under the next version, keeping the
    /// previous file as `rules-v<N>.toml`, then retries the exception queue.
    pub fn replace_rules(&self, text: &str) -> Result<(Rules, usize, usize), AccountingError> {
        let mut rules = Rules::parse(text)?;
        {
            let mut config = self.config.write();
            rules.validate(&config.chart)?;
            let previous = config.rules.version;
            rules.version = previous + 1;
            let path = self.dir.join(RULES_FILE);
            std::fs::copy(&path, self.dir.join(format!("rules-v{previous}.toml")))?;
            write_durably(&path, &rules.to_toml())?;
            *config = Arc::new(Config {
                chart: config.chart.clone(),
                rules: rules.clone(),
            });
        }
        let (posted, remaining) = self.retry_exceptions()?;
        Ok((rules, posted, remaining))
    }

    /// Posts every parked transaction a rule now maps; returns (posted, still parked).
    pub fn retry_exceptions(&self) -> Result<(usize, usize), AccountingError> {
        let config = self.config();
        let mut db = self.db.lock();
        let mut posting = db.begin()?;
        let (mut posted, mut remaining) = (0, 0);
        let now = now_nanos();
        for e in posting.exceptions()? {
            let debit = LedgerSide {
                account_type: &e.debit_type,
                account_no: &e.debit_account_no,
            };
            let credit = LedgerSide {
                account_type: &e.credit_type,
                account_no: &e.credit_account_no,
            };
            match config.rules.map(&e.kind, debit, credit, &config.chart) {
                Ok(mapped) => {
                    posting.post(
                        NewVoucher {
                            accounting_date: e.ledger_date.clone(),
                            ledger_date: Some(e.ledger_date.clone()),
                            source: Source::Ledger,
                            record_id: Some(e.record_id),
                            client_id: e.client_id.clone(),
                            kind: Some(e.kind.clone()),
                            rule: Some(mapped.rule),
                            rules_version: config.rules.version,
                            currency: e.currency.clone(),
                            reverses: None,
                            note: "posted from the exception queue".into(),
                            lines: lines(mapped.lines, e.amount),
                        },
                        now,
                    )?;
                    posting.resolve(e.record_id)?;
                    posted += 1;
                }
                Err(reason) => {
                    posting.park(&Exception { reason, ..e }, now)?;
                    remaining += 1;
                }
            }
        }
        posting.commit()?;
        Ok((posted, remaining))
    }

    pub fn exceptions(&self) -> Result<Vec<Exception>, AccountingError> {
        db::exceptions(self.db.lock().conn())
    }

    pub fn rules_text(&self) -> Result<String, AccountingError> {
        Ok(std::fs::read_to_string(self.dir.join(RULES_FILE))?)
    }

    // ----- vouchers -----

    pub fn vouchers(&self, q: &VoucherQuery) -> Result<Vec<Voucher>, AccountingError> {
        let db = self.db.lock();
        let conn = db.conn();
        let limit = q.limit.clamp(1, VOUCHER_PAGE_MAX) as i64;
        let after = q.after.map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX));
        // Spelled out per filter so each query runs on its index: voucher_lines' key
        // (code, date, voucher_id) or vouchers_by_date (date, id).
        let ids: Vec<i64> = match (&q.account, &q.date) {
            (Some(code), Some(date)) => ids(
                conn,
                "SELECT voucher_id FROM voucher_lines WHERE code = ?1 AND accounting_date = ?2 \
                 AND voucher_id > ?3 GROUP BY voucher_id ORDER BY voucher_id LIMIT ?4",
                params![code, date, after, limit],
            )?,
            (Some(code), None) => ids(
                conn,
                "SELECT DISTINCT voucher_id FROM voucher_lines WHERE code = ?1 \
                 AND voucher_id > ?2 ORDER BY voucher_id LIMIT ?3",
                params![code, after, limit],
            )?,
            (None, Some(date)) => ids(
                conn,
                "SELECT id FROM vouchers WHERE accounting_date = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                params![date, after, limit],
            )?,
            (None, None) => ids(
                conn,
                "SELECT id FROM vouchers WHERE id > ?1 ORDER BY id LIMIT ?2",
                params![after, limit],
            )?,
        };
        let mut vouchers = Vec::with_capacity(ids.len());
        for id in ids {
            vouchers.extend(db::voucher(conn, id as u64)?);
        }
        Ok(vouchers)
    }

    pub fn voucher_by_no(&self, voucher_no: &str) -> Result<Voucher, AccountingError> {
        let not_found = || AccountingError::VoucherNotFound(voucher_no.to_owned());
        let (period, number) = voucher_no.rsplit_once('-').ok_or_else(not_found)?;
        let number: i64 = number.parse().map_err(|_| not_found())?;
        let db = self.db.lock();
        let id = db
            .conn()
            .query_row(
                "SELECT id FROM vouchers WHERE period = ?1 AND number = ?2",
                params![period, number],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .ok_or_else(not_found)?;
        db::voucher(db.conn(), id as u64)?.ok_or_else(not_found)
    }

    /// Posts a manual voucher; a retry with the same id and content returns the original
    /// (`true` = replayed).
    pub fn post_manual(&self, m: ManualVoucher) -> Result<(Voucher, bool), AccountingError> {
        let config = self.config();
        validate_manual(&m, &config.chart)?;
        let date = match &m.date {
            Some(date) => date.clone(),
            None => self.current_date()?.ok_or_else(|| {
                AccountingError::InvalidDate("no accounting date yet; give one".into())
            })?,
        };
        if dates::parse(&date).is_none() {
            return Err(AccountingError::InvalidDate(format!(
                "date {date:?} is not YYYY-MM-DD"
            )));
        }
        let mut db = self.db.lock();
        let mut posting = db.begin()?;
        if let Some(existing) = posting.manual_voucher(&m.id)? {
            let same = existing.body.source == Source::Manual
                && existing.body.lines == m.lines
                && existing.body.currency == m.currency
                && existing.body.note == m.note
                && m.date
                    .as_ref()
                    .is_none_or(|d| *d == existing.body.accounting_date);
            return if same {
                Ok((existing, true))
            } else {
                Err(AccountingError::IdConflict(m.id))
            };
        }
        if posting.is_closed(&date) {
            return Err(AccountingError::PeriodClosed(date));
        }
        let voucher = posting
            .post(
                NewVoucher {
                    accounting_date: date,
                    ledger_date: None,
                    source: Source::Manual,
                    record_id: None,
                    client_id: m.id,
                    kind: None,
                    rule: None,
                    rules_version: config.rules.version,
                    currency: m.currency,
                    reverses: None,
                    note: m.note,
                    lines: m.lines,
                },
                now_nanos(),
            )?
            .clone();
        posting.commit()?;
        Ok((voucher, false))
    }

    /// Red-letter reversal (红字冲销) of a voucher, booked on the current open day.
    pub fn reverse(
        &self,
        voucher_no: &str,
        id: &str,
        note: &str,
    ) -> Result<(Voucher, bool), AccountingError> {
        check_voucher_id(id)?;
        let original = self.voucher_by_no(voucher_no)?;
        let date = self
            .current_date()?
            .unwrap_or_else(|| original.body.accounting_date.clone());
        let mut db = self.db.lock();
        let mut posting = db.begin()?;
        if let Some(existing) = posting.manual_voucher(id)? {
            return if existing.body.reverses == Some(original.id) {
                Ok((existing, true))
            } else {
                Err(AccountingError::IdConflict(id.to_owned()))
            };
        }
        if original.body.source == Source::Reversal || posting.reversal_of(original.id)?.is_some() {
            return Err(AccountingError::AlreadyReversed(voucher_no.to_owned()));
        }
        let date = posting.open_day(&date)?;
        let voucher = posting
            .post(
                NewVoucher {
                    accounting_date: date,
                    ledger_date: original.body.ledger_date.clone(),
                    source: Source::Reversal,
                    record_id: None,
                    client_id: id.to_owned(),
                    kind: original.body.kind.clone(),
                    rule: original.body.rule.clone(),
                    rules_version: original.body.rules_version,
                    currency: original.body.currency.clone(),
                    reverses: Some(original.id),
                    note: format!("红字冲销 {voucher_no}: {note}"),
                    lines: reversed(&original.body.lines),
                },
                now_nanos(),
            )?
            .clone();
        posting.commit()?;
        Ok((voucher, false))
    }

    // ----- reports -----

    pub fn trial_balance(
        &self,
        from: &str,
        to: &str,
        currency: &str,
    ) -> Result<TrialBalance, AccountingError> {
        check_range(from, to)?;
        let config = self.config();
        let db = self.db.lock();
        let sums = |sql: &str| gl_sums(db.conn(), sql, params![currency, from, to], |r| r.get(0));
        let opening = sums(
            "SELECT code, debit, credit FROM gl_daily WHERE currency = ?1 AND accounting_date < ?2 AND ?3 IS NOT NULL",
        )?;
        let period = sums(
            "SELECT code, debit, credit FROM gl_daily WHERE currency = ?1 AND accounting_date BETWEEN ?2 AND ?3",
        )?;
        let (rows, totals) = reports::trial_balance(&config.chart, &opening, &period);
        Ok(TrialBalance {
            from: from.to_owned(),
            to: to.to_owned(),
            currency: currency.to_owned(),
            rows,
            totals,
        })
    }

    pub fn gl_check(&self, date: &str) -> Result<GlCheck, AccountingError> {
        check_range(date, date)?;
        let config = self.config();
        let db = self.db.lock();
        let conn = db.conn();
        let gl = gl_sums(
            conn,
            "SELECT code, currency, debit, credit FROM gl_daily WHERE accounting_date <= ?1",
            [date],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let subledger: BTreeMap<(String, String), i128> = db::sum_wide(
            conn,
            "SELECT code, currency, change FROM subledger_daily WHERE accounting_date <= ?1",
            [date],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .into_iter()
        .map(|(k, [change])| (k, change))
        .collect();
        let controls: BTreeSet<String> = config
            .rules
            .controls
            .iter()
            .map(|c| c.code.clone())
            .collect();
        let (checked, differences) = reports::gl_check(&config.chart, &controls, &gl, &subledger);
        let unposted = db::exceptions(conn)?
            .into_iter()
            .filter(|e| e.ledger_date.as_str() <= date)
            .collect();
        Ok(GlCheck {
            date: date.to_owned(),
            checked,
            differences,
            unposted,
        })
    }

    pub fn reserve_report(&self, from: &str, to: &str) -> Result<ReserveReport, AccountingError> {
        check_range(from, to)?;
        let days = dates::days(from, to, REPORT_DAYS_MAX).ok_or_else(|| {
            AccountingError::InvalidDate(format!("at most {REPORT_DAYS_MAX} days per report"))
        })?;
        let config = self.config();
        let db = self.db.lock();
        let conn = db.conn();
        let pattern = format!("{RESERVE_PREFIX}%");
        let before = gl_sums(
            conn,
            "SELECT code, currency, debit, credit FROM gl_daily WHERE accounting_date < ?1 AND code LIKE ?2",
            params![from, pattern],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut daily = BTreeMap::new();
        {
            let mut statement = conn.prepare_cached(
                "SELECT accounting_date, code, currency, debit, credit FROM gl_daily WHERE accounting_date BETWEEN ?1 AND ?2 AND code LIKE ?3",
            )?;
            let mut rows = statement.query(params![from, to, pattern])?;
            while let Some(r) = rows.next()? {
                daily.insert(
                    (r.get(0)?, r.get(1)?, r.get(2)?),
                    (r.get::<_, Wide>(3)?.0, r.get::<_, Wide>(4)?.0),
                );
            }
        }
        Ok(ReserveReport {
            from: from.to_owned(),
            to: to.to_owned(),
            rows: reports::reserve_report(&config.chart, RESERVE_PREFIX, &days, &before, &daily),
        })
    }

    // ----- periods -----

    /// Closes a day or a month after the ledger's day-end passed it and the feed posted
    /// everything up to that cut; a closed period accepts no new vouchers.
    pub fn close_period(&self, period: &str) -> Result<ClosedPeriod, AccountingError> {
        let end = dates::period_end(period)
            .filter(|_| dates::is_period(period))
            .ok_or_else(|| {
                AccountingError::InvalidDate(format!(
                    "period {period:?} is not YYYY-MM or YYYY-MM-DD"
                ))
            })?;
        let current = self.current_date()?.unwrap_or_default();
        if current.as_str() <= end.to_string().as_str() {
            return Err(AccountingError::PeriodNotEnded {
                period: period.to_owned(),
                reason: format!(
                    "the ledger's day-end for {end} has not been posted yet (accounting is at {})",
                    if current.is_empty() {
                        "the start"
                    } else {
                        &current
                    }
                ),
            });
        }
        let now = now_nanos();
        let mut db = self.db.lock();
        let mut posting = db.begin()?;
        if posting.is_closed(period) {
            return Err(AccountingError::PeriodClosed(period.to_owned()));
        }
        let (vouchers, debit, credit) = posting.close_period(period, now)?;
        posting.commit()?;
        Ok(ClosedPeriod {
            period: period.to_owned(),
            closed_at: now,
            vouchers,
            debit,
            credit,
        })
    }

    pub fn closed_periods(&self) -> Result<Vec<ClosedPeriod>, AccountingError> {
        let db = self.db.lock();
        let mut statement = db.conn().prepare(
            "SELECT period, closed_at, vouchers, debit, credit FROM closed_periods ORDER BY period",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(ClosedPeriod {
                period: r.get(0)?,
                closed_at: r.get::<_, i64>(1)? as u64,
                vouchers: r.get::<_, i64>(2)? as u64,
                debit: r.get::<_, Wide>(3)?.0,
                credit: r.get::<_, Wide>(4)?.0,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Vouchers stored in total (ledger, manual and reversals).
    pub fn voucher_count(&self) -> Result<u64, AccountingError> {
        Ok(self
            .db
            .lock()
            .conn()
            .query_row("SELECT COUNT(*) FROM vouchers", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

fn ids(
    conn: &rusqlite::Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<i64>, AccountingError> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(args, |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn check_range(from: &str, to: &str) -> Result<(), AccountingError> {
    for date in [from, to] {
        if dates::parse(date).is_none() {
            return Err(AccountingError::InvalidDate(format!(
                "date {date:?} is not YYYY-MM-DD"
            )));
        }
    }
    if from > to {
        return Err(AccountingError::InvalidDate(format!(
            "from {from} is after to {to}"
        )));
    }
    Ok(())
}

/// An account's name: not blank, no control characters.
fn check_account_name(name: &str) -> Result<(), AccountingError> {
    if name.trim().is_empty() {
        return Err(AccountingError::InvalidAccount("name is empty".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(AccountingError::InvalidAccount(
            "name holds control characters".into(),
        ));
    }
    Ok(())
}

/// A manual voucher's or a reversal's idempotency id: 1 to 128 bytes.
fn check_voucher_id(id: &str) -> Result<(), AccountingError> {
    if id.is_empty() || id.len() > VOUCHER_ID_BYTES_MAX {
        return Err(AccountingError::InvalidVoucher(format!(
            "id must have 1 to {VOUCHER_ID_BYTES_MAX} bytes"
        )));
    }
    Ok(())
}

fn validate_manual(m: &ManualVoucher, chart: &Chart) -> Result<(), AccountingError> {
    check_voucher_id(&m.id)?;
    if paycore_ledger::Currency::from_code(&m.currency).is_err() {
        return Err(AccountingError::InvalidVoucher(format!(
            "unknown currency {:?}",
            m.currency
        )));
    }
    for line in &m.lines {
        if line.amount <= 0 {
            return Err(AccountingError::InvalidVoucher(format!(
                "line on {}: amounts are positive minor units (reverse a voucher to negate it)",
                line.code
            )));
        }
        chart
            .postable(&line.code)
            .map_err(AccountingError::InvalidVoucher)?;
    }
    if !balanced(&m.lines) {
        return Err(AccountingError::Unbalanced);
    }
    Ok(())
}

/// Writes `text` to `path` so that a crash leaves the old or the new file, whole.
fn write_durably(path: &Path, text: &str) -> Result<(), AccountingError> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// `db::sum_wide` of a query ending in `debit, credit`: each key's GL movements.
fn gl_sums<K: Ord>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    key: impl Fn(&Row<'_>) -> rusqlite::Result<K>,
) -> Result<BTreeMap<K, Sums>, AccountingError> {
    let sums = db::sum_wide(conn, sql, params, key)?;
    Ok(sums.into_iter().map(|(k, [d, c])| (k, (d, c))).collect())
}
