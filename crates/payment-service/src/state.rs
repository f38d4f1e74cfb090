//! The payment writer's state (owned by the store's writer thread, see
//! `paycore_payment_store::Writer`): the router, the channels it routes among, a cache of
//! merchants, the counters it hands out, and per-channel counters batched per transaction.
//! Everything here is either rebuilt from the database or written before each commit, so a
//! failed transaction loses nothing (the state is rebuilt from what committed).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use paycore_payment_store::repo::channels::{self, Counters};
use paycore_payment_store::repo::{merchants, state};
use paycore_payment_store::{Sql, StoreError};
use paycore_payments::routing::CallOutcome;
use paycore_payments::{Channel, Health, HealthPolicy, Merchant, Millis, Router};

use crate::clock::date_digits;

/// Channel health as the writer last saw it, for readers (`GET /v1/channels`).
pub type SharedHealth = Arc<RwLock<HashMap<String, Health>>>;

const ORDER_SEQUENCE: &str = "channel_order";
const TRADE_SEQUENCE: &str = "trade";

pub struct WriterState {
    pub router: Router,
    /// Every channel, in id order.
    pub channels: Vec<Channel>,
    merchants: HashMap<String, Merchant>,
    order_seq: Sequence,
    trade_seq: Sequence,
    counters: HashMap<String, Counters>,
    health: SharedHealth,
}

struct Sequence {
    name: &'static str,
    value: u64,
    dirty: bool,
}

impl Sequence {
    fn load(sql: &mut dyn Sql, name: &'static str) -> Result<Sequence, StoreError> {
        Ok(Sequence {
            name,
            value: state::sequence(sql, name)?,
            dirty: false,
        })
    }

    fn next(&mut self) -> u64 {
        self.value += 1;
        self.dirty = true;
        self.value
    }

    fn save(&mut self, sql: &mut dyn Sql) -> Result<(), StoreError> {
        if self.dirty {
            state::save_sequence(sql, self.name, self.value)?;
            self.dirty = false;
        }
        Ok(())
    }
}

impl WriterState {
    /// Builds the state from the database.
    pub fn load(
        sql: &mut dyn Sql,
        policy: HealthPolicy,
        health: SharedHealth,
    ) -> Result<WriterState, StoreError> {
        let mut router = Router::new(policy);
        for (key, split) in state::splits(sql)? {
            router.restore_split(&key, &split);
        }
        // Health is not stored: after a restart every channel starts healthy.
        health.write().clear();
        Ok(WriterState {
            router,
            channels: channels::all(sql)?,
            merchants: HashMap::new(),
            order_seq: Sequence::load(sql, ORDER_SEQUENCE)?,
            trade_seq: Sequence::load(sql, TRADE_SEQUENCE)?,
            counters: HashMap::new(),
            health,
        })
    }

    /// Writes what this transaction batched: the split's state, the sequences, counters.
    pub fn before_commit(&mut self, sql: &mut dyn Sql) -> Result<(), StoreError> {
        for (key, split) in self.router.take_dirty_splits() {
            state::save_split(sql, &key, &split)?;
        }
        self.order_seq.save(sql)?;
        self.trade_seq.save(sql)?;
        for (channel, delta) in self.counters.drain() {
            if !delta.is_zero() {
                channels::add_counters(sql, &channel, delta)?;
            }
        }
        Ok(())
    }

    /// A new channel order number: the date and a sequence that never repeats (20 digits
    /// today), unique across every channel.
    pub fn next_order_no(&mut self, now: Millis) -> String {
        format!("{}{:012}", date_digits(now), self.order_seq.next())
    }

    pub fn next_trade_id(&mut self, now: Millis) -> String {
        format!("T{}{:010}", date_digits(now), self.trade_seq.next())
    }

    pub fn merchant(
        &mut self,
        sql: &mut dyn Sql,
        id: &str,
    ) -> Result<Option<Merchant>, StoreError> {
        if let Some(m) = self.merchants.get(id) {
            return Ok(Some(m.clone()));
        }
        let found = merchants::get(sql, id)?;
        if let Some(m) = &found {
            self.merchants.insert(id.to_owned(), m.clone());
        }
        Ok(found)
    }

    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// Replaces (or adds) a channel's configuration in the routing set.
    pub fn put_channel(&mut self, channel: Channel) {
        match self.channels.iter_mut().find(|c| c.id == channel.id) {
            Some(existing) => *existing = channel,
            None => {
                self.channels.push(channel);
                self.channels.sort_by(|a, b| a.id.cmp(&b.id));
            }
        }
    }

    pub fn count(&mut self, channel: &str, bump: impl FnOnce(&mut Counters)) {
        bump(self.counters.entry(channel.to_owned()).or_default());
    }

    pub fn record_health(&mut self, channel: &str, outcome: CallOutcome, now: Millis) {
        self.router.record(channel, outcome, now);
        let health = self.router.health(channel);
        self.health.write().insert(channel.to_owned(), health);
    }
}
