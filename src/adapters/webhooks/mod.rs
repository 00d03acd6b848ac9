//! The HTTP sender for webhooks: no redirects, bounded time, and only to addresses the server
//! may reach (checked when the host is resolved, at every connection).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::partners::ports::{OutgoingRequest, WebhookTransport};
use crate::domain::partners::webhook::{AttemptResult, is_global};
use crate::domain::{Error, Result};

pub struct HttpTransport {
    client: reqwest::Client,
    allow_private: bool,
}

/// Resolves hosts and keeps only the addresses a webhook may reach.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = resolved.filter(|a| allow_private || is_global(a.ip())).collect();
            if allowed.is_empty() {
                return Err("the destination resolves only to addresses webhooks may not reach".into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl HttpTransport {
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("DeFarm-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, allow_private })
    }

    fn refused() -> Error {
        Error::invalid(
            "webhook_destination_refused",
            "the webhook URL points to an address that is not publicly routable (loopback, private, link-local...)",
        )
        .with_details(serde_json::json!({ "field": "url" }))
    }

    /// An IP-literal host is never resolved, so it is checked here.
    fn literal_allowed(&self, url: &url::Url) -> bool {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.allow_private || is_global(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.allow_private || is_global(IpAddr::V6(ip)),
            _ => true,
        }
    }
}

#[async_trait::async_trait]
impl WebhookTransport for HttpTransport {
    async fn check_destination(&self, url: &str) -> Result<()> {
        let parsed = url::Url::parse(url).map_err(|_| Error::field("url", "not a URL"))?;
        if !self.literal_allowed(&parsed) {
            return Err(Self::refused());
        }
        if let Some(url::Host::Domain(host)) = parsed.host() {
            let port = parsed.port_or_known_default().unwrap_or(443);
            let resolved = tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| {
                    Error::invalid(
                        "webhook_destination_unresolvable",
                        "the webhook host did not resolve in time",
                    )
                })?
                .map_err(|_| Error::invalid("webhook_destination_unresolvable", "the webhook host does not resolve"))?;
            let addresses: Vec<SocketAddr> = resolved.collect();
            if addresses.is_empty() || !(self.allow_private || addresses.iter().all(|a| is_global(a.ip()))) {
                return Err(Self::refused());
            }
        }
        Ok(())
    }

    async fn send(&self, request: OutgoingRequest) -> AttemptResult {
        let started = Instant::now();
        let failed = |error: String| AttemptResult {
            status_code: None,
            error: Some(error),
            duration: started.elapsed(),
        };
        let Ok(url) = url::Url::parse(&request.url) else {
            return failed("invalid URL".to_owned());
        };
        if !self.literal_allowed(&url) {
            return failed("destination address not allowed".to_owned());
        }
        let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes()) else {
            return failed("invalid method".to_owned());
        };
        let mut builder = self
            .client
            .request(method, url)
            .timeout(request.timeout)
            .body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        match builder.send().await {
            Ok(response) => AttemptResult {
                status_code: Some(response.status().as_u16()),
                error: None,
                duration: started.elapsed(),
            },
            Err(err) if err.is_timeout() => failed(format!("timed out after {} ms", request.timeout.as_millis())),
            Err(err) => failed(describe(&err)),
        }
    }
}

/// The error and its causes, without the URL (which may carry a query string).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
