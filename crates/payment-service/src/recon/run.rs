//! A reconciliation run: one statement against paycore's orders, in three passes over pages of
//! keys — every key the statement lists (against paycore's record of any day), every success of
//! the day paycore has that the statement does not list (carried when near midnight, else
//! missing on their side), and what the previous day's run carried. Then the totals, the fund
//! check against the bank's settlement, and the certain fixes (补单).

use std::collections::{BTreeMap, HashMap};

use paycore_payment_store::repo::recon::{self, RunRecord, StatementRecord};
use paycore_payment_store::{Sql, StoreError};
use paycore_recon::{
    classify, classify_ours_only, Day, Difference, Exception, ExceptionStatus, Fund, OurStatus,
    Ours, RecordKind, Theirs, Totals, Verdict,
};

use super::PAGE;
use crate::clock::now_ms;
use crate::error::{Result, ServiceError};
use crate::PaymentService;

/// What the passes found, before it is stored.
#[derive(Default)]
struct Tally {
    matched: u64,
    carried: u64,
    differences: BTreeMap<Difference, u64>,
}

impl Tally {
    fn count(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Matched => self.matched += 1,
            Verdict::Carried => self.carried += 1,
            Verdict::Different(d) => *self.differences.entry(d).or_default() += 1,
        }
    }
}

/// A difference found, to become an exception.
struct Found {
    kind: Difference,
    key: String,
    ours: Option<Ours>,
    theirs: Option<Theirs>,
}

impl Found {
    fn amount(&self) -> u64 {
        let (o, t) = (self.ours.as_ref(), self.theirs.as_ref());
        match (self.kind, o, t) {
            (Difference::AmountMismatch, Some(o), Some(t)) => o.amount.abs_diff(t.amount),
            (_, _, Some(t)) => t.amount,
            (_, Some(o), None) => o.amount,
            (_, None, None) => 0,
        }
    }
}

impl PaymentService {
    /// Runs (once) the reconciliation of a stored statement; a second call returns the run.
    pub async fn reconcile(&self, statement: &StatementRecord) -> Result<(RunRecord, bool)> {
        let id = statement.id.clone();
        let existing = self
            .inner
            .readers
            .read(move |sql| recon::run_of_statement(sql, &id))
            .await?;
        if let Some(run) = existing {
            return Ok((run, false));
        }
        let day = Day::parse(&statement.day)?;
        let run_id = format!("run-{}", statement.id.trim_start_matches("st-"));
        let mut tally = Tally::default();
        let mut found = Vec::new();
        let started = std::time::Instant::now();
        self.theirs_pass(statement, &mut tally, &mut found).await?;
        let theirs_ms = started.elapsed().as_millis();
        self.ours_pass(statement, day, &run_id, &mut tally, &mut found)
            .await?;
        let ours_ms = started.elapsed().as_millis() - theirs_ms;
        self.carried_pass(statement, day, &run_id, &mut tally, &mut found)
            .await?;
        let totals = self.totals(statement, day).await?;
        let total_ms = started.elapsed().as_millis();
        let fund = self.fund(&statement.channel, day, &totals).await;
        let run = RunRecord {
            id: run_id,
            channel: statement.channel.clone(),
            day: statement.day.clone(),
            statement_id: statement.id.clone(),
            matched: tally.matched,
            carried: tally.carried,
            differences: tally.differences.into_iter().collect(),
            totals,
            fund,
            created_at: now_ms(),
        };
        let supplements: Vec<_> = found
            .iter()
            .filter_map(|f| certain_supplement(&run.id, f))
            .collect();
        let reversed: Vec<_> = found
            .iter()
            .filter(|f| f.kind == Difference::Duplicate)
            .filter(|f| f.theirs.as_ref().is_some_and(Theirs::duplicate_reversed))
            .map(|f| exception_id(&run.id, &f.key))
            .collect();
        self.store_run(&run, found).await?;
        tracing::info!(run = %run.id, matched = run.matched, carried = run.carried, differences = ?run.differences, theirs_ms, ours_ms, total_ms, "reconciliation run");
        self.fix_certain(&supplements).await;
        self.close_reversed(&reversed).await;
        Ok((run, true))
    }

    async fn theirs_pass(
        &self,
        statement: &StatementRecord,
        tally: &mut Tally,
        found: &mut Vec<Found>,
    ) -> Result<()> {
        let mut after = String::new();
        loop {
            let (id, channel, from) = (statement.id.clone(), statement.channel.clone(), after);
            let (page, ours) = self
                .inner
                .readers
                .read(move |sql| theirs_with_ours(sql, &id, &channel, &from))
                .await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.key.clone();
            for theirs in page {
                // A line of the other kind under the key (an Alipay refund line without its
                // refund number, printed for a payment) is classified against the payment.
                let other = match theirs.kind {
                    RecordKind::Payment => RecordKind::Refund,
                    RecordKind::Refund => RecordKind::Payment,
                };
                let mine = ours
                    .get(&(theirs.key.clone(), theirs.kind))
                    .or_else(|| ours.get(&(theirs.key.clone(), other)))
                    .cloned();
                let verdict = classify(mine.as_ref(), &theirs);
                tally.count(verdict);
                if let Verdict::Different(kind) = verdict {
                    found.push(Found {
                        kind,
                        key: theirs.key.clone(),
                        ours: mine,
                        theirs: Some(theirs),
                    });
                }
            }
        }
    }

    async fn ours_pass(
        &self,
        statement: &StatementRecord,
        day: Day,
        run_id: &str,
        tally: &mut Tally,
        found: &mut Vec<Found>,
    ) -> Result<()> {
        let bounds = day.bounds();
        let window = self.inner.config.recon_carry_window.as_millis() as u64;
        let mut after = String::new();
        loop {
            let (id, channel, from) = (statement.id.clone(), statement.channel.clone(), after);
            let page = self
                .inner
                .readers
                .read(move |sql| recon::ours_unlisted_page(sql, &channel, bounds, &id, &from, PAGE))
                .await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.key.clone();
            let mut carried = Vec::new();
            for ours in page {
                let verdict = classify_ours_only(&ours, bounds.1, window);
                tally.count(verdict);
                match verdict {
                    Verdict::Carried => carried.push(ours),
                    Verdict::Different(kind) => found.push(Found {
                        kind,
                        key: ours.key.clone(),
                        ours: Some(ours),
                        theirs: None,
                    }),
                    Verdict::Matched => unreachable!("an unlisted success never matches"),
                }
            }
            let (channel, day, run) = (statement.channel.clone(), day.iso(), run_id.to_owned());
            self.inner
                .writer
                .run(move |_, sql| {
                    carried
                        .iter()
                        .try_for_each(|o| recon::insert_carried(sql, &channel, &day, o, &run))
                })
                .await?;
        }
    }

    /// What the previous day's run carried: listed today (matched), or a difference now.
    async fn carried_pass(
        &self,
        statement: &StatementRecord,
        day: Day,
        run_id: &str,
        tally: &mut Tally,
        found: &mut Vec<Found>,
    ) -> Result<()> {
        let (channel, previous, id) = (
            statement.channel.clone(),
            day.previous().iso(),
            statement.id.clone(),
        );
        let run = run_id.to_owned();
        let settled = self
            .inner
            .writer
            .run(
                move |_, sql| -> std::result::Result<Vec<(Ours, bool)>, StoreError> {
                    let mut settled = Vec::new();
                    for ours in recon::carried_open(sql, &channel, &previous)? {
                        let listed = recon::lists(sql, &id, &ours.key)?;
                        recon::settle_carried(sql, &channel, &previous, &ours.key, &run)?;
                        settled.push((ours, listed));
                    }
                    Ok(settled)
                },
            )
            .await?;
        for (ours, listed) in settled {
            // A listed one was classified with the statement's keys already.
            if !listed {
                let kind = Difference::MissingTheirs;
                tally.count(Verdict::Different(kind));
                found.push(Found {
                    kind,
                    key: ours.key.clone(),
                    ours: Some(ours),
                    theirs: None,
                });
            }
        }
        Ok(())
    }

    async fn totals(&self, statement: &StatementRecord, day: Day) -> Result<Totals> {
        let (id, channel, bounds) = (
            statement.id.clone(),
            statement.channel.clone(),
            day.bounds(),
        );
        Ok(self
            .inner
            .readers
            .read(move |sql| {
                Ok::<_, StoreError>(Totals {
                    ours: recon::ours_totals(sql, &channel, bounds)?,
                    theirs: recon::theirs_totals(sql, &id)?,
                })
            })
            .await?)
    }

    /// The statement's net against the bank's settlement; `None` when the channel has none.
    async fn fund(&self, channel: &str, day: Day, totals: &Totals) -> Option<Fund> {
        let date = super::import::time_date(day).ok()?;
        let settlement = match self.adapter(channel).ok()?.settlement(date).await {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(%channel, day = %day.iso(), ?error, "no settlement: the fund check is left out");
                return None;
            }
        };
        Fund::new(totals.theirs.net()?, settlement.amount_minor)
    }

    /// The exceptions and the run, in one writer job (a run is stored whole or not at all).
    async fn store_run(&self, run: &RunRecord, found: Vec<Found>) -> Result<()> {
        let (stored, now) = (run.clone(), now_ms());
        self.inner
            .writer
            .run(move |_, sql| -> std::result::Result<(), StoreError> {
                let first = recon::next_exception_seq(sql)?;
                for (seq, f) in (first..).zip(found) {
                    recon::save_exception(sql, seq, &exception_of(&stored, f, now))?;
                }
                recon::insert_run(sql, &stored)
            })
            .await?;
        Ok(())
    }
}

fn exception_of(run: &RunRecord, f: Found, now: u64) -> Exception {
    let currency = f
        .ours
        .as_ref()
        .map_or("CNY".to_owned(), |o| o.currency.code().to_owned());
    Exception {
        id: exception_id(&run.id, &f.key),
        run_id: run.id.clone(),
        kind: f.kind,
        channel: run.channel.clone(),
        channel_order_no: f.key.clone(),
        status: ExceptionStatus::Open,
        ours: f.ours.as_ref().map_or("null".to_owned(), recon::ours_json),
        theirs: f
            .theirs
            .as_ref()
            .map_or("null".to_owned(), recon::theirs_json),
        amount: f.amount(),
        currency,
        adjustment_id: None,
        refund_id: None,
        history: Vec::new(),
        created_at: now,
        updated_at: now,
    }
    .open(now)
}

type OursByKey = HashMap<(String, RecordKind), Ours>;

/// A page of the statement's keys and paycore's records in that key range.
fn theirs_with_ours(
    sql: &mut dyn Sql,
    statement_id: &str,
    channel: &str,
    after: &str,
) -> std::result::Result<(Vec<Theirs>, OursByKey), StoreError> {
    let page = recon::theirs_page(sql, statement_id, after, PAGE)?;
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return Ok((page, HashMap::new()));
    };
    let ours = recon::ours_in_range(sql, channel, &first.key, &last.key)?
        .into_iter()
        .map(|o| ((o.key.clone(), o.kind), o))
        .collect();
    Ok((page, ours))
}

/// What the bank's word settles with certainty (补单): paycore holds the payment open and the
/// statement lists its success once, for the amount paycore sent.
pub(crate) struct Supplement {
    pub exception_id: String,
    pub payment: String,
    pub order_no: String,
    pub bank_ref: String,
    pub amount: u64,
}

fn certain_supplement(run_id: &str, f: &Found) -> Option<Supplement> {
    let (Some(ours), Some(theirs)) = (&f.ours, &f.theirs) else {
        return None;
    };
    let open = matches!(ours.status, OurStatus::Unknown | OurStatus::Processing);
    let payment = ours.kind == RecordKind::Payment && theirs.kind == RecordKind::Payment;
    let same = ours.amount == theirs.amount && theirs.lines == 1;
    let certain =
        f.kind == Difference::MissingOurs && open && payment && same && theirs.says_done();
    certain.then(|| Supplement {
        exception_id: exception_id(run_id, &f.key),
        payment: ours.owner.clone(),
        order_no: f.key.clone(),
        bank_ref: theirs.bank_ref.clone(),
        amount: ours.amount,
    })
}

fn exception_id(run_id: &str, key: &str) -> String {
    format!("{run_id}:{key}")
}

impl From<paycore_recon::ReconError> for ServiceError {
    fn from(e: paycore_recon::ReconError) -> Self {
        ServiceError::Recon(e)
    }
}
