//! The cross-shard position (中间过渡户 and 往来): every shard's transit accounts (zero when
//! nothing is in flight; a non-zero one is 挂账 and the shard's own day-end report lists it
//! too), each pair of due accounts with their net (zero when settled), and the intents in
//! etcd (in flight, or final but waiting for an operator).

use std::collections::BTreeMap;

use axum::http::Method;
use paycore_crossshard::Intent;
use serde_json::{json, Value};

use crate::coordinator::Coordinator;
use crate::shards::{Request, Shards};

struct Position {
    shard: String,
    account_no: String,
    currency: String,
    balance: i64,
}

pub async fn report(shards: &Shards, coordinator: &Coordinator) -> Result<Value, String> {
    let mut transit = Vec::new();
    let mut pairs: BTreeMap<(String, String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for shard in shards.topology().map().shards() {
        for position in positions(shards, coordinator, shard, "XT-").await? {
            transit.push(position);
        }
        for position in positions(shards, coordinator, shard, "XD-").await? {
            let peer = peer(&position.account_no);
            let (a, b) = if position.shard.as_str() < peer {
                (position.shard.clone(), peer.to_owned())
            } else {
                (peer.to_owned(), position.shard.clone())
            };
            pairs
                .entry((a, b, position.currency))
                .or_default()
                .insert(position.shard, position.balance);
        }
    }
    let pairs: Vec<Value> = pairs
        .into_iter()
        .map(|((a, b, currency), balances)| {
            let net: i64 = balances.values().sum();
            json!({"shards": [a, b], "currency": currency, "balances": balances, "net": net})
        })
        .collect();
    let intents: Vec<Intent> = coordinator
        .intents()
        .all()
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|text| serde_json::from_str(text).ok())
        .collect();
    let view = |i: &Intent| json!({"id": i.id, "phase": i.phase_name(), "source_shard": i.source, "target_shard": i.target, "amount": i.amount, "currency": i.currency});
    let in_flight: Vec<Value> = intents.iter().filter(|i| !i.is_final()).map(view).collect();
    let needs_operator: Vec<Value> = intents
        .iter()
        .filter(|i| i.needs_operator())
        .map(view)
        .collect();
    let clean = transit.iter().all(|p| p.balance == 0)
        && pairs.iter().all(|p| p["net"] == 0)
        && intents.is_empty();
    let transit: Vec<Value> = transit
        .iter()
        .map(|p| json!({"shard": p.shard, "account_no": p.account_no, "currency": p.currency, "balance": p.balance}))
        .collect();
    Ok(
        json!({"clean": clean, "transit": transit, "due_pairs": pairs, "in_flight": in_flight, "needs_operator": needs_operator}),
    )
}

/// `XD-<peer>-<cur>` → peer.
fn peer(account_no: &str) -> &str {
    let rest = &account_no[3..];
    rest.rsplit_once('-').map_or(rest, |(peer, _)| peer)
}

async fn positions(
    shards: &Shards,
    coordinator: &Coordinator,
    shard: &str,
    prefix: &str,
) -> Result<Vec<Position>, String> {
    let mut found = Vec::new();
    let mut after = String::new();
    loop {
        let target = format!("/v1/accounts?prefix={prefix}&limit=1000&after={after}");
        let request = Request {
            method: Method::GET,
            target: &target,
            authorization: Some(coordinator.authorization()),
            body: None,
            retry_sent: true,
        };
        let answer = shards
            .call(shard, &request)
            .await
            .map_err(|e| e.to_string())?;
        if !answer.status.is_success() {
            return Err(format!(
                "shard {shard} answered {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
        }
        let page = answer.json();
        for account in page["accounts"].as_array().into_iter().flatten() {
            found.push(Position {
                shard: shard.to_owned(),
                account_no: account["account_no"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                currency: account["currency"].as_str().unwrap_or_default().to_owned(),
                balance: account["balance"].as_i64().unwrap_or_default(),
            });
        }
        match page["next"].as_str() {
            Some(next) => after = next.to_owned(),
            None => return Ok(found),
        }
    }
}
