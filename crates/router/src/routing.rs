//! Which shard a request belongs to, from its path or body and the shard map (pure). Requests
//! about an account go to the account's shard; a transfer between shards goes to the
//! coordinator; lookups by an id that does not name its shard (a transfer, a hold) ask every
//! shard; the rest (payments, merchants, reports, keys…) go to the default shard. A
//! `Paycore-Shard` header sends a request to the shard it names instead.

use axum::http::Method;
use paycore_replication::ShardMap;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Shard(String),
    /// `POST /v1/transfers` whose accounts live on two shards.
    CrossShard {
        source: String,
        target: String,
    },
    /// Ask each shard in turn; the first that knows the id answers.
    EveryShard,
}

/// Why a request cannot be routed; `code` is the API's error code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unroutable {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

pub fn route(
    method: &Method,
    path: &str,
    body: &[u8],
    shard_header: Option<&str>,
    map: &ShardMap,
) -> Result<Route, Unroutable> {
    let default = map.default_shard().ok_or_else(|| Unroutable {
        status: 503,
        code: "no_shards",
        message: "the shard map is empty: paycore shard add NAME --etcd …".into(),
    })?;
    if let Some(shard) = shard_header {
        if !map.shards().iter().any(|s| s == shard) {
            return Err(Unroutable {
                status: 400,
                code: "unknown_shard",
                message: format!("header Paycore-Shard: no shard {shard:?}"),
            });
        }
        return Ok(Route::Shard(shard.to_owned()));
    }
    let on = |account: &str| map.shard_of(account).unwrap_or(default).to_owned();
    let body = || serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let field = |value: &Value, name: &str| value[name].as_str().map(str::to_owned);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let route = match (method, segments.as_slice()) {
        (_, ["v1", "accounts", account, ..]) => Route::Shard(on(account)),
        (&Method::POST, ["v1", "accounts"]) => by_field(&body(), "account_no", on, default),
        (&Method::POST, ["v1", "deposits" | "withdrawals" | "holds"]) => {
            by_field(&body(), "account", on, default)
        }
        (&Method::POST, ["v1", "transfers"]) => {
            let body = body();
            match (
                field(&body, "debit_account"),
                field(&body, "credit_account"),
            ) {
                (Some(debit), Some(credit)) if on(&debit) != on(&credit) => Route::CrossShard {
                    source: on(&debit),
                    target: on(&credit),
                },
                (Some(debit), _) => Route::Shard(on(&debit)),
                _ => Route::Shard(default.to_owned()),
            }
        }
        (&Method::POST, ["v1", "transfers", "batch"]) => batch_route(&body(), on, default)?,
        (&Method::GET, ["v1", "transfers" | "holds", _]) => Route::EveryShard,
        (&Method::POST, ["v1", "holds", _, _]) => Route::EveryShard,
        _ => Route::Shard(default.to_owned()),
    };
    Ok(route)
}

fn by_field(body: &Value, name: &str, on: impl Fn(&str) -> String, default: &str) -> Route {
    match body[name].as_str() {
        Some(account) => Route::Shard(on(account)),
        // Unreadable: the default shard answers with the precise error.
        None => Route::Shard(default.to_owned()),
    }
}

/// A batch is one ledger command list, so all its accounts must be on one shard.
fn batch_route(
    body: &Value,
    on: impl Fn(&str) -> String,
    default: &str,
) -> Result<Route, Unroutable> {
    let mut shards: Vec<String> = body["transfers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| [&t["debit_account"], &t["credit_account"]])
        .filter_map(Value::as_str)
        .map(on)
        .collect();
    shards.sort();
    shards.dedup();
    match shards.as_slice() {
        [] => Ok(Route::Shard(default.to_owned())),
        [one] => Ok(Route::Shard(one.clone())),
        _ => Err(Unroutable {
            status: 422,
            code: "cross_shard_batch",
            message: format!("the batch's accounts live on shards {}: a batch is posted on one shard; post transfers between shards one by one", shards.join(", ")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> ShardMap {
        let mut map = ShardMap::default();
        map.add_shard("s1").unwrap();
        map.add_shard("s2").unwrap();
        map.assign("B", "s2").unwrap();
        map
    }

    fn at(method: Method, path: &str, body: &str) -> Result<Route, Unroutable> {
        route(&method, path, body.as_bytes(), None, &map())
    }

    fn shard(name: &str) -> Result<Route, Unroutable> {
        Ok(Route::Shard(name.into()))
    }

    #[test]
    fn account_requests_go_to_the_account_s_shard() {
        assert_eq!(at(Method::GET, "/v1/accounts/B-7/entries", ""), shard("s2"));
        assert_eq!(at(Method::GET, "/v1/accounts/A-7", ""), shard("s1"));
        assert_eq!(
            at(Method::POST, "/v1/accounts", r#"{"account_no":"B1"}"#),
            shard("s2")
        );
        assert_eq!(
            at(Method::POST, "/v1/deposits", r#"{"account":"B1"}"#),
            shard("s2")
        );
        assert_eq!(at(Method::POST, "/v1/accounts", "not json"), shard("s1"));
        assert_eq!(at(Method::GET, "/v1/trades/t1", ""), shard("s1"));
    }

    #[test]
    fn transfers_go_to_their_shard_or_to_the_coordinator() {
        let transfer = |d: &str, c: &str| {
            let body = format!(r#"{{"debit_account":"{d}","credit_account":"{c}"}}"#);
            at(Method::POST, "/v1/transfers", &body)
        };
        assert_eq!(transfer("B1", "B2"), shard("s2"));
        assert_eq!(
            transfer("A1", "B2"),
            Ok(Route::CrossShard {
                source: "s1".into(),
                target: "s2".into()
            })
        );
        assert_eq!(
            at(Method::GET, "/v1/transfers/x", ""),
            Ok(Route::EveryShard)
        );
        let batch = r#"{"transfers":[{"debit_account":"A1","credit_account":"B1"}]}"#;
        let refused = at(Method::POST, "/v1/transfers/batch", batch).unwrap_err();
        assert_eq!(refused.code, "cross_shard_batch");
    }

    #[test]
    fn the_shard_header_overrides_and_must_name_a_shard() {
        let map = map();
        let routed = route(&Method::GET, "/v1/accounts", b"", Some("s2"), &map);
        assert_eq!(routed, shard("s2"));
        let refused = route(&Method::GET, "/v1/accounts", b"", Some("s9"), &map).unwrap_err();
        assert_eq!((refused.status, refused.code), (400, "unknown_shard"));
        let empty = route(&Method::GET, "/", b"", None, &ShardMap::default()).unwrap_err();
        assert_eq!(empty.code, "no_shards");
    }
}
