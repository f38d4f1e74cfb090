//! A signing secret that never shows itself: `Debug` prints `****`, there is no `Display`,
//! and the text is reached only through `expose`.

use std::fmt;

use crate::NotifyError;

/// Random bytes in a generated secret (256 bits).
pub const GENERATED_BYTES: usize = 32;
/// What a generated secret starts with, so one is recognised when pasted somewhere.
pub const GENERATED_PREFIX: &str = "whsec_";

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// A fresh secret from the operating system's random source: `whsec_` and 64 hex digits.
    pub fn generate() -> Result<Secret, NotifyError> {
        let mut bytes = [0u8; GENERATED_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| NotifyError::Random(e.to_string()))?;
        Ok(Secret(format!("{GENERATED_PREFIX}{}", hex::encode(bytes))))
    }

    /// The secret's text, for signing and for storing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::new("whsec_very_secret");
        assert_eq!(format!("{s:?}"), "Secret(****)");
        assert_eq!(format!("{:?}", vec![s.clone()]), "[Secret(****)]");
        assert_eq!(s.expose(), "whsec_very_secret");
    }

    #[test]
    fn generated_secrets_are_long_and_different() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(
            a.expose().len(),
            GENERATED_PREFIX.len() + 2 * GENERATED_BYTES
        );
        assert!(a.expose().starts_with(GENERATED_PREFIX));
    }
}
