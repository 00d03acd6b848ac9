//! `/api/items`: local items (LIDs) and global items (DFIDs).

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::caller::Caller;
use super::error::ApiResult;
use super::types::{JsonObject, page};
use super::views::{
    EventList, IdentifierInputBody, ItemList, ItemResponse, LocalItemList, LocalItemView, NamespaceName,
    identifier_inputs,
};
use super::{ApiTags, State};
use crate::domain::items::local_batch;
use crate::domain::items::ports::ItemFilter;

pub struct ItemsApi;

#[derive(Object)]
struct NewLocalItem {
    #[oai(nullable)]
    identifiers: Option<Vec<IdentifierInputBody>>,
    /// A JSON object of the caller's data.
    #[oai(nullable)]
    enriched_data: Option<JsonObject>,
}

/// Local items to create together.
#[derive(Object)]
struct NewLocalItems {
    /// 1 to 1,000 items, each as `POST /api/items/local` takes it.
    #[oai(validator(min_items = 1, max_items = 1000))]
    items: Vec<NewLocalItem>,
}

/// The local items a batch created, in the order they were sent.
#[derive(Object)]
struct CreatedLocalItems {
    count: u64,
    items: Vec<LocalItemView>,
}

#[derive(Object)]
struct EnrichItem {
    /// Merged by top-level key: these win, null never deletes.
    #[oai(nullable)]
    enriched_data: Option<JsonObject>,
    /// Added (never removed). A canonical identifier naming another item is 409.
    #[oai(nullable)]
    identifiers: Option<Vec<IdentifierInputBody>>,
}

/// Where a local item stands.
#[derive(Object)]
struct MappingView {
    local_id: String,
    #[oai(nullable)]
    dfid: Option<String>,
    /// `LocalOnly` or `Tokenized`.
    status: String,
}

#[derive(ApiResponse)]
enum LocalItemCreated {
    /// Created, owned by the caller.
    #[oai(status = 201)]
    Created(Json<LocalItemView>),
}

#[derive(ApiResponse)]
enum LocalItemsCreated {
    /// Every item was created, owned by the caller.
    #[oai(status = 201)]
    Created(Json<CreatedLocalItems>),
}

impl From<NewLocalItem> for local_batch::NewLocalItem {
    fn from(body: NewLocalItem) -> Self {
        Self {
            identifiers: identifier_inputs(body.identifiers),
            enriched_data: body.enriched_data.map(|data| data.0),
            namespace: None,
        }
    }
}

#[OpenApi(tag = "ApiTags::Items")]
impl ItemsApi {
    /// Create a local item owned by the caller. Counts toward the tier's monthly item limit
    /// (403 `tier_limit_exceeded`).
    #[oai(path = "/api/items/local", method = "post", operation_id = "create_local_item")]
    async fn create_local(
        &self,
        state: State<'_>,
        caller: Caller,
        body: Json<NewLocalItem>,
    ) -> ApiResult<LocalItemCreated> {
        let body = body.0;
        let item = state
            .items
            .create_local(
                &caller.principal,
                identifier_inputs(body.identifiers),
                body.enriched_data.map(|data| data.0),
            )
            .await?;
        Ok(LocalItemCreated::Created(Json(item.into())))
    }

    /// Create up to 1,000 local items at once, all or none, in one transaction. An item that
    /// breaks a rule is 400 `invalid_rows`, whose `details.errors` name each bad item (`row` is its
    /// index in `items`, `field` the path to what is wrong). The items count toward the monthly
    /// item limit as a whole (403 `tier_limit_exceeded` when they do not all fit).
    #[oai(
        path = "/api/items/local/batch",
        method = "post",
        operation_id = "create_local_items"
    )]
    async fn create_local_batch(
        &self,
        state: State<'_>,
        caller: Caller,
        body: Json<NewLocalItems>,
    ) -> ApiResult<LocalItemsCreated> {
        let items = body.0.items.into_iter().map(Into::into).collect();
        let created = state.items.create_local_batch(&caller.principal, items).await?;
        Ok(LocalItemsCreated::Created(Json(CreatedLocalItems {
            count: created.len() as u64,
            items: created.into_iter().map(Into::into).collect(),
        })))
    }

    /// The caller's local items.
    #[oai(path = "/api/items/local", method = "get", operation_id = "list_local_items")]
    async fn list_local(
        &self,
        state: State<'_>,
        caller: Caller,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<LocalItemList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.items.local_items(&caller.principal, &page).await?.into()))
    }

    /// One of the caller's local items.
    #[oai(path = "/api/items/local/:local_id", method = "get", operation_id = "get_local_item")]
    async fn get_local(
        &self,
        state: State<'_>,
        caller: Caller,
        local_id: Path<String>,
    ) -> ApiResult<Json<LocalItemView>> {
        Ok(Json(
            state.items.local_item(&caller.principal, &local_id.0).await?.into(),
        ))
    }

    /// Which DFID a local item became, if any.
    #[oai(
        path = "/api/items/mapping/:local_id",
        method = "get",
        operation_id = "get_item_mapping"
    )]
    async fn mapping(&self, state: State<'_>, caller: Caller, local_id: Path<String>) -> ApiResult<Json<MappingView>> {
        let mapping = state.items.mapping(&caller.principal, &local_id.0).await?;
        Ok(Json(MappingView {
            status: if mapping.dfid.is_some() {
                "Tokenized"
            } else {
                "LocalOnly"
            }
            .to_owned(),
            local_id: mapping.local_id,
            dfid: mapping.dfid,
        }))
    }

    /// Items the caller can see (owned, in their circuits, or pulled to them), filtered by
    /// circuit or by identifier (`key`, optionally `value` and `namespace`).
    #[oai(path = "/api/items", method = "get", operation_id = "list_items")]
    #[expect(
        clippy::too_many_arguments,
        reason = "poem-openapi takes one argument per query parameter"
    )]
    async fn list(
        &self,
        state: State<'_>,
        caller: Caller,
        circuit_id: Query<Option<String>>,
        namespace: Query<Option<NamespaceName>>,
        key: Query<Option<String>>,
        value: Query<Option<String>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ItemList>> {
        let filter = ItemFilter {
            circuit_id: circuit_id.0,
            namespace: namespace.0.map(Into::into),
            key: key.0,
            value: value.0,
        };
        let page = page(limit.0, cursor.0)?;
        Ok(Json(state.items.list(&caller.principal, &filter, &page).await?.into()))
    }

    /// One item (404 unless the caller owns it, belongs to a circuit holding it, or pulled it).
    #[oai(path = "/api/items/:dfid", method = "get", operation_id = "get_item")]
    async fn get(&self, state: State<'_>, caller: Caller, dfid: Path<String>) -> ApiResult<Json<ItemResponse>> {
        Ok(Json(state.items.get(&caller.principal, &dfid.0).await?.into()))
    }

    /// Enrich an item (owner, or a member with Push in a circuit holding it): adds identifiers,
    /// merges data keys, records an `Enriched` event.
    #[oai(path = "/api/items/:dfid", method = "patch", operation_id = "enrich_item")]
    async fn enrich(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
        body: Json<EnrichItem>,
    ) -> ApiResult<Json<ItemResponse>> {
        let body = body.0;
        let view = state
            .items
            .enrich(
                &caller.principal,
                &dfid.0,
                identifier_inputs(body.identifiers),
                body.enriched_data.map(|data| data.0),
                &caller.meta,
            )
            .await?;
        Ok(Json(view.into()))
    }

    /// Mark an item `Deprecated` (owner only).
    #[oai(path = "/api/items/:dfid/deprecate", method = "put", operation_id = "deprecate_item")]
    async fn deprecate(&self, state: State<'_>, caller: Caller, dfid: Path<String>) -> ApiResult<Json<ItemResponse>> {
        Ok(Json(state.items.deprecate(&caller.principal, &dfid.0).await?.into()))
    }

    /// The item's events that the caller may see.
    #[oai(path = "/api/items/:dfid/events", method = "get", operation_id = "list_item_events")]
    async fn events(
        &self,
        state: State<'_>,
        caller: Caller,
        dfid: Path<String>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<EventList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state.items.events(&caller.principal, &dfid.0, &page).await?.into(),
        ))
    }
}
