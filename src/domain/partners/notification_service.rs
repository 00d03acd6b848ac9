//! A user's notifications.

use std::sync::Arc;

use crate::domain::identity::access::Principal;
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::notification::Notification;
use crate::domain::partners::ports::NotificationRepo;
use crate::domain::{Error, Result};

pub struct NotificationService {
    pub(crate) store: Arc<dyn NotificationRepo>,
}

impl NotificationService {
    pub async fn list(
        &self,
        principal: &Principal,
        unread_only: bool,
        page: &PageRequest,
    ) -> Result<Page<Notification>> {
        self.store.notifications(&principal.user_id, unread_only, page).await
    }

    pub async fn unread_count(&self, principal: &Principal) -> Result<u64> {
        self.store.unread_count(&principal.user_id).await
    }

    /// Only the owner touches a notification; anyone else's is 404.
    pub async fn mark_read(&self, principal: &Principal, notification_id: &str) -> Result<()> {
        if self.store.mark_read(&principal.user_id, notification_id).await? {
            Ok(())
        } else {
            Err(Error::not_found("notification"))
        }
    }

    pub async fn mark_all_read(&self, principal: &Principal) -> Result<u64> {
        self.store.mark_all_read(&principal.user_id).await
    }

    /// Whether the caller's notifications are mailed to them too.
    pub async fn email_setting(&self, principal: &Principal) -> Result<bool> {
        self.store.notify_by_email(&principal.user_id).await
    }

    /// Turns mailing the caller's notifications on or off, for those created from now on.
    pub async fn set_email_setting(&self, principal: &Principal, enabled: bool) -> Result<bool> {
        self.store.set_notify_by_email(&principal.user_id, enabled).await?;
        Ok(enabled)
    }

    pub async fn delete(&self, principal: &Principal, notification_id: &str) -> Result<()> {
        if self
            .store
            .delete_notification(&principal.user_id, notification_id)
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found("notification"))
        }
    }
}
