//! Sending webhook requests.

use std::time::Duration;

use crate::domain::Result;
use crate::domain::webhook::AttemptResult;

#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub timeout: Duration,
}

#[async_trait::async_trait]
pub trait WebhookTransport: Send + Sync {
    /// Checks that the URL's host resolves only to addresses this server may call (400 otherwise).
    async fn check_destination(&self, url: &str) -> Result<()>;
    /// Sends one attempt. Never follows redirects; refuses destinations that are not allowed
    /// (reported as an error in the result, checked again at every attempt).
    async fn send(&self, request: OutgoingRequest) -> AttemptResult;
}
