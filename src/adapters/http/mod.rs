//! The driving adapter: the HTTP API, declared with poem-openapi so the spec is generated from
//! the same code that serves it.

mod admin_api;
mod api_keys_api;
mod auth_api;
mod caller;
mod circuits_api;
pub mod connections;
mod csv;
mod dashboards_api;
mod disputes_api;
mod edge;
mod epcis_api;
mod error;
mod events_api;
mod exports_api;
mod history_api;
mod import_api;
mod items_api;
mod joins_api;
mod log_api;
mod members_api;
mod notifications_api;
mod ops;
mod public_pages_api;
mod push_api;
mod receipts_api;
mod spec;
mod state;
mod storage_api;
mod strict_types;
mod transfers_api;
mod types;
mod views;
mod web;
mod webhooks_api;

use std::sync::Arc;

use poem::middleware::{CatchPanic, Cors};
use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::{OpenApiService, Tags};

pub use caller::{API_KEY_SCHEME, BEARER_SCHEME};
pub use edge::{EdgeSettings, RequestContext, X_COMMIT, X_REQUEST_ID};
pub use error::{ApiError, ApiResult, ErrorBody};
pub use ops::{BuildInfo, OpsApi};
pub use state::{AppState, State};

#[derive(Tags, Clone, Copy)]
pub enum ApiTags {
    /// Health, readiness, version and metrics.
    Operations,
    /// Accounts, sessions and passwords.
    Auth,
    /// The caller's own account.
    Users,
    /// Keys for programs, managed with a user session.
    #[oai(rename = "API keys")]
    ApiKeys,
    /// Users, tiers, statuses and the audit log (administrators only).
    Admin,
    /// Local items (LIDs) and global items (DFIDs).
    Items,
    /// Ownership transfers: an item changes owner when its recipient accepts.
    Transfers,
    /// Immutable events on items.
    Events,
    /// Permissioned groups that share items: members, roles, push, pull, approvals, public pages.
    Circuits,
    /// The activity feed.
    Activities,
    /// Signed post-action webhooks and their deliveries.
    Webhooks,
    /// The caller's notifications, over REST and a WebSocket.
    Notifications,
    /// Storage adapters and content-addressed copies of items.
    Storage,
    /// Receipts: logged proof that some bytes existed by a time, optionally an item's evidence.
    Receipts,
    /// The transparency log: signed checkpoints, proofs and tiles anyone can check.
    Log,
    /// GS1 EPCIS 2.0: capture into a circuit, query, export.
    #[oai(rename = "EPCIS")]
    Epcis,
}

/// The tags in reading order, as the spec lists them (poem-openapi sorts them by name).
const TAG_ORDER: [ApiTags; 16] = [
    ApiTags::Operations,
    ApiTags::Auth,
    ApiTags::Users,
    ApiTags::ApiKeys,
    ApiTags::Items,
    ApiTags::Events,
    ApiTags::Transfers,
    ApiTags::Circuits,
    ApiTags::Activities,
    ApiTags::Webhooks,
    ApiTags::Notifications,
    ApiTags::Storage,
    ApiTags::Receipts,
    ApiTags::Log,
    ApiTags::Epcis,
    ApiTags::Admin,
];

/// Everything the HTTP layer is built from.
pub struct HttpParts {
    pub state: Arc<AppState>,
    pub edge: EdgeSettings,
    pub cors_allowed_origins: Vec<String>,
}

/// Every API of the service, in the order the spec lists them.
type Apis = (
    OpsApi,
    auth_api::AuthApi,
    api_keys_api::ApiKeysApi,
    admin_api::AdminApi,
    items_api::ItemsApi,
    transfers_api::TransfersApi,
    disputes_api::DisputesApi,
    events_api::EventsApi,
    circuits_api::CircuitsApi,
    members_api::MembersApi,
    joins_api::JoinsApi,
    push_api::PushApi,
    public_pages_api::PublicPagesApi,
    webhooks_api::WebhooksApi,
    notifications_api::NotificationsApi,
    // poem-openapi implements its trait for tuples of up to 16; the tail nests.
    (
        storage_api::StorageApi,
        log_api::LogApi,
        history_api::HistoryApi,
        receipts_api::ReceiptsApi,
        epcis_api::EpcisApi,
        auth_api::UsersApi,
        circuits_api::ActivitiesApi,
        exports_api::ExportsApi,
        import_api::ImportApi,
        dashboards_api::DashboardsApi,
    ),
);

fn apis() -> Apis {
    (
        OpsApi,
        auth_api::AuthApi,
        api_keys_api::ApiKeysApi,
        admin_api::AdminApi,
        items_api::ItemsApi,
        transfers_api::TransfersApi,
        disputes_api::DisputesApi,
        events_api::EventsApi,
        circuits_api::CircuitsApi,
        members_api::MembersApi,
        joins_api::JoinsApi,
        push_api::PushApi,
        public_pages_api::PublicPagesApi,
        webhooks_api::WebhooksApi,
        notifications_api::NotificationsApi,
        (
            storage_api::StorageApi,
            log_api::LogApi,
            history_api::HistoryApi,
            receipts_api::ReceiptsApi,
            epcis_api::EpcisApi,
            auth_api::UsersApi,
            circuits_api::ActivitiesApi,
            exports_api::ExportsApi,
            import_api::ImportApi,
            dashboards_api::DashboardsApi,
        ),
    )
}

/// The OpenAPI service: the spec and the routes it describes.
fn openapi_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(apis(), "DeFarm Engines API", env!("CARGO_PKG_VERSION")).description(
        "Supply-chain traceability: local items (LIDs), global items (DFIDs), events, circuits, \
             content-addressed storage and signed webhooks. Errors always have the shape \
             `{error, code, request_id, details?}`; `request_id` equals the `X-Request-Id` header. \
             The spec: [/openapi.json](/openapi.json) ([YAML](/openapi.yaml)).",
    )
}

/// The whole application endpoint: API routes, spec, Swagger UI, and the edge around them.
pub fn endpoint(parts: HttpParts) -> impl Endpoint {
    let service = openapi_service();
    let generated = service.spec();
    let spec = served_spec(&generated);
    let (json, yaml) = (json_text(&spec), yaml_text(&spec));
    let docs = docs_page(&service, &generated, &json);
    let route = Route::new()
        .at(
            "/openapi.json",
            poem::endpoint::make_sync(move |_| document(json.clone(), "application/json")),
        )
        .at(
            "/openapi.yaml",
            poem::endpoint::make_sync(move |_| document(yaml.clone(), "application/yaml")),
        )
        .at("/log/tile/*path", poem::get(log_api::tile))
        .at(
            "/docs",
            poem::endpoint::make_sync(move |_| poem::web::Html(docs.clone())),
        )
        .nest("/", service);
    let route = web::mount(route);
    let cors = (!parts.cors_allowed_origins.is_empty()).then(|| {
        Cors::new()
            .allow_origins(parts.cors_allowed_origins.iter().map(String::as_str))
            .allow_headers([
                "authorization",
                "content-type",
                "x-api-key",
                "x-request-id",
                "x-access-password",
            ])
            .expose_headers([
                "x-request-id",
                "x-commit",
                "retry-after",
                "ratelimit-limit",
                "ratelimit-remaining",
                "ratelimit-reset",
            ])
    });
    web::resolver_pages(route)
        .with_if(cors.is_some(), cors.unwrap_or_default())
        .data(parts.state)
        .with(CatchPanic::new())
        .with(edge::Edge::new(
            parts.edge,
            strict_types::BodyTypes::from_spec(&spec),
            edge::RouteNames::from_spec(&spec),
        ))
}

/// Swagger UI showing the served spec (poem-openapi embeds the one it generated, before
/// `spec::normalized`), with the operation filter on and authorization kept across reloads.
fn docs_page(service: &OpenApiService<Apis, ()>, generated: &str, served: &str) -> String {
    service.swagger_ui_html().replacen(generated, served, 1).replacen(
        "filter: false,",
        "filter: true,\n        persistAuthorization: true,",
        1,
    )
}

fn document(text: String, content_type: &'static str) -> poem::Response {
    poem::Response::builder().content_type(content_type).body(text)
}

/// The spec clients get, from the one poem-openapi generated.
fn served_spec(generated: &str) -> serde_json::Value {
    // poem-openapi's own JSON always parses.
    let document = serde_json::from_str(generated).unwrap_or_default();
    spec::normalized(document, &TAG_ORDER.map(|tag| Tags::name(&tag)))
}

fn spec_document() -> serde_json::Value {
    served_spec(&openapi_service().spec())
}

/// The spec as JSON, as `defarm openapi` prints it and `openapi/openapi.json` stores it.
pub fn spec_json() -> String {
    json_text(&spec_document())
}

/// The spec as YAML.
pub fn spec_yaml() -> String {
    yaml_text(&spec_document())
}

fn json_text(document: &serde_json::Value) -> String {
    serde_json::to_string_pretty(document).unwrap_or_default()
}

fn yaml_text(document: &serde_json::Value) -> String {
    serde_yaml::to_string(document).unwrap_or_default()
}
