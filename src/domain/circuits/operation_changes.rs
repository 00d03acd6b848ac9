//! What an operation writes: a new push or pull operation, the server's events on the item, and
//! everything a completed push or pull changes. Shared by a push done at once and one approved
//! later, so both write exactly the same.

use serde_json::{Value, json};

use crate::domain::audit::Activity;
use crate::domain::changes::Change;
use crate::domain::circuits::circuit::Circuit;
use crate::domain::circuits::operation::{Operation, OperationStatus, OperationType};
use crate::domain::items::event::{Event, EventTimes, Visibility};
use crate::domain::items::item::Item;
use crate::domain::partners::storage::StorageRecord;
use crate::domain::partners::trigger::{Trigger, TriggerKind};
use crate::domain::{Result, Timestamp};
use crate::ports::IdGenerator;

pub(crate) fn new_operation(
    operation_id: String,
    circuit_id: &str,
    dfid: &str,
    operation_type: OperationType,
    requester_id: &str,
    status: OperationStatus,
    now: Timestamp,
) -> Operation {
    Operation {
        operation_id,
        circuit_id: circuit_id.to_string(),
        dfid: dfid.to_owned(),
        operation_type,
        requester_id: requester_id.to_owned(),
        status,
        created_at: now,
        decided_by: None,
        decided_at: None,
        reason: None,
        minted: false,
        local_id: None,
    }
}

pub(crate) fn server_event(
    ids: &dyn IdGenerator,
    dfid: &str,
    event_type: &str,
    source: &str,
    metadata: Value,
    now: Timestamp,
) -> Result<Change> {
    Ok(Change::InsertEvent(Event::new(
        ids.new_id(),
        dfid,
        event_type,
        Visibility::CircuitOnly,
        source,
        metadata,
        EventTimes::now(now),
    )?))
}

/// Everything a completed push writes: the item joins the circuit, a `PushedToCircuit` event,
/// a copy to store when the circuit has a storage adapter, the triggers for partners,
/// auto-publishing, and the activity.
pub(crate) fn push_completion(
    ids: &dyn IdGenerator,
    circuit: &Circuit,
    operation: &Operation,
    item: Option<&Item>,
    actor_id: &str,
    approved: bool,
    now: Timestamp,
) -> Result<Vec<Change>> {
    let dfid = &operation.dfid;
    let circuit_id = &circuit.circuit_id;
    let mut changes = vec![
        Change::AddCircuitItem {
            circuit_id: circuit_id.clone(),
            dfid: dfid.clone(),
            pushed_by: operation.requester_id.clone(),
            pushed_at: now,
        },
        server_event(
            ids,
            dfid,
            "PushedToCircuit",
            &operation.requester_id,
            json!({ "circuit_id": circuit_id, "operation_id": operation.operation_id }),
            now,
        )?,
    ];
    if let Some(item) = item
        && circuit.adapter_type != "none"
    {
        // Before the triggers, so their payloads can name the copy's CID.
        changes.push(Change::InsertStorageRecord(StorageRecord::pending(
            ids.new_id(),
            item,
            circuit_id,
            &circuit.adapter_type,
            &operation.operation_id,
            now,
        )?));
    }
    let trigger = |kind| {
        Change::Trigger(
            Trigger::new(ids.new_id(), kind, circuit_id, dfid, actor_id, now)
                .for_operation(&operation.operation_id, OperationStatus::Completed.as_str()),
        )
    };
    changes.push(trigger(TriggerKind::ItemPushed));
    if operation.minted {
        changes.push(trigger(TriggerKind::ItemTokenized));
    }
    if approved {
        changes.push(trigger(TriggerKind::ItemApproved));
    }
    if let Some(public) = &circuit.public
        && public.enabled
        && public.auto_publish_pushed_items
    {
        changes.push(Change::PublishItem {
            circuit_id: circuit_id.clone(),
            dfid: dfid.clone(),
            at: now,
        });
        changes.push(trigger(TriggerKind::ItemPublished));
    }
    changes.push(Change::Activity(
        Activity::new(
            ids.new_id(),
            "item_pushed",
            &operation.requester_id,
            format!("pushed {dfid} to {}", circuit.name),
            now,
        )
        .in_circuit(circuit_id)
        .on_item(dfid)
        .for_operation(&operation.operation_id),
    ));
    Ok(changes)
}

/// Everything a completed pull writes: read access for the requester, and the event.
pub(crate) fn pull_completion(ids: &dyn IdGenerator, operation: &Operation, now: Timestamp) -> Result<Vec<Change>> {
    Ok(vec![
        Change::GrantItemAccess {
            dfid: operation.dfid.clone(),
            user_id: operation.requester_id.clone(),
            circuit_id: operation.circuit_id.clone(),
            at: now,
        },
        server_event(
            ids,
            &operation.dfid,
            "PulledFromCircuit",
            &operation.requester_id,
            json!({ "circuit_id": operation.circuit_id, "operation_id": operation.operation_id }),
            now,
        )?,
        Change::Activity(
            Activity::new(
                ids.new_id(),
                "item_pulled",
                &operation.requester_id,
                format!("pulled {}", operation.dfid),
                now,
            )
            .in_circuit(&operation.circuit_id)
            .on_item(&operation.dfid)
            .for_operation(&operation.operation_id),
        ),
    ])
}
