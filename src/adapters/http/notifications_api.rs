//! `/api/notifications`: the caller's notifications, and the live socket.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use poem::web::websocket::{BoxWebSocketUpgraded, Message, WebSocket, WebSocketStream};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::caller::{Caller, SocketCaller};
use super::error::ApiResult;
use super::types::{UtcTime, list_of, page};
use super::{ApiTags, AppState, State};
use crate::domain::identity::access::{Access, Principal};
use crate::domain::identity::guard::{Presented, RequestFacts, RouteKind};
use crate::domain::partners::notification::Notification;

pub struct NotificationsApi;

/// How often a socket re-checks its session, so a revoked session closes it.
const SESSION_RECHECK: Duration = Duration::from_secs(2);

super::types::mirror!(
    /// What a notification is about.
    NotificationTypeName <=> crate::domain::partners::notification::NotificationType, "PascalCase" {
        JoinRequestReceived, JoinRequestApproved, JoinRequestRejected, MemberAdded, MemberRemoved,
        RoleChanged, CircuitItemPendingApproval, CircuitItemApproved, CircuitItemRejected,
        AccountUpdated, TransferReceived, TransferAccepted, TransferDeclined, DisputeResolved,
    }
);

/// A notification.
#[derive(Object)]
pub struct NotificationView {
    id: String,
    notification_type: NotificationTypeName,
    title: String,
    message: String,
    read: bool,
    created_at: UtcTime,
    data: serde_json::Value,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            notification_type: n.notification_type.into(),
            title: n.title,
            message: n.message,
            read: n.read,
            created_at: n.created_at.into(),
            data: n.data,
        }
    }
}

fn wire(n: &Notification) -> serde_json::Value {
    json!({
        "id": n.id,
        "notification_type": n.notification_type.as_str(),
        "title": n.title,
        "message": n.message,
        "read": n.read,
        "created_at": n.created_at,
        "data": n.data,
    })
}

list_of!(
    /// A page of notifications, newest first.
    NotificationList,
    NotificationView
);

#[derive(Object)]
struct UnreadCount {
    count: u64,
}

/// How the caller gets notifications besides the API and the socket.
#[derive(Object)]
struct NotificationSettings {
    /// Mail each new notification to the account's email address (off unless turned on).
    email: bool,
}

#[derive(Object)]
struct Updated {
    updated: u64,
}

#[derive(ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(tag = "ApiTags::Notifications")]
impl NotificationsApi {
    /// Whether the caller's notifications are mailed to them too.
    #[oai(
        path = "/api/notifications/settings",
        method = "get",
        operation_id = "get_notification_settings"
    )]
    async fn settings(&self, state: State<'_>, caller: Caller) -> ApiResult<Json<NotificationSettings>> {
        let email = state.notifications.email_setting(&caller.principal).await?;
        Ok(Json(NotificationSettings { email }))
    }

    /// Turn mailing the caller's notifications on or off. With `email` on, each notification
    /// created from then on is also mailed to the account's address, through the mail outbox
    /// (`SMTP_URL`): a mail server that is down delays the message, never the action that
    /// caused it.
    #[oai(
        path = "/api/notifications/settings",
        method = "put",
        operation_id = "set_notification_settings"
    )]
    async fn set_settings(
        &self,
        state: State<'_>,
        caller: Caller,
        body: Json<NotificationSettings>,
    ) -> ApiResult<Json<NotificationSettings>> {
        let email = state
            .notifications
            .set_email_setting(&caller.principal, body.0.email)
            .await?;
        Ok(Json(NotificationSettings { email }))
    }

    /// The caller's notifications (optionally unread only).
    #[oai(path = "/api/notifications", method = "get", operation_id = "list_notifications")]
    async fn list(
        &self,
        state: State<'_>,
        caller: Caller,
        unread_only: Query<Option<bool>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<NotificationList>> {
        let page = page(limit.0, cursor.0)?;
        Ok(Json(
            state
                .notifications
                .list(&caller.principal, unread_only.0.unwrap_or(false), &page)
                .await?
                .into(),
        ))
    }

    /// How many are unread.
    #[oai(
        path = "/api/notifications/unread-count",
        method = "get",
        operation_id = "unread_notifications"
    )]
    async fn unread(&self, state: State<'_>, caller: Caller) -> ApiResult<Json<UnreadCount>> {
        Ok(Json(UnreadCount {
            count: state.notifications.unread_count(&caller.principal).await?,
        }))
    }

    /// Mark one read (the caller's own; anyone else's is 404).
    #[oai(
        path = "/api/notifications/:id/read",
        method = "put",
        operation_id = "mark_notification_read"
    )]
    async fn read(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Done> {
        state.notifications.mark_read(&caller.principal, &id.0).await?;
        Ok(Done::Done)
    }

    /// Mark all read.
    #[oai(
        path = "/api/notifications/mark-all-read",
        method = "post",
        operation_id = "mark_all_notifications_read"
    )]
    async fn read_all(&self, state: State<'_>, caller: Caller) -> ApiResult<Json<Updated>> {
        Ok(Json(Updated {
            updated: state.notifications.mark_all_read(&caller.principal).await?,
        }))
    }

    /// Delete one (the caller's own; anyone else's is 404).
    #[oai(
        path = "/api/notifications/:id",
        method = "delete",
        operation_id = "delete_notification"
    )]
    async fn delete(&self, state: State<'_>, caller: Caller, id: Path<String>) -> ApiResult<Done> {
        state.notifications.delete(&caller.principal, &id.0).await?;
        Ok(Done::Done)
    }

    /// Live notifications over a WebSocket, authenticated by the `Authorization` header or a
    /// `token` query parameter (a session token). Server messages: `{"type":"connected"}`,
    /// `{"type":"unread_count","count"}`, `{"type":"notification","data":{...}}`,
    /// `{"type":"pong"}`, and `{"type":"lag","missed":n}` when the client read too slowly and
    /// missed notifications (read them over REST). Client messages:
    /// `{"action":"mark_read","notification_id"}`, `{"action":"ping"}`. A revoked session closes
    /// the socket. Errors (a missing upgrade, a bad token) answer before the upgrade.
    #[oai(
        path = "/api/notifications/ws",
        method = "get",
        operation_id = "notifications_socket"
    )]
    async fn socket(
        &self,
        state: State<'_>,
        caller: SocketCaller,
        websocket: WebSocket,
    ) -> ApiResult<BoxWebSocketUpgraded> {
        let state = Arc::clone(&state);
        Ok(websocket
            .on_upgrade(move |stream| async move {
                metrics::gauge!("defarm_sockets_connected").increment(1.0);
                serve_socket(state, caller, stream).await;
                metrics::gauge!("defarm_sockets_connected").decrement(1.0);
            })
            .boxed())
    }
}

async fn send(sink: &mut futures_util::stream::SplitSink<WebSocketStream, Message>, value: serde_json::Value) -> bool {
    sink.send(Message::Text(value.to_string())).await.is_ok()
}

async fn session_alive(state: &AppState, token: &str) -> bool {
    let facts = RequestFacts {
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
        path: "/api/notifications/ws",
        access: Access::Read,
        route: RouteKind::SessionOnly,
    };
    state
        .guard
        .authenticate(Presented::Bearer(token.to_owned()), &facts)
        .await
        .is_ok()
}

async fn send_unread(
    state: &AppState,
    principal: &Principal,
    sink: &mut futures_util::stream::SplitSink<WebSocketStream, Message>,
) -> bool {
    let count = state.notifications.unread_count(principal).await.unwrap_or(0);
    send(sink, json!({ "type": "unread_count", "count": count })).await
}

async fn serve_socket(state: Arc<AppState>, caller: SocketCaller, stream: WebSocketStream) {
    let SocketCaller { principal, token } = caller;
    // Subscribe before the first messages, so nothing created meanwhile is missed.
    let mut notifications = state.notifier.subscribe();
    let (mut sink, mut incoming) = stream.split();
    if !send(&mut sink, json!({ "type": "connected" })).await || !send_unread(&state, &principal, &mut sink).await {
        return;
    }
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    recheck.tick().await;
    loop {
        tokio::select! {
            received = notifications.recv() => match received {
                Ok(notification) if notification.user_id == principal.user_id => {
                    if !send(&mut sink, json!({ "type": "notification", "data": wire(&notification) })).await {
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    if !send(&mut sink, json!({ "type": "lag", "missed": missed })).await {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            message = incoming.next() => {
                let Some(Ok(message)) = message else { return };
                let Message::Text(text) = message else { continue };
                let Ok(request) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
                match request["action"].as_str() {
                    Some("ping") if !send(&mut sink, json!({ "type": "pong" })).await => return,
                    Some("mark_read") => {
                        if let Some(id) = request["notification_id"].as_str() {
                            let _ = state.notifications.mark_read(&principal, id).await;
                        }
                        if !send_unread(&state, &principal, &mut sink).await {
                            return;
                        }
                    }
                    _ => {}
                }
            }
            _ = recheck.tick() => {
                if !session_alive(&state, &token).await {
                    let _ = sink.send(Message::Close(Some((poem::web::websocket::CloseCode::Policy, "session ended".to_owned())))).await;
                    return;
                }
            }
        }
    }
}
