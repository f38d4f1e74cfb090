//! One attempt of a claimed notification: check its host is still one of the merchant's
//! callback hosts, sign it with the merchant's active secrets at the
//! moment of sending, deliver it, decide what follows (delivered, the schedule's next time, or
//! dead) and record it through the writer. The merchant's connection is freed as soon as the
//! merchant answered (the loop is told, and may start its next queued notification), the
//! slot of all once the attempt is recorded (the loop is told again: the next notification
//! of the order may be due now).

use std::sync::Arc;

use paycore_payment_store::repo::notifications::Status;
use paycore_payment_store::repo::notifications::{self as outbox, Attempt, Next, Notification};
use paycore_payment_store::Writer;
use paycore_payments::merchant::notify_url_host;
use tokio::sync::mpsc;

use super::merchants::{Claimed, Permits};
use super::Shared;
use crate::deliver::{Deliverer, Delivery, Reason, Request};
use crate::now_ms;
use crate::schedule::Schedule;
use crate::secret::Secret;
use crate::signature::signature_header;

/// What every attempt shares.
pub(super) struct SendContext<S> {
    pub writer: Arc<Writer<S>>,
    pub deliverer: Deliverer,
    pub schedule: Schedule,
    pub shared: Arc<Shared>,
    /// Where an attempt reports its merchant once it is recorded.
    pub done: mpsc::UnboundedSender<String>,
}

pub(super) async fn attempt<S: Send + 'static>(
    context: Arc<SendContext<S>>,
    claimed: Claimed,
    mut permits: Permits,
) {
    let Claimed {
        notification: n,
        secrets,
        callback_hosts,
    } = claimed;
    let at = now_ms();
    let delivery = if registered(&n.url, callback_hosts.as_deref()) {
        send(&context.deliverer, &n, &secrets, at).await
    } else {
        tracing::warn!(event_id = %n.event_id, merchant = %n.merchant, "notify URL's host is not among the merchant's callback hosts: refused");
        Delivery::failed(Reason::TargetRefused, None, std::time::Instant::now())
    };
    permits.release_connection();
    // The loop outlives every attempt; if it is gone there is nobody to tell.
    let _ = context.done.send(n.merchant.clone());
    context.shared.metrics.attempt(delivery.reason);
    let next = if delivery.acknowledged() {
        Next::Delivered
    } else {
        match context.schedule.next_after(n.attempt_count + 1, now_ms()) {
            Some(retry_at) => Next::RetryAt(retry_at),
            None => Next::Dead,
        }
    };
    record(&context, &n, attempt_of(&delivery, at), next).await;
    drop(permits);
    let _ = context.done.send(n.merchant);
}

/// Whether the URL's host is one of the merchant's registered callback hosts (checked again
/// at send time: the hosts are the merchant's word as it stands now). A text that is not an
/// http(s) URL passes here: the deliverer refuses it as `invalid_url`.
fn registered(url: &str, callback_hosts: Option<&[String]>) -> bool {
    let Ok(host) = notify_url_host(url) else {
        return true;
    };
    callback_hosts.is_some_and(|hosts| hosts.contains(&host))
}

async fn send(deliverer: &Deliverer, n: &Notification, secrets: &[Secret], at: u64) -> Delivery {
    if secrets.is_empty() {
        // Never sent unsigned: it waits for the merchant's secret like any failure.
        return Delivery::failed(Reason::NoSecret, None, std::time::Instant::now());
    }
    let timestamp = at / 1_000;
    let signature = signature_header(secrets, timestamp, &n.body);
    let request = Request {
        url: &n.url,
        event_id: &n.event_id,
        timestamp,
        signature: &signature,
        body: &n.body,
    };
    deliverer.deliver(&request).await
}

fn attempt_of(delivery: &Delivery, at: u64) -> Attempt {
    Attempt {
        at,
        status_code: delivery.status_code,
        reason: delivery.reason.map(|r| r.code().to_owned()),
        latency_ms: u64::try_from(delivery.latency.as_millis()).unwrap_or(u64::MAX),
    }
}

async fn record<S: Send + 'static>(
    context: &SendContext<S>,
    n: &Notification,
    attempt: Attempt,
    next: Next,
) {
    let (event_id, before) = (n.event_id.clone(), n.attempt_count);
    let reason = attempt.reason.clone();
    let recorded = context
        .writer
        .run(move |_, sql| outbox::record_attempt(sql, &event_id, before, &attempt, next))
        .await;
    let (id, merchant) = (&n.event_id, &n.merchant);
    match recorded {
        Ok(Some(Status::Dead)) => {
            context.shared.metrics.dead();
            tracing::warn!(event_id = %id, %merchant, ?reason, "notification dead: schedule spent");
        }
        Ok(Some(status)) => {
            tracing::debug!(event_id = %id, %merchant, status = status.name(), ?reason, "notification attempt");
        }
        Ok(None) => {
            context.shared.metrics.stale_record();
            tracing::warn!(event_id = %id, "notification attempt not recorded: another came first");
        }
        Err(error) => {
            // Its claim lapses and it goes again: at least once.
            tracing::warn!(event_id = %id, %error, "recording a notification attempt failed");
        }
    }
}
