//! Authentication extractors. Every `/api` operation takes one of these, so a route cannot be
//! written without saying who may call it, and the spec declares its security from the same type:
//!
//! - [`Caller`]: a user session or an API key;
//! - [`SessionCaller`]: a user session only (API keys get 403 `session_required`);
//! - [`AdminCaller`]: an administrator's session, or their key with `admin` permission;
//! - [`PublicClient`]: no credentials; limited per client IP.

use std::sync::Arc;

use poem::http::Method;
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use super::error::ApiError;
use super::{AppState, RequestContext};
use crate::domain::Error;
use crate::domain::identity::access::{Access, Principal, RequestMeta};
use crate::domain::identity::guard::{Presented, RateOutcome, RequestFacts, RouteKind};

pub const BEARER_SCHEME: &str = "BearerAuth";
pub const API_KEY_SCHEME: &str = "ApiKeyAuth";

/// An authenticated caller and the request facts audit entries need.
pub struct Caller {
    pub principal: Principal,
    pub meta: RequestMeta,
}

/// A caller with a user session.
pub struct SessionCaller {
    pub principal: Principal,
    pub meta: RequestMeta,
}

/// An administrator.
pub struct AdminCaller {
    pub principal: Principal,
    pub meta: RequestMeta,
}

/// A user session from the `Authorization` header or, for WebSocket clients that cannot set
/// headers, a `token` query parameter (never logged: logs carry route templates only).
pub struct SocketCaller {
    pub principal: Principal,
    pub token: String,
}

/// An anonymous client of a public route, after its per-IP rate limit.
pub struct PublicClient {
    pub meta: RequestMeta,
}

fn state(req: &Request) -> poem::Result<&Arc<AppState>> {
    req.data::<Arc<AppState>>()
        .ok_or_else(|| ApiError(Error::internal("application state is not mounted")).into())
}

fn context(req: &Request) -> poem::Result<&Arc<RequestContext>> {
    req.extensions()
        .get::<Arc<RequestContext>>()
        .ok_or_else(|| ApiError(Error::internal("request context is missing")).into())
}

fn meta_of(context: &RequestContext) -> RequestMeta {
    RequestMeta {
        ip: context.client_ip,
        user_agent: context.user_agent.clone(),
        request_id: context.request_id.clone(),
    }
}

/// `X-API-Key: dfm_...`, or `Authorization: Bearer <jwt or dfm_ key>`.
fn presented(req: &Request) -> Option<Presented> {
    if let Some(key) = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(Presented::ApiKey(key.trim().to_owned()));
    }
    let authorization = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| Presented::Bearer(token.trim().to_owned()))
}

/// Applies a rate-limit outcome: headers for the response, and the refusal if any.
fn enforce(context: &RequestContext, outcome: RateOutcome, scope: &'static str) -> poem::Result<()> {
    if let Some(status) = outcome.status {
        let _ = context.rate_limit.set(status);
    }
    outcome.verdict.map_err(|err| {
        metrics::counter!("defarm_rate_limit_rejections_total", "scope" => scope).increment(1);
        ApiError(err).into()
    })
}

async fn authenticate(req: &Request, route: RouteKind) -> poem::Result<(Principal, RequestMeta)> {
    let state = state(req)?;
    let context = context(req)?;
    let presented = presented(req).ok_or_else(|| {
        ApiError(Error::unauthenticated(
            "unauthorized",
            "credentials required: Authorization: Bearer <token> or X-API-Key",
        ))
    })?;
    let access = if matches!(*req.method(), Method::GET | Method::HEAD) {
        Access::Read
    } else {
        Access::Write
    };
    let facts = RequestFacts {
        ip: context.client_ip,
        path: req.uri().path(),
        access,
        route,
    };
    let principal = state.guard.authenticate(presented, &facts).await.map_err(ApiError)?;
    tracing::Span::current().record("user_id", principal.user_id.as_str());
    let outcome = state.guard.limit_principal(&principal).await;
    enforce(context, outcome, "user")?;
    Ok((principal, meta_of(context)))
}

fn register_schemes(registry: &mut Registry) {
    registry.create_security_scheme(
        BEARER_SCHEME,
        MetaSecurityScheme {
            ty: "http",
            description: Some(
                "A session token from `/api/auth/login` or `/api/auth/register` (JWT), or an API key \
                 (`dfm_...`).",
            ),
            name: None,
            key_in: None,
            scheme: Some("bearer"),
            bearer_format: Some("JWT"),
            flows: None,
            openid_connect_url: None,
        },
    );
    registry.create_security_scheme(
        API_KEY_SCHEME,
        MetaSecurityScheme {
            ty: "apiKey",
            description: Some("An API key (`dfm_` + 32 characters) from `/api/api-keys`."),
            name: Some("X-API-Key"),
            key_in: Some("header"),
            scheme: None,
            bearer_format: None,
            flows: None,
            openid_connect_url: None,
        },
    );
}

/// Implements `ApiExtractor` for an authenticated extractor type.
macro_rules! security_extractor {
    ($ty:ident, $route:expr, [$($scheme:expr),+]) => {
        impl<'a> ApiExtractor<'a> for $ty {
            const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
            type ParamType = ();
            type ParamRawType = ();

            fn register(registry: &mut Registry) {
                register_schemes(registry);
            }

            fn security_schemes() -> Vec<&'static str> {
                vec![$($scheme),+]
            }

            async fn from_request(
                req: &'a Request,
                _body: &mut RequestBody,
                _param_opts: ExtractParamOptions<Self::ParamType>,
            ) -> poem::Result<Self> {
                let (principal, meta) = authenticate(req, $route).await?;
                Ok(Self { principal, meta })
            }
        }
    };
}

security_extractor!(Caller, RouteKind::Any, [BEARER_SCHEME, API_KEY_SCHEME]);
security_extractor!(SessionCaller, RouteKind::SessionOnly, [BEARER_SCHEME]);
security_extractor!(AdminCaller, RouteKind::Admin, [BEARER_SCHEME, API_KEY_SCHEME]);

impl<'a> ApiExtractor<'a> for SocketCaller {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_schemes(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![BEARER_SCHEME]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let state = state(req)?;
        let context = context(req)?;
        let token = match presented(req) {
            Some(Presented::Bearer(token)) => Some(token),
            Some(Presented::ApiKey(_)) => None,
            None => url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
                .find(|(name, _)| name == "token")
                .map(|(_, value)| value.into_owned()),
        };
        let token = token.ok_or_else(|| {
            ApiError(Error::unauthenticated(
                "unauthorized",
                "a session token is required (Authorization header or ?token=)",
            ))
        })?;
        let facts = RequestFacts {
            ip: context.client_ip,
            path: req.uri().path(),
            access: Access::Read,
            route: RouteKind::SessionOnly,
        };
        let principal = state
            .guard
            .authenticate(Presented::Bearer(token.clone()), &facts)
            .await
            .map_err(ApiError)?;
        let outcome = state.guard.limit_principal(&principal).await;
        enforce(context, outcome, "user")?;
        Ok(Self { principal, token })
    }
}

impl<'a> FromRequest<'a> for PublicClient {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = state(req)?;
        let context = context(req)?;
        let outcome = state.guard.limit_public(context.client_ip).await;
        enforce(context, outcome, "public")?;
        Ok(Self { meta: meta_of(context) })
    }
}
