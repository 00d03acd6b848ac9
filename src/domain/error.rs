//! The one error type every use case returns. Adapters translate it (HTTP status, log level);
//! the domain only says what went wrong and which stable `code` a client can match on.

use std::borrow::Cow;
use std::fmt;

/// What kind of failure this is; the HTTP adapter maps each kind to one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input breaks a rule (400).
    Invalid,
    /// Missing, invalid, expired or revoked credentials (401).
    Unauthenticated,
    /// Authenticated but not allowed (403).
    Forbidden,
    /// Not found, or not visible to this caller (404).
    NotFound,
    /// Duplicates, or state that forbids the action (409).
    Conflict,
    /// The input is larger than the service takes (413).
    TooLarge,
    /// Too many requests (429).
    RateLimited,
    /// Overloaded or a dependency is down; the client may retry (503).
    Unavailable,
    /// A bug or an unexpected failure (500).
    Internal,
}

/// A failure with a stable machine-readable `code` and a human message.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: Cow<'static, str>,
    pub message: String,
    /// For validation errors: which field, what rule.
    pub details: Option<Box<serde_json::Value>>,
    /// Seconds a client should wait before retrying (429 and 503).
    pub retry_after_secs: Option<u64>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The code of a write that lost a race with another transaction (a unique claim or a guard);
/// use cases retry the whole decision when they see it.
pub const CONCURRENT_WRITE: &str = "concurrent_write";

impl Error {
    pub fn new(kind: ErrorKind, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            details: None,
            retry_after_secs: None,
        }
    }

    pub fn invalid(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }

    /// A `validation_error` naming the field and the rule it broke.
    pub fn field(field: &str, rule: impl Into<String>) -> Self {
        let rule = rule.into();
        Self::invalid("validation_error", format!("{field}: {rule}"))
            .with_details(serde_json::json!({ "field": field, "rule": rule }))
    }

    pub fn unauthenticated(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, message)
    }

    pub fn forbidden(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, code, message)
    }

    /// 404 for `what`, which never says whether the thing exists but is hidden.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", format!("{what} not found"))
    }

    pub fn conflict(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    /// 413 `payload_too_large`.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, "payload_too_large", message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::new(ErrorKind::RateLimited, "rate_limited", "too many requests").retry_after(retry_after_secs)
    }

    pub fn unavailable(code: impl Into<Cow<'static, str>>, message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::new(ErrorKind::Unavailable, code, message).retry_after(retry_after_secs)
    }

    /// An unexpected failure. The message is logged, never shown to clients.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "internal_error", message)
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    pub fn concurrent_write(message: impl Into<String>) -> Self {
        Self::conflict(CONCURRENT_WRITE, message)
    }

    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

/// Runs a use case again when its commit lost a race (`concurrent_write`), up to ten times, after
/// a short jittered pause that spreads contenders out: the next attempt reads the state the
/// winner left and decides again.
pub async fn retry_on_race<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    const ATTEMPTS: u64 = 10;
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(err) if err.is(CONCURRENT_WRITE) && tries < ATTEMPTS => {
                tracing::debug!(tries, "lost a write race; deciding again");
                let pause_ms = rand::random_range(1..=5 * tries);
                tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
            }
            other => return other,
        }
    }
}
