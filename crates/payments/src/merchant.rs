//! Merchants (商户): who is paid. Each has a ledger account (type merchant, `M-<id>`), a fee
//! rate, and the hosts its per-order `notify_url`s may point at (`callback_hosts`).

use std::net::IpAddr;

use paycore_money::Currency;

use crate::error::PayError;
use crate::ids::{self, Millis};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    /// Lowercase host names or canonical IP addresses.
    pub callback_hosts: Vec<String>,
    /// Fee in basis points of each payment (0.01%), taken when it succeeds.
    pub fee_rate_bp: u32,
    pub currency: Currency,
    /// Its ledger account.
    pub account: String,
    pub created_at: Millis,
}

/// A request to create a merchant, as the edge parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMerchant {
    pub id: String,
    pub name: String,
    pub callback_hosts: Vec<String>,
    pub fee_rate_bp: u32,
    pub currency: Currency,
}

/// The ledger account of a merchant.
pub fn account_of(merchant_id: &str) -> String {
    format!("M-{merchant_id}")
}

impl NewMerchant {
    /// Checks every field and builds the merchant (hosts normalised).
    pub fn into_merchant(self, now: Millis) -> Result<Merchant, PayError> {
        ids::check_account_safe_id("id", &self.id, ids::MERCHANT_ID_BYTES_MAX)?;
        ids::check_text("name", &self.name, ids::NAME_BYTES_MAX, true)?;
        if self.fee_rate_bp > ids::FEE_RATE_BP_MAX {
            return Err(PayError::invalid(
                "fee_rate_bp",
                "basis points from 0 to 10000 (100%)",
            ));
        }
        if self.callback_hosts.len() > ids::CALLBACK_HOSTS_MAX {
            return Err(PayError::invalid("callback_hosts", "at most 32 hosts"));
        }
        let mut hosts = self
            .callback_hosts
            .iter()
            .map(|h| normalize_host(h))
            .collect::<Result<Vec<_>, _>>()?;
        hosts.sort();
        hosts.dedup();
        Ok(Merchant {
            account: account_of(&self.id),
            id: self.id,
            name: self.name,
            callback_hosts: hosts,
            fee_rate_bp: self.fee_rate_bp,
            currency: self.currency,
            created_at: now,
        })
    }
}

impl Merchant {
    /// Whether a create request asks for exactly this merchant (an idempotent retry).
    pub fn same_request(&self, request: &NewMerchant) -> bool {
        let mut hosts: Vec<String> = request
            .callback_hosts
            .iter()
            .filter_map(|h| normalize_host(h).ok())
            .collect();
        hosts.sort();
        hosts.dedup();
        self.name == request.name
            && self.fee_rate_bp == request.fee_rate_bp
            && self.currency == request.currency
            && self.callback_hosts == hosts
    }

    /// A `notify_url` is http(s), without user info, and its host is one of `callback_hosts`.
    pub fn check_notify_url(&self, notify_url: &str) -> Result<(), PayError> {
        let host = notify_url_host(notify_url)?;
        if self.callback_hosts.contains(&host) {
            Ok(())
        } else {
            Err(PayError::NotifyUrlNotAllowed { host })
        }
    }

    /// The fee of a payment of `amount`, rounded half up to the minor unit (四舍五入).
    pub fn fee_for(&self, amount: u64) -> u64 {
        fee(amount, self.fee_rate_bp)
    }
}

/// `amount × rate_bp / 10000`, rounded half up; exact in 128-bit integers, never above `amount`.
pub fn fee(amount: u64, rate_bp: u32) -> u64 {
    assert!(rate_bp <= ids::FEE_RATE_BP_MAX);
    let fee = (amount as u128 * rate_bp as u128 + 5_000) / 10_000;
    let fee = fee as u64;
    assert!(fee <= amount || amount == 0);
    fee
}

/// The normalised host of a notify URL, or why it is not acceptable.
pub fn notify_url_host(notify_url: &str) -> Result<String, PayError> {
    let invalid = |reason: &str| PayError::invalid("notify_url", reason.to_owned());
    if notify_url.len() > ids::URL_BYTES_MAX {
        return Err(invalid("at most 512 bytes"));
    }
    let url = url::Url::parse(notify_url).map_err(|e| invalid(&format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not carry user information"));
    }
    match url.host() {
        Some(url::Host::Domain(d)) => Ok(d.to_ascii_lowercase()),
        Some(url::Host::Ipv4(ip)) => Ok(ip.to_string()),
        Some(url::Host::Ipv6(ip)) => Ok(ip.to_string()),
        None => Err(invalid("must name a host")),
    }
}

/// A callback host as the merchant registered it: a DNS name or an IP address, lowercase,
/// without scheme, port or path.
pub fn normalize_host(host: &str) -> Result<String, PayError> {
    let invalid = || {
        PayError::invalid(
            "callback_hosts",
            format!("{host:?} is not a host name or IP address (no scheme, port or path)"),
        )
    };
    let trimmed = host.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(ip.to_string());
    }
    let name = trimmed.to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > ids::HOST_BYTES_MAX || !name.split('.').all(label_ok) {
        return Err(invalid());
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Merchant {
        NewMerchant {
            id: "shop".into(),
            name: "Shop".into(),
            callback_hosts: vec![
                "Shop.Example.com".into(),
                "127.0.0.1".into(),
                "[::1]".into(),
            ],
            fee_rate_bp: 60,
            currency: Currency::CNY,
        }
        .into_merchant(1)
        .unwrap()
    }

    #[test]
    fn notify_urls_must_point_at_a_registered_host() {
        let m = shop();
        assert_eq!(m.account, "M-shop");
        for ok in [
            "https://shop.example.com/notify",
            "http://SHOP.example.com:8080/n?x=1",
            "http://127.0.0.1:9/n",
            "http://[::1]/n",
        ] {
            assert!(m.check_notify_url(ok).is_ok(), "{ok}");
        }
        let refused = |url: &str| m.check_notify_url(url).unwrap_err().code();
        assert_eq!(
            refused("https://evil.example.com/n"),
            "notify_url_not_allowed"
        );
        assert_eq!(
            refused("https://shop.example.com.evil.io/"),
            "notify_url_not_allowed"
        );
        assert_eq!(refused("http://127.0.0.2/n"), "notify_url_not_allowed");
        assert_eq!(refused("ftp://shop.example.com/n"), "invalid_field");
        assert_eq!(refused("https://u:p@shop.example.com/"), "invalid_field");
        assert_eq!(refused("not a url"), "invalid_field");
    }

    #[test]
    fn hosts_are_validated() {
        for bad in ["http://x.com", "x.com:80", "x.com/p", "", "a..b", "-a.com"] {
            assert!(normalize_host(bad).is_err(), "{bad}");
        }
        assert_eq!(normalize_host("[::1]").unwrap(), "::1");
        assert_eq!(normalize_host("A-b.Example").unwrap(), "a-b.example");
    }

    #[test]
    fn fees_round_half_up_exactly() {
        assert_eq!(fee(10_000, 60), 60);
        assert_eq!(fee(100, 60), 1); // 0.6 → 1
        assert_eq!(fee(83, 60), 0); // 0.498 → 0
        assert_eq!(fee(u64::MAX, 10_000), u64::MAX);
        assert_eq!(fee(12_345, 0), 0);
        assert_eq!(shop().fee_for(250), 2); // 1.5 → 2
    }

    #[test]
    fn a_retry_with_the_same_content_is_the_same_request() {
        let m = shop();
        let mut again = NewMerchant {
            id: "shop".into(),
            name: "Shop".into(),
            callback_hosts: vec!["::1".into(), "127.0.0.1".into(), "shop.example.com".into()],
            fee_rate_bp: 60,
            currency: Currency::CNY,
        };
        assert!(m.same_request(&again));
        again.fee_rate_bp = 61;
        assert!(!m.same_request(&again));
    }
}
