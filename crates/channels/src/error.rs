//! Errors of calls to a channel and of callbacks from one.

/// A call whose outcome paycore does not know. None of these is a failure of the order: the
/// bank may have recorded it, so the answer is a query (or the callback, or the statement).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer within the call's timeout.
    #[error("the bank did not answer in time")]
    Timeout,
    /// The request could not be delivered or the answer not read (connection refused, reset).
    #[error("transport error: {0}")]
    Transport(String),
    /// The answer's signature did not verify (or the bank refused ours); nothing in it is used.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// An answer that does not follow the protocol, or one that leaves the order's outcome
    /// open (e.g. the number is already used by another order).
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl CallError {
    /// A stable code for logs and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Timeout => "channel_timeout",
            CallError::Transport(_) => "channel_transport",
            CallError::BadSignature(_) => "channel_bad_signature",
            CallError::Protocol(_) => "channel_protocol",
        }
    }
}

/// A callback paycore must not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Signature missing or wrong, or its timestamp more than five minutes off.
    #[error("bad callback signature: {0}")]
    BadSignature(String),
    /// Signed correctly but not a callback this protocol defines.
    #[error("malformed callback: {0}")]
    Malformed(String),
}

impl CallbackError {
    /// A stable code for logs and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            CallbackError::BadSignature(_) => "callback_bad_signature",
            CallbackError::Malformed(_) => "callback_malformed",
        }
    }
}
