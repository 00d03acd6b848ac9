//! What circuits need from storage, one trait per thing a use case reads.

use std::collections::HashSet;

use crate::domain::Result;
use crate::domain::circuits::circuit::{Circuit, CircuitItem};
use crate::domain::circuits::join_request::JoinRequest;
use crate::domain::circuits::operation::{Operation, OperationStatus, OperationType};
use crate::domain::circuits::roles::{CustomRole, Member};
use crate::domain::items::item::Item;
use crate::domain::page::{Page, PageRequest};

#[async_trait::async_trait]
pub trait CircuitRepo: Send + Sync {
    async fn circuit(&self, circuit_id: &str) -> Result<Option<Circuit>>;
    async fn circuits_of(&self, user_id: &str, page: &PageRequest) -> Result<Page<Circuit>>;
    async fn count_owned_circuits(&self, owner_id: &str) -> Result<u64>;
    /// `(member_count, item_count)`.
    async fn circuit_counts(&self, circuit_id: &str) -> Result<(u64, u64)>;
}

#[async_trait::async_trait]
pub trait MemberRepo: Send + Sync {
    async fn member(&self, circuit_id: &str, user_id: &str) -> Result<Option<Member>>;
    /// The circuit with `user_id`'s membership of it, when they are a member: one read, so a
    /// missing circuit and a circuit of others cost the same.
    async fn membership(&self, circuit_id: &str, user_id: &str) -> Result<Option<(Circuit, Member)>>;
    async fn members(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<Member>>;
    /// Members who may hold management permissions: the Owner, Admins, and anyone with a
    /// custom role.
    async fn privileged_members(&self, circuit_id: &str) -> Result<Vec<Member>>;
}

#[async_trait::async_trait]
pub trait RoleRepo: Send + Sync {
    async fn role(&self, role_id: &str) -> Result<Option<CustomRole>>;
    async fn roles(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<CustomRole>>;
    async fn role_in_use(&self, role_id: &str) -> Result<bool>;
}

#[async_trait::async_trait]
pub trait JoinRequestRepo: Send + Sync {
    async fn join_request(&self, circuit_id: &str, user_id: &str) -> Result<Option<JoinRequest>>;
    async fn pending_join_requests(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<JoinRequest>>;
}

#[async_trait::async_trait]
pub trait OperationRepo: Send + Sync {
    async fn operation(&self, operation_id: &str) -> Result<Option<Operation>>;
    async fn operations(
        &self,
        circuit_id: &str,
        status: Option<OperationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Operation>>;
    /// The newest Pending or Completed operation of this kind for the item in the circuit.
    async fn open_operation(
        &self,
        circuit_id: &str,
        dfid: &str,
        operation_type: OperationType,
        requester_id: Option<&str>,
    ) -> Result<Option<Operation>>;
    /// Those of `dfids` with an open push into the circuit: a pending push, or a completed
    /// one of an item the circuit still holds. A read per thousand items however many.
    async fn open_pushes(&self, circuit_id: &str, dfids: &[String]) -> Result<HashSet<String>>;
}

/// Which items a circuit holds and publishes.
#[async_trait::async_trait]
pub trait CircuitItemRepo: Send + Sync {
    async fn circuit_items(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<CircuitItem>>;
    async fn holds_item(&self, circuit_id: &str, dfid: &str) -> Result<bool>;
    async fn published_items(&self, circuit_id: &str, limit: u32) -> Result<Vec<String>>;
    /// The item, when the circuit both publishes and still holds it: what its public page may
    /// show. One read, so a page view does not pay a round trip per rule.
    async fn shown_item(&self, circuit_id: &str, dfid: &str) -> Result<Option<Item>>;
    /// Up to `limit` of the items the circuit publishes and still holds, in publication order.
    async fn shown_items(&self, circuit_id: &str, limit: u32) -> Result<Vec<Item>>;
    /// Up to `limit` circuits whose public settings publish the item, the earliest publication
    /// first.
    async fn publishing_circuits(&self, dfid: &str, limit: u32) -> Result<Vec<String>>;
}
