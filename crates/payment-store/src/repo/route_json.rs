//! A routing decision as stored JSON (the domain's types carry no serialisation of their own).

use paycore_payments::{Candidate, DropReason, RouteDecision, Strategy};
use serde_json::{json, Map, Value as Json};

use crate::StoreError;

pub fn encode(d: &RouteDecision) -> String {
    let candidates: Vec<Json> = d.candidates.iter().map(encode_candidate).collect();
    json!({
        "chosen": d.chosen,
        "strategy": d.strategy.name(),
        "split_key": d.split_key,
        "at": d.at,
        "candidates": candidates,
    })
    .to_string()
}

fn encode_candidate(c: &Candidate) -> Json {
    let mut object = Map::new();
    object.insert("channel".into(), json!(c.channel));
    object.insert("weight".into(), json!(c.weight));
    if let Some(reason) = &c.dropped {
        let mut dropped = Map::new();
        dropped.insert("code".into(), json!(reason.code()));
        match reason {
            DropReason::BelowMinAmount { min } => dropped.insert("min".into(), json!(min)),
            DropReason::AboveMaxAmount { max } => dropped.insert("max".into(), json!(max)),
            DropReason::RateLimited { per_s } => dropped.insert("per_s".into(), json!(per_s)),
            DropReason::Resting { until } => dropped.insert("until".into(), json!(until)),
            _ => None,
        };
        object.insert("dropped".into(), Json::Object(dropped));
    }
    Json::Object(object)
}

pub fn decode(text: &str) -> Result<RouteDecision, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("route: {what}"));
    let v: Json = serde_json::from_str(text).map_err(|e| corrupt(&e.to_string()))?;
    let strategy = v["strategy"]
        .as_str()
        .and_then(Strategy::from_name)
        .ok_or_else(|| corrupt("strategy"))?;
    let candidates = v["candidates"]
        .as_array()
        .ok_or_else(|| corrupt("candidates"))?
        .iter()
        .map(decode_candidate)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RouteDecision {
        chosen: v["chosen"].as_str().map(str::to_owned),
        strategy,
        candidates,
        split_key: v["split_key"].as_str().map(str::to_owned),
        at: v["at"].as_u64().ok_or_else(|| corrupt("at"))?,
    })
}

fn decode_candidate(v: &Json) -> Result<Candidate, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("route candidate: {what}"));
    let dropped = match v.get("dropped") {
        None => None,
        Some(d) => Some(decode_reason(d).ok_or_else(|| corrupt("dropped"))?),
    };
    Ok(Candidate {
        channel: v["channel"]
            .as_str()
            .ok_or_else(|| corrupt("channel"))?
            .to_owned(),
        weight: v["weight"]
            .as_u64()
            .and_then(|w| u32::try_from(w).ok())
            .ok_or_else(|| corrupt("weight"))?,
        dropped,
    })
}

fn decode_reason(d: &Json) -> Option<DropReason> {
    let number = |key: &str| d[key].as_u64();
    Some(match d["code"].as_str()? {
        "disabled" => DropReason::Disabled,
        "method_not_supported" => DropReason::MethodNotSupported,
        "currency_not_supported" => DropReason::CurrencyNotSupported,
        "below_min_amount" => DropReason::BelowMinAmount {
            min: number("min")?,
        },
        "above_max_amount" => DropReason::AboveMaxAmount {
            max: number("max")?,
        },
        "rate_limited" => DropReason::RateLimited {
            per_s: u32::try_from(number("per_s")?).ok()?,
        },
        "resting" => DropReason::Resting {
            until: number("until")?,
        },
        "already_tried" => DropReason::AlreadyTried,
        "not_requested" => DropReason::NotRequested,
        "zero_weight" => DropReason::ZeroWeight,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips() {
        let reasons = [
            DropReason::Disabled,
            DropReason::MethodNotSupported,
            DropReason::CurrencyNotSupported,
            DropReason::BelowMinAmount { min: 5 },
            DropReason::AboveMaxAmount { max: 9 },
            DropReason::RateLimited { per_s: 3 },
            DropReason::Resting { until: 77 },
            DropReason::AlreadyTried,
            DropReason::NotRequested,
            DropReason::ZeroWeight,
        ];
        let mut candidates: Vec<Candidate> = reasons
            .iter()
            .enumerate()
            .map(|(i, r)| Candidate {
                channel: format!("c{i}"),
                weight: i as u32,
                dropped: Some(r.clone()),
            })
            .collect();
        candidates.push(Candidate {
            channel: "ok".into(),
            weight: 100,
            dropped: None,
        });
        let decision = RouteDecision {
            chosen: Some("ok".into()),
            strategy: Strategy::Weighted,
            candidates,
            split_key: Some("ok:100".into()),
            at: 123,
        };
        assert_eq!(decode(&encode(&decision)).unwrap(), decision);
    }
}
