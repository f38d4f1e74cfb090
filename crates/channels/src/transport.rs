//! One HTTP exchange with a bank under a deadline: send, read a bounded body, and map what
//! went wrong to a [`CallError`] (none of which says the order failed).

use std::time::Duration;

use http::HeaderMap;

use crate::CallError;

/// Largest answer to a call the adapters read.
pub(crate) const ANSWER_MAX_BYTES: usize = 1 << 20;
/// Largest statement file the adapters read.
pub(crate) const FILE_MAX_BYTES: usize = 256 << 20;

/// A bank's HTTP answer.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Sends `request` and reads its answer, all within `timeout`.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    max_bytes: usize,
) -> Result<Answer, CallError> {
    let exchange = async {
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(CallError::Protocol(format!(
                    "answer larger than {max_bytes} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(CallError::Timeout))
}

fn transport_error(error: reqwest::Error) -> CallError {
    if error.is_timeout() {
        return CallError::Timeout;
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    CallError::Transport(text)
}

/// The endpoint without a trailing slash, so paths can be appended.
pub(crate) fn base_url(endpoint: &str) -> String {
    endpoint.trim_end_matches('/').to_owned()
}
