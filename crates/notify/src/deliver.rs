//! One attempt: POST the body with its `Paycore-*` headers to the notify URL and decide
//! whether the merchant acknowledged it — a 2xx answer whose body is `success` (trimmed),
//! the convention of Alipay and WeChat Pay merchants. Anything else is a failure with a
//! reason. Redirects are not followed, no proxy is used, and addresses go through the target
//! policy (`resolver.rs` for names, a check here for IP literals).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::CONTENT_TYPE;

use crate::resolver::{PolicyResolver, TargetRefused};
use crate::signature::{HEADER_EVENT_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use crate::target::{check_url, literal_ip, TargetPolicy};
use crate::NotifyError;

/// The acknowledgement a merchant answers.
pub const ACK_BODY: &str = "success";
/// Most bytes of a merchant's answer read (an acknowledgement is short).
pub const ACK_BODY_BYTES_MAX: usize = 1_024;
pub const USER_AGENT: &str = concat!("paycore-notify/", env!("CARGO_PKG_VERSION"));

/// Why an attempt failed; `code` is what attempts and metrics record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    Timeout,
    ConnectError,
    /// A non-2xx, non-3xx status.
    HttpStatus,
    /// 2xx, but the body is not `success`.
    NoSuccessBody,
    /// The host resolves only to refused addresses (or is a refused IP literal).
    TargetRefused,
    /// A 3xx answer: never followed.
    Redirect,
    InvalidUrl,
    /// The merchant has no signing secret: nothing is sent unsigned.
    NoSecret,
    /// Any other failure of the request or of reading the answer.
    RequestError,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::Timeout,
        Reason::ConnectError,
        Reason::HttpStatus,
        Reason::NoSuccessBody,
        Reason::TargetRefused,
        Reason::Redirect,
        Reason::InvalidUrl,
        Reason::NoSecret,
        Reason::RequestError,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::Timeout => "timeout",
            Reason::ConnectError => "connect_error",
            Reason::HttpStatus => "http_status",
            Reason::NoSuccessBody => "no_success_body",
            Reason::TargetRefused => "target_refused",
            Reason::Redirect => "redirect",
            Reason::InvalidUrl => "invalid_url",
            Reason::NoSecret => "no_secret",
            Reason::RequestError => "request_error",
        }
    }

    /// Its place in `ALL`.
    pub fn index(self) -> usize {
        Reason::ALL
            .iter()
            .position(|r| *r == self)
            .expect("every reason is in ALL")
    }
}

/// What one attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub status_code: Option<u16>,
    /// `None`: acknowledged.
    pub reason: Option<Reason>,
    pub latency: Duration,
}

impl Delivery {
    pub fn acknowledged(&self) -> bool {
        self.reason.is_none()
    }

    pub(crate) fn failed(reason: Reason, status_code: Option<u16>, started: Instant) -> Delivery {
        Delivery {
            status_code,
            reason: Some(reason),
            latency: started.elapsed(),
        }
    }
}

/// One signed request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub url: &'a str,
    pub event_id: &'a str,
    /// Unix seconds, as signed.
    pub timestamp: u64,
    /// The `Paycore-Signature` value.
    pub signature: &'a str,
    pub body: &'a str,
}

/// Sends attempts: an HTTP client bound to the target policy.
pub struct Deliverer {
    client: reqwest::Client,
    policy: Arc<TargetPolicy>,
}

impl Deliverer {
    /// `timeout` bounds a whole attempt (resolving, connecting, sending, reading the answer).
    pub fn new(
        policy: TargetPolicy,
        timeout: Duration,
        idle_connections_per_host: usize,
    ) -> Result<Deliverer, NotifyError> {
        let policy = Arc::new(policy);
        let resolver = PolicyResolver {
            policy: Arc::clone(&policy),
        };
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(idle_connections_per_host)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| NotifyError::Client(e.to_string()))?;
        Ok(Deliverer { client, policy })
    }

    pub async fn deliver(&self, request: &Request<'_>) -> Delivery {
        let started = Instant::now();
        let Ok(url) = check_url(request.url) else {
            return Delivery::failed(Reason::InvalidUrl, None, started);
        };
        // An IP literal is connected to without a lookup: check it here.
        if literal_ip(&url).is_some_and(|ip| !self.policy.permits(ip)) {
            return Delivery::failed(Reason::TargetRefused, None, started);
        }
        let sent = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(HEADER_EVENT_ID, request.event_id)
            .header(HEADER_TIMESTAMP, request.timestamp.to_string())
            .header(HEADER_SIGNATURE, request.signature)
            .body(request.body.to_owned())
            .send()
            .await;
        match sent {
            Ok(response) => answered(response, started).await,
            Err(error) => Delivery::failed(reason_of(&error), None, started),
        }
    }
}

/// Judges the merchant's answer.
async fn answered(mut response: reqwest::Response, started: Instant) -> Delivery {
    let status = response.status();
    let code = Some(status.as_u16());
    if status.is_redirection() {
        return Delivery::failed(Reason::Redirect, code, started);
    }
    if !status.is_success() {
        return Delivery::failed(Reason::HttpStatus, code, started);
    }
    let mut answer = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if answer.len() + chunk.len() <= ACK_BODY_BYTES_MAX => {
                answer.extend_from_slice(&chunk)
            }
            Ok(Some(_)) => return Delivery::failed(Reason::NoSuccessBody, code, started),
            Ok(None) => break,
            Err(error) => return Delivery::failed(reason_of(&error), code, started),
        }
    }
    if answer.trim_ascii() == ACK_BODY.as_bytes() {
        Delivery {
            status_code: code,
            reason: None,
            latency: started.elapsed(),
        }
    } else {
        Delivery::failed(Reason::NoSuccessBody, code, started)
    }
}

fn reason_of(error: &reqwest::Error) -> Reason {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<TargetRefused>() {
            return Reason::TargetRefused;
        }
        source = e.source();
    }
    if error.is_timeout() {
        Reason::Timeout
    } else if error.is_connect() {
        Reason::ConnectError
    } else if error.is_redirect() {
        Reason::Redirect
    } else {
        Reason::RequestError
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_have_stable_codes_and_places() {
        let codes: Vec<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(
            codes,
            [
                "timeout",
                "connect_error",
                "http_status",
                "no_success_body",
                "target_refused",
                "redirect",
                "invalid_url",
                "no_secret",
                "request_error"
            ]
        );
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
