//! The edge every request passes: request id, client IP, body limit, timeout, the error shape,
//! response headers, the request span, and request metrics.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use poem::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, PathPattern, Request, Response, Result};
use rand::Rng as _;
use tracing::Instrument;

use crate::domain::identity::guard::RateStatus;

use super::error::{REQUEST_ID, ShapedError, error_response, reshape};
use super::import_api::IMPORT_PATH;
use super::strict_types::BodyTypes;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const X_COMMIT: HeaderName = HeaderName::from_static("x-commit");

/// Per-request facts the edge works out once, available to extractors and handlers.
#[derive(Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub client_ip: IpAddr,
    pub user_agent: Option<String>,
    /// Numbers for the `RateLimit-*` headers, set by whatever limited the request.
    pub rate_limit: OnceLock<RateStatus>,
}

#[derive(Clone)]
pub struct EdgeSettings {
    pub max_body_bytes: usize,
    /// The limit of the one route whose body is parsed as it arrives (a spreadsheet import).
    pub max_import_bytes: usize,
    /// The limit of an EPCIS document captured into a circuit.
    pub max_epcis_document_bytes: usize,
    pub request_timeout: Duration,
    pub trusted_proxies: Arc<Vec<IpNet>>,
    pub commit_short: HeaderValue,
}

pub struct Edge {
    settings: EdgeSettings,
    body_types: Arc<BodyTypes>,
    route_names: Arc<RouteNames>,
    metrics: Arc<RequestMetrics>,
}

impl Edge {
    pub fn new(settings: EdgeSettings, body_types: BodyTypes, route_names: RouteNames) -> Self {
        Self {
            settings,
            body_types: Arc::new(body_types),
            route_names: Arc::new(route_names),
            metrics: Arc::default(),
        }
    }
}

/// Routes as the spec writes them (`/api/items/{dfid}`), for logs and metric labels, from the
/// patterns poem matched (`/api/items/:param0`: poem-openapi numbers the parameters).
#[derive(Default)]
pub struct RouteNames {
    /// Pattern to the index of its name in `names`.
    patterns: HashMap<String, usize>,
    names: Vec<String>,
}

/// The route label of a request that matched no route.
const UNMATCHED: &str = "unmatched";

impl RouteNames {
    pub fn from_spec(spec: &serde_json::Value) -> Self {
        let mut routes = Self::default();
        for path in spec["paths"].as_object().into_iter().flat_map(|paths| paths.keys()) {
            let mut parameters = 0;
            let pattern = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        parameters += 1;
                        format!(":param{}", parameters - 1)
                    } else {
                        segment.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            routes.patterns.insert(pattern, routes.names.len());
            routes.names.push(path.clone());
        }
        routes
    }

    /// The route's label and, for the spec's routes and no route at all, a number for it.
    fn route<'a>(&'a self, pattern: Option<&'a str>) -> (Option<usize>, &'a str) {
        match pattern {
            Some(pattern) => match self.patterns.get(pattern) {
                Some(&index) => (Some(index), &self.names[index]),
                None => (None, pattern),
            },
            None => (Some(self.names.len()), UNMATCHED),
        }
    }
}

/// The request metrics' handles by route, method and status. Registering a labelled metric
/// on every request allocated its labels and hashed them into the registry; a kept handle is
/// one read-locked lookup. The key space is bounded: spec routes, standard methods, statuses.
#[derive(Default)]
struct RequestMetrics(RwLock<HashMap<MetricKey, (metrics::Counter, metrics::Histogram)>>);

/// A route's number, a method's label, a status.
type MetricKey = (usize, &'static str, u16);

impl RequestMetrics {
    fn record(&self, (route, route_name): (Option<usize>, &str), method: &Method, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let key = route.map(|route| (route, method, status));
        let seconds = elapsed.as_secs_f64();
        if let Some(key) = &key
            && let Some((count, duration)) = self.0.read().unwrap_or_else(|p| p.into_inner()).get(key)
        {
            count.increment(1);
            duration.record(seconds);
            return;
        }
        let labels = [
            ("method", method.to_owned()),
            ("route", route_name.to_owned()),
            ("status", status.to_string()),
        ];
        let handles = (
            metrics::counter!("defarm_http_requests_total", &labels),
            metrics::histogram!("defarm_http_request_duration_seconds", &labels),
        );
        handles.0.increment(1);
        handles.1.record(seconds);
        if let Some(key) = key {
            self.0.write().unwrap_or_else(|p| p.into_inner()).insert(key, handles);
        }
    }
}

/// A standard method's name; any other is `OTHER`, so clients cannot mint label values.
fn method_label(method: &Method) -> &'static str {
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ]
    .iter()
    .zip([
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ])
    .find_map(|(known, label)| (known == method).then_some(label))
    .unwrap_or("OTHER")
}

impl<E: Endpoint> Middleware<E> for Edge {
    type Output = EdgeEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        EdgeEndpoint {
            inner,
            settings: self.settings.clone(),
            body_types: self.body_types.clone(),
            route_names: self.route_names.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

pub struct EdgeEndpoint<E> {
    inner: E,
    settings: EdgeSettings,
    body_types: Arc<BodyTypes>,
    route_names: Arc<RouteNames>,
    metrics: Arc<RequestMetrics>,
}

impl<E: Endpoint> Endpoint for EdgeEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let started = Instant::now();
        let request_id = request_id_of(&req);
        let context = Arc::new(RequestContext {
            request_id: request_id.clone(),
            client_ip: client_ip(socket_ip(&req), req.headers(), &self.settings.trusted_proxies),
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(256).collect()),
            rate_limit: OnceLock::new(),
        });
        req.extensions_mut().insert(context.clone());
        let method = req.method().clone();
        // Kept for the log line of a request no route matches; cloning shares the URI's bytes.
        let uri = req.uri().clone();
        // Operations probes are scraped constantly; they are logged at debug, not info.
        let quiet = matches!(uri.path(), "/health" | "/metrics");
        let span = if quiet {
            tracing::debug_span!("request", %method, route = tracing::field::Empty, path = tracing::field::Empty, status = tracing::field::Empty, latency_ms = tracing::field::Empty, user_id = tracing::field::Empty, %request_id)
        } else {
            tracing::info_span!("request", %method, route = tracing::field::Empty, path = tracing::field::Empty, status = tracing::field::Empty, latency_ms = tracing::field::Empty, user_id = tracing::field::Empty, %request_id)
        };

        let response = REQUEST_ID
            .scope(request_id.clone(), async {
                // Reading the body counts against the request's time: a client dripping it slowly
                // holds a connection for REQUEST_TIMEOUT_MS at most.
                let handled = tokio::time::timeout(self.settings.request_timeout, async {
                    match self.read_body(&mut req).await {
                        Err(response) => response,
                        Ok(()) => match self.inner.call(req).await {
                            Ok(output) => output.into_response(),
                            Err(err) => err.into_response(),
                        },
                    }
                })
                .await;
                let response = handled.unwrap_or_else(|_elapsed| {
                    error_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "request_timeout",
                        "the request took too long".to_owned(),
                        None,
                        Some(1),
                    )
                });
                let mut response = if needs_shaping(&response) {
                    let pattern = response.data::<PathPattern>().cloned();
                    let mut shaped = reshape(response).await;
                    if let Some(pattern) = pattern {
                        shaped.set_data(pattern);
                    }
                    shaped
                } else {
                    response
                };
                self.decorate(&mut response, &context);
                // EPCIS 2.0's REST binding: every answer names the standard's versions.
                if is_epcis_path(uri.path()) {
                    let headers = response.headers_mut();
                    headers.insert("gs1-epcis-version", HeaderValue::from_static("2.0.0"));
                    headers.insert("gs1-cbv-version", HeaderValue::from_static("2.0.0"));
                }
                // A streamed upload refused part way leaves the rest of its body unread: the
                // connection closes after the answer, and the header tells the client not to
                // send another request on it.
                if uri.path() == IMPORT_PATH && !response.status().is_success() {
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                response
            })
            .instrument(span.clone())
            .await;

        let matched = response
            .data::<PathPattern>()
            .map(|pattern| &*pattern.0)
            .filter(|pattern| !pattern.is_empty());
        // The metric label stays one of the spec's routes; the log line of a request no route
        // matched says which path it was (never the query string, which may carry secrets).
        if matched.is_none() {
            let path: String = uri.path().chars().take(256).collect();
            span.record("path", path.as_str());
        }
        let route = self.route_names.route(matched);
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        span.record("route", route.1);
        span.record("status", status);
        span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
        self.metrics.record(route, &method, status, elapsed);
        Ok(response)
    }
}

/// Routes of the EPCIS 2.0 binding (EPCIS.md).
fn is_epcis_path(path: &str) -> bool {
    path.starts_with("/api/epcis/") || (path.starts_with("/api/circuits/") && path.contains("/epcis"))
}

impl<E> EdgeEndpoint<E> {
    /// Enforces `MAX_BODY_BYTES` (by the declared length when there is one) and reads, once and
    /// up to the limit, any body that must be looked at here: a chunked one, whose size only
    /// reading tells, and a JSON one. A JSON body is refused with a NUL character (PostgreSQL
    /// cannot store one and SQLite would, so the rule is kept here, the same for every route and
    /// both engines) or with a number or boolean where its schema says string.
    async fn read_body(&self, req: &mut Request) -> Result<(), Response> {
        let invalid = |message: String, details: Option<serde_json::Value>| {
            error_response(StatusCode::BAD_REQUEST, "validation_error", message, details, None)
        };
        let nul = || invalid("a NUL character is not accepted in any text".to_owned(), None);
        let target = req.uri().path_and_query().map_or("", |p| p.as_str());
        if target.to_ascii_lowercase().contains("%00") {
            return Err(nul());
        }
        let path = req.uri().path();
        let streamed = path == IMPORT_PATH;
        let max = if streamed {
            self.settings.max_import_bytes
        } else if is_epcis_path(path) && path.ends_with("/epcis/capture") {
            self.settings.max_epcis_document_bytes
        } else {
            self.settings.max_body_bytes
        };
        let too_large = || {
            error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("request body is larger than {max} bytes"),
                None,
                None,
            )
        };
        let declared = req.headers().get(header::CONTENT_LENGTH).map(|length| {
            length
                .to_str()
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(u64::MAX)
        });
        if declared.is_some_and(|length| length > max as u64) {
            return Err(too_large());
        }
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        let chunked = declared.is_none() && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        // A streamed body is counted by its reader, never held here.
        if streamed || (!is_json && !chunked) {
            return Ok(());
        }
        let bytes = match req.take_body().into_bytes_limit(max).await {
            Ok(bytes) => bytes,
            Err(poem::error::ReadBodyError::PayloadTooLarge) => return Err(too_large()),
            Err(err) => return Err(invalid(format!("could not read the request body: {err}"), None)),
        };
        if is_json {
            if json_has_nul(&bytes) {
                return Err(nul());
            }
            // A body that is not JSON is left to the handler's parser and its error.
            if let Ok(body) = serde_json::from_slice::<serde_json::Value>(&bytes)
                && let Some(field) = self.body_types.mismatch(req.method(), req.uri().path(), &body)
            {
                let details = serde_json::json!({ "field": field });
                return Err(invalid(format!("{field}: expected a string"), Some(details)));
            }
        }
        req.set_body(bytes);
        Ok(())
    }

    fn decorate(&self, response: &mut Response, context: &RequestContext) {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&context.request_id) {
            headers.insert(X_REQUEST_ID, value);
        }
        headers.insert(X_COMMIT, self.settings.commit_short.clone());
        if let Some(limit) = context.rate_limit.get() {
            headers.insert("ratelimit-limit", HeaderValue::from(limit.limit));
            headers.insert("ratelimit-remaining", HeaderValue::from(limit.remaining));
            headers.insert("ratelimit-reset", HeaderValue::from(limit.reset_secs));
        }
    }
}

/// Whether JSON text holds a NUL: a raw 0 byte, or the escape `\u0000` (escapes are read in
/// pairs, so an escaped backslash followed by `u0000` is text, not a NUL).
fn json_has_nul(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some(position) = rest.iter().position(|&b| b == b'\\' || b == 0) {
        if rest[position] == 0 {
            return true;
        }
        let escape = &rest[position + 1..];
        if escape.starts_with(b"u0000") {
            return true;
        }
        rest = escape.get(1..).unwrap_or_default();
    }
    false
}

/// Errors that poem produced on its own (plain text) get the error shape; JSON error bodies
/// from handlers (ours, or a health check's 503 document) and the web pages' own error pages
/// are left as they are.
fn needs_shaping(response: &Response) -> bool {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        // EPCIS answers its query errors in its own shape (RFC 7807, as its binding says).
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/problem+json") || v.starts_with("text/html")
        });
    response.status().as_u16() >= 400 && response.data::<ShapedError>().is_none() && !is_json
}

/// The client's request id when it is well formed, a fresh one otherwise.
fn request_id_of(req: &Request) -> String {
    req.headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_valid_request_id(id))
        // From the thread's seeded generator: `Uuid::new_v4` asks the kernel (a system call) for
        // every id, which was 3 % of a `/health` request.
        .map_or_else(
            || {
                uuid::Builder::from_random_bytes(rand::rng().random())
                    .into_uuid()
                    .simple()
                    .to_string()
            },
            str::to_owned,
        )
}

/// `^[A-Za-z0-9._:-]{1,128}$`
pub fn is_valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn socket_ip(req: &Request) -> IpAddr {
    req.remote_addr()
        .as_socket_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |addr| canonical(addr.ip()))
}

/// The socket address, unless it is a trusted proxy: then `X-Forwarded-For` walked from the
/// right, skipping trusted proxies, and the first untrusted address wins.
pub fn client_ip(socket_ip: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&socket_ip) {
        return socket_ip;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = socket_ip;
    for hop in forwarded.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else {
            // An unparsable hop cannot be trusted; stop at the last address we could read.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// IPv4-mapped IPv6 addresses are their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn nul_characters_are_found_only_where_json_has_them() {
        assert!(json_has_nul(br#"{"a":"x\u0000y"}"#));
        assert!(json_has_nul(b"{\"a\":\"x\0\"}"));
        assert!(
            !json_has_nul(br#"{"a":"x\\u0000y"}"#),
            "an escaped backslash, then text"
        );
        assert!(json_has_nul(br#"{"a":"\\\u0000"}"#));
        assert!(json_has_nul(br#"{"a":"\u00001"}"#), "NUL, then a digit");
        assert!(!json_has_nul(br#"{"a":"caf\u00e9","b":"\\"}"#));
    }

    #[test]
    fn request_ids_are_checked() {
        assert!(is_valid_request_id("abc-123:x.y_z"));
        assert!(!is_valid_request_id(""));
        assert!(!is_valid_request_id("has space"));
        assert!(!is_valid_request_id(&"a".repeat(129)));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let spoofed = forwarded("1.2.3.4");
        assert_eq!(client_ip(ip("203.0.113.9"), &spoofed, &trusted), ip("203.0.113.9"));
        let chain = forwarded("1.2.3.4, 198.51.100.7, 10.0.0.2");
        assert_eq!(client_ip(ip("10.0.0.1"), &chain, &trusted), ip("198.51.100.7"));
        assert_eq!(client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
        let mapped = forwarded("::ffff:198.51.100.7");
        assert_eq!(client_ip(ip("10.0.0.1"), &mapped, &trusted), ip("198.51.100.7"));
    }
}
