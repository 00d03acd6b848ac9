//! Public pages: the settings managers write and the page anyone may read.

use crate::domain::circuits::circuit::CircuitId;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::caller::{Caller, PublicClient};
use super::circuits_api::{AccessModeName, CircuitResponse};
use super::error::ApiResult;
use super::history_api::ProofBundleView;
use super::types::UtcTime;
use super::views::{EventView, IdentifierView, identifier_views};
use super::{ApiTags, State};
use crate::domain::circuits::public_page::{AccessMode, PageKey};
use crate::domain::circuits::public_page_service::{PublicPage, PublicSettingsInput};

pub struct PublicPagesApi;

#[derive(Object)]
struct PublicSettingsBody {
    /// `true` needs the circuit's `allow_public_visibility` (409 otherwise).
    enabled: bool,
    access_mode: AccessModeName,
    /// Required for `Protected`; omitted keeps the current one. Stored hashed.
    #[oai(nullable)]
    access_password: Option<String>,
    /// Required for `Scheduled`: the page opens then.
    #[oai(nullable)]
    scheduled_date: Option<UtcTime>,
    public_name: String,
    #[oai(nullable)]
    public_description: Option<String>,
    #[oai(nullable)]
    primary_color: Option<String>,
    #[oai(nullable)]
    secondary_color: Option<String>,
    #[oai(nullable)]
    logo_url: Option<String>,
    #[oai(nullable)]
    tagline: Option<String>,
    #[oai(nullable)]
    footer_text: Option<String>,
    /// DFIDs of items in this circuit (400 otherwise).
    #[oai(default)]
    published_items: Vec<String>,
    #[oai(default)]
    auto_publish_pushed_items: bool,
    #[oai(default)]
    auto_approve_members: bool,
}

/// A published item: canonical identifiers and `Public` events only.
#[derive(Object)]
struct PublishedItemView {
    dfid: String,
    identifiers: Vec<IdentifierView>,
    events: Vec<EventView>,
}

/// A circuit's public page.
#[derive(Object)]
struct PublicPageView {
    circuit_id: String,
    public_name: String,
    #[oai(nullable)]
    public_description: Option<String>,
    #[oai(nullable)]
    primary_color: Option<String>,
    #[oai(nullable)]
    secondary_color: Option<String>,
    #[oai(nullable)]
    logo_url: Option<String>,
    #[oai(nullable)]
    tagline: Option<String>,
    #[oai(nullable)]
    footer_text: Option<String>,
    access_mode: AccessModeName,
    requires_password: bool,
    member_count: u64,
    published_items: Vec<PublishedItemView>,
    #[oai(nullable)]
    public_since: Option<UtcTime>,
}

impl From<PublicPage> for PublicPageView {
    fn from(page: PublicPage) -> Self {
        let s = page.settings;
        Self {
            circuit_id: page.circuit_id,
            public_name: s.public_name,
            public_description: s.public_description,
            primary_color: s.primary_color,
            secondary_color: s.secondary_color,
            logo_url: s.logo_url,
            tagline: s.tagline,
            footer_text: s.footer_text,
            requires_password: s.access_mode == AccessMode::Protected,
            access_mode: s.access_mode.into(),
            member_count: page.member_count,
            published_items: page
                .published_items
                .into_iter()
                .map(|item| PublishedItemView {
                    dfid: item.dfid,
                    identifiers: identifier_views(item.identifiers),
                    events: item.events.into_iter().map(Into::into).collect(),
                })
                .collect(),
            public_since: s.public_since.map(UtcTime),
        }
    }
}

#[derive(ApiResponse)]
enum ItemResolved {
    /// The item's public page.
    #[oai(status = 303)]
    SeeOther(#[oai(header = "Location")] String),
}

#[OpenApi(tag = "ApiTags::Circuits")]
impl PublicPagesApi {
    /// The resolver behind every item's EPC (`{PUBLIC_BASE_URL}/id/{dfid}`, the URL a QR code
    /// holds): 303 to the item's page on the public page of a circuit that publishes it (the
    /// earliest publication whose page is open); 404 otherwise, the same for an item that does
    /// not exist and one nobody publishes (as an HTML page when the request accepts
    /// `text/html`: browsers follow QR codes here). No credentials.
    #[oai(path = "/id/:dfid", method = "get", operation_id = "resolve_item")]
    async fn resolve_item(&self, state: State<'_>, dfid: Path<String>) -> ApiResult<ItemResolved> {
        let circuit_id = state.public_pages.publishing_circuit(&dfid.0).await?;
        Ok(ItemResolved::SeeOther(format!(
            "{}/p/{circuit_id}/items/{}",
            state.public_base_url, dfid.0
        )))
    }

    /// Replace the public page settings (ManagePermissions).
    #[oai(
        path = "/api/circuits/:id/public-settings",
        method = "put",
        operation_id = "set_public_settings"
    )]
    async fn set_public_settings(
        &self,
        state: State<'_>,
        caller: Caller,
        id: Path<String>,
        body: Json<PublicSettingsBody>,
    ) -> ApiResult<Json<CircuitResponse>> {
        let b = body.0;
        let input = PublicSettingsInput {
            enabled: b.enabled,
            access_mode: b.access_mode.into(),
            access_password: b.access_password,
            scheduled_date: b.scheduled_date.map(|time| time.0),
            public_name: b.public_name,
            public_description: b.public_description,
            primary_color: b.primary_color,
            secondary_color: b.secondary_color,
            logo_url: b.logo_url,
            tagline: b.tagline,
            footer_text: b.footer_text,
            published_items: b.published_items,
            auto_publish_pushed_items: b.auto_publish_pushed_items,
            auto_approve_members: b.auto_approve_members,
        };
        Ok(Json(
            state
                .public_pages
                .set_public_settings(&caller.principal, &CircuitId::parse(&id.0)?, input, &caller.meta)
                .await?
                .into(),
        ))
    }

    /// The public page, without credentials: 404 unless enabled (and, for `Scheduled`, past
    /// its date); `Protected` pages need `X-Access-Password` (401 `access_password_required`;
    /// after 10 wrong ones in 15 minutes, 429 for that client only, for 15 minutes).
    #[oai(path = "/api/circuits/:id/public", method = "get", operation_id = "get_public_page")]
    async fn public_page(
        &self,
        state: State<'_>,
        client: PublicClient,
        id: Path<String>,
        #[oai(name = "X-Access-Password")] access_password: Header<Option<String>>,
    ) -> ApiResult<Json<PublicPageView>> {
        Ok(Json(
            state
                .public_pages
                .public_page(
                    &CircuitId::parse(&id.0)?,
                    PageKey::Password(access_password.0.as_deref()),
                    client.meta.ip,
                )
                .await?
                .into(),
        ))
    }

    /// The proof bundle of an item the public page publishes, behind the page's gate: its
    /// `Public` events and its versions, a version's document only when it names canonical
    /// identifiers alone (otherwise `withheld`, digest and proof kept); no receipts. Check it
    /// offline with the log's verifier key (`GET /log/key`).
    #[oai(
        path = "/api/circuits/:id/public/items/:dfid/proof",
        method = "get",
        operation_id = "get_public_item_proof"
    )]
    async fn public_item_proof(
        &self,
        state: State<'_>,
        client: PublicClient,
        id: Path<String>,
        dfid: Path<String>,
        #[oai(name = "X-Access-Password")] access_password: Header<Option<String>>,
    ) -> ApiResult<Json<ProofBundleView>> {
        let (_, item) = state
            .public_pages
            .published_item(
                &CircuitId::parse(&id.0)?,
                &dfid.0,
                PageKey::Password(access_password.0.as_deref()),
                client.meta.ip,
            )
            .await?;
        Ok(Json(state.history.public_bundle(&item).await?.into()))
    }
}
