//! Channels (渠道): the banks and third parties money comes through. A channel's
//! configuration says what it can do (methods, currencies, amount limits), how much of the
//! traffic it gets (weight) and how fast it may be called (rate limit).

use paycore_money::Currency;

use crate::error::PayError;
use crate::ids::{self, Millis};

/// What a payment asks a channel to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// 快捷支付: a synchronous card payment.
    Quickpay,
    /// 网银支付: the payer confirms at the bank; the outcome comes later.
    Netbank,
    /// 出款: money out to a bank account.
    Payout,
    /// From the payer's paycore balance: no channel.
    Balance,
    /// 组合支付: the external part through a channel (quick pay) first, then the balance part.
    Combined,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Quickpay,
        Method::Netbank,
        Method::Payout,
        Method::Balance,
        Method::Combined,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Quickpay => "quickpay",
            Method::Netbank => "netbank",
            Method::Payout => "payout",
            Method::Balance => "balance",
            Method::Combined => "combined",
        }
    }

    /// What a channel is asked to do for a payment of this method (none for balance).
    pub fn channel_method(self) -> Option<Method> {
        match self {
            Method::Quickpay | Method::Combined => Some(Method::Quickpay),
            Method::Netbank => Some(Method::Netbank),
            Method::Payout => Some(Method::Payout),
            Method::Balance => None,
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Protocols the adapter layer speaks.
pub const PROTOCOLS: [&str; 2] = ["sim-form", "sim-json"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    pub protocol: String,
    /// Base URL of the channel's API.
    pub endpoint: String,
    /// Shared signing secret (HMAC-SHA256).
    pub secret: String,
    pub methods: Vec<Method>,
    pub currencies: Vec<Currency>,
    pub min_amount: Option<u64>,
    pub max_amount: Option<u64>,
    /// Share of the weighted split; 0 takes no split traffic (only payments that name it).
    pub weight: u32,
    pub rate_limit_per_s: Option<u32>,
    pub enabled: bool,
    pub created_at: Millis,
}

/// A request to add a channel, as the edge parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewChannel {
    pub id: String,
    pub protocol: String,
    pub endpoint: String,
    pub secret: String,
    pub methods: Vec<Method>,
    pub currencies: Vec<Currency>,
    pub min_amount: Option<u64>,
    pub max_amount: Option<u64>,
    pub weight: u32,
    pub rate_limit_per_s: Option<u32>,
    pub enabled: bool,
}

/// A change of a channel's routing settings; `None` leaves a field as it is, and the inner
/// `None` of a limit removes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelPatch {
    pub weight: Option<u32>,
    pub enabled: Option<bool>,
    pub min_amount: Option<Option<u64>>,
    pub max_amount: Option<Option<u64>>,
    pub rate_limit_per_s: Option<Option<u32>>,
}

/// The clearing account (应收渠道款) of a channel in a currency: what the channel owes us.
pub fn clearing_account(channel_id: &str, currency: Currency) -> String {
    format!("CLR-{channel_id}-{}", currency.code())
}

impl NewChannel {
    pub fn into_channel(self, now: Millis) -> Result<Channel, PayError> {
        ids::check_account_safe_id("id", &self.id, ids::CHANNEL_ID_BYTES_MAX)?;
        if !PROTOCOLS.contains(&self.protocol.as_str()) {
            return Err(PayError::invalid("protocol", "sim-form or sim-json"));
        }
        check_endpoint(&self.endpoint)?;
        if self.secret.is_empty() || self.secret.len() > ids::SECRET_BYTES_MAX {
            return Err(PayError::invalid("secret", "1 to 256 bytes"));
        }
        if self.methods.is_empty() {
            return Err(PayError::invalid("methods", "at least one method"));
        }
        if self.methods.iter().any(|m| m.channel_method() != Some(*m)) {
            return Err(PayError::invalid("methods", "quickpay, netbank or payout"));
        }
        if self.currencies.is_empty() {
            return Err(PayError::invalid("currencies", "at least one currency"));
        }
        let mut methods = self.methods;
        methods.sort();
        methods.dedup();
        let mut currencies = self.currencies;
        currencies.sort_by(|a, b| a.code().cmp(b.code()));
        currencies.dedup();
        let channel = Channel {
            id: self.id,
            protocol: self.protocol,
            endpoint: self.endpoint.trim_end_matches('/').to_owned(),
            secret: self.secret,
            methods,
            currencies,
            min_amount: self.min_amount,
            max_amount: self.max_amount,
            weight: self.weight,
            rate_limit_per_s: self.rate_limit_per_s,
            enabled: self.enabled,
            created_at: now,
        };
        channel.check_limits()?;
        Ok(channel)
    }
}

impl Channel {
    /// Applies a patch, or refuses it whole if the result would be invalid.
    pub fn patched(&self, patch: &ChannelPatch) -> Result<Channel, PayError> {
        let mut next = self.clone();
        if let Some(weight) = patch.weight {
            next.weight = weight;
        }
        if let Some(enabled) = patch.enabled {
            next.enabled = enabled;
        }
        if let Some(min) = patch.min_amount {
            next.min_amount = min;
        }
        if let Some(max) = patch.max_amount {
            next.max_amount = max;
        }
        if let Some(rate) = patch.rate_limit_per_s {
            next.rate_limit_per_s = rate;
        }
        next.check_limits()?;
        Ok(next)
    }

    /// Whether an add request describes exactly this channel (an idempotent retry).
    pub fn same_request(&self, request: &NewChannel) -> bool {
        request
            .clone()
            .into_channel(self.created_at)
            .is_ok_and(|c| c == *self)
    }

    pub fn supports(&self, method: Method, currency: Currency) -> bool {
        self.methods.contains(&method) && self.currencies.contains(&currency)
    }

    fn check_limits(&self) -> Result<(), PayError> {
        if self.weight > ids::WEIGHT_MAX {
            return Err(PayError::invalid("weight", "0 to 1000000"));
        }
        // Amounts are stored as BIGINT: a larger limit would be refused by the store, after
        // the request was accepted.
        for (field, limit) in [
            ("min_amount", self.min_amount),
            ("max_amount", self.max_amount),
        ] {
            if limit.is_some_and(|amount| amount > ids::AMOUNT_MAX) {
                return Err(PayError::invalid(field, "at most 9223372036854775807"));
            }
        }
        if let (Some(min), Some(max)) = (self.min_amount, self.max_amount) {
            if min > max {
                return Err(PayError::invalid(
                    "min_amount",
                    "must not be above max_amount",
                ));
            }
        }
        if self.rate_limit_per_s == Some(0) {
            return Err(PayError::invalid(
                "rate_limit_per_s",
                "at least 1 (omit it for no limit; disable the channel to stop it)",
            ));
        }
        Ok(())
    }
}

fn check_endpoint(endpoint: &str) -> Result<(), PayError> {
    let invalid = |reason: String| PayError::invalid("endpoint", reason);
    if endpoint.len() > ids::URL_BYTES_MAX {
        return Err(invalid("at most 512 bytes".into()));
    }
    let url = url::Url::parse(endpoint).map_err(|e| invalid(format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid("an http(s) URL with a host".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_channel() -> NewChannel {
        NewChannel {
            id: "bank-a".into(),
            protocol: "sim-form".into(),
            endpoint: "http://127.0.0.1:9000/".into(),
            secret: "s3cret".into(),
            methods: vec![Method::Netbank, Method::Quickpay, Method::Quickpay],
            currencies: vec![Currency::CNY],
            min_amount: Some(1),
            max_amount: Some(100_000),
            weight: 100,
            rate_limit_per_s: None,
            enabled: true,
        }
    }

    #[test]
    fn channels_are_checked_and_normalised() {
        let c = new_channel().into_channel(5).unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:9000");
        assert_eq!(c.methods, [Method::Quickpay, Method::Netbank]);
        assert!(c.supports(Method::Quickpay, Currency::CNY));
        assert!(!c.supports(Method::Payout, Currency::CNY));
        assert!(c.same_request(&new_channel()));
        assert_eq!(clearing_account(&c.id, Currency::CNY), "CLR-bank-a-CNY");
        let bad = |f: fn(&mut NewChannel)| {
            let mut n = new_channel();
            f(&mut n);
            n.into_channel(0).unwrap_err()
        };
        assert_eq!(bad(|n| n.protocol = "ftp".into()).code(), "invalid_field");
        assert_eq!(bad(|n| n.endpoint = "nope".into()).code(), "invalid_field");
        assert_eq!(bad(|n| n.methods.clear()).code(), "invalid_field");
        assert_eq!(
            bad(|n| n.min_amount = Some(200_000)).code(),
            "invalid_field"
        );
        assert_eq!(
            bad(|n| n.rate_limit_per_s = Some(0)).code(),
            "invalid_field"
        );
        assert_eq!(bad(|n| n.id = "a".repeat(25)).code(), "invalid_field");
        assert_eq!(
            bad(|n| n.max_amount = Some(i64::MAX as u64 + 1)).code(),
            "invalid_field"
        );
    }

    #[test]
    fn patches_apply_whole_or_not_at_all() {
        let c = new_channel().into_channel(0).unwrap();
        let p = ChannelPatch {
            weight: Some(50),
            max_amount: Some(None),
            ..ChannelPatch::default()
        };
        let next = c.patched(&p).unwrap();
        assert_eq!((next.weight, next.max_amount), (50, None));
        let refused = ChannelPatch {
            weight: Some(1),
            min_amount: Some(Some(10)),
            max_amount: Some(Some(5)),
            ..ChannelPatch::default()
        };
        assert!(c.patched(&refused).is_err());
        let too_large = ChannelPatch {
            max_amount: Some(Some(u64::MAX)),
            ..ChannelPatch::default()
        };
        assert!(c.patched(&too_large).is_err());
    }
}
