//! Members of a circuit and its custom roles: who holds which permissions, changed only by those
//! who hold at least as much.

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::identity::account::UserId;
use std::sync::Arc;

use serde_json::json;

use crate::domain::audit::{Activity, AuditEntry};
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::fields::{color, optional_text, text};
use crate::domain::circuits::membership::circuit_member;
use crate::domain::circuits::ports::{CircuitRepo, MemberRepo, RoleRepo};
use crate::domain::circuits::roles::{
    CustomRole, Member, MemberRole, Permission, PermissionSet, check_change_member, check_grant_role,
    check_remove_member, check_role_permissions,
};
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::identity::ports::AccountRepo;
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What membership and roles need from storage.
    pub trait MemberStore: UnitOfWork, CircuitRepo, MemberRepo, RoleRepo, AccountRepo
);

/// A custom role as its creator describes it.
#[derive(Debug, Clone)]
pub struct RoleInput {
    pub role_name: String,
    pub permissions: PermissionSet,
    pub description: Option<String>,
    pub color: Option<String>,
}

/// Who is being added to a circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invitee {
    Id(UserId),
    Username(String),
}

pub struct MemberService {
    pub(crate) store: Arc<dyn MemberStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
}

impl MemberService {
    pub async fn members(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        page: &PageRequest,
    ) -> Result<Page<Member>> {
        circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        self.store.members(circuit_id, page).await
    }

    /// Adds a member by user id or by username (Invite; only the Owner adds Admins).
    pub async fn add_member(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        invitee: Invitee,
        role: MemberRole,
        meta: &RequestMeta,
    ) -> Result<Member> {
        let (circuit, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        check_grant_role(&actor, role, Permission::Invite)?;
        let account = match invitee {
            Invitee::Id(user_id) => self.store.account(&user_id).await?,
            // A login also matches emails: keep only a username match, so an email address never
            // turns into someone's user id.
            Invitee::Username(username) => {
                let username = username.trim().to_lowercase();
                self.store
                    .account_by_login(&username)
                    .await?
                    .filter(|account| account.username.to_lowercase() == username)
            }
        }
        .ok_or_else(|| Error::not_found("user"))?;
        if self.store.member(circuit_id, &account.id).await?.is_some() {
            return Err(Error::conflict("already_member", "this user is already a member"));
        }
        let now = self.clock.now();
        let member = Member {
            circuit_id: circuit_id.to_string(),
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
                    self.ids.new_id(),
                    &member.user_id,
                    NotificationType::MemberAdded,
                    "Added to a circuit",
                    format!("{} added you to {} as {}", actor.username, circuit.name, role.as_str()),
                    json!({ "circuit_id": circuit_id, "role": role.as_str() }),
                    now,
                )),
                Change::Activity(
                    Activity::new(
                        self.ids.new_id(),
                        "member_added",
                        &principal.user_id,
                        format!("added {} as {}", member.username, role.as_str()),
                        now,
                    )
                    .in_circuit(circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
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
        circuit_id: &CircuitId,
        user_id: &UserId,
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
                    .filter(|r| r.circuit_id == circuit_id.as_str())
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
                    circuit_id: circuit_id.to_string(),
                    user_id: user_id.to_string(),
                    role: new_role,
                    custom_role: target.custom_role.clone(),
                },
                Change::Notify(Notification::new(
                    self.ids.new_id(),
                    user_id,
                    NotificationType::RoleChanged,
                    "Your role changed",
                    format!("{} changed your role in {} to {}", actor.username, circuit.name, new_role.as_str()),
                    json!({ "circuit_id": circuit_id, "role": new_role.as_str(), "custom_role": target.custom_role }),
                    now,
                )),
                Change::Activity(
                    Activity::new(self.ids.new_id(), "role_changed", &principal.user_id, format!("changed {}'s role to {}", target.username, new_role.as_str()), now)
                        .in_circuit(circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
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
        circuit_id: &CircuitId,
        user_id: &UserId,
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
                circuit_id: circuit_id.to_string(),
                user_id: user_id.to_string(),
            },
            Change::Activity(
                Activity::new(
                    self.ids.new_id(),
                    "member_removed",
                    &principal.user_id,
                    format!("{} left {}", target.username, circuit.name),
                    now,
                )
                .in_circuit(circuit_id),
            ),
            Change::Audit(AuditEntry::new(
                self.ids.new_id(),
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
                self.ids.new_id(),
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

    pub async fn roles(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        page: &PageRequest,
    ) -> Result<Page<CustomRole>> {
        let (_, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        actor.require(Permission::ManageRoles)?;
        self.store.roles(circuit_id, page).await
    }

    pub async fn save_role(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        role_id: Option<&str>,
        input: RoleInput,
        meta: &RequestMeta,
    ) -> Result<CustomRole> {
        let RoleInput {
            role_name,
            permissions,
            description,
            color: role_color,
        } = input;
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
                    .filter(|r| r.circuit_id == circuit_id.as_str())
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
                    role_id: self.ids.new_id(),
                    circuit_id: circuit_id.to_string(),
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
                    self.ids.new_id(),
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
        circuit_id: &CircuitId,
        role_id: &str,
        meta: &RequestMeta,
    ) -> Result<()> {
        let (_, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        let role = self
            .store
            .role(role_id)
            .await?
            .filter(|r| r.circuit_id == circuit_id.as_str())
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
                    self.ids.new_id(),
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
}
