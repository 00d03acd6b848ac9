//! Circuits: creation, settings, deactivation, and what a member lists in one (items, operations,
//! the activity feed).

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::partners::storage::adapter_types;
use std::sync::Arc;

use serde_json::json;

use crate::domain::audit::ports::ActivityRepo;
use crate::domain::audit::{Activity, AuditEntry};
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit::{AliasConfig, Circuit, CircuitItem, CircuitSettings, CircuitStatus};
use crate::domain::circuits::fields::{optional_text, text};
use crate::domain::circuits::membership::circuit_member;
use crate::domain::circuits::operation::{Operation, OperationStatus};
use crate::domain::circuits::ports::{CircuitItemRepo, CircuitRepo, MemberRepo, OperationRepo};
use crate::domain::circuits::roles::{Member, MemberRole, Permission, PermissionSet};
use crate::domain::identity::access::{Principal, RequestMeta, TierPolicy};
use crate::domain::items::dfid::Dfid;
use crate::domain::items::event::{Event, EventTimes, Visibility};
use crate::domain::items::ports::ItemRepo;
use crate::domain::page::{Page, PageRequest};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What circuit use cases need from storage.
    pub trait CircuitStore: UnitOfWork, CircuitRepo, MemberRepo, CircuitItemRepo, OperationRepo, ActivityRepo, ItemRepo
);

pub struct CircuitService {
    pub(crate) store: Arc<dyn CircuitStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) policy: TierPolicy,
    /// Adapter types this server can reach (`none` and `local` always).
    pub(crate) available_adapters: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewCircuit {
    pub name: String,
    pub description: Option<String>,
    pub settings: Option<CircuitSettings>,
    pub alias_config: Option<AliasConfig>,
    pub adapter_type: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CircuitPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub settings: Option<CircuitSettings>,
    pub alias_config: Option<AliasConfig>,
}

/// A circuit as one member sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitView {
    pub circuit: Circuit,
    pub my_role: MemberRole,
    pub my_permissions: PermissionSet,
    pub member_count: u64,
    pub item_count: u64,
}

impl CircuitService {
    /// Creates a circuit owned by the caller (tier limit on circuits owned).
    pub async fn create(&self, principal: &Principal, input: NewCircuit, meta: &RequestMeta) -> Result<CircuitView> {
        let name = text("name", &input.name, 1, 200)?;
        let description = optional_text("description", input.description, 2000)?;
        let alias_config = input.alias_config.unwrap_or_default();
        alias_config.validate()?;
        let settings = input.settings.unwrap_or_default();
        let adapter_type = self.check_adapter(input.adapter_type.as_deref().unwrap_or("none"), &settings)?;
        let limit = self.policy.max_circuits(principal.tier);
        if limit.is_some() {
            let owned = self.store.count_owned_circuits(&principal.user_id).await?;
            TierPolicy::check_count(limit, owned, "circuits")?;
        }
        let now = self.clock.now();
        let circuit = Circuit {
            circuit_id: self.ids.new_id(),
            name,
            description,
            owner_id: principal.user_id.clone(),
            status: CircuitStatus::Active,
            settings,
            alias_config,
            adapter_type,
            public: None,
            created_at: now,
            updated_at: now,
        };
        let owner = Member {
            circuit_id: circuit.circuit_id.clone(),
            user_id: principal.user_id.clone(),
            username: principal.username.clone(),
            role: MemberRole::Owner,
            custom_role: None,
            custom_permissions: None,
            joined_at: now,
        };
        let hold = limit.map(|limit| Change::HoldCircuitLimit {
            owner_id: principal.user_id.clone(),
            limit,
        });
        self.store
            .commit(
                hold.into_iter()
                    .chain([
                        Change::InsertCircuit(circuit.clone()),
                        Change::InsertMember(owner),
                        Change::Activity(
                            Activity::new(
                                self.ids.new_id(),
                                "circuit_created",
                                &principal.user_id,
                                format!("created circuit {}", circuit.name),
                                now,
                            )
                            .in_circuit(&circuit.circuit_id),
                        ),
                        Change::Audit(AuditEntry::new(
                            self.ids.new_id(),
                            "circuit_created",
                            Some(&principal.user_id),
                            ("circuit", Some(&circuit.circuit_id)),
                            meta,
                            now,
                            json!({ "name": circuit.name }),
                        )),
                    ])
                    .collect(),
            )
            .await?;
        Ok(CircuitView {
            circuit,
            my_role: MemberRole::Owner,
            my_permissions: MemberRole::Owner.permissions(),
            member_count: 1,
            item_count: 0,
        })
    }

    /// 409 `adapter_unavailable` for an adapter this server cannot reach; `ipfs-ipfs` publishes
    /// to a public network, so it needs `allow_public_visibility`.
    fn check_adapter(&self, adapter_type: &str, settings: &CircuitSettings) -> Result<String> {
        if !adapter_types().any(|known| known == adapter_type) {
            let known: Vec<&str> = adapter_types().collect();
            return Err(Error::field("adapter_type", format!("one of {}", known.join(", "))));
        }
        if !self.available_adapters.iter().any(|a| a == adapter_type) {
            return Err(Error::conflict(
                "adapter_unavailable",
                format!("the {adapter_type} adapter is not available on this server"),
            ));
        }
        if adapter_type == "ipfs-ipfs" && !settings.allow_public_visibility {
            return Err(Error::conflict(
                "public_visibility_disabled",
                "ipfs-ipfs publishes content to a public network; enable allow_public_visibility first",
            ));
        }
        Ok(adapter_type.to_owned())
    }

    pub async fn list(&self, principal: &Principal, page: &PageRequest) -> Result<Page<Circuit>> {
        self.store.circuits_of(&principal.user_id, page).await
    }

    /// A circuit for one of its members (404 for everyone else).
    pub async fn get(&self, principal: &Principal, circuit_id: &CircuitId) -> Result<CircuitView> {
        let (circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        circuit_view(self.store.as_ref(), circuit, &member).await
    }

    pub async fn update(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        patch: CircuitPatch,
        meta: &RequestMeta,
    ) -> Result<CircuitView> {
        let (mut circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        member.require(Permission::ManagePermissions)?;
        if let Some(name) = patch.name {
            circuit.name = text("name", &name, 1, 200)?;
        }
        if patch.description.is_some() {
            circuit.description = optional_text("description", patch.description, 2000)?;
        }
        if let Some(alias_config) = patch.alias_config {
            alias_config.validate()?;
            circuit.alias_config = alias_config;
        }
        if let Some(settings) = patch.settings {
            if circuit.adapter_type == "ipfs-ipfs" && !settings.allow_public_visibility {
                return Err(Error::conflict(
                    "public_visibility_required",
                    "the ipfs-ipfs adapter needs allow_public_visibility; change the adapter first",
                ));
            }
            circuit.settings = settings;
        }
        let now = self.clock.now();
        circuit.updated_at = now;
        self.store
            .commit(vec![
                Change::UpdateCircuit(circuit.clone()),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "circuit_settings_changed",
                    Some(&principal.user_id),
                    ("circuit", Some(circuit_id)),
                    meta,
                    now,
                    json!({
                        "require_approval_for_push": circuit.settings.require_approval_for_push,
                        "require_approval_for_pull": circuit.settings.require_approval_for_pull,
                        "allow_public_visibility": circuit.settings.allow_public_visibility,
                    }),
                )),
            ])
            .await?;
        circuit_view(self.store.as_ref(), circuit, &member).await
    }

    /// Owner only: status `Inactive`; pushes then get 409 `circuit_inactive`.
    pub async fn deactivate(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        meta: &RequestMeta,
    ) -> Result<CircuitView> {
        let (mut circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        if member.role != MemberRole::Owner {
            return Err(Error::forbidden(
                "owner_required",
                "only the Owner deactivates a circuit",
            ));
        }
        let now = self.clock.now();
        circuit.status = CircuitStatus::Inactive;
        circuit.updated_at = now;
        self.store
            .commit(vec![
                Change::UpdateCircuit(circuit.clone()),
                Change::Activity(
                    Activity::new(
                        self.ids.new_id(),
                        "circuit_deactivated",
                        &principal.user_id,
                        format!("deactivated {}", circuit.name),
                        now,
                    )
                    .in_circuit(circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "circuit_deactivated",
                    Some(&principal.user_id),
                    ("circuit", Some(circuit_id)),
                    meta,
                    now,
                    json!({}),
                )),
            ])
            .await?;
        circuit_view(self.store.as_ref(), circuit, &member).await
    }

    pub async fn items(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        page: &PageRequest,
    ) -> Result<Page<CircuitItem>> {
        circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        self.store.circuit_items(circuit_id, page).await
    }

    /// Takes an item out of the circuit: its owner may (member or not: they placed it there), and
    /// so may a member holding `Delete`. Its events stay; rights that came through this circuit
    /// end with the commit.
    pub async fn remove_item(&self, principal: &Principal, circuit_id: &CircuitId, dfid: &str) -> Result<()> {
        let dfid = Dfid::parse(dfid)?;
        let store = self.store.as_ref();
        // One answer for "no such circuit", "not a member" and "not in this circuit".
        let absent = || Error::not_found("item in this circuit");
        let item = store.item(dfid.as_str()).await?.ok_or_else(absent)?;
        if !store.holds_item(circuit_id, dfid.as_str()).await? {
            return Err(absent());
        }
        let member = store.member(circuit_id, &principal.user_id).await?;
        if item.created_by != principal.user_id {
            member.as_ref().ok_or_else(absent)?.require(Permission::Delete)?;
        }
        let now = self.clock.now();
        let event = Event::new(
            self.ids.new_id(),
            dfid.as_str(),
            "RemovedFromCircuit",
            Visibility::CircuitOnly,
            &principal.user_id,
            json!({ "circuit_id": circuit_id.as_str() }),
            EventTimes::now(now),
        )?;
        store
            .commit(vec![
                Change::RemoveCircuitItem {
                    circuit_id: circuit_id.to_string(),
                    dfid: dfid.as_str().to_owned(),
                },
                Change::InsertEvent(event),
                Change::Activity(
                    Activity::new(
                        self.ids.new_id(),
                        "item_removed",
                        &principal.user_id,
                        format!("removed {dfid} from the circuit"),
                        now,
                    )
                    .in_circuit(circuit_id)
                    .on_item(dfid.as_str()),
                ),
            ])
            .await
    }

    pub async fn operations(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        status: Option<OperationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Operation>> {
        circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        self.store.operations(circuit_id, status, page).await
    }

    /// What the caller did and what happened in their circuits (or in one of them).
    pub async fn activities(
        &self,
        principal: &Principal,
        circuit_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Activity>> {
        if let Some(circuit_id) = circuit_id {
            circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        }
        self.store.activities(&principal.user_id, circuit_id, page).await
    }
}

/// A circuit as `member` sees it.
pub(crate) async fn circuit_view<S: CircuitRepo + ?Sized>(
    store: &S,
    circuit: Circuit,
    member: &Member,
) -> Result<CircuitView> {
    let (member_count, item_count) = store.circuit_counts(&circuit.circuit_id).await?;
    Ok(CircuitView {
        circuit,
        my_role: member.role,
        my_permissions: member.effective(),
        member_count,
        item_count,
    })
}
