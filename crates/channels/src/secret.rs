//! The signing secret shared with a channel, in a type that never shows it.

use std::fmt;
use std::sync::Arc;

/// A channel's HMAC key. `Debug` and `Display` print `****`; only [`SigningSecret::expose`]
/// gives the bytes, for signing. Cloning shares the key (no copy of its bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Arc<str>);

impl SigningSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> SigningSecret {
        SigningSecret(Arc::from(secret.into()))
    }

    /// The key itself: for signing and verifying only, never for output.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no key was given (an unconfigured channel signs with nothing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_key() {
        let secret = SigningSecret::new("s3cr3t-key");
        assert_eq!(format!("{secret:?}"), "****");
        assert_eq!(format!("{secret}"), "****");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(****)");
        assert_eq!(secret.expose(), "s3cr3t-key");
    }
}
