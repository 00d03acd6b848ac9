//! Joining a circuit: `/api/circuits/{id}/requests` (decided by managers) and `/public/join`.

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::identity::account::UserId;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{Created, ReasonBody, UtcTime, list_of, page};
use super::views::{MemberView, RoleName};
use super::{ApiTags, State};
use crate::domain::circuits::join_request::JoinRequest;
use crate::domain::circuits::join_service::{JoinDecision, PublicJoin};

pub struct JoinsApi;

#[derive(Object)]
struct JoinRequestBody {
    /// For `Protected` pages (401 `access_password_required` when missing or wrong).
    #[oai(nullable)]
    access_password: Option<String>,
    #[oai(nullable)]
    message: Option<String>,
}

#[derive(Object)]
struct ApproveRequestBody {
    /// Default `Member`; `Admin` only by the Owner.
    #[oai(nullable)]
    role: Option<RoleName>,
}

super::types::mirror!(
    /// Where a request to join stands.
    RequestStatusName <=> crate::domain::circuits::join_request::RequestStatus, "PascalCase" { Pending, Approved, Rejected }
);

/// A request to join a circuit.
#[derive(Object)]
pub struct JoinRequestView {
    circuit_id: String,
    user_id: String,
    username: String,
    #[oai(nullable)]
    message: Option<String>,
    status: RequestStatusName,
    created_at: UtcTime,
    #[oai(nullable)]
    decided_by: Option<String>,
    #[oai(nullable)]
    decided_at: Option<UtcTime>,
    #[oai(nullable)]
    reason: Option<String>,
}

impl From<JoinRequest> for JoinRequestView {
    fn from(r: JoinRequest) -> Self {
        Self {
            circuit_id: r.circuit_id,
            user_id: r.user_id,
            username: r.username,
            message: r.message,
            status: r.status.into(),
            created_at: r.created_at.into(),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(UtcTime),
            reason: r.reason,
        }
    }
}

list_of!(
    /// A page of pending join requests, newest first.
    JoinRequestList,
    JoinRequestView
);

#[derive(Object)]
struct PublicJoinBody {
    /// For `Protected` pages.
    #[oai(nullable)]
    access_password: Option<String>,
    #[oai(nullable)]
    message: Option<String>,
}

/// `Joined`: auto-approved as `Member`; `Pending`: a join request awaits a manager.
#[derive(Enum)]
enum PublicJoinStatus {
    Joined,
    Pending,
}

/// The outcome of joining through a public page.
#[derive(Object)]
struct PublicJoinResponse {
    status: PublicJoinStatus,
    #[oai(nullable)]
    member: Option<MemberView>,
    #[oai(nullable)]
    request: Option<JoinRequestView>,
}

#[OpenApi(tag = "ApiTags::Circuits")]
impl JoinsApi {
    /// Ask to join (non-members, where the circuit's public page is open); managers are notified.
    #[oai(
        path = "/api/circuits/:id/requests",
        method = "post",
        operation_id = "request_to_join"
    )]
    async fn request_to_join(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<JoinRequestBody>,
    ) -> ApiResult<Created<JoinRequestView>> {
        let request = state
            .joins
            .request_to_join(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                body.0.access_password.as_deref(),
                body.0.message,
                &caller.meta,
            )
            .await?;
        Ok(Created::Created(Json(request.into())))
    }

    /// Pending join requests (ManageMembers).
    #[oai(
        path = "/api/circuits/:id/requests",
        method = "get",
        operation_id = "list_join_requests"
    )]
    async fn join_requests(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<JoinRequestList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .joins
                .join_requests(&caller.principal, &CircuitId::parse(&id.0)?, &page)
                .await?
                .into(),
        ))
    }

    /// Approve a join request (ManageMembers); the requester is notified.
    #[oai(
        path = "/api/circuits/:id/requests/:user_id/approve",
        method = "post",
        operation_id = "approve_join_request"
    )]
    async fn approve_request(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        user_id: Path<String>,
        body: Json<ApproveRequestBody>,
    ) -> ApiResult<Json<JoinRequestView>> {
        let request = state
            .joins
            .decide_request(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &UserId::parse(&user_id.0)?,
                JoinDecision::Approve {
                    role: body.0.role.map(Into::into),
                },
                &caller.meta,
            )
            .await?;
        Ok(Json(request.into()))
    }

    /// Reject a join request (ManageMembers); the requester is notified.
    #[oai(
        path = "/api/circuits/:id/requests/:user_id/reject",
        method = "post",
        operation_id = "reject_join_request"
    )]
    async fn reject_request(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        user_id: Path<String>,
        body: Json<ReasonBody>,
    ) -> ApiResult<Json<JoinRequestView>> {
        let request = state
            .joins
            .decide_request(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                &UserId::parse(&user_id.0)?,
                JoinDecision::Reject { reason: body.0.reason },
                &caller.meta,
            )
            .await?;
        Ok(Json(request.into()))
    }

    /// Join through the public page: immediately as `Member` when the page auto-approves,
    /// as a join request otherwise.
    #[oai(
        path = "/api/circuits/:id/public/join",
        method = "post",
        operation_id = "join_public_circuit"
    )]
    async fn public_join(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<PublicJoinBody>,
    ) -> ApiResult<Created<PublicJoinResponse>> {
        let body = body.0;
        let joined = state
            .joins
            .public_join(
                &caller.principal,
                &CircuitId::parse(&id.0)?,
                body.access_password.as_deref(),
                body.message,
                &caller.meta,
            )
            .await?;
        let response = match joined {
            PublicJoin::Joined(member) => PublicJoinResponse {
                status: PublicJoinStatus::Joined,
                member: Some(member.into()),
                request: None,
            },
            PublicJoin::Requested(request) => PublicJoinResponse {
                status: PublicJoinStatus::Pending,
                member: None,
                request: Some(request.into()),
            },
        };
        Ok(Created::Created(Json(response)))
    }
}
