//! What the audit log and the activity feed need from storage.

use crate::domain::Result;
use crate::domain::audit::{Activity, AuditEntry, AuditFilter};
use crate::domain::page::{Page, PageRequest};

#[async_trait::async_trait]
pub trait AuditRepo: Send + Sync {
    async fn audit(&self, filter: &AuditFilter, page: &PageRequest) -> Result<Page<AuditEntry>>;
}

#[async_trait::async_trait]
pub trait ActivityRepo: Send + Sync {
    /// What `user_id` did, and what happened in their circuits (or in one of them).
    async fn activities(&self, user_id: &str, circuit_id: Option<&str>, page: &PageRequest) -> Result<Page<Activity>>;
}
