//! A channel's day files, the same for both protocols: the statement (对账单) as the bank serves
//! it and the day's settlement (结算) to paycore's bank account, from the simulator's
//! `GET /sim/channels/{id}/statements/{date}?format=` and `.../settlements/{date}`. Requests
//! are signed like sim-json requests; answers must carry verifying `Sim-*` headers over their
//! body like sim-json answers.

use std::time::Duration;

use paycore_money::Currency;
use serde::{Deserialize, Serialize};

use crate::json::reply::verify_message;
use crate::sign::{self, SignatureHeaders};
use crate::transport::{self, Answer, ANSWER_MAX_BYTES, FILE_MAX_BYTES};
use crate::{clock, CallError, ChannelEndpoint, Settlement};

/// The settlement answer's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementBody {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub currency: String,
    /// Net minor units credited (negative: debited).
    pub amount: i64,
    pub count: u64,
}

/// Path of a day's statement in `format`.
pub fn statement_path(channel_id: &str, date: time::Date, format: &str) -> String {
    let date = clock::iso_date(date);
    format!("/sim/channels/{channel_id}/statements/{date}?format={format}")
}

/// Path of a day's settlement.
pub fn settlement_path(channel_id: &str, date: time::Date) -> String {
    let date = clock::iso_date(date);
    format!("/sim/channels/{channel_id}/settlements/{date}")
}

pub(crate) async fn statement(
    endpoint: &ChannelEndpoint,
    http: &reqwest::Client,
    timeout: Duration,
    date: time::Date,
    format: &str,
) -> Result<Vec<u8>, CallError> {
    if !matches!(format, "wechat" | "alipay" | "csv") {
        return Err(CallError::Protocol(format!(
            "unknown statement format {format:?}"
        )));
    }
    let path = statement_path(&endpoint.channel_id, date, format);
    let answer = signed_get(endpoint, http, timeout, &path, FILE_MAX_BYTES).await?;
    Ok(answer.body)
}

pub(crate) async fn settlement(
    endpoint: &ChannelEndpoint,
    http: &reqwest::Client,
    timeout: Duration,
    date: time::Date,
) -> Result<Settlement, CallError> {
    let path = settlement_path(&endpoint.channel_id, date);
    let answer = signed_get(endpoint, http, timeout, &path, ANSWER_MAX_BYTES).await?;
    let body: SettlementBody = serde_json::from_slice(&answer.body)
        .map_err(|e| CallError::Protocol(format!("settlement body: {e}")))?;
    if body.date != clock::iso_date(date) {
        return Err(CallError::Protocol(format!(
            "asked for the settlement of {}, got {}",
            clock::iso_date(date),
            body.date
        )));
    }
    let currency =
        Currency::from_code(&body.currency).map_err(|e| CallError::Protocol(e.to_string()))?;
    Ok(Settlement {
        date,
        currency,
        amount_minor: body.amount,
        count: body.count,
    })
}

/// A signed GET whose 200 answer's signature verifies.
async fn signed_get(
    endpoint: &ChannelEndpoint,
    http: &reqwest::Client,
    timeout: Duration,
    path: &str,
    max_bytes: usize,
) -> Result<Answer, CallError> {
    let signed = SignatureHeaders::sign(&endpoint.secret, clock::unix_now(), |ts, nonce| {
        sign::json_request_content("GET", path, ts, nonce, b"")
    });
    let mut request = http.get(format!("{}{path}", transport::base_url(&endpoint.endpoint)));
    for (name, value) in signed.pairs() {
        request = request.header(name, value);
    }
    let answer = transport::send(request, timeout, max_bytes).await?;
    if answer.status != 200 {
        return Err(CallError::Protocol(format!(
            "HTTP {} for {path}",
            answer.status
        )));
    }
    if let Err(reason) = verify_message(&answer.headers, &answer.body, &endpoint.secret) {
        tracing::warn!(channel = %endpoint.channel_id, path, reason, "refused an unsigned day file");
        return Err(CallError::BadSignature(reason));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_simulator_routes() {
        let date = time::Date::from_calendar_date(2024, time::Month::March, 1).unwrap();
        assert_eq!(
            statement_path("ch1", date, "wechat"),
            "/sim/channels/ch1/statements/2024-03-01?format=wechat"
        );
        assert_eq!(
            settlement_path("ch1", date),
            "/sim/channels/ch1/settlements/2024-03-01"
        );
    }
}
