//! sim-json callbacks: the bank's signed JSON POST `{"id","event_type","resource_type",
//! "resource"}` to the order's `notify_url` (simulator side), and its verification and reading
//! (adapter side). Acknowledged with HTTP 200 or 204.

use http::HeaderMap;

use super::model::Notification;
use super::names;
use super::reply::{read_resource, resource, sign_message, verify_message};
use crate::sign::{self, SignatureHeaders};
use crate::wire::{OrderReport, ReportState};
use crate::{clock, Callback, CallbackError, OrderKind, SigningSecret};

/// `event_type` of a callback about `report`: `TRANSACTION.SUCCESS`, `REFUND.FAIL`, ...
pub fn event_type(report: &OrderReport) -> String {
    let outcome = match report.state {
        ReportState::Succeeded => "SUCCESS",
        ReportState::Failed { .. } => "FAIL",
        ReportState::Processing => "PROCESSING",
    };
    format!("{}.{outcome}", names(report.kind).event_prefix)
}

/// The signature headers and body of a callback about `report`, sent at `now` (unix seconds).
pub fn encode(
    mchid: &str,
    report: &OrderReport,
    now: i64,
    secret: &SigningSecret,
) -> (SignatureHeaders, Vec<u8>) {
    let notification = Notification {
        id: format!("EV-{}", sign::nonce()),
        create_time: clock::rfc3339_utc(now.saturating_mul(1000)),
        event_type: event_type(report),
        resource_type: names(report.kind).resource_type.to_owned(),
        resource: resource(mchid, report),
    };
    let body = serde_json::to_vec(&notification).expect("notifications serialize");
    (sign_message(secret, now, &body), body)
}

/// Verifies (signature, then a timestamp within five minutes of `now`) and reads a callback
/// meant for merchant `mchid`.
pub fn parse(
    headers: &HeaderMap,
    body: &[u8],
    mchid: &str,
    secret: &SigningSecret,
    now: i64,
) -> Result<Callback, CallbackError> {
    let signed = verify_message(headers, body, secret).map_err(CallbackError::BadSignature)?;
    if !sign::is_fresh(signed.timestamp, now) {
        return Err(CallbackError::BadSignature(
            "Sim-Timestamp more than five minutes off".to_owned(),
        ));
    }
    let malformed = CallbackError::Malformed;
    let notification: Notification =
        serde_json::from_slice(body).map_err(|e| malformed(format!("body: {e}")))?;
    let kind = [OrderKind::Pay, OrderKind::Refund, OrderKind::Payout]
        .into_iter()
        .find(|kind| names(*kind).resource_type == notification.resource_type)
        .ok_or_else(|| malformed(format!("resource_type {:?}", notification.resource_type)))?;
    let prefix = format!("{}.", names(kind).event_prefix);
    if !notification.event_type.starts_with(&prefix) {
        return Err(malformed(format!(
            "event_type {:?} for a {} resource",
            notification.event_type,
            names(kind).resource_type
        )));
    }
    let (owner, order_no, status) =
        read_resource(kind, notification.resource).map_err(malformed)?;
    if owner != mchid {
        return Err(malformed(format!("mchid is not {mchid}")));
    }
    Ok(Callback {
        kind,
        order_no,
        status,
    })
}

#[cfg(test)]
mod tests {
    use paycore_money::Currency;

    use super::*;
    use crate::BankStatus;

    const NOW: i64 = 1_709_251_200;

    fn secret() -> SigningSecret {
        SigningSecret::new("cb-key")
    }

    fn report() -> OrderReport {
        OrderReport {
            kind: OrderKind::Pay,
            order_no: "P1".into(),
            paid_order_no: None,
            amount_minor: 1234,
            currency: Currency::CNY,
            state: ReportState::Failed {
                message: "declined".into(),
            },
            bank_ref: "B1".into(),
        }
    }

    fn headers(signed: &SignatureHeaders) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in signed.pairs() {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_signed_callback_reads_back() {
        let (signed, body) = encode("m1", &report(), NOW, &secret());
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["event_type"], "TRANSACTION.FAIL");
        assert_eq!(value["resource"]["trade_state"], "PAYERROR");
        let callback = parse(&headers(&signed), &body, "m1", &secret(), NOW + 1).unwrap();
        assert_eq!(
            callback,
            Callback {
                kind: OrderKind::Pay,
                order_no: "P1".into(),
                status: BankStatus::Failed {
                    code: "PAYERROR".into(),
                    message: "declined".into()
                }
            }
        );
    }

    #[test]
    fn tampered_stale_or_foreign_callbacks_are_refused() {
        let (signed, body) = encode("m1", &report(), NOW, &secret());
        let map = headers(&signed);
        let tampered = String::from_utf8(body.clone())
            .unwrap()
            .replace("PAYERROR", "SUCCESS");
        assert!(matches!(
            parse(&map, tampered.as_bytes(), "m1", &secret(), NOW),
            Err(CallbackError::BadSignature(_))
        ));
        assert!(matches!(
            parse(&map, &body, "m1", &secret(), NOW + 301),
            Err(CallbackError::BadSignature(m)) if m.contains("five minutes")
        ));
        assert!(matches!(
            parse(&HeaderMap::new(), &body, "m1", &secret(), NOW),
            Err(CallbackError::BadSignature(_))
        ));
        assert!(matches!(
            parse(&map, &body, "m2", &secret(), NOW),
            Err(CallbackError::Malformed(_))
        ));
    }
}
