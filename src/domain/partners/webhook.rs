//! Post-action webhooks: settings, signatures, retry schedule, what a response means, which
//! addresses a webhook may reach, and the payload partners receive.

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::domain::epcis::subscription::EpcisSubscription;
use crate::domain::items::identifier::Identifier;
use crate::domain::partners::trigger::{Trigger, TriggerKind};
use crate::domain::{Error, Result, Timestamp};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PostActionSettings {
    pub enabled: bool,
    pub trigger_events: Vec<TriggerKind>,
    pub include_storage_details: bool,
    /// Which events `epcis_event` sends (every one when none).
    pub epcis_query: Option<EpcisSubscription>,
}

impl PostActionSettings {
    /// Whether the trigger goes out to the circuit's webhooks at all.
    pub fn announces(&self, trigger: &Trigger) -> bool {
        self.enabled
            && self.trigger_events.contains(&trigger.kind)
            && (trigger.kind != TriggerKind::EpcisEvent
                || self.epcis_query.as_ref().is_none_or(|query| query.wants(trigger)))
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum AuthType {
        None = "None",
        BearerToken = "BearerToken",
        ApiKey = "ApiKey",
        BasicAuth = "BasicAuth",
        CustomHeader = "CustomHeader",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetryConfig {
    pub max_retries: u32,
    pub initial_delay_ms: u64,
    pub max_delay_ms: u64,
    pub backoff_multiplier: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_delay_ms: 1000,
            max_delay_ms: 30_000,
            backoff_multiplier: 2.0,
        }
    }
}

impl RetryConfig {
    pub fn validate(&self) -> Result<()> {
        let ok = self.max_retries <= 20
            && (1..=3_600_000).contains(&self.initial_delay_ms)
            && (self.initial_delay_ms..=86_400_000).contains(&self.max_delay_ms)
            && (1.0..=10.0).contains(&self.backoff_multiplier);
        if ok {
            Ok(())
        } else {
            Err(Error::field(
                "retry_config",
                "max_retries 0-20, initial_delay_ms 1-3600000, max_delay_ms >= initial_delay_ms (at most a day), backoff_multiplier 1-10",
            ))
        }
    }

    /// The pause before retry number `retry` (1 = the first retry): exponential, capped, with
    /// `jitter` in [0, 1) taking it anywhere between half and all of that delay.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let base = (self.initial_delay_ms as f64) * self.backoff_multiplier.powi(exponent);
        let capped = base.min(self.max_delay_ms as f64);
        let jittered = capped * (0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        Duration::from_millis(jittered.round() as u64)
    }
}

/// A webhook of a circuit. Its signing secret and credentials are stored encrypted and never
/// returned (the secret once, at creation).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub webhook_id: String,
    pub circuit_id: String,
    pub name: String,
    pub url: String,
    /// `POST`, `PUT` or `PATCH`.
    pub method: String,
    /// Custom headers: names in clear, values encrypted like credentials (never returned).
    pub headers: Vec<(String, String)>,
    pub auth_type: AuthType,
    /// Encrypted credentials, if any.
    pub auth_credentials: Option<String>,
    /// Encrypted signing secret.
    pub signing_secret: String,
    pub enabled: bool,
    pub retry_config: RetryConfig,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DeliveryStatus {
        Pending = "Pending",
        InProgress = "InProgress",
        Retrying = "Retrying",
        Delivered = "Delivered",
        Failed = "Failed",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub delivery_id: String,
    pub webhook_id: String,
    pub circuit_id: String,
    pub event_type: String,
    /// The exact body sent on every attempt.
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptResult {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
}

/// What an attempt's result means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Retry,
    Fail,
}

/// 2xx delivered; network error, timeout, 408, 429 or 5xx retried; 3xx (never followed) and
/// other 4xx fail at once.
pub fn verdict(result: &AttemptResult) -> Verdict {
    match result.status_code {
        Some(code) if (200..300).contains(&code) => Verdict::Delivered,
        Some(408 | 429) => Verdict::Retry,
        Some(code) if code >= 500 => Verdict::Retry,
        Some(_) => Verdict::Fail,
        None => Verdict::Retry,
    }
}

/// `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> Result<String> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|e| Error::internal(format!("hmac: {e}")))?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
}

/// Headers a webhook may not set: the transport's own, and ours.
pub fn check_custom_headers(headers: &[(String, String)]) -> Result<()> {
    if headers.len() > 20 {
        return Err(Error::field("headers", "at most 20 headers"));
    }
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        // Ours, the transport's, and the hop-by-hop headers (RFC 9110 section 7.6.1) that would
        // change how the request travels rather than what it says.
        let reserved = matches!(
            lower.as_str(),
            "host"
                | "content-type"
                | "content-length"
                | "authorization"
                | "connection"
                | "keep-alive"
                | "transfer-encoding"
                | "te"
                | "trailer"
                | "upgrade"
        ) || lower.starts_with("x-defarm-")
            || lower.starts_with("proxy-");
        let valid_name = !name.is_empty()
            && name.len() <= 100
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if reserved || !valid_name || value.len() > 1000 || value.chars().any(char::is_control) {
            return Err(Error::field("headers", format!("{name:?} cannot be set by a webhook")));
        }
    }
    Ok(())
}

/// Whether `ip` is globally reachable unicast per the IANA IPv4 and IPv6 special-purpose address
/// registries. Every IPv6 form that embeds an IPv4 address (mapped, compatible, NAT64, 6to4,
/// Teredo) is judged by the IPv4 it embeds, so no spelling of a private address gets through.
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(v4: std::net::Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_multicast()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_global_v6(v6: std::net::Ipv6Addr) -> bool {
    let s = v6.segments();
    let v4_at = |i: usize| std::net::Ipv4Addr::from((u32::from(s[i]) << 16) | u32::from(s[i + 1]));
    // IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96 (which also holds :: and ::1).
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        return is_global_v4(v4_at(6));
    }
    match (s[0], s[1]) {
        // NAT64, well-known prefix 64:ff9b::/96.
        (0x64, 0xff9b) if s[2..6] == [0; 4] => return is_global_v4(v4_at(6)),
        // Local-use NAT64 64:ff9b:1::/48: not global, and where the IPv4 sits depends on the prefix.
        (0x64, 0xff9b) => return false,
        // 6to4 2002::/16: the IPv4 follows the prefix.
        (0x2002, _) => return is_global_v4(v4_at(1)),
        // Teredo 2001::/32: the server's IPv4, and the client's, stored inverted.
        (0x2001, 0) => {
            let client = std::net::Ipv4Addr::from(!((u32::from(s[6]) << 16) | u32::from(s[7])));
            return is_global_v4(v4_at(2)) && is_global_v4(client);
        }
        _ => {}
    }
    let first = s[0];
    !(v6.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique-local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local fec0::/10
        || (s[0] == 0x100 && s[1..4] == [0; 3]) // discard-only 100::/64
        || (first == 0x2001 && s[1] < 0x200) // IETF protocol assignments 2001::/23
        || (first == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (first & 0xfff0) == 0x3ff0 // documentation 3fff::/20
        || first == 0x5f00) // segment routing SIDs 5f00::/16
}

/// Checks a webhook URL's shape: http or https, a host, no credentials, at most 2048 bytes.
/// Where the host resolves is checked when sending (and at creation by the service).
pub fn check_url(url: &str) -> Result<url::Url> {
    let invalid = |why: &str| Error::field("url", why.to_owned());
    if url.len() > 2048 {
        return Err(invalid("at most 2048 characters"));
    }
    let parsed = url::Url::parse(url).map_err(|_| invalid("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("needs a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("put credentials in auth_credentials, not the URL"));
    }
    Ok(parsed)
}

/// The URL with every query value replaced by `***`, for reads and audit entries: partners
/// often put tokens there.
pub fn redacted_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if parsed.query().is_none() {
        return url.to_owned();
    }
    let names: Vec<String> = parsed.query_pairs().map(|(name, _)| name.into_owned()).collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(names.iter().map(|name| (name.as_str(), "***")));
    parsed.to_string()
}

/// The headers of one attempt: ours (event, delivery id, timestamp, signature), the webhook's
/// custom ones (`custom`, decrypted), and its authentication. `credentials` is the decrypted
/// `auth_credentials`.
pub fn request_headers(
    webhook: &Webhook,
    custom: &[(String, String)],
    credentials: Option<&str>,
    event_type: &str,
    delivery_id: &str,
    timestamp: i64,
    signature: &str,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("X-DeFarm-Event".to_owned(), event_type.to_owned()),
        ("X-DeFarm-Delivery".to_owned(), delivery_id.to_owned()),
        ("X-DeFarm-Timestamp".to_owned(), timestamp.to_string()),
        ("X-DeFarm-Signature".to_owned(), signature.to_owned()),
    ];
    headers.extend(custom.iter().cloned());
    match (webhook.auth_type, credentials) {
        (AuthType::BearerToken, Some(token)) => headers.push(("Authorization".to_owned(), format!("Bearer {token}"))),
        (AuthType::ApiKey, Some(key)) => headers.push(("X-API-Key".to_owned(), key.to_owned())),
        (AuthType::BasicAuth, Some(user_password)) => {
            use base64::Engine as _;
            let encoded = base64::engine::general_purpose::STANDARD.encode(user_password);
            headers.push(("Authorization".to_owned(), format!("Basic {encoded}")));
        }
        (AuthType::CustomHeader, Some(header)) => {
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        _ => {}
    }
    headers
}

/// Credentials must fit their auth type: `user:password` for BasicAuth, `Name: value` for
/// CustomHeader (not one of the reserved headers).
pub fn check_credentials(auth_type: AuthType, credentials: Option<&str>) -> Result<()> {
    let invalid = |why: &str| Error::field("auth_credentials", why.to_owned());
    match (auth_type, credentials) {
        (AuthType::None, _) => Ok(()),
        (_, None) => Err(invalid("required for this auth_type")),
        (_, Some(c)) if c.is_empty() || c.len() > 4096 || c.chars().any(char::is_control) => {
            Err(invalid("1 to 4096 printable characters"))
        }
        (AuthType::BasicAuth, Some(c)) if !c.contains(':') => Err(invalid("user:password")),
        (AuthType::CustomHeader, Some(c)) => {
            let (name, value) = c.split_once(':').ok_or_else(|| invalid("Header-Name: value"))?;
            check_custom_headers(&[(name.trim().to_owned(), value.trim().to_owned())])
                .map_err(|_| invalid("a header a webhook may set"))
        }
        _ => Ok(()),
    }
}

/// Where a stored copy of the item lives, for payloads with storage details.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageRef {
    pub adapter_type: String,
    pub cid: String,
    pub location: String,
}

/// The body partners receive for `trigger`.
pub fn payload(
    trigger: &Trigger,
    delivery_id: &str,
    circuit_name: &str,
    identifiers: &[Identifier],
    pushed_by: Option<&str>,
    storage: Option<&StorageRef>,
) -> Value {
    let canonical: Vec<Value> = identifiers
        .iter()
        .filter(|i| i.is_canonical())
        .map(|i| json!({ "key": i.key, "value": i.value, "namespace": i.namespace.as_str() }))
        .collect();
    let mut body = json!({
        "event_type": trigger.kind.as_str(),
        "delivery_id": delivery_id,
        "circuit_id": trigger.circuit_id,
        "circuit_name": circuit_name,
        "occurred_at": crate::domain::items::event::format_occurred_at(trigger.occurred_at),
        "item": { "dfid": trigger.dfid, "identifiers": canonical, "pushed_by": pushed_by },
        "operation_id": trigger.operation_id,
        "operation_status": trigger.operation_status,
    });
    if let (Some(storage), Some(object)) = (storage, body.as_object_mut()) {
        object.insert(
            "storage".to_owned(),
            json!({ "adapter_type": storage.adapter_type, "cid": storage.cid, "location": storage.location }),
        );
    }
    if let (Some(event), Some(object)) = (&trigger.event, body.as_object_mut()) {
        object.insert("event".to_owned(), event.clone());
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_vector() {
        assert_eq!(
            signature("whsec_test_0123456789", 1_764_201_600, r#"{"event_type":"test"}"#).unwrap(),
            "sha256=457b4078cbe3fee075b6473c93e575f633ee5213391f9355e7e07a4f0c36c6fe"
        );
    }

    #[test]
    fn backoff_schedule() {
        let config = RetryConfig::default();
        assert_eq!(config.delay(1, 1.0), Duration::from_millis(1000));
        assert_eq!(config.delay(2, 1.0), Duration::from_millis(2000));
        assert_eq!(config.delay(3, 1.0), Duration::from_millis(4000));
        assert_eq!(config.delay(10, 1.0), Duration::from_millis(30_000), "capped");
        assert_eq!(
            config.delay(1, 0.0),
            Duration::from_millis(500),
            "jitter takes at most half"
        );
        assert!(
            RetryConfig {
                backoff_multiplier: 0.5,
                ..config
            }
            .validate()
            .is_err()
        );
        assert!(
            RetryConfig {
                max_delay_ms: 10,
                ..config
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn verdicts() {
        let result = |code: Option<u16>| AttemptResult {
            status_code: code,
            error: None,
            duration: Duration::ZERO,
        };
        assert_eq!(verdict(&result(Some(204))), Verdict::Delivered);
        for retried in [None, Some(408), Some(429), Some(500), Some(503)] {
            assert_eq!(verdict(&result(retried)), Verdict::Retry, "{retried:?}");
        }
        for failed in [Some(301), Some(400), Some(404), Some(410)] {
            assert_eq!(verdict(&result(failed)), Verdict::Fail, "{failed:?}");
        }
    }

    #[test]
    fn private_addresses_are_not_global() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "198.18.0.1",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            // What the first version let through.
            "192.0.0.1",
            "fec0::1",
            "::7f00:1",
            "64:ff9b::7f00:1",
            // Every other spelling of a private IPv4, and the rest of the registries.
            "64:ff9b:1::a00:1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "2001:0:4136:e378:8000:63bf:f5ff:fffe",
            "2001:0:7f00:1::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "5f00::1",
            "192.88.99.1",
            "203.0.113.7",
            "255.255.255.255",
        ] {
            assert!(!is_global(private.parse().unwrap()), "{private}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
            "2a00:1450:4001:80e::200e",
        ] {
            assert!(is_global(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn reserved_headers_are_refused() {
        for name in [
            "Host",
            "content-type",
            "Content-Length",
            "Authorization",
            "X-DeFarm-Signature",
            "x-defarm-anything",
        ] {
            assert!(check_custom_headers(&[(name.into(), "v".into())]).is_err(), "{name}");
        }
        assert!(check_custom_headers(&[("X-Partner".into(), "abc".into())]).is_ok());
    }

    #[test]
    fn urls() {
        assert!(check_url("https://partner.example.com/hook").is_ok());
        for bad in ["ftp://x.com", "not a url", "https://user:pw@x.com/", "http://"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
