//! `/api/items/{dfid}/transfers` and `/api/transfers`: ownership moves only when the recipient
//! accepts.

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{NoContent, UtcTime, list_of, mirror, page};
use super::{ApiTags, State};
use crate::domain::items::transfer::{Direction, Transfer, TransferId, TransferStatus};

pub struct TransfersApi;

mirror!(
    /// Where a transfer stands. A pending transfer becomes `Expired` 7 days after it was made.
    TransferStatusName <=> TransferStatus, "PascalCase" { Pending, Accepted, Declined, Cancelled, Expired }
);
mirror!(
    /// `incoming`: transfers offered to the caller; `outgoing`: transfers the caller made.
    DirectionName <=> Direction, "lowercase" { Incoming, Outgoing }
);

#[derive(Object)]
struct NewTransfer {
    /// The recipient: a user id, username or email. The answer is the same whether or not it
    /// names an account.
    to: String,
    /// Up to 1,000 characters for the recipient.
    #[oai(nullable)]
    message: Option<String>,
}

/// An ownership transfer, as its sender and recipient see it.
#[derive(Object)]
pub struct TransferView {
    transfer_id: String,
    dfid: String,
    from_user_id: String,
    /// The recipient as the sender wrote it.
    to: String,
    #[oai(nullable)]
    message: Option<String>,
    status: TransferStatusName,
    created_at: UtcTime,
    expires_at: UtcTime,
    #[oai(nullable)]
    decided_at: Option<UtcTime>,
}

impl From<Transfer> for TransferView {
    fn from(t: Transfer) -> Self {
        Self {
            transfer_id: t.transfer_id,
            dfid: t.dfid,
            from_user_id: t.from_user_id,
            to: t.recipient,
            message: t.message,
            status: t.status.into(),
            created_at: t.created_at.into(),
            expires_at: t.expires_at.into(),
            decided_at: t.decided_at.map(UtcTime),
        }
    }
}

list_of!(
    /// A page of transfers, newest first.
    TransferList,
    TransferView
);

#[derive(ApiResponse)]
enum TransferOffered {
    /// Offered: pending until the recipient answers, the sender cancels, or 7 days pass.
    #[oai(status = 202)]
    Offered(Json<TransferView>),
}

#[OpenApi(tag = "ApiTags::Transfers")]
impl TransfersApi {
    /// Offer the caller's item to another account (owner only: others who can see the item get
    /// 403 `owner_required`). One pending transfer per item (409 `transfer_pending`).
    #[oai(
        path = "/api/items/:dfid/transfers",
        method = "post",
        operation_id = "offer_transfer"
    )]
    async fn offer(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
        body: Json<NewTransfer>,
    ) -> ApiResult<TransferOffered> {
        let body = body.0;
        let transfer = state
            .transfers
            .offer(&caller.principal, &dfid.0, &body.to, body.message)
            .await?;
        Ok(TransferOffered::Offered(Json(transfer.into())))
    }

    /// Transfers offered to the caller (`incoming`, the default) or made by the caller
    /// (`outgoing`).
    #[oai(path = "/api/transfers", method = "get", operation_id = "list_transfers")]
    async fn list(
        &self,
        state: State<'_>,
        caller: Caller,
        direction: Query<Option<DirectionName>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<TransferList>> {
        let page = page(limit.0, cursor.0)?;
        let direction = direction.0.map_or(Direction::Incoming, Into::into);
        Ok(Json(
            state
                .transfers
                .transfers(&caller.principal, direction, &page)
                .await?
                .into(),
        ))
    }

    /// One transfer, to its sender or recipient (404 to anyone else).
    #[oai(path = "/api/transfers/:id", method = "get", operation_id = "get_transfer")]
    async fn get(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Json<TransferView>> {
        let transfer = state
            .transfers
            .transfer(&caller.principal, &TransferId::parse(&id.0)?)
            .await?;
        Ok(Json(transfer.into()))
    }

    /// The recipient accepts: the item is theirs from this commit on, with an
    /// `OwnershipTransferred` event. No longer pending: 409 `transfer_not_pending`.
    #[oai(
        path = "/api/transfers/:id/accept",
        method = "post",
        operation_id = "accept_transfer"
    )]
    async fn accept(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Json<TransferView>> {
        let transfer = state
            .transfers
            .accept(&caller.principal, &TransferId::parse(&id.0)?)
            .await?;
        Ok(Json(transfer.into()))
    }

    /// The recipient declines. No longer pending: 409 `transfer_not_pending`.
    #[oai(
        path = "/api/transfers/:id/decline",
        method = "post",
        operation_id = "decline_transfer"
    )]
    async fn decline(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Json<TransferView>> {
        let transfer = state
            .transfers
            .decline(&caller.principal, &TransferId::parse(&id.0)?)
            .await?;
        Ok(Json(transfer.into()))
    }

    /// The sender cancels a pending transfer (status `Cancelled`).
    #[oai(path = "/api/transfers/:id", method = "delete", operation_id = "cancel_transfer")]
    async fn cancel(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<NoContent> {
        state
            .transfers
            .cancel(&caller.principal, &TransferId::parse(&id.0)?)
            .await?;
        Ok(NoContent::Done)
    }
}
