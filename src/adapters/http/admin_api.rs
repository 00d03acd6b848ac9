//! `/api/admin`: users, tiers, statuses and the audit log, for administrators.

use chrono::{DateTime, Utc};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::auth_api::{AuditList, Profile};
use super::caller::AdminCaller;
use super::error::ApiResult;
use super::types::{StatusName, TierName, list_of, page};
use super::{ApiTags, State};
use crate::domain::audit::AuditFilter;
use crate::domain::identity::admin::Actor;
use crate::domain::identity::ports::AccountFilter;

pub struct AdminApi;

list_of!(
    /// A page of users, newest first.
    UserList,
    Profile
);

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
