//! A form message's parameters: sorted, unique keys; urlencoded on the wire; signed and verified
//! with [`crate::sign::form_content`].

use std::collections::BTreeMap;

use crate::sign::{self, FORM_SIGN_TYPE};
use crate::SigningSecret;

/// Most parameters a message may carry.
const PARAMS_MAX: usize = 64;

/// The parameters of one form message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Sets a parameter (an empty value is sent but neither signed nor read back).
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Params {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    /// A non-empty parameter's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A parameter that must be there and not empty.
    pub fn require(&self, key: &str) -> Result<&str, String> {
        self.get(key)
            .ok_or_else(|| format!("missing parameter {key}"))
    }

    /// The urlencoded body.
    pub fn encode(&self) -> String {
        form_urlencoded::Serializer::new(String::with_capacity(256))
            .extend_pairs(&self.0)
            .finish()
    }

    /// Reads a urlencoded body; a key given twice or too many keys are refused.
    pub fn decode(body: &[u8]) -> Result<Params, String> {
        let mut map = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(body) {
            if map.len() == PARAMS_MAX {
                return Err(format!("more than {PARAMS_MAX} parameters"));
            }
            if map
                .insert(key.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return Err(format!("parameter {key} given twice"));
            }
        }
        Ok(Params(map))
    }

    /// Adds `sign_type` and `sign` over the other parameters.
    pub fn sign(&mut self, secret: &SigningSecret) -> &mut Params {
        self.0.remove("sign");
        let signature = sign::hmac_hex(secret, sign::form_content(&self.0).as_bytes());
        self.set("sign_type", FORM_SIGN_TYPE);
        self.set("sign", signature)
    }

    /// Whether `sign` is right for the other parameters under `sign_type=HMAC-SHA256`.
    pub fn verify(&self, secret: &SigningSecret) -> bool {
        let (Some(FORM_SIGN_TYPE), Some(signature)) = (self.get("sign_type"), self.get("sign"))
        else {
            return false;
        };
        sign::verify_hex(secret, sign::form_content(&self.0).as_bytes(), signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SigningSecret {
        SigningSecret::new("form-key")
    }

    #[test]
    fn signed_params_survive_the_wire_and_verify() {
        let mut params = Params::new();
        params
            .set("app_id", "ch1")
            .set("subject", "咖啡 & cake = 1+1")
            .set(
                "notify_url",
                "http://127.0.0.1:8080/v1/channels/ch1/notify?x=1",
            )
            .set("empty", "");
        params.sign(&secret());
        let wire = params.encode();
        let back = Params::decode(wire.as_bytes()).unwrap();
        assert_eq!(back, params);
        assert!(back.verify(&secret()));
        assert_eq!(back.get("subject"), Some("咖啡 & cake = 1+1"));
        assert_eq!(back.get("empty"), None);
        assert!(!back.verify(&SigningSecret::new("other")));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let mut params = Params::new();
        params.set("total_amount", "12.34").set("app_id", "ch1");
        params.sign(&secret());
        let mut tampered = params.clone();
        tampered.set("total_amount", "12.35");
        assert!(!tampered.verify(&secret()));
        let mut added = params.clone();
        added.set("extra", "1");
        assert!(!added.verify(&secret()));
        let mut other_type = params.clone();
        other_type.set("sign_type", "RSA2");
        assert!(!other_type.verify(&secret()));
        let mut unsigned = params.clone();
        unsigned.set("sign", "");
        assert!(!unsigned.verify(&secret()));
    }

    #[test]
    fn refuses_duplicate_and_excess_keys() {
        assert!(Params::decode(b"a=1&a=2").unwrap_err().contains("twice"));
        let many: Vec<String> = (0..=PARAMS_MAX).map(|i| format!("k{i}=v")).collect();
        assert!(Params::decode(many.join("&").as_bytes()).is_err());
        assert_eq!(
            Params::decode(b"k=").unwrap().require("k").unwrap_err(),
            "missing parameter k"
        );
    }
}
