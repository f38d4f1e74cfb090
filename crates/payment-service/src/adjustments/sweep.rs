//! The adjustment sweep: every `sweep_interval`, expires what waited too long and finishes
//! postings left open (an unavailable engine, or a crash before the restart's own pass).
//! Reads and approvals expire what is due themselves, so the sweep only bounds staleness.

use paycore_payment_store::repo::adjustments;

use crate::clock::now_ms;
use crate::error::Result;
use crate::PaymentService;

/// Most adjustments expired per transaction.
const DUE_PER_SWEEP: u64 = 1_024;

pub(crate) fn spawn(service: PaymentService) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let interval = service.inner.config.adjustments.sweep_interval;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = service.inner.sweep_stop.notified() => return,
            }
            if service.inner.config.adjustments.faults.crashed() {
                continue;
            }
            if let Err(error) = service.expire_due().await {
                tracing::warn!(%error, "expiring adjustments failed; tried again at the next sweep");
            }
            if let Err(error) = service.finish_open_postings().await {
                tracing::warn!(%error, "finishing open adjustment postings failed; tried again at the next sweep");
            }
        }
    })
}

impl PaymentService {
    /// Expires every adjustment waiting past its expiry; how many.
    pub(crate) async fn expire_due(&self) -> Result<usize> {
        let now = now_ms();
        let expired = self
            .inner
            .writer
            .run(move |_, sql| {
                let mut expired = Vec::new();
                for id in adjustments::due(sql, now, DUE_PER_SWEEP)? {
                    let Some(mut a) = adjustments::get(sql, &id)? else {
                        continue;
                    };
                    if a.expire_if_due(now) {
                        adjustments::save(sql, &a)?;
                        expired.push(id);
                    }
                }
                Ok(expired)
            })
            .await?;
        for id in &expired {
            tracing::info!(adjustment = %id, "adjustment expired without enough approvals");
        }
        Ok(expired.len())
    }
}
