//! The rules of [`TransferService`], on the in-memory store.

use std::sync::Arc;

use crate::domain::ErrorKind;
use crate::domain::changes::Change;
use crate::domain::items::transfer::{Direction, TransferId, TransferStatus};
use crate::domain::items::transfer_service::TransferService;
use crate::domain::page::PageRequest;
use crate::domain::testing::{FixedClock, MemoryStore, SequentialIds, assert_refused, dfid, principal};

struct World {
    store: Arc<MemoryStore>,
    clock: Arc<FixedClock>,
    transfers: TransferService,
}

/// Item 1 owned by `alice`; accounts `alice` and `bob`.
fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    store.add_account("alice", "pw");
    store.add_account("bob", "pw");
    store.add_item(&dfid(1), "alice", vec![]);
    let clock = Arc::new(FixedClock::default());
    World {
        transfers: TransferService {
            store: store.clone(),
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::default()),
        },
        store,
        clock,
    }
}

fn id(transfer_id: &str) -> TransferId {
    TransferId::parse(transfer_id).unwrap()
}

#[tokio::test]
async fn a_pending_transfer_expires_after_seven_days_and_frees_the_item() {
    let w = world();
    let first = w
        .transfers
        .offer(&principal("alice"), &dfid(1), "bob", None)
        .await
        .unwrap();
    w.clock.advance(chrono::Duration::days(7));
    let seen = w
        .transfers
        .transfer(&principal("bob"), &id(&first.transfer_id))
        .await
        .unwrap();
    assert_eq!(seen.status, TransferStatus::Expired);
    let accepted = w.transfers.accept(&principal("bob"), &id(&first.transfer_id)).await;
    assert_refused(accepted, ErrorKind::Conflict, "transfer_not_pending");
    assert_eq!(w.store.item_owner(&dfid(1)).as_deref(), Some("alice"));

    // A new offer records the old one as expired and takes its place.
    let second = w
        .transfers
        .offer(&principal("alice"), &dfid(1), "bob", None)
        .await
        .unwrap();
    let outgoing = w
        .transfers
        .transfers(&principal("alice"), Direction::Outgoing, &PageRequest::first(10))
        .await
        .unwrap();
    let statuses: Vec<_> = outgoing
        .data
        .iter()
        .map(|t| (t.transfer_id.clone(), t.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (second.transfer_id.clone(), TransferStatus::Pending),
            (first.transfer_id, TransferStatus::Expired)
        ]
    );
    w.transfers
        .accept(&principal("bob"), &id(&second.transfer_id))
        .await
        .unwrap();
    assert_eq!(w.store.item_owner(&dfid(1)).as_deref(), Some("bob"));
}

#[tokio::test]
async fn an_offer_to_nobody_looks_like_any_other_and_tells_nobody() {
    let w = world();
    let to_nobody = w
        .transfers
        .offer(&principal("alice"), &dfid(1), "nobody", None)
        .await
        .unwrap();
    assert_eq!(to_nobody.status, TransferStatus::Pending);
    assert_eq!(to_nobody.recipient, "nobody");
    assert!(!w.store.committed().iter().any(|c| matches!(c, Change::Notify(_))));
    let offered_to_self = w.transfers.offer(&principal("alice"), &dfid(1), "alice", None).await;
    assert_refused(offered_to_self, ErrorKind::Invalid, "validation_error");
}
