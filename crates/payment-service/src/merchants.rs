//! Merchants: created with their ledger account (opened first: the ledger's open is
//! idempotent, so a retry after a crash between the two finishes the job) and, in the same
//! writer job as the merchant's row, their first notification secret — shown once, in the
//! answer of the request that created the merchant.

use paycore_ledger::AccountType;
use paycore_notify::Secret;
use paycore_payment_store::repo::merchants;
use paycore_payment_store::repo::notifications::secrets;
use paycore_payments::{Merchant, NewMerchant, PayError};

use crate::clock::now_ms;
use crate::error::Result;
use crate::PaymentService;

impl PaymentService {
    /// Creates a merchant with its notification secret (returned only now: `Some` when
    /// created by this call); a retry with the same content returns the merchant without it.
    pub async fn create_merchant(
        &self,
        request: NewMerchant,
    ) -> Result<(Merchant, Option<Secret>)> {
        let now = now_ms();
        let merchant = request.clone().into_merchant(now)?;
        if let Some(existing) = self.merchant(&merchant.id).await? {
            return same_or_conflict(existing, &request);
        }
        let secret = crate::notifications::new_secret()?;
        let secret_text = secret.expose().to_owned();
        self.inner
            .ledger
            .ensure_account(
                &merchant.account,
                AccountType::Merchant,
                merchant.currency,
                &format!("merchant {}", merchant.id),
            )
            .await?;
        self.ensure_fee_account(merchant.currency).await?;
        let stored = merchant.clone();
        let created = self
            .inner
            .writer
            .run(move |_, sql| match merchants::get(sql, &stored.id)? {
                Some(existing) => Ok(Err(existing)),
                None => {
                    merchants::insert(sql, &stored)?;
                    secrets::create(sql, &stored.id, &secret_text, now)?;
                    Ok(Ok(stored))
                }
            })
            .await?;
        match created {
            Ok(merchant) => {
                tracing::info!(merchant = %merchant.id, account = %merchant.account, "merchant created");
                Ok((merchant, Some(secret)))
            }
            Err(existing) => same_or_conflict(existing, &request),
        }
    }

    pub async fn merchant(&self, id: &str) -> Result<Option<Merchant>> {
        let id = id.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| merchants::get(sql, &id))
            .await?)
    }

    pub async fn merchants(&self, after: &str, limit: u64) -> Result<Vec<Merchant>> {
        let after = after.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| merchants::list(sql, &after, limit))
            .await?)
    }
}

fn same_or_conflict(
    existing: Merchant,
    request: &NewMerchant,
) -> Result<(Merchant, Option<Secret>)> {
    if existing.same_request(request) {
        Ok((existing, None))
    } else {
        Err(PayError::IdConflict(existing.id).into())
    }
}
