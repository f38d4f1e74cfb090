//! Which addresses a notification may be sent to (SSRF): a `notify_url` is http(s), and the
//! address it resolves to at send time must not be private, loopback, link-local, multicast,
//! unspecified, broadcast, documentation, benchmarking, shared (CGNAT) or otherwise special —
//! in IPv4 or IPv6, including IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4) — unless an
//! allowed CIDR (`--notify-allow-cidr`) contains it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::Url;

use crate::NotifyError;

/// Most allowed CIDRs.
pub const ALLOW_MAX: usize = 64;

/// IPv4 ranges refused: (network, prefix length).
const REFUSED_V4: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network", unspecified
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and 255.255.255.255 broadcast
];

/// IPv6 ranges refused outright (the ones carrying IPv4 are looked into instead).
const REFUSED_V6: &[(u128, u8)] = &[
    (0, 96),                      // ::/96: unspecified, loopback, IPv4-compatible
    (0x0064_ff9b_0001 << 80, 48), // 64:ff9b:1::/48 local-use NAT64
    (0x0100 << 112, 64),          // 100::/64 discard-only
    (0x2001 << 112, 23),          // 2001::/23 IETF protocol assignments (Teredo, benchmarking, …)
    (0x2001_0db8 << 96, 32),      // 2001:db8::/32 documentation
    (0x3fff << 112, 20),          // 3fff::/20 documentation
    (0xfc00 << 112, 7),           // fc00::/7 unique local
    (0xfe80 << 112, 10),          // fe80::/10 link-local
    (0xfec0 << 112, 10),          // fec0::/10 site-local (deprecated)
    (0xff00 << 112, 8),           // ff00::/8 multicast
];

fn in_v4(ip: Ipv4Addr, (net, len): ([u8; 4], u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from_be_bytes(net) & mask
}

fn in_v6(ip: Ipv6Addr, (net, len): (u128, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == net & mask
}

/// The IPv4 address an IPv6 one stands for: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::/48`).
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from(bits as u32);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if in_v6(ip, (0, 96)) || in_v6(ip, (0x0064_ff9b << 96, 96)) {
        return Some(low32);
    }
    if in_v6(ip, (0x2002 << 112, 16)) {
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

/// True for an address no notification goes to unless allowed.
pub fn is_refused(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => REFUSED_V4.iter().any(|&range| in_v4(v4, range)),
        IpAddr::V6(v6) => {
            REFUSED_V6.iter().any(|&range| in_v6(v6, range))
                || embedded_v4(v6).is_some_and(|v4| is_refused(IpAddr::V4(v4)))
        }
    }
}

/// The send-time address policy: the refused ranges, minus what the allow list opens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    allow: Vec<IpNet>,
}

impl TargetPolicy {
    pub fn new(allow: Vec<IpNet>) -> Result<TargetPolicy, NotifyError> {
        if allow.len() > ALLOW_MAX {
            return Err(NotifyError::Cidr(format!("at most {ALLOW_MAX} CIDRs")));
        }
        Ok(TargetPolicy { allow })
    }

    /// `127.0.0.1/32,fd00::/8` (what `--notify-allow-cidr` passes; empty: none).
    pub fn parse_allow(list: &str) -> Result<Vec<IpNet>, NotifyError> {
        list.split(',')
            .map(str::trim)
            .filter(|cidr| !cidr.is_empty())
            .map(|cidr| {
                cidr.parse::<IpNet>()
                    .map_err(|_| NotifyError::Cidr(cidr.to_owned()))
            })
            .collect()
    }

    pub fn allow(&self) -> &[IpNet] {
        &self.allow
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        let v4 = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.allow
            .iter()
            .any(|net| net.contains(&ip) || v4.is_some_and(|v4| net.contains(&v4)))
    }

    /// May a notification connect to `ip`?
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allowed(ip) || !is_refused(ip)
    }
}

/// Why a URL is not a notification target.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL: {0}")]
    Parse(String),
    #[error("must be http or https")]
    Scheme,
    #[error("must not carry user information")]
    UserInfo,
    #[error("must name a host")]
    NoHost,
}

/// A `notify_url` parsed and checked for its form (its address is checked at send time).
pub fn check_url(text: &str) -> Result<Url, UrlError> {
    let url = Url::parse(text).map_err(|e| UrlError::Parse(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::UserInfo);
    }
    if url.host().is_none() {
        return Err(UrlError::NoHost);
    }
    Ok(url)
}

/// The address of a URL whose host is an IP literal (no DNS lookup happens for it).
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn special_addresses_are_refused() {
        let refused = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::8.8.8.8",
            "64:ff9b::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "2002:0a00:0001::1",
            "2002:7f00:0001::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
        ];
        for text in refused {
            assert!(is_refused(ip(text)), "{text} must be refused");
        }
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2400:cb00::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "2a00:1450::1",
        ];
        for text in public {
            assert!(!is_refused(ip(text)), "{text} is public");
        }
    }

    #[test]
    fn embedded_ipv4_is_found() {
        let v4 = |text: &str| embedded_v4(text.parse().unwrap());
        assert_eq!(v4("::ffff:1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(v4("::1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(v4("64:ff9b::1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(v4("2002:0102:0304::9"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(v4("2606:4700::1"), None);
    }

    #[test]
    fn the_allow_list_opens_ranges() {
        let none = TargetPolicy::default();
        assert!(!none.permits(ip("127.0.0.1")));
        assert!(none.permits(ip("8.8.8.8")));
        let allow = TargetPolicy::parse_allow(" 127.0.0.1/32 , fd00::/8,").unwrap();
        let local = TargetPolicy::new(allow).unwrap();
        assert!(local.permits(ip("127.0.0.1")));
        assert!(
            local.permits(ip("::ffff:127.0.0.1")),
            "the same host, mapped"
        );
        assert!(!local.permits(ip("127.0.0.2")));
        assert!(!local.permits(ip("::1")));
        assert!(local.permits(ip("fd00::5")));
        assert!(!local.permits(ip("fc00::5")));
        assert!(local.permits(ip("1.1.1.1")));
        assert!(TargetPolicy::parse_allow("").unwrap().is_empty());
        assert!(TargetPolicy::parse_allow("127.0.0.1").is_err());
        assert!(TargetPolicy::parse_allow("10.0.0.0/33").is_err());
        let many = vec!["10.0.0.0/8".parse().unwrap(); ALLOW_MAX + 1];
        assert!(TargetPolicy::new(many).is_err());
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(check_url("https://shop.example.com/notify?x=1").is_ok());
        assert!(check_url("http://127.0.0.1:8080/n").is_ok());
        assert_eq!(check_url("ftp://x/"), Err(UrlError::Scheme));
        assert_eq!(check_url("file:///etc/passwd"), Err(UrlError::Scheme));
        assert_eq!(check_url("https://u:p@x/"), Err(UrlError::UserInfo));
        assert!(matches!(check_url("not a url"), Err(UrlError::Parse(_))));
        let url = check_url("http://[::ffff:10.0.0.1]/").unwrap();
        assert_eq!(literal_ip(&url), Some(ip("::ffff:10.0.0.1")));
        assert_eq!(
            literal_ip(&check_url("http://0x7f.1/").unwrap()),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(literal_ip(&check_url("http://localhost/").unwrap()), None);
    }
}
