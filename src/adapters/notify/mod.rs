//! Notification fan-out: an in-process broadcast, fed directly (single instance) or by a Redis
//! channel that every replica subscribes to.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;

use crate::adapters::redis::{ChannelListener, RedisClient, listen};
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::partners::ports::Notifier;

/// Notifications a slow socket may fall behind by before it is told it missed some.
const CHANNEL_BOUND: usize = 1024;

/// In-process fan-out, for the single-instance mode.
pub struct LocalNotifier {
    sender: broadcast::Sender<Notification>,
}

impl LocalNotifier {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(CHANNEL_BOUND).0,
        }
    }
}

impl Default for LocalNotifier {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl Notifier for LocalNotifier {
    async fn publish(&self, notification: &Notification) {
        let _ = self.sender.send(notification.clone());
    }

    fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.sender.subscribe()
    }
}

/// A notification as it travels between replicas.
#[derive(Serialize, Deserialize)]
struct Wire {
    id: String,
    user_id: String,
    notification_type: String,
    title: String,
    message: String,
    read: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    data: serde_json::Value,
}

impl From<&Notification> for Wire {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id.clone(),
            user_id: n.user_id.clone(),
            notification_type: n.notification_type.as_str().to_owned(),
            title: n.title.clone(),
            message: n.message.clone(),
            read: n.read,
            created_at: n.created_at,
            data: n.data.clone(),
        }
    }
}

impl Wire {
    fn into_notification(self) -> Option<Notification> {
        Some(Notification {
            notification_type: NotificationType::from_text(&self.notification_type)?,
            id: self.id,
            user_id: self.user_id,
            title: self.title,
            message: self.message,
            read: self.read,
            created_at: self.created_at,
            data: self.data,
        })
    }
}

/// Fan-out through a Redis channel, so a notification created on one replica reaches sockets on
/// all of them. When Redis cannot take a message, this replica's sockets still get it.
pub struct RedisNotifier {
    client: Arc<RedisClient>,
    channel: String,
    local: broadcast::Sender<Notification>,
}

impl RedisNotifier {
    /// Starts the subscription (reconnecting after failures) and returns the notifier.
    pub fn start(client: Arc<RedisClient>) -> anyhow::Result<Arc<Self>> {
        let notifier = Arc::new(Self {
            channel: client.key("notifications"),
            local: broadcast::channel(CHANNEL_BOUND).0,
            client,
        });
        let listener: Arc<dyn ChannelListener> = notifier.clone();
        listen(&notifier.client, notifier.channel.clone(), Arc::downgrade(&listener))?;
        Ok(notifier)
    }
}

impl ChannelListener for RedisNotifier {
    fn connected(&self, _up: bool) {}

    fn message(&self, payload: String) {
        if let Some(notification) = serde_json::from_str::<Wire>(&payload)
            .ok()
            .and_then(Wire::into_notification)
        {
            let _ = self.local.send(notification);
        }
    }
}

#[async_trait::async_trait]
impl Notifier for RedisNotifier {
    async fn publish(&self, notification: &Notification) {
        let Ok(payload) = serde_json::to_string(&Wire::from(notification)) else {
            return;
        };
        if !self.client.publish("notify.publish", &self.channel, payload).await {
            let _ = self.local.send(notification.clone());
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.local.subscribe()
    }
}
