//! Builders and in-memory fakes of the ports, for unit tests of the domain's rules and services.

use chrono::Utc;

use crate::domain::circuits::roles::{Member, MemberRole, PermissionSet};

/// A member of circuit `c` with `role`, and a custom role holding `custom` when given.
pub fn member(user: &str, role: MemberRole, custom: Option<PermissionSet>) -> Member {
    Member {
        circuit_id: "c".into(),
        user_id: user.into(),
        username: user.into(),
        role,
        custom_role: custom.map(|_| "r".into()),
        custom_permissions: custom,
        joined_at: Utc::now(),
    }
}
