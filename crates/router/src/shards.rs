//! Calls to shard leaders over their HTTP API. A call goes to the shard's current leader and
//! is sent again, to the leader looked up afresh, while the shard cannot take it: no leader,
//! a leader that cannot be reached, or `503 not_leader` (nothing was done). A request that
//! was sent and got no answer is sent again only when `retry_sent` says repeating it is safe
//! (reads, and writes whose client id makes a repeat a replay).

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use paycore_crossshard::{Refusal, Step};
use serde_json::{json, Value};

use crate::topology::Topology;

/// A shard's answer, passed back to the router's client as it came.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn refusal(&self) -> Refusal {
        let body = self.json();
        Refusal {
            status: self.status.as_u16(),
            code: body["error"]["code"]
                .as_str()
                .unwrap_or("refused")
                .to_owned(),
            message: body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// Why a shard could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("shard {shard} has no reachable leader: {detail}")]
    NoLeader { shard: String, detail: String },
    #[error("shard {shard} did not answer: {detail}; the request may have been applied, retry it with the same id")]
    Unanswered { shard: String, detail: String },
}

/// One request to a shard.
pub struct Request<'a> {
    pub method: Method,
    /// Path and query, e.g. `/v1/accounts?limit=10`.
    pub target: &'a str,
    pub authorization: Option<&'a str>,
    pub body: Option<Bytes>,
    /// Whether sending it again after a lost answer is safe.
    pub retry_sent: bool,
}

/// What a shard decided about one step of a cross-shard transfer.
pub enum StepAnswer {
    Accepted(Value),
    Refused(Refusal),
    /// Not decided (no leader, no answer, a server error): ask again.
    Unknown(String),
}

#[derive(Clone)]
pub struct Shards {
    topology: Topology,
    http: reqwest::Client,
    /// How long one call keeps trying to reach a leader.
    patience: Duration,
}

const PAUSE: Duration = Duration::from_millis(50);

impl Shards {
    pub fn new(topology: Topology, patience: Duration) -> Shards {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(1))
            .pool_max_idle_per_host(256)
            .build()
            .expect("a TLS-less HTTP client always builds");
        Shards {
            topology,
            http,
            patience,
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub async fn call(&self, shard: &str, request: &Request<'_>) -> Result<Answer, CallError> {
        let until = Instant::now() + self.patience;
        loop {
            let detail = match self.attempt(shard, request).await {
                Ok(answer) if is_not_leader(&answer) => {
                    self.topology.forget_leader(shard);
                    answer.error_code()
                }
                Ok(answer) => return Ok(answer),
                Err(Attempt::NotSent(detail)) => detail,
                Err(Attempt::Sent(detail)) if !request.retry_sent => {
                    return Err(CallError::Unanswered {
                        shard: shard.to_owned(),
                        detail,
                    })
                }
                Err(Attempt::Sent(detail)) => detail,
            };
            if Instant::now() >= until {
                return Err(CallError::NoLeader {
                    shard: shard.to_owned(),
                    detail,
                });
            }
            tokio::time::sleep(PAUSE).await;
        }
    }

    async fn attempt(&self, shard: &str, request: &Request<'_>) -> Result<Answer, Attempt> {
        let leader = match self.topology.leader(shard).await {
            Ok(Some(leader)) => leader,
            Ok(None) => return Err(Attempt::NotSent("no leader now".into())),
            Err(error) => return Err(Attempt::NotSent(error.to_string())),
        };
        let mut builder = self.http.request(
            request.method.clone(),
            format!("{leader}{}", request.target),
        );
        if let Some(authorization) = request.authorization {
            builder = builder.header("authorization", authorization);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let response = builder.send().await.map_err(|error| {
            self.topology.forget_leader(shard);
            if error.is_connect() {
                Attempt::NotSent(format!("{leader}: {error}"))
            } else {
                Attempt::Sent(format!("{leader}: {error}"))
            }
        })?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response
            .bytes()
            .await
            .map_err(|error| Attempt::Sent(format!("{leader}: {error}")))?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Posts one step as a ledger transfer with the coordinator's key.
    pub async fn post_step(&self, step: &Step, authorization: &str) -> StepAnswer {
        let body = json!({
            "id": step.id,
            "debit_account": step.debit_account,
            "credit_account": step.credit_account,
            "amount": step.amount,
            "currency": step.currency,
            "kind": step.transfer_kind,
            "reference": step.reference,
        });
        let request = Request {
            method: Method::POST,
            target: "/v1/transfers",
            authorization: Some(authorization),
            body: Some(Bytes::from(body.to_string())),
            retry_sent: true,
        };
        match self.call(&step.shard, &request).await {
            Err(error) => StepAnswer::Unknown(error.to_string()),
            Ok(answer) if answer.status.is_success() => StepAnswer::Accepted(answer.json()),
            Ok(answer) if is_decided(answer.status) => StepAnswer::Refused(answer.refusal()),
            Ok(answer) => StepAnswer::Unknown(format!(
                "shard {} answered {}: {}",
                step.shard,
                answer.status,
                String::from_utf8_lossy(&answer.body)
            )),
        }
    }
}

enum Attempt {
    NotSent(String),
    Sent(String),
}

fn is_not_leader(answer: &Answer) -> bool {
    answer.status == StatusCode::SERVICE_UNAVAILABLE && answer.error_code() == "not_leader"
}

/// A 4xx the ledger decided and recorded under the step's id (or a validation that gives the
/// same answer every time). Not: authentication and rate limits, which say nothing about the
/// step.
pub fn is_decided(status: StatusCode) -> bool {
    status.is_client_error()
        && !matches!(
            status,
            StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::REQUEST_TIMEOUT
                | StatusCode::TOO_MANY_REQUESTS
        )
}
