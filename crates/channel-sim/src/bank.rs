//! The simulated bank: its channels (each one lock around its records, never held across an
//! await), the seed every draw is keyed with, and the hand-off of new orders' callbacks.

use std::sync::Arc;
use std::time::Duration;

use hashbrown::HashMap;
use parking_lot::{Mutex, RwLock};
use paycore_channels::wire::BankCall;
use paycore_channels::{Protocol, SigningSecret};
use tokio::time::Instant;

use crate::config::ChannelConfig;
use crate::notify::Notifier;
use crate::state::{Arrival, ChannelState, Decision};

/// One configured channel.
pub struct Channel {
    pub id: Arc<str>,
    pub state: Mutex<ChannelState>,
}

impl Channel {
    /// The protocol, secret and answer latency in force.
    pub fn keys(&self) -> (Protocol, SigningSecret, Duration) {
        let state = self.state.lock();
        let latency = Duration::from_millis(state.config.latency_ms);
        (state.config.protocol, state.config.secret.clone(), latency)
    }
}

/// All channels of the simulator.
pub struct Bank {
    seed: u64,
    channels: RwLock<HashMap<String, Arc<Channel>>>,
    notifier: Notifier,
}

impl Bank {
    pub fn new(seed: u64) -> Bank {
        Bank {
            seed,
            channels: RwLock::new(HashMap::new()),
            notifier: Notifier::new(),
        }
    }

    /// The channel of an id, if configured.
    pub fn channel(&self, id: &str) -> Option<Arc<Channel>> {
        self.channels.read().get(id).cloned()
    }

    /// Sets a channel's behaviour (its records stay); `true` when the channel is new.
    pub fn configure(&self, id: &str, config: ChannelConfig) -> bool {
        if let Some(channel) = self.channel(id) {
            channel.state.lock().config = config;
            return false;
        }
        let mut channels = self.channels.write();
        match channels.get(id) {
            Some(channel) => {
                channel.state.lock().config = config;
                false
            }
            None => {
                let channel = Channel {
                    id: Arc::from(id),
                    state: Mutex::new(ChannelState::new(config)),
                };
                channels.insert(id.to_owned(), Arc::new(channel));
                true
            }
        }
    }

    /// Decides a verified call and starts the callbacks it asks for.
    pub fn handle(&self, channel: &Arc<Channel>, call: BankCall) -> Decision {
        let arrival = Arrival {
            seed: self.seed,
            channel_id: &channel.id,
            now: Instant::now(),
            unix_ms: paycore_channels::clock::unix_now_ms(),
        };
        let decision = channel.state.lock().decide(call, &arrival);
        if let Some(plan) = &decision.notify {
            self.notifier.spawn(channel, plan);
        }
        decision
    }
}
