//! The single error shape of the API, `{error, code, request_id, details?}`, for every failure:
//! the handlers' own (`ApiError`) and poem's (malformed JSON, wrong content type, unknown route...),
//! which `reshape` rewrites at the edge.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{ApiResponse, Object};

use crate::domain::{Error, ErrorKind};

tokio::task_local! {
    /// The current request's id, so errors built deep in a handler can carry it.
    pub static REQUEST_ID: String;
}

/// The body of every error response.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
#[oai(rename = "Error")]
pub struct ErrorBody {
    /// A human-readable message.
    pub error: String,
    /// A stable snake_case code clients can match on, e.g. `validation_error`, `not_found`.
    pub code: ErrorCode,
    /// Equals the response's `X-Request-Id` header.
    pub request_id: String,
    /// For validation errors: which field, which rule.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// Every `code` the API answers with. Clients match on them, so the spec lists them as an enum;
/// a code missing here fails a debug build where it is answered (`error_response`), and the unit
/// test below reads every code the sources write.
pub const ERROR_CODES: &[&str] = &[
    "access_password_required",
    "account_banned",
    "account_suspended",
    "account_trial_expired",
    "adapter_not_in_tier",
    "adapter_unavailable",
    "admin_required",
    "alias_requirements_not_met",
    "already_member",
    "cannot_change_own_status",
    "capture_timeout",
    "circuit_inactive",
    "claimed_in_batch",
    "concurrent_write",
    "database_busy",
    "database_timeout",
    "database_unavailable",
    "dispute_not_open",
    "email_taken",
    "endpoint_not_allowed",
    "forbidden",
    "identifier_conflict",
    "insufficient_key_permissions",
    "insufficient_permissions",
    "internal_error",
    "invalid_api_key",
    "invalid_credentials",
    "invalid_csv",
    "invalid_current_password",
    "invalid_dfid",
    "invalid_identifier",
    "invalid_rows",
    "invalid_token",
    "ip_not_allowed",
    "ipfs_unavailable",
    "item_not_active",
    "length_required",
    "local_event_already_pushed",
    "log_starting",
    "login_locked",
    "method_not_allowed",
    "not_found",
    "operation_not_pending",
    "overloaded",
    "owner_required",
    "payload_too_large",
    "privilege_escalation",
    "public_visibility_disabled",
    "public_visibility_required",
    "rate_limited",
    "recipient_required",
    "request_error",
    "request_not_pending",
    "request_pending",
    "request_timeout",
    "reserved_event_type",
    "role_in_use",
    "role_name_taken",
    "rows_refused",
    "self_approval",
    "sender_required",
    "service_unavailable",
    "session_expired",
    "session_required",
    "session_revoked",
    "tier_limit_exceeded",
    "token_expired",
    "too_many_rows",
    "transfer_not_pending",
    "transfer_pending",
    "unauthorized",
    "unique_violation",
    "unknown_registry",
    "unsupported_media_type",
    "username_taken",
    "validation_error",
    "version_withheld",
    "weak_password",
    "webhook_destination_refused",
    "webhook_destination_unresolvable",
];

/// An error's stable code, declared in the spec as the `ErrorCode` enum.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub String);

impl Type for ErrorCode {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference("ErrorCode".to_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>("ErrorCode".to_owned(), |_| MetaSchema {
            description: Some("A stable code for what went wrong; match on it, not on the message."),
            enum_items: ERROR_CODES.iter().map(|&code| serde_json::Value::from(code)).collect(),
            ..MetaSchema::new("string")
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromJSON for ErrorCode {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        String::parse_from_json(value).map(Self).map_err(ParseError::propagate)
    }
}

impl ToJSON for ErrorCode {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::from(self.0.as_str()))
    }
}

/// Marks a response whose body already has the error shape, so the edge leaves it alone.
#[derive(Clone, Copy)]
pub struct ShapedError;

/// A domain error on its way to becoming an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        Self(err)
    }
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Builds an error response in the one shape.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: String,
    details: Option<serde_json::Value>,
    retry_after_secs: Option<u64>,
) -> Response {
    debug_assert!(ERROR_CODES.contains(&code), "error code {code:?} is not in ERROR_CODES");
    let body = ErrorBody {
        error: message,
        code: ErrorCode(code.to_owned()),
        request_id: current_request_id(),
        details,
    };
    let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(json);
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response.set_data(ShapedError);
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Error {
            kind,
            code,
            message,
            details,
            retry_after_secs,
        } = self.0;
        let message = if kind == ErrorKind::Internal {
            // The real message is for the log only.
            tracing::error!(error = %message, "internal error");
            "internal error".to_owned()
        } else {
            message
        };
        error_response(
            status_of(kind),
            &code,
            message,
            details.map(|details| *details),
            retry_after_secs,
        )
    }
}

impl From<ApiError> for poem::Error {
    fn from(err: ApiError) -> Self {
        poem::Error::from_response(err.into_response())
    }
}

/// Rewrites an error response that poem produced (plain text) into the error shape, keeping
/// its status and its message.
pub async fn reshape(response: Response) -> Response {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let allow = response.headers().get(header::ALLOW).cloned();
    let text = response.into_body().into_string().await.unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "validation_error",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::LENGTH_REQUIRED => "length_required",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        _ if status.is_server_error() => "internal_error",
        _ => "request_error",
    };
    let message = if status.is_server_error() || text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let mut shaped = error_response(status, code, message, None, retry_after);
    if let Some(allow) = allow {
        shaped.headers_mut().insert(header::ALLOW, allow);
    }
    shaped
}

/// The error responses every operation may answer, as documented in the spec.
const DOCUMENTED: &[(u16, &str, bool)] = &[
    (
        400,
        "Invalid input: malformed JSON, wrong types or a broken rule (`details` says which).",
        false,
    ),
    (401, "Missing, invalid, expired or revoked credentials.", false),
    (
        403,
        "Authenticated but not allowed (permissions, account status, tier limits).",
        false,
    ),
    (404, "Not found, or not visible to this caller.", false),
    (409, "Conflict with existing data or state.", false),
    (413, "Request body larger than `MAX_BODY_BYTES`.", false),
    (415, "Content type other than `application/json`.", false),
    (429, "Rate limited; retry after `Retry-After` seconds.", true),
    (
        503,
        "Overloaded or a dependency is down; retry after `Retry-After` seconds.",
        true,
    ),
];

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .map(|&(status, description, retry_after)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: ErrorBody::schema_ref(),
                    }],
                    headers: if retry_after {
                        vec![MetaHeader {
                            name: "Retry-After".to_owned(),
                            description: Some("Seconds to wait before retrying.".to_owned()),
                            required: true,
                            deprecated: false,
                            schema: u64::schema_ref(),
                        }]
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::ERROR_CODES;

    /// Reads every source file for a string literal given as the code to one of the domain's
    /// error constructors; each must be declared.
    #[test]
    fn every_code_the_sources_write_is_declared() {
        let constructors = [
            "Error::invalid(",
            "Error::unauthenticated(",
            "Error::forbidden(",
            "Error::conflict(",
            "Error::unavailable(",
            "Error::new(",
        ];
        let mut missing = Vec::new();
        let mut found = 0;
        let mut folders = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                if path.extension().is_none_or(|extension| extension != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for constructor in constructors {
                    for (at, _) in text.match_indices(constructor) {
                        // Not this test's own list, nor `std::io::Error::new`.
                        let before = &text[..at];
                        if before.ends_with('"') || before.ends_with("io::") {
                            continue;
                        }
                        let arguments = text[at + constructor.len()..].trim_start();
                        // `Error::new` names the kind first.
                        let arguments = match constructor {
                            "Error::new(" => arguments.split_once(',').map_or("", |(_, rest)| rest.trim_start()),
                            _ => arguments,
                        };
                        let Some(literal) = arguments.strip_prefix('"') else {
                            continue;
                        };
                        let code = literal.split('"').next().unwrap_or_default();
                        found += 1;
                        if !ERROR_CODES.contains(&code) {
                            missing.push(format!("{code} in {}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(found > 50, "the scan found only {found} codes");
        assert!(missing.is_empty(), "codes missing from ERROR_CODES: {missing:?}");
    }
}
