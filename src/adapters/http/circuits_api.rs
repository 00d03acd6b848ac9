//! `/api/circuits`: circuits themselves (create, read, settings, deactivate), the items and
//! operations a member lists in one, and `/api/activities`.

use crate::domain::circuits::circuit::CircuitId;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{Created, NoContent, UtcTime, list_of, page};
use super::views::{
    ActivityList, CircuitItemList, NamespaceName, OperationList, OperationStatusName, PermissionName, RoleName,
    permission_names,
};
use super::{ApiTags, State};
use crate::domain::circuits::circuit::{AliasConfig, Circuit, CircuitSettings};
use crate::domain::circuits::circuit_service::{CircuitPatch, CircuitView, NewCircuit};
use crate::domain::circuits::public_page::{AccessMode, PublicSettings};

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
    /// Default `none`.
    #[oai(nullable)]
    adapter_type: Option<String>,
}

#[derive(Object)]
struct CircuitChange {
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
pub(super) enum AccessModeName {
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
pub(super) struct PublicSettingsView {
    enabled: bool,
    access_mode: AccessModeName,
    requires_password: bool,
    #[oai(nullable)]
    scheduled_date: Option<UtcTime>,
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
    public_since: Option<UtcTime>,
}

impl From<PublicSettings> for PublicSettingsView {
    fn from(p: PublicSettings) -> Self {
        Self {
            enabled: p.enabled,
            access_mode: p.access_mode.into(),
            requires_password: p.access_mode == AccessMode::Protected,
            scheduled_date: p.scheduled_date.map(UtcTime),
            public_name: p.public_name,
            public_description: p.public_description,
            primary_color: p.primary_color,
            secondary_color: p.secondary_color,
            logo_url: p.logo_url,
            tagline: p.tagline,
            footer_text: p.footer_text,
            auto_publish_pushed_items: p.auto_publish_pushed_items,
            auto_approve_members: p.auto_approve_members,
            public_since: p.public_since.map(UtcTime),
        }
    }
}

super::types::mirror!(
    /// An `Inactive` circuit takes no more pushes, pulls or members.
    CircuitStatusName <=> crate::domain::circuits::circuit::CircuitStatus, "PascalCase" { Active, Inactive }
);

/// A circuit, as one of its members sees it.
#[derive(Object)]
pub(super) struct CircuitResponse {
    circuit_id: String,
    name: String,
    #[oai(nullable)]
    description: Option<String>,
    owner_id: String,
    status: CircuitStatusName,
    permissions: CircuitPermissions,
    alias_config: AliasConfigBody,
    adapter_config: AdapterConfig,
    #[oai(nullable)]
    public_settings: Option<PublicSettingsView>,
    member_count: u64,
    item_count: u64,
    created_at: UtcTime,
    updated_at: UtcTime,
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
            status: c.status.into(),
            permissions: c.settings.into(),
            alias_config: c.alias_config.into(),
            adapter_config: AdapterConfig {
                adapter_type: c.adapter_type,
            },
            public_settings: c.public.map(Into::into),
            member_count: view.member_count,
            item_count: view.item_count,
            created_at: c.created_at.into(),
            updated_at: c.updated_at.into(),
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
    status: CircuitStatusName,
    permissions: CircuitPermissions,
    adapter_type: String,
    created_at: UtcTime,
    updated_at: UtcTime,
}

impl From<Circuit> for CircuitSummary {
    fn from(c: Circuit) -> Self {
        Self {
            circuit_id: c.circuit_id,
            name: c.name,
            description: c.description,
            owner_id: c.owner_id,
            status: c.status.into(),
            permissions: c.settings.into(),
            adapter_type: c.adapter_type,
            created_at: c.created_at.into(),
            updated_at: c.updated_at.into(),
        }
    }
}

list_of!(
    /// A page of the caller's circuits, newest first.
    CircuitList,
    CircuitSummary
);

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
        Ok(Json(
            state
                .circuits
                .get(&caller.principal, &CircuitId::parse(&id.0)?)
                .await?
                .into(),
        ))
    }

    /// Change name, description, permissions or alias config (ManagePermissions).
    #[oai(path = "/api/circuits/:id", method = "put", operation_id = "update_circuit")]
    async fn update(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<CircuitChange>,
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
                .update(&caller.principal, &CircuitId::parse(&id.0)?, patch, &caller.meta)
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
                .deactivate(&caller.principal, &CircuitId::parse(&id.0)?, &caller.meta)
                .await?
                .into(),
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
            state
                .circuits
                .items(&caller.principal, &CircuitId::parse(&id.0)?, &page)
                .await?
                .into(),
        ))
    }

    /// Takes an item out of the circuit (and off its public page): the item's owner, or a member
    /// holding `Delete`. Its events stay; rights that came only through this circuit end at once.
    /// Another member: 403; anyone else, or an item the circuit does not hold: 404.
    #[oai(
        path = "/api/circuits/:id/items/:dfid",
        method = "delete",
        operation_id = "remove_circuit_item"
    )]
    async fn remove_item(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        dfid: Path<String>,
    ) -> ApiResult<NoContent> {
        state
            .circuits
            .remove_item(&caller.principal, &CircuitId::parse(&id.0)?, &dfid.0)
            .await?;
        Ok(NoContent::Done)
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
                .operations(
                    &caller.principal,
                    &CircuitId::parse(&id.0)?,
                    status.0.map(Into::into),
                    &page,
                )
                .await?
                .into(),
        ))
    }
}

/// The activity feed, under its own tag.
pub struct ActivitiesApi;

#[OpenApi(tag = "ApiTags::Activities")]
impl ActivitiesApi {
    /// What the caller did, and what happened in their circuits (or in one of them).
    #[oai(path = "/api/activities", method = "get", operation_id = "list_activities")]
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
