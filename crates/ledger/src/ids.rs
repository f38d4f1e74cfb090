//! Client ids (idempotency keys) and content fingerprints, hashed with a keyed hash.
//!
//! The hash is SipHash keyed with a per-ledger secret, so a client cannot craft ids that
//! pile up in one bucket of the idempotency index. Hashing happens where a command is built
//! (the engine's edge, on the caller's thread), never on the writer's hot path.

use std::fmt;
use std::hash::Hasher;

use siphasher::sip128::{Hasher128, SipHasher13};

use crate::LedgerError;

pub const CLIENT_ID_BYTES_MAX: usize = 64;

/// An idempotency key as sent by the client (1–64 bytes of printable UTF-8) and its hash.
#[derive(Clone, Copy)]
pub struct ClientId {
    hash: u64,
    len: u8,
    bytes: [u8; CLIENT_ID_BYTES_MAX],
}

impl ClientId {
    /// The keyed 64-bit hash used by the idempotency index; never 0 or u64::MAX.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The id zero-padded to its fixed capacity, and its length.
    pub fn padded(&self) -> (&[u8; CLIENT_ID_BYTES_MAX], usize) {
        (&self.bytes, usize::from(self.len))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("client ids are built from &str")
    }
}

impl PartialEq for ClientId {
    fn eq(&self, other: &ClientId) -> bool {
        self.hash == other.hash && self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ClientId {}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A 128-bit digest of a command's content, used to tell a retry from an id reuse.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Fingerprint(pub [u64; 2]);

/// The ledger's keyed hasher. The key is part of the ledger's configuration and persisted
/// with it, so hashes stay stable across restarts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IdHasher {
    key: [u8; 16],
}

impl IdHasher {
    pub fn new(key: [u8; 16]) -> IdHasher {
        IdHasher { key }
    }

    pub fn key(&self) -> [u8; 16] {
        self.key
    }

    /// Validates and hashes a client id.
    pub fn client_id(&self, text: &str) -> Result<ClientId, LedgerError> {
        let valid_length = (1..=CLIENT_ID_BYTES_MAX).contains(&text.len());
        if !valid_length || text.chars().any(char::is_control) {
            return Err(LedgerError::InvalidClientId(text.to_owned()));
        }
        let mut bytes = [0; CLIENT_ID_BYTES_MAX];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(ClientId {
            hash: self.hash_id_bytes(text.as_bytes()),
            len: text.len() as u8,
            bytes,
        })
    }

    /// Rehashes stored id bytes (used when an index is rebuilt from records).
    pub fn hash_id_bytes(&self, bytes: &[u8]) -> u64 {
        let mut hasher = SipHasher13::new_with_key(&self.key);
        hasher.write(bytes);
        // 0 and u64::MAX mark empty and removed slots of the index.
        hasher.finish().clamp(1, u64::MAX - 1)
    }

    pub fn content_hasher(&self) -> ContentHasher {
        ContentHasher(SipHasher13::new_with_key(&self.key))
    }
}

/// Feeds a command's fields into a fingerprint; every field is written with a fixed width
/// or a length prefix so that two different commands can never encode to the same stream.
pub struct ContentHasher(SipHasher13);

impl ContentHasher {
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.0.write_u8(value);
        self
    }

    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.0.write_u32(value);
        self
    }

    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.0.write_u64(value);
        self
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.0.write_u8(value.len() as u8);
        self.0.write(value);
        self
    }

    pub fn finish(&self) -> Fingerprint {
        let hash = self.0.finish128();
        Fingerprint([hash.h1, hash.h2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_bounded_and_hashed_with_the_key() {
        let a = IdHasher::new([1; 16]);
        let b = IdHasher::new([2; 16]);
        let id = a.client_id("tx-1").unwrap();
        assert_eq!(id.as_str(), "tx-1");
        assert_eq!(id, a.client_id("tx-1").unwrap());
        assert_ne!(id.hash(), b.client_id("tx-1").unwrap().hash());
        assert_ne!(id, a.client_id("tx-2").unwrap());
        assert!(a.client_id("").is_err());
        assert!(a.client_id(&"x".repeat(65)).is_err());
        assert!(a.client_id("a\u{0}b").is_err());
        assert!(a.client_id(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn length_prefixes_keep_fields_apart() {
        let h = IdHasher::new([7; 16]);
        let ab_c = h.content_hasher().bytes(b"ab").bytes(b"c").finish();
        let a_bc = h.content_hasher().bytes(b"a").bytes(b"bc").finish();
        assert_ne!(ab_c, a_bc);
    }
}
