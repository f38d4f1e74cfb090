//! How one simulated channel behaves, set at run time with `PUT /sim/channels/{id}`: protocol,
//! secret, outcome percentages, latency, timeout hold, callback mode. Checked once, here.

use paycore_channels::{Protocol, SigningSecret};
use serde::{Deserialize, Serialize};

/// Longest latency, hold or callback delay accepted, in milliseconds (one hour).
const DELAY_MAX_MS: u64 = 3_600_000;
/// Longest secret accepted, in bytes.
const SECRET_MAX_LEN: usize = 256;

/// When the bank calls back after an outcome is visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallbackMode {
    /// Right when the outcome becomes visible.
    Immediate,
    /// `callback_delay_ms` after that.
    Late,
    /// Never: paycore must query.
    None,
}

/// A channel's behaviour, checked.
#[derive(Debug, Clone)]
pub struct ChannelConfig {
    pub protocol: Protocol,
    pub secret: SigningSecret,
    pub success_pct: u8,
    pub fail_pct: u8,
    pub timeout_pct: u8,
    /// Delay of every answer; an outcome is visible to queries and callbacks after it.
    pub latency_ms: u64,
    /// How long a timed-out request is held before its (unread) answer.
    pub timeout_hold_ms: u64,
    pub callback: CallbackMode,
    pub callback_delay_ms: u64,
    pub duplicate_callback_pct: u8,
    /// First retry of an unacknowledged callback after this, doubling (1, 2, 4, 8, 16 s).
    pub callback_retry_base_ms: u64,
}

/// The body of `PUT /sim/channels/{id}`: everything but protocol and secret optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigBody {
    pub protocol: String,
    pub secret: String,
    pub success_pct: Option<u8>,
    pub fail_pct: Option<u8>,
    pub timeout_pct: Option<u8>,
    pub latency_ms: Option<u64>,
    pub timeout_hold_ms: Option<u64>,
    pub callback: Option<CallbackMode>,
    pub callback_delay_ms: Option<u64>,
    pub duplicate_callback_pct: Option<u8>,
    pub callback_retry_base_ms: Option<u64>,
}

/// The answer of `GET /sim/channels/{id}` (the secret masked).
#[derive(Debug, Serialize)]
pub struct ConfigView {
    pub channel_id: String,
    pub protocol: &'static str,
    pub secret: &'static str,
    pub success_pct: u8,
    pub fail_pct: u8,
    pub timeout_pct: u8,
    pub latency_ms: u64,
    pub timeout_hold_ms: u64,
    pub callback: CallbackMode,
    pub callback_delay_ms: u64,
    pub duplicate_callback_pct: u8,
    pub callback_retry_base_ms: u64,
}

impl ChannelConfig {
    /// Checks a body and fills in the defaults: 100/0/0 %, 0 ms latency, 10 s hold, immediate
    /// callbacks without delay or duplicates, retries from 1 s.
    pub fn from_body(body: ConfigBody) -> Result<ChannelConfig, String> {
        let protocol = Protocol::from_name(&body.protocol).ok_or_else(|| {
            format!(
                "protocol must be sim-form or sim-json, not {:?}",
                body.protocol
            )
        })?;
        if body.secret.is_empty() || body.secret.len() > SECRET_MAX_LEN {
            return Err(format!("secret must be 1 to {SECRET_MAX_LEN} bytes"));
        }
        let config = ChannelConfig {
            protocol,
            secret: SigningSecret::new(body.secret),
            success_pct: body.success_pct.unwrap_or(100),
            fail_pct: body.fail_pct.unwrap_or(0),
            timeout_pct: body.timeout_pct.unwrap_or(0),
            latency_ms: body.latency_ms.unwrap_or(0),
            timeout_hold_ms: body.timeout_hold_ms.unwrap_or(10_000),
            callback: body.callback.unwrap_or(CallbackMode::Immediate),
            callback_delay_ms: body.callback_delay_ms.unwrap_or(0),
            duplicate_callback_pct: body.duplicate_callback_pct.unwrap_or(0),
            callback_retry_base_ms: body.callback_retry_base_ms.unwrap_or(1_000),
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let sum =
            u32::from(self.success_pct) + u32::from(self.fail_pct) + u32::from(self.timeout_pct);
        if sum != 100 {
            return Err(format!(
                "success_pct + fail_pct + timeout_pct must be 100, not {sum}"
            ));
        }
        if self.duplicate_callback_pct > 100 {
            return Err("duplicate_callback_pct must be at most 100".to_owned());
        }
        let delays = [
            self.latency_ms,
            self.timeout_hold_ms,
            self.callback_delay_ms,
        ];
        if delays.iter().any(|ms| *ms > DELAY_MAX_MS) {
            return Err(format!("delays must be at most {DELAY_MAX_MS} ms"));
        }
        if self.callback_retry_base_ms == 0 || self.callback_retry_base_ms > 60_000 {
            return Err("callback_retry_base_ms must be 1 to 60000".to_owned());
        }
        Ok(())
    }

    /// The masked view of this configuration.
    pub fn view(&self, channel_id: &str) -> ConfigView {
        ConfigView {
            channel_id: channel_id.to_owned(),
            protocol: self.protocol.name(),
            secret: "****",
            success_pct: self.success_pct,
            fail_pct: self.fail_pct,
            timeout_pct: self.timeout_pct,
            latency_ms: self.latency_ms,
            timeout_hold_ms: self.timeout_hold_ms,
            callback: self.callback,
            callback_delay_ms: self.callback_delay_ms,
            duplicate_callback_pct: self.duplicate_callback_pct,
            callback_retry_base_ms: self.callback_retry_base_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Result<ChannelConfig, String> {
        let body: ConfigBody = serde_json::from_str(json).map_err(|e| e.to_string())?;
        ChannelConfig::from_body(body)
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let config = body(r#"{"protocol":"sim-json","secret":"k"}"#).unwrap();
        assert_eq!(config.protocol, Protocol::SimJson);
        assert_eq!(
            (config.success_pct, config.fail_pct, config.timeout_pct),
            (100, 0, 0)
        );
        assert_eq!((config.latency_ms, config.timeout_hold_ms), (0, 10_000));
        assert_eq!(config.callback, CallbackMode::Immediate);
        assert_eq!(config.callback_retry_base_ms, 1_000);
        let view = serde_json::to_value(config.view("c1")).unwrap();
        assert_eq!(view["secret"], "****");
        assert_eq!(view["callback"], "immediate");
    }

    #[test]
    fn refuses_inconsistent_settings() {
        let cases = [
            (r#"{"protocol":"sim-xml","secret":"k"}"#, "protocol"),
            (r#"{"protocol":"sim-form","secret":""}"#, "secret"),
            (
                r#"{"protocol":"sim-form","secret":"k","fail_pct":10}"#,
                "must be 100",
            ),
            (
                r#"{"protocol":"sim-form","secret":"k","success_pct":50,"timeout_pct":50,"duplicate_callback_pct":101}"#,
                "duplicate",
            ),
            (
                r#"{"protocol":"sim-form","secret":"k","latency_ms":3600001}"#,
                "delays",
            ),
            (
                r#"{"protocol":"sim-form","secret":"k","callback":"sometimes"}"#,
                "unknown variant",
            ),
            (
                r#"{"protocol":"sim-form","secret":"k","colour":"red"}"#,
                "unknown field",
            ),
        ];
        for (json, expected) in cases {
            let error = body(json).unwrap_err();
            assert!(error.contains(expected), "{json}: {error}");
        }
        let split = body(
            r#"{"protocol":"sim-form","secret":"k","success_pct":60,"fail_pct":30,"timeout_pct":10,"callback":"late"}"#,
        );
        assert_eq!(split.unwrap().callback, CallbackMode::Late);
    }
}
