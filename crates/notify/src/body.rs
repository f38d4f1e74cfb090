//! The JSON a merchant receives, built once (when the notification is inserted) and sent and
//! signed byte for byte as stored: `{"event_id", "type", "created_at", …the event's fields}`.

use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::NotifyError;

/// The event types paycore sends.
pub mod event_types {
    pub const TRADE_PAID: &str = "trade.paid";
    pub const PAYMENT_REFUNDED: &str = "payment.refunded";
    pub const REFUND_SUCCEEDED: &str = "refund.succeeded";
    pub const REFUND_FAILED: &str = "refund.failed";
    pub const PAYOUT_SUCCEEDED: &str = "payout.succeeded";
    pub const PAYOUT_FAILED: &str = "payout.failed";
}

/// The keys the envelope sets, which the fields may not.
const ENVELOPE_KEYS: [&str; 3] = ["event_id", "type", "created_at"];

/// The stable event id of an event about an order: `evt_<order>_<type>` (an order has each
/// type of event once, so a retried state change finds the same id).
pub fn event_id(order_id: &str, event_type: &str) -> String {
    format!("evt_{order_id}_{event_type}")
}

/// The body: the envelope first, then `fields` (a JSON object) in key order. `created_at_ms`
/// is when the event happened (e.g. the trade's `paid_at`), so building the body again for
/// the same event yields the same bytes; it is written as RFC 3339 (UTC).
pub fn body(
    event_id: &str,
    event_type: &str,
    created_at_ms: u64,
    fields: Json,
) -> Result<String, NotifyError> {
    let Json::Object(fields) = fields else {
        return Err(NotifyError::Body("the fields must be a JSON object".into()));
    };
    if let Some(key) = ENVELOPE_KEYS.iter().find(|k| fields.contains_key(**k)) {
        return Err(NotifyError::Body(format!("{key:?} is set by the envelope")));
    }
    let mut out = String::from("{");
    push_pair(&mut out, "event_id", &Json::from(event_id));
    push_pair(&mut out, "type", &Json::from(event_type));
    push_pair(&mut out, "created_at", &Json::from(rfc3339(created_at_ms)?));
    // Sorted here, whatever order the map keeps (serde_json's `preserve_order` feature).
    let mut pairs: Vec<(&String, &Json)> = fields.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in pairs {
        push_pair(&mut out, key, value);
    }
    out.push('}');
    Ok(out)
}

fn push_pair(out: &mut String, key: &str, value: &Json) {
    if out.len() > 1 {
        out.push(',');
    }
    out.push_str(&Json::from(key).to_string());
    out.push(':');
    out.push_str(&value.to_string());
}

fn rfc3339(ms: u64) -> Result<String, NotifyError> {
    let nanos = i128::from(ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or_else(|| NotifyError::Body(format!("{ms} ms is not a time")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_envelope_comes_first_then_the_fields_in_key_order() {
        let id = event_id("T20240501001", event_types::TRADE_PAID);
        assert_eq!(id, "evt_T20240501001_trade.paid");
        let text = body(
            &id,
            event_types::TRADE_PAID,
            1_714_564_800_123,
            json!({"trade_id": "T20240501001", "amount": 1999, "currency": "CNY"}),
        )
        .unwrap();
        assert_eq!(
            text,
            r#"{"event_id":"evt_T20240501001_trade.paid","type":"trade.paid","created_at":"2024-05-01T12:00:00.123Z","amount":1999,"currency":"CNY","trade_id":"T20240501001"}"#
        );
        let parsed: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["amount"], 1999);
        // Deterministic: the same event builds the same bytes.
        let again = body(
            &id,
            event_types::TRADE_PAID,
            1_714_564_800_123,
            json!({"currency": "CNY", "trade_id": "T20240501001", "amount": 1999}),
        )
        .unwrap();
        assert_eq!(again, text);
    }

    #[test]
    fn fields_must_be_an_object_without_envelope_keys() {
        assert!(body("e", "t", 0, json!([1])).is_err());
        assert!(body("e", "t", 0, json!({"type": "x"})).is_err());
        assert_eq!(
            body("e", "t", 0, json!({})).unwrap(),
            r#"{"event_id":"e","type":"t","created_at":"1970-01-01T00:00:00Z"}"#
        );
        assert!(body("e", "t", u64::MAX, json!({})).is_err());
    }
}
