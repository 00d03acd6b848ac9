//! Pushing many local items at once, on the in-memory store: all or none, each refusal named by
//! the item's index, and no more identifier probing than single pushes allow.

use crate::domain::changes::Change;
use crate::domain::circuits::push_local::{LocalPush, PushOutcome};
use crate::domain::circuits::push_service_tests::{World, approval_circuit, local_push, open_circuit, sisbov};
use crate::domain::testing::{assert_refused, canonical, cid, dfid, meta, principal};
use crate::domain::{Error, ErrorKind, Result};

impl World {
    async fn push_batch(
        &self,
        pushes: Vec<LocalPush>,
    ) -> Result<Vec<crate::domain::circuits::push_local::PushLocalResult>> {
        self.push
            .push_local_batch(&principal("member"), &cid("c"), pushes, &meta())
            .await
    }
}

/// The listed `(field, code)` of a refused batch.
fn row_errors(error: &Error) -> Vec<(String, String)> {
    let details = error.details.as_ref().expect("a refused batch lists its rows");
    details["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn mints(w: &World) -> usize {
    w.store
        .committed()
        .iter()
        .filter(|c| matches!(c, Change::InsertItem(_)))
        .count()
}

#[tokio::test]
async fn a_batch_mints_one_dfid_per_new_local_item_in_the_order_sent() {
    let w = open_circuit();
    for lid in ["lid-1", "lid-2", "lid-3"] {
        w.store.add_local_item(lid, "member", vec![]);
    }
    let results = w
        .push_batch(vec![
            local_push("lid-3", vec![sisbov("BR000000000003")]),
            local_push("lid-1", vec![sisbov("BR000000000001")]),
            local_push("lid-2", vec![]),
        ])
        .await
        .unwrap();
    let local_ids: Vec<&str> = results.iter().map(|r| r.local_id.as_str()).collect();
    assert_eq!(local_ids, ["lid-3", "lid-1", "lid-2"]);
    assert!(results.iter().all(|r| r.outcome == PushOutcome::NewItemCreated));
    let dfids: Vec<String> = results.iter().map(|r| r.dfid.clone()).collect();
    assert_eq!(
        dfids,
        [dfid(1), dfid(2), dfid(3)],
        "one reservation of consecutive numbers"
    );
    for result in &results {
        assert_eq!(
            w.store.local_item_now(&result.local_id).unwrap().dfid.as_ref(),
            Some(&result.dfid)
        );
    }
}

#[tokio::test]
async fn one_item_that_cannot_be_pushed_refuses_the_batch_and_is_named_by_its_index() {
    let w = open_circuit();
    w.store.add_local_item("lid-1", "member", vec![]);
    w.store.add_local_item("lid-2", "stranger", vec![]);
    let result = w
        .push_batch(vec![local_push("lid-1", vec![]), local_push("lid-2", vec![])])
        .await;
    let error = result.expect_err("refused");
    assert_eq!((error.kind, error.code.as_ref()), (ErrorKind::Conflict, "rows_refused"));
    assert_eq!(
        row_errors(&error),
        [("items[1].local_id".to_owned(), "not_found".to_owned())]
    );
    assert_eq!(mints(&w), 0, "nothing written");
    assert_eq!(w.store.local_item_now("lid-1").unwrap().dfid, None);
}

#[tokio::test]
async fn two_items_claiming_one_new_identifier_are_refused_as_invalid_in_index_order() {
    let w = open_circuit();
    w.store.add_local_item("lid-1", "member", vec![]);
    w.store.add_local_item("lid-2", "member", vec![]);
    w.store.add_local_item("lid-3", "member", vec![]);
    let result = w
        .push_batch(vec![
            local_push("lid-1", vec![sisbov("BR000000000001")]),
            local_push("lid-2", vec![]),
            local_push("lid-3", vec![sisbov("BR000000000001")]),
            local_push("lid-1", vec![]),
        ])
        .await;
    let error = result.expect_err("refused");
    assert_eq!((error.kind, error.code.as_ref()), (ErrorKind::Invalid, "invalid_rows"));
    assert_eq!(
        row_errors(&error),
        [
            ("items[2].local_id".to_owned(), "claimed_in_batch".to_owned()),
            ("items[3].local_id".to_owned(), "claimed_in_batch".to_owned()),
        ]
    );
    assert_eq!(mints(&w), 0);
}

#[tokio::test]
async fn a_batch_enriches_an_item_the_caller_owns_and_reports_what_was_already_pushed() {
    let w = open_circuit();
    w.store
        .add_item(&dfid(1), "member", vec![canonical("sisbov", "BR000000000001")]);
    w.store.add_local_item("lid-1", "member", vec![]);
    let first = w
        .push_batch(vec![local_push("lid-1", vec![sisbov("BR000000000001")])])
        .await
        .unwrap();
    assert_eq!(first[0].outcome, PushOutcome::ExistingItemEnriched);
    assert_eq!(first[0].dfid, dfid(1));
    let again = w.push_batch(vec![local_push("lid-1", vec![])]).await.unwrap();
    assert_eq!(again[0].outcome, PushOutcome::AlreadyPushed);
    assert_eq!(w.store.item_count(), 1);
}

#[tokio::test]
async fn each_conflicting_item_of_a_batch_counts_toward_the_hourly_allowance() {
    let w = open_circuit();
    let mut pushes = Vec::new();
    for n in 1..=31 {
        let value = format!("BR{n:012}");
        w.store
            .add_item(&dfid(n), "stranger", vec![canonical("sisbov", &value)]);
        let lid = format!("lid-{n}");
        w.store.add_local_item(&lid, "member", vec![]);
        pushes.push(local_push(&lid, vec![sisbov(&value)]));
    }
    let thirty = w.push_batch(pushes[..30].to_vec()).await;
    let error = thirty.expect_err("refused");
    assert_eq!(row_errors(&error).len(), 30, "thirty conflicts fit in the allowance");
    assert!(row_errors(&error).iter().all(|(_, code)| code == "identifier_conflict"));
    // One more probe this hour tells nothing.
    assert_refused(
        w.push_batch(pushes[30..].to_vec()).await,
        ErrorKind::RateLimited,
        "rate_limited",
    );
    let audits = w
        .store
        .committed()
        .into_iter()
        .filter_map(|c| match c {
            Change::Audit(e) if e.action == "identifier_conflict" => Some(e),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert_eq!(audits.len(), 2, "one audit entry per request");
    assert_eq!(audits[0].details["identifiers"].as_array().map(Vec::len), Some(30));
    assert!(
        !audits[0].details.to_string().contains(&dfid(1)),
        "the holders are never named"
    );
}

#[tokio::test]
async fn a_batch_commits_its_changes_grouped_by_kind_parents_first() {
    let w = open_circuit();
    w.store.add_local_item("lid-1", "member", vec![]);
    w.store.add_local_item("lid-2", "member", vec![]);
    w.push_batch(vec![
        local_push("lid-1", vec![sisbov("BR000000000001")]),
        local_push("lid-2", vec![sisbov("BR000000000002")]),
    ])
    .await
    .unwrap();
    let mut kinds: Vec<&str> = w
        .store
        .committed()
        .iter()
        .map(|change| match change {
            Change::InsertItem(_) => "item",
            Change::AddIdentifiers { .. } => "identifiers",
            Change::InsertEvent(_) => "event",
            Change::MapLocalItem { .. } => "mapping",
            Change::InsertOperation(_) => "operation",
            Change::AddCircuitItem { .. } => "circuit item",
            Change::Trigger(_) => "trigger",
            Change::Activity(_) => "activity",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds.len(), 2 * 10, "two items, ten changes each");
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "item",
            "identifiers",
            "event",
            "mapping",
            "operation",
            "circuit item",
            "trigger",
            "activity"
        ],
        "one run per kind, each after what it refers to"
    );
}

#[tokio::test]
async fn a_batch_into_a_circuit_that_needs_approval_leaves_every_push_pending() {
    let w = approval_circuit();
    w.store.add_local_item("lid-1", "member", vec![]);
    w.store.add_local_item("lid-2", "member", vec![]);
    let results = w
        .push_batch(vec![local_push("lid-1", vec![]), local_push("lid-2", vec![])])
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.operation.status == crate::domain::circuits::operation::OperationStatus::Pending)
    );
    for result in &results {
        assert!(
            !w.store.holds("c", &result.dfid),
            "nothing joins before a manager approves"
        );
    }
    let asked = w
        .store
        .committed()
        .iter()
        .filter(|c| matches!(c, Change::Notify(n) if n.user_id == "owner"))
        .count();
    assert_eq!(asked, 2, "the owner is asked about each push");
}
