//! Adjustments (调账) with maker-checker (双人复核): the service that drives the rules of
//! `paycore_adjustments` through the payment store's writer and the ledger engine.
//!
//! - proposing (`create_adjustment`): checked against the ledger's accounts as they are, then
//!   stored waiting for approvals; idempotent by id;
//! - approving (`approve_adjustment`): one writer job records the approval and, when it is the
//!   last one needed, the intent to post (`approved`); the ledger is then asked under the id
//!   derived from the adjustment (`posting.rs`) and its answer recorded by another job;
//! - rejecting, reading, listing, and the reconciliation side's entry points
//!   (`adjustments_of_exception`, `subscribe_posted`);
//! - the sweep (`sweep.rs`): expiry, and intents a crash or an unavailable engine left open —
//!   also run once at start, before the service is handed out.
//!
//! Every approval and posting is logged with its operator.

mod faults;
mod ledger;
mod posting;
mod sweep;

use std::time::Duration;

use paycore_adjustments::{AdjustError, Adjustment, NewAdjustment, Next, Policy, Status};
use paycore_payment_store::repo::adjustments::{self, Filter};
use tokio::sync::broadcast;

pub use faults::AdjustmentFaults;
pub use posting::PostedAdjustment;
pub(crate) use sweep::spawn as spawn_sweep;

use crate::clock::now_ms;
use crate::error::Result;
use crate::PaymentService;

/// Posted adjustments kept for slow subscribers.
const POSTED_CHANNEL_CAPACITY: usize = 1_024;
/// Most adjustments one list answers.
pub const LIST_LIMIT_MAX: u64 = 1_000;

/// How adjustments behave; `Default` is what `paycore serve` uses.
#[derive(Clone, Debug)]
pub struct AdjustmentConfig {
    pub policy: Policy,
    /// How often expiry and unfinished postings are swept (reads and approvals also expire
    /// what is due, so this only bounds how long a stale row waits).
    pub sweep_interval: Duration,
    pub faults: std::sync::Arc<AdjustmentFaults>,
}

impl Default for AdjustmentConfig {
    fn default() -> Self {
        AdjustmentConfig {
            policy: Policy::default(),
            sweep_interval: Duration::from_secs(60),
            faults: Default::default(),
        }
    }
}

/// A list request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdjustmentQuery {
    pub status: Option<Status>,
    pub maker: Option<String>,
    pub after: u64,
    pub limit: u64,
}

/// The service's channel of posted adjustments.
pub(crate) fn posted_channel() -> broadcast::Sender<PostedAdjustment> {
    broadcast::channel(POSTED_CHANNEL_CAPACITY).0
}

type Decided<T> = std::result::Result<T, AdjustError>;

impl PaymentService {
    fn adjustment_config(&self) -> &AdjustmentConfig {
        &self.inner.config.adjustments
    }

    /// Proposes an adjustment by `maker`; a retry with the same content returns it (`false`:
    /// not created now), other content under its id is `id_conflict`.
    pub async fn create_adjustment(
        &self,
        request: NewAdjustment,
        maker: &str,
    ) -> Result<(Adjustment, bool)> {
        self.adjustment_config().faults.check_alive()?;
        request.check()?;
        if let Some(existing) = self.stored_adjustment(&request.id).await? {
            return Ok((same_or_conflict(existing, &request)?, false));
        }
        self.inner.ledger.check_adjustment_accounts(&request)?;
        let policy = self.adjustment_config().policy;
        let adjustment = request.clone().into_adjustment(maker, now_ms(), &policy)?;
        let stored = adjustment.clone();
        let created = self
            .inner
            .writer
            .run(move |_, sql| match adjustments::get(sql, &stored.id)? {
                Some(existing) => Ok(Err(Box::new(existing))),
                None => adjustments::insert(sql, &stored).map(|()| Ok(stored)),
            })
            .await?;
        match created {
            Ok(a) => {
                tracing::info!(adjustment = %a.id, maker = %a.maker, amount = a.amount, currency = %a.currency.code(), debit = %a.debit_account, credit = %a.credit_account, exception = ?a.exception_id, "adjustment proposed");
                Ok((a, true))
            }
            Err(existing) => Ok((same_or_conflict(*existing, &request)?, false)),
        }
    }

    /// `checker` approves; the last approval needed posts it. `true`: the call added no
    /// approval (a retry, or finishing a posting already decided).
    pub async fn approve_adjustment(
        &self,
        id: &str,
        checker: &str,
        comment: Option<String>,
    ) -> Result<(Adjustment, bool)> {
        self.adjustment_config().faults.check_alive()?;
        let (id, who, now) = (id.to_owned(), checker.to_owned(), now_ms());
        let (adjustment, next, replayed) = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut a) = adjustments::get(sql, &id)? else {
                    return Ok(Err(AdjustError::NotFound(id)));
                };
                if a.expire_if_due(now) {
                    adjustments::save(sql, &a)?;
                }
                let before = a.history.len();
                let next = match a.approve(&who, comment, now) {
                    Ok(next) => next,
                    Err(refused) => return Ok(Err(refused)),
                };
                let added = a.history.len() > before;
                if added {
                    adjustments::save(sql, &a)?;
                }
                Ok(Ok((a, next, !added)))
            })
            .await??;
        tracing::info!(adjustment = %adjustment.id, checker, status = adjustment.status.name(), replayed, "adjustment approved");
        match next {
            Next::Wait | Next::Done => Ok((adjustment, replayed)),
            Next::Post { ledger_id } => {
                let posted = self.post(adjustment, ledger_id, checker).await?;
                Ok((posted, replayed))
            }
        }
    }

    /// `operator` rejects it with `reason`; `true` for a retry of the same rejection.
    pub async fn reject_adjustment(
        &self,
        id: &str,
        operator: &str,
        reason: &str,
    ) -> Result<(Adjustment, bool)> {
        self.adjustment_config().faults.check_alive()?;
        let (id, who, reason, now) = (
            id.to_owned(),
            operator.to_owned(),
            reason.to_owned(),
            now_ms(),
        );
        let (adjustment, replayed) = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut a) = adjustments::get(sql, &id)? else {
                    return Ok(Err(AdjustError::NotFound(id)));
                };
                if a.expire_if_due(now) {
                    adjustments::save(sql, &a)?;
                }
                let replayed = match a.reject(&who, &reason, now) {
                    Ok(replayed) => replayed,
                    Err(refused) => return Ok(Err(refused)),
                };
                if !replayed {
                    adjustments::save(sql, &a)?;
                }
                Ok(Ok((a, replayed)))
            })
            .await??;
        tracing::info!(adjustment = %adjustment.id, operator, replayed, "adjustment rejected");
        Ok((adjustment, replayed))
    }

    /// An adjustment with its whole history (expired first if it is due).
    pub async fn adjustment(&self, id: &str) -> Result<Adjustment> {
        let found = self.stored_adjustment(id).await?;
        let Some(adjustment) = found else {
            return Err(AdjustError::NotFound(id.to_owned()).into());
        };
        if adjustment.is_due(now_ms()) {
            self.expire_due().await?;
            return self
                .stored_adjustment(id)
                .await?
                .ok_or_else(|| AdjustError::NotFound(id.to_owned()).into());
        }
        Ok(adjustment)
    }

    /// A page of adjustments in creation order, with their creation numbers (the cursor).
    pub async fn adjustments(&self, query: AdjustmentQuery) -> Result<Vec<(u64, Adjustment)>> {
        let now = now_ms();
        let any_due = self
            .inner
            .readers
            .read(move |sql| adjustments::due(sql, now, 1))
            .await?;
        if !any_due.is_empty() {
            self.expire_due().await?;
        }
        let filter = Filter {
            status: query.status,
            maker: query.maker,
            after_seq: query.after,
            limit: query.limit.clamp(1, LIST_LIMIT_MAX),
        };
        Ok(self
            .inner
            .readers
            .read(move |sql| adjustments::list(sql, &filter))
            .await?)
    }

    /// Every adjustment proposed for a reconciliation exception (差错), in creation order:
    /// the exception is settled once one of them is `posted`.
    pub async fn adjustments_of_exception(&self, exception_id: &str) -> Result<Vec<Adjustment>> {
        let id = exception_id.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| adjustments::of_exception(sql, &id))
            .await?)
    }

    /// Every adjustment posted from now on, as it is posted. A subscriber that was not
    /// running (a restart) catches up with `adjustments_of_exception`.
    pub fn subscribe_posted(&self) -> broadcast::Receiver<PostedAdjustment> {
        self.inner.posted.subscribe()
    }

    async fn stored_adjustment(&self, id: &str) -> Result<Option<Adjustment>> {
        let id = id.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| adjustments::get(sql, &id))
            .await?)
    }
}

fn same_or_conflict(existing: Adjustment, request: &NewAdjustment) -> Decided<Adjustment> {
    if existing.same_request(request) {
        Ok(existing)
    } else {
        Err(AdjustError::IdConflict(existing.id))
    }
}
