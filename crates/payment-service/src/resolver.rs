//! The resolver: finds every payment and refund with a step left and due (its
//! `next_check_at`) and finishes it — does the ledger step its stored state says is next, or
//! asks the bank and applies the answer. Never fails an order by timer: only the bank's
//! word closes one. After a restart it finds every order left open, so nothing stalls.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use paycore_channels::OrderKind;
use paycore_payment_store::repo::{payments, refunds};
use paycore_payments::{RefundStep, Step};
use tokio::sync::{Notify, Semaphore};

use crate::clock::now_ms;
use crate::error::Result;
use crate::outcome::{bank_result, Source};
use crate::PaymentService;

/// How often the resolver looks for due checks when nothing wakes it.
const POLL: Duration = Duration::from_millis(200);
/// Most due checks read per look.
const DUE_PER_LOOK: u64 = 1_024;

#[derive(Default)]
pub(crate) struct Wakeup {
    notify: Notify,
    stopped: AtomicBool,
}

impl Wakeup {
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // A permit too, in case the loop is between its check and its wait.
        self.notify.notify_one();
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

pub(crate) fn spawn(service: PaymentService) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { run(service).await })
}

/// What the resolver looks at: a payment or a refund.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Due {
    Payment(String),
    Refund(String),
}

async fn due(service: &PaymentService, now: u64) -> Result<Vec<Due>> {
    let due = service
        .inner
        .readers
        .read(move |sql| {
            let payments = payments::due_checks(sql, now, DUE_PER_LOOK)?;
            let refunds = refunds::due_checks(sql, now, DUE_PER_LOOK)?;
            Ok::<_, paycore_payment_store::StoreError>((payments, refunds))
        })
        .await?;
    let (payments, refunds) = due;
    Ok(payments
        .into_iter()
        .map(|(id, _)| Due::Payment(id))
        .chain(refunds.into_iter().map(|(id, _)| Due::Refund(id)))
        .collect())
}

async fn run(service: PaymentService) {
    let in_flight: Arc<Mutex<HashSet<Due>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(service.inner.config.resolver_concurrency));
    while !service.inner.resolver.stopped() {
        match due(&service, now_ms()).await {
            Ok(due) => {
                for item in due {
                    if !in_flight.lock().insert(item.clone()) {
                        continue;
                    }
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        return;
                    };
                    let (service, in_flight) = (service.clone(), in_flight.clone());
                    tokio::spawn(async move {
                        if let Err(error) = service.resolve(&item).await {
                            tracing::warn!(?item, %error, "resolving an open order failed; it is tried again later");
                        }
                        in_flight.lock().remove(&item);
                        drop(permit);
                    });
                }
            }
            Err(error) => tracing::warn!(%error, "the resolver could not read due checks"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = service.inner.resolver.notify.notified() => {}
        }
    }
    // Wait for the checks still in flight: each holds the service.
    let all = service.inner.config.resolver_concurrency as u32;
    let _ = permits.acquire_many(all).await;
}

impl PaymentService {
    async fn resolve(&self, item: &Due) -> Result<()> {
        match item {
            Due::Payment(id) => self.resolve_payment(id).await,
            Due::Refund(id) => self.resolve_refund(id).await,
        }
    }

    /// Asks the bank about a payment's open channel order, or does its next ledger step.
    async fn resolve_payment(&self, payment_id: &str) -> Result<()> {
        let Some(payment) = self.payment(payment_id).await? else {
            return Ok(());
        };
        if payment.next_check_at.is_none() {
            return Ok(()); // finished meanwhile
        }
        if payment.next_step() != Step::AskBank {
            self.drive(payment).await?;
            return Ok(());
        }
        let Some(attempt) = payment.current() else {
            return Ok(());
        };
        let order = attempt.order.clone();
        let answer = self
            .adapter(&order.channel)?
            .query(OrderKind::Pay, &order.order_no)
            .await;
        let result = bank_result(answer);
        tracing::debug!(payment = %payment_id, order = %order.order_no, ?result, "status query");
        self.apply_report(payment_id, &order.order_no, Source::Query, result)
            .await?;
        Ok(())
    }

    /// Asks the bank about a refund's open order, or does its next ledger step.
    async fn resolve_refund(&self, refund_id: &str) -> Result<()> {
        let Some(refund) = self.refund_by_id(refund_id).await? else {
            return Ok(());
        };
        if refund.next_check_at.is_none() {
            return Ok(());
        }
        if refund.next_step() != RefundStep::AskBank {
            self.drive_refund(refund).await?;
            return Ok(());
        }
        let answer = self
            .adapter(&refund.order.channel)?
            .query(OrderKind::Refund, &refund.order.order_no)
            .await;
        let result = bank_result(answer);
        tracing::debug!(refund = %refund_id, ?result, "refund status query");
        self.apply_refund_report(refund_id, Source::Query, result)
            .await?;
        Ok(())
    }
}
