//! `/api/identifier-disputes` and `/api/admin/identifier-disputes`: claims on canonical
//! identifiers held by another item, decided by administrators.

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::caller::{AdminCaller, Caller};
use super::error::ApiResult;
use super::types::{Created, UtcTime, list_of, mirror, page};
use super::{ApiTags, State};
use crate::domain::items::dispute::{Dispute, DisputeDecision, DisputeId, DisputeStatus};
use crate::domain::items::dispute_service::DisputeCase;

pub struct DisputesApi;

mirror!(
    /// `Open` until an administrator decides: `Reassigned` (the identifier moved to the claimant's
    /// item) or `Rejected`.
    DisputeStatusName <=> DisputeStatus, "PascalCase" { Open, Reassigned, Rejected }
);
mirror!(
    /// `reassign` moves the identifier to the claimant's item; `reject` leaves it where it is.
    DecisionName <=> DisputeDecision, "lowercase" { Reassign, Reject }
);

#[derive(Object)]
struct NewDispute {
    /// A canonical registry: `sisbov`, `cpf`, `cnpj`, `car`, `nirf`, `ie` or `rfid`.
    key: String,
    value: String,
    /// The caller's own item that should hold the identifier.
    dfid: String,
    /// Up to 4,000 characters: why the identifier belongs to this item.
    #[oai(nullable)]
    evidence: Option<String>,
}

/// A dispute as its claimant sees it: nothing about the item holding the identifier.
#[derive(Object)]
pub struct DisputeView {
    dispute_id: String,
    key: String,
    value: String,
    dfid: String,
    status: DisputeStatusName,
    #[oai(nullable)]
    evidence: Option<String>,
    created_at: UtcTime,
}

impl From<Dispute> for DisputeView {
    fn from(d: Dispute) -> Self {
        Self {
            dispute_id: d.dispute_id,
            key: d.key,
            value: d.value,
            dfid: d.dfid,
            status: d.status.into(),
            evidence: d.evidence,
            created_at: d.created_at.into(),
        }
    }
}

/// A dispute as administrators see it.
#[derive(Object)]
pub struct DisputeCaseView {
    dispute_id: String,
    key: String,
    value: String,
    /// The claimant's item.
    dfid: String,
    claimant_id: String,
    /// The item holding the identifier now; null when none does.
    #[oai(nullable)]
    holder_dfid: Option<String>,
    status: DisputeStatusName,
    #[oai(nullable)]
    evidence: Option<String>,
    #[oai(nullable)]
    note: Option<String>,
    #[oai(nullable)]
    resolved_by: Option<String>,
    created_at: UtcTime,
    #[oai(nullable)]
    resolved_at: Option<UtcTime>,
}

impl From<DisputeCase> for DisputeCaseView {
    fn from(case: DisputeCase) -> Self {
        let d = case.dispute;
        Self {
            dispute_id: d.dispute_id,
            key: d.key,
            value: d.value,
            dfid: d.dfid,
            claimant_id: d.claimant_id,
            holder_dfid: case.holder_dfid,
            status: d.status.into(),
            evidence: d.evidence,
            note: d.note,
            resolved_by: d.resolved_by,
            created_at: d.created_at.into(),
            resolved_at: d.resolved_at.map(UtcTime),
        }
    }
}

impl From<Dispute> for DisputeCaseView {
    fn from(dispute: Dispute) -> Self {
        DisputeCase {
            dispute,
            holder_dfid: None,
        }
        .into()
    }
}

list_of!(
    /// A page of disputes, newest first.
    DisputeCaseList,
    DisputeCaseView
);

#[derive(Object)]
struct Resolution {
    decision: DecisionName,
    /// Up to 4,000 characters, shown to administrators.
    #[oai(nullable)]
    note: Option<String>,
}

#[OpenApi]
impl DisputesApi {
    /// Claim that a canonical identifier held by another item belongs to the caller's own item
    /// (404 for an item the caller does not own). An administrator decides.
    #[oai(
        path = "/api/identifier-disputes",
        method = "post",
        operation_id = "open_identifier_dispute",
        tag = "ApiTags::Items"
    )]
    async fn open(&self, state: State<'_>, caller: Caller, body: Json<NewDispute>) -> ApiResult<Created<DisputeView>> {
        let body = body.0;
        let dispute = state
            .disputes
            .open(
                &caller.principal,
                &body.key,
                &body.value,
                &body.dfid,
                body.evidence,
                &caller.meta,
            )
            .await?;
        Ok(Created::Created(Json(dispute.into())))
    }

    /// Identifier disputes, newest first, optionally in one status, with the item holding each
    /// identifier now.
    #[oai(
        path = "/api/admin/identifier-disputes",
        method = "get",
        operation_id = "admin_list_identifier_disputes",
        tag = "ApiTags::Admin"
    )]
    async fn list(
        &self,
        state: State<'_>,
        _admin: AdminCaller,
        status: Query<Option<DisputeStatusName>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<DisputeCaseList>> {
        let page = page(limit.0, cursor.0)?;
        let cases = state.disputes.cases(status.0.map(Into::into), &page).await?;
        Ok(Json(cases.into()))
    }

    /// Decide a dispute: `reassign` moves the identifier to the claimant's item in one
    /// transaction, with an `IdentifierReassigned` event on both items; both parties are
    /// notified. Decided already: 409 `dispute_not_open`.
    #[oai(
        path = "/api/admin/identifier-disputes/:id/resolve",
        method = "post",
        operation_id = "admin_resolve_identifier_dispute",
        tag = "ApiTags::Admin"
    )]
    async fn resolve(
        &self,
        state: State<'_>,
        admin: AdminCaller,
        id: Path<String>,
        body: Json<Resolution>,
    ) -> ApiResult<Json<DisputeCaseView>> {
        let body = body.0;
        let dispute = state
            .disputes
            .resolve(
                &admin.principal,
                &DisputeId::parse(&id.0)?,
                body.decision.into(),
                body.note,
                &admin.meta,
            )
            .await?;
        Ok(Json(dispute.into()))
    }
}
