//! Circuits: permissioned groups that share items. Roles, permissions, and the rules that stop
//! anyone from granting what they do not hold.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::items::identifier::{Identifier, Namespace};
use crate::domain::{Error, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    Push,
    Pull,
    Invite,
    ManageMembers,
    ManagePermissions,
    Delete,
    Certify,
    Audit,
    ManageRoles,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::Push,
        Permission::Pull,
        Permission::Invite,
        Permission::ManageMembers,
        Permission::ManagePermissions,
        Permission::Delete,
        Permission::Certify,
        Permission::Audit,
        Permission::ManageRoles,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Push => "Push",
            Permission::Pull => "Pull",
            Permission::Invite => "Invite",
            Permission::ManageMembers => "ManageMembers",
            Permission::ManagePermissions => "ManagePermissions",
            Permission::Delete => "Delete",
            Permission::Certify => "Certify",
            Permission::Audit => "Audit",
            Permission::ManageRoles => "ManageRoles",
        }
    }
}

impl FromStr for Permission {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| Error::field("permissions", format!("unknown permission {text:?}")))
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u16);

impl PermissionSet {
    pub fn of(permissions: &[Permission]) -> Self {
        Self(permissions.iter().fold(0, |bits, p| bits | p.bit()))
    }

    pub fn all() -> Self {
        Self::of(&Permission::ALL)
    }

    pub fn has(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn list(self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.has(*p)).collect()
    }

    pub fn names(self) -> Vec<String> {
        self.list().into_iter().map(|p| p.as_str().to_owned()).collect()
    }

    pub fn parse(names: &[String]) -> Result<Self, Error> {
        let permissions = names
            .iter()
            .map(|n| n.parse())
            .collect::<Result<Vec<Permission>, _>>()?;
        Ok(Self::of(&permissions))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberRole {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "Owner",
            MemberRole::Admin => "Admin",
            MemberRole::Member => "Member",
            MemberRole::Viewer => "Viewer",
        }
    }

    /// The role/permission matrix.
    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            MemberRole::Owner => PermissionSet::all(),
            MemberRole::Admin => PermissionSet::of(&[Push, Pull, Invite, ManageMembers, ManageRoles, Certify]),
            MemberRole::Member => PermissionSet::of(&[Push, Pull]),
            MemberRole::Viewer => PermissionSet::of(&[Pull]),
        }
    }
}

impl FromStr for MemberRole {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "Owner" => Ok(MemberRole::Owner),
            "Admin" => Ok(MemberRole::Admin),
            "Member" => Ok(MemberRole::Member),
            "Viewer" => Ok(MemberRole::Viewer),
            _ => Err(Error::field("role", format!("unknown role {text:?}"))),
        }
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A custom role: extra permissions on top of a member's base role.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomRole {
    pub role_id: String,
    pub circuit_id: String,
    pub role_name: String,
    pub permissions: PermissionSet,
    pub description: Option<String>,
    pub color: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub circuit_id: String,
    pub user_id: String,
    pub username: String,
    pub role: MemberRole,
    /// A `role_id` of this circuit's custom roles.
    pub custom_role: Option<String>,
    /// The custom role's permissions, resolved when read.
    pub custom_permissions: Option<PermissionSet>,
    pub joined_at: Timestamp,
}

impl Member {
    /// Base role's permissions plus the custom role's.
    pub fn effective(&self) -> PermissionSet {
        self.role
            .permissions()
            .union(self.custom_permissions.unwrap_or_default())
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.effective().has(permission)
    }

    /// 403 unless this member holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), Error> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(Error::forbidden(
                "insufficient_permissions",
                format!("this needs the {} permission in this circuit", permission.as_str()),
            )
            .with_details(json!({ "required": permission.as_str() })))
        }
    }
}

fn escalation(message: &str) -> Error {
    Error::forbidden("privilege_escalation", message)
}

/// Adding a member with `role` (by invitation, or by approving a join request, where `via` is
/// the permission the actor needs).
pub fn check_grant_role(actor: &Member, role: MemberRole, via: Permission) -> Result<(), Error> {
    actor.require(via)?;
    match role {
        MemberRole::Owner => Err(Error::field(
            "role",
            "a circuit has one Owner; add Admin, Member or Viewer",
        )),
        MemberRole::Admin if actor.role != MemberRole::Owner => Err(escalation("only the Owner adds Admins")),
        _ if !role.permissions().is_subset_of(actor.effective()) => {
            Err(escalation("nobody grants permissions they do not hold"))
        }
        _ => Ok(()),
    }
}

/// Changing `target`'s role and/or custom role to `new_role` / `new_custom` (the custom role's
/// permissions when one is assigned).
pub fn check_change_member(
    actor: &Member,
    target: &Member,
    new_role: MemberRole,
    new_custom: Option<PermissionSet>,
) -> Result<(), Error> {
    actor.require(Permission::ManageMembers)?;
    if actor.user_id == target.user_id {
        return Err(escalation("nobody changes their own role"));
    }
    if target.role == MemberRole::Owner {
        return Err(escalation("the Owner's role cannot change"));
    }
    if new_role == MemberRole::Owner {
        return Err(Error::field("role", "a circuit has one Owner"));
    }
    let is_owner = actor.role == MemberRole::Owner;
    if (target.role == MemberRole::Admin || new_role == MemberRole::Admin) && !is_owner {
        return Err(escalation("only the Owner sets or changes Admins"));
    }
    let granted = new_role.permissions().union(new_custom.unwrap_or_default());
    if !granted.is_subset_of(actor.effective()) {
        return Err(escalation("nobody grants permissions they do not hold"));
    }
    Ok(())
}

/// Removing `target` (or `actor` leaving when they are the same member).
pub fn check_remove_member(actor: &Member, target: &Member) -> Result<(), Error> {
    if target.role == MemberRole::Owner {
        return Err(escalation("the Owner cannot leave or be removed"));
    }
    if actor.user_id == target.user_id {
        return Ok(());
    }
    actor.require(Permission::ManageMembers)?;
    if target.role == MemberRole::Admin && actor.role != MemberRole::Owner {
        return Err(escalation("only the Owner removes Admins"));
    }
    Ok(())
}

/// Creating, editing or assigning a custom role with `permissions`.
pub fn check_role_permissions(actor: &Member, permissions: PermissionSet) -> Result<(), Error> {
    actor.require(Permission::ManageRoles)?;
    if !permissions.is_subset_of(actor.effective()) {
        return Err(escalation("nobody creates a role with permissions they do not hold"));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CircuitSettings {
    pub require_approval_for_push: bool,
    pub require_approval_for_pull: bool,
    pub allow_public_visibility: bool,
}

/// What push-local requires of an item's identifiers in this circuit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AliasConfig {
    #[serde(default)]
    pub required_canonical: Vec<String>,
    #[serde(default)]
    pub required_contextual: Vec<String>,
    #[serde(default)]
    pub allowed_namespaces: Option<Vec<Namespace>>,
    #[serde(default)]
    pub default_namespace: Option<Namespace>,
}

impl AliasConfig {
    pub fn validate(&self) -> Result<(), Error> {
        for registry in &self.required_canonical {
            if crate::domain::items::identifier::Registry::parse(registry).is_none() {
                return Err(
                    Error::invalid("unknown_registry", format!("{registry:?} is not a known registry"))
                        .with_details(json!({ "field": "alias_config.required_canonical", "key": registry })),
                );
            }
        }
        if self.required_canonical.len() + self.required_contextual.len() > 50
            || self
                .required_contextual
                .iter()
                .any(|k| k.trim().is_empty() || k.chars().count() > 64)
        {
            return Err(Error::field(
                "alias_config",
                "at most 50 requirements of 1 to 64 characters",
            ));
        }
        Ok(())
    }

    /// Checks an item's identifiers; the error's details list every missing requirement.
    pub fn check(&self, identifiers: &[Identifier]) -> Result<(), Error> {
        let has_canonical = |registry: &str| {
            identifiers
                .iter()
                .any(|i| i.is_canonical() && i.key.eq_ignore_ascii_case(registry))
        };
        let has_contextual = |key: &str| identifiers.iter().any(|i| !i.is_canonical() && i.key == key);
        let missing_canonical: Vec<&String> = self.required_canonical.iter().filter(|r| !has_canonical(r)).collect();
        let missing_contextual: Vec<&String> = self.required_contextual.iter().filter(|k| !has_contextual(k)).collect();
        let disallowed: Vec<&str> = match &self.allowed_namespaces {
            Some(allowed) if !allowed.is_empty() => identifiers
                .iter()
                .filter(|i| !allowed.contains(&i.namespace))
                .map(|i| i.namespace.as_str())
                .collect(),
            _ => Vec::new(),
        };
        if missing_canonical.is_empty() && missing_contextual.is_empty() && disallowed.is_empty() {
            return Ok(());
        }
        Err(Error::invalid(
            "alias_requirements_not_met",
            "the item's identifiers do not meet this circuit's requirements",
        )
        .with_details(json!({
            "missing_canonical": missing_canonical,
            "missing_contextual": missing_contextual,
            "disallowed_namespaces": disallowed,
        })))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessMode {
    Public,
    Protected,
    Scheduled,
}

/// A circuit's public page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicSettings {
    pub enabled: bool,
    pub access_mode: AccessMode,
    /// argon2id hash; never returned.
    pub access_password_hash: Option<String>,
    pub scheduled_date: Option<Timestamp>,
    pub public_name: String,
    pub public_description: Option<String>,
    pub primary_color: Option<String>,
    pub secondary_color: Option<String>,
    pub logo_url: Option<String>,
    pub tagline: Option<String>,
    pub footer_text: Option<String>,
    pub auto_publish_pushed_items: bool,
    pub auto_approve_members: bool,
    /// When the page was last enabled.
    pub public_since: Option<Timestamp>,
}

impl PublicSettings {
    /// Whether anyone may open the page now (a password may still be needed).
    pub fn is_open(&self, settings: &CircuitSettings, status: CircuitStatus, now: Timestamp) -> bool {
        self.enabled
            && settings.allow_public_visibility
            && status == CircuitStatus::Active
            && (self.access_mode != AccessMode::Scheduled || self.scheduled_date.is_some_and(|at| at <= now))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitStatus {
    Active,
    Inactive,
}

impl CircuitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitStatus::Active => "Active",
            CircuitStatus::Inactive => "Inactive",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Circuit {
    pub circuit_id: String,
    pub name: String,
    pub description: Option<String>,
    pub owner_id: String,
    pub status: CircuitStatus,
    pub settings: CircuitSettings,
    pub alias_config: AliasConfig,
    /// `none`, `local`, `ipfs-ipfs`, ...
    pub adapter_type: String,
    pub public: Option<PublicSettings>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Circuit {
    /// 409 `circuit_inactive` for a deactivated circuit.
    pub fn require_active(&self) -> Result<(), Error> {
        match self.status {
            CircuitStatus::Active => Ok(()),
            CircuitStatus::Inactive => Err(Error::conflict("circuit_inactive", "this circuit is deactivated")),
        }
    }

    /// Whether the Owner's or anyone's operation of this kind needs a manager's approval.
    pub fn needs_approval(&self, requester: &Member, push: bool) -> bool {
        let required = if push {
            self.settings.require_approval_for_push
        } else {
            self.settings.require_approval_for_pull
        };
        required && requester.role != MemberRole::Owner
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "Pending",
            RequestStatus::Approved => "Approved",
            RequestStatus::Rejected => "Rejected",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct JoinRequest {
    pub circuit_id: String,
    pub user_id: String,
    pub username: String,
    pub message: Option<String>,
    pub status: RequestStatus,
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub reason: Option<String>,
}

/// An item in a circuit.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitItem {
    pub circuit_id: String,
    pub dfid: String,
    pub pushed_by: String,
    pub pushed_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;
    use chrono::Utc;

    fn member(user: &str, role: MemberRole, custom: Option<PermissionSet>) -> Member {
        Member {
            circuit_id: "c".into(),
            user_id: user.into(),
            username: user.into(),
            role,
            custom_role: custom.map(|_| "r".into()),
            custom_permissions: custom,
            joined_at: Utc::now(),
        }
    }

    #[test]
    fn role_matrix() {
        assert_eq!(MemberRole::Owner.permissions().list().len(), 9);
        assert_eq!(
            MemberRole::Admin.permissions().list(),
            vec![Push, Pull, Invite, ManageMembers, Certify, ManageRoles]
        );
        assert_eq!(MemberRole::Member.permissions().list(), vec![Push, Pull]);
        assert_eq!(MemberRole::Viewer.permissions().list(), vec![Pull]);
        assert!(!MemberRole::Admin.permissions().has(ManagePermissions));
        let viewer_plus = member("v", MemberRole::Viewer, Some(PermissionSet::of(&[Push])));
        assert!(viewer_plus.can(Push) && viewer_plus.can(Pull) && !viewer_plus.can(Invite));
    }

    #[test]
    fn only_the_owner_adds_admins() {
        let owner = member("o", MemberRole::Owner, None);
        let admin = member("a", MemberRole::Admin, None);
        let plain = member("m", MemberRole::Member, None);
        assert!(check_grant_role(&owner, MemberRole::Admin, Invite).is_ok());
        assert_eq!(
            check_grant_role(&admin, MemberRole::Admin, Invite).unwrap_err().code,
            "privilege_escalation"
        );
        assert!(check_grant_role(&admin, MemberRole::Member, Invite).is_ok());
        assert_eq!(
            check_grant_role(&plain, MemberRole::Viewer, Invite).unwrap_err().code,
            "insufficient_permissions"
        );
        assert_eq!(
            check_grant_role(&owner, MemberRole::Owner, Invite).unwrap_err().code,
            "validation_error"
        );
        // Invite without Push cannot add a Member (Member holds Push).
        let inviter = member("i", MemberRole::Viewer, Some(PermissionSet::of(&[Invite])));
        assert_eq!(
            check_grant_role(&inviter, MemberRole::Member, Invite).unwrap_err().code,
            "privilege_escalation"
        );
        assert!(check_grant_role(&inviter, MemberRole::Viewer, Invite).is_ok());
    }

    #[test]
    fn member_changes() {
        let owner = member("o", MemberRole::Owner, None);
        let admin = member("a", MemberRole::Admin, None);
        let other_admin = member("a2", MemberRole::Admin, None);
        let plain = member("m", MemberRole::Member, None);
        assert!(check_change_member(&admin, &plain, MemberRole::Viewer, None).is_ok());
        assert_eq!(
            check_change_member(&admin, &admin, MemberRole::Member, None)
                .unwrap_err()
                .code,
            "privilege_escalation"
        );
        assert_eq!(
            check_change_member(&admin, &owner, MemberRole::Member, None)
                .unwrap_err()
                .code,
            "privilege_escalation"
        );
        assert_eq!(
            check_change_member(&admin, &other_admin, MemberRole::Member, None)
                .unwrap_err()
                .code,
            "privilege_escalation"
        );
        assert_eq!(
            check_change_member(&admin, &plain, MemberRole::Admin, None)
                .unwrap_err()
                .code,
            "privilege_escalation"
        );
        assert!(check_change_member(&owner, &plain, MemberRole::Admin, None).is_ok());
        assert!(check_change_member(&owner, &admin, MemberRole::Member, None).is_ok());
        // A custom role carrying ManagePermissions is beyond an Admin.
        let beyond = Some(PermissionSet::of(&[ManagePermissions]));
        assert_eq!(
            check_change_member(&admin, &plain, MemberRole::Member, beyond)
                .unwrap_err()
                .code,
            "privilege_escalation"
        );
        assert!(check_change_member(&owner, &plain, MemberRole::Member, beyond).is_ok());
        assert_eq!(
            check_change_member(&plain, &admin, MemberRole::Viewer, None)
                .unwrap_err()
                .code,
            "insufficient_permissions"
        );
    }

    #[test]
    fn removals() {
        let owner = member("o", MemberRole::Owner, None);
        let admin = member("a", MemberRole::Admin, None);
        let plain = member("m", MemberRole::Member, None);
        assert_eq!(
            check_remove_member(&owner, &owner).unwrap_err().code,
            "privilege_escalation"
        );
        assert_eq!(
            check_remove_member(&admin, &owner).unwrap_err().code,
            "privilege_escalation"
        );
        assert!(check_remove_member(&plain, &plain).is_ok(), "members may leave");
        assert!(check_remove_member(&admin, &plain).is_ok());
        assert_eq!(
            check_remove_member(&plain, &admin).unwrap_err().code,
            "insufficient_permissions"
        );
        let admin2 = member("a2", MemberRole::Admin, None);
        assert_eq!(
            check_remove_member(&admin, &admin2).unwrap_err().code,
            "privilege_escalation"
        );
        assert!(check_remove_member(&owner, &admin).is_ok());
    }

    #[test]
    fn roles_are_subsets() {
        let admin = member("a", MemberRole::Admin, None);
        assert!(check_role_permissions(&admin, PermissionSet::of(&[Push, Certify])).is_ok());
        assert_eq!(
            check_role_permissions(&admin, PermissionSet::of(&[Audit]))
                .unwrap_err()
                .code,
            "privilege_escalation"
        );
        let plain = member("m", MemberRole::Member, None);
        assert_eq!(
            check_role_permissions(&plain, PermissionSet::of(&[Push]))
                .unwrap_err()
                .code,
            "insufficient_permissions"
        );
    }

    #[test]
    fn alias_requirements() {
        let config = AliasConfig {
            required_canonical: vec!["sisbov".into()],
            required_contextual: vec!["brinco".into()],
            allowed_namespaces: Some(vec![Namespace::Bovino]),
            default_namespace: Some(Namespace::Bovino),
        };
        let sisbov = Identifier {
            namespace: Namespace::Bovino,
            key: "sisbov".into(),
            value: "BR123456789012".into(),
            id_type: crate::domain::items::identifier::IdType::Canonical,
            scope: None,
            verified: false,
        };
        let err = config.check(std::slice::from_ref(&sisbov)).unwrap_err();
        assert_eq!(err.details.as_ref().unwrap()["missing_contextual"], json!(["brinco"]));
        let mut brinco = sisbov.clone();
        brinco.key = "brinco".into();
        brinco.id_type = crate::domain::items::identifier::IdType::Contextual;
        assert!(config.check(&[sisbov.clone(), brinco.clone()]).is_ok());
        brinco.namespace = Namespace::Soja;
        let err = config.check(&[sisbov, brinco]).unwrap_err();
        assert_eq!(err.details.unwrap()["disallowed_namespaces"], json!(["soja"]));
    }

    #[test]
    fn approval_gate_spares_the_owner() {
        let circuit = Circuit {
            circuit_id: "c".into(),
            name: "n".into(),
            description: None,
            owner_id: "o".into(),
            status: CircuitStatus::Active,
            settings: CircuitSettings {
                require_approval_for_push: true,
                require_approval_for_pull: false,
                allow_public_visibility: false,
            },
            alias_config: AliasConfig::default(),
            adapter_type: "none".into(),
            public: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert!(!circuit.needs_approval(&member("o", MemberRole::Owner, None), true));
        assert!(circuit.needs_approval(&member("m", MemberRole::Member, None), true));
        assert!(!circuit.needs_approval(&member("m", MemberRole::Member, None), false));
    }
}
