//! Leadership of a shard: a key (`leader`, the leader's address) attached to an etcd lease.
//! Whoever created the key holds the shard; its create revision is the fencing token every
//! append compares, so a leader whose lease expired (paused, partitioned) cannot write even if
//! it still believes it leads. The lease is kept alive in the background; when etcd says it
//! expired, or no refresh succeeded for three TTLs, the leadership is marked lost (etcd deletes
//! the key once the lease runs out).

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tracing::warn;

use crate::gateway::{b64, int_field, kvs, revision, Gateway};
use crate::keys::Keys;
use crate::ReplicationError;

/// The result of a campaign.
#[derive(Debug)]
pub enum Campaign {
    Won(Leadership),
    /// Someone else leads (their address), or the key vanished between the two reads.
    Lost {
        leader: Option<String>,
    },
}

/// A held claim on a shard. Dropping it stops the keep-alive (the lease then expires);
/// `ShardLog::resign` gives it up at once.
#[derive(Debug)]
pub struct Leadership {
    address: String,
    lease: i64,
    revision: i64,
    lost: Arc<AtomicBool>,
    keeper: JoinHandle<()>,
}

impl Leadership {
    /// The address this leader announced.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether keeping the lease alive failed: the leader must stop accepting writes (its
    /// appends are refused anyway once the lease expired).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Relaxed)
    }

    pub(crate) fn lease(&self) -> i64 {
        self.lease
    }

    /// The leader key's create revision: unique to this term of leadership.
    pub(crate) fn revision(&self) -> i64 {
        self.revision
    }

    /// Stops keeping the lease alive, as a leader that froze would (SIGSTOP, a long pause).
    pub fn stop_keep_alive(&self) {
        self.keeper.abort();
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.keeper.abort();
    }
}

/// Claims `keys`' shard for `address` with a lease of `ttl_s` seconds if no one holds it.
pub(crate) async fn campaign(
    etcd: &Gateway,
    keys: &Keys,
    address: &str,
    ttl_s: i64,
) -> Result<Campaign, ReplicationError> {
    let grant = etcd
        .call("lease/grant", &json!({"TTL": ttl_s.to_string()}))
        .await?;
    let lease = int_field(&grant, "ID")?;
    let leader = b64(keys.leader());
    let claim = json!({
        "compare": [{"target": "CREATE", "key": leader, "create_revision": "0", "result": "EQUAL"}],
        "success": [{"request_put": {"key": leader, "value": b64(address), "lease": lease.to_string()}}],
        "failure": [{"request_range": {"key": leader}}],
    });
    let answer = etcd.call("kv/txn", &claim).await?;
    if !succeeded(&answer) {
        etcd.call("lease/revoke", &json!({"ID": lease.to_string()}))
            .await?;
        let current = first_range(&answer)?.into_iter().next();
        return Ok(Campaign::Lost {
            leader: current.map(|kv| String::from_utf8_lossy(&kv.value).into_owned()),
        });
    }
    // The put's revision is the key's create revision: this term's fencing token.
    let revision = revision(&answer)?;
    // The first leader of a shard starts its head at 0 (no batch yet).
    let head = b64(keys.head());
    etcd.call(
        "kv/txn",
        &json!({
            "compare": [{"target": "CREATE", "key": head, "create_revision": "0", "result": "EQUAL"}],
            "success": [{"request_put": {"key": head, "value": b64("0")}}],
        }),
    )
    .await?;
    let lost = Arc::new(AtomicBool::new(false));
    let keeper = tokio::spawn(keep_alive(etcd.clone(), lease, ttl_s, lost.clone()));
    Ok(Campaign::Won(Leadership {
        address: address.to_owned(),
        lease,
        revision,
        lost,
        keeper,
    }))
}

/// Whether a transaction's comparisons held (etcd omits `succeeded` when false).
pub(crate) fn succeeded(answer: &Value) -> bool {
    answer.get("succeeded").and_then(Value::as_bool) == Some(true)
}

/// The pairs of the first range in a transaction's answer.
pub(crate) fn first_range(
    answer: &Value,
) -> Result<Vec<crate::gateway::KeyValue>, ReplicationError> {
    nth_range(answer, 0)
}

/// The pairs of the `n`th range in a transaction's answer.
pub(crate) fn nth_range(
    answer: &Value,
    n: usize,
) -> Result<Vec<crate::gateway::KeyValue>, ReplicationError> {
    let range = answer
        .get("responses")
        .and_then(Value::as_array)
        .and_then(|responses| responses.get(n))
        .and_then(|response| response.get("response_range"))
        .ok_or_else(|| ReplicationError::Protocol {
            what: "a transaction's answer",
            detail: format!("no range answer #{n}"),
        })?;
    kvs(range)
}

/// TTLs without any answer from etcd after which the lease counts as lost.
const LOST_AFTER_TTLS: u32 = 3;

/// Refreshes the lease three times per TTL. A failed refresh (etcd briefly without a quorum)
/// is retried; the leadership is lost once the lease is reported expired or no refresh has
/// succeeded for `LOST_AFTER_TTLS` TTLs.
async fn keep_alive(etcd: Gateway, lease: i64, ttl_s: i64, lost: Arc<AtomicBool>) {
    let ttl = Duration::from_secs(ttl_s.max(1) as u64);
    let every = ttl / 3;
    // etcd renews every lease when it elects a new leader of its own, and an election under
    // load takes seconds: failing to reach etcd for one TTL does not mean the lease expired.
    // Only etcd's answer (no TTL left) or a long silence counts as lost. Safety does not hang
    // on this flag: an append is fenced by etcd itself (the leader key's revision).
    let silence_max = ttl * LOST_AFTER_TTLS;
    let mut refreshed = tokio::time::Instant::now();
    let request = json!({"ID": lease.to_string()});
    loop {
        tokio::time::sleep(every).await;
        let answer = tokio::time::timeout(every, etcd.call("lease/keepalive", &request)).await;
        let remaining = match answer {
            Ok(Ok(answer)) => answer.get("result").map(|r| int_field(r, "TTL")),
            Ok(Err(error)) => Some(Err(error)),
            Err(_) => Some(Err(ReplicationError::Unavailable(
                "no answer in time".into(),
            ))),
        };
        match remaining {
            Some(Ok(ttl_left)) if ttl_left > 0 => refreshed = tokio::time::Instant::now(),
            Some(Err(error)) if refreshed.elapsed() < silence_max => {
                warn!(lease, %error, "keeping the shard's lease alive failed; retrying")
            }
            other => {
                warn!(lease, answer = ?other, "shard leadership lost: the lease expired or could not be kept alive");
                break;
            }
        }
    }
    lost.store(true, Relaxed);
}
