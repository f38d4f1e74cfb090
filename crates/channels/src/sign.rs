//! Every signature of both protocols, for both sides (paycore's adapters and the simulator):
//! HMAC-SHA256 over the protocol's canonical content, lowercase hex, verified in constant time.
//!
//! - sim-form: the `k=v` pairs of every non-empty parameter except `sign` and `sign_type`,
//!   sorted by key, joined with `&`, values not url-encoded ([`form_content`]).
//! - sim-json requests: `METHOD\nPATH_WITH_QUERY\nTIMESTAMP\nNONCE\nBODY\n`; responses and
//!   callbacks: `TIMESTAMP\nNONCE\nBODY\n`, carried in the `Sim-*` headers ([`SignatureHeaders`]).

use std::collections::BTreeMap;

use hmac::{KeyInit, Mac};
use http::{HeaderMap, HeaderValue};

use crate::SigningSecret;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The `sign_type` value of the form protocol.
pub const FORM_SIGN_TYPE: &str = "HMAC-SHA256";
/// Header with the signer's unix time in seconds.
pub const HEADER_TIMESTAMP: &str = "sim-timestamp";
/// Header with the signer's one-time random string.
pub const HEADER_NONCE: &str = "sim-nonce";
/// Header with the hex signature.
pub const HEADER_SIGNATURE: &str = "sim-signature";
/// A signed timestamp further than this from the verifier's clock is refused.
pub const MAX_SKEW_SECONDS: i64 = 300;
/// Longest nonce accepted (a signature header is not a place for a payload).
pub const NONCE_MAX_LEN: usize = 64;

/// Lowercase hex HMAC-SHA256 of `content` under `secret`.
pub fn hmac_hex(secret: &SigningSecret, content: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(content);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex, either case) is the HMAC of `content`; constant time in the tag.
pub fn verify_hex(secret: &SigningSecret, content: &[u8], signature: &str) -> bool {
    let Ok(tag) = hex::decode(signature) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(content);
    mac.verify_slice(&tag).is_ok()
}

fn mac(secret: &SigningSecret) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes keys of any length")
}

/// The form protocol's signed content of a parameter set (kept sorted by its map).
pub fn form_content(params: &BTreeMap<String, String>) -> String {
    let mut content = String::with_capacity(256);
    for (key, value) in params {
        if value.is_empty() || key == "sign" || key == "sign_type" {
            continue;
        }
        if !content.is_empty() {
            content.push('&');
        }
        content.push_str(key);
        content.push('=');
        content.push_str(value);
    }
    content
}

/// The signed content of a sim-json request.
pub fn json_request_content(
    method: &str,
    path_with_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let head = format!("{method}\n{path_with_query}\n{timestamp}\n{nonce}\n");
    let mut content = Vec::with_capacity(head.len() + body.len() + 1);
    content.extend_from_slice(head.as_bytes());
    content.extend_from_slice(body);
    content.push(b'\n');
    content
}

/// The signed content of a sim-json response or callback.
pub fn json_message_content(timestamp: i64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let head = format!("{timestamp}\n{nonce}\n");
    let mut content = Vec::with_capacity(head.len() + body.len() + 1);
    content.extend_from_slice(head.as_bytes());
    content.extend_from_slice(body);
    content.push(b'\n');
    content
}

/// Whether a signed timestamp is within [`MAX_SKEW_SECONDS`] of `now` (either direction).
pub fn is_fresh(timestamp: i64, now: i64) -> bool {
    timestamp.abs_diff(now) <= MAX_SKEW_SECONDS as u64
}

/// A fresh random nonce: 32 hex characters.
pub fn nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The three `Sim-*` signature headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    pub timestamp: i64,
    pub nonce: String,
    pub signature: String,
}

impl SignatureHeaders {
    /// Signs `content(timestamp, nonce)` with a new nonce at `timestamp`.
    pub fn sign(
        secret: &SigningSecret,
        timestamp: i64,
        content: impl FnOnce(i64, &str) -> Vec<u8>,
    ) -> SignatureHeaders {
        let nonce = nonce();
        let signature = hmac_hex(secret, &content(timestamp, &nonce));
        SignatureHeaders {
            timestamp,
            nonce,
            signature,
        }
    }

    /// The headers as (name, value) pairs, to put on any HTTP message.
    pub fn pairs(&self) -> [(&'static str, String); 3] {
        [
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }

    /// Reads the headers; the error says which is missing or unreadable.
    pub fn read(headers: &HeaderMap) -> Result<SignatureHeaders, String> {
        let text = |name: &str| -> Result<&str, String> {
            headers
                .get(name)
                .map(HeaderValue::to_str)
                .ok_or_else(|| format!("no {name} header"))?
                .map_err(|_| format!("{name} is not text"))
        };
        let timestamp = text(HEADER_TIMESTAMP)?
            .parse::<i64>()
            .map_err(|_| format!("{HEADER_TIMESTAMP} is not unix seconds"))?;
        let nonce = text(HEADER_NONCE)?;
        if nonce.is_empty() || nonce.len() > NONCE_MAX_LEN {
            return Err(format!("{HEADER_NONCE} is empty or too long"));
        }
        Ok(SignatureHeaders {
            timestamp,
            nonce: nonce.to_owned(),
            signature: text(HEADER_SIGNATURE)?.to_owned(),
        })
    }

    /// Whether the signature is right for `content(timestamp, nonce)`.
    pub fn verify(
        &self,
        secret: &SigningSecret,
        content: impl FnOnce(i64, &str) -> Vec<u8>,
    ) -> bool {
        verify_hex(
            secret,
            &content(self.timestamp, &self.nonce),
            &self.signature,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let secret = SigningSecret::new("Jefe");
        let tag = hmac_hex(&secret, b"what do ya want for nothing?");
        assert_eq!(
            tag,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_hex(&secret, b"what do ya want for nothing?", &tag));
        assert!(verify_hex(
            &secret,
            b"what do ya want for nothing?",
            &tag.to_uppercase()
        ));
        assert!(!verify_hex(&secret, b"what do ya want for nothing!", &tag));
        assert!(!verify_hex(
            &SigningSecret::new("jefe"),
            b"what do ya want for nothing?",
            &tag
        ));
        assert!(!verify_hex(&secret, b"x", "zz"));
        assert!(!verify_hex(&secret, b"x", "abc"));
        assert!(!verify_hex(&secret, b"x", ""));
    }

    #[test]
    fn form_content_sorts_skips_empties_and_the_signature() {
        let params: BTreeMap<String, String> = [
            ("method", "trade.pay"),
            ("app_id", "ch1"),
            ("subject", "a b&c=d"),
            ("sign", "abc"),
            ("sign_type", "HMAC-SHA256"),
            ("notify_url", ""),
            ("total_amount", "12.34"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            form_content(&params),
            "app_id=ch1&method=trade.pay&subject=a b&c=d&total_amount=12.34"
        );
    }

    #[test]
    fn json_contents_have_the_documented_layout() {
        assert_eq!(
            json_request_content("GET", "/json/v3/x?mchid=m", 17, "n1", b""),
            b"GET\n/json/v3/x?mchid=m\n17\nn1\n\n"
        );
        assert_eq!(json_message_content(17, "n1", b"{}"), b"17\nn1\n{}\n");
    }

    #[test]
    fn headers_sign_read_and_verify() {
        let secret = SigningSecret::new("k");
        let signed =
            SignatureHeaders::sign(&secret, 1000, |ts, n| json_message_content(ts, n, b"body"));
        let mut map = HeaderMap::new();
        for (name, value) in signed.pairs() {
            map.insert(name, value.parse().unwrap());
        }
        let read = SignatureHeaders::read(&map).unwrap();
        assert_eq!(read, signed);
        assert!(read.verify(&secret, |ts, n| json_message_content(ts, n, b"body")));
        assert!(!read.verify(&secret, |ts, n| json_message_content(ts, n, b"bodY")));
        map.remove(HEADER_NONCE);
        assert_eq!(
            SignatureHeaders::read(&map).unwrap_err(),
            "no sim-nonce header"
        );
    }

    #[test]
    fn freshness_is_five_minutes_either_way() {
        assert!(is_fresh(1000, 1300));
        assert!(is_fresh(1300, 1000));
        assert!(!is_fresh(1000, 1301));
        assert!(!is_fresh(1301, 1000));
        assert_ne!(nonce(), nonce());
        assert_eq!(nonce().len(), 32);
    }
}
