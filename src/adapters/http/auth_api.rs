//! `/api/auth` and `/api/users/me`: accounts, sessions, passwords.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::caller::{Caller, PublicClient, SessionCaller};
use super::error::ApiResult;
use super::types::{NoContent, StatusName, TierName, UtcTime, bounded, list_of, page};
use super::{ApiTags, State};
use crate::domain::Error;
use crate::domain::audit::AuditEntry;
use crate::domain::identity::account::Account;
use crate::domain::identity::auth::{IssuedToken, Registration};
use crate::domain::identity::password_reset::ResetRequest;

pub struct AuthApi;

#[derive(Object)]
struct RegisterRequest {
    /// 3 to 64 characters of `A-Z a-z 0-9 . _ -`; unique ignoring case.
    username: String,
    /// Unique ignoring case.
    email: String,
    /// 8 to 128 characters with an uppercase letter, a lowercase letter, a digit and a symbol.
    password: String,
    #[oai(nullable)]
    workspace_name: Option<String>,
}

#[derive(Object)]
struct LoginRequest {
    /// The username or the email.
    username: String,
    password: String,
}

/// How to send the token: always `Bearer`.
#[derive(Enum)]
enum TokenType {
    Bearer,
}

/// A session token.
#[derive(Object)]
struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    token_type: TokenType,
    expires_at: UtcTime,
    user_id: String,
    workspace_id: String,
}

impl From<IssuedToken> for TokenResponse {
    fn from(issued: IssuedToken) -> Self {
        Self {
            token: issued.token,
            token_type: TokenType::Bearer,
            expires_at: issued.expires_at.into(),
            user_id: issued.user_id,
            workspace_id: issued.workspace_id,
        }
    }
}

/// The caller's account.
#[derive(Object)]
pub struct Profile {
    user_id: String,
    username: String,
    email: String,
    tier: TierName,
    status: StatusName,
    is_admin: bool,
    workspace_id: String,
    created_at: UtcTime,
    #[oai(nullable)]
    last_login_at: Option<UtcTime>,
}

impl From<Account> for Profile {
    fn from(account: Account) -> Self {
        Self {
            user_id: account.id,
            username: account.username,
            email: account.email,
            tier: account.tier.into(),
            status: account.status.into(),
            is_admin: account.is_admin,
            workspace_id: account.workspace_id,
            created_at: account.created_at.into(),
            last_login_at: account.last_login_at.map(UtcTime),
        }
    }
}

#[derive(Object)]
struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
    /// Also revoke every API key of the account.
    #[oai(default)]
    revoke_api_keys: bool,
}

#[derive(Object)]
struct LogoutAllRequest {
    /// Also revoke every API key of the account.
    #[oai(default)]
    revoke_api_keys: bool,
}

/// Give the email or the username.
#[derive(Object)]
struct ForgotPasswordRequest {
    #[oai(nullable)]
    email: Option<String>,
    #[oai(nullable)]
    username: Option<String>,
}

#[derive(Object)]
pub(super) struct MessageResponse {
    pub(super) message: String,
}

#[derive(Object)]
struct ResetPasswordRequest {
    /// The one-time token from the reset message.
    token: String,
    new_password: String,
}

/// One audit log entry.
#[derive(Object)]
pub struct AuditEntryView {
    id: String,
    /// What happened, e.g. `login_succeeded`, `api_key_revoked`, `status_changed`.
    action: String,
    #[oai(nullable)]
    actor_id: Option<String>,
    target_type: String,
    #[oai(nullable)]
    target_id: Option<String>,
    #[oai(nullable)]
    ip: Option<String>,
    #[oai(nullable)]
    user_agent: Option<String>,
    #[oai(nullable)]
    request_id: Option<String>,
    at: UtcTime,
    details: serde_json::Value,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            action: entry.action,
            actor_id: entry.actor_id,
            target_type: entry.target_type,
            target_id: entry.target_id,
            ip: entry.ip,
            user_agent: entry.user_agent,
            request_id: entry.request_id,
            at: entry.at.into(),
            details: entry.details,
        }
    }
}

list_of!(
    /// A page of audit entries, newest first.
    AuditList,
    AuditEntryView
);

#[derive(ApiResponse)]
enum RegisterResponse {
    /// The account was created and a session started.
    #[oai(status = 201)]
    Created(Json<TokenResponse>),
}

#[derive(ApiResponse)]
enum Accepted {
    /// The same answer whether or not the account exists.
    #[oai(status = 202)]
    Accepted(Json<MessageResponse>),
}

/// Password fields are checked by the domain rules; this only stops absurd sizes early.
fn bounded_password(field: &str, password: &str) -> Result<(), Error> {
    bounded(field, password, 1024)
}

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account (tier `Basic`) and start a session.
    #[oai(path = "/api/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        state: State<'_>,
        client: PublicClient,
        body: Json<RegisterRequest>,
    ) -> ApiResult<RegisterResponse> {
        let body = body.0;
        bounded("username", &body.username, 256)?;
        bounded("email", &body.email, 256)?;
        bounded_password("password", &body.password)?;
        let issued = state
            .auth
            .register(
                Registration {
                    username: body.username,
                    email: body.email,
                    password: body.password,
                    workspace_name: body.workspace_name,
                },
                &client.meta,
            )
            .await?;
        Ok(RegisterResponse::Created(Json(issued.into())))
    }

    /// Log in with username (or email) and password. Wrong username and wrong password give the
    /// same 401 `invalid_credentials`; 5 failures in 15 minutes for one (account, IP) lock that
    /// pair for 15 minutes (429 with `Retry-After`).
    #[oai(path = "/api/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: State<'_>,
        client: PublicClient,
        body: Json<LoginRequest>,
    ) -> ApiResult<Json<TokenResponse>> {
        let body = body.0;
        bounded_password("password", &body.password)?;
        let issued = state.auth.login(&body.username, body.password, &client.meta).await?;
        Ok(Json(issued.into()))
    }

    /// A new token for the same session, with a new expiry (never past the session's maximum age).
    #[oai(path = "/api/auth/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(&self, state: State<'_>, caller: SessionCaller) -> ApiResult<Json<TokenResponse>> {
        Ok(Json(state.auth.refresh(&caller.principal, &caller.meta).await?.into()))
    }

    /// End this session; its token is refused from now on.
    #[oai(path = "/api/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(&self, state: State<'_>, caller: SessionCaller) -> ApiResult<NoContent> {
        state.auth.logout(&caller.principal, &caller.meta).await?;
        Ok(NoContent::Done)
    }

    /// End every session of this account, and with `revoke_api_keys` every API key. The body is
    /// optional.
    #[oai(path = "/api/auth/logout-all", method = "post", operation_id = "logout_all")]
    async fn logout_all(
        &self,
        state: State<'_>,
        caller: SessionCaller,
        body: Json<Option<LogoutAllRequest>>,
    ) -> ApiResult<NoContent> {
        let revoke_api_keys = body.0.is_some_and(|b| b.revoke_api_keys);
        state
            .auth
            .logout_all(&caller.principal, revoke_api_keys, &caller.meta)
            .await?;
        Ok(NoContent::Done)
    }

    /// The caller's account.
    #[oai(path = "/api/auth/profile", method = "get", operation_id = "profile")]
    async fn profile(&self, state: State<'_>, caller: SessionCaller) -> ApiResult<Json<Profile>> {
        Ok(Json(state.auth.profile(&caller.principal).await?.into()))
    }

    /// Change the password; every other session is revoked.
    #[oai(
        path = "/api/auth/change-password",
        method = "post",
        operation_id = "change_password"
    )]
    async fn change_password(
        &self,
        state: State<'_>,
        caller: SessionCaller,
        body: Json<ChangePasswordRequest>,
    ) -> ApiResult<NoContent> {
        bounded_password("current_password", &body.current_password)?;
        bounded_password("new_password", &body.new_password)?;
        let body = body.0;
        state
            .auth
            .change_password(
                &caller.principal,
                body.current_password,
                body.new_password,
                body.revoke_api_keys,
                &caller.meta,
            )
            .await?;
        Ok(NoContent::Done)
    }

    /// Send a one-time reset token (valid 30 minutes) to the account's email. The answer is the
    /// same whether or not the account exists.
    #[oai(
        path = "/api/auth/forgot-password",
        method = "post",
        operation_id = "forgot_password"
    )]
    async fn forgot_password(
        &self,
        state: State<'_>,
        client: PublicClient,
        body: Json<ForgotPasswordRequest>,
    ) -> ApiResult<Accepted> {
        let request = match body.0 {
            ForgotPasswordRequest { email: Some(email), .. } => ResetRequest::Email(email),
            ForgotPasswordRequest {
                username: Some(username),
                ..
            } => ResetRequest::Username(username),
            _ => return Err(Error::field("email", "give an email or a username").into()),
        };
        request.check()?;
        // The lookup, the token and the mail happen in the background, so existing and unknown
        // accounts answer in the same time. A full queue drops the request: the answer is the
        // same, and the person asks again.
        if state.reset_queue.try_send((request, client.meta.clone())).is_err() {
            tracing::warn!("password reset queue is full; a request was dropped");
        }
        Ok(Accepted::Accepted(Json(MessageResponse {
            message: "If the account exists, a reset message is on its way.".to_owned(),
        })))
    }

    /// Set a new password with a reset token. Single use (of two concurrent uses exactly one
    /// succeeds); every session is revoked.
    #[oai(path = "/api/auth/reset-password", method = "post", operation_id = "reset_password")]
    async fn reset_password(
        &self,
        state: State<'_>,
        client: PublicClient,
        body: Json<ResetPasswordRequest>,
    ) -> ApiResult<NoContent> {
        bounded_password("new_password", &body.new_password)?;
        let body = body.0;
        state
            .auth
            .reset_password(&body.token, body.new_password, &client.meta)
            .await?;
        Ok(NoContent::Done)
    }
}

/// The caller's own account, under its own tag.
pub struct UsersApi;

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// The caller's account (also with an API key).
    #[oai(path = "/api/users/me", method = "get", operation_id = "users_me")]
    async fn me(&self, state: State<'_>, caller: Caller) -> ApiResult<Json<Profile>> {
        Ok(Json(state.auth.profile(&caller.principal).await?.into()))
    }

    /// Audit entries of things the caller did, or that were done to their account.
    #[oai(path = "/api/users/me/audit", method = "get", operation_id = "users_me_audit")]
    async fn my_audit(
        &self,
        state: State<'_>,
        caller: SessionCaller,
        limit: poem_openapi::param::Query<Option<u32>>,
        cursor: poem_openapi::param::Query<Option<String>>,
    ) -> ApiResult<Json<AuditList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.admin.own_audit(&caller.principal, &page).await?.into()))
    }
}
