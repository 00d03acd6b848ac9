//! The push, pull and approval rules of [`PushService`], on the in-memory store.

use std::sync::Arc;

use crate::domain::changes::Change;
use crate::domain::circuits::circuit::{CircuitSettings, CircuitStatus};
use crate::domain::circuits::operation::{Decision, OperationStatus};
use crate::domain::circuits::push_local::{LocalPush, PushLocalResult, PushOutcome};
use crate::domain::circuits::push_service::PushService;
use crate::domain::circuits::roles::MemberRole;
use crate::domain::items::conflicts::ConflictLimit;
use crate::domain::items::identifier::IdentifierInput;
use crate::domain::partners::trigger::TriggerKind;
use crate::domain::testing::{
    CountingLimiter, FixedClock, MemoryStore, SequentialIds, assert_refused, canonical, cid, dfid, meta, principal,
};
use crate::domain::{ErrorKind, Result};

pub(super) struct World {
    pub(super) store: Arc<MemoryStore>,
    pub(super) push: PushService,
}

/// Circuit `c` owned by `owner`, with `member` as a Member, under `settings`.
pub(super) fn world(settings: CircuitSettings) -> World {
    let store = Arc::new(MemoryStore::default());
    store.add_circuit("c", "owner", settings);
    store.add_member("c", "member", MemberRole::Member);
    let clock = Arc::new(FixedClock::default());
    let ids = Arc::new(SequentialIds::default());
    World {
        push: PushService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            conflicts: ConflictLimit::new(Arc::new(CountingLimiter::default()), store.clone(), clock, ids),
        },
        store,
    }
}

impl World {
    /// `user` pushes a new local item `lid-1` carrying SISBOV BR123456789012 into `c`.
    async fn push_new_local(&self, user: &str) -> Result<PushLocalResult> {
        self.store.add_local_item("lid-1", user, vec![]);
        self.push
            .push_local(
                &principal(user),
                &cid("c"),
                local_push("lid-1", vec![sisbov("BR123456789012")]),
                &meta(),
            )
            .await
    }
}

pub(super) fn open_circuit() -> World {
    world(CircuitSettings::default())
}

pub(super) fn approval_circuit() -> World {
    world(CircuitSettings {
        require_approval_for_push: true,
        require_approval_for_pull: true,
        ..CircuitSettings::default()
    })
}

pub(super) fn sisbov(value: &str) -> IdentifierInput {
    IdentifierInput {
        namespace: None,
        key: "sisbov".into(),
        value: value.into(),
        id_type: None,
        scope: None,
        verified: None,
    }
}

fn triggers(changes: &[Change]) -> Vec<TriggerKind> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Trigger(t) => Some(t.kind),
            _ => None,
        })
        .collect()
}

pub(super) fn local_push(local_id: &str, identifiers: Vec<IdentifierInput>) -> LocalPush {
    LocalPush {
        local_id: local_id.to_owned(),
        identifiers,
        enriched_data: None,
    }
}

#[tokio::test]
async fn push_local_with_a_new_canonical_identifier_mints_a_dfid_and_maps_the_local_item() {
    let w = open_circuit();
    let result = w.push_new_local("member").await.unwrap();
    assert_eq!(result.outcome, PushOutcome::NewItemCreated);
    assert!(result.operation.minted);
    assert!(
        result.operation.operation_id.starts_with("id-"),
        "ids come from the IdGenerator port"
    );
    assert_eq!(w.store.local_item_now("lid-1").unwrap().dfid, Some(result.dfid.clone()));
    let item = w.store.item_now(&result.dfid).expect("the item exists");
    assert_eq!(item.created_by, "member", "the pusher owns what they tokenized");
    assert!(
        item.identifiers
            .iter()
            .any(|i| i.key == "sisbov" && i.value == "BR123456789012")
    );
}

#[tokio::test]
async fn push_local_naming_an_item_the_caller_owns_enriches_it_instead_of_minting() {
    let w = open_circuit();
    w.store
        .add_item(&dfid(1), "member", vec![canonical("sisbov", "BR123456789012")]);
    let result = w.push_new_local("member").await.unwrap();
    assert_eq!(result.outcome, PushOutcome::ExistingItemEnriched);
    assert_eq!(result.dfid, dfid(1));
    assert!(!result.operation.minted);
    assert_eq!(w.store.item_count(), 1, "no second item for the same identifier");
}

#[tokio::test]
async fn push_local_naming_another_users_item_is_a_conflict_that_writes_nothing() {
    let w = open_circuit();
    w.store
        .add_item(&dfid(1), "stranger", vec![canonical("sisbov", "BR123456789012")]);
    let result = w.push_new_local("member").await;
    assert_refused(result, ErrorKind::Conflict, "identifier_conflict");
    // Only the audit of the conflict, which names the identifier and not the item holding it.
    match w.store.committed().as_slice() {
        [Change::Audit(entry)] => {
            assert_eq!(entry.action, "identifier_conflict");
            assert!(!entry.details.to_string().contains(&dfid(1)));
        }
        other => panic!("expected one audit entry, got {other:?}"),
    }
    assert_eq!(w.store.local_item_now("lid-1").unwrap().dfid, None);
}

#[tokio::test]
async fn the_thirty_first_conflict_in_an_hour_is_refused_with_429() {
    let w = open_circuit();
    w.store
        .add_item(&dfid(1), "stranger", vec![canonical("sisbov", "BR123456789012")]);
    for _ in 0..30 {
        assert_refused(
            w.push_new_local("member").await,
            ErrorKind::Conflict,
            "identifier_conflict",
        );
    }
    assert_refused(w.push_new_local("member").await, ErrorKind::RateLimited, "rate_limited");
    let audited = w
        .store
        .committed()
        .iter()
        .filter(|c| matches!(c, Change::Audit(e) if e.action == "identifier_conflict"))
        .count();
    assert_eq!(audited, 31);
}

#[tokio::test]
async fn push_local_naming_two_different_items_is_a_conflict() {
    let w = open_circuit();
    w.store
        .add_item(&dfid(1), "member", vec![canonical("sisbov", "BR123456789012")]);
    w.store
        .add_item(&dfid(2), "member", vec![canonical("cpf", "52998224725")]);
    w.store.add_local_item("lid-1", "member", vec![]);
    let inputs = vec![
        sisbov("BR123456789012"),
        IdentifierInput {
            key: "cpf".into(),
            value: "52998224725".into(),
            ..sisbov("")
        },
    ];
    let result = w
        .push
        .push_local(&principal("member"), &cid("c"), local_push("lid-1", inputs), &meta())
        .await;
    assert_refused(result, ErrorKind::Conflict, "identifier_conflict");
}

#[tokio::test]
async fn push_local_of_someone_elses_local_item_is_not_found() {
    let w = open_circuit();
    w.store.add_local_item("lid-1", "owner", vec![]);
    let result = w
        .push
        .push_local(&principal("member"), &cid("c"), local_push("lid-1", vec![]), &meta())
        .await;
    assert_refused(result, ErrorKind::NotFound, "not_found");
}

#[tokio::test]
async fn push_local_needs_the_push_permission() {
    let w = open_circuit();
    w.store.add_member("c", "viewer", MemberRole::Viewer);
    w.store.add_local_item("lid-1", "viewer", vec![]);
    let result = w
        .push
        .push_local(&principal("viewer"), &cid("c"), local_push("lid-1", vec![]), &meta())
        .await;
    assert_refused(result, ErrorKind::Forbidden, "insufficient_permissions");
}

#[tokio::test]
async fn push_local_into_a_circuit_the_caller_is_not_in_is_not_found() {
    let w = open_circuit();
    w.store.add_local_item("lid-1", "stranger", vec![]);
    let result = w
        .push
        .push_local(&principal("stranger"), &cid("c"), local_push("lid-1", vec![]), &meta())
        .await;
    assert_refused(result, ErrorKind::NotFound, "not_found");
}

#[tokio::test]
async fn push_local_into_a_deactivated_circuit_is_refused() {
    let w = open_circuit();
    w.store.update_circuit("c", |c| c.status = CircuitStatus::Inactive);
    w.store.add_local_item("lid-1", "member", vec![]);
    let result = w
        .push
        .push_local(&principal("member"), &cid("c"), local_push("lid-1", vec![]), &meta())
        .await;
    assert_refused(result, ErrorKind::Conflict, "circuit_inactive");
}

#[tokio::test]
async fn a_push_without_approval_completes_at_once_and_announces_pushed_and_tokenized() {
    let w = open_circuit();
    let result = w.push_new_local("member").await.unwrap();
    assert_eq!(result.operation.status, OperationStatus::Completed);
    assert_eq!(w.store.items_in("c"), vec![result.dfid]);
    assert_eq!(
        triggers(&w.store.committed()),
        vec![TriggerKind::ItemPushed, TriggerKind::ItemTokenized]
    );
}

#[tokio::test]
async fn a_push_needing_approval_waits_tells_the_managers_and_announces_nothing() {
    let w = approval_circuit();
    let result = w.push_new_local("member").await.unwrap();
    assert_eq!(result.operation.status, OperationStatus::Pending);
    assert!(w.store.items_in("c").is_empty(), "not in the circuit before approval");
    let committed = w.store.committed();
    assert!(triggers(&committed).is_empty(), "partners hear nothing before approval");
    let notified: Vec<&str> = committed
        .iter()
        .filter_map(|c| match c {
            Change::Notify(n) => Some(n.user_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(notified, vec!["owner"]);
}

#[tokio::test]
async fn the_owner_pushes_without_waiting_for_approval() {
    let w = approval_circuit();
    let result = w.push_new_local("owner").await.unwrap();
    assert_eq!(result.operation.status, OperationStatus::Completed);
}

#[tokio::test]
async fn pushing_the_same_local_item_twice_returns_the_open_operation() {
    let w = approval_circuit();
    w.store.add_local_item("lid-1", "member", vec![]);
    let caller = principal("member");
    let first = w
        .push
        .push_local(
            &caller,
            &cid("c"),
            local_push("lid-1", vec![sisbov("BR123456789012")]),
            &meta(),
        )
        .await
        .unwrap();
    let second = w
        .push
        .push_local(&caller, &cid("c"), local_push("lid-1", vec![]), &meta())
        .await
        .unwrap();
    assert_eq!(second.outcome, PushOutcome::AlreadyPushed);
    assert_eq!(second.operation.operation_id, first.operation.operation_id);
}

#[tokio::test]
async fn approving_a_push_puts_the_item_in_the_circuit_and_announces_approved() {
    let w = approval_circuit();
    let pending = w.push_new_local("member").await.unwrap();
    w.store.clear_log();
    let decided = w
        .push
        .decide(
            &principal("owner"),
            &cid("c"),
            &pending.operation.operation_id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
    assert_eq!(decided.status, OperationStatus::Completed);
    assert_eq!(w.store.items_in("c"), vec![pending.dfid]);
    let announced = triggers(&w.store.committed());
    assert!(announced.contains(&TriggerKind::ItemApproved));
    assert!(announced.contains(&TriggerKind::ItemPushed));
}

#[tokio::test]
async fn rejecting_a_push_keeps_the_item_out_and_announces_nothing() {
    let w = approval_circuit();
    let pending = w.push_new_local("member").await.unwrap();
    w.store.clear_log();
    let decided = w
        .push
        .decide(
            &principal("owner"),
            &cid("c"),
            &pending.operation.operation_id,
            Decision::Reject,
            Some("wrong lot".into()),
        )
        .await
        .unwrap();
    assert_eq!(decided.status, OperationStatus::Rejected);
    assert!(w.store.items_in("c").is_empty());
    assert!(triggers(&w.store.committed()).is_empty());
}

#[tokio::test]
async fn nobody_approves_their_own_push_even_with_manage_members() {
    let w = approval_circuit();
    w.store.add_member("c", "admin", MemberRole::Admin);
    let pending = w.push_new_local("admin").await.unwrap();
    assert_eq!(
        pending.operation.status,
        OperationStatus::Pending,
        "an Admin's push waits too"
    );
    let result = w
        .push
        .decide(
            &principal("admin"),
            &cid("c"),
            &pending.operation.operation_id,
            Decision::Approve,
            None,
        )
        .await;
    assert_refused(result, ErrorKind::Forbidden, "self_approval");
}

#[tokio::test]
async fn deciding_an_operation_needs_manage_members() {
    let w = approval_circuit();
    w.store.add_member("c", "other", MemberRole::Member);
    let pending = w.push_new_local("member").await.unwrap();
    let result = w
        .push
        .decide(
            &principal("other"),
            &cid("c"),
            &pending.operation.operation_id,
            Decision::Approve,
            None,
        )
        .await;
    assert_refused(result, ErrorKind::Forbidden, "insufficient_permissions");
}

#[tokio::test]
async fn an_operation_is_decided_only_once() {
    let w = approval_circuit();
    let pending = w.push_new_local("member").await.unwrap();
    let id = pending.operation.operation_id;
    w.push
        .decide(&principal("owner"), &cid("c"), &id, Decision::Approve, None)
        .await
        .unwrap();
    let again = w
        .push
        .decide(&principal("owner"), &cid("c"), &id, Decision::Reject, None)
        .await;
    assert_refused(again, ErrorKind::Conflict, "operation_not_pending");
}

#[tokio::test]
async fn pulling_an_item_that_is_not_in_the_circuit_is_not_found() {
    let w = open_circuit();
    w.store.add_item(&dfid(1), "owner", vec![]);
    let result = w.push.pull(&principal("member"), &cid("c"), &dfid(1)).await;
    assert_refused(result, ErrorKind::NotFound, "not_found");
}

#[tokio::test]
async fn pulling_without_approval_grants_the_puller_access_to_the_item() {
    let w = open_circuit();
    w.store.add_item(&dfid(1), "owner", vec![]);
    w.store.put_item_in_circuit("c", &dfid(1));
    let pulled = w.push.pull(&principal("member"), &cid("c"), &dfid(1)).await.unwrap();
    assert_eq!(pulled.operation.status, OperationStatus::Completed);
    assert!(w.store.committed().iter().any(|c| matches!(
        c,
        Change::GrantItemAccess { user_id, .. } if user_id == "member"
    )));
}

#[tokio::test]
async fn only_the_owner_places_an_item_in_a_circuit() {
    let w = open_circuit();
    w.store.add_member("c", "viewer", MemberRole::Viewer);
    w.store.add_member("c", "partner", MemberRole::Member);
    w.store.add_circuit("d", "viewer", CircuitSettings::default());
    w.store.add_circuit("e", "partner", CircuitSettings::default());
    w.store.add_item(&dfid(1), "owner", vec![]);
    w.store.put_item_in_circuit("c", &dfid(1));
    let result = w.push.push(&principal("viewer"), &cid("d"), &dfid(1)).await;
    assert_refused(result, ErrorKind::Forbidden, "owner_required");
    // A partner who may change the item still may not take it into a circuit of their own.
    let result = w.push.push(&principal("partner"), &cid("e"), &dfid(1)).await;
    assert_refused(result, ErrorKind::Forbidden, "owner_required");
    assert!(!w.store.holds("e", &dfid(1)));
}
