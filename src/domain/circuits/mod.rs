//! Circuits: permissioned groups that share items. Membership and roles, join requests, push and
//! pull with approvals, public pages.

pub mod circuit;
pub mod circuit_service;
pub(crate) mod membership;
pub mod operation;
pub mod ports;
pub mod push_service;
