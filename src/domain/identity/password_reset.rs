//! Password resets: one-time tokens, mailed when someone asks, when an administrator sends one
//! or creates an account, and used once to set a new password.

use chrono::Duration;
use serde_json::json;

use crate::domain::audit::AuditEntry;
use crate::domain::changes::Change;
use crate::domain::identity::access::RequestMeta;
use crate::domain::identity::account::{Account, check_password_policy};
use crate::domain::identity::auth::AuthService;
use crate::domain::identity::mail_outbox::queue_mail;
use crate::domain::identity::ports::MailMessage;
use crate::domain::secrets::{random_token, sha256_hex};
use crate::domain::{Error, Result};

/// Who to send a reset link to.
#[derive(Debug, Clone)]
pub enum ResetRequest {
    Email(String),
    Username(String),
}

impl ResetRequest {
    /// The login to look up, lowercased; 400 when there is none.
    pub fn check(&self) -> Result<String> {
        let login = match self {
            ResetRequest::Email(email) | ResetRequest::Username(email) => email.trim().to_lowercase(),
        };
        if login.is_empty() || login.len() > 254 {
            return Err(Error::field("email", "an email or a username is required"));
        }
        Ok(login)
    }
}

/// Why a one-time reset token is mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetPurpose {
    /// Someone asked (`POST /api/auth/forgot-password`) or an administrator sent it.
    Requested,
    /// An administrator created the account: its owner chooses the first password.
    NewAccount,
}

impl AuthService {
    /// Sends a one-time reset link if the account exists. Run off the request path (after
    /// `ResetRequest::check`), so the answer takes the same time whether or not it does.
    pub async fn send_reset(&self, request: ResetRequest, meta: &RequestMeta) -> Result<()> {
        let login = request.check()?;
        let account = self.store.account_by_login(&login).await?;
        let Some(account) = account.filter(|a| match &request {
            ResetRequest::Email(email) => a.email.eq_ignore_ascii_case(email.trim()),
            ResetRequest::Username(name) => a.username.eq_ignore_ascii_case(name.trim()),
        }) else {
            return Ok(());
        };
        self.mail_reset_token(&account, ResetPurpose::Requested, None, meta)
            .await
    }

    /// Queues a mail with a new one-time reset token, in the transaction that stores the
    /// token: the mail worker sends it, so a mail server that is down delays nothing.
    pub async fn mail_reset_token(
        &self,
        account: &Account,
        purpose: ResetPurpose,
        actor: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<()> {
        let (token, mut changes) = self.reset_token_changes(account, actor, meta);
        let minutes = self.settings.reset_ttl.num_minutes();
        let (subject, opening) = match purpose {
            ResetPurpose::Requested => (
                "Reset your DeFarm password",
                format!(
                    "Someone asked to reset the password of {}. If it was you, send this token",
                    account.username
                ),
            ),
            ResetPurpose::NewAccount => (
                "Your DeFarm account",
                format!(
                    "An administrator created the DeFarm account {} for you. To choose its \
                     password, send this token",
                    account.username
                ),
            ),
        };
        let message = MailMessage {
            to: account.email.clone(),
            subject: subject.to_owned(),
            body: format!(
                "{opening} with a new password to POST /api/auth/reset-password within {minutes} \
                 minutes:\n\n{token}\n\nWhen it has expired, ask for another at POST \
                 /api/auth/forgot-password. If you did not expect this message, ignore it."
            ),
        };
        changes.push(self.queue_mail(message)?);
        self.store.commit(changes).await
    }

    /// The mail that tells the account's old address that its login email is now `new`.
    pub(crate) fn email_changed_mail(&self, account: &Account, new: &str) -> Result<Change> {
        let message = MailMessage {
            to: account.email.clone(),
            subject: "Your DeFarm login email changed".to_owned(),
            body: format!(
                "An administrator changed the email of the DeFarm account {} from this address to \
                 {new}. Password reset tokens now go there. If you did not ask for this, contact \
                 your DeFarm administrator.",
                account.username
            ),
        };
        self.queue_mail(message)
    }

    fn queue_mail(&self, message: MailMessage) -> Result<Change> {
        queue_mail(self.ids.as_ref(), self.cipher.as_ref(), message, self.clock.now())
    }

    /// Stores a new one-time reset token for the account and returns it, for the operator to
    /// hand over (`defarm admin reset-password`). `actor`: the administrator who asked.
    pub async fn issue_reset_token(
        &self,
        account: &Account,
        actor: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<String> {
        let (token, changes) = self.reset_token_changes(account, actor, meta);
        self.store.commit(changes).await?;
        Ok(token)
    }

    /// A new token and the changes that store it (as a hash) and audit it.
    fn reset_token_changes(&self, account: &Account, actor: Option<&str>, meta: &RequestMeta) -> (String, Vec<Change>) {
        let token = random_token(32);
        let now = self.clock.now();
        let changes = vec![
            Change::InsertResetToken {
                token_hash: sha256_hex(token.as_bytes()),
                user_id: account.id.clone(),
                created_at: now,
                expires_at: now + self.settings.reset_ttl,
            },
            Change::Audit(AuditEntry::new(
                self.ids.new_id(),
                "password_reset_requested",
                actor,
                ("user", Some(&account.id)),
                meta,
                now,
                json!({}),
            )),
        ];
        (token, changes)
    }

    /// How long a reset token stays usable.
    pub fn reset_ttl(&self) -> Duration {
        self.settings.reset_ttl
    }

    /// Uses a reset token once (two concurrent uses: one wins, the other gets 400), sets the new
    /// password and revokes every session and every API key: whoever had the account before
    /// the reset keeps nothing.
    pub async fn reset_password(&self, token: &str, new: String, meta: &RequestMeta) -> Result<()> {
        check_password_policy(&new)?;
        let invalid = || Error::invalid("invalid_token", "this reset token is invalid, used or expired");
        if token.is_empty() || token.len() > 256 {
            return Err(invalid());
        }
        let token_hash = sha256_hex(token.as_bytes());
        let now = self.clock.now();
        let stored = self.store.reset_token(&token_hash).await?.ok_or_else(invalid)?;
        if stored.used_at.is_some() || stored.expires_at <= now {
            return Err(invalid());
        }
        let account = self.store.account(&stored.user_id).await?.ok_or_else(invalid)?;
        let password_hash = self.hasher.hash(new).await?;
        let changes = vec![
            Change::ConsumeResetToken { token_hash, at: now },
            Change::SetPasswordHash {
                user_id: account.id.clone(),
                password_hash,
                at: now,
            },
        ];
        // Whoever had the account before the reset keeps nothing: every session and API key.
        self.revoke_access(&account, None, true, changes, "password_reset", meta, now)
            .await
    }
}
