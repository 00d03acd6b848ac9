//! The rules of [`DisputeService`], on the in-memory store.

use std::sync::Arc;

use crate::domain::ErrorKind;
use crate::domain::items::dispute::{DisputeDecision, DisputeId, DisputeStatus};
use crate::domain::items::dispute_service::DisputeService;
use crate::domain::testing::{
    FixedClock, MemoryStore, SequentialIds, assert_refused, canonical, dfid, meta, principal,
};

const CPF: &str = "52998224725";

/// Mallory's item 1 holds the CPF; Alice's item 2 should.
fn world() -> (Arc<MemoryStore>, DisputeService) {
    let store = Arc::new(MemoryStore::default());
    store.add_item(&dfid(1), "mallory", vec![canonical("cpf", CPF)]);
    store.add_item(&dfid(2), "alice", vec![]);
    let service = DisputeService {
        store: store.clone(),
        clock: Arc::new(FixedClock::default()),
        ids: Arc::new(SequentialIds::default()),
    };
    (store, service)
}

#[tokio::test]
async fn only_the_claimants_own_item_can_be_claimed_for() {
    let (_, disputes) = world();
    let theirs = disputes
        .open(&principal("alice"), "cpf", CPF, &dfid(1), None, &meta())
        .await;
    assert_refused(theirs, ErrorKind::NotFound, "not_found");
}

#[tokio::test]
async fn reassigning_moves_the_identifier_and_decides_once() {
    let (store, disputes) = world();
    let opened = disputes
        .open(
            &principal("alice"),
            "cpf",
            "529.982.247-25",
            &dfid(2),
            Some("papers".into()),
            &meta(),
        )
        .await
        .unwrap();
    assert_eq!(opened.value, CPF, "normalised as items store it");
    let cases = disputes
        .cases(Some(DisputeStatus::Open), &crate::domain::page::PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(cases.data[0].holder_dfid.as_deref(), Some(dfid(1).as_str()));

    let id = DisputeId::parse(&opened.dispute_id).unwrap();
    let admin = principal("root");
    let resolved = disputes
        .resolve(&admin, &id, DisputeDecision::Reassign, None, &meta())
        .await
        .unwrap();
    assert_eq!(resolved.status, DisputeStatus::Reassigned);
    let holds = |n: u64| {
        store
            .item_now(&dfid(n))
            .unwrap()
            .identifiers
            .iter()
            .any(|i| i.value == CPF)
    };
    assert!(holds(2) && !holds(1));
    let again = disputes
        .resolve(&admin, &id, DisputeDecision::Reject, None, &meta())
        .await;
    assert_refused(again, ErrorKind::Conflict, "dispute_not_open");
}
