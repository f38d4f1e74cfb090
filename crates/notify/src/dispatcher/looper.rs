//! The dispatcher's loop. A look reads due notifications and the signing secrets of their
//! merchants in one read transaction, places each — a free connection of its merchant's, or
//! a place in the merchant's queue (`merchants.rs`) — claims them in one writer job, and
//! starts an attempt for each claimed one that has a connection.
//!
//! Two kinds of look, so a backlog is never scanned again and again: a **global** look (after
//! a wake, at the next due time, every `idle_poll`) reads the soonest due notifications of
//! every merchant that can take more — full merchants are left out, so one merchant's
//! backlog never fills the page — and is repeated at once while its page is full and gives
//! work; a **merchant** look reads only the due notifications of merchants whose queue is
//! half empty as their attempts finished (the next of an order is among them).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use paycore_payment_store::repo::merchants as merchant_rows;
use paycore_payment_store::repo::notifications::{self as outbox, secrets, Notification};
use paycore_payment_store::{Readers, Sql, StoreError, Writer};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::merchants::{self, Claimed, Merchants, Permits, Place};
use super::send::{self, SendContext};
use super::{DispatcherConfig, Shared};
use crate::deliver::Deliverer;
use crate::secret::Secret;
use crate::target::TargetPolicy;
use crate::{now_ms, NotifyError};

/// What a look reads.
struct Wanted {
    /// A global look: the full merchants left out, and the page size.
    global: Option<(Vec<String>, u64)>,
    /// Merchant looks: each with the notifications it can take.
    merchants: Vec<(String, u64)>,
}

/// What a look read.
struct Page {
    due: Vec<Notification>,
    /// The global page was full.
    full: bool,
    secrets: HashMap<String, Vec<Secret>>,
    /// Each merchant's registered callback hosts as stored now (`None`: no such merchant).
    hosts: HashMap<String, Option<Vec<String>>>,
    /// After a global look: when the next pending notification falls due.
    next_due_at: Option<u64>,
}

pub(super) struct Looper<S> {
    config: DispatcherConfig,
    readers: Readers,
    context: Arc<SendContext<S>>,
    merchants: Merchants,
    tasks: JoinSet<()>,
    /// Merchants whose attempts finished, as the attempts report them.
    done: mpsc::UnboundedReceiver<String>,
    /// Merchants with a connection freed since they were last attended to.
    freed: HashSet<String>,
    next_due_at: Option<u64>,
    stats_at: Option<Instant>,
}

impl<S: Send + 'static> Looper<S> {
    pub fn new(
        config: DispatcherConfig,
        readers: Readers,
        writer: Arc<Writer<S>>,
        shared: Arc<Shared>,
    ) -> Result<Looper<S>, NotifyError> {
        let policy = TargetPolicy::new(config.allow.clone())?;
        // Merchants share hosts (a test or a demo, one host): keep as many idle connections
        // per host as can be in flight.
        let deliverer = Deliverer::new(policy, config.timeout, config.in_flight_max)?;
        let (done_tx, done) = mpsc::unbounded_channel();
        let context = Arc::new(SendContext {
            writer,
            deliverer,
            schedule: config.schedule.clone(),
            shared,
            done: done_tx,
        });
        Ok(Looper {
            merchants: Merchants::new(config.connections_per_merchant, config.in_flight_max),
            config,
            readers,
            context,
            tasks: JoinSet::new(),
            done,
            freed: HashSet::new(),
            next_due_at: None,
            stats_at: None,
        })
    }

    pub async fn run(mut self) {
        let shared = Arc::clone(&self.context.shared);
        tracing::info!(schedule = %self.config.schedule, "notification dispatcher started");
        self.release_predecessors_claims().await;
        let mut global = true;
        while !shared.stopping.load(Ordering::SeqCst) {
            self.reap();
            self.refresh_stats().await;
            let dry = self.start_queued();
            let more = self.look(global, dry).await.unwrap_or_else(|error| {
                tracing::warn!(%error, "looking for due notifications failed");
                false
            });
            global = if more {
                tokio::task::yield_now().await;
                true
            } else {
                self.wait().await
            };
        }
        self.finish().await;
    }

    /// Starts what freed merchants have queued; the merchants whose queue is half empty, with
    /// what each can take.
    fn start_queued(&mut self) -> Vec<(String, u64)> {
        while let Ok(merchant) = self.done.try_recv() {
            self.freed.insert(merchant);
        }
        let mut dry = Vec::new();
        for merchant in std::mem::take(&mut self.freed) {
            for (claimed, permits) in self.merchants.start_queued(&merchant) {
                self.spawn(claimed, permits);
            }
            let room = self.merchants.room(&merchant);
            if self.merchants.wants_more(&merchant) && room > 0 {
                dry.push((merchant, room as u64));
            }
        }
        dry
    }

    /// Looks once; true when a full global page gave work (look again at once).
    async fn look(&mut self, global: bool, dry: Vec<(String, u64)>) -> Result<bool, StoreError> {
        if (!global && dry.is_empty()) || !self.merchants.slots_free() {
            // Nothing to look for, or every slot is taken (a finishing attempt wakes the loop).
            return Ok(false);
        }
        let now = now_ms();
        let wanted = Wanted {
            global: global.then(|| (self.merchants.busy(), self.config.page_size)),
            merchants: dry,
        };
        let page = self
            .readers
            .read(move |sql| read_page(sql, now, &wanted))
            .await?;
        if global {
            self.next_due_at = page.next_due_at;
        }
        let placed = self.place(page.due);
        let more = page.full && !placed.is_empty();
        self.claim(placed, page.secrets, page.hosts, now).await?;
        Ok(more)
    }

    /// A place for each notification its merchant can take (once each: a global and a
    /// merchant look may both read one).
    fn place(&mut self, due: Vec<Notification>) -> Vec<(Notification, Place)> {
        let mut seen = HashSet::new();
        let mut queued: HashMap<String, usize> = HashMap::new();
        let mut placed = Vec::new();
        for n in due {
            if !seen.insert(n.event_id.clone()) {
                continue;
            }
            let queued_here = queued.entry(n.merchant.clone()).or_default();
            match self.merchants.place(&n.merchant, *queued_here) {
                Some(Place::Queue) => {
                    *queued_here += 1;
                    placed.push((n, Place::Queue));
                }
                Some(send) => placed.push((n, send)),
                None => {}
            }
        }
        placed
    }

    /// Sends again, now, what a dead predecessor had claimed (rather than waiting for its
    /// leases to lapse: a kill -9 would otherwise delay those notifications by a lease).
    async fn release_predecessors_claims(&self) {
        let now = crate::now_ms();
        let released = self
            .context
            .writer
            .run(move |_, sql| outbox::release_all_claims(sql, now))
            .await;
        match released {
            Ok(0) => {}
            Ok(n) => tracing::info!(notifications = n, "claims of the previous run released"),
            Err(error) => {
                tracing::warn!(%error, "releasing the previous run's claims failed; they lapse")
            }
        }
    }

    /// Claims the placed notifications; starts or queues those it won.
    async fn claim(
        &mut self,
        placed: Vec<(Notification, Place)>,
        secrets: HashMap<String, Vec<Secret>>,
        hosts: HashMap<String, Option<Vec<String>>>,
        now: u64,
    ) -> Result<(), StoreError> {
        if placed.is_empty() {
            return Ok(());
        }
        // A queued one waits for at most the attempts queued before it, per connection.
        let waits = 1 + merchants::QUEUED_PER_CONNECTION as u32;
        let lease = waits * self.config.timeout + self.config.claim_margin;
        let until = now + u64::try_from(lease.as_millis()).unwrap_or(u64::MAX / 2);
        let claims: Vec<(String, u32)> = placed
            .iter()
            .map(|(n, _)| (n.event_id.clone(), n.attempt_count))
            .collect();
        let won = self
            .context
            .writer
            .run(move |_, sql| {
                claims
                    .iter()
                    .map(|(id, attempts)| outbox::claim(sql, id, *attempts, now, until))
                    .collect::<Result<Vec<bool>, StoreError>>()
            })
            .await?;
        for ((notification, place), won) in placed.into_iter().zip(won) {
            if !won {
                continue;
            }
            let signing = secrets.get(&notification.merchant).cloned();
            let callback_hosts = hosts.get(&notification.merchant).cloned().flatten();
            let claimed = Claimed {
                notification,
                secrets: signing.unwrap_or_default(),
                callback_hosts,
            };
            match place {
                Place::Send(permits) => self.spawn(claimed, permits),
                Place::Queue => self.merchants.queue(claimed),
            }
        }
        Ok(())
    }

    fn spawn(&mut self, claimed: Claimed, permits: Permits) {
        let context = Arc::clone(&self.context);
        self.tasks.spawn(send::attempt(context, claimed, permits));
        self.context
            .shared
            .metrics
            .in_flight(self.merchants.in_flight());
    }

    /// Waits for something to do: true for a global look (a wake, a due time, the idle
    /// poll), false when an attempt finished (its merchant is attended to).
    async fn wait(&mut self) -> bool {
        let idle = self.config.idle_poll;
        let until_due = self
            .next_due_at
            .map(|at| Duration::from_millis(at.saturating_sub(now_ms())));
        let sleep = until_due.map_or(idle, |d| d.min(idle));
        tokio::select! {
            _ = self.context.shared.wake.notified() => true,
            Some(merchant) = self.done.recv() => {
                self.freed.insert(merchant);
                false
            }
            _ = tokio::time::sleep(sleep) => true,
        }
    }

    /// Collects finished attempts (their records are written by then).
    fn reap(&mut self) {
        while let Some(done) = self.tasks.try_join_next() {
            report_panic(done);
        }
        let count = self.merchants.in_flight();
        self.context.shared.metrics.in_flight(count);
    }

    async fn refresh_stats(&mut self) {
        if self
            .stats_at
            .is_some_and(|at| at.elapsed() < self.config.stats_every)
        {
            return;
        }
        self.stats_at = Some(Instant::now());
        match self.readers.read(outbox::stats).await {
            Ok(stats) => self
                .context
                .shared
                .metrics
                .queue(stats.pending, stats.oldest_pending_created_at),
            Err(error) => tracing::warn!(%error, "reading the notification queue's size failed"),
        }
    }

    /// Waits for the attempts in flight to be recorded, gives back the claims of queued
    /// notifications (due again at once, for the next dispatcher), then lets go of the store.
    async fn finish(mut self) {
        while let Some(done) = self.tasks.join_next().await {
            report_panic(done);
        }
        self.context.shared.metrics.in_flight(0);
        let queued: Vec<(String, u32)> = self
            .merchants
            .drain_queued()
            .into_iter()
            .map(|c| (c.notification.event_id, c.notification.attempt_count))
            .collect();
        if !queued.is_empty() {
            let now = now_ms();
            let released = self
                .context
                .writer
                .run(move |_, sql| {
                    queued
                        .iter()
                        .try_for_each(|(id, count)| outbox::release(sql, id, *count, now).map(drop))
                })
                .await;
            if let Err(error) = released {
                tracing::warn!(%error, "giving back notification claims failed: they lapse");
            }
        }
        // The last reader or writer handle may be this one: closing a PostgreSQL connection
        // blocks (and the writer joins its thread), so not on an async thread.
        let (readers, context) = (self.readers, self.context);
        let _ = tokio::task::spawn_blocking(move || drop((readers, context))).await;
        tracing::info!("notification dispatcher stopped");
    }
}

fn read_page(sql: &mut dyn Sql, now: u64, wanted: &Wanted) -> Result<Page, StoreError> {
    let mut due = Vec::new();
    let mut full = false;
    if let Some((busy, limit)) = &wanted.global {
        let busy: Vec<&str> = busy.iter().map(String::as_str).collect();
        due = outbox::due_excluding(sql, now, &busy, *limit)?;
        full = due.len() as u64 == *limit;
    }
    for (merchant, room) in &wanted.merchants {
        due.extend(outbox::due_for(sql, merchant, now, *room)?);
    }
    let mut signing = HashMap::new();
    let mut hosts = HashMap::new();
    for n in &due {
        if !signing.contains_key(&n.merchant) {
            let active = secrets::active(sql, &n.merchant, now)?;
            let active = active.into_iter().map(|s| Secret::new(s.secret)).collect();
            signing.insert(n.merchant.clone(), active);
            let merchant = merchant_rows::get(sql, &n.merchant)?;
            hosts.insert(n.merchant.clone(), merchant.map(|m| m.callback_hosts));
        }
    }
    let next_due_at = match wanted.global {
        Some(_) => outbox::next_due_at(sql, now)?,
        None => None,
    };
    Ok(Page {
        due,
        full,
        secrets: signing,
        hosts,
        next_due_at,
    })
}

fn report_panic(done: Result<(), tokio::task::JoinError>) {
    if let Err(error) = done {
        tracing::error!(%error, "a notification attempt failed to finish");
    }
}
