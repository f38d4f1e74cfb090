//! A notification's attempts as stored JSON: `[{"at", "status_code", "reason", "latency_ms"}]`.

use serde_json::{json, Value as Json};

use super::Attempt;
use crate::StoreError;

pub fn encode(attempts: &[Attempt]) -> String {
    let items: Vec<Json> = attempts
        .iter()
        .map(|a| {
            json!({
                "at": a.at,
                "status_code": a.status_code,
                "reason": a.reason,
                "latency_ms": a.latency_ms,
            })
        })
        .collect();
    Json::Array(items).to_string()
}

pub fn decode(text: &str) -> Result<Vec<Attempt>, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("notification attempts: {what}"));
    let v: Json = serde_json::from_str(text).map_err(|e| corrupt(&e.to_string()))?;
    v.as_array()
        .ok_or_else(|| corrupt("not an array"))?
        .iter()
        .map(|a| {
            let status_code = match &a["status_code"] {
                Json::Null => None,
                code => Some(
                    code.as_u64()
                        .and_then(|c| u16::try_from(c).ok())
                        .ok_or_else(|| corrupt("status_code"))?,
                ),
            };
            Ok(Attempt {
                at: a["at"].as_u64().ok_or_else(|| corrupt("at"))?,
                status_code,
                reason: a["reason"].as_str().map(str::to_owned),
                latency_ms: a["latency_ms"]
                    .as_u64()
                    .ok_or_else(|| corrupt("latency_ms"))?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_round_trip() {
        let attempts = vec![
            Attempt {
                at: 1,
                status_code: None,
                reason: Some("timeout".into()),
                latency_ms: 5_000,
            },
            Attempt {
                at: 2,
                status_code: Some(200),
                reason: None,
                latency_ms: 3,
            },
        ];
        assert_eq!(decode(&encode(&attempts)).unwrap(), attempts);
        assert_eq!(decode("[]").unwrap(), vec![]);
        assert!(decode("{}").is_err());
        assert!(decode(r#"[{"at":1,"status_code":70000,"latency_ms":1}]"#).is_err());
    }
}
