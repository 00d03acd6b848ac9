//! Roles and permissions in a circuit, and the rules that stop anyone from granting what they do
//! not hold.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::{Error, Timestamp};

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Permission {
        Push = "Push",
        Pull = "Pull",
        Invite = "Invite",
        ManageMembers = "ManageMembers",
        ManagePermissions = "ManagePermissions",
        Delete = "Delete",
        Certify = "Certify",
        Audit = "Audit",
        ManageRoles = "ManageRoles",
    }
}

impl Permission {
    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl FromStr for Permission {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Permission::from_text(text).ok_or_else(|| Error::field("permissions", format!("unknown permission {text:?}")))
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
        Self::of(Permission::ALL)
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
        Permission::ALL.iter().copied().filter(|p| self.has(*p)).collect()
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

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum MemberRole {
        Owner = "Owner",
        Admin = "Admin",
        Member = "Member",
        Viewer = "Viewer",
    }
}

impl MemberRole {
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
        Self::from_text(text).ok_or_else(|| Error::field("role", format!("unknown role {text:?}")))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::member;
    use Permission::*;

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
}
