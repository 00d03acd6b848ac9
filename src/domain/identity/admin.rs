//! Administration: users, their tier and status, and the audit log.

use std::sync::Arc;

use serde_json::json;

use crate::domain::audit::ports::AuditRepo;
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::identity::account::{Account, AccountStatus, Tier};
use crate::domain::identity::account::{validate_email, validate_username};
use crate::domain::identity::auth::{AuthService, NewUser};
use crate::domain::identity::password_reset::ResetPurpose;
use crate::domain::identity::ports::{AccountFilter, AccountRepo};
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What administration needs from storage.
    pub trait AdminStore: UnitOfWork, AccountRepo, AuditRepo
);

/// Who changes an account: an administrator through the API, or the operator at the command
/// line (audited with no actor; the request metadata says `defarm cli`).
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    Administrator(&'a Principal),
    Operator,
}

impl Actor<'_> {
    fn user_id(&self) -> Option<&str> {
        match self {
            Self::Administrator(admin) => Some(&admin.user_id),
            Self::Operator => None,
        }
    }

    /// An administrator may not lock themselves out; the operator can always undo a change.
    fn check_not_self(&self, account: &Account) -> Result<()> {
        if self.user_id() == Some(account.id.as_str()) {
            return Err(Error::conflict(
                "cannot_change_own_status",
                "administrators cannot lock themselves out",
            ));
        }
        Ok(())
    }
}

/// An account an administrator creates.
pub struct Invitation {
    pub username: String,
    pub email: String,
    pub tier: Tier,
    pub status: AccountStatus,
}

/// New login names for an account; `None` keeps the current one.
pub struct AccountChange {
    pub username: Option<String>,
    pub email: Option<String>,
}

pub struct AdminService {
    pub(crate) store: Arc<dyn AdminStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) auth: Arc<AuthService>,
}

impl AdminService {
    pub async fn users(&self, filter: &AccountFilter, page: &PageRequest) -> Result<Page<Account>> {
        if filter.query.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(Error::field("q", "at most 100 characters"));
        }
        self.store.accounts(filter, page).await
    }

    pub async fn user(&self, user_id: &str) -> Result<Account> {
        self.store
            .account(user_id)
            .await?
            .ok_or_else(|| Error::not_found("user"))
    }

    /// The account with this id, or else this username or email (for the command line).
    pub async fn find(&self, id_or_login: &str) -> Result<Account> {
        match self.store.account(id_or_login).await? {
            Some(account) => Ok(account),
            None => self
                .store
                .account_by_login(id_or_login)
                .await?
                .ok_or_else(|| Error::not_found("user")),
        }
    }

    /// Creates an account with no usable password and mails its owner a token to choose one (an
    /// administrator never knows it); 409 `username_taken` / `email_taken`.
    pub async fn create_user(&self, actor: Actor<'_>, invitation: Invitation, meta: &RequestMeta) -> Result<Account> {
        let user = NewUser {
            username: invitation.username,
            email: invitation.email,
            password: None,
            is_admin: false,
            tier: invitation.tier,
            status: invitation.status,
        };
        self.auth.create_user(user, actor.user_id(), meta).await
    }

    /// Changes an account's username or email (what is absent stays); takes effect on its next
    /// request. 409 `username_taken` / `email_taken`. An administrator may not change another
    /// administrator's (403: with the email and a reset token they would become that person).
    /// The account is notified, and an email change is also told to the old address.
    pub async fn update_user(
        &self,
        actor: Actor<'_>,
        user_id: &str,
        change: AccountChange,
        meta: &RequestMeta,
    ) -> Result<Account> {
        let username = change.username.map(|name| name.trim().to_owned());
        let email = change.email.map(|email| email.trim().to_owned());
        if username.is_none() && email.is_none() {
            return Err(Error::field("username", "give a username, an email or both"));
        }
        if let Some(username) = &username {
            validate_username(username)?;
        }
        if let Some(email) = &email {
            validate_email(email)?;
        }
        let account = self.user(user_id).await?;
        if account.is_admin && actor.user_id().is_some_and(|actor| actor != account.id) {
            return Err(Error::forbidden(
                "forbidden",
                "another administrator's username and email are theirs to change",
            ));
        }
        let now = self.clock.now();
        let mut changes = vec![
            Change::Notify(Notification::new(
                self.ids.new_id(),
                &account.id,
                NotificationType::AccountUpdated,
                "Your login details changed",
                "An administrator changed your username or email".to_owned(),
                json!({ "username": username, "email": email }),
                now,
            )),
            Change::SetLogin {
                user_id: account.id.clone(),
                username: username.clone(),
                email: email.clone(),
                at: now,
            },
            Change::Audit(AuditEntry::new(
                self.ids.new_id(),
                "account_updated",
                actor.user_id(),
                ("user", Some(&account.id)),
                meta,
                now,
                json!({
                    "username": username.as_ref().map(|to| json!({ "from": account.username, "to": to })),
                    "email": email.as_ref().map(|to| json!({ "from": account.email, "to": to })),
                }),
            )),
        ];
        // The old address hears of it, in the same transaction as the change.
        if let Some(new) = email.as_ref().filter(|new| !new.eq_ignore_ascii_case(&account.email)) {
            changes.push(self.auth.email_changed_mail(&account, new)?);
        }
        self.store.commit(changes).await?;
        self.auth.forget_account(&account.id).await;
        self.user(user_id).await
    }

    /// Mails the account a one-time reset token, as `POST /api/auth/forgot-password` would.
    pub async fn send_password_reset(&self, actor: Actor<'_>, user_id: &str, meta: &RequestMeta) -> Result<()> {
        let account = self.user(user_id).await?;
        self.auth
            .mail_reset_token(&account, ResetPurpose::Requested, actor.user_id(), meta)
            .await
    }

    pub async fn set_tier(&self, actor: Actor<'_>, user_id: &str, tier: Tier, meta: &RequestMeta) -> Result<Account> {
        let account = self.user(user_id).await?;
        let now = self.clock.now();
        self.store
            .commit(vec![
                Change::SetTier {
                    user_id: account.id.clone(),
                    tier,
                    at: now,
                },
                Change::Notify(Notification::new(
                    self.ids.new_id(),
                    &account.id,
                    NotificationType::AccountUpdated,
                    "Your plan changed",
                    format!("Your tier is now {}", tier.as_str()),
                    json!({ "tier": tier.as_str() }),
                    now,
                )),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "tier_changed",
                    actor.user_id(),
                    ("user", Some(&account.id)),
                    meta,
                    now,
                    json!({ "from": account.tier.as_str(), "to": tier.as_str() }),
                )),
            ])
            .await?;
        self.auth.forget_account(&account.id).await;
        self.user(user_id).await
    }

    /// Takes effect on the user's next request, on every replica.
    pub async fn set_status(
        &self,
        actor: Actor<'_>,
        user_id: &str,
        status: AccountStatus,
        reason: Option<String>,
        meta: &RequestMeta,
    ) -> Result<Account> {
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(Error::field("reason", "at most 500 characters"));
        }
        let account = self.user(user_id).await?;
        if status != AccountStatus::Active {
            actor.check_not_self(&account)?;
        }
        let now = self.clock.now();
        self.store
            .commit(vec![
                Change::SetStatus {
                    user_id: account.id.clone(),
                    status,
                    reason: reason.clone(),
                    at: now,
                },
                Change::Notify(Notification::new(
                    self.ids.new_id(),
                    &account.id,
                    NotificationType::AccountUpdated,
                    "Your account changed",
                    format!("Your account is now {}", status.as_str()),
                    json!({ "status": status.as_str(), "reason": reason }),
                    now,
                )),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "status_changed",
                    actor.user_id(),
                    ("user", Some(&account.id)),
                    meta,
                    now,
                    json!({ "from": account.status.as_str(), "to": status.as_str(), "reason": reason }),
                )),
            ])
            .await?;
        self.auth.forget_account(&account.id).await;
        self.user(user_id).await
    }

    /// Makes the account an administrator, or no longer one; takes effect on its next request.
    pub async fn set_admin(
        &self,
        actor: Actor<'_>,
        user_id: &str,
        is_admin: bool,
        meta: &RequestMeta,
    ) -> Result<Account> {
        let account = self.user(user_id).await?;
        if !is_admin {
            actor.check_not_self(&account)?;
        }
        let now = self.clock.now();
        let action = if is_admin { "admin_granted" } else { "admin_revoked" };
        self.store
            .commit(vec![
                Change::SetAdmin {
                    user_id: account.id.clone(),
                    is_admin,
                    at: now,
                },
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    action,
                    actor.user_id(),
                    ("user", Some(&account.id)),
                    meta,
                    now,
                    json!({ "from": account.is_admin, "to": is_admin }),
                )),
            ])
            .await?;
        self.auth.forget_account(&account.id).await;
        self.user(user_id).await
    }

    pub async fn audit(&self, filter: &AuditFilter, page: &PageRequest) -> Result<Page<AuditEntry>> {
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(Error::field("from", "must not be after `to`"));
        }
        self.store.audit(filter, page).await
    }

    /// The caller's own entries: what they did and what was done to their account.
    pub async fn own_audit(&self, principal: &Principal, page: &PageRequest) -> Result<Page<AuditEntry>> {
        let filter = AuditFilter {
            user_id: Some(principal.user_id.clone()),
            ..AuditFilter::default()
        };
        self.store.audit(&filter, page).await
    }
}
