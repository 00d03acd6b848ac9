//! `/api/admin`: users, tiers, statuses and the audit log, for administrators.

use chrono::{DateTime, Utc};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth_api::{AuditList, MessageResponse, Profile};
use super::caller::AdminCaller;
use super::error::ApiResult;
use super::types::{Created, StatusName, TierName, list_of, page};
use super::{ApiTags, State};
use crate::domain::audit::AuditFilter;
use crate::domain::identity::account::{AccountStatus, Tier};
use crate::domain::identity::admin::{AccountChange, Actor, Invitation};
use crate::domain::identity::ports::AccountFilter;

pub struct AdminApi;

list_of!(
    /// A page of users, newest first.
    UserList,
    Profile
);

/// An account for someone else: it gets no password; its owner is mailed a one-time token to
/// choose one.
#[derive(Object)]
struct NewAccountBody {
    /// 3 to 64 characters of `A-Z a-z 0-9 . _ -`; unique ignoring case.
    username: String,
    /// Where the token goes; unique ignoring case.
    email: String,
    /// Default `Basic`.
    #[oai(nullable)]
    tier: Option<TierName>,
    /// Default `Active`.
    #[oai(nullable)]
    status: Option<StatusName>,
}

/// New login names; an absent one stays.
#[derive(Object)]
struct AccountChangeBody {
    #[oai(nullable)]
    username: Option<String>,
    #[oai(nullable)]
    email: Option<String>,
}

#[derive(ApiResponse)]
enum ResetSent {
    /// The token is on its way to the account's email.
    #[oai(status = 202)]
    Sent(Json<MessageResponse>),
}

#[derive(Object)]
struct SetTierRequest {
    tier: TierName,
}

#[derive(Object)]
struct SetStatusRequest {
    status: StatusName,
    #[oai(nullable)]
    reason: Option<String>,
}

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminApi {
    /// Users, filtered by tier, status, or a text in the username or email (`q`).
    #[oai(path = "/api/admin/users", method = "get", operation_id = "admin_list_users")]
    #[expect(
        clippy::too_many_arguments,
        reason = "poem-openapi takes one argument per query parameter"
    )]
    async fn users(
        &self,
        state: State<'_>,
        _admin: AdminCaller,
        tier: Query<Option<TierName>>,
        status: Query<Option<StatusName>>,
        q: Query<Option<String>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<UserList>> {
        let filter = AccountFilter {
            tier: tier.0.map(Into::into),
            status: status.0.map(Into::into),
            query: q.0,
        };
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.admin.users(&filter, &page).await?.into()))
    }

    /// Create an account for someone: they receive a token by mail to choose its password.
    #[oai(path = "/api/admin/users", method = "post", operation_id = "admin_create_user")]
    async fn create_user(
        &self,
        state: State<'_>,
        admin: AdminCaller,
        body: Json<NewAccountBody>,
    ) -> ApiResult<Created<Profile>> {
        let body = body.0;
        let invitation = Invitation {
            username: body.username,
            email: body.email,
            tier: body.tier.map_or(Tier::Basic, Into::into),
            status: body.status.map_or(AccountStatus::Active, Into::into),
        };
        let actor = Actor::Administrator(&admin.principal);
        let account = state.admin.create_user(actor, invitation, &admin.meta).await?;
        Ok(Created::Created(Json(account.into())))
    }

    /// Change a user's username or email; it takes effect on their next request.
    #[oai(
        path = "/api/admin/users/:user_id",
        method = "patch",
        operation_id = "admin_update_user"
    )]
    async fn update_user(
        &self,
        state: State<'_>,
        admin: AdminCaller,
        user_id: Path<String>,
        body: Json<AccountChangeBody>,
    ) -> ApiResult<Json<Profile>> {
        let change = AccountChange {
            username: body.0.username,
            email: body.0.email,
        };
        let actor = Actor::Administrator(&admin.principal);
        let account = state.admin.update_user(actor, &user_id.0, change, &admin.meta).await?;
        Ok(Json(account.into()))
    }

    /// Mail a user a one-time password reset token.
    #[oai(
        path = "/api/admin/users/:user_id/reset-password",
        method = "post",
        operation_id = "admin_reset_password"
    )]
    async fn reset_password(
        &self,
        state: State<'_>,
        admin: AdminCaller,
        user_id: Path<String>,
    ) -> ApiResult<ResetSent> {
        let actor = Actor::Administrator(&admin.principal);
        state.admin.send_password_reset(actor, &user_id.0, &admin.meta).await?;
        Ok(ResetSent::Sent(Json(MessageResponse {
            message: "A one-time reset token is on its way to the account's email.".to_owned(),
        })))
    }

    /// One user.
    #[oai(path = "/api/admin/users/:user_id", method = "get", operation_id = "admin_get_user")]
    async fn user(&self, state: State<'_>, _admin: AdminCaller, user_id: Path<String>) -> ApiResult<Json<Profile>> {
        Ok(Json(state.admin.user(&user_id.0).await?.into()))
    }

    /// Change a user's tier.
    #[oai(
        path = "/api/admin/users/:user_id/tier",
        method = "put",
        operation_id = "admin_set_tier"
    )]
    async fn set_tier(
        &self,
        state: State<'_>,
        admin: AdminCaller,
        user_id: Path<String>,
        body: Json<SetTierRequest>,
    ) -> ApiResult<Json<Profile>> {
        let account = state
            .admin
            .set_tier(
                Actor::Administrator(&admin.principal),
                &user_id.0,
                body.tier.into(),
                &admin.meta,
            )
            .await?;
        Ok(Json(account.into()))
    }

    /// Change a user's status; it takes effect on their next request.
    #[oai(
        path = "/api/admin/users/:user_id/status",
        method = "put",
        operation_id = "admin_set_status"
    )]
    async fn set_status(
        &self,
        state: State<'_>,
        admin: AdminCaller,
        user_id: Path<String>,
        body: Json<SetStatusRequest>,
    ) -> ApiResult<Json<Profile>> {
        let body = body.0;
        let account = state
            .admin
            .set_status(
                Actor::Administrator(&admin.principal),
                &user_id.0,
                body.status.into(),
                body.reason,
                &admin.meta,
            )
            .await?;
        Ok(Json(account.into()))
    }

    /// The whole audit log, filtered by user (as actor or target), action and time.
    #[oai(path = "/api/admin/audit", method = "get", operation_id = "admin_audit")]
    #[expect(
        clippy::too_many_arguments,
        reason = "poem-openapi takes one argument per query parameter"
    )]
    async fn audit(
        &self,
        state: State<'_>,
        _admin: AdminCaller,
        user_id: Query<Option<String>>,
        action: Query<Option<String>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<AuditList>> {
        let filter = AuditFilter {
            user_id: user_id.0,
            action: action.0,
            from: from.0,
            to: to.0,
        };
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.admin.audit(&filter, &page).await?.into()))
    }
}
