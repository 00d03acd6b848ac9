//! Request and response shapes shared by the traceability APIs (items, events, circuits).

use poem_openapi::Object;

use crate::domain::audit::Activity;
use crate::domain::circuits::circuit::CircuitItem;
use crate::domain::circuits::operation::{Operation, OperationStatus, OperationType};
use crate::domain::circuits::roles::{Member, MemberRole, Permission, PermissionSet};
use crate::domain::items::event::{Event, LocalEvent, Visibility, format_occurred_at};
use crate::domain::items::identifier::{IdType, Identifier, IdentifierInput, Namespace, Scope};
use crate::domain::items::item::{Item, LocalItem};
use crate::domain::items::item_service::ItemView as DomainItemView;

use super::types::{JsonObject, UtcTime, list_of, mirror};

mirror!(
    /// Identifier namespace.
    NamespaceName <=> Namespace, "lowercase" { Bovino, Aves, Suino, Soja, Milho, Algodao, Cafe, Leite, Generic }
);
mirror!(
    /// `Canonical` identifiers name a registry and identify one item system-wide; `Contextual`
    /// ones are the caller's own labels.
    IdTypeName <=> IdType, "PascalCase" { Canonical, Contextual }
);
mirror!(
    /// Scope of a contextual identifier.
    ScopeName <=> Scope, "lowercase" { User, Organization, Circuit }
);
mirror!(
    /// `Public`: everyone who can see the item (and public pages); `Private`: the source and the
    /// item's owner; `CircuitOnly`: members of circuits holding the item.
    VisibilityName <=> Visibility, "PascalCase" { Public, Private, CircuitOnly }
);
mirror!(
    /// A base role in a circuit.
    RoleName <=> MemberRole, "PascalCase" { Owner, Admin, Member, Viewer }
);
mirror!(
    /// A circuit permission.
    PermissionName <=> Permission, "PascalCase" {
        Push, Pull, Invite, ManageMembers, ManagePermissions, Delete, Certify, Audit, ManageRoles
    }
);
mirror!(
    OperationTypeName <=> OperationType, "PascalCase" { Push, Pull }
);
mirror!(
    /// `Pending` waits for a manager; `Completed`, `Rejected` and `Failed` are final.
    OperationStatusName <=> OperationStatus, "PascalCase" { Pending, Completed, Rejected, Failed }
);

pub fn permission_names(set: PermissionSet) -> Vec<PermissionName> {
    set.list().into_iter().map(Into::into).collect()
}

pub fn permission_set(names: &[PermissionName]) -> PermissionSet {
    let list: Vec<Permission> = names.iter().map(|n| (*n).into()).collect();
    PermissionSet::of(&list)
}

/// An identifier as a client sends it. Without `id_type`, a registry `key` (`sisbov`, `cpf`,
/// `cnpj`, `car`, `nirf`, `ie`, `rfid`) makes it canonical; anything else is contextual.
#[derive(Debug, Clone, Object)]
pub struct IdentifierInputBody {
    #[oai(nullable)]
    pub namespace: Option<NamespaceName>,
    pub key: String,
    pub value: String,
    #[oai(nullable)]
    pub id_type: Option<IdTypeName>,
    #[oai(nullable)]
    pub scope: Option<ScopeName>,
    #[oai(nullable)]
    pub verified: Option<bool>,
}

impl From<IdentifierInputBody> for IdentifierInput {
    fn from(body: IdentifierInputBody) -> Self {
        Self {
            namespace: body.namespace.map(Into::into),
            key: body.key,
            value: body.value,
            id_type: body.id_type.map(Into::into),
            scope: body.scope.map(Into::into),
            verified: body.verified,
        }
    }
}

pub fn identifier_inputs(list: Option<Vec<IdentifierInputBody>>) -> Vec<IdentifierInput> {
    list.unwrap_or_default().into_iter().map(Into::into).collect()
}

/// A stored identifier (values normalised: CPF/CNPJ without punctuation, registries uppercase).
#[derive(Debug, Clone, Object)]
pub struct IdentifierView {
    pub namespace: NamespaceName,
    pub key: String,
    pub value: String,
    pub id_type: IdTypeName,
    #[oai(nullable)]
    pub scope: Option<ScopeName>,
    pub verified: bool,
}

impl From<Identifier> for IdentifierView {
    fn from(i: Identifier) -> Self {
        Self {
            namespace: i.namespace.into(),
            key: i.key,
            value: i.value,
            id_type: i.id_type.into(),
            scope: i.scope.map(Into::into),
            verified: i.verified,
        }
    }
}

pub fn identifier_views(list: Vec<Identifier>) -> Vec<IdentifierView> {
    list.into_iter().map(Into::into).collect()
}

/// A local item (LID): owned by its creator, not shared until pushed.
#[derive(Debug, Object)]
pub struct LocalItemView {
    pub local_id: String,
    /// `LocalOnly`, or `Tokenized` once pushed (see `dfid`).
    pub status: String,
    pub identifiers: Vec<IdentifierView>,
    pub enriched_data: JsonObject,
    #[oai(nullable)]
    pub dfid: Option<String>,
    pub created_at: UtcTime,
}

impl From<LocalItem> for LocalItemView {
    fn from(item: LocalItem) -> Self {
        Self {
            local_id: item.local_id,
            status: if item.dfid.is_some() { "Tokenized" } else { "LocalOnly" }.to_owned(),
            identifiers: identifier_views(item.identifiers),
            enriched_data: item.enriched_data.into(),
            dfid: item.dfid,
            created_at: item.created_at.into(),
        }
    }
}

list_of!(
    /// A page of local items, newest first.
    LocalItemList,
    LocalItemView
);

mirror!(
    /// A `Deprecated` item takes no more changes.
    ItemStatusName <=> crate::domain::items::item::ItemStatus, "PascalCase" { Active, Deprecated, Merged, Split }
);

/// A global item (DFID), as the caller sees it.
#[derive(Debug, Object)]
pub struct ItemResponse {
    pub dfid: String,
    pub identifiers: Vec<IdentifierView>,
    pub enriched_data: JsonObject,
    pub status: ItemStatusName,
    /// The owner: whoever minted the DFID.
    pub created_by: String,
    pub created_at: UtcTime,
    pub updated_at: UtcTime,
    /// Circuits holding the item that the caller belongs to.
    pub circuits: Vec<String>,
    /// CID of the newest stored copy, when the item lives in a circuit with a storage adapter.
    #[oai(nullable)]
    pub latest_cid: Option<String>,
    /// The caller's local item for it (owner only).
    #[oai(nullable)]
    pub local_id: Option<String>,
}

impl From<DomainItemView> for ItemResponse {
    fn from(view: DomainItemView) -> Self {
        let mut response = ItemResponse::from(view.item);
        response.circuits = view.circuits;
        response.local_id = view.local_id;
        response
    }
}

impl From<Item> for ItemResponse {
    fn from(item: Item) -> Self {
        Self {
            dfid: item.dfid,
            identifiers: identifier_views(item.identifiers),
            enriched_data: item.enriched_data.into(),
            status: item.status.into(),
            created_by: item.created_by,
            created_at: item.created_at.into(),
            updated_at: item.updated_at.into(),
            circuits: Vec::new(),
            latest_cid: item.latest_cid,
            local_id: None,
        }
    }
}

list_of!(
    /// A page of items, newest first (`circuits` is empty in lists; read one item for it).
    ItemList,
    ItemResponse
);

/// An event. Immutable: a correction is a new event.
#[derive(Debug, Object)]
pub struct EventView {
    pub event_id: String,
    pub dfid: String,
    pub event_type: String,
    pub visibility: VisibilityName,
    /// The user who recorded it.
    pub source: String,
    pub metadata: JsonObject,
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (UTC, microseconds, trailing zeros dropped).
    pub occurred_at: String,
    pub recorded_at: UtcTime,
    /// Lowercase hex SHA-256 of the RFC 8785 canonical JSON of
    /// `{dfid, event_type, source, metadata, occurred_at}`.
    pub content_hash: String,
    /// On creation: true when identical content had been recorded before; otherwise null.
    #[oai(nullable)]
    pub was_deduplicated: Option<bool>,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        Self {
            event_id: e.event_id,
            dfid: e.dfid,
            event_type: e.event_type,
            visibility: e.visibility.into(),
            source: e.source,
            metadata: JsonObject(e.metadata),
            occurred_at: format_occurred_at(e.occurred_at),
            recorded_at: e.recorded_at.into(),
            content_hash: e.content_hash,
            was_deduplicated: None,
        }
    }
}

list_of!(
    /// A page of events, newest first by `occurred_at`.
    EventList,
    EventView
);

/// A local event, not yet tied to an item.
#[derive(Debug, Object)]
pub struct LocalEventView {
    pub local_event_id: String,
    pub event_type: String,
    pub visibility: VisibilityName,
    pub metadata: JsonObject,
    pub occurred_at: String,
    pub created_at: UtcTime,
}

impl From<LocalEvent> for LocalEventView {
    fn from(e: LocalEvent) -> Self {
        Self {
            local_event_id: e.local_event_id,
            event_type: e.event_type,
            visibility: e.visibility.into(),
            metadata: JsonObject(e.metadata),
            occurred_at: format_occurred_at(e.occurred_at),
            created_at: e.created_at.into(),
        }
    }
}

list_of!(
    /// A page of local events, newest first.
    LocalEventList,
    LocalEventView
);

/// A member of a circuit.
#[derive(Debug, Object)]
pub struct MemberView {
    pub user_id: String,
    pub username: String,
    pub role: RoleName,
    /// A `role_id` of the circuit's custom roles.
    #[oai(nullable)]
    pub custom_role: Option<String>,
    /// Effective permissions: the role's plus the custom role's.
    pub permissions: Vec<PermissionName>,
    pub joined_at: UtcTime,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            permissions: permission_names(m.effective()),
            user_id: m.user_id,
            username: m.username,
            role: m.role.into(),
            custom_role: m.custom_role,
            joined_at: m.joined_at.into(),
        }
    }
}

list_of!(
    /// A page of members, newest first.
    MemberList,
    MemberView
);

/// A push or pull operation.
#[derive(Debug, Object)]
pub struct OperationView {
    pub operation_id: String,
    pub circuit_id: String,
    pub dfid: String,
    pub operation_type: OperationTypeName,
    pub requester_id: String,
    pub status: OperationStatusName,
    pub created_at: UtcTime,
    #[oai(nullable)]
    pub decided_by: Option<String>,
    #[oai(nullable)]
    pub decided_at: Option<UtcTime>,
    #[oai(nullable)]
    pub reason: Option<String>,
}

impl From<Operation> for OperationView {
    fn from(op: Operation) -> Self {
        Self {
            operation_id: op.operation_id,
            circuit_id: op.circuit_id,
            dfid: op.dfid,
            operation_type: op.operation_type.into(),
            requester_id: op.requester_id,
            status: op.status.into(),
            created_at: op.created_at.into(),
            decided_by: op.decided_by,
            decided_at: op.decided_at.map(UtcTime),
            reason: op.reason,
        }
    }
}

list_of!(
    /// A page of operations, newest first.
    OperationList,
    OperationView
);

/// An item in a circuit.
#[derive(Debug, Object)]
pub struct CircuitItemView {
    pub dfid: String,
    pub pushed_by: String,
    pub pushed_at: UtcTime,
}

impl From<CircuitItem> for CircuitItemView {
    fn from(i: CircuitItem) -> Self {
        Self {
            dfid: i.dfid,
            pushed_by: i.pushed_by,
            pushed_at: i.pushed_at.into(),
        }
    }
}

list_of!(
    /// A page of a circuit's items, newest first.
    CircuitItemList,
    CircuitItemView
);

/// Something the caller did, or that happened in one of their circuits.
#[derive(Debug, Object)]
pub struct ActivityView {
    pub id: String,
    pub activity_type: String,
    pub actor_id: String,
    #[oai(nullable)]
    pub circuit_id: Option<String>,
    #[oai(nullable)]
    pub dfid: Option<String>,
    #[oai(nullable)]
    pub operation_id: Option<String>,
    pub summary: String,
    pub at: UtcTime,
}

impl From<Activity> for ActivityView {
    fn from(a: Activity) -> Self {
        Self {
            id: a.id,
            activity_type: a.activity_type,
            actor_id: a.actor_id,
            circuit_id: a.circuit_id,
            dfid: a.dfid,
            operation_id: a.operation_id,
            summary: a.summary,
            at: a.at.into(),
        }
    }
}

list_of!(
    /// A page of activities, newest first.
    ActivityList,
    ActivityView
);
