//! Routing (渠道路由): which channel a payment goes to. A chain of filters, in order, each
//! recording why it dropped a channel — enabled, method, currency, amount limits, rate limit,
//! health (and, for a reroute, channels already tried) — then the exact weighted split
//! (`split.rs`) among the channels left. A payment that names a channel skips the split but
//! not the filters. Every decision is returned whole, so it can be stored and explained.

mod bucket;
mod health;
mod split;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use paycore_money::Currency;

pub use bucket::TokenBucket;
pub use health::{CallOutcome, Health, HealthPolicy};
pub use split::SmoothWeighted;

use crate::channel::{Channel, Method};
use crate::ids::Millis;

/// Why a filter dropped a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    Disabled,
    MethodNotSupported,
    CurrencyNotSupported,
    BelowMinAmount {
        min: u64,
    },
    AboveMaxAmount {
        max: u64,
    },
    RateLimited {
        per_s: u32,
    },
    Resting {
        until: Millis,
    },
    /// A reroute does not go back to a channel the payment already tried.
    AlreadyTried,
    /// The payment named another channel.
    NotRequested,
    /// Weight 0: no split traffic (still usable by naming it).
    ZeroWeight,
}

impl DropReason {
    pub fn code(&self) -> &'static str {
        match self {
            DropReason::Disabled => "disabled",
            DropReason::MethodNotSupported => "method_not_supported",
            DropReason::CurrencyNotSupported => "currency_not_supported",
            DropReason::BelowMinAmount { .. } => "below_min_amount",
            DropReason::AboveMaxAmount { .. } => "above_max_amount",
            DropReason::RateLimited { .. } => "rate_limited",
            DropReason::Resting { .. } => "resting",
            DropReason::AlreadyTried => "already_tried",
            DropReason::NotRequested => "not_requested",
            DropReason::ZeroWeight => "zero_weight",
        }
    }

    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            DropReason::Disabled => "disabled".into(),
            DropReason::MethodNotSupported => "does not support the method".into(),
            DropReason::CurrencyNotSupported => "does not support the currency".into(),
            DropReason::BelowMinAmount { min } => format!("amount below its min_amount {min}"),
            DropReason::AboveMaxAmount { max } => format!("amount above its max_amount {max}"),
            DropReason::RateLimited { per_s } => format!("rate limit of {per_s}/s exhausted"),
            DropReason::Resting { until } => {
                format!("resting after consecutive failures until {until} ms")
            }
            DropReason::AlreadyTried => "already tried by this payment".into(),
            DropReason::NotRequested => "another channel was requested".into(),
            DropReason::ZeroWeight => "weight 0 takes no split traffic".into(),
        }
    }
}

/// One channel in a routing decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub channel: String,
    pub weight: u32,
    pub dropped: Option<DropReason>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The payment named the channel.
    Explicit,
    /// Smooth weighted round-robin among the channels left.
    Weighted,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Explicit => "explicit",
            Strategy::Weighted => "weighted",
        }
    }

    pub fn from_name(name: &str) -> Option<Strategy> {
        [Strategy::Explicit, Strategy::Weighted]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDecision {
    pub chosen: Option<String>,
    pub strategy: Strategy,
    /// Every channel, in id order, with why it was dropped if it was.
    pub candidates: Vec<Candidate>,
    /// The set the split chose among (`a:100,b:50`), if it ran.
    pub split_key: Option<String>,
    pub at: Millis,
}

impl RouteDecision {
    /// "bank-a: disabled; bank-b: amount above its max_amount 100".
    pub fn reasons(&self) -> String {
        let reasons: Vec<String> = self
            .candidates
            .iter()
            .filter_map(|c| {
                c.dropped
                    .as_ref()
                    .map(|r| format!("{}: {}", c.channel, r.describe()))
            })
            .collect();
        if reasons.is_empty() {
            "no channels are configured".into()
        } else {
            reasons.join("; ")
        }
    }
}

/// What is being routed.
#[derive(Clone, Copy, Debug)]
pub struct RouteRequest<'a> {
    pub method: Method,
    pub currency: Currency,
    pub amount: u64,
    /// A channel the payment names.
    pub channel: Option<&'a str>,
    /// Channels not to use (a reroute's earlier attempts).
    pub exclude: &'a [String],
}

/// The router's state: the split per channel set, rate-limit buckets and health per channel.
/// One owner (the payment writer) routes in order; the split's state is stored with the
/// payments it routed (`dirty_splits`), so the split stays exact across restarts.
#[derive(Debug, Default)]
pub struct Router {
    splits: BTreeMap<String, SmoothWeighted>,
    buckets: HashMap<String, TokenBucket>,
    health: HashMap<String, Health>,
    policy: HealthPolicy,
    dirty: BTreeSet<String>,
}

impl Router {
    pub fn new(policy: HealthPolicy) -> Router {
        Router {
            policy,
            ..Router::default()
        }
    }

    /// Restores a split's stored state (ignored if it no longer fits its key).
    pub fn restore_split(&mut self, key: &str, state: &str) {
        let Some(channels) = parse_key(key) else {
            return;
        };
        let mut split = SmoothWeighted::new(&channels);
        if split.restore(state).is_some() {
            self.splits.insert(key.to_owned(), split);
        }
    }

    /// Splits changed since the last call, as (key, state) to store.
    pub fn take_dirty_splits(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .filter_map(|k| self.splits.get(&k).map(|s| (k, s.state())))
            .collect()
    }

    pub fn health(&self, channel: &str) -> Health {
        self.health.get(channel).cloned().unwrap_or_default()
    }

    /// Records how a call to `channel` went, for its health.
    pub fn record(&mut self, channel: &str, outcome: CallOutcome, now: Millis) {
        let policy = self.policy;
        self.health
            .entry(channel.to_owned())
            .or_default()
            .record(outcome, now, policy);
    }

    /// Routes one payment among `channels`; a chosen channel's rate-limit token is taken.
    pub fn route(
        &mut self,
        channels: &[Channel],
        request: &RouteRequest<'_>,
        now: Millis,
    ) -> RouteDecision {
        let mut sorted: Vec<&Channel> = channels.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        let candidates: Vec<Candidate> = sorted
            .iter()
            .map(|c| Candidate {
                channel: c.id.clone(),
                weight: c.weight,
                dropped: self.filter(c, request, now),
            })
            .collect();
        let mut decision = RouteDecision {
            chosen: None,
            strategy: if request.channel.is_some() {
                Strategy::Explicit
            } else {
                Strategy::Weighted
            },
            candidates,
            split_key: None,
            at: now,
        };
        let left: Vec<(String, u32)> = decision
            .candidates
            .iter()
            .filter(|c| c.dropped.is_none())
            .map(|c| (c.channel.clone(), c.weight))
            .collect();
        decision.chosen = match decision.strategy {
            Strategy::Explicit => left.first().map(|(c, _)| c.clone()),
            Strategy::Weighted if left.is_empty() => None,
            Strategy::Weighted => {
                let key = SmoothWeighted::key_of(&left);
                let split = self
                    .splits
                    .entry(key.clone())
                    .or_insert_with(|| SmoothWeighted::new(&left));
                let chosen = split.pick().to_owned();
                self.dirty.insert(key.clone());
                decision.split_key = Some(key);
                Some(chosen)
            }
        };
        if let Some(chosen) = &decision.chosen {
            if let Some(bucket) = self.buckets.get_mut(chosen) {
                bucket.take(now);
            }
        }
        decision
    }

    /// The first filter that drops `channel`, in the documented order.
    fn filter(
        &mut self,
        channel: &Channel,
        request: &RouteRequest<'_>,
        now: Millis,
    ) -> Option<DropReason> {
        if request.channel.is_some_and(|wanted| wanted != channel.id) {
            return Some(DropReason::NotRequested);
        }
        if !channel.enabled {
            return Some(DropReason::Disabled);
        }
        if !channel.methods.contains(&request.method) {
            return Some(DropReason::MethodNotSupported);
        }
        if !channel.currencies.contains(&request.currency) {
            return Some(DropReason::CurrencyNotSupported);
        }
        if let Some(min) = channel.min_amount.filter(|min| request.amount < *min) {
            return Some(DropReason::BelowMinAmount { min });
        }
        if let Some(max) = channel.max_amount.filter(|max| request.amount > *max) {
            return Some(DropReason::AboveMaxAmount { max });
        }
        if request.exclude.contains(&channel.id) {
            return Some(DropReason::AlreadyTried);
        }
        if let Some(per_s) = channel.rate_limit_per_s {
            if !self.bucket(&channel.id, per_s, now).has_token(now) {
                return Some(DropReason::RateLimited { per_s });
            }
        }
        if let Some(until) = self.health(&channel.id).resting(now) {
            return Some(DropReason::Resting { until });
        }
        if request.channel.is_none() && channel.weight == 0 {
            return Some(DropReason::ZeroWeight);
        }
        None
    }

    fn bucket(&mut self, channel: &str, per_s: u32, now: Millis) -> &mut TokenBucket {
        let bucket = self
            .buckets
            .entry(channel.to_owned())
            .or_insert_with(|| TokenBucket::new(per_s, now));
        if bucket.per_s() != per_s {
            *bucket = TokenBucket::new(per_s, now);
        }
        bucket
    }
}

/// `a:100,b:50` → [(a, 100), (b, 50)].
fn parse_key(key: &str) -> Option<Vec<(String, u32)>> {
    key.split(',')
        .map(|part| {
            let (channel, weight) = part.rsplit_once(':')?;
            let weight: u32 = weight.parse().ok()?;
            (weight > 0).then(|| (channel.to_owned(), weight))
        })
        .collect()
}

#[cfg(test)]
mod tests;
