//! The resolver: finds every channel order whose outcome is open and due for a check (its
//! `next_check_at`, stored with it) and finishes it — posts a success the bank already gave,
//! or asks the bank and applies the answer. Never fails an order by timer: only the bank's
//! word closes one. After a restart it finds every order left open, so nothing stalls.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use paycore_channels::OrderKind;
use paycore_payment_store::repo::payments;
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
        self.notify.notify_waiters();
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

pub(crate) fn spawn(service: PaymentService) {
    tokio::spawn(async move { run(service).await });
}

async fn run(service: PaymentService) {
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(service.inner.config.resolver_concurrency));
    while !service.inner.resolver.stopped() {
        let now = now_ms();
        let due = service
            .inner
            .readers
            .read(move |sql| payments::due_checks(sql, now, DUE_PER_LOOK))
            .await;
        match due {
            Ok(due) => {
                for (payment_id, order_no, _) in due {
                    if !in_flight.lock().insert(order_no.clone()) {
                        continue;
                    }
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        return;
                    };
                    let (service, in_flight) = (service.clone(), in_flight.clone());
                    tokio::spawn(async move {
                        if let Err(error) = service.resolve(&payment_id, &order_no).await {
                            tracing::warn!(payment = %payment_id, order = %order_no, %error, "resolving an open order failed; it is tried again later");
                        }
                        in_flight.lock().remove(&order_no);
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
}

impl PaymentService {
    /// Finishes or asks about one open channel order.
    async fn resolve(&self, payment_id: &str, order_no: &str) -> Result<()> {
        let id = payment_id.to_owned();
        let Some(payment) = self
            .inner
            .readers
            .read(move |sql| payments::get(sql, &id))
            .await?
        else {
            return Ok(());
        };
        let Some(attempt) = payment
            .attempts
            .iter()
            .find(|a| a.channel_order_no == order_no && a.next_check_at.is_some())
            .cloned()
        else {
            return Ok(()); // finished meanwhile
        };
        if payment.needs_posting() {
            self.post_and_mark(payment).await?;
            return Ok(());
        }
        let answer = self
            .adapter(&attempt.channel)?
            .query(OrderKind::Pay, order_no)
            .await;
        let result = bank_result(answer);
        tracing::debug!(payment = %payment_id, order = %order_no, ?result, "status query");
        self.apply_report(payment_id, order_no, Source::Query, result)
            .await?;
        Ok(())
    }
}
