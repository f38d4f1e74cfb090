//! Merchant notifications from the service's side: the operators' reads and retries of the
//! outbox, the merchants' notification secrets (generated at creation, rotated with a grace
//! period), and waking the dispatcher after a job that queued a notification committed.
//! The notifications themselves are inserted by the jobs that make the state changes
//! (`drive.rs`, `refunds.rs`) through `paycore_notify::outbox`.

use std::time::Duration;

use paycore_notify::{MetricsSnapshot, Secret};
use paycore_payment_store::repo::merchants;
use paycore_payment_store::repo::notifications::{
    self as outbox, secrets, Filter, Notification, Retry, Status,
};
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::PayError;

use crate::clock::now_ms;
use crate::error::{Result, ServiceError};
use crate::PaymentService;

/// Longest grace period a rotation may ask for.
pub const SECRET_GRACE_MAX: Duration = Duration::from_secs(30 * 24 * 3600);

/// Which notifications an operator lists (every filter set must match).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationQuery {
    pub status: Option<Status>,
    pub merchant: Option<String>,
    /// The order (trade or payout id) the notifications are about.
    pub order: Option<String>,
    /// The last event id of the previous page.
    pub after: Option<String>,
    pub limit: u64,
}

/// A merchant's new notification secret, shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct RotatedSecret {
    pub merchant: String,
    pub secret: Secret,
    /// 1, 2, … per merchant.
    pub version: u64,
    /// When the secrets it replaced stop signing (`None`: there were none).
    pub previous_retires_at: Option<u64>,
}

impl std::fmt::Debug for RotatedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedSecret")
            .field("merchant", &self.merchant)
            .field("secret", &self.secret)
            .field("version", &self.version)
            .field("previous_retires_at", &self.previous_retires_at)
            .finish()
    }
}

impl PaymentService {
    /// Makes the dispatcher look now (after a job that queued or re-armed a notification).
    pub(crate) fn wake_notifications(&self) {
        if let Some(waker) = &self.inner.notify_waker {
            waker.wake();
        }
    }

    /// `GET /v1/notifications`: in creation order, a page after `query.after`.
    pub async fn notifications(&self, query: NotificationQuery) -> Result<Vec<Notification>> {
        let filter = Filter {
            status: query.status,
            merchant: query.merchant,
            order_id: query.order,
            after: query.after,
            limit: query.limit,
        };
        Ok(self
            .inner
            .readers
            .read(move |sql| outbox::list(sql, &filter))
            .await?)
    }

    pub async fn notification(&self, event_id: &str) -> Result<Option<Notification>> {
        let id = event_id.to_owned();
        Ok(self
            .inner
            .readers
            .read(move |sql| outbox::get(sql, &id))
            .await?)
    }

    /// `POST /v1/notifications/{event_id}/retry`: a pending or dead notification is due now
    /// (a dead one gets one more attempt); one being sent right now is left to that attempt.
    pub async fn retry_notification(&self, event_id: &str) -> Result<Notification> {
        let id = event_id.to_owned();
        let now = now_ms();
        let (retry, notification) = self
            .inner
            .writer
            .run(move |_, sql| {
                let retry = outbox::retry_now(sql, &id, now)?;
                Ok((retry, outbox::get(sql, &id)?))
            })
            .await?;
        let notification = match (retry, notification) {
            (Retry::NotFound, _) | (_, None) => {
                return Err(ServiceError::NotificationNotFound(event_id.to_owned()))
            }
            (Retry::AlreadyDelivered, _) => {
                return Err(ServiceError::NotificationDelivered(event_id.to_owned()))
            }
            (Retry::Scheduled | Retry::InFlight, Some(n)) => n,
        };
        tracing::info!(target: "paycore::audit", event_id, ?retry, "notification retry asked");
        self.wake_notifications();
        Ok(notification)
    }

    /// The dispatcher's counters, when it runs.
    pub fn notify_metrics(&self) -> Option<MetricsSnapshot> {
        self.inner.dispatcher.lock().as_ref().map(|d| d.metrics())
    }

    /// `POST /v1/merchants/{id}/secret/rotate`: a new secret signs from now on; the ones
    /// signing until now keep signing beside it for `grace` (default `--notify-secret-grace`).
    /// A merchant without a secret (created before notifications) gets its first.
    pub async fn rotate_secret(
        &self,
        merchant: &str,
        grace: Option<Duration>,
    ) -> Result<RotatedSecret> {
        let grace = grace.unwrap_or(self.inner.config.secret_grace);
        if grace > SECRET_GRACE_MAX {
            return Err(PayError::invalid("grace_period_s", "at most 30 days").into());
        }
        let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        let secret = new_secret()?;
        let (id, text, now) = (merchant.to_owned(), secret.expose().to_owned(), now_ms());
        let rotated = self
            .inner
            .writer
            .run(move |_, sql| rotate(sql, &id, &text, now, grace_ms))
            .await??;
        tracing::info!(target: "paycore::audit", merchant, version = rotated.0, "notification secret rotated");
        Ok(RotatedSecret {
            merchant: merchant.to_owned(),
            secret,
            version: rotated.0,
            previous_retires_at: rotated.1,
        })
    }
}

/// A fresh notification secret.
pub(crate) fn new_secret() -> Result<Secret> {
    Secret::generate().map_err(|e| ServiceError::Internal(e.to_string()))
}

/// The rotation in the writer: the new version and when the previous secrets retire.
fn rotate(
    sql: &mut dyn Sql,
    merchant: &str,
    secret: &str,
    now: u64,
    grace_ms: u64,
) -> std::result::Result<std::result::Result<(u64, Option<u64>), PayError>, StoreError> {
    if merchants::get(sql, merchant)?.is_none() {
        return Ok(Err(PayError::MerchantNotFound(merchant.to_owned())));
    }
    if secrets::active(sql, merchant, now)?.is_empty() {
        return Ok(Ok((secrets::create(sql, merchant, secret, now)?, None)));
    }
    let version = secrets::rotate(sql, merchant, secret, now, grace_ms)?;
    Ok(Ok((version, Some(now.saturating_add(grace_ms)))))
}
