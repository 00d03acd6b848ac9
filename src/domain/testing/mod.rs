//! Builders and in-memory fakes of the ports, for unit tests of the domain's rules and services.
//!
//! [`MemoryStore`] keeps what the circuit and item use cases read and applies their changes the way
//! the SQL adapter does (guards included: a decided operation cannot be decided again, an item
//! written since it was read is a concurrent write); every committed change is also kept in order,
//! so a test can assert on what a use case wrote.

mod fakes;
mod memory_repos;
mod memory_store;

pub use fakes::*;
pub use memory_store::MemoryStore;

use std::net::IpAddr;

use chrono::{TimeZone, Utc};

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::circuits::roles::{Member, MemberRole, PermissionSet};
use crate::domain::identity::access::{Credential, Principal, RequestMeta};
use crate::domain::identity::account::{AccountStatus, Tier, UserId};
use crate::domain::items::identifier::{IdType, Identifier, Namespace};
use crate::domain::{Result, Timestamp};

/// The instant every fake clock starts at.
pub fn start_of_test() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().unwrap_or_default()
}

/// A member of circuit `c` with `role`, and a custom role holding `custom` when given.
pub fn member(user: &str, role: MemberRole, custom: Option<PermissionSet>) -> Member {
    Member {
        circuit_id: "c".into(),
        user_id: user.into(),
        username: user.into(),
        role,
        custom_role: custom.map(|_| "r".into()),
        custom_permissions: custom,
        joined_at: start_of_test(),
    }
}

/// A signed-in caller named after `user_id`.
pub fn principal(user_id: &str) -> Principal {
    Principal {
        user_id: user_id.into(),
        username: user_id.into(),
        tier: Tier::Professional,
        status: AccountStatus::Active,
        is_admin: false,
        credential: Credential::Session {
            session_id: format!("session-of-{user_id}"),
        },
    }
}

/// A request from `ip`.
pub fn meta_from(ip: [u8; 4]) -> RequestMeta {
    RequestMeta {
        ip: IpAddr::from(ip),
        user_agent: Some("unit test".into()),
        request_id: "test-request".into(),
    }
}

pub fn meta() -> RequestMeta {
    meta_from([192, 0, 2, 1])
}

/// A canonical identifier `key`=`value` in the generic namespace.
pub fn canonical(key: &str, value: &str) -> Identifier {
    Identifier {
        namespace: Namespace::Generic,
        key: key.into(),
        value: value.into(),
        id_type: IdType::Canonical,
        scope: None,
        verified: false,
        added_by: None,
    }
}

/// A circuit id from a test's short name.
pub fn cid(name: &str) -> CircuitId {
    CircuitId::parse(name).expect("a valid circuit id")
}

/// A user id from a test's short name.
pub fn uid(name: &str) -> UserId {
    UserId::parse(name).expect("a valid user id")
}

/// Asserts that a use case refused with this kind and code, and says which rule answered otherwise.
pub fn assert_refused<T: std::fmt::Debug>(result: Result<T>, kind: crate::domain::ErrorKind, code: &str) {
    let error = result.expect_err("the rule refuses this");
    assert_eq!((error.kind, error.code.as_ref()), (kind, code), "{}", error.message);
}

/// The `n`th valid DFID of the test day.
pub fn dfid(n: u64) -> String {
    crate::domain::items::dfid::Dfid::new(start_of_test().date_naive(), n).into_string()
}
