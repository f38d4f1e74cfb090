//! One call of etcd's v3 API through its JSON gateway (`POST /v3/<service>/<method>`): bytes
//! are base64, 64-bit integers are strings, fields left at their default are omitted. A call
//! goes to the member that answered last; a member that cannot be reached is skipped for the
//! next one. A timeout is not retried elsewhere: the request may have been applied.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

use crate::ReplicationError;

#[derive(Clone)]
pub struct Gateway {
    http: reqwest::Client,
    endpoints: Arc<Vec<String>>,
    current: Arc<AtomicUsize>,
}

impl Gateway {
    pub fn new(endpoints: &[String], timeout: Duration) -> Result<Gateway, ReplicationError> {
        if endpoints.is_empty() {
            return Err(ReplicationError::Unavailable("no etcd member given".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(1)))
            .build()
            .map_err(|e| ReplicationError::Unavailable(e.to_string()))?;
        Ok(Gateway {
            http,
            endpoints: Arc::new(endpoints.to_vec()),
            current: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Calls `path` (e.g. `kv/txn`) with `body`; etcd's refusal (`{"error": …}`) is an error.
    pub async fn call(&self, path: &str, body: &Value) -> Result<Value, ReplicationError> {
        let first = self.current.load(Relaxed);
        let mut last_error = String::new();
        for attempt in 0..self.endpoints.len() {
            let index = (first + attempt) % self.endpoints.len();
            let url = format!("{}/v3/{path}", self.endpoints[index]);
            match self.http.post(&url).json(body).send().await {
                Ok(response) => {
                    self.current.store(index, Relaxed);
                    let answer: Value = response.json().await.map_err(|e| {
                        ReplicationError::Unavailable(format!("{url}: unreadable answer: {e}"))
                    })?;
                    return refusal(&answer).map_or(Ok(answer), Err);
                }
                Err(error) if error.is_connect() => last_error = format!("{url}: {error}"),
                Err(error) => {
                    // Sent, maybe applied: the caller decides whether to retry. The next call
                    // starts at the next member, in case this one lost its quorum.
                    self.current
                        .store((index + 1) % self.endpoints.len(), Relaxed);
                    return Err(ReplicationError::Unavailable(format!("{url}: {error}")));
                }
            }
        }
        Err(ReplicationError::Unavailable(last_error))
    }
}

fn refusal(answer: &Value) -> Option<ReplicationError> {
    let message = answer.get("error").or_else(|| answer.get("message"))?;
    Some(ReplicationError::Unavailable(format!(
        "etcd refused the request: {}",
        message.as_str().unwrap_or_default()
    )))
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

/// A base64 field's bytes (absent: empty).
pub fn bytes_field(value: &Value, field: &str) -> Result<Vec<u8>, ReplicationError> {
    match value.get(field).and_then(Value::as_str) {
        None => Ok(Vec::new()),
        Some(text) => STANDARD
            .decode(text)
            .map_err(|e| ReplicationError::Protocol {
                what: "a base64 field",
                detail: format!("{field}: {e}"),
            }),
    }
}

/// A 64-bit integer field (a string in JSON; absent: 0).
pub fn int_field(value: &Value, field: &str) -> Result<i64, ReplicationError> {
    match value.get(field) {
        None => Ok(0),
        Some(Value::String(text)) => text.parse().map_err(|_| ReplicationError::Protocol {
            what: "an integer field",
            detail: format!("{field}: {text:?}"),
        }),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| ReplicationError::Protocol {
            what: "an integer field",
            detail: format!("{field}: {n}"),
        }),
        Some(other) => Err(ReplicationError::Protocol {
            what: "an integer field",
            detail: format!("{field}: {other}"),
        }),
    }
}

/// The revision in an answer's header.
pub fn revision(answer: &Value) -> Result<i64, ReplicationError> {
    let header = answer
        .get("header")
        .ok_or_else(|| ReplicationError::Protocol {
            what: "an answer",
            detail: "no header".into(),
        })?;
    int_field(header, "revision")
}

/// One stored key-value pair of a range answer.
#[derive(Debug)]
pub struct KeyValue {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub create_revision: i64,
    pub mod_revision: i64,
}

/// The pairs of a range answer (`kvs`).
pub fn kvs(range: &Value) -> Result<Vec<KeyValue>, ReplicationError> {
    let Some(list) = range.get("kvs").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|kv| {
            Ok(KeyValue {
                key: bytes_field(kv, "key")?,
                value: bytes_field(kv, "value")?,
                create_revision: int_field(kv, "create_revision")?,
                mod_revision: int_field(kv, "mod_revision")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_decode_as_etcd_writes_them() {
        let answer = json!({"header": {"revision": "7"}, "kvs": [
            {"key": b64("/k"), "value": b64([0u8, 255]), "create_revision": "5"},
            {"key": b64("/e")}
        ]});
        assert_eq!(revision(&answer).unwrap(), 7);
        let pairs = kvs(&answer).unwrap();
        assert_eq!(pairs[0].key, b"/k");
        assert_eq!(pairs[0].value, [0, 255]);
        assert_eq!(pairs[0].create_revision, 5);
        assert!(pairs[1].value.is_empty() && pairs[1].create_revision == 0);
        assert!(int_field(&json!({"n": "x"}), "n").is_err());
        assert!(refusal(&json!({"error": "lease not found", "code": 5})).is_some());
        assert!(refusal(&answer).is_none());
    }
}
