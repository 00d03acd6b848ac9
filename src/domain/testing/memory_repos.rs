//! The repository traits over the in-memory store.

use std::collections::HashSet;

use crate::domain::audit::Activity;
use crate::domain::audit::ports::ActivityRepo;
use crate::domain::circuits::circuit::{Circuit, CircuitItem};
use crate::domain::circuits::join_request::{JoinRequest, RequestStatus};
use crate::domain::circuits::operation::{Operation, OperationStatus, OperationType};
use crate::domain::circuits::ports::{
    CircuitItemRepo, CircuitRepo, JoinRequestRepo, MemberRepo, OperationRepo, RoleRepo,
};
use crate::domain::circuits::roles::{CustomRole, Member, MemberRole, Permission};
use crate::domain::dashboards::stats::Tally;
use crate::domain::identity::access::ApiKey;
use crate::domain::identity::access::Session;
use crate::domain::identity::account::Account;
use crate::domain::identity::ports::{AccountFilter, AccountRepo, ApiKeyRepo, KeyUsage, ResetToken};
use crate::domain::items::dispute::{Dispute, DisputeStatus};
use crate::domain::items::event::{Event, LocalEvent, Visibility};
use crate::domain::items::item::{Item, LocalItem};
use crate::domain::items::ports::DisputeRepo;
use crate::domain::items::ports::{EventFilter, EventRepo, ItemFilter, ItemRepo, TransferRepo, ViewerFacts};
use crate::domain::items::transfer::{Direction, Transfer, TransferStatus};
use crate::domain::page::{Page, PageRequest};
use crate::domain::{Result, Timestamp};

use super::memory_store::{MemoryStore, first_page};

#[async_trait::async_trait]
impl AccountRepo for MemoryStore {
    async fn account(&self, user_id: &str) -> Result<Option<Account>> {
        Ok(self.state().accounts.iter().find(|a| a.id == user_id).cloned())
    }

    async fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        Ok(self
            .state()
            .accounts
            .iter()
            .find(|a| a.username.eq_ignore_ascii_case(login) || a.email.eq_ignore_ascii_case(login))
            .cloned())
    }

    async fn accounts(&self, _filter: &AccountFilter, page: &PageRequest) -> Result<Page<Account>> {
        Ok(first_page(self.state().accounts.clone(), page))
    }

    async fn session(&self, _session_id: &str) -> Result<Option<Session>> {
        Ok(None)
    }

    async fn reset_token(&self, _token_hash: &str) -> Result<Option<ResetToken>> {
        Ok(None)
    }
}

#[async_trait::async_trait]
impl CircuitRepo for MemoryStore {
    async fn circuit(&self, circuit_id: &str) -> Result<Option<Circuit>> {
        Ok(self
            .state()
            .circuits
            .iter()
            .find(|c| c.circuit_id == circuit_id)
            .cloned())
    }

    async fn circuits_of(&self, user_id: &str, page: &PageRequest) -> Result<Page<Circuit>> {
        let state = self.state();
        let rows = state
            .circuits
            .iter()
            .filter(|c| {
                state
                    .members
                    .iter()
                    .any(|m| m.circuit_id == c.circuit_id && m.user_id == user_id)
            })
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }

    async fn count_owned_circuits(&self, owner_id: &str) -> Result<u64> {
        Ok(self.state().circuits.iter().filter(|c| c.owner_id == owner_id).count() as u64)
    }

    async fn circuit_counts(&self, circuit_id: &str) -> Result<(u64, u64)> {
        let state = self.state();
        let members = state.members.iter().filter(|m| m.circuit_id == circuit_id).count();
        let items = state
            .circuit_items
            .iter()
            .filter(|ci| ci.circuit_id == circuit_id)
            .count();
        Ok((members as u64, items as u64))
    }
}

#[async_trait::async_trait]
impl MemberRepo for MemoryStore {
    async fn member(&self, circuit_id: &str, user_id: &str) -> Result<Option<Member>> {
        Ok(self.member_now(circuit_id, user_id))
    }

    async fn membership(&self, circuit_id: &str, user_id: &str) -> Result<Option<(Circuit, Member)>> {
        let circuit = self.circuit(circuit_id).await?;
        Ok(circuit.zip(self.member_now(circuit_id, user_id)))
    }

    async fn members(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<Member>> {
        let state = self.state();
        let rows = state
            .members
            .iter()
            .filter(|m| m.circuit_id == circuit_id)
            .map(|m| state.with_role(m.clone()))
            .collect();
        Ok(first_page(rows, page))
    }

    async fn privileged_members(&self, circuit_id: &str) -> Result<Vec<Member>> {
        let state = self.state();
        Ok(state
            .members
            .iter()
            .filter(|m| m.circuit_id == circuit_id)
            .filter(|m| matches!(m.role, MemberRole::Owner | MemberRole::Admin) || m.custom_role.is_some())
            .map(|m| state.with_role(m.clone()))
            .collect())
    }
}

#[async_trait::async_trait]
impl RoleRepo for MemoryStore {
    async fn role(&self, role_id: &str) -> Result<Option<CustomRole>> {
        Ok(self.state().roles.iter().find(|r| r.role_id == role_id).cloned())
    }

    async fn roles(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<CustomRole>> {
        let rows = self
            .state()
            .roles
            .iter()
            .filter(|r| r.circuit_id == circuit_id)
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }

    async fn role_in_use(&self, role_id: &str) -> Result<bool> {
        Ok(self
            .state()
            .members
            .iter()
            .any(|m| m.custom_role.as_deref() == Some(role_id)))
    }
}

#[async_trait::async_trait]
impl JoinRequestRepo for MemoryStore {
    async fn join_request(&self, circuit_id: &str, user_id: &str) -> Result<Option<JoinRequest>> {
        Ok(self
            .state()
            .join_requests
            .iter()
            .find(|r| r.circuit_id == circuit_id && r.user_id == user_id)
            .cloned())
    }

    async fn pending_join_requests(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<JoinRequest>> {
        let rows = self
            .state()
            .join_requests
            .iter()
            .filter(|r| r.circuit_id == circuit_id && r.status == RequestStatus::Pending)
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }
}

#[async_trait::async_trait]
impl OperationRepo for MemoryStore {
    async fn operation(&self, operation_id: &str) -> Result<Option<Operation>> {
        Ok(self
            .state()
            .operations
            .iter()
            .find(|o| o.operation_id == operation_id)
            .cloned())
    }

    async fn operations(
        &self,
        circuit_id: &str,
        status: Option<OperationStatus>,
        page: &PageRequest,
    ) -> Result<Page<Operation>> {
        let rows = self
            .state()
            .operations
            .iter()
            .filter(|o| o.circuit_id == circuit_id && status.is_none_or(|s| o.status == s))
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }

    async fn open_operation(
        &self,
        circuit_id: &str,
        dfid: &str,
        operation_type: OperationType,
        requester_id: Option<&str>,
    ) -> Result<Option<Operation>> {
        Ok(self
            .state()
            .operations
            .iter()
            .filter(|o| {
                o.circuit_id == circuit_id
                    && o.dfid == dfid
                    && o.operation_type == operation_type
                    && matches!(o.status, OperationStatus::Pending | OperationStatus::Completed)
                    && requester_id.is_none_or(|r| o.requester_id == r)
            })
            .max_by_key(|o| o.created_at)
            .cloned())
    }

    async fn open_pushes(&self, circuit_id: &str, dfids: &[String]) -> Result<HashSet<String>> {
        let state = self.state();
        let held = |dfid: &str| {
            state
                .circuit_items
                .iter()
                .any(|ci| ci.circuit_id == circuit_id && ci.dfid == dfid)
        };
        Ok(state
            .operations
            .iter()
            .filter(|o| {
                o.circuit_id == circuit_id
                    && o.operation_type == OperationType::Push
                    && dfids.contains(&o.dfid)
                    && (o.status == OperationStatus::Pending
                        || (o.status == OperationStatus::Completed && held(&o.dfid)))
            })
            .map(|o| o.dfid.clone())
            .collect())
    }
}

#[async_trait::async_trait]
impl CircuitItemRepo for MemoryStore {
    async fn circuit_items(&self, circuit_id: &str, page: &PageRequest) -> Result<Page<CircuitItem>> {
        let rows = self
            .state()
            .circuit_items
            .iter()
            .filter(|ci| ci.circuit_id == circuit_id)
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }

    async fn holds_item(&self, circuit_id: &str, dfid: &str) -> Result<bool> {
        Ok(self.items_in(circuit_id).iter().any(|d| d == dfid))
    }

    async fn shown_item(&self, circuit_id: &str, dfid: &str) -> Result<Option<Item>> {
        let published = self.state().published.iter().any(|(c, d)| c == circuit_id && d == dfid);
        Ok(if published && self.holds_item(circuit_id, dfid).await? {
            self.item_now(dfid)
        } else {
            None
        })
    }

    async fn shown_items(&self, circuit_id: &str, limit: u32) -> Result<Vec<Item>> {
        let mut shown = Vec::new();
        for dfid in self.published_items(circuit_id, u32::MAX).await? {
            shown.extend(self.shown_item(circuit_id, &dfid).await?);
        }
        shown.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(shown)
    }

    async fn published_items(&self, circuit_id: &str, limit: u32) -> Result<Vec<String>> {
        Ok(self
            .state()
            .published
            .iter()
            .filter(|(c, _)| c == circuit_id)
            .map(|(_, dfid)| dfid.clone())
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }

    async fn publishing_circuits(&self, dfid: &str, limit: u32) -> Result<Vec<String>> {
        Ok(self
            .state()
            .published
            .iter()
            .filter(|(_, d)| d == dfid)
            .map(|(circuit_id, _)| circuit_id.clone())
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }
}

#[async_trait::async_trait]
impl ItemRepo for MemoryStore {
    async fn next_dfid_sequences(&self, _day: chrono::NaiveDate, count: u64) -> Result<u64> {
        let mut state = self.state();
        let first = state.dfid_counter + 1;
        state.dfid_counter += count;
        Ok(first)
    }

    async fn local_item(&self, local_id: &str) -> Result<Option<LocalItem>> {
        Ok(self.local_item_now(local_id))
    }

    async fn local_items_named(&self, owner_id: &str, local_ids: &[String]) -> Result<Vec<LocalItem>> {
        Ok(self
            .state()
            .local_items
            .iter()
            .filter(|l| l.owner_id == owner_id && local_ids.contains(&l.local_id))
            .cloned()
            .collect())
    }

    async fn local_items(&self, owner_id: &str, page: &PageRequest) -> Result<Page<LocalItem>> {
        let rows = self
            .state()
            .local_items
            .iter()
            .filter(|l| l.owner_id == owner_id)
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }

    async fn item(&self, dfid: &str) -> Result<Option<Item>> {
        Ok(self.item_now(dfid))
    }

    async fn items_for(&self, dfids: &[String], user_id: &str) -> Result<Vec<(Item, ViewerFacts)>> {
        Ok(dfids
            .iter()
            .filter_map(|dfid| self.item_for_now(dfid, user_id))
            .collect())
    }

    async fn canonical_owners(&self, names: &[(String, String)]) -> Result<Vec<(String, String, String)>> {
        let state = self.state();
        Ok(state
            .items
            .iter()
            .flat_map(|item| {
                item.identifiers
                    .iter()
                    .filter(|i| i.is_canonical() && names.iter().any(|(k, v)| &i.key == k && &i.value == v))
                    .map(|i| (i.key.clone(), i.value.clone(), item.dfid.clone()))
            })
            .collect())
    }

    async fn visible_items(&self, user_id: &str, _filter: &ItemFilter, page: &PageRequest) -> Result<Page<Item>> {
        let rows = self
            .state()
            .items
            .iter()
            .filter(|i| i.created_by == user_id)
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }
}

#[async_trait::async_trait]
impl EventRepo for MemoryStore {
    async fn event(&self, event_id: &str) -> Result<Option<Event>> {
        Ok(self.state().events.iter().find(|e| e.event_id == event_id).cloned())
    }

    async fn event_by_hash(&self, content_hash: &str) -> Result<Option<Event>> {
        Ok(self
            .state()
            .events
            .iter()
            .find(|e| e.content_hash == content_hash)
            .cloned())
    }

    async fn item_events(
        &self,
        dfid: &str,
        viewer: &str,
        kinds: &[Visibility],
        page: &PageRequest,
    ) -> Result<Page<Event>> {
        let rows = self
            .state()
            .events
            .iter()
            .filter(|e| e.dfid == dfid && (e.source == viewer || kinds.contains(&e.visibility)))
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }

    async fn visible_events(&self, viewer: &str, _filter: &EventFilter, page: &PageRequest) -> Result<Page<Event>> {
        let rows = self
            .state()
            .events
            .iter()
            .filter(|e| e.source == viewer)
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }

    async fn public_events(&self, dfid: &str, limit: u32) -> Result<Vec<Event>> {
        Ok(self
            .state()
            .events
            .iter()
            .filter(|e| e.dfid == dfid && e.visibility == Visibility::Public)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }

    async fn local_event(&self, _local_event_id: &str) -> Result<Option<LocalEvent>> {
        Ok(None)
    }

    async fn local_events(&self, _owner_id: &str, page: &PageRequest) -> Result<Page<LocalEvent>> {
        Ok(first_page(Vec::new(), page))
    }
}

#[async_trait::async_trait]
impl ActivityRepo for MemoryStore {
    async fn activities(
        &self,
        _user_id: &str,
        _circuit_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Activity>> {
        Ok(first_page(Vec::new(), page))
    }
}

#[async_trait::async_trait]
impl TransferRepo for MemoryStore {
    async fn transfer(&self, transfer_id: &str) -> Result<Option<Transfer>> {
        Ok(self
            .state()
            .transfers
            .iter()
            .find(|t| t.transfer_id == transfer_id)
            .cloned())
    }

    async fn pending_transfer(&self, dfid: &str) -> Result<Option<Transfer>> {
        Ok(self
            .state()
            .transfers
            .iter()
            .find(|t| t.dfid == dfid && t.status == TransferStatus::Pending)
            .cloned())
    }

    async fn transfers(&self, user_id: &str, direction: Direction, page: &PageRequest) -> Result<Page<Transfer>> {
        let rows = self
            .state()
            .transfers
            .iter()
            .filter(|t| match direction {
                Direction::Incoming => t.to_user_id.as_deref() == Some(user_id),
                Direction::Outgoing => t.from_user_id == user_id,
            })
            .rev()
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }
}

#[async_trait::async_trait]
impl ApiKeyRepo for MemoryStore {
    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>> {
        Ok(self.state().api_keys.iter().find(|k| k.id == key_id).cloned())
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        Ok(self.state().api_keys.iter().find(|k| k.key_hash == key_hash).cloned())
    }

    async fn api_keys(&self, user_id: &str, page: &PageRequest) -> Result<Page<ApiKey>> {
        let rows = self
            .state()
            .api_keys
            .iter()
            .filter(|k| k.user_id == user_id && k.revoked_at.is_none())
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }

    async fn active_key_hashes(&self, user_id: &str) -> Result<Vec<String>> {
        Ok(self
            .state()
            .api_keys
            .iter()
            .filter(|k| k.user_id == user_id && k.revoked_at.is_none())
            .map(|k| k.key_hash.clone())
            .collect())
    }

    async fn add_key_usage(&self, _usage: Vec<KeyUsage>) -> Result<()> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl DisputeRepo for MemoryStore {
    async fn dispute(&self, dispute_id: &str) -> Result<Option<Dispute>> {
        Ok(self
            .state()
            .disputes
            .iter()
            .find(|d| d.dispute_id == dispute_id)
            .cloned())
    }

    async fn disputes(&self, status: Option<DisputeStatus>, page: &PageRequest) -> Result<Page<Dispute>> {
        let rows = self
            .state()
            .disputes
            .iter()
            .filter(|d| status.is_none_or(|s| d.status == s))
            .rev()
            .cloned()
            .collect();
        Ok(first_page(rows, page))
    }
}

/// The stats queries' rules over the in-memory rows (no deliveries, storage or log here).
#[async_trait::async_trait]
impl crate::domain::dashboards::ports::StatsRepo for MemoryStore {
    async fn user_tally(&self, user_id: &str, since: Timestamp) -> Result<Tally> {
        let state = self.state();
        let owned = |dfid: &str| state.items.iter().any(|i| i.dfid == dfid && i.created_by == user_id);
        let deciding: Vec<&str> = state
            .members
            .iter()
            .filter(|m| m.user_id == user_id && state.with_role((*m).clone()).can(Permission::ManageMembers))
            .map(|m| m.circuit_id.as_str())
            .collect();
        let mut rows = vec![
            row(
                "items",
                "",
                state.items.iter().filter(|i| i.created_by == user_id).count(),
            ),
            row(
                "local_unpushed",
                "",
                state
                    .local_items
                    .iter()
                    .filter(|l| l.owner_id == user_id && l.dfid.is_none())
                    .count(),
            ),
            row(
                "pending",
                "",
                state
                    .operations
                    .iter()
                    .filter(|o| o.status == OperationStatus::Pending && deciding.contains(&o.circuit_id.as_str()))
                    .count(),
            ),
        ];
        rows.extend(
            state
                .members
                .iter()
                .filter(|m| m.user_id == user_id)
                .map(|m| row("circuits", m.role.as_str(), 1)),
        );
        rows.extend(
            state
                .events
                .iter()
                .filter(|e| e.occurred_at >= since && owned(&e.dfid))
                .map(|e| row("events", &e.event_type, 1)),
        );
        Ok(Tally(rows))
    }

    async fn circuit_tally(&self, circuit_id: &str, since: Timestamp) -> Result<Tally> {
        let state = self.state();
        let held = |dfid: &str| {
            state
                .circuit_items
                .iter()
                .any(|c| c.circuit_id == circuit_id && c.dfid == dfid)
        };
        let mut rows = vec![row(
            "items",
            "",
            state
                .circuit_items
                .iter()
                .filter(|c| c.circuit_id == circuit_id)
                .count(),
        )];
        rows.extend(
            state
                .members
                .iter()
                .filter(|m| m.circuit_id == circuit_id)
                .map(|m| row("members", m.role.as_str(), 1)),
        );
        rows.extend(
            state
                .events
                .iter()
                .filter(|e| e.occurred_at >= since && e.visibility != Visibility::Private && held(&e.dfid))
                .map(|e| row("events", &e.occurred_at.format("%Y-%m-%d").to_string(), 1)),
        );
        Ok(Tally(rows))
    }

    async fn platform_tally(&self, since: Timestamp) -> Result<Tally> {
        let state = self.state();
        let mut rows = vec![row("items", "", state.items.len())];
        rows.extend(state.circuits.iter().map(|c| row("circuits", c.status.as_str(), 1)));
        rows.extend(
            state
                .events
                .iter()
                .filter(|e| e.occurred_at >= since)
                .map(|e| row("events", &e.occurred_at.format("%Y-%m-%d").to_string(), 1)),
        );
        Ok(Tally(rows))
    }
}

fn row(part: &str, name: &str, count: usize) -> (String, String, u64) {
    (part.to_owned(), name.to_owned(), count as u64)
}

#[async_trait::async_trait]
impl crate::domain::identity::mail_outbox::MailOutboxRepo for MemoryStore {
    async fn mailed_notification(
        &self,
        notification_id: &str,
    ) -> Result<Option<crate::domain::partners::notification::Notification>> {
        Ok(self.committed().into_iter().find_map(|change| match change {
            crate::domain::changes::Change::Notify(n) if n.id == notification_id => Some(n),
            _ => None,
        }))
    }

    async fn claim_mail(
        &self,
        now: Timestamp,
        limit: u64,
        _lease: std::time::Duration,
    ) -> Result<Vec<crate::domain::identity::mail_outbox::QueuedMail>> {
        use crate::domain::identity::mail_outbox::MailStatus;
        let mut state = self.state();
        let mut claimed = Vec::new();
        for (mail, status, due) in state.mails.iter_mut() {
            if *status == MailStatus::Pending && *due <= now && (claimed.len() as u64) < limit {
                *status = MailStatus::InProgress;
                claimed.push(mail.clone());
            }
        }
        Ok(claimed)
    }
}
