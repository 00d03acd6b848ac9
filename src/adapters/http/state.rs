//! What handlers reach through `Data<&Arc<AppState>>`: the services and ports, built by the
//! composition root. API structs stay empty, so the spec can be generated without any of it.

use crate::domain::dashboards::service::DashboardService;
use std::sync::Arc;
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;
use poem::web::Data;

use super::BuildInfo;
use crate::domain::circuits::circuit_service::CircuitService;
use crate::domain::circuits::join_service::JoinService;
use crate::domain::circuits::member_service::MemberService;
use crate::domain::circuits::public_page_service::PublicPageService;
use crate::domain::circuits::push_service::PushService;
use crate::domain::identity::access::RequestMeta;
use crate::domain::identity::admin::AdminService;
use crate::domain::identity::api_keys::ApiKeyService;
use crate::domain::identity::auth::AuthService;
use crate::domain::identity::guard::Guard;
use crate::domain::identity::password_reset::ResetRequest;
use crate::domain::items::dispute_service::DisputeService;
use crate::domain::items::event_service::EventService;
use crate::domain::items::item_service::ItemService;
use crate::domain::items::receipt_service::ReceiptService;
use crate::domain::items::transfer_service::TransferService;
use crate::domain::log::history::HistoryService;
use crate::domain::log::service::LogService;
use crate::domain::partners::notification_service::NotificationService;
use crate::domain::partners::ports::Notifier;
use crate::domain::partners::storage_service::StorageService;
use crate::domain::partners::webhook_service::WebhookService;
use crate::ports::{Cache, DatabaseHealth};

/// Password reset requests waiting for the background worker that sends them.
pub type ResetQueue = tokio::sync::mpsc::Sender<(ResetRequest, RequestMeta)>;

pub struct AppState {
    pub build: BuildInfo,
    pub started: Instant,
    pub database: Arc<dyn DatabaseHealth>,
    /// `None` without Redis: the cache is in process and has nothing to check.
    pub redis_cache: Option<Arc<dyn Cache>>,
    pub metrics: PrometheusHandle,
    pub guard: Arc<Guard>,
    pub auth: Arc<AuthService>,
    pub api_keys: Arc<ApiKeyService>,
    pub admin: Arc<AdminService>,
    pub items: Arc<ItemService>,
    pub events: Arc<EventService>,
    pub circuits: Arc<CircuitService>,
    pub members: Arc<MemberService>,
    pub joins: Arc<JoinService>,
    pub public_pages: Arc<PublicPageService>,
    pub push: Arc<PushService>,
    pub transfers: Arc<TransferService>,
    pub disputes: Arc<DisputeService>,
    pub webhooks: Arc<WebhookService>,
    pub storage: Arc<StorageService>,
    pub notifications: Arc<NotificationService>,
    pub log: Arc<LogService>,
    pub history: Arc<HistoryService>,
    pub receipts: Arc<ReceiptService>,
    pub epcis: Arc<crate::domain::epcis::service::EpcisService>,
    pub lineage: Arc<crate::domain::epcis::lineage_service::LineageService>,
    pub dashboards: Arc<DashboardService>,
    pub notifier: Arc<dyn Notifier>,
    pub reset_queue: ResetQueue,
    /// `MAX_IMPORT_BYTES`.
    pub max_import_bytes: usize,
    /// `PUBLIC_BASE_URL`: where browsers reach this service (item EPCs, public pages).
    pub public_base_url: String,
}

/// The extractor handlers use for the state.
pub type State<'a> = Data<&'a Arc<AppState>>;
