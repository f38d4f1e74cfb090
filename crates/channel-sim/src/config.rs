//! How one simulated channel behaves, set at run time with `PUT /sim/channels/{id}`: protocol,
//! secret, outcome percentages, latency, timeout hold, callback mode, the fee it charges and
//! the offset of its wall clock. Checked once, here.

use paycore_channels::{Protocol, SigningSecret};
use serde::{Deserialize, Serialize};

/// Longest latency, hold or callback delay accepted, in milliseconds (one hour).
const DELAY_MAX_MS: u64 = 3_600_000;
/// Longest secret accepted, in bytes.
const SECRET_MAX_LEN: usize = 256;
/// Highest fee rate accepted, in basis points (100 %).
const FEE_BP_MAX: u32 = 10_000;
/// Largest clock offset accepted either way, in milliseconds (about 100 years).
const CLOCK_OFFSET_MAX_MS: i64 = 3_155_760_000_000;

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
    /// Fee charged on each pay order, in basis points of its amount (rounded half up), fixed
    /// when the order arrives.
    pub fee_bp: u32,
    /// How far the bank's wall clock (the times it records and dates statements by) is from
    /// the host's, in milliseconds: lets a test place its orders at a chosen time of day.
    /// Signatures always use the host's clock.
    pub clock_offset_ms: i64,
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
    pub fee_bp: Option<u32>,
    pub clock_offset_ms: Option<i64>,
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
    pub fee_bp: u32,
    pub clock_offset_ms: i64,
}

impl ChannelConfig {
    /// Checks a body and fills in the defaults: 100/0/0 %, 0 ms latency, 10 s hold, immediate
    /// callbacks without delay or duplicates, retries from 1 s, no fee, the host's clock.
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
            fee_bp: body.fee_bp.unwrap_or(0),
            clock_offset_ms: body.clock_offset_ms.unwrap_or(0),
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
        if self.fee_bp > FEE_BP_MAX {
            return Err(format!("fee_bp must be 0 to {FEE_BP_MAX}"));
        }
        if self.clock_offset_ms.unsigned_abs() > CLOCK_OFFSET_MAX_MS.unsigned_abs() {
            return Err(format!(
                "clock_offset_ms must be within {CLOCK_OFFSET_MAX_MS} ms either way"
            ));
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
            fee_bp: self.fee_bp,
            clock_offset_ms: self.clock_offset_ms,
        }
    }

    /// The fee of a pay order of `amount_minor`: `amount * fee_bp / 10_000`, rounded half up.
    pub fn fee_of(&self, amount_minor: u64) -> u64 {
        let scaled = u128::from(amount_minor) * u128::from(self.fee_bp) + 5_000;
        // At most amount_minor, since fee_bp is at most 10_000.
        u64::try_from(scaled / 10_000).unwrap_or(amount_minor)
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
        assert_eq!((config.fee_bp, config.clock_offset_ms), (0, 0));
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
                r#"{"protocol":"sim-form","secret":"k","fee_bp":10001}"#,
                "fee_bp",
            ),
            (
                r#"{"protocol":"sim-form","secret":"k","clock_offset_ms":-3155760000001}"#,
                "clock_offset_ms",
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

    #[test]
    fn fees_round_half_up_in_basis_points() {
        let config = body(r#"{"protocol":"sim-json","secret":"k","fee_bp":60}"#).unwrap();
        // 0.6 % of 1.00 is 0.6 fen → 1; of 0.83 is 0.498 fen → 0; of 2.50 is exactly 1.5 → 2.
        assert_eq!(config.fee_of(100), 1);
        assert_eq!(config.fee_of(83), 0);
        assert_eq!(config.fee_of(250), 2);
        assert_eq!(config.fee_of(u64::MAX), 110_680_464_442_257_310);
        let all = body(r#"{"protocol":"sim-json","secret":"k","fee_bp":10000}"#).unwrap();
        assert_eq!(all.fee_of(u64::MAX), u64::MAX);
    }
}
