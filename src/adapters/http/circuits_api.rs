//! `/api/circuits`: circuits, members, roles, join requests, push/pull with approvals, public
//! pages; and `/api/activities`.

use chrono::{DateTime, Utc};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::Value;

use super::caller::{Caller, PublicClient};
use super::error::ApiResult;
use super::types::{list_of, page};
use super::views::{
    ActivityList, CircuitItemList, EventView, IdentifierInputBody, IdentifierView, ItemResponse, MemberList,
    MemberView, NamespaceName, OperationList, OperationStatusName, OperationView, PermissionName, RoleName,
    identifier_inputs, identifier_views, permission_names, permission_set,
};
use super::{ApiTags, State};
use crate::domain::circuits::circuit::{
    AccessMode, AliasConfig, Circuit, CircuitSettings, CustomRole, JoinRequest, PublicSettings,
};
use crate::domain::circuits::circuit_service::{
    CircuitPatch, CircuitView, NewCircuit, PublicJoin, PublicPage, PublicSettingsInput,
};
use crate::domain::circuits::operation::Decision;
use crate::domain::circuits::push_service::PushLocalResult;

pub struct CircuitsApi;

/// Approval gates and public visibility.
#[derive(Object, Clone, Copy)]
struct CircuitPermissions {
    /// Pushes by anyone but the Owner wait for a manager's approval.
    #[oai(default)]
    require_approval_for_push: bool,
    /// Pulls by anyone but the Owner wait for a manager's approval.
    #[oai(default)]
    require_approval_for_pull: bool,
    /// Needed for a public page and for the `ipfs-ipfs` adapter.
    #[oai(default)]
    allow_public_visibility: bool,
}

impl From<CircuitPermissions> for CircuitSettings {
    fn from(p: CircuitPermissions) -> Self {
        Self {
            require_approval_for_push: p.require_approval_for_push,
            require_approval_for_pull: p.require_approval_for_pull,
            allow_public_visibility: p.allow_public_visibility,
        }
    }
}

impl From<CircuitSettings> for CircuitPermissions {
    fn from(s: CircuitSettings) -> Self {
        Self {
            require_approval_for_push: s.require_approval_for_push,
            require_approval_for_pull: s.require_approval_for_pull,
            allow_public_visibility: s.allow_public_visibility,
        }
    }
}

/// What push-local requires of an item's identifiers (400 with details when missing).
#[derive(Object, Clone)]
struct AliasConfigBody {
    /// Registries an item must carry a canonical identifier of.
    #[oai(default)]
    required_canonical: Vec<String>,
    /// Keys an item must carry a contextual identifier of.
    #[oai(default)]
    required_contextual: Vec<String>,
    #[oai(nullable)]
    allowed_namespaces: Option<Vec<NamespaceName>>,
    /// Namespace for identifiers pushed without one.
    #[oai(nullable)]
    default_namespace: Option<NamespaceName>,
}

impl From<AliasConfigBody> for AliasConfig {
    fn from(b: AliasConfigBody) -> Self {
        Self {
            required_canonical: b.required_canonical,
            required_contextual: b.required_contextual,
            allowed_namespaces: b
                .allowed_namespaces
                .map(|list| list.into_iter().map(Into::into).collect()),
            default_namespace: b.default_namespace.map(Into::into),
        }
    }
}

impl From<AliasConfig> for AliasConfigBody {
    fn from(c: AliasConfig) -> Self {
        Self {
            required_canonical: c.required_canonical,
            required_contextual: c.required_contextual,
            allowed_namespaces: c
                .allowed_namespaces
                .map(|list| list.into_iter().map(Into::into).collect()),
            default_namespace: c.default_namespace.map(Into::into),
        }
    }
}

#[derive(Object)]
struct NewCircuitBody {
    name: String,
    #[oai(nullable)]
    description: Option<String>,
    #[oai(nullable)]
    permissions: Option<CircuitPermissions>,
    #[oai(nullable)]
    alias_config: Option<AliasConfigBody>,
    /// `none` (default), `local`, `ipfs-ipfs`, `stellar_testnet-ipfs`, `stellar_mainnet-ipfs`.
    #[oai(nullable)]
    adapter_type: Option<String>,
}

#[derive(Object)]
struct UpdateCircuitBody {
    #[oai(nullable)]
    name: Option<String>,
    #[oai(nullable)]
    description: Option<String>,
    #[oai(nullable)]
    permissions: Option<CircuitPermissions>,
    #[oai(nullable)]
    alias_config: Option<AliasConfigBody>,
}

#[derive(Object)]
struct AdapterConfig {
    adapter_type: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "PascalCase")]
enum AccessModeName {
    /// Open to everyone.
    Public,
    /// Readers send `X-Access-Password`.
    Protected,
    /// Open from `scheduled_date`.
    Scheduled,
}

impl From<AccessModeName> for AccessMode {
    fn from(m: AccessModeName) -> Self {
        match m {
            AccessModeName::Public => AccessMode::Public,
            AccessModeName::Protected => AccessMode::Protected,
            AccessModeName::Scheduled => AccessMode::Scheduled,
        }
    }
}

impl From<AccessMode> for AccessModeName {
    fn from(m: AccessMode) -> Self {
        match m {
            AccessMode::Public => AccessModeName::Public,
            AccessMode::Protected => AccessModeName::Protected,
            AccessMode::Scheduled => AccessModeName::Scheduled,
        }
    }
}

/// A circuit's public page settings, as managers see them (the password never comes back).
#[derive(Object)]
struct PublicSettingsView {
    enabled: bool,
    access_mode: AccessModeName,
    requires_password: bool,
    #[oai(nullable)]
    scheduled_date: Option<DateTime<Utc>>,
    public_name: String,
    #[oai(nullable)]
    public_description: Option<String>,
    #[oai(nullable)]
    primary_color: Option<String>,
    #[oai(nullable)]
    secondary_color: Option<String>,
    #[oai(nullable)]
    logo_url: Option<String>,
    #[oai(nullable)]
    tagline: Option<String>,
    #[oai(nullable)]
    footer_text: Option<String>,
    auto_publish_pushed_items: bool,
    auto_approve_members: bool,
    #[oai(nullable)]
    public_since: Option<DateTime<Utc>>,
}

impl From<PublicSettings> for PublicSettingsView {
    fn from(p: PublicSettings) -> Self {
        Self {
            enabled: p.enabled,
            access_mode: p.access_mode.into(),
            requires_password: p.access_mode == AccessMode::Protected,
            scheduled_date: p.scheduled_date,
            public_name: p.public_name,
            public_description: p.public_description,
            primary_color: p.primary_color,
            secondary_color: p.secondary_color,
            logo_url: p.logo_url,
            tagline: p.tagline,
            footer_text: p.footer_text,
            auto_publish_pushed_items: p.auto_publish_pushed_items,
            auto_approve_members: p.auto_approve_members,
            public_since: p.public_since,
        }
    }
}

/// A circuit, as one of its members sees it.
#[derive(Object)]
struct CircuitResponse {
    circuit_id: String,
    name: String,
    #[oai(nullable)]
    description: Option<String>,
    owner_id: String,
    /// `Active` or `Inactive`.
    status: String,
    permissions: CircuitPermissions,
    alias_config: AliasConfigBody,
    adapter_config: AdapterConfig,
    #[oai(nullable)]
    public_settings: Option<PublicSettingsView>,
    member_count: u64,
    item_count: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    my_role: RoleName,
    my_permissions: Vec<PermissionName>,
}

impl From<CircuitView> for CircuitResponse {
    fn from(view: CircuitView) -> Self {
        let c = view.circuit;
        Self {
            circuit_id: c.circuit_id,
            name: c.name,
            description: c.description,
            owner_id: c.owner_id,
            status: c.status.as_str().to_owned(),
            permissions: c.settings.into(),
            alias_config: c.alias_config.into(),
            adapter_config: AdapterConfig {
                adapter_type: c.adapter_type,
            },
            public_settings: c.public.map(Into::into),
            member_count: view.member_count,
            item_count: view.item_count,
            created_at: c.created_at,
            updated_at: c.updated_at,
            my_role: view.my_role.into(),
            my_permissions: permission_names(view.my_permissions),
        }
    }
}

/// A circuit in a list.
#[derive(Object)]
pub struct CircuitSummary {
    circuit_id: String,
    name: String,
    #[oai(nullable)]
    description: Option<String>,
    owner_id: String,
    status: String,
    permissions: CircuitPermissions,
    adapter_type: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Circuit> for CircuitSummary {
    fn from(c: Circuit) -> Self {
        Self {
            circuit_id: c.circuit_id,
            name: c.name,
            description: c.description,
            owner_id: c.owner_id,
            status: c.status.as_str().to_owned(),
            permissions: c.settings.into(),
            adapter_type: c.adapter_type,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

list_of!(
    /// A page of the caller's circuits, newest first.
    CircuitList,
    CircuitSummary
);

#[derive(Object)]
struct AddMemberBody {
    #[oai(nullable)]
    user_id: Option<String>,
    #[oai(nullable)]
    username: Option<String>,
    /// `Admin` (Owner only), `Member` or `Viewer`.
    role: RoleName,
}

#[derive(Object)]
struct UpdateMemberBody {
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

#[derive(Object)]
struct JoinRequestBody {
    #[oai(nullable)]
    message: Option<String>,
}

#[derive(Object)]
struct ApproveRequestBody {
    /// Default `Member`; `Admin` only by the Owner.
    #[oai(nullable)]
    role: Option<RoleName>,
}

#[derive(Object)]
struct ReasonBody {
    #[oai(nullable)]
    reason: Option<String>,
}

/// A request to join a circuit.
#[derive(Object)]
pub struct JoinRequestView {
    circuit_id: String,
    user_id: String,
    username: String,
    #[oai(nullable)]
    message: Option<String>,
    /// `Pending`, `Approved` or `Rejected`.
    status: String,
    created_at: DateTime<Utc>,
    #[oai(nullable)]
    decided_by: Option<String>,
    #[oai(nullable)]
    decided_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    reason: Option<String>,
}

impl From<JoinRequest> for JoinRequestView {
    fn from(r: JoinRequest) -> Self {
        Self {
            circuit_id: r.circuit_id,
            user_id: r.user_id,
            username: r.username,
            message: r.message,
            status: r.status.as_str().to_owned(),
            created_at: r.created_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            reason: r.reason,
        }
    }
}

list_of!(
    /// A page of pending join requests, newest first.
    JoinRequestList,
    JoinRequestView
);

#[derive(Object)]
struct PushLocalBody {
    local_id: String,
    /// Added to the local item's identifiers.
    #[oai(nullable)]
    identifiers: Option<Vec<IdentifierInputBody>>,
    /// Merged over the local item's data (these win; null never deletes).
    #[oai(nullable)]
    enriched_data: Option<Value>,
}

/// The outcome of push-local.
#[derive(Object)]
struct PushLocalResponse {
    dfid: String,
    local_id: String,
    /// `NewItemCreated` (201), `ExistingItemEnriched` (a canonical identifier named an item the
    /// caller may change; 200), or `AlreadyPushed` (this local item is in this circuit already,
    /// nothing changed; 200).
    status: String,
    operation_id: String,
    operation_status: OperationStatusName,
}

impl From<PushLocalResult> for PushLocalResponse {
    fn from(r: PushLocalResult) -> Self {
        Self {
            dfid: r.dfid,
            local_id: r.local_id,
            status: r.outcome.as_str().to_owned(),
            operation_id: r.operation.operation_id,
            operation_status: r.operation.status.into(),
        }
    }
}

#[derive(Object)]
struct PullResponse {
    item: ItemResponse,
    /// The item's events the caller may see.
    events: Vec<EventView>,
    operation: OperationView,
}

#[derive(Object)]
struct PublicSettingsBody {
    /// `true` needs the circuit's `allow_public_visibility` (409 otherwise).
    enabled: bool,
    access_mode: AccessModeName,
    /// Required for `Protected`; omitted keeps the current one. Stored hashed.
    #[oai(nullable)]
    access_password: Option<String>,
    /// Required for `Scheduled`: the page opens then.
    #[oai(nullable)]
    scheduled_date: Option<DateTime<Utc>>,
    public_name: String,
    #[oai(nullable)]
    public_description: Option<String>,
    #[oai(nullable)]
    primary_color: Option<String>,
    #[oai(nullable)]
    secondary_color: Option<String>,
    #[oai(nullable)]
    logo_url: Option<String>,
    #[oai(nullable)]
    tagline: Option<String>,
    #[oai(nullable)]
    footer_text: Option<String>,
    /// DFIDs of items in this circuit (400 otherwise).
    #[oai(default)]
    published_items: Vec<String>,
    #[oai(default)]
    auto_publish_pushed_items: bool,
    #[oai(default)]
    auto_approve_members: bool,
}

/// A published item: canonical identifiers and `Public` events only.
#[derive(Object)]
struct PublishedItemView {
    dfid: String,
    identifiers: Vec<IdentifierView>,
    events: Vec<EventView>,
}

/// A circuit's public page.
#[derive(Object)]
struct PublicPageView {
    circuit_id: String,
    public_name: String,
    #[oai(nullable)]
    public_description: Option<String>,
    #[oai(nullable)]
    primary_color: Option<String>,
    #[oai(nullable)]
    secondary_color: Option<String>,
    #[oai(nullable)]
    logo_url: Option<String>,
    #[oai(nullable)]
    tagline: Option<String>,
    #[oai(nullable)]
    footer_text: Option<String>,
    access_mode: AccessModeName,
    requires_password: bool,
    member_count: u64,
    published_items: Vec<PublishedItemView>,
    #[oai(nullable)]
    public_since: Option<DateTime<Utc>>,
}

impl From<PublicPage> for PublicPageView {
    fn from(page: PublicPage) -> Self {
        let s = page.settings;
        Self {
            circuit_id: page.circuit_id,
            public_name: s.public_name,
            public_description: s.public_description,
            primary_color: s.primary_color,
            secondary_color: s.secondary_color,
            logo_url: s.logo_url,
            tagline: s.tagline,
            footer_text: s.footer_text,
            requires_password: s.access_mode == AccessMode::Protected,
            access_mode: s.access_mode.into(),
            member_count: page.member_count,
            published_items: page
                .published_items
                .into_iter()
                .map(|item| PublishedItemView {
                    dfid: item.dfid,
                    identifiers: identifier_views(item.identifiers),
                    events: item.events.into_iter().map(Into::into).collect(),
                })
                .collect(),
            public_since: s.public_since,
        }
    }
}

#[derive(Object)]
struct PublicJoinBody {
    /// For `Protected` pages.
    #[oai(nullable)]
    access_password: Option<String>,
    #[oai(nullable)]
    message: Option<String>,
}

/// The outcome of joining through a public page.
#[derive(Object)]
struct PublicJoinResponse {
    /// `Joined` (auto-approved as `Member`) or `Pending` (a join request awaits a manager).
    status: String,
    #[oai(nullable)]
    member: Option<MemberView>,
    #[oai(nullable)]
    request: Option<JoinRequestView>,
}

#[derive(ApiResponse)]
enum Created<T: poem_openapi::types::ToJSON> {
    /// Created.
    #[oai(status = 201)]
    Created(Json<T>),
}

#[derive(ApiResponse)]
enum CreatedOrExisting<T: poem_openapi::types::ToJSON> {
    /// Created.
    #[oai(status = 201)]
    Created(Json<T>),
    /// Already there; this is the existing one.
    #[oai(status = 200)]
    Existing(Json<T>),
}

impl<T: poem_openapi::types::ToJSON> CreatedOrExisting<T> {
    fn new(created: bool, body: T) -> Self {
        if created {
            Self::Created(Json(body))
        } else {
            Self::Existing(Json(body))
        }
    }
}

#[derive(ApiResponse)]
enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(tag = "ApiTags::Circuits")]
impl CircuitsApi {
    /// Create a circuit; the caller is its Owner (tier limit on circuits owned: 403
    /// `tier_limit_exceeded`).
    #[oai(path = "/api/circuits", method = "post", operation_id = "create_circuit")]
    async fn create(
        &self,
        state: State<'_>,
        caller: Caller,
        body: Json<NewCircuitBody>,
    ) -> ApiResult<Created<CircuitResponse>> {
        let body = body.0;
        let input = NewCircuit {
            name: body.name,
            description: body.description,
            settings: body.permissions.map(Into::into),
            alias_config: body.alias_config.map(Into::into),
            adapter_type: body.adapter_type,
        };
        let view = state.circuits.create(&caller.principal, input, &caller.meta).await?;
        Ok(Created::Created(Json(view.into())))
    }

    /// Circuits the caller belongs to.
    #[oai(path = "/api/circuits", method = "get", operation_id = "list_circuits")]
    async fn list(
        &self,
        state: State<'_>,
        caller: Caller,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<CircuitList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.circuits.list(&caller.principal, &page).await?.into()))
    }

    /// One circuit, with the caller's role and permissions (members only).
    #[oai(path = "/api/circuits/:id", method = "get", operation_id = "get_circuit")]
    async fn get(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Json<CircuitResponse>> {
        Ok(Json(state.circuits.get(&caller.principal, &id.0).await?.into()))
    }

    /// Change name, description, permissions or alias config (ManagePermissions).
    #[oai(path = "/api/circuits/:id", method = "put", operation_id = "update_circuit")]
    async fn update(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<UpdateCircuitBody>,
    ) -> ApiResult<Json<CircuitResponse>> {
        let body = body.0;
        let patch = CircuitPatch {
            name: body.name,
            description: body.description,
            settings: body.permissions.map(Into::into),
            alias_config: body.alias_config.map(Into::into),
        };
        Ok(Json(
            state
                .circuits
                .update(&caller.principal, &id.0, patch, &caller.meta)
                .await?
                .into(),
        ))
    }

    /// Deactivate (Owner): pushes then get 409 `circuit_inactive`.
    #[oai(
        path = "/api/circuits/:id/deactivate",
        method = "post",
        operation_id = "deactivate_circuit"
    )]
    async fn deactivate(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Json<CircuitResponse>> {
        Ok(Json(
            state
                .circuits
                .deactivate(&caller.principal, &id.0, &caller.meta)
                .await?
                .into(),
        ))
    }

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
            state.circuits.members(&caller.principal, &id.0, &page).await?.into(),
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
        body: Json<AddMemberBody>,
    ) -> ApiResult<Created<MemberView>> {
        let body = body.0;
        let user = body
            .user_id
            .or(body.username)
            .ok_or_else(|| crate::domain::Error::field("user_id", "give user_id or username"))?;
        let member = state
            .circuits
            .add_member(&caller.principal, &id.0, &user, body.role.into(), &caller.meta)
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
        body: Json<UpdateMemberBody>,
    ) -> ApiResult<Json<MemberView>> {
        let body = body.0;
        let custom_role = match body.custom_role {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(role_id) => Some(Some(role_id)),
        };
        let member = state
            .circuits
            .update_member(
                &caller.principal,
                &id.0,
                &user_id.0,
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
            .circuits
            .remove_member(&caller.principal, &id.0, &user_id.0, &caller.meta)
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
            state.circuits.roles(&caller.principal, &id.0, &page).await?.into(),
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
            .circuits
            .save_role(
                &caller.principal,
                &id.0,
                None,
                body.role_name,
                permission_set(&body.permissions),
                body.description,
                body.color,
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
            .circuits
            .save_role(
                &caller.principal,
                &id.0,
                Some(&role_id.0),
                body.role_name,
                permission_set(&body.permissions),
                body.description,
                body.color,
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
            .circuits
            .delete_role(&caller.principal, &id.0, &role_id.0, &caller.meta)
            .await?;
        Ok(NoContent::Done)
    }

    /// Ask to join (non-members, where the circuit's public page is open); managers are notified.
    #[oai(
        path = "/api/circuits/:id/requests",
        method = "post",
        operation_id = "request_to_join"
    )]
    async fn request_to_join(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<JoinRequestBody>,
    ) -> ApiResult<Created<JoinRequestView>> {
        let request = state
            .circuits
            .request_to_join(&caller.principal, &id.0, body.0.message)
            .await?;
        Ok(Created::Created(Json(request.into())))
    }

    /// Pending join requests (ManageMembers).
    #[oai(
        path = "/api/circuits/:id/requests",
        method = "get",
        operation_id = "list_join_requests"
    )]
    async fn join_requests(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<JoinRequestList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .circuits
                .join_requests(&caller.principal, &id.0, &page)
                .await?
                .into(),
        ))
    }

    /// Approve a join request (ManageMembers); the requester is notified.
    #[oai(
        path = "/api/circuits/:id/requests/:user_id/approve",
        method = "post",
        operation_id = "approve_join_request"
    )]
    async fn approve_request(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        user_id: Path<String>,
        body: Json<ApproveRequestBody>,
    ) -> ApiResult<Json<JoinRequestView>> {
        let request = state
            .circuits
            .decide_request(
                &caller.principal,
                &id.0,
                &user_id.0,
                true,
                body.0.role.map(Into::into),
                None,
                &caller.meta,
            )
            .await?;
        Ok(Json(request.into()))
    }

    /// Reject a join request (ManageMembers); the requester is notified.
    #[oai(
        path = "/api/circuits/:id/requests/:user_id/reject",
        method = "post",
        operation_id = "reject_join_request"
    )]
    async fn reject_request(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        user_id: Path<String>,
        body: Json<ReasonBody>,
    ) -> ApiResult<Json<JoinRequestView>> {
        let request = state
            .circuits
            .decide_request(
                &caller.principal,
                &id.0,
                &user_id.0,
                false,
                None,
                body.0.reason,
                &caller.meta,
            )
            .await?;
        Ok(Json(request.into()))
    }

    /// Tokenize one of the caller's local items and push it here (Push). The DFID is minted or
    /// resolved by canonical identifier at once; with `require_approval_for_push` the item joins
    /// the circuit only when a manager approves the pending operation.
    #[oai(path = "/api/circuits/:id/push-local", method = "post", operation_id = "push_local")]
    async fn push_local(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<PushLocalBody>,
    ) -> ApiResult<CreatedOrExisting<PushLocalResponse>> {
        let body = body.0;
        let result = state
            .push
            .push_local(
                &caller.principal,
                &id.0,
                &body.local_id,
                identifier_inputs(body.identifiers),
                body.enriched_data,
            )
            .await?;
        let created = result.outcome == crate::domain::circuits::push_service::PushOutcome::NewItemCreated;
        Ok(CreatedOrExisting::new(created, result.into()))
    }

    /// Push an existing item the caller may change into this circuit (Push).
    #[oai(path = "/api/circuits/:id/push/:dfid", method = "post", operation_id = "push_item")]
    async fn push(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        dfid: Path<String>,
    ) -> ApiResult<CreatedOrExisting<OperationView>> {
        let result = state.push.push(&caller.principal, &id.0, &dfid.0).await?;
        Ok(CreatedOrExisting::new(result.created, result.operation.into()))
    }

    /// Pull an item of this circuit (Pull): the caller keeps read access to it.
    #[oai(path = "/api/circuits/:id/pull/:dfid", method = "post", operation_id = "pull_item")]
    async fn pull(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        dfid: Path<String>,
    ) -> ApiResult<CreatedOrExisting<PullResponse>> {
        let result = state.push.pull(&caller.principal, &id.0, &dfid.0).await?;
        Ok(CreatedOrExisting::new(
            result.created,
            PullResponse {
                item: result.item.into(),
                events: result.events.into_iter().map(Into::into).collect(),
                operation: result.operation.into(),
            },
        ))
    }

    /// The circuit's items (members only).
    #[oai(
        path = "/api/circuits/:id/items",
        method = "get",
        operation_id = "list_circuit_items"
    )]
    async fn items(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<CircuitItemList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state.circuits.items(&caller.principal, &id.0, &page).await?.into(),
        ))
    }

    /// Push and pull operations (members only), optionally by status.
    #[oai(
        path = "/api/circuits/:id/operations",
        method = "get",
        operation_id = "list_operations"
    )]
    async fn operations(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        status: Query<Option<OperationStatusName>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<OperationList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .circuits
                .operations(&caller.principal, &id.0, status.0.map(Into::into), &page)
                .await?
                .into(),
        ))
    }

    /// Approve a pending operation (ManageMembers; never your own).
    #[oai(
        path = "/api/circuits/:id/operations/:operation_id/approve",
        method = "post",
        operation_id = "approve_operation"
    )]
    async fn approve(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        operation_id: Path<String>,
        body: Json<ReasonBody>,
    ) -> ApiResult<Json<OperationView>> {
        let op = state
            .push
            .decide(
                &caller.principal,
                &id.0,
                &operation_id.0,
                Decision::Approve,
                body.0.reason,
            )
            .await?;
        Ok(Json(op.into()))
    }

    /// Reject a pending operation (ManageMembers; never your own). Nothing enters the circuit.
    #[oai(
        path = "/api/circuits/:id/operations/:operation_id/reject",
        method = "post",
        operation_id = "reject_operation"
    )]
    async fn reject(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        operation_id: Path<String>,
        body: Json<ReasonBody>,
    ) -> ApiResult<Json<OperationView>> {
        let op = state
            .push
            .decide(
                &caller.principal,
                &id.0,
                &operation_id.0,
                Decision::Reject,
                body.0.reason,
            )
            .await?;
        Ok(Json(op.into()))
    }

    /// Replace the public page settings (ManagePermissions).
    #[oai(
        path = "/api/circuits/:id/public-settings",
        method = "put",
        operation_id = "set_public_settings"
    )]
    async fn set_public_settings(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<PublicSettingsBody>,
    ) -> ApiResult<Json<CircuitResponse>> {
        let b = body.0;
        let input = PublicSettingsInput {
            enabled: b.enabled,
            access_mode: b.access_mode.into(),
            access_password: b.access_password,
            scheduled_date: b.scheduled_date,
            public_name: b.public_name,
            public_description: b.public_description,
            primary_color: b.primary_color,
            secondary_color: b.secondary_color,
            logo_url: b.logo_url,
            tagline: b.tagline,
            footer_text: b.footer_text,
            published_items: b.published_items,
            auto_publish_pushed_items: b.auto_publish_pushed_items,
            auto_approve_members: b.auto_approve_members,
        };
        Ok(Json(
            state
                .circuits
                .set_public_settings(&caller.principal, &id.0, input, &caller.meta)
                .await?
                .into(),
        ))
    }

    /// The public page, without credentials: 404 unless enabled (and, for `Scheduled`, past
    /// its date); `Protected` pages need `X-Access-Password` (401 `access_password_required`).
    #[oai(path = "/api/circuits/:id/public", method = "get", operation_id = "get_public_page")]
    async fn public_page(
        &self,
        state: State<'_>,
        _client: PublicClient,
        id: Path<String>,
        #[oai(name = "X-Access-Password")] access_password: Header<Option<String>>,
    ) -> ApiResult<Json<PublicPageView>> {
        Ok(Json(
            state
                .circuits
                .public_page(&id.0, access_password.0.as_deref())
                .await?
                .into(),
        ))
    }

    /// Join through the public page: immediately as `Member` when the page auto-approves,
    /// as a join request otherwise.
    #[oai(
        path = "/api/circuits/:id/public/join",
        method = "post",
        operation_id = "join_public_circuit"
    )]
    async fn public_join(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<PublicJoinBody>,
    ) -> ApiResult<Created<PublicJoinResponse>> {
        let body = body.0;
        let joined = state
            .circuits
            .public_join(
                &caller.principal,
                &id.0,
                body.access_password.as_deref(),
                body.message,
                &caller.meta,
            )
            .await?;
        let response = match joined {
            PublicJoin::Joined(member) => PublicJoinResponse {
                status: "Joined".to_owned(),
                member: Some(member.into()),
                request: None,
            },
            PublicJoin::Requested(request) => PublicJoinResponse {
                status: "Pending".to_owned(),
                member: None,
                request: Some(request.into()),
            },
        };
        Ok(Created::Created(Json(response)))
    }

    /// What the caller did, and what happened in their circuits (or in one of them).
    #[oai(
        path = "/api/activities",
        method = "get",
        operation_id = "list_activities",
        tag = "ApiTags::Activities"
    )]
    async fn activities(
        &self,
        state: State<'_>,
        caller: Caller,
        circuit_id: Query<Option<String>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ActivityList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .circuits
                .activities(&caller.principal, circuit_id.0.as_deref(), &page)
                .await?
                .into(),
        ))
    }
}
