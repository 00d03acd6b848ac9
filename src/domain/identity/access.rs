//! Who is calling and what they may do: sessions, API keys, the acting principal, tier limits.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::domain::identity::account::{AccountStatus, Tier};
use crate::domain::{Error, Timestamp};

/// Facts about the request that audit entries record.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub ip: IpAddr,
    pub user_agent: Option<String>,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    /// The account's session epoch when this session was issued.
    pub epoch: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Refresh never extends the session past this.
    pub max_expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The client a per-client limit counts: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber usually holds a whole /64, so counting single IPv6 addresses counts nothing).
pub fn client_group(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// JWT claims: HS256, `sub` = user id, `sid` = session id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

/// What an API key allows. `write` implies `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeyPermissions {
    pub read: bool,
    pub write: bool,
    pub admin: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// Lowercase hex SHA-256 of the whole key.
    pub key_hash: String,
    /// The first 8 characters after `dfm_`.
    pub key_prefix: String,
    pub permissions: KeyPermissions,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub usage_count: i64,
    pub allowed_ips: Vec<IpNet>,
    pub allowed_endpoints: Vec<String>,
    pub rate_limit_per_hour: Option<u64>,
    pub organization_type: Option<String>,
    pub notes: Option<String>,
    pub revoked_at: Option<Timestamp>,
}

/// The kind of request an API key is asked to allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// GET and HEAD.
    Read,
    /// Any other method.
    Write,
}

impl ApiKey {
    /// Checks the key itself: active, not revoked, not expired (401 otherwise).
    pub fn check_usable(&self, now: Timestamp) -> Result<(), Error> {
        let expired = self.expires_at.is_some_and(|at| at <= now);
        if !self.is_active || self.revoked_at.is_some() || expired {
            return Err(Error::unauthenticated(
                "invalid_api_key",
                "this API key is inactive, revoked or expired",
            ));
        }
        Ok(())
    }

    /// Checks this request against the key's restrictions (403 when outside them).
    pub fn check_request(&self, ip: IpAddr, path: &str, access: Access, admin_route: bool) -> Result<(), Error> {
        if !self.allowed_ips.is_empty() && !self.allowed_ips.iter().any(|net| net.contains(&ip)) {
            return Err(Error::forbidden(
                "ip_not_allowed",
                "this API key may not be used from this address",
            ));
        }
        if !self.allowed_endpoints.is_empty()
            && !self
                .allowed_endpoints
                .iter()
                .any(|prefix| path_has_prefix(path, prefix))
        {
            return Err(Error::forbidden(
                "endpoint_not_allowed",
                "this API key may not call this endpoint",
            ));
        }
        let allowed = if admin_route {
            self.permissions.admin
        } else {
            match access {
                Access::Read => self.permissions.read || self.permissions.write,
                Access::Write => self.permissions.write,
            }
        };
        if !allowed {
            return Err(Error::forbidden(
                "insufficient_key_permissions",
                "this API key's permissions do not allow this request",
            ));
        }
        Ok(())
    }
}

/// `prefix` matches whole path segments: `/api/items` allows `/api/items/x`, not `/api/itemsx`.
fn path_has_prefix(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/')) || prefix.is_empty()
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    Session {
        session_id: String,
    },
    ApiKey {
        key_id: String,
        rate_limit_per_hour: Option<u64>,
    },
}

/// The authenticated caller; every use case acts as this user and no one else.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub tier: Tier,
    pub status: AccountStatus,
    pub is_admin: bool,
    pub credential: Credential,
}

impl Principal {
    pub fn session_id(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { session_id } => Some(session_id),
            Credential::ApiKey { .. } => None,
        }
    }
}

/// Tier limits. `None` is unlimited.
#[derive(Debug, Clone, Copy)]
pub struct TierPolicy {
    pub requests_per_hour: [Option<u64>; 3],
    pub max_circuits: [Option<u64>; 2],
    pub max_items_per_month: [Option<u64>; 2],
}

impl TierPolicy {
    pub fn requests_per_hour(&self, tier: Tier) -> Option<u64> {
        match tier {
            Tier::Basic => self.requests_per_hour[0],
            Tier::Professional => self.requests_per_hour[1],
            Tier::Enterprise => self.requests_per_hour[2],
            Tier::Admin => None,
        }
    }

    pub fn max_circuits(&self, tier: Tier) -> Option<u64> {
        match tier {
            Tier::Basic => self.max_circuits[0],
            Tier::Professional => self.max_circuits[1],
            Tier::Enterprise | Tier::Admin => None,
        }
    }

    pub fn max_items_per_month(&self, tier: Tier) -> Option<u64> {
        match tier {
            Tier::Basic => self.max_items_per_month[0],
            Tier::Professional => self.max_items_per_month[1],
            Tier::Enterprise | Tier::Admin => None,
        }
    }

    /// 403 `tier_limit_exceeded` when creating one more would pass `limit`.
    pub fn check_count(limit: Option<u64>, current: u64, what: &str) -> Result<(), Error> {
        Self::check_room(limit, current, 1, what)
    }

    /// 403 `tier_limit_exceeded` when creating `adding` more would pass `limit`: a batch counts
    /// as a whole, all of it or none.
    pub fn check_room(limit: Option<u64>, current: u64, adding: u64, what: &str) -> Result<(), Error> {
        match limit {
            Some(limit) if current.saturating_add(adding) > limit => Err(Error::forbidden(
                "tier_limit_exceeded",
                format!("your tier allows at most {limit} {what}"),
            )
            .with_details(serde_json::json!({ "limit": limit, "current": current, "requested": adding }))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    fn key(permissions: KeyPermissions) -> ApiKey {
        ApiKey {
            id: "k".into(),
            user_id: "user-1".into(),
            name: "n".into(),
            key_hash: "h".into(),
            key_prefix: "abcdefgh".into(),
            permissions,
            is_active: true,
            created_at: Utc::now(),
            expires_at: None,
            last_used_at: None,
            usage_count: 0,
            allowed_ips: vec![],
            allowed_endpoints: vec![],
            rate_limit_per_hour: None,
            organization_type: None,
            notes: None,
            revoked_at: None,
        }
    }

    const READ: KeyPermissions = KeyPermissions {
        read: true,
        write: false,
        admin: false,
    };
    const WRITE: KeyPermissions = KeyPermissions {
        read: false,
        write: true,
        admin: false,
    };
    const ADMIN: KeyPermissions = KeyPermissions {
        read: true,
        write: true,
        admin: true,
    };

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn permissions_by_method() {
        let local = ip("127.0.0.1");
        assert!(
            key(READ)
                .check_request(local, "/api/items", Access::Read, false)
                .is_ok()
        );
        assert_eq!(
            key(READ)
                .check_request(local, "/api/items", Access::Write, false)
                .unwrap_err()
                .code,
            "insufficient_key_permissions"
        );
        assert!(
            key(WRITE)
                .check_request(local, "/api/items", Access::Read, false)
                .is_ok(),
            "write implies read"
        );
        assert!(
            key(WRITE)
                .check_request(local, "/api/items", Access::Write, false)
                .is_ok()
        );
        assert!(
            key(WRITE)
                .check_request(local, "/api/admin/users", Access::Read, true)
                .is_err()
        );
        assert!(
            key(ADMIN)
                .check_request(local, "/api/admin/users", Access::Write, true)
                .is_ok()
        );
    }

    #[test]
    fn ip_and_endpoint_restrictions() {
        let mut restricted = key(READ);
        restricted.allowed_ips = vec!["10.0.0.0/8".parse().unwrap()];
        restricted.allowed_endpoints = vec!["/api/items".into()];
        assert!(
            restricted
                .check_request(ip("10.1.2.3"), "/api/items/DFID-1", Access::Read, false)
                .is_ok()
        );
        assert_eq!(
            restricted
                .check_request(ip("192.168.0.1"), "/api/items", Access::Read, false)
                .unwrap_err()
                .code,
            "ip_not_allowed"
        );
        assert_eq!(
            restricted
                .check_request(ip("10.1.2.3"), "/api/itemsx", Access::Read, false)
                .unwrap_err()
                .code,
            "endpoint_not_allowed"
        );
        assert_eq!(
            restricted
                .check_request(ip("10.1.2.3"), "/api/circuits", Access::Read, false)
                .unwrap_err()
                .code,
            "endpoint_not_allowed"
        );
    }

    #[test]
    fn usable_keys() {
        let now = Utc::now();
        assert!(key(READ).check_usable(now).is_ok());
        let mut expired = key(READ);
        expired.expires_at = Some(now - Duration::seconds(1));
        assert!(expired.check_usable(now).is_err());
        let mut revoked = key(READ);
        revoked.revoked_at = Some(now);
        assert!(revoked.check_usable(now).is_err());
        let mut inactive = key(READ);
        inactive.is_active = false;
        assert!(inactive.check_usable(now).is_err());
    }

    #[test]
    fn tier_limits() {
        let policy = TierPolicy {
            requests_per_hour: [Some(1000), Some(10_000), Some(100_000)],
            max_circuits: [Some(5), Some(25)],
            max_items_per_month: [Some(1000), Some(10_000)],
        };
        assert_eq!(policy.requests_per_hour(Tier::Admin), None);
        assert_eq!(policy.max_circuits(Tier::Basic), Some(5));
        assert_eq!(policy.max_circuits(Tier::Enterprise), None);
        assert!(TierPolicy::check_count(Some(5), 4, "circuits").is_ok());
        assert_eq!(
            TierPolicy::check_count(Some(5), 5, "circuits").unwrap_err().code,
            "tier_limit_exceeded"
        );
        assert!(TierPolicy::check_count(None, 1_000_000, "circuits").is_ok());
        assert!(TierPolicy::check_room(Some(1_000), 400, 600, "items").is_ok());
        let refused = TierPolicy::check_room(Some(1_000), 400, 601, "items").unwrap_err();
        assert_eq!(refused.details.unwrap()["requested"], 601);
    }
}
