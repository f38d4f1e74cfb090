//! The dispatcher's view of each merchant: its connections (a semaphore of
//! `connections_per_merchant` permits, held by attempts until the merchant answered) and a
//! queue of notifications already claimed for it that wait for a connection — so when an
//! attempt finishes the next one starts at once, without a read and a claim, and a look (one
//! read and one claim for many) is needed only when the queue is half empty.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use paycore_payment_store::repo::notifications::{self as outbox, Notification};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::secret::Secret;

/// Merchants kept while idle (beyond, idle ones are forgotten).
const TRACKED_MAX: usize = 4_096;
/// Claimed notifications a merchant may have waiting, per connection.
pub(super) const QUEUED_PER_CONNECTION: usize = 4;

/// A claimed notification, the secrets that sign it and its merchant's callback hosts
/// (`None`: the merchant is unknown).
pub(super) struct Claimed {
    pub notification: Notification,
    pub secrets: Vec<Secret>,
    pub callback_hosts: Option<Vec<String>>,
}

/// A connection of the merchant's (given back once the merchant answered) and a slot of all
/// (given back once the attempt is recorded).
pub(super) struct Permits {
    connection: Option<OwnedSemaphorePermit>,
    _slot: OwnedSemaphorePermit,
}

impl Permits {
    fn new(connection: OwnedSemaphorePermit, slot: OwnedSemaphorePermit) -> Permits {
        Permits {
            connection: Some(connection),
            _slot: slot,
        }
    }

    /// The HTTP exchange is over: the merchant's connection may carry the next attempt.
    pub fn release_connection(&mut self) {
        self.connection = None;
    }
}

/// What a due notification may have.
pub(super) enum Place {
    /// A connection now.
    Send(Permits),
    /// A place in its merchant's queue.
    Queue,
}

struct Slot {
    connections: Arc<Semaphore>,
    ready: VecDeque<Claimed>,
}

pub(super) struct Merchants {
    slots: HashMap<String, Slot>,
    per_merchant: usize,
    queue_max: usize,
    in_flight: Arc<Semaphore>,
    in_flight_max: usize,
}

impl Merchants {
    pub fn new(per_merchant: usize, in_flight_max: usize) -> Merchants {
        Merchants {
            slots: HashMap::new(),
            per_merchant,
            queue_max: per_merchant * QUEUED_PER_CONNECTION,
            in_flight: Arc::new(Semaphore::new(in_flight_max)),
            in_flight_max,
        }
    }

    fn slot(&mut self, merchant: &str) -> &mut Slot {
        if !self.slots.contains_key(merchant) {
            if self.slots.len() >= TRACKED_MAX {
                let idle = self.per_merchant;
                self.slots
                    .retain(|_, s| s.connections.available_permits() < idle || !s.ready.is_empty());
            }
            let slot = Slot {
                connections: Arc::new(Semaphore::new(self.per_merchant)),
                ready: VecDeque::new(),
            };
            self.slots.insert(merchant.to_owned(), slot);
        }
        self.slots.get_mut(merchant).expect("inserted above")
    }

    /// Attempts in flight in all.
    pub fn in_flight(&self) -> u64 {
        (self.in_flight_max - self.in_flight.available_permits()) as u64
    }

    pub fn slots_free(&self) -> bool {
        self.in_flight.available_permits() > 0
    }

    /// Merchants that can take nothing more: no free connection and a full queue (at most
    /// `EXCLUDED_MAX`; the configuration keeps them fewer).
    pub fn busy(&self) -> Vec<String> {
        self.slots
            .iter()
            .filter(|(_, s)| {
                s.connections.available_permits() == 0 && s.ready.len() >= self.queue_max
            })
            .map(|(m, _)| m.clone())
            .take(outbox::EXCLUDED_MAX)
            .collect()
    }

    /// How many more notifications `merchant` can take: free connections and queue places.
    pub fn room(&self, merchant: &str) -> usize {
        self.slots
            .get(merchant)
            .map_or(self.per_merchant + self.queue_max, |s| {
                s.connections.available_permits() + self.queue_max.saturating_sub(s.ready.len())
            })
    }

    /// A connection if one is free (and a slot of all), else a queue place if `queued` so far
    /// in this look leave one; `None` when the merchant is full.
    pub fn place(&mut self, merchant: &str, queued: usize) -> Option<Place> {
        let in_flight = Arc::clone(&self.in_flight);
        let queue_max = self.queue_max;
        let slot = self.slot(merchant);
        if let Ok(connection) = Arc::clone(&slot.connections).try_acquire_owned() {
            if let Ok(slot) = in_flight.try_acquire_owned() {
                return Some(Place::Send(Permits::new(connection, slot)));
            }
        }
        (slot.ready.len() + queued < queue_max).then_some(Place::Queue)
    }

    pub fn queue(&mut self, claimed: Claimed) {
        let merchant = claimed.notification.merchant.clone();
        self.slot(&merchant).ready.push_back(claimed);
    }

    /// Queued notifications of `merchant` that can start now, with their permits.
    pub fn start_queued(&mut self, merchant: &str) -> Vec<(Claimed, Permits)> {
        let in_flight = Arc::clone(&self.in_flight);
        let Some(slot) = self.slots.get_mut(merchant) else {
            return Vec::new();
        };
        let mut started = Vec::new();
        while !slot.ready.is_empty() {
            let Ok(connection) = Arc::clone(&slot.connections).try_acquire_owned() else {
                break;
            };
            let Ok(one) = Arc::clone(&in_flight).try_acquire_owned() else {
                break;
            };
            let claimed = slot.ready.pop_front().expect("not empty");
            started.push((claimed, Permits::new(connection, one)));
        }
        started
    }

    /// Whether `merchant`'s queue is half empty or less (a look refills it).
    pub fn wants_more(&self, merchant: &str) -> bool {
        let half = self.queue_max / 2;
        self.slots
            .get(merchant)
            .is_none_or(|s| s.ready.len() <= half)
    }

    /// Every queued notification (when stopping: their claims are given back).
    pub fn drain_queued(&mut self) -> Vec<Claimed> {
        self.slots
            .values_mut()
            .flat_map(|s| s.ready.drain(..))
            .collect()
    }
}
