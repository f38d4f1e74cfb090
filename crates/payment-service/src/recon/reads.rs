//! Reading runs and the day's report.

use paycore_payment_store::repo::recon::{self, RunRecord};
use paycore_payment_store::StoreError;
use paycore_recon::{Day, Exception, ReconError};

use crate::error::Result;
use crate::PaymentService;

/// Most exceptions a report reads per run.
const REPORT_EXCEPTIONS_MAX: u64 = 100_000;

impl PaymentService {
    pub async fn recon_run(&self, id: &str) -> Result<RunRecord> {
        let id = id.to_owned();
        let found = self
            .inner
            .readers
            .read({
                let id = id.clone();
                move |sql| recon::run(sql, &id)
            })
            .await?;
        Ok(found.ok_or(ReconError::RunNotFound(id))?)
    }

    /// Runs of `channel` (empty: every channel), newest day first.
    pub async fn recon_runs(&self, channel: &str, limit: u64) -> Result<Vec<RunRecord>> {
        let channel = channel.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| recon::runs(sql, &channel, limit))
            .await?)
    }

    /// The day's runs of a channel and every exception they raised.
    pub async fn recon_report(
        &self,
        channel: &str,
        day: &str,
    ) -> Result<(Vec<RunRecord>, Vec<Exception>)> {
        let day = Day::parse(day)?.iso();
        let channel = channel.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| {
                let runs: Vec<RunRecord> = recon::runs(sql, &channel, 10_000)?
                    .into_iter()
                    .filter(|r| r.day == day)
                    .collect();
                let mut exceptions = Vec::new();
                for run in &runs {
                    let page = recon::exceptions(sql, "", &run.id, 0, REPORT_EXCEPTIONS_MAX)?;
                    exceptions.extend(page.into_iter().map(|(e, _)| e));
                }
                Ok::<_, StoreError>((runs, exceptions))
            })
            .await?)
    }
}
