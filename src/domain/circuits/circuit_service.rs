//! Circuits: creation and settings, members and custom roles, join requests, public pages, and
//! the activity feed.

use std::sync::Arc;

use serde_json::json;

use crate::domain::Timestamp;
use crate::domain::audit::ports::ActivityRepo;
use crate::domain::audit::{Activity, AuditEntry};
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit::{
    AccessMode, AliasConfig, Circuit, CircuitItem, CircuitSettings, CircuitStatus, CustomRole, JoinRequest, Member,
    MemberRole, Permission, PermissionSet, PublicSettings, RequestStatus, check_change_member, check_grant_role,
    check_remove_member, check_role_permissions,
};
use crate::domain::circuits::membership::{circuit_member, notify_managers};
use crate::domain::circuits::operation::{Operation, OperationStatus};
use crate::domain::circuits::ports::{
    CircuitItemRepo, CircuitRepo, JoinRequestRepo, MemberRepo, OperationRepo, RoleRepo,
};
use crate::domain::identity::access::{Principal, RequestMeta, TierPolicy};
use crate::domain::identity::ports::{AccountRepo, PasswordCheck, PasswordHasher};
use crate::domain::items::dfid::Dfid;
use crate::domain::items::event::Event;
use crate::domain::items::identifier::Identifier;
use crate::domain::items::ports::{EventRepo, ItemRepo};
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::{Error, Result};
use crate::ports::{Clock, RateLimiter};

combined_port!(
    /// What circuit use cases need from storage.
    pub trait CircuitStore: UnitOfWork, CircuitRepo, MemberRepo, RoleRepo, JoinRequestRepo, OperationRepo, CircuitItemRepo, ItemRepo, EventRepo, AccountRepo, ActivityRepo
);

pub struct CircuitService {
    pub(crate) store: Arc<dyn CircuitStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: TierPolicy,
    /// Hashes and checks public pages' access passwords, apart from the login hasher so page
    /// views can never starve logins.
    pub(crate) access_hasher: Arc<dyn PasswordHasher>,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    /// Adapter types this server can reach (`none` and `local` always).
    pub(crate) available_adapters: Vec<String>,
}

/// Wrong access passwords allowed per circuit per minute, across all clients.
const ACCESS_PASSWORD_CHECKS_PER_MINUTE: u64 = 60;

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

/// Public settings as a manager writes them (PUT replaces everything; an absent
/// `access_password` keeps the old one).
#[derive(Debug, Clone)]
pub struct PublicSettingsInput {
    pub enabled: bool,
    pub access_mode: AccessMode,
    pub access_password: Option<String>,
    pub scheduled_date: Option<Timestamp>,
    pub public_name: String,
    pub public_description: Option<String>,
    pub primary_color: Option<String>,
    pub secondary_color: Option<String>,
    pub logo_url: Option<String>,
    pub tagline: Option<String>,
    pub footer_text: Option<String>,
    pub published_items: Vec<String>,
    pub auto_publish_pushed_items: bool,
    pub auto_approve_members: bool,
}

/// The public page of a circuit.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicPage {
    pub circuit_id: String,
    pub settings: PublicSettings,
    pub member_count: u64,
    pub published_items: Vec<PublishedItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishedItem {
    pub dfid: String,
    /// Canonical identifiers only.
    pub identifiers: Vec<Identifier>,
    /// Public events only.
    pub events: Vec<Event>,
}

/// The result of joining through a public page.
#[derive(Debug, Clone, PartialEq)]
pub enum PublicJoin {
    Joined(Member),
    Requested(JoinRequest),
}

fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String> {
    let value = value.trim();
    let length = value.chars().count();
    if length < min || length > max {
        return Err(Error::field(field, format!("{min} to {max} characters")));
    }
    Ok(value.to_owned())
}

fn optional_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    value.map(|v| text(field, &v, 0, max)).transpose()
}

/// Colors are `#rgb` or `#rrggbb`.
fn color(field: &str, value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(c)
            if !(c.starts_with('#') && matches!(c.len(), 4 | 7) && c[1..].chars().all(|x| x.is_ascii_hexdigit())) =>
        {
            Err(Error::field(field, "a color like #1a2b3c"))
        }
        other => Ok(other),
    }
}

fn https_url(field: &str, value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2048 => {
            Err(Error::field(field, "an http(s) URL"))
        }
        other => Ok(other),
    }
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
            circuit_id: uuid::Uuid::new_v4().to_string(),
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
        self.store
            .commit(vec![
                Change::InsertCircuit(circuit.clone()),
                Change::InsertMember(owner),
                Change::Activity(
                    Activity::new(
                        "circuit_created",
                        &principal.user_id,
                        format!("created circuit {}", circuit.name),
                        now,
                    )
                    .in_circuit(&circuit.circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    "circuit_created",
                    Some(&principal.user_id),
                    ("circuit", Some(&circuit.circuit_id)),
                    meta,
                    now,
                    json!({ "name": circuit.name }),
                )),
            ])
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
        const KNOWN: &[&str] = &[
            "none",
            "local",
            "ipfs-ipfs",
            "stellar_testnet-ipfs",
            "stellar_mainnet-ipfs",
        ];
        if !KNOWN.contains(&adapter_type) {
            return Err(Error::field("adapter_type", format!("one of {}", KNOWN.join(", "))));
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
    pub async fn get(&self, principal: &Principal, circuit_id: &str) -> Result<CircuitView> {
        let (circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        self.view(circuit, &member).await
    }

    async fn view(&self, circuit: Circuit, member: &Member) -> Result<CircuitView> {
        let (member_count, item_count) = self.store.circuit_counts(&circuit.circuit_id).await?;
        Ok(CircuitView {
            circuit,
            my_role: member.role,
            my_permissions: member.effective(),
            member_count,
            item_count,
        })
    }

    pub async fn update(
        &self,
        principal: &Principal,
        circuit_id: &str,
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
        self.view(circuit, &member).await
    }

    /// Owner only: status `Inactive`; pushes then get 409 `circuit_inactive`.
    pub async fn deactivate(&self, principal: &Principal, circuit_id: &str, meta: &RequestMeta) -> Result<CircuitView> {
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
                        "circuit_deactivated",
                        &principal.user_id,
                        format!("deactivated {}", circuit.name),
                        now,
                    )
                    .in_circuit(circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    "circuit_deactivated",
                    Some(&principal.user_id),
                    ("circuit", Some(circuit_id)),
                    meta,
                    now,
                    json!({}),
                )),
            ])
            .await?;
        self.view(circuit, &member).await
    }

    pub async fn members(&self, principal: &Principal, circuit_id: &str, page: &PageRequest) -> Result<Page<Member>> {
        circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        self.store.members(circuit_id, page).await
    }

    /// Adds a member by user id or username (Invite; only the Owner adds Admins).
    pub async fn add_member(
        &self,
        principal: &Principal,
        circuit_id: &str,
        user: &str,
        role: MemberRole,
        meta: &RequestMeta,
    ) -> Result<Member> {
        let (circuit, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        check_grant_role(&actor, role, Permission::Invite)?;
        let account = match self.store.account(user).await? {
            Some(account) => Some(account),
            None => self.store.account_by_login(&user.trim().to_lowercase()).await?,
        }
        .ok_or_else(|| Error::not_found("user"))?;
        if self.store.member(circuit_id, &account.id).await?.is_some() {
            return Err(Error::conflict("already_member", "this user is already a member"));
        }
        let now = self.clock.now();
        let member = Member {
            circuit_id: circuit_id.to_owned(),
            user_id: account.id.clone(),
            username: account.username.clone(),
            role,
            custom_role: None,
            custom_permissions: None,
            joined_at: now,
        };
        self.store
            .commit(vec![
                Change::InsertMember(member.clone()),
                Change::Notify(Notification::new(
                    &member.user_id,
                    NotificationType::MemberAdded,
                    "Added to a circuit",
                    format!("{} added you to {} as {}", actor.username, circuit.name, role.as_str()),
                    json!({ "circuit_id": circuit_id, "role": role.as_str() }),
                    now,
                )),
                Change::Activity(
                    Activity::new(
                        "member_added",
                        &principal.user_id,
                        format!("added {} as {}", member.username, role.as_str()),
                        now,
                    )
                    .in_circuit(circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    "member_added",
                    Some(&principal.user_id),
                    ("circuit_member", Some(&member.user_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id, "role": role.as_str() }),
                )),
            ])
            .await?;
        Ok(member)
    }

    /// Changes a member's role and/or custom role (ManageMembers; no escalation).
    pub async fn update_member(
        &self,
        principal: &Principal,
        circuit_id: &str,
        user_id: &str,
        role: Option<MemberRole>,
        custom_role: Option<Option<String>>,
        meta: &RequestMeta,
    ) -> Result<Member> {
        let (circuit, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        let mut target = self
            .store
            .member(circuit_id, user_id)
            .await?
            .ok_or_else(|| Error::not_found("member"))?;
        let new_role = role.unwrap_or(target.role);
        let (new_custom_id, new_custom_permissions) = match custom_role {
            None => (target.custom_role.clone(), target.custom_permissions),
            Some(None) => (None, None),
            Some(Some(role_id)) => {
                let role = self
                    .store
                    .role(&role_id)
                    .await?
                    .filter(|r| r.circuit_id == circuit_id)
                    .ok_or_else(|| Error::field("custom_role", "not a role of this circuit"))?;
                check_role_permissions(&actor, role.permissions)?;
                (Some(role.role_id), Some(role.permissions))
            }
        };
        check_change_member(&actor, &target, new_role, new_custom_permissions)?;
        let now = self.clock.now();
        let previous = target.role;
        target.role = new_role;
        target.custom_role = new_custom_id;
        target.custom_permissions = new_custom_permissions;
        self.store
            .commit(vec![
                Change::UpdateMember {
                    circuit_id: circuit_id.to_owned(),
                    user_id: user_id.to_owned(),
                    role: new_role,
                    custom_role: target.custom_role.clone(),
                },
                Change::Notify(Notification::new(
                    user_id,
                    NotificationType::RoleChanged,
                    "Your role changed",
                    format!("{} changed your role in {} to {}", actor.username, circuit.name, new_role.as_str()),
                    json!({ "circuit_id": circuit_id, "role": new_role.as_str(), "custom_role": target.custom_role }),
                    now,
                )),
                Change::Activity(
                    Activity::new("role_changed", &principal.user_id, format!("changed {}'s role to {}", target.username, new_role.as_str()), now)
                        .in_circuit(circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    "member_role_changed",
                    Some(&principal.user_id),
                    ("circuit_member", Some(user_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id, "from": previous.as_str(), "to": new_role.as_str(), "custom_role": target.custom_role }),
                )),
            ])
            .await?;
        Ok(target)
    }

    /// Removes a member (ManageMembers), or the caller leaves. The Owner cannot be removed.
    pub async fn remove_member(
        &self,
        principal: &Principal,
        circuit_id: &str,
        user_id: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        let (circuit, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        let target = self
            .store
            .member(circuit_id, user_id)
            .await?
            .ok_or_else(|| Error::not_found("member"))?;
        check_remove_member(&actor, &target)?;
        let now = self.clock.now();
        let mut changes = vec![
            Change::RemoveMember {
                circuit_id: circuit_id.to_owned(),
                user_id: user_id.to_owned(),
            },
            Change::Activity(
                Activity::new(
                    "member_removed",
                    &principal.user_id,
                    format!("{} left {}", target.username, circuit.name),
                    now,
                )
                .in_circuit(circuit_id),
            ),
            Change::Audit(AuditEntry::new(
                "member_removed",
                Some(&principal.user_id),
                ("circuit_member", Some(user_id)),
                meta,
                now,
                json!({ "circuit_id": circuit_id, "role": target.role.as_str() }),
            )),
        ];
        if actor.user_id != target.user_id {
            changes.push(Change::Notify(Notification::new(
                user_id,
                NotificationType::MemberRemoved,
                "Removed from a circuit",
                format!("{} removed you from {}", actor.username, circuit.name),
                json!({ "circuit_id": circuit_id }),
                now,
            )));
        }
        self.store.commit(changes).await
    }

    pub async fn roles(&self, principal: &Principal, circuit_id: &str, page: &PageRequest) -> Result<Page<CustomRole>> {
        let (_, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        actor.require(Permission::ManageRoles)?;
        self.store.roles(circuit_id, page).await
    }

    pub async fn save_role(
        &self,
        principal: &Principal,
        circuit_id: &str,
        role_id: Option<&str>,
        role_name: String,
        permissions: PermissionSet,
        description: Option<String>,
        role_color: Option<String>,
        meta: &RequestMeta,
    ) -> Result<CustomRole> {
        let (_, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        check_role_permissions(&actor, permissions)?;
        let role_name = text("role_name", &role_name, 1, 64)?;
        let description = optional_text("description", description, 500)?;
        let role_color = color("color", role_color)?;
        let now = self.clock.now();
        let (role, change, action) = match role_id {
            Some(role_id) => {
                let existing = self
                    .store
                    .role(role_id)
                    .await?
                    .filter(|r| r.circuit_id == circuit_id)
                    .ok_or_else(|| Error::not_found("role"))?;
                // Editing a role is re-granting it to everyone who holds it.
                check_role_permissions(&actor, existing.permissions)?;
                let role = CustomRole {
                    role_name,
                    permissions,
                    description,
                    color: role_color,
                    ..existing
                };
                (role.clone(), Change::UpdateRole(role), "role_updated")
            }
            None => {
                let role = CustomRole {
                    role_id: uuid::Uuid::new_v4().to_string(),
                    circuit_id: circuit_id.to_owned(),
                    role_name,
                    permissions,
                    description,
                    color: role_color,
                    created_at: now,
                };
                (role.clone(), Change::InsertRole(role), "role_created")
            }
        };
        self.store
            .commit(vec![
                change,
                Change::Audit(AuditEntry::new(
                    action,
                    Some(&principal.user_id),
                    ("circuit_role", Some(&role.role_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id, "permissions": role.permissions.names() }),
                )),
            ])
            .await?;
        Ok(role)
    }

    pub async fn delete_role(
        &self,
        principal: &Principal,
        circuit_id: &str,
        role_id: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        let (_, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        let role = self
            .store
            .role(role_id)
            .await?
            .filter(|r| r.circuit_id == circuit_id)
            .ok_or_else(|| Error::not_found("role"))?;
        check_role_permissions(&actor, role.permissions)?;
        if self.store.role_in_use(role_id).await? {
            return Err(Error::conflict(
                "role_in_use",
                "members hold this role; reassign them first",
            ));
        }
        let now = self.clock.now();
        self.store
            .commit(vec![
                Change::DeleteRole {
                    role_id: role_id.to_owned(),
                },
                Change::Audit(AuditEntry::new(
                    "role_deleted",
                    Some(&principal.user_id),
                    ("circuit_role", Some(role_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id }),
                )),
            ])
            .await
    }

    /// The circuit, for a caller going through its public page: 404 unless the page is open.
    async fn open_page(&self, circuit_id: &str) -> Result<(Circuit, PublicSettings)> {
        let circuit = self
            .store
            .circuit(circuit_id)
            .await?
            .ok_or_else(|| Error::not_found("circuit"))?;
        let now = self.clock.now();
        match circuit.public.clone() {
            Some(public) if public.is_open(&circuit.settings, circuit.status, now) => Ok((circuit, public)),
            _ => Err(Error::not_found("circuit")),
        }
    }

    /// Checks a `Protected` page's password (401 `access_password_required` when missing or
    /// wrong), with a per-circuit limit on attempts.
    async fn check_access_password(
        &self,
        circuit_id: &str,
        public: &PublicSettings,
        password: Option<&str>,
    ) -> Result<()> {
        if public.access_mode != AccessMode::Protected {
            return Ok(());
        }
        let required = || {
            Error::unauthenticated(
                "access_password_required",
                "this page needs its access password (X-Access-Password)",
            )
        };
        let (Some(password), Some(hash)) = (password, public.access_password_hash.as_ref()) else {
            return Err(required());
        };
        if password.is_empty() || password.len() > 256 {
            return Err(required());
        }
        let attempts = self
            .limiter
            .hit(
                &format!("access-password:{circuit_id}"),
                std::time::Duration::from_secs(60),
            )
            .await;
        if attempts.count > ACCESS_PASSWORD_CHECKS_PER_MINUTE {
            return Err(Error::rate_limited(attempts.resets_in.as_secs().max(1)));
        }
        match self.access_hasher.verify(password.to_owned(), hash.clone()).await? {
            PasswordCheck::Match { .. } => Ok(()),
            PasswordCheck::Mismatch => Err(required()),
        }
    }

    /// Replaces the public settings (ManagePermissions).
    pub async fn set_public_settings(
        &self,
        principal: &Principal,
        circuit_id: &str,
        input: PublicSettingsInput,
        meta: &RequestMeta,
    ) -> Result<CircuitView> {
        let (mut circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        member.require(Permission::ManagePermissions)?;
        if input.enabled && !circuit.settings.allow_public_visibility {
            return Err(Error::conflict(
                "public_visibility_disabled",
                "enable allow_public_visibility in the circuit's permissions first",
            ));
        }
        if input.access_mode == AccessMode::Scheduled && input.scheduled_date.is_none() {
            return Err(Error::field("scheduled_date", "required when access_mode is Scheduled"));
        }
        if input.published_items.len() > 1000 {
            return Err(Error::field("published_items", "at most 1000 items"));
        }
        let mut published = Vec::new();
        for dfid in &input.published_items {
            let dfid = Dfid::parse(dfid)?;
            if !self.store.holds_item(circuit_id, dfid.as_str()).await? {
                return Err(Error::field(
                    "published_items",
                    format!("{dfid} is not in this circuit"),
                ));
            }
            if !published.contains(&dfid.as_str().to_owned()) {
                published.push(dfid.into_string());
            }
        }
        let previous = circuit.public.clone();
        let access_password_hash = match input.access_password {
            Some(password) => {
                if password.chars().count() < 4 || password.len() > 256 {
                    return Err(Error::field("access_password", "4 to 256 characters"));
                }
                Some(self.access_hasher.hash(password).await?)
            }
            None => previous.as_ref().and_then(|p| p.access_password_hash.clone()),
        };
        if input.access_mode == AccessMode::Protected && access_password_hash.is_none() {
            return Err(Error::field(
                "access_password",
                "required when access_mode is Protected",
            ));
        }
        let now = self.clock.now();
        let public_since = match previous.as_ref() {
            Some(p) if p.enabled && input.enabled => p.public_since,
            _ if input.enabled => Some(now),
            _ => None,
        };
        circuit.public = Some(PublicSettings {
            enabled: input.enabled,
            access_mode: input.access_mode,
            access_password_hash,
            scheduled_date: input.scheduled_date,
            public_name: text("public_name", &input.public_name, 1, 200)?,
            public_description: optional_text("public_description", input.public_description, 2000)?,
            primary_color: color("primary_color", input.primary_color)?,
            secondary_color: color("secondary_color", input.secondary_color)?,
            logo_url: https_url("logo_url", input.logo_url)?,
            tagline: optional_text("tagline", input.tagline, 200)?,
            footer_text: optional_text("footer_text", input.footer_text, 500)?,
            auto_publish_pushed_items: input.auto_publish_pushed_items,
            auto_approve_members: input.auto_approve_members,
            public_since,
        });
        circuit.updated_at = now;
        let mut changes = vec![
            Change::UpdateCircuit(circuit.clone()),
            Change::SetPublishedItems {
                circuit_id: circuit_id.to_owned(),
                dfids: published.clone(),
                at: now,
            },
            Change::Audit(AuditEntry::new(
                "public_settings_changed",
                Some(&principal.user_id),
                ("circuit", Some(circuit_id)),
                meta,
                now,
                json!({ "enabled": input.enabled, "access_mode": format!("{:?}", input.access_mode), "published_items": published.len() }),
            )),
        ];
        let before: Vec<String> = self.store.published_items(circuit_id, 1000).await?;
        for dfid in published.iter().filter(|d| !before.contains(d)) {
            changes.push(Change::Trigger(crate::domain::partners::trigger::Trigger::new(
                crate::domain::partners::trigger::TriggerKind::ItemPublished,
                circuit_id,
                dfid,
                &principal.user_id,
                now,
            )));
        }
        self.store.commit(changes).await?;
        self.view(circuit, &member).await
    }

    /// The public page, without authentication.
    pub async fn public_page(&self, circuit_id: &str, access_password: Option<&str>) -> Result<PublicPage> {
        let (circuit, public) = self.open_page(circuit_id).await?;
        self.check_access_password(circuit_id, &public, access_password).await?;
        let (member_count, _) = self.store.circuit_counts(circuit_id).await?;
        let mut published_items = Vec::new();
        for dfid in self.store.published_items(circuit_id, 200).await? {
            let Some(item) = self.store.item(&dfid).await? else {
                continue;
            };
            // An item that left the circuit is no longer shown.
            if !self.store.holds_item(circuit_id, &dfid).await? {
                continue;
            }
            published_items.push(PublishedItem {
                identifiers: item.identifiers.into_iter().filter(Identifier::is_canonical).collect(),
                events: self.store.public_events(&dfid, 100).await?,
                dfid,
            });
        }
        Ok(PublicPage {
            circuit_id: circuit.circuit_id,
            settings: public,
            member_count,
            published_items,
        })
    }

    /// Asks to join a circuit whose public page is open (404 otherwise).
    pub async fn request_to_join(
        &self,
        principal: &Principal,
        circuit_id: &str,
        message: Option<String>,
    ) -> Result<JoinRequest> {
        let (circuit, _) = self.open_page(circuit_id).await?;
        self.new_request(principal, &circuit, message).await
    }

    async fn ensure_joinable(&self, principal: &Principal, circuit_id: &str) -> Result<()> {
        if self.store.member(circuit_id, &principal.user_id).await?.is_some() {
            return Err(Error::conflict("already_member", "you are already a member"));
        }
        if let Some(request) = self.store.join_request(circuit_id, &principal.user_id).await?
            && request.status == RequestStatus::Pending
        {
            return Err(Error::conflict(
                "request_pending",
                "your request to join is waiting for a decision",
            ));
        }
        Ok(())
    }

    async fn new_request(
        &self,
        principal: &Principal,
        circuit: &Circuit,
        message: Option<String>,
    ) -> Result<JoinRequest> {
        self.ensure_joinable(principal, &circuit.circuit_id).await?;
        let message = optional_text("message", message, 1000)?;
        let now = self.clock.now();
        let request = JoinRequest {
            circuit_id: circuit.circuit_id.clone(),
            user_id: principal.user_id.clone(),
            username: principal.username.clone(),
            message,
            status: RequestStatus::Pending,
            created_at: now,
            decided_by: None,
            decided_at: None,
            reason: None,
        };
        let mut changes = vec![Change::UpsertJoinRequest(request.clone())];
        changes.extend(
            notify_managers(
                self.store.as_ref(),
                &circuit.circuit_id,
                &principal.user_id,
                NotificationType::JoinRequestReceived,
                "New join request",
                format!("{} asked to join {}", principal.username, circuit.name),
                json!({ "circuit_id": circuit.circuit_id, "user_id": principal.user_id }),
                now,
            )
            .await?,
        );
        self.store.commit(changes).await?;
        Ok(request)
    }

    /// Joins through the public page: at once as `Member` with `auto_approve_members`, as a
    /// join request otherwise.
    pub async fn public_join(
        &self,
        principal: &Principal,
        circuit_id: &str,
        access_password: Option<&str>,
        message: Option<String>,
        meta: &RequestMeta,
    ) -> Result<PublicJoin> {
        let (circuit, public) = self.open_page(circuit_id).await?;
        self.check_access_password(circuit_id, &public, access_password).await?;
        if !public.auto_approve_members {
            return self
                .new_request(principal, &circuit, message)
                .await
                .map(PublicJoin::Requested);
        }
        self.ensure_joinable(principal, circuit_id).await?;
        let now = self.clock.now();
        let member = Member {
            circuit_id: circuit_id.to_owned(),
            user_id: principal.user_id.clone(),
            username: principal.username.clone(),
            role: MemberRole::Member,
            custom_role: None,
            custom_permissions: None,
            joined_at: now,
        };
        self.store
            .commit(vec![
                Change::InsertMember(member.clone()),
                Change::Activity(
                    Activity::new(
                        "member_joined",
                        &principal.user_id,
                        format!("{} joined {}", principal.username, circuit.name),
                        now,
                    )
                    .in_circuit(circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    "member_joined",
                    Some(&principal.user_id),
                    ("circuit_member", Some(&principal.user_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id, "via": "public_page" }),
                )),
            ])
            .await?;
        Ok(PublicJoin::Joined(member))
    }

    pub async fn join_requests(
        &self,
        principal: &Principal,
        circuit_id: &str,
        page: &PageRequest,
    ) -> Result<Page<JoinRequest>> {
        let (_, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        actor.require(Permission::ManageMembers)?;
        self.store.pending_join_requests(circuit_id, page).await
    }

    /// Approves (as `role`, default `Member`) or rejects a join request (ManageMembers).
    pub async fn decide_request(
        &self,
        principal: &Principal,
        circuit_id: &str,
        user_id: &str,
        approve: bool,
        role: Option<MemberRole>,
        reason: Option<String>,
        meta: &RequestMeta,
    ) -> Result<JoinRequest> {
        let (circuit, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        actor.require(Permission::ManageMembers)?;
        let role = role.unwrap_or(MemberRole::Member);
        if approve {
            check_grant_role(&actor, role, Permission::ManageMembers)?;
        }
        let reason = optional_text("reason", reason, 500)?;
        let mut request = self
            .store
            .join_request(circuit_id, user_id)
            .await?
            .filter(|r| r.status == RequestStatus::Pending)
            .ok_or_else(|| Error::not_found("join request"))?;
        let now = self.clock.now();
        let status = if approve {
            RequestStatus::Approved
        } else {
            RequestStatus::Rejected
        };
        let mut changes = vec![Change::DecideJoinRequest {
            circuit_id: circuit_id.to_owned(),
            user_id: user_id.to_owned(),
            status,
            decided_by: principal.user_id.clone(),
            at: now,
            reason: reason.clone(),
        }];
        let (kind, title, message) = if approve {
            changes.push(Change::InsertMember(Member {
                circuit_id: circuit_id.to_owned(),
                user_id: user_id.to_owned(),
                username: request.username.clone(),
                role,
                custom_role: None,
                custom_permissions: None,
                joined_at: now,
            }));
            changes.push(Change::Audit(AuditEntry::new(
                "member_added",
                Some(&principal.user_id),
                ("circuit_member", Some(user_id)),
                meta,
                now,
                json!({ "circuit_id": circuit_id, "role": role.as_str(), "via": "join_request" }),
            )));
            (
                NotificationType::JoinRequestApproved,
                "Join request approved",
                format!("you joined {} as {}", circuit.name, role.as_str()),
            )
        } else {
            (
                NotificationType::JoinRequestRejected,
                "Join request rejected",
                format!("your request to join {} was rejected", circuit.name),
            )
        };
        changes.push(Change::Notify(Notification::new(
            user_id,
            kind,
            title,
            message,
            json!({ "circuit_id": circuit_id, "reason": reason }),
            now,
        )));
        self.store.commit(changes).await?;
        request.status = status;
        request.decided_by = Some(principal.user_id.clone());
        request.decided_at = Some(now);
        request.reason = reason;
        Ok(request)
    }

    pub async fn items(
        &self,
        principal: &Principal,
        circuit_id: &str,
        page: &PageRequest,
    ) -> Result<Page<CircuitItem>> {
        circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        self.store.circuit_items(circuit_id, page).await
    }

    pub async fn operations(
        &self,
        principal: &Principal,
        circuit_id: &str,
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
