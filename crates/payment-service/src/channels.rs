//! Channels: their configuration (stored, and mirrored in the writer's routing set), their
//! clearing accounts in the ledger, counters and health, and the adapter that talks to each.

use std::sync::Arc;

use paycore_channels::{ChannelAdapter, ChannelEndpoint, Protocol, SigningSecret};
use paycore_ledger::AccountType;
use paycore_money::Currency;
use paycore_payment_store::repo::channels::{self, Counters};
use paycore_payments::channel::clearing_account;
use paycore_payments::posting::fee_account;
use paycore_payments::{Channel, ChannelPatch, Health, NewChannel, PayError};

use crate::clock::now_ms;
use crate::error::{Result, ServiceError};
use crate::PaymentService;

/// A channel with what routing did with it.
#[derive(Clone, Debug)]
pub struct ChannelView {
    pub channel: Channel,
    pub counters: Counters,
    pub health: Health,
}

impl PaymentService {
    /// Adds a channel (its clearing account first); a retry with the same content returns it.
    pub async fn add_channel(&self, request: NewChannel) -> Result<(ChannelView, bool)> {
        let now = now_ms();
        let channel = request.clone().into_channel(now)?;
        for currency in &channel.currencies {
            self.inner
                .ledger
                .ensure_account(
                    &clearing_account(&channel.id, *currency),
                    AccountType::Settlement,
                    *currency,
                    &format!("clearing of channel {}", channel.id),
                )
                .await?;
            self.ensure_fee_account(*currency).await?;
        }
        let stored = channel.clone();
        let added = self
            .inner
            .writer
            .run(move |state, sql| {
                if let Some(existing) = state.channel(&stored.id) {
                    return Ok(Err(existing.clone()));
                }
                channels::save(sql, &stored, now)?;
                state.put_channel(stored.clone());
                Ok(Ok(stored))
            })
            .await?;
        let (channel, created) = match added {
            Ok(channel) => (channel, true),
            Err(existing) if existing.same_request(&request) => (existing, false),
            Err(existing) => return Err(PayError::IdConflict(existing.id).into()),
        };
        self.install_adapter(&channel)?;
        if created {
            tracing::info!(channel = %channel.id, protocol = %channel.protocol, weight = channel.weight, "channel added");
        }
        Ok((self.view(channel).await?, created))
    }

    /// Changes a channel's routing settings; the writer routes with them from the next payment.
    pub async fn patch_channel(&self, id: &str, patch: ChannelPatch) -> Result<ChannelView> {
        let id_owned = id.to_owned();
        let now = now_ms();
        let patched = self
            .inner
            .writer
            .run(move |state, sql| {
                let Some(existing) = state.channel(&id_owned) else {
                    return Ok(Err(PayError::ChannelNotFound(id_owned)));
                };
                let next = match existing.patched(&patch) {
                    Ok(next) => next,
                    Err(e) => return Ok(Err(e)),
                };
                channels::save(sql, &next, now)?;
                state.put_channel(next.clone());
                Ok(Ok(next))
            })
            .await??;
        tracing::info!(channel = %patched.id, weight = patched.weight, enabled = patched.enabled, "channel changed");
        self.view(patched).await
    }

    pub async fn channel(&self, id: &str) -> Result<ChannelView> {
        let id = id.to_owned();
        let found = self
            .inner
            .readers
            .read(move |sql| channels::get(sql, &id).map(|c| (id, c)))
            .await?;
        match found {
            (_, Some(channel)) => self.view(channel).await,
            (id, None) => Err(PayError::ChannelNotFound(id).into()),
        }
    }

    pub async fn channels(&self) -> Result<Vec<ChannelView>> {
        let all = self.inner.readers.read(channels::all).await?;
        let mut views = Vec::with_capacity(all.len());
        for channel in all {
            views.push(self.view(channel).await?);
        }
        Ok(views)
    }

    async fn view(&self, channel: Channel) -> Result<ChannelView> {
        let id = channel.id.clone();
        let counters = self
            .inner
            .readers
            .read(move |sql| channels::counters(sql, &id))
            .await?;
        let health = self
            .inner
            .health
            .read()
            .get(&channel.id)
            .cloned()
            .unwrap_or_default();
        Ok(ChannelView {
            channel,
            counters,
            health,
        })
    }

    /// The adapter of a channel.
    pub(crate) fn adapter(&self, channel: &str) -> Result<Arc<dyn ChannelAdapter>> {
        self.inner
            .adapters
            .read()
            .get(channel)
            .cloned()
            .ok_or_else(|| ServiceError::Pay(PayError::ChannelNotFound(channel.to_owned())))
    }

    fn install_adapter(&self, channel: &Channel) -> Result<()> {
        let protocol = Protocol::from_name(&channel.protocol).ok_or_else(|| {
            ServiceError::Pay(PayError::invalid("protocol", "sim-form or sim-json"))
        })?;
        let endpoint = ChannelEndpoint {
            channel_id: channel.id.clone(),
            protocol,
            endpoint: channel.endpoint.clone(),
            secret: SigningSecret::new(channel.secret.clone()),
        };
        let adapter = paycore_channels::adapter(
            endpoint,
            self.inner.http.clone(),
            self.inner.config.channel_timeout,
        );
        self.inner
            .adapters
            .write()
            .insert(channel.id.clone(), adapter);
        Ok(())
    }

    /// Builds the adapters of every stored channel (at start).
    pub(crate) async fn load_adapters(&self) -> Result<()> {
        for channel in self.inner.readers.read(channels::all).await? {
            self.install_adapter(&channel)?;
        }
        Ok(())
    }

    pub(crate) async fn ensure_fee_account(&self, currency: Currency) -> Result<()> {
        self.inner
            .ledger
            .ensure_account(
                &fee_account(currency),
                AccountType::Internal,
                currency,
                "payment fee income",
            )
            .await
    }
}
