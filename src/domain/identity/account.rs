//! Accounts: who can log in, their tier and status, and the rules for usernames, emails and
//! passwords.

use std::str::FromStr;

use serde_json::json;

use crate::domain::Error;

use crate::domain::Timestamp;
use crate::ports::IdGenerator;

id_type!(
    /// An account's id.
    UserId,
    "user"
);

text_enum! {
    /// Service tier: decides limits. `Admin` lifts limits; it does not make anyone an administrator
    /// (only `is_admin` does).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Tier {
        Basic = "Basic",
        Professional = "Professional",
        Enterprise = "Enterprise",
        Admin = "Admin",
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum AccountStatus {
        Active = "Active",
        Suspended = "Suspended",
        Banned = "Banned",
        PendingVerification = "PendingVerification",
        TrialExpired = "TrialExpired",
    }
}

impl FromStr for Tier {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_text(text).ok_or_else(|| Error::field("Tier", format!("unknown value {text:?}")))
    }
}

impl FromStr for AccountStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_text(text).ok_or_else(|| Error::field("AccountStatus", format!("unknown value {text:?}")))
    }
}

impl AccountStatus {
    /// The 403 an account in this status gets at login and on every request, if any.
    pub fn refusal(self) -> Option<Error> {
        let (code, message) = match self {
            AccountStatus::Active => return None,
            AccountStatus::Suspended => ("account_suspended", "this account is suspended"),
            AccountStatus::Banned => ("account_banned", "this account is banned"),
            AccountStatus::PendingVerification => {
                ("account_pending_verification", "this account is pending verification")
            }
            AccountStatus::TrialExpired => ("account_trial_expired", "this account's trial has expired"),
        };
        Some(Error::forbidden(code, message))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// `user-<uuid>`.
    pub id: String,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub tier: Tier,
    pub status: AccountStatus,
    pub is_admin: bool,
    pub workspace_id: String,
    /// Bumped when every session is revoked; a session stamped with an older epoch is dead.
    pub session_epoch: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

pub fn new_user_id(ids: &dyn IdGenerator) -> String {
    format!("user-{}", ids.new_id())
}

/// `validate_username`'s rule as a regular expression, for the spec.
pub const USERNAME_PATTERN: &str = "^[A-Za-z0-9._-]{3,64}$";

/// 3 to 64 characters of `A-Z a-z 0-9 . _ -`.
pub fn validate_username(username: &str) -> Result<(), Error> {
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !(3..=64).contains(&username.len()) || !ok_chars {
        return Err(Error::field("username", "3 to 64 characters of A-Z a-z 0-9 . _ -"));
    }
    Ok(())
}

/// A plausible address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn validate_email(email: &str) -> Result<(), Error> {
    let invalid = || Error::field("email", "must be an email address");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(invalid());
    };
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(invalid());
    }
    Ok(())
}

/// 8 to 128 characters with an uppercase letter, a lowercase letter, a digit and a symbol.
/// The error's details list every rule the password breaks.
pub fn check_password_policy(password: &str) -> Result<(), Error> {
    let length = password.chars().count();
    let mut broken = Vec::new();
    if !(8..=128).contains(&length) {
        broken.push("length: 8 to 128 characters");
    }
    if !password.chars().any(char::is_uppercase) {
        broken.push("uppercase: at least one uppercase letter");
    }
    if !password.chars().any(char::is_lowercase) {
        broken.push("lowercase: at least one lowercase letter");
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        broken.push("digit: at least one digit");
    }
    if !password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
        broken.push("symbol: at least one symbol");
    }
    if broken.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        "weak_password",
        format!("password breaks the policy: {}", broken.join("; ")),
    )
    .with_details(json!({ "field": "password", "rules": broken })))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every string of up to 3 characters from an alphabet of edge cases, and lengths around
    /// the limit: the spec's pattern and the validator agree on each.
    pub(crate) fn samples() -> Vec<String> {
        let alphabet = ['a', 'Z', '0', '.', '_', '-', ':', ' ', 'é', '/', '@'];
        let mut samples = vec![String::new()];
        let mut level = vec![String::new()];
        for _ in 0..3 {
            level = level
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            samples.extend(level.iter().cloned());
        }
        samples.extend([63, 64, 65].map(|n| "a".repeat(n)));
        samples
    }

    #[test]
    fn the_username_pattern_is_the_rule() {
        let pattern = regex::Regex::new(USERNAME_PATTERN).unwrap();
        for sample in samples() {
            assert_eq!(
                pattern.is_match(&sample),
                validate_username(&sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn usernames() {
        for ok in ["abc", "joao.silva", "farm_01-x", &"a".repeat(64)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "has space", "ção", "a/b", &"a".repeat(65), ""] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "joao.silva+farm@fazenda.com.br"] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        for bad in ["", "no-at", "@b.co", "a@b", "a@@b.co", "a b@c.co", "a@b..co", "a@.b.co"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_policy_names_each_broken_rule() {
        assert!(check_password_policy("Str0ng!pass").is_ok());
        let err = check_password_policy("weak").unwrap_err();
        assert_eq!(err.code, "weak_password");
        let rules = err.details.unwrap()["rules"].as_array().unwrap().len();
        assert_eq!(rules, 4); // length, uppercase, digit, symbol
        assert!(check_password_policy(&format!("Aa1!{}", "x".repeat(125))).is_err());
        assert!(check_password_policy("NoDigits!!").is_err());
        assert!(check_password_policy("nouppercase1!").is_err());
    }

    #[test]
    fn statuses_and_tiers_round_trip() {
        for status in AccountStatus::ALL {
            assert_eq!(status.as_str().parse::<AccountStatus>().unwrap(), *status);
        }
        for tier in Tier::ALL {
            assert_eq!(tier.as_str().parse::<Tier>().unwrap(), *tier);
        }
        assert!("basic".parse::<Tier>().is_err());
        assert!(AccountStatus::Active.refusal().is_none());
        assert_eq!(AccountStatus::Banned.refusal().unwrap().code, "account_banned");
    }
}
