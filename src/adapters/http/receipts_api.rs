//! `/api/receipts`: proof that some bytes existed by a time, optionally attached to an item.

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiRequest, ApiResponse, Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::history_api::FactLogView;
use super::types::UtcTime;
use super::types::page;
use super::{ApiTags, State};
use crate::domain::Error;
use crate::domain::items::receipt::{Receipt, Receipted};
use crate::domain::log::service::FactLog;

pub struct ReceiptsApi;

/// A digest to receipt (a JSON body is always this form; to receipt a JSON file's bytes, send
/// them as `application/octet-stream`).
#[derive(Object)]
struct DigestBody {
    /// Lowercase or uppercase hex SHA-256 of the payload.
    sha256: String,
    /// Attach to this item as evidence (the caller must be allowed to change it).
    #[oai(skip_serializing_if_is_none)]
    dfid: Option<String>,
    /// 1 to 200 characters.
    #[oai(skip_serializing_if_is_none)]
    label: Option<String>,
}

#[derive(ApiRequest)]
enum ReceiptBody {
    /// The digest form.
    Json(Json<DigestBody>),
    /// The payload itself, of any content type, up to `MAX_BODY_BYTES`; `dfid` and `label` come
    /// from the query string.
    Bytes(Binary<Vec<u8>>),
}

/// A receipt with where it stands in the transparency log.
#[derive(Object)]
pub struct ReceiptView {
    receipt_id: String,
    /// Hex SHA-256 of the payload: the digest the log commits to.
    sha256: String,
    #[oai(nullable)]
    size_bytes: Option<u64>,
    #[oai(nullable)]
    content_type: Option<String>,
    #[oai(nullable)]
    dfid: Option<String>,
    #[oai(nullable)]
    label: Option<String>,
    created_at: UtcTime,
    log: FactLogView,
}

impl ReceiptView {
    pub fn of(receipt: Receipt, log: FactLog) -> Self {
        Self {
            receipt_id: receipt.receipt_id,
            sha256: receipt.sha256,
            size_bytes: receipt.size_bytes,
            content_type: receipt.content_type,
            dfid: receipt.dfid,
            label: receipt.label,
            created_at: receipt.created_at.into(),
            log: log.into(),
        }
    }
}

#[derive(ApiResponse)]
enum ReceiptCreated {
    /// Recorded; its log entry is integrated within moments (`log.status`).
    #[oai(status = 201)]
    Created(Json<ReceiptView>),
}

#[derive(Object)]
struct ReceiptList {
    data: Vec<ReceiptView>,
    #[oai(nullable)]
    next_cursor: Option<String>,
}

#[derive(Object)]
struct ReceiptMatches {
    /// Receipts of the same bytes that the caller may see, newest first.
    matches: Vec<ReceiptView>,
}

/// The receipted bytes or digest, and the `dfid` and `label` that go with them.
fn parts(
    body: ReceiptBody,
    req: &poem::Request,
    dfid: Option<String>,
    label: Option<String>,
) -> (Receipted, Option<String>, Option<String>) {
    match body {
        ReceiptBody::Json(Json(b)) => (Receipted::Digest(b.sha256), b.dfid, b.label),
        ReceiptBody::Bytes(Binary(bytes)) => {
            let content_type = req.content_type().map(str::to_owned);
            (Receipted::Bytes { bytes, content_type }, dfid, label)
        }
    }
}

async fn view(state: &State<'_>, receipt: Receipt) -> ApiResult<ReceiptView> {
    let mut views = views(state, vec![receipt]).await?;
    views
        .pop()
        .ok_or_else(|| Error::internal("a receipt's view went missing").into())
}

async fn views(state: &State<'_>, receipts: Vec<Receipt>) -> ApiResult<Vec<ReceiptView>> {
    Ok(state
        .history
        .receipt_logs(receipts)
        .await?
        .into_iter()
        .map(|(receipt, log)| ReceiptView::of(receipt, log))
        .collect())
}

#[OpenApi(tag = "ApiTags::Receipts")]
impl ReceiptsApi {
    /// Receipt a payload or its digest: logged, so anyone can later check that these bytes
    /// were receipted by then. With `dfid`, the receipt is attached to the item as evidence and
    /// shows in its proof bundle.
    #[oai(path = "/api/receipts", method = "post", operation_id = "create_receipt")]
    async fn create(
        &self,
        state: State<'_>,
        caller: Caller,
        req: &poem::Request,
        body: ReceiptBody,
        dfid: Query<Option<String>>,
        label: Query<Option<String>>,
    ) -> ApiResult<ReceiptCreated> {
        let (receipted, dfid, label) = parts(body, req, dfid.0, label.0);
        let receipt = state
            .receipts
            .create(&caller.principal, receipted, dfid.as_deref(), label)
            .await?;
        Ok(ReceiptCreated::Created(Json(view(&state, receipt).await?)))
    }

    /// The caller's receipts, newest first.
    #[oai(path = "/api/receipts", method = "get", operation_id = "list_receipts")]
    async fn list(
        &self,
        state: State<'_>,
        caller: Caller,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ReceiptList>> {
        let page = state
            .receipts
            .list(&caller.principal, &page(limit.0, cursor.0)?)
            .await?;
        Ok(Json(ReceiptList {
            data: views(&state, page.data).await?,
            next_cursor: page.next_cursor,
        }))
    }

    /// One receipt: the caller's own, or one attached to an item the caller may see.
    #[oai(path = "/api/receipts/:receipt_id", method = "get", operation_id = "get_receipt")]
    async fn get(&self, state: State<'_>, caller: Caller, receipt_id: Path<String>) -> ApiResult<Json<ReceiptView>> {
        let receipt = state.receipts.get(&caller.principal, &receipt_id.0).await?;
        Ok(Json(view(&state, receipt).await?))
    }

    /// Which receipts the caller may see hold these bytes (same body forms as creating one).
    #[oai(path = "/api/receipts/verify", method = "post", operation_id = "verify_receipt")]
    async fn verify(
        &self,
        state: State<'_>,
        caller: Caller,
        req: &poem::Request,
        body: ReceiptBody,
    ) -> ApiResult<Json<ReceiptMatches>> {
        let (receipted, _, _) = parts(body, req, None, None);
        let matches = state.receipts.verify(&caller.principal, receipted).await?;
        Ok(Json(ReceiptMatches {
            matches: views(&state, matches).await?,
        }))
    }
}
