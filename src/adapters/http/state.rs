//! What handlers reach through `Data<&Arc<AppState>>`: the services and ports, built by the
//! composition root. API structs stay empty, so the spec can be generated without any of it.

use std::sync::Arc;
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;
use poem::web::Data;

use super::BuildInfo;
use crate::domain::admin::AdminService;
use crate::domain::api_keys::ApiKeyService;
use crate::domain::auth::AuthService;
use crate::domain::circuits::CircuitService;
use crate::domain::events::EventService;
use crate::domain::guard::Guard;
use crate::domain::items::ItemService;
use crate::domain::notifications::NotificationService;
use crate::domain::push::PushService;
use crate::domain::storage_service::StorageService;
use crate::domain::webhooks::WebhookService;
use crate::ports::{Cache, DatabaseHealth, Notifier};

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
    pub push: Arc<PushService>,
    pub webhooks: Arc<WebhookService>,
    pub storage: Arc<StorageService>,
    pub notifications: Arc<NotificationService>,
    pub notifier: Arc<dyn Notifier>,
}

/// The extractor handlers use for the state.
pub type State<'a> = Data<&'a Arc<AppState>>;
