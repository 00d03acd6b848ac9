//! Moving items into and out of circuits: push-local, push, pull, and deciding pending operations.

use crate::domain::circuits::circuit::CircuitId;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{CreatedOrExisting, JsonObject, ReasonBody};
use super::views::{
    EventView, IdentifierInputBody, ItemResponse, OperationStatusName, OperationView, identifier_inputs,
};
use super::{ApiTags, State};
use crate::domain::circuits::operation::Decision;
use crate::domain::circuits::push_local::{self, PushLocalResult, PushOutcome};

pub struct PushApi;

super::types::mirror!(
    /// What a push did: `NewItemCreated` (201), `ExistingItemEnriched` (a canonical identifier
    /// named an item the caller may change; 200), or `AlreadyPushed` (this local item is in this
    /// circuit already, nothing changed; 200).
    PushOutcomeName <=> crate::domain::circuits::push_local::PushOutcome, "PascalCase" {
        NewItemCreated, ExistingItemEnriched, AlreadyPushed
    }
);

#[derive(Object)]
struct LocalPush {
    local_id: String,
    /// Added to the local item's identifiers.
    #[oai(nullable)]
    identifiers: Option<Vec<IdentifierInputBody>>,
    /// Merged over the local item's data (these win; null never deletes).
    #[oai(nullable)]
    enriched_data: Option<JsonObject>,
}

impl From<LocalPush> for push_local::LocalPush {
    fn from(body: LocalPush) -> Self {
        Self {
            local_id: body.local_id,
            identifiers: identifier_inputs(body.identifiers),
            enriched_data: body.enriched_data.map(|data| data.0),
        }
    }
}

/// Local items to push together.
#[derive(Object)]
struct LocalPushes {
    /// 1 to 1,000 items, each as `POST /api/circuits/{id}/push-local` takes it; each local item
    /// at most once.
    #[oai(validator(min_items = 1, max_items = 1000))]
    items: Vec<LocalPush>,
}

/// What a batch push did, item by item in the order sent.
#[derive(Object)]
struct LocalPushOutcomes {
    count: u64,
    items: Vec<LocalPushOutcome>,
}

/// The outcome of push-local.
#[derive(Object)]
struct LocalPushOutcome {
    dfid: String,
    local_id: String,
    status: PushOutcomeName,
    operation_id: String,
    operation_status: OperationStatusName,
}

impl From<PushLocalResult> for LocalPushOutcome {
    fn from(r: PushLocalResult) -> Self {
        Self {
            dfid: r.dfid,
            local_id: r.local_id,
            status: r.outcome.into(),
            operation_id: r.operation.operation_id,
            operation_status: r.operation.status.into(),
        }
    }
}

#[derive(Object)]
struct PullResponse {
    item: ItemResponse,
    /// The item's events the caller may see.
    events: Vec<EventView>,
    operation: OperationView,
}

#[OpenApi(tag = "ApiTags::Circuits")]
impl PushApi {
    /// Tokenize one of the caller's local items and push it here (Push). The DFID is minted or
    /// resolved by canonical identifier at once; with `require_approval_for_push` the item joins
    /// the circuit only when a manager approves the pending operation.
    #[oai(path = "/api/circuits/:id/push-local", method = "post", operation_id = "push_local")]
    async fn push_local(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<LocalPush>,
    ) -> ApiResult<CreatedOrExisting<LocalPushOutcome>> {
        let result = state
            .push
            .push_local(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                body.0.into(),
                &caller.meta,
            )
            .await?;
        let created = result.outcome == PushOutcome::NewItemCreated;
        Ok(CreatedOrExisting::new(created, result.into()))
    }

    /// Push up to 1,000 of the caller's local items here at once (Push), all or none: each is
    /// tokenized as push-local does, in one transaction. When any item cannot be pushed nothing
    /// is, and the answer names each such item by its index (`items[3].local_id`): 400
    /// `invalid_rows` when all are malformed, else 409 `rows_refused`. Two items may not claim
    /// the same canonical identifier or resolve to the same item (`claimed_in_batch`). 201 when
    /// any item got a new DFID.
    #[oai(
        path = "/api/circuits/:id/push-local/batch",
        method = "post",
        operation_id = "push_local_batch"
    )]
    async fn push_local_batch(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<LocalPushes>,
    ) -> ApiResult<CreatedOrExisting<LocalPushOutcomes>> {
        let pushes = body.0.items.into_iter().map(Into::into).collect();
        let results = state
            .push
            .push_local_batch(&caller.principal, &CircuitId::parse(&id.0)?, pushes, &caller.meta)
            .await?;
        let created = results.iter().any(|r| r.outcome == PushOutcome::NewItemCreated);
        Ok(CreatedOrExisting::new(
            created,
            LocalPushOutcomes {
                count: results.len() as u64,
                items: results.into_iter().map(Into::into).collect(),
            },
        ))
    }

    /// Push an existing item the caller may change into this circuit (Push).
    #[oai(path = "/api/circuits/:id/push/:dfid", method = "post", operation_id = "push_item")]
    async fn push(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        dfid: Path<String>,
    ) -> ApiResult<CreatedOrExisting<OperationView>> {
        let result = state
            .push
            .push(&caller.principal, &CircuitId::parse(&id.0)?, &dfid.0)
            .await?;
        Ok(CreatedOrExisting::new(result.created, result.operation.into()))
    }

    /// Pull an item of this circuit (Pull): the caller keeps read access to it.
    #[oai(path = "/api/circuits/:id/pull/:dfid", method = "post", operation_id = "pull_item")]
    async fn pull(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        dfid: Path<String>,
    ) -> ApiResult<CreatedOrExisting<PullResponse>> {
        let result = state
            .push
            .pull(&caller.principal, &CircuitId::parse(&id.0)?, &dfid.0)
            .await?;
        Ok(CreatedOrExisting::new(
            result.created,
            PullResponse {
                item: result.item.into(),
                events: result.events.into_iter().map(Into::into).collect(),
                operation: result.operation.into(),
            },
        ))
    }

    /// Approve a pending operation (ManageMembers; never your own).
    #[oai(
        path = "/api/circuits/:id/operations/:operation_id/approve",
        method = "post",
        operation_id = "approve_operation"
    )]
    async fn approve(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        operation_id: Path<String>,
        body: Json<ReasonBody>,
    ) -> ApiResult<Json<OperationView>> {
        let op = state
            .push
            .decide(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &operation_id.0,
                Decision::Approve,
                body.0.reason,
            )
            .await?;
        Ok(Json(op.into()))
    }

    /// Reject a pending operation (ManageMembers; never your own). Nothing enters the circuit.
    #[oai(
        path = "/api/circuits/:id/operations/:operation_id/reject",
        method = "post",
        operation_id = "reject_operation"
    )]
    async fn reject(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        operation_id: Path<String>,
        body: Json<ReasonBody>,
    ) -> ApiResult<Json<OperationView>> {
        let op = state
            .push
            .decide(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &operation_id.0,
                Decision::Reject,
                body.0.reason,
            )
            .await?;
        Ok(Json(op.into()))
    }
}
