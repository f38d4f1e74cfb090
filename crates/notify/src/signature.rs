//! Signing, and what a merchant does to check a signature: `Paycore-Signature: v1=<hex>`
//! where `<hex>` is HMAC-SHA256(secret, `<Paycore-Timestamp>.<body>`), one `v1=` per secret
//! signing at the time (`v1=aaa,v1=bbb` while a rotation's grace lasts).

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::secret::Secret;

pub const HEADER_EVENT_ID: &str = "Paycore-Event-Id";
/// Unix seconds when the request was signed.
pub const HEADER_TIMESTAMP: &str = "Paycore-Timestamp";
pub const HEADER_SIGNATURE: &str = "Paycore-Signature";
/// The signature scheme: HMAC-SHA256 over `timestamp.body`, hex.
pub const SCHEME: &str = "v1";
/// How far a merchant should accept a timestamp from its own clock.
pub const TOLERANCE_DEFAULT: Duration = Duration::from_secs(300);
/// Most signatures `verify` looks at in one header.
pub const SIGNATURES_MAX: usize = 8;

type HmacSha256 = Hmac<Sha256>;

/// The MAC of `timestamp.body`, the timestamp as the header's text.
fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The hex HMAC-SHA256 of `timestamp.body`.
pub fn sign(secret: &Secret, timestamp: u64, body: &str) -> String {
    let timestamp = timestamp.to_string();
    let tag = mac(secret.expose().as_bytes(), &timestamp, body.as_bytes()).finalize();
    hex::encode(tag.into_bytes())
}

/// The `Paycore-Signature` value: `v1=<hex>` per secret, in the order given (newest first),
/// comma separated.
pub fn signature_header(secrets: &[Secret], timestamp: u64, body: &str) -> String {
    secrets
        .iter()
        .map(|s| format!("{SCHEME}={}", sign(s, timestamp, body)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Why a signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the timestamp is not unix seconds")]
    BadTimestamp,
    #[error("the timestamp is more than the tolerance away from now")]
    TimestampOutOfTolerance,
    #[error("no v1 signature in the header")]
    NoSignature,
    #[error("no v1 signature matches")]
    Mismatch,
}

/// What a merchant runs: accepts when `timestamp` (the `Paycore-Timestamp` header) is
/// within `tolerance` of `now_s` and one `v1=` of `header` is the HMAC of `timestamp.body`
/// under `secret`. Compares in constant time; ignores other schemes.
pub fn verify(
    header: &str,
    timestamp: &str,
    body: &str,
    secret: &str,
    now_s: u64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let timestamp = timestamp.trim();
    let signed_at: u64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    if now_s.abs_diff(signed_at) > tolerance.as_secs() {
        return Err(VerifyError::TimestampOutOfTolerance);
    }
    let candidates: Vec<Vec<u8>> = header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .take(SIGNATURES_MAX)
        .filter_map(|tag| hex::decode(tag).ok())
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::NoSignature);
    }
    let expected = mac(secret.as_bytes(), timestamp, body.as_bytes());
    if candidates
        .iter()
        .any(|c| expected.clone().verify_slice(c).is_ok())
    {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"event_id":"evt_1","type":"trade.paid"}"#;

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex::encode([0x00, 0x7f, 0xab, 0xff]), "007fabff");
        assert_eq!(hex::decode("007fabff").unwrap(), [0x00, 0x7f, 0xab, 0xff]);
        assert!(hex::decode("abc").is_err());
        assert!(hex::decode("zz").is_err());
        assert!(hex::decode("+1").is_err());
    }

    #[test]
    fn known_vectors() {
        // RFC 4231 test case 2, then the same key over "<ts>.<body>" (computed with Python's
        // hmac module).
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            sign(&Secret::new("Jefe"), 1_700_000_000, BODY),
            "36b01d3b64abaf6935fa6d8bc9bc28ccf05fca50f393b7f9556a78a2124b047c"
        );
    }

    #[test]
    fn one_v1_per_secret_newest_first() {
        let secrets = [Secret::new("new-secret"), Secret::new("old-secret")];
        let header = signature_header(&secrets, 100, BODY);
        let parts: Vec<&str> = header.split(',').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], format!("v1={}", sign(&secrets[0], 100, BODY)));
        assert_eq!(parts[1], format!("v1={}", sign(&secrets[1], 100, BODY)));
        for secret in ["new-secret", "old-secret"] {
            assert_eq!(
                verify(&header, "100", BODY, secret, 100, TOLERANCE_DEFAULT),
                Ok(())
            );
        }
        assert_eq!(
            verify(&header, "100", BODY, "other", 100, TOLERANCE_DEFAULT),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn verify_refuses_what_it_must() {
        let secret = Secret::new("s3cret");
        let header = signature_header(std::slice::from_ref(&secret), 1_000, BODY);
        let verify_at = |header: &str, ts: &str, body: &str, now: u64| {
            verify(header, ts, body, "s3cret", now, TOLERANCE_DEFAULT)
        };
        assert_eq!(verify_at(&header, "1000", BODY, 1_300), Ok(()));
        assert_eq!(verify_at(&header, "1000", BODY, 700), Ok(()));
        assert_eq!(
            verify_at(&header, "1000", BODY, 1_301),
            Err(VerifyError::TimestampOutOfTolerance)
        );
        assert_eq!(
            verify_at(&header, "999", BODY, 1_000),
            Err(VerifyError::Mismatch),
            "the timestamp is signed"
        );
        assert_eq!(
            verify_at(&header, "1000", &BODY.replace("paid", "pain"), 1_000),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify_at(&header, "soon", BODY, 1_000),
            Err(VerifyError::BadTimestamp)
        );
        assert_eq!(
            verify_at(&header, "+1000", BODY, 1_000),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(verify_at(&header, " 1000 ", BODY, 1_000), Ok(()));
        assert_eq!(
            verify_at("v0=abcd", "1000", BODY, 1_000),
            Err(VerifyError::NoSignature)
        );
        assert_eq!(
            verify_at("", "1000", BODY, 1_000),
            Err(VerifyError::NoSignature)
        );
        let mixed = format!("v0=ffff, {header}");
        assert_eq!(verify_at(&mixed, "1000", BODY, 1_000), Ok(()));
        let truncated = &header[..header.len() - 2];
        assert_eq!(
            verify_at(truncated, "1000", BODY, 1_000),
            Err(VerifyError::Mismatch)
        );
    }
}
