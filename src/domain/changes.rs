//! The unit of work. A use case decides everything first, then hands the store one list of
//! changes, which it writes in one transaction: all of them or none. Guards (`Consume...`) make
//! the transaction fail when the state they expect is gone, which is how concurrent uses of one
//! thing (a reset token, say) end with exactly one winner.

use super::access::{ApiKey, Session};
use super::account::{Account, AccountStatus, Tier, Timestamp};
use super::audit::AuditEntry;

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    InsertWorkspace {
        id: String,
        name: String,
        owner_id: String,
        created_at: Timestamp,
    },
    InsertAccount(Account),
    /// Successful login: stamps `last_login_at`, and replaces a legacy hash when given one.
    RecordLogin {
        user_id: String,
        at: Timestamp,
        new_password_hash: Option<String>,
    },
    SetPasswordHash {
        user_id: String,
        password_hash: String,
        at: Timestamp,
    },
    SetTier {
        user_id: String,
        tier: Tier,
        at: Timestamp,
    },
    SetStatus {
        user_id: String,
        status: AccountStatus,
        reason: Option<String>,
        at: Timestamp,
    },
    InsertSession(Session),
    ExtendSession {
        session_id: String,
        expires_at: Timestamp,
    },
    RevokeSession {
        session_id: String,
        at: Timestamp,
    },
    /// Revokes every session of the user except `keep`, by moving the account to `new_epoch`
    /// (and `keep` with it).
    RevokeSessions {
        user_id: String,
        keep: Option<String>,
        new_epoch: i64,
        at: Timestamp,
    },
    InsertResetToken {
        token_hash: String,
        user_id: String,
        created_at: Timestamp,
        expires_at: Timestamp,
    },
    /// Guard: marks the token used; fails the transaction with 400 `invalid_token` unless it
    /// was unused and unexpired at `at`.
    ConsumeResetToken {
        token_hash: String,
        at: Timestamp,
    },
    InsertApiKey(ApiKey),
    /// Writes the key's editable fields (name, is_active, notes, allowed_ips, rate limit).
    UpdateApiKey(ApiKey),
    RevokeApiKey {
        key_id: String,
        at: Timestamp,
    },
    Audit(AuditEntry),
}
