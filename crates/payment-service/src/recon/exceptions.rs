//! Exceptions (差错) to closure. A certain rule closes what the bank's word settles (补单: the
//! statement lists the success of a payment paycore holds unknown — applied like a status
//! query's answer, so a duplicate it causes is refunded as any other). Everything else waits
//! for a person: `accept` closes with the reason; `supplement` and `write_off` propose an
//! adjustment (debit and credit by the difference's kind, or as the person names them) that
//! a second person must approve, and the exception closes when it is posted.

use paycore_adjustments::NewAdjustment;
use paycore_ledger::AccountType;
use paycore_money::Currency;
use paycore_payment_store::repo::recon;
use paycore_payments::{BankResult, ReportSource};
use paycore_recon::{Action, Exception, ExceptionStatus, ReconError};

use super::run::Supplement;
use crate::clock::now_ms;
use crate::error::{Result, ServiceError};
use crate::PaymentService;

/// `GET /v1/recon/exceptions` filters; empty strings match everything.
#[derive(Clone, Debug, Default)]
pub struct ExceptionQuery {
    pub status: String,
    pub run_id: String,
    pub after: u64,
    pub limit: u64,
}

/// A person's decision.
#[derive(Clone, Debug)]
pub struct Resolution {
    pub action: Action,
    pub reason: String,
    /// Override the adjustment's accounts (supplement, write-off).
    pub debit_account: Option<String>,
    pub credit_account: Option<String>,
}

/// Where a difference's money is booked while a person resolves it.
fn unmatched_account(currency: Currency) -> String {
    format!("RECON-UNMATCHED-{}", currency.code())
}

fn loss_account(currency: Currency) -> String {
    format!("RECON-LOSS-{}", currency.code())
}

impl PaymentService {
    pub async fn exception(&self, id: &str) -> Result<Exception> {
        let id = id.to_owned();
        let found = self
            .inner
            .readers
            .read({
                let id = id.clone();
                move |sql| recon::exception(sql, &id)
            })
            .await?;
        Ok(found.ok_or(ReconError::ExceptionNotFound(id))?)
    }

    pub async fn exceptions(&self, query: ExceptionQuery) -> Result<Vec<(Exception, u64)>> {
        Ok(self
            .inner
            .readers
            .read(move |sql| {
                recon::exceptions(sql, &query.status, &query.run_id, query.after, query.limit)
            })
            .await?)
    }

    /// Applies what the bank's statement settles with certainty (补单), once.
    pub(super) async fn fix_certain(&self, supplements: &[Supplement]) {
        for s in supplements {
            let result = BankResult::Succeeded {
                bank_ref: s.bank_ref.clone(),
                amount: s.amount,
            };
            let applied = self
                .apply_report(&s.payment, &s.order_no, ReportSource::Query, result)
                .await;
            match applied {
                Ok(p) => {
                    let note = format!(
                        "补单: the statement's success applied; payment {} is {}",
                        p.id,
                        p.status.name()
                    );
                    if let Err(error) = self.close_exception(&s.exception_id, "system", &note).await
                    {
                        tracing::warn!(exception = %s.exception_id, %error, "closing a supplemented exception failed");
                    }
                }
                Err(error) => {
                    tracing::warn!(exception = %s.exception_id, %error, "补单 failed; the exception stays open")
                }
            }
        }
    }

    /// Closes the duplicates the channel itself reversed (each extra listing refunded on the
    /// same statement): the bank's word settles them, nothing moves at paycore.
    pub(super) async fn close_reversed(&self, exception_ids: &[String]) {
        let note = "the channel reversed its duplicate listing on the statement";
        for id in exception_ids {
            if let Err(error) = self.close_exception(id, "system", note).await {
                tracing::warn!(exception = %id, %error, "closing a reversed duplicate failed; it stays open");
            }
        }
    }

    pub(super) async fn close_exception(
        &self,
        id: &str,
        by: &str,
        note: &str,
    ) -> Result<Exception> {
        let (id, by, note, now) = (id.to_owned(), by.to_owned(), note.to_owned(), now_ms());
        self.update_exception(&id, move |e| {
            if e.status != ExceptionStatus::Closed {
                e.close(now, &by, &note);
            }
            Ok(())
        })
        .await
    }

    /// Loads, changes and stores an exception in one writer job.
    pub(super) async fn update_exception(
        &self,
        id: &str,
        change: impl FnOnce(&mut Exception) -> std::result::Result<(), ReconError> + Send + 'static,
    ) -> Result<Exception> {
        let id = id.to_owned();
        let updated = self
            .inner
            .writer
            .run(move |_, sql| {
                let Some(mut exception) = recon::exception(sql, &id)? else {
                    return Ok(Err(ReconError::ExceptionNotFound(id)));
                };
                if let Err(e) = change(&mut exception) {
                    return Ok(Err(e));
                }
                // `seq` is kept by the upsert: only new rows take it.
                recon::save_exception(sql, 0, &exception)?;
                Ok(Ok(exception))
            })
            .await??;
        Ok(updated)
    }

    /// A person's decision on an open exception.
    pub async fn resolve_exception(
        &self,
        id: &str,
        resolution: Resolution,
        by: &str,
    ) -> Result<Exception> {
        if resolution.reason.trim().is_empty() {
            return Err(ReconError::invalid("reason", "required").into());
        }
        let exception = self.exception(id).await?;
        exception.check_action(resolution.action)?;
        let (by_owned, reason, now) = (by.to_owned(), resolution.reason.clone(), now_ms());
        match resolution.action {
            Action::Accept => {
                self.update_exception(id, move |e| e.accept(&by_owned, &reason, now))
                    .await
            }
            Action::Refund => self.resolve_by_refund(exception, resolution, by).await,
            Action::Supplement | Action::WriteOff => {
                self.resolve_by_adjustment(exception, resolution, by).await
            }
        }
    }

    async fn resolve_by_adjustment(
        &self,
        exception: Exception,
        resolution: Resolution,
        by: &str,
    ) -> Result<Exception> {
        let currency = Currency::from_code(&exception.currency)
            .map_err(|e| ServiceError::Internal(format!("exception currency: {e}")))?;
        let clearing = paycore_payments::channel::clearing_account(&exception.channel, currency);
        let (debit, credit) = match resolution.action {
            Action::Supplement => (clearing, unmatched_account(currency)),
            _ => (loss_account(currency), clearing),
        };
        let ledger = &self.inner.ledger;
        ledger
            .ensure_account(
                &unmatched_account(currency),
                AccountType::Transit,
                currency,
                "reconciliation: unmatched funds (长款)",
            )
            .await?;
        ledger
            .ensure_account(
                &loss_account(currency),
                AccountType::Settlement,
                currency,
                "reconciliation: losses written off",
            )
            .await?;
        let adjustment_id = adjustment_id_of(&exception.id);
        let request = NewAdjustment {
            id: adjustment_id.clone(),
            debit_account: resolution.debit_account.unwrap_or(debit),
            credit_account: resolution.credit_account.unwrap_or(credit),
            amount: exception.amount,
            currency,
            reason: format!(
                "{} {} of {} on {}: {}",
                resolution.action.name(),
                exception.kind.name(),
                exception.channel_order_no,
                exception.channel,
                resolution.reason
            ),
            evidence: Some(format!("exception {}", exception.id)),
            exception_id: Some(exception.id.clone()),
        };
        self.create_adjustment(request, by).await?;
        let (by, reason, action, now) = (
            by.to_owned(),
            resolution.reason,
            resolution.action,
            now_ms(),
        );
        let adjustment = adjustment_id.clone();
        self.update_exception(&exception.id, move |e| {
            e.resolving(action, &by, &reason, &adjustment, now)?;
            e.adjustment_id = Some(adjustment);
            Ok(())
        })
        .await
    }

    /// Follows an adjustment proposed for an exception: posted closes it, rejected or
    /// expired opens it again.
    pub(crate) async fn follow_adjustment(&self, a: &paycore_adjustments::Adjustment) {
        use paycore_adjustments::Status;
        let Some(exception_id) = a.exception_id.clone() else {
            return;
        };
        let (adjustment, status, now) = (a.id.clone(), a.status, now_ms());
        let followed = self
            .update_exception(&exception_id, move |e| {
                let ours = e.adjustment_id.as_deref() == Some(adjustment.as_str());
                match status {
                    _ if !ours || e.status != ExceptionStatus::Resolving => {}
                    Status::Posted => {
                        e.close(now, "system", &format!("adjustment {adjustment} posted"))
                    }
                    Status::Rejected | Status::Expired => e.reopen(
                        now,
                        "system",
                        &format!("adjustment {adjustment} {}", status.name()),
                    ),
                    _ => {}
                }
                Ok(())
            })
            .await;
        match followed {
            Ok(e) => {
                tracing::info!(exception = %e.id, status = e.status.name(), adjustment = %a.id, "exception follows its adjustment")
            }
            Err(ServiceError::Recon(ReconError::ExceptionNotFound(_))) => {}
            Err(error) => {
                tracing::warn!(exception = %exception_id, %error, "following an exception's adjustment failed; the sweep tries again")
            }
        }
    }

    /// Every resolving exception follows its adjustment or refund (after a crash, an expiry).
    pub(crate) async fn settle_resolving(&self) -> Result<()> {
        let mut after = 0;
        loop {
            let query = ExceptionQuery {
                status: "resolving".into(),
                run_id: String::new(),
                after,
                limit: 500,
            };
            let page = self.exceptions(query).await?;
            let Some((_, last)) = page.last() else {
                return Ok(());
            };
            after = *last;
            for (exception, _) in page {
                if let Some(id) = &exception.adjustment_id {
                    let adjustment = self.adjustment(id).await?;
                    self.follow_adjustment(&adjustment).await;
                }
                if let Some(id) = &exception.refund_id {
                    if let Some(refund) = self.refund_by_id(id).await? {
                        self.follow_recon_refund(&refund).await;
                    }
                }
            }
        }
    }
}

/// The adjustment id of an exception's resolution (an exception has at most one).
fn adjustment_id_of(exception_id: &str) -> String {
    super::derived_id("recon-", exception_id)
}
