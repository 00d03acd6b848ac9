//! Membership and role rules of [`MemberService`]: nobody grants more than they hold.

use std::sync::Arc;

use crate::domain::ErrorKind;
use crate::domain::circuits::circuit::CircuitSettings;
use crate::domain::circuits::member_service::{Invitee, MemberService, RoleInput};
use crate::domain::circuits::roles::{MemberRole, Permission, PermissionSet};
use crate::domain::testing::{FixedClock, MemoryStore, SequentialIds, assert_refused, cid, meta, principal, uid};

struct World {
    store: Arc<MemoryStore>,
    members: MemberService,
}

/// Circuit `c` owned by `owner`, with `admin` (Admin) and `member` (Member); `newcomer` has an
/// account and no membership.
fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    store.add_circuit("c", "owner", CircuitSettings::default());
    store.add_member("c", "admin", MemberRole::Admin);
    store.add_member("c", "member", MemberRole::Member);
    for user in ["owner", "admin", "member", "newcomer"] {
        store.add_account(user, "secret-password");
    }
    World {
        members: MemberService {
            store: store.clone(),
            clock: Arc::new(FixedClock::default()),
            ids: Arc::new(SequentialIds::default()),
        },
        store,
    }
}

fn role(permissions: &[Permission]) -> RoleInput {
    RoleInput {
        role_name: "auditor".into(),
        permissions: PermissionSet::of(permissions),
        description: None,
        color: None,
    }
}

#[tokio::test]
async fn only_the_owner_adds_admins() {
    let w = world();
    let by_admin = w
        .members
        .add_member(
            &principal("admin"),
            &cid("c"),
            Invitee::Id(uid("newcomer")),
            MemberRole::Admin,
            &meta(),
        )
        .await;
    assert_refused(by_admin, ErrorKind::Forbidden, "privilege_escalation");
    let by_owner = w
        .members
        .add_member(
            &principal("owner"),
            &cid("c"),
            Invitee::Id(uid("newcomer")),
            MemberRole::Admin,
            &meta(),
        )
        .await
        .unwrap();
    assert_eq!(by_owner.role, MemberRole::Admin);
}

#[tokio::test]
async fn a_member_without_invite_adds_nobody() {
    let w = world();
    let result = w
        .members
        .add_member(
            &principal("member"),
            &cid("c"),
            Invitee::Id(uid("newcomer")),
            MemberRole::Viewer,
            &meta(),
        )
        .await;
    assert_refused(result, ErrorKind::Forbidden, "insufficient_permissions");
    assert!(w.store.member_now("c", "newcomer").is_none());
}

#[tokio::test]
async fn a_circuit_has_one_owner() {
    let w = world();
    let result = w
        .members
        .add_member(
            &principal("owner"),
            &cid("c"),
            Invitee::Id(uid("newcomer")),
            MemberRole::Owner,
            &meta(),
        )
        .await;
    assert_refused(result, ErrorKind::Invalid, "validation_error");
}

#[tokio::test]
async fn adding_someone_twice_is_a_conflict() {
    let w = world();
    let result = w
        .members
        .add_member(
            &principal("owner"),
            &cid("c"),
            Invitee::Id(uid("member")),
            MemberRole::Viewer,
            &meta(),
        )
        .await;
    assert_refused(result, ErrorKind::Conflict, "already_member");
}

#[tokio::test]
async fn an_admin_cannot_change_the_owners_role() {
    let w = world();
    let result = w
        .members
        .update_member(
            &principal("admin"),
            &cid("c"),
            &uid("owner"),
            Some(MemberRole::Member),
            None,
            &meta(),
        )
        .await;
    assert_refused(result, ErrorKind::Forbidden, "privilege_escalation");
}

#[tokio::test]
async fn nobody_changes_their_own_role() {
    let w = world();
    let result = w
        .members
        .update_member(
            &principal("admin"),
            &cid("c"),
            &uid("admin"),
            Some(MemberRole::Member),
            None,
            &meta(),
        )
        .await;
    assert_refused(result, ErrorKind::Forbidden, "privilege_escalation");
}

#[tokio::test]
async fn a_custom_role_holds_only_permissions_its_creator_holds() {
    let w = world();
    let beyond = w
        .members
        .save_role(
            &principal("admin"),
            &cid("c"),
            None,
            role(&[Permission::ManagePermissions]),
            &meta(),
        )
        .await;
    assert_refused(beyond, ErrorKind::Forbidden, "privilege_escalation");
    let within = w
        .members
        .save_role(
            &principal("admin"),
            &cid("c"),
            None,
            role(&[Permission::Pull, Permission::Certify]),
            &meta(),
        )
        .await
        .unwrap();
    assert_eq!(
        within.permissions,
        PermissionSet::of(&[Permission::Pull, Permission::Certify])
    );
}

#[tokio::test]
async fn assigning_a_custom_role_grants_its_permissions_to_the_member() {
    let w = world();
    let created = w
        .members
        .save_role(
            &principal("owner"),
            &cid("c"),
            None,
            role(&[Permission::Certify]),
            &meta(),
        )
        .await
        .unwrap();
    w.members
        .update_member(
            &principal("owner"),
            &cid("c"),
            &uid("member"),
            None,
            Some(Some(created.role_id.clone())),
            &meta(),
        )
        .await
        .unwrap();
    let member = w.store.member_now("c", "member").unwrap();
    assert!(member.can(Permission::Certify));
    assert!(member.can(Permission::Push), "the base role stays");
}

#[tokio::test]
async fn a_role_someone_holds_cannot_be_deleted() {
    let w = world();
    w.store
        .give_custom_role("c", "member", "role-1", PermissionSet::of(&[Permission::Certify]));
    let result = w
        .members
        .delete_role(&principal("owner"), &cid("c"), "role-1", &meta())
        .await;
    assert_refused(result, ErrorKind::Conflict, "role_in_use");
}

#[tokio::test]
async fn the_owner_can_neither_leave_nor_be_removed() {
    let w = world();
    let leaving = w
        .members
        .remove_member(&principal("owner"), &cid("c"), &uid("owner"), &meta())
        .await;
    assert_refused(leaving, ErrorKind::Forbidden, "privilege_escalation");
    let removed = w
        .members
        .remove_member(&principal("admin"), &cid("c"), &uid("owner"), &meta())
        .await;
    assert_refused(removed, ErrorKind::Forbidden, "privilege_escalation");
}

#[tokio::test]
async fn only_the_owner_removes_admins_but_anyone_may_leave() {
    let w = world();
    w.store.add_member("c", "admin2", MemberRole::Admin);
    let by_admin = w
        .members
        .remove_member(&principal("admin"), &cid("c"), &uid("admin2"), &meta())
        .await;
    assert_refused(by_admin, ErrorKind::Forbidden, "privilege_escalation");
    w.members
        .remove_member(&principal("member"), &cid("c"), &uid("member"), &meta())
        .await
        .unwrap();
    assert!(w.store.member_now("c", "member").is_none());
}

#[tokio::test]
async fn a_username_invitation_matches_usernames_only_never_emails() {
    let w = world();
    let by_email = w
        .members
        .add_member(
            &principal("owner"),
            &cid("c"),
            Invitee::Username("newcomer@example.com".into()),
            MemberRole::Viewer,
            &meta(),
        )
        .await;
    assert_refused(by_email, ErrorKind::NotFound, "not_found");
    let by_username = w
        .members
        .add_member(
            &principal("owner"),
            &cid("c"),
            Invitee::Username(" NewComer ".into()),
            MemberRole::Viewer,
            &meta(),
        )
        .await
        .unwrap();
    assert_eq!(by_username.user_id, "newcomer");
}
