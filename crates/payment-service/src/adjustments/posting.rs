//! The approve → post step, crash-safe by its order. The intent (`approved`, with the ledger
//! id of the attempt) was committed by the approval's job; here the ledger is asked under that
//! id, then its answer is recorded by a second job. A crash (kill -9) anywhere leaves either
//! the intent (the ledger may or may not have posted) or the answer; at start, and from the
//! sweep, every open intent is asked again under the same id — a replay if the ledger already
//! decided — so each adjustment ends posted exactly once, or waiting again with the ledger's
//! refusal in its history; never half.

use paycore_adjustments::{AdjustError, Adjustment, Millis, Status, SYSTEM_OPERATOR};
use paycore_ledger::ErrorCode;
use paycore_payment_store::repo::adjustments;
use paycore_payment_store::StoreError;

use super::faults::CrashPoint;
use super::ledger::refusal;
use crate::clock::now_ms;
use crate::error::{Result, ServiceError};
use crate::PaymentService;

/// Most open intents finished per sweep.
const OPEN_PER_SWEEP: u64 = 1_024;

/// An adjustment the ledger posted: what the reconciliation side waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedAdjustment {
    pub id: String,
    pub exception_id: Option<String>,
    /// The ledger transfer (`GET /v1/transfers/{ledger_id}`).
    pub ledger_id: String,
    pub posted_at: Millis,
}

impl PaymentService {
    /// Asks the ledger for the posting whose intent is recorded and records its answer; `by`
    /// is who asked (the approver, or `system`). A refusal is `Ledger` with the ledger's code
    /// (the adjustment waits again).
    pub(crate) async fn post(
        &self,
        adjustment: Adjustment,
        ledger_id: String,
        by: &str,
    ) -> Result<Adjustment> {
        let faults = self.inner.config.adjustments.faults.clone();
        faults.at(CrashPoint::AfterIntent)?;
        faults.hold(CrashPoint::AfterIntent).await;
        let answer = self
            .inner
            .ledger
            .post_adjustment(&adjustment, &ledger_id)
            .await?;
        faults.at(CrashPoint::AfterPost)?;
        faults.hold(CrashPoint::AfterPost).await;
        let (finished, changed) = self
            .record_answer(&adjustment.id, &ledger_id, answer, by)
            .await?;
        match answer {
            Ok(()) => {
                if changed {
                    self.announce(&finished, ledger_id);
                }
                Ok(finished)
            }
            Err(code) => {
                tracing::warn!(adjustment = %finished.id, ledger_id, code = code.code(), by, status = finished.status.name(), "the ledger refused the adjustment; it waits for approval again");
                Err(refusal(code).into())
            }
        }
    }

    /// Records the ledger's answer about `ledger_id`; whether this call changed the adjustment
    /// (a concurrent finisher may have recorded it first).
    async fn record_answer(
        &self,
        id: &str,
        ledger_id: &str,
        answer: std::result::Result<(), ErrorCode>,
        by: &str,
    ) -> Result<(Adjustment, bool)> {
        let (id, ledger_id, by, now) =
            (id.to_owned(), ledger_id.to_owned(), by.to_owned(), now_ms());
        Ok(self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut a) = adjustments::get(sql, &id)? else {
                    return Err(StoreError::Corrupt(format!("adjustment {id} vanished")));
                };
                let changed = match answer {
                    Ok(()) => a.mark_posted(&ledger_id, &by, now),
                    Err(code) => a.posting_refused(&ledger_id, code.code(), &by, now),
                };
                if changed {
                    adjustments::save(sql, &a)?;
                }
                Ok((a, changed))
            })
            .await?)
    }

    fn announce(&self, a: &Adjustment, ledger_id: String) {
        tracing::info!(adjustment = %a.id, ledger_id, amount = a.amount, currency = %a.currency.code(), exception = ?a.exception_id, "adjustment posted");
        let posted = PostedAdjustment {
            id: a.id.clone(),
            exception_id: a.exception_id.clone(),
            ledger_id,
            posted_at: a.posted_at.expect("a posted adjustment has its time"),
        };
        // No subscriber is fine: they catch up from the store.
        let _ = self.inner.posted.send(posted);
    }

    /// Finishes every open intent (at start, after a crash; and from the sweep, after the
    /// engine was unavailable); how many it finished, posted or refused.
    pub(crate) async fn finish_open_postings(&self) -> Result<usize> {
        let open = self
            .inner
            .readers
            .read(|sql| adjustments::ids_with_status(sql, Status::Approved, OPEN_PER_SWEEP))
            .await?;
        let mut finished = 0;
        for id in open {
            let Some(a) = self.stored_adjustment(&id).await? else {
                continue;
            };
            if a.status != Status::Approved {
                continue; // finished meanwhile
            }
            let ledger_id = a.ledger_id();
            match self.post(a, ledger_id, SYSTEM_OPERATOR).await {
                Ok(_) | Err(ServiceError::Adjust(AdjustError::Ledger { .. })) => finished += 1,
                Err(error) => return Err(error),
            }
        }
        if finished > 0 {
            tracing::info!(finished, "finished adjustments whose posting was left open");
        }
        Ok(finished)
    }
}
