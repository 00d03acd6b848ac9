//! Live fan-out of notifications to connected sockets, on every replica.

use tokio::sync::broadcast;

use crate::domain::feed::Notification;

#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    /// Announces a committed notification to every replica's sockets.
    async fn publish(&self, notification: &Notification);
    /// Notifications announced on any replica, as they arrive on this one. A receiver that falls
    /// behind the channel's bound gets `Lagged` and misses the oldest ones.
    fn subscribe(&self) -> broadcast::Receiver<Notification>;
}
