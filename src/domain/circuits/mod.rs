//! Circuits: permissioned groups that share items. Membership and roles, join requests, push and
//! pull with approvals, public pages.

pub mod circuit;
pub mod circuit_service;
pub mod epc_items;
pub(crate) mod fields;
pub mod join_request;
pub mod join_service;
pub mod member_service;
#[cfg(test)]
mod member_service_tests;
pub(crate) mod membership;
pub mod operation;
mod operation_changes;
pub mod page_pass;
pub mod ports;
pub mod public_page;
pub mod public_page_service;
#[cfg(test)]
mod public_page_tests;
pub mod push_local;
#[cfg(test)]
mod push_local_tests;
pub mod push_service;
#[cfg(test)]
mod push_service_tests;
pub mod roles;
