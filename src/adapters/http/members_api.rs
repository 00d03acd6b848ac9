//! `/api/circuits/{id}/members` and `/roles`: membership and custom roles.

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::identity::account::UserId;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{Created, NoContent, list_of, page};
use super::views::{MemberList, MemberView, PermissionName, RoleName, permission_names, permission_set};
use super::{ApiTags, State};
use crate::domain::circuits::member_service::{Invitee, RoleInput};
use crate::domain::circuits::roles::CustomRole;

pub struct MembersApi;

#[derive(Object)]
struct NewMember {
    #[oai(nullable)]
    user_id: Option<String>,
    #[oai(nullable)]
    username: Option<String>,
    /// `Admin` (Owner only), `Member` or `Viewer`.
    role: RoleName,
}

#[derive(Object)]
struct MemberChange {
    #[oai(nullable)]
    role: Option<RoleName>,
    /// A `role_id` of this circuit's custom roles; null removes it.
    custom_role: MaybeUndefined<String>,
}

#[derive(Object)]
struct RoleBody {
    role_name: String,
    permissions: Vec<PermissionName>,
    #[oai(nullable)]
    description: Option<String>,
    /// `#rgb` or `#rrggbb`.
    #[oai(nullable)]
    color: Option<String>,
}

/// A custom role: permissions added to a member's base role.
#[derive(Object)]
pub struct RoleView {
    role_id: String,
    role_name: String,
    permissions: Vec<PermissionName>,
    #[oai(nullable)]
    description: Option<String>,
    #[oai(nullable)]
    color: Option<String>,
}

impl From<CustomRole> for RoleView {
    fn from(r: CustomRole) -> Self {
        Self {
            role_id: r.role_id,
            role_name: r.role_name,
            permissions: permission_names(r.permissions),
            description: r.description,
            color: r.color,
        }
    }
}

list_of!(
    /// A page of custom roles, newest first.
    RoleList,
    RoleView
);

#[OpenApi(tag = "ApiTags::Circuits")]
impl MembersApi {
    /// The circuit's members (members only).
    #[oai(path = "/api/circuits/:id/members", method = "get", operation_id = "list_members")]
    async fn members(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<MemberList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .members
                .members(&caller.principal, &CircuitId::parse(&id.0)?, &page)
                .await?
                .into(),
        ))
    }

    /// Add a member by `user_id` or `username` (Invite; only the Owner adds Admins; nobody grants
    /// permissions they lack).
    #[oai(path = "/api/circuits/:id/members", method = "post", operation_id = "add_member")]
    async fn add_member(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<NewMember>,
    ) -> ApiResult<Created<MemberView>> {
        let body = body.0;
        let invitee = match (body.user_id, body.username) {
            (Some(user_id), _) => Invitee::Id(UserId::parse(&user_id)?),
            (None, Some(username)) => Invitee::Username(username),
            (None, None) => return Err(crate::domain::Error::field("user_id", "give user_id or username").into()),
        };
        let member = state
            .members
            .add_member(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                invitee,
                body.role.into(),
                &caller.meta,
            )
            .await?;
        Ok(Created::Created(Json(member.into())))
    }

    /// Change a member's role or custom role (ManageMembers; no escalation, never one's own,
    /// the Owner's never).
    #[oai(
        path = "/api/circuits/:id/members/:user_id",
        method = "put",
        operation_id = "update_member"
    )]
    async fn update_member(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        user_id: Path<String>,
        body: Json<MemberChange>,
    ) -> ApiResult<Json<MemberView>> {
        let body = body.0;
        let custom_role = match body.custom_role {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(role_id) => Some(Some(role_id)),
        };
        let member = state
            .members
            .update_member(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &UserId::parse(&user_id.0)?,
                body.role.map(Into::into),
                custom_role,
                &caller.meta,
            )
            .await?;
        Ok(Json(member.into()))
    }

    /// Remove a member (ManageMembers), or leave (your own user id). The Owner cannot leave.
    #[oai(
        path = "/api/circuits/:id/members/:user_id",
        method = "delete",
        operation_id = "remove_member"
    )]
    async fn remove_member(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        user_id: Path<String>,
    ) -> ApiResult<NoContent> {
        state
            .members
            .remove_member(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &UserId::parse(&user_id.0)?,
                &caller.meta,
            )
            .await?;
        Ok(NoContent::Done)
    }

    /// Custom roles (ManageRoles).
    #[oai(path = "/api/circuits/:id/roles", method = "get", operation_id = "list_roles")]
    async fn roles(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<RoleList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .members
                .roles(&caller.principal, &CircuitId::parse(&id.0)?, &page)
                .await?
                .into(),
        ))
    }

    /// Create a custom role with a subset of the caller's permissions (ManageRoles).
    #[oai(path = "/api/circuits/:id/roles", method = "post", operation_id = "create_role")]
    async fn create_role(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<RoleBody>,
    ) -> ApiResult<Created<RoleView>> {
        let body = body.0;
        let role = state
            .members
            .save_role(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                None,
                RoleInput {
                    role_name: body.role_name,
                    permissions: permission_set(&body.permissions),
                    description: body.description,
                    color: body.color,
                },
                &caller.meta,
            )
            .await?;
        Ok(Created::Created(Json(role.into())))
    }

    /// Change a custom role (ManageRoles).
    #[oai(
        path = "/api/circuits/:id/roles/:role_id",
        method = "put",
        operation_id = "update_role"
    )]
    async fn update_role(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        role_id: Path<String>,
        body: Json<RoleBody>,
    ) -> ApiResult<Json<RoleView>> {
        let body = body.0;
        let role = state
            .members
            .save_role(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                Some(&role_id.0),
                RoleInput {
                    role_name: body.role_name,
                    permissions: permission_set(&body.permissions),
                    description: body.description,
                    color: body.color,
                },
                &caller.meta,
            )
            .await?;
        Ok(Json(role.into()))
    }

    /// Delete a custom role nobody holds (409 `role_in_use` otherwise).
    #[oai(
        path = "/api/circuits/:id/roles/:role_id",
        method = "delete",
        operation_id = "delete_role"
    )]
    async fn delete_role(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        role_id: Path<String>,
    ) -> ApiResult<NoContent> {
        state
            .members
            .delete_role(&caller.principal, &CircuitId::parse(&id.0)?, &role_id.0, &caller.meta)
            .await?;
        Ok(NoContent::Done)
    }
}
