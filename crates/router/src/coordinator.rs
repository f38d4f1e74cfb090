//! The coordinator of cross-shard transfers: records the intent in etcd, then posts its steps
//! (`paycore_crossshard::Intent::next_step`) to the shards until the transfer is final, and
//! forgets the intent once it is final and clean. A step whose outcome is unknown (no leader,
//! no answer) is asked again, with the same id, until it is decided; a request that runs out
//! of time answers `in_flight` and the recovery loop (`recovery.rs`), here or in any other
//! router, finishes it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::Method;
use paycore_crossshard::{due_account, Intent, Outcome, Refusal, Step, StepKind};
use paycore_replication::{IntentLog, Recorded, ReplicationError};
use serde_json::{json, Value};

use crate::intent_writer::IntentWriter;
use crate::shards::{is_decided, Answer, Request, Shards, StepAnswer};

/// How long a client's authorization, checked on the source shard, is trusted.
const AUTHORIZATION_TTL: Duration = Duration::from_secs(10);
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// How long the settle behind an answer is driven before the recovery loop takes over.
const SETTLE_FOR: Duration = Duration::from_secs(30);

/// How far a drive goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// Until the client's answer is known: final, or credited (settling needs no client).
    Answerable,
    Final,
}

pub struct Coordinator {
    intents: IntentLog,
    writer: IntentWriter,
    shards: Shards,
    /// `Bearer <key>`: the coordinator's own key, valid on every shard.
    authorization: String,
    /// Shard and account numbers of transit and due accounts known to exist.
    opened: Mutex<HashSet<(String, String)>>,
    /// Client authorizations checked recently, and when.
    authorized: Mutex<HashMap<String, Instant>>,
    /// Ids this router is driving now (the recovery loop leaves them alone).
    pub(crate) driving: Mutex<HashSet<String>>,
}

/// A step as it was decided, for the answer.
pub struct StepRecord {
    pub step: Step,
    pub accepted: Option<Value>,
}

/// A transfer driven as far as it went: final, credited (answered before the settle), or
/// `pending`.
pub struct Driven {
    pub intent: Intent,
    pub steps: Vec<StepRecord>,
    /// Why it is not final yet (the time ran out).
    pub pending: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("a cross-shard transfer with id {0} exists with different content")]
    Conflict(String),
    #[error("the coordinator cannot record the transfer: {0}")]
    Etcd(#[from] ReplicationError),
    #[error("the source shard refused the key")]
    Unauthorized { status: u16, body: Bytes },
    #[error("the source shard cannot check the key: {0}")]
    AuthorizationUnknown(String),
}

impl Coordinator {
    pub fn new(intents: IntentLog, shards: Shards, key: &str) -> Coordinator {
        Coordinator {
            writer: IntentWriter::spawn(intents.clone()),
            intents,
            shards,
            authorization: format!("Bearer {key}"),
            opened: Mutex::default(),
            authorized: Mutex::default(),
            driving: Mutex::default(),
        }
    }

    /// The coordinator's own `Authorization` header value.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }

    pub fn intents(&self) -> &IntentLog {
        &self.intents
    }

    /// A client's transfer between shards: authorize, record, drive until final or `until`.
    pub async fn transfer(
        self: &Arc<Self>,
        intent: Intent,
        client_authorization: &str,
        until: Instant,
    ) -> Result<Driven, TransferError> {
        self.authorize(client_authorization, &intent.source).await?;
        let text = serde_json::to_string(&intent).expect("intents serialize");
        if let Recorded::Existing(stored) = self.writer.record(&intent.id, &text).await? {
            let stored: Option<Intent> = serde_json::from_str(&stored).ok();
            if !stored.is_some_and(|s| s.same_request(&intent)) {
                return Err(TransferError::Conflict(intent.id));
            }
        }
        let driven = self.drive_to(intent, until, Until::Answerable).await;
        if driven.pending.is_none() && !driven.intent.is_final() {
            // Credited: the parties' side is done, the client is answered now, and the
            // transit account is settled (and the intent removed) behind the answer.
            let (coordinator, intent) = (self.clone(), driven.intent.clone());
            tokio::spawn(async move {
                coordinator.drive(intent, Instant::now() + SETTLE_FOR).await;
            });
        }
        Ok(driven)
    }

    /// Whether the client's key may post money, asked of the source shard (cached briefly).
    async fn authorize(&self, authorization: &str, shard: &str) -> Result<(), TransferError> {
        let fresh = |at: &Instant| at.elapsed() < AUTHORIZATION_TTL;
        if self
            .authorized
            .lock()
            .unwrap()
            .get(authorization)
            .is_some_and(fresh)
        {
            return Ok(());
        }
        let request = Request {
            method: Method::GET,
            target: "/v1/whoami",
            authorization: Some(authorization),
            body: None,
            retry_sent: true,
        };
        let answer = self
            .shards
            .call(shard, &request)
            .await
            .map_err(|e| TransferError::AuthorizationUnknown(e.to_string()))?;
        if !answer.status.is_success() {
            return Err(unauthorized(&answer));
        }
        let role = answer.json()["role"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !matches!(role.as_str(), "admin" | "operator") {
            let body = json!({"error": {"code": "forbidden", "message": format!("the {role} role may not do this")}});
            return Err(TransferError::Unauthorized {
                status: 403,
                body: Bytes::from(body.to_string()),
            });
        }
        let mut authorized = self.authorized.lock().unwrap();
        authorized.retain(|_, at| fresh(at));
        authorized.insert(authorization.to_owned(), Instant::now());
        Ok(())
    }

    /// Posts the intent's steps until it is final or `until` passed; a final intent is
    /// forgotten in etcd, or kept there when it waits for an operator.
    pub async fn drive(&self, intent: Intent, until: Instant) -> Driven {
        self.drive_to(intent, until, Until::Final).await
    }

    async fn drive_to(&self, mut intent: Intent, until: Instant, stop: Until) -> Driven {
        let _driving = Driving::start(&self.driving, &intent.id);
        let mut steps = Vec::new();
        while let Some(step) = intent.next_step() {
            if stop == Until::Answerable && step.kind == StepKind::Settle {
                return Driven {
                    intent,
                    steps,
                    pending: None,
                };
            }
            match self.decide(&step, until).await {
                Ok((outcome, accepted)) => {
                    intent.advance(step.kind, outcome);
                    steps.push(StepRecord { step, accepted });
                }
                Err(pending) => {
                    return Driven {
                        intent,
                        steps,
                        pending: Some(pending),
                    }
                }
            }
        }
        let pending = self.finish(&intent).await.err().map(|e| e.to_string());
        Driven {
            intent,
            steps,
            pending,
        }
    }

    /// One step's decided outcome (and the shard's record if accepted), asking again while
    /// undecided; Err once `until` passed.
    async fn decide(
        &self,
        step: &Step,
        until: Instant,
    ) -> Result<(Outcome, Option<Value>), String> {
        loop {
            let answer = match self.open_accounts(step).await {
                Err(answer) => answer,
                Ok(()) => self.shards.post_step(step, &self.authorization).await,
            };
            match answer {
                StepAnswer::Accepted(record) => return Ok((Outcome::Accepted, Some(record))),
                StepAnswer::Refused(refusal) => return Ok((Outcome::Refused(refusal), None)),
                StepAnswer::Unknown(why) if Instant::now() >= until => return Err(why),
                StepAnswer::Unknown(why) => {
                    tracing::debug!(step = %step.id, %why, "step undecided, asking again");
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
    }

    /// Opens the transit and due accounts a step needs, once per router and account.
    async fn open_accounts(&self, step: &Step) -> Result<(), StepAnswer> {
        for (account, kind) in accounts_of(step) {
            let key = (step.shard.clone(), account.clone());
            if self.opened.lock().unwrap().contains(&key) {
                continue;
            }
            let body = json!({"account_no": account, "type": kind, "currency": step.currency});
            let request = Request {
                method: Method::POST,
                target: "/v1/accounts",
                authorization: Some(&self.authorization),
                body: Some(Bytes::from(body.to_string())),
                retry_sent: true,
            };
            let answer = self
                .shards
                .call(&step.shard, &request)
                .await
                .map_err(|e| StepAnswer::Unknown(e.to_string()))?;
            let exists =
                answer.status.is_success() || answer.json()["error"]["code"] == "account_exists";
            if !exists {
                return Err(account_refusal(&answer, &account));
            }
            self.opened.lock().unwrap().insert(key);
        }
        Ok(())
    }

    async fn finish(&self, intent: &Intent) -> Result<(), ReplicationError> {
        if intent.needs_operator() {
            tracing::error!(id = %intent.id, phase = intent.phase_name(), "cross-shard transfer left money in transit (挂账)");
            let text = serde_json::to_string(intent).expect("intents serialize");
            self.intents.update(&intent.id, &text).await
        } else {
            self.writer.remove(&intent.id).await
        }
    }
}

/// The transit and due accounts a step touches on its shard, with their types: the debit
/// opens both of its shard's, so the settle finds its due account ready.
fn accounts_of(step: &Step) -> Vec<(String, &'static str)> {
    let mut accounts = Vec::new();
    for account in [&step.debit_account, &step.credit_account] {
        if let Some(peer) = peer_of(account, "XT-") {
            accounts.push((account.clone(), "transit"));
            accounts.push((due_account(peer, &step.currency), "internal"));
        } else if peer_of(account, "XD-").is_some() {
            accounts.push((account.clone(), "internal"));
        }
    }
    accounts.dedup();
    accounts
}

/// The peer shard a transit or due account number names (`XT-<peer>-<cur>`).
fn peer_of<'a>(account: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = account.strip_prefix(prefix)?;
    rest.rsplit_once('-').map(|(peer, _currency)| peer)
}

/// A refused account opening as the step's refusal (decided, like a step's), or undecided.
fn account_refusal(answer: &Answer, account: &str) -> StepAnswer {
    if is_decided(answer.status) {
        let refusal = answer.refusal();
        StepAnswer::Refused(Refusal {
            message: format!("opening {account}: {}", refusal.message),
            ..refusal
        })
    } else {
        StepAnswer::Unknown(format!(
            "opening {account}: {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ))
    }
}

fn unauthorized(answer: &Answer) -> TransferError {
    TransferError::Unauthorized {
        status: answer.status.as_u16(),
        body: answer.body.clone(),
    }
}

/// Marks an id as driven here while alive.
struct Driving<'a> {
    set: &'a Mutex<HashSet<String>>,
    id: String,
    first: bool,
}

impl<'a> Driving<'a> {
    fn start(set: &'a Mutex<HashSet<String>>, id: &str) -> Driving<'a> {
        let first = set.lock().unwrap().insert(id.to_owned());
        Driving {
            set,
            id: id.to_owned(),
            first,
        }
    }
}

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        if self.first {
            self.set.lock().unwrap().remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_debit_opens_its_transit_and_due_accounts_and_a_credit_its_due_account() {
        let intent = Intent::new("t", "A", "B", 5, "CNY", None, None, ("s1", "s-2")).unwrap();
        let debit = intent.next_step().unwrap();
        assert_eq!(
            accounts_of(&debit),
            [
                ("XT-s-2-CNY".into(), "transit"),
                ("XD-s-2-CNY".into(), "internal")
            ]
        );
        let mut credited = intent.clone();
        credited.advance(StepKind::Debit, Outcome::Accepted);
        let credit = credited.next_step().unwrap();
        assert_eq!(accounts_of(&credit), [("XD-s1-CNY".into(), "internal")]);
    }
}
