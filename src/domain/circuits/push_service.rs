//! Moving items into and out of circuits: push of an existing DFID, pull, and the approval gate
//! with its pending operations. Tokenization (push-local) is in `push_local`.

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::items::conflicts::ConflictLimit;
use crate::domain::partners::notification::Notice;
use std::sync::Arc;

use serde_json::json;

use crate::domain::audit::Activity;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit::Circuit;
use crate::domain::circuits::membership::{circuit_member, notify_managers};
use crate::domain::circuits::operation::{Decision, Operation, OperationStatus, OperationType};
use crate::domain::circuits::operation_changes::{new_operation, pull_completion, push_completion};
use crate::domain::circuits::ports::{CircuitItemRepo, CircuitRepo, MemberRepo, OperationRepo};
use crate::domain::circuits::roles::{Member, Permission};
use crate::domain::identity::access::Principal;
use crate::domain::items::dfid::Dfid;
use crate::domain::items::event::Event;
use crate::domain::items::item::{Item, ItemStatus};
use crate::domain::items::item_service::ItemView;
use crate::domain::items::ports::{EventRepo, ItemRepo};
use crate::domain::items::relation::visible_item;
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What pushes, pulls and approvals need from storage.
    pub trait PushStore: UnitOfWork, CircuitRepo, MemberRepo, OperationRepo, CircuitItemRepo, ItemRepo, EventRepo
);

pub struct PushService {
    pub(crate) store: Arc<dyn PushStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) conflicts: ConflictLimit,
}

/// An operation, and whether this request created it.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationResult {
    pub operation: Operation,
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PullResult {
    pub item: ItemView,
    pub events: Vec<Event>,
    pub operation: Operation,
    pub created: bool,
}

pub(super) const PLACES: &str = "places it in a circuit";

/// The push that holds (Completed, and the circuit still holds the item) or will hold (Pending)
/// the item in the circuit; a push whose item was removed since no longer counts.
pub(super) async fn open_push<S: OperationRepo + CircuitItemRepo + ?Sized>(
    store: &S,
    circuit_id: &str,
    dfid: &str,
) -> Result<Option<Operation>> {
    match store
        .open_operation(circuit_id, dfid, OperationType::Push, None)
        .await?
    {
        Some(operation)
            if operation.status == OperationStatus::Pending || store.holds_item(circuit_id, dfid).await? =>
        {
            Ok(Some(operation))
        }
        _ => Ok(None),
    }
}

impl PushService {
    /// A new push operation of `item` by `member`, completed at once unless the circuit needs
    /// approval, with the changes that record it.
    pub(super) async fn push_changes(
        &self,
        circuit: &Circuit,
        member: &Member,
        item: &Item,
        minted: bool,
        local_id: Option<&str>,
        now: Timestamp,
    ) -> Result<(Operation, Vec<Change>)> {
        let mut changes = Vec::new();
        let pending = circuit.needs_approval(member, true);
        let status = if pending {
            OperationStatus::Pending
        } else {
            OperationStatus::Completed
        };
        let mut operation = new_operation(
            self.ids.new_id(),
            &circuit.circuit_id,
            &item.dfid,
            OperationType::Push,
            &member.user_id,
            status,
            now,
        );
        operation.minted = minted;
        operation.local_id = local_id.map(str::to_owned);
        changes.push(Change::InsertOperation(operation.clone()));
        if pending {
            changes.push(Change::Activity(
                Activity::new(
                    self.ids.new_id(),
                    "push_requested",
                    &member.user_id,
                    format!("asked to push {}", item.dfid),
                    now,
                )
                .in_circuit(&circuit.circuit_id)
                .on_item(&item.dfid)
                .for_operation(&operation.operation_id),
            ));
            changes.extend(
                notify_managers(
                    self.store.as_ref(),
                    &circuit.circuit_id,
                    &member.user_id,
                    Notice {
                        kind: NotificationType::CircuitItemPendingApproval,
                        title: "Item waiting for approval",
                        message: format!("{} asked to push {} to {}", member.username, item.dfid, circuit.name),
                        data: json!({ "circuit_id": circuit.circuit_id, "dfid": item.dfid, "operation_id": operation.operation_id }),
                    },
                    now,
                    self.ids.as_ref(),
                )
                .await?,
            );
        } else {
            changes.extend(push_completion(
                self.ids.as_ref(),
                circuit,
                &operation,
                Some(item),
                &member.user_id,
                false,
                now,
            )?);
        }
        Ok((operation, changes))
    }

    /// Pushes an existing DFID the caller may change into the circuit.
    pub async fn push(&self, principal: &Principal, circuit_id: &CircuitId, dfid: &str) -> Result<OperationResult> {
        let store = self.store.as_ref();
        let (circuit, member) = circuit_member(store, circuit_id, &principal.user_id).await?;
        circuit.require_active()?;
        member.require(Permission::Push)?;
        let (item, relation) = visible_item(store, dfid, &principal.user_id).await?;
        relation.require_owner(PLACES)?;
        if item.status != ItemStatus::Active {
            return Err(Error::conflict(
                "item_not_active",
                format!("this item is {}", item.status.as_str()),
            ));
        }
        if let Some(operation) = open_push(store, circuit_id, &item.dfid).await? {
            return Ok(OperationResult {
                operation,
                created: false,
            });
        }
        let now = self.clock.now();
        let (operation, changes) = self.push_changes(&circuit, &member, &item, false, None, now).await?;
        store.commit(changes).await?;
        Ok(OperationResult {
            operation,
            created: true,
        })
    }

    /// Pulls an item of the circuit: the caller keeps read access to it; nothing leaves the
    /// circuit.
    pub async fn pull(&self, principal: &Principal, circuit_id: &CircuitId, dfid: &str) -> Result<PullResult> {
        let store = self.store.as_ref();
        let dfid = Dfid::parse(dfid)?;
        let (circuit, member) = circuit_member(store, circuit_id, &principal.user_id).await?;
        member.require(Permission::Pull)?;
        if !store.holds_item(circuit_id, dfid.as_str()).await? {
            return Err(Error::not_found("item in this circuit"));
        }
        let existing = store
            .open_operation(circuit_id, dfid.as_str(), OperationType::Pull, Some(&principal.user_id))
            .await?;
        let (operation, created) = match existing {
            Some(operation) => (operation, false),
            None => {
                let now = self.clock.now();
                let pending = circuit.needs_approval(&member, false);
                let status = if pending {
                    OperationStatus::Pending
                } else {
                    OperationStatus::Completed
                };
                let operation = new_operation(
                    self.ids.new_id(),
                    circuit_id,
                    dfid.as_str(),
                    OperationType::Pull,
                    &principal.user_id,
                    status,
                    now,
                );
                let mut changes = vec![Change::InsertOperation(operation.clone())];
                if pending {
                    changes.extend(
                        notify_managers(
                            store,
                            circuit_id,
                            &principal.user_id,
                            Notice {
                                kind: NotificationType::CircuitItemPendingApproval,
                                title: "Pull waiting for approval",
                                message: format!("{} asked to pull {} from {}", member.username, dfid, circuit.name),
                                data: json!({ "circuit_id": circuit_id, "dfid": dfid.as_str(), "operation_id": operation.operation_id }),
                            },
                            now,
                            self.ids.as_ref(),
                        )
                        .await?,
                    );
                } else {
                    changes.extend(pull_completion(self.ids.as_ref(), &operation, now)?);
                }
                store.commit(changes).await?;
                (operation, true)
            }
        };
        let (item, relation) = visible_item(store, dfid.as_str(), &principal.user_id).await?;
        let events = store
            .item_events(
                &item.dfid,
                &principal.user_id,
                &relation.visible_kinds(),
                &crate::domain::page::PageRequest::first(500),
            )
            .await?
            .data;
        Ok(PullResult {
            item: ItemView::of(item, &relation),
            events,
            operation,
            created,
        })
    }

    /// Approves or rejects a pending operation (ManageMembers; never one's own). An approved
    /// push completes exactly as an unapproved one would have; a rejected one leaves nothing in
    /// the circuit.
    pub async fn decide(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        operation_id: &str,
        decision: Decision,
        reason: Option<String>,
    ) -> Result<Operation> {
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(Error::field("reason", "at most 500 characters"));
        }
        let store = self.store.as_ref();
        let (circuit, member) = circuit_member(store, circuit_id, &principal.user_id).await?;
        member.require(Permission::ManageMembers)?;
        let mut operation = store
            .operation(operation_id)
            .await?
            .filter(|op| op.circuit_id == circuit_id.as_str())
            .ok_or_else(|| Error::not_found("operation"))?;
        let status = operation.decide(&principal.user_id, decision)?;
        if status == OperationStatus::Completed && operation.operation_type == OperationType::Push {
            circuit.require_active()?;
        }
        let now = self.clock.now();
        let mut changes = vec![Change::DecideOperation {
            operation_id: operation.operation_id.clone(),
            status,
            decided_by: principal.user_id.clone(),
            at: now,
            reason: reason.clone(),
        }];
        operation.status = status;
        operation.decided_by = Some(principal.user_id.clone());
        operation.decided_at = Some(now);
        operation.reason = reason;
        let (kind, title, verb) = match (status, operation.operation_type) {
            (OperationStatus::Completed, OperationType::Push) => {
                let item = store.item(&operation.dfid).await?;
                changes.extend(push_completion(
                    self.ids.as_ref(),
                    &circuit,
                    &operation,
                    item.as_ref(),
                    &principal.user_id,
                    true,
                    now,
                )?);
                (NotificationType::CircuitItemApproved, "Push approved", "approved")
            }
            (OperationStatus::Completed, _) => {
                changes.extend(pull_completion(self.ids.as_ref(), &operation, now)?);
                (NotificationType::CircuitItemApproved, "Pull approved", "approved")
            }
            _ => (NotificationType::CircuitItemRejected, "Request rejected", "rejected"),
        };
        changes.push(Change::Notify(Notification::new(
                    self.ids.new_id(),
            &operation.requester_id,
            kind,
            title,
            format!("{} {} your {} of {} in {}", member.username, verb, operation.operation_type.as_str().to_lowercase(), operation.dfid, circuit.name),
            json!({ "circuit_id": circuit_id, "dfid": operation.dfid, "operation_id": operation.operation_id, "reason": operation.reason }),
            now,
        )));
        changes.push(Change::Activity(
            Activity::new(
                self.ids.new_id(),
                &format!("operation_{verb}"),
                &principal.user_id,
                format!(
                    "{verb} the {} of {}",
                    operation.operation_type.as_str().to_lowercase(),
                    operation.dfid
                ),
                now,
            )
            .in_circuit(circuit_id)
            .on_item(&operation.dfid)
            .for_operation(&operation.operation_id),
        ));
        store.commit(changes).await?;
        Ok(operation)
    }
}
