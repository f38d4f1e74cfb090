//! The HTTP client's DNS resolver: resolves a notify host, drops every address the target
//! policy refuses and hands the client only the rest, so the address checked is the address
//! connected to (no second lookup an attacker's DNS could answer differently).

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::target::TargetPolicy;

/// Every address `host` resolved to is refused by the policy (or it resolved to none).
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to no address notifications may go to")]
pub struct TargetRefused {
    pub host: String,
}

pub struct PolicyResolver {
    pub policy: Arc<TargetPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved.filter(|a| policy.permits(a.ip())).collect();
            if allowed.is_empty() {
                tracing::debug!(%host, "notification target refused");
                return Err(Box::new(TargetRefused { host }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
