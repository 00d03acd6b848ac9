//! The in-memory store: state, changes applied as one transaction, and the log of what was
//! committed.

use crate::domain::items::ports::ViewerFacts;
use std::sync::Mutex;

use serde_json::Map;

use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit::{AliasConfig, Circuit, CircuitItem, CircuitSettings, CircuitStatus};
use crate::domain::circuits::join_request::{JoinRequest, RequestStatus};
use crate::domain::circuits::operation::{Operation, OperationStatus};
use crate::domain::circuits::roles::{CustomRole, Member, MemberRole, PermissionSet};
use crate::domain::identity::access::{ApiKey, TierPolicy};
use crate::domain::identity::account::{Account, AccountStatus, Tier};
use crate::domain::identity::mail_outbox::{MailStatus, QueuedMail};
use crate::domain::items::dispute::{Dispute, DisputeStatus};
use crate::domain::items::event::{Event, Visibility};
use crate::domain::items::identifier::Identifier;
use crate::domain::items::item::{Item, ItemStatus, LocalItem};
use crate::domain::items::transfer::{Transfer, TransferStatus};
use crate::domain::page::{Page, PageRequest};
use crate::domain::{CONCURRENT_WRITE, Error, Result, Timestamp};

use super::fakes::PlainHasher;
use super::member;
use super::start_of_test;

#[derive(Default, Clone)]
pub(super) struct State {
    pub(super) accounts: Vec<Account>,
    pub(super) local_items: Vec<LocalItem>,
    pub(super) items: Vec<Item>,
    pub(super) events: Vec<Event>,
    pub(super) circuits: Vec<Circuit>,
    pub(super) members: Vec<Member>,
    pub(super) roles: Vec<CustomRole>,
    pub(super) join_requests: Vec<JoinRequest>,
    pub(super) operations: Vec<Operation>,
    pub(super) circuit_items: Vec<CircuitItem>,
    pub(super) published: Vec<(String, String)>,
    pub(super) pulled: Vec<(String, String)>,
    pub(super) transfers: Vec<Transfer>,
    pub(super) api_keys: Vec<ApiKey>,
    pub(super) disputes: Vec<Dispute>,
    pub(super) dfid_counter: u64,
    pub(super) committed: Vec<Change>,
    /// The mail outbox: each message with its status and when it is next due.
    pub(super) mails: Vec<(QueuedMail, MailStatus, Timestamp)>,
}

impl State {
    /// A member as the SQL adapter returns it: with its custom role's permissions.
    pub(super) fn with_role(&self, mut member: Member) -> Member {
        member.custom_permissions = member
            .custom_role
            .as_ref()
            .and_then(|id| self.roles.iter().find(|r| &r.role_id == id))
            .map(|r| r.permissions);
        member
    }

    fn apply(&mut self, change: &Change) -> Result<()> {
        match change.clone() {
            Change::InsertAccount(account) => self.accounts.push(account),
            Change::InsertLocalItems(locals) => self.local_items.extend(locals),
            Change::MapLocalItem { local_id, dfid } => {
                for local in self.local_items.iter_mut().filter(|l| l.local_id == local_id) {
                    local.dfid = Some(dfid.clone());
                }
            }
            Change::InsertItem(item) => {
                if self.items.iter().any(|i| i.dfid == item.dfid) {
                    return Err(Error::conflict(CONCURRENT_WRITE, "DFID taken"));
                }
                self.items.push(item);
            }
            Change::UpdateItem {
                dfid,
                expected_updated_at,
                identifiers,
                enriched_data,
                status,
                updated_at,
            } => {
                let item = self
                    .items
                    .iter_mut()
                    .find(|i| i.dfid == dfid && i.updated_at == expected_updated_at)
                    .ok_or_else(|| Error::conflict(CONCURRENT_WRITE, "the item changed meanwhile"))?;
                item.identifiers = identifiers;
                item.enriched_data = enriched_data;
                item.status = status;
                item.updated_at = updated_at;
            }
            Change::InsertEvent(event) => self.events.push(event),
            Change::InsertCircuit(circuit) => self.circuits.push(circuit),
            Change::UpdateCircuit(circuit) => {
                self.circuits.retain(|c| c.circuit_id != circuit.circuit_id);
                self.circuits.push(circuit);
            }
            Change::InsertMember(member) => {
                if self
                    .members
                    .iter()
                    .any(|m| m.circuit_id == member.circuit_id && m.user_id == member.user_id)
                {
                    return Err(Error::conflict("already_member", "already a member"));
                }
                self.members.push(member);
            }
            Change::UpdateMember {
                circuit_id,
                user_id,
                role,
                custom_role,
            } => {
                for m in self
                    .members
                    .iter_mut()
                    .filter(|m| m.circuit_id == circuit_id && m.user_id == user_id)
                {
                    m.role = role;
                    m.custom_role = custom_role.clone();
                }
            }
            Change::RemoveMember { circuit_id, user_id } => self
                .members
                .retain(|m| !(m.circuit_id == circuit_id && m.user_id == user_id)),
            Change::InsertRole(role) => self.roles.push(role),
            Change::UpdateRole(role) => {
                self.roles.retain(|r| r.role_id != role.role_id);
                self.roles.push(role);
            }
            Change::DeleteRole { role_id } => self.roles.retain(|r| r.role_id != role_id),
            Change::UpsertJoinRequest(request) => {
                self.join_requests
                    .retain(|r| !(r.circuit_id == request.circuit_id && r.user_id == request.user_id));
                self.join_requests.push(request);
            }
            Change::DecideJoinRequest {
                circuit_id,
                user_id,
                status,
                decided_by,
                at,
                reason,
            } => {
                let request = self
                    .join_requests
                    .iter_mut()
                    .find(|r| r.circuit_id == circuit_id && r.user_id == user_id && r.status == RequestStatus::Pending)
                    .ok_or_else(|| Error::conflict(CONCURRENT_WRITE, "already decided"))?;
                request.status = status;
                request.decided_by = Some(decided_by);
                request.decided_at = Some(at);
                request.reason = reason;
            }
            Change::InsertOperation(operation) => self.operations.push(operation),
            Change::DecideOperation {
                operation_id,
                status,
                decided_by,
                at,
                reason,
            } => {
                let operation = self
                    .operations
                    .iter_mut()
                    .find(|o| o.operation_id == operation_id && o.status == OperationStatus::Pending)
                    .ok_or_else(|| Error::conflict(CONCURRENT_WRITE, "already decided"))?;
                operation.status = status;
                operation.decided_by = Some(decided_by);
                operation.decided_at = Some(at);
                operation.reason = reason;
            }
            Change::AddCircuitItem {
                circuit_id,
                dfid,
                pushed_by,
                pushed_at,
            } if !self
                .circuit_items
                .iter()
                .any(|ci| ci.circuit_id == circuit_id && ci.dfid == dfid) =>
            {
                self.circuit_items.push(CircuitItem {
                    circuit_id,
                    dfid,
                    pushed_by,
                    pushed_at,
                });
            }
            Change::GrantItemAccess { dfid, user_id, .. } => self.pulled.push((dfid, user_id)),
            Change::SetPublishedItems { circuit_id, dfids, .. } => {
                self.published.retain(|(c, _)| c != &circuit_id);
                self.published
                    .extend(dfids.into_iter().map(|dfid| (circuit_id.clone(), dfid)));
            }
            Change::PublishItem { circuit_id, dfid, .. } => self.published.push((circuit_id, dfid)),
            Change::InsertApiKey(key) => self.api_keys.push(key),
            Change::InsertDispute(dispute) => self.disputes.push(dispute),
            Change::ResolveDispute {
                dispute_id,
                status,
                note,
                resolved_by,
                at,
            } => {
                let dispute = self
                    .disputes
                    .iter_mut()
                    .find(|d| d.dispute_id == dispute_id && d.status == DisputeStatus::Open)
                    .ok_or_else(|| Error::conflict("dispute_not_open", "decided meanwhile"))?;
                dispute.status = status;
                dispute.note = note;
                dispute.resolved_by = Some(resolved_by);
                dispute.resolved_at = Some(at);
            }
            Change::RevokeApiKeysOf { user_id, at } => {
                for key in self.api_keys.iter_mut().filter(|k| k.user_id == user_id) {
                    key.revoked_at.get_or_insert(at);
                    key.is_active = false;
                }
            }
            Change::InsertTransfer(transfer) => {
                let pending = |t: &Transfer| t.dfid == transfer.dfid && t.status == TransferStatus::Pending;
                if self.transfers.iter().any(pending) {
                    return Err(Error::conflict("transfer_pending", "this item has a pending transfer"));
                }
                self.transfers.push(transfer);
            }
            Change::DecideTransfer {
                transfer_id,
                status,
                at,
            } => {
                let transfer = self
                    .transfers
                    .iter_mut()
                    .find(|t| t.transfer_id == transfer_id && t.status == TransferStatus::Pending)
                    .ok_or_else(|| Error::conflict("transfer_not_pending", "decided meanwhile"))?;
                transfer.status = status;
                transfer.decided_at = Some(at);
            }
            Change::SetItemOwner {
                dfid,
                from_user_id,
                to_user_id,
                at,
            } => {
                let item = self
                    .items
                    .iter_mut()
                    .find(|i| i.dfid == dfid && i.created_by == from_user_id)
                    .ok_or_else(|| Error::conflict(CONCURRENT_WRITE, "the item changed owner meanwhile"))?;
                item.created_by = to_user_id;
                item.updated_at = at;
            }
            Change::RemoveCircuitItem { circuit_id, dfid } => {
                let before = self.circuit_items.len();
                self.circuit_items
                    .retain(|held| held.circuit_id != circuit_id || held.dfid != dfid);
                if self.circuit_items.len() == before {
                    return Err(Error::not_found("item in this circuit"));
                }
                self.published.retain(|(c, d)| c != &circuit_id || d != &dfid);
            }
            Change::QueueMail(mail) => {
                let due = mail.created_at;
                self.mails.push((mail, MailStatus::Pending, due));
            }
            Change::RecordMail(outcome) => {
                for (mail, status, due) in self.mails.iter_mut().filter(|(m, _, _)| m.mail_id == outcome.mail_id) {
                    mail.attempts = outcome.attempts;
                    *status = outcome.status;
                    *due = outcome.next_attempt_at;
                    if outcome.status == MailStatus::Sent {
                        mail.sealed_body.clear();
                    }
                }
            }
            Change::HoldItemLimit {
                owner_id,
                since,
                limit,
                adding,
            } => {
                let created = self
                    .local_items
                    .iter()
                    .filter(|item| item.owner_id == owner_id && item.created_at >= since)
                    .count();
                TierPolicy::check_room(Some(limit), created as u64, adding, "new items per month")?;
            }
            // Kept in the log only: nothing these tests read depends on them.
            _ => {}
        }
        Ok(())
    }
}

/// The in-memory store: see the module's documentation.
#[derive(Default)]
pub struct MemoryStore(Mutex<State>);

pub(super) fn first_page<T>(rows: Vec<T>, page: &PageRequest) -> Page<T> {
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    Page {
        data: rows.into_iter().take(limit).collect(),
        next_cursor: None,
    }
}

impl MemoryStore {
    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().expect("memory store lock")
    }

    /// Every change committed so far, in order.
    pub fn item_owner(&self, dfid: &str) -> Option<String> {
        self.state()
            .items
            .iter()
            .find(|i| i.dfid == dfid)
            .map(|i| i.created_by.clone())
    }

    pub fn committed(&self) -> Vec<Change> {
        self.state().committed.clone()
    }

    /// Forgets the log of committed changes (the state stays).
    pub fn clear_log(&self) {
        self.state().committed.clear();
    }

    pub fn add_account(&self, user_id: &str, password: &str) {
        let now = start_of_test();
        self.state().accounts.push(Account {
            id: user_id.into(),
            username: user_id.into(),
            email: format!("{user_id}@example.com"),
            password_hash: PlainHasher::hash_of(password),
            tier: Tier::Professional,
            status: AccountStatus::Active,
            is_admin: false,
            workspace_id: format!("ws-{user_id}"),
            session_epoch: 0,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        });
    }

    pub fn set_account_status(&self, user_id: &str, status: AccountStatus) {
        for account in self.state().accounts.iter_mut().filter(|a| a.id == user_id) {
            account.status = status;
        }
    }

    /// Circuit `circuit_id` owned by `owner` (who is its Owner member), with `settings`.
    pub fn add_circuit(&self, circuit_id: &str, owner: &str, settings: CircuitSettings) {
        let now = start_of_test();
        let mut state = self.state();
        state.circuits.push(Circuit {
            circuit_id: circuit_id.into(),
            name: format!("circuit {circuit_id}"),
            description: None,
            owner_id: owner.into(),
            status: CircuitStatus::Active,
            settings,
            alias_config: AliasConfig::default(),
            adapter_type: "none".into(),
            public: None,
            created_at: now,
            updated_at: now,
        });
        state.members.push(Member {
            circuit_id: circuit_id.into(),
            ..member(owner, MemberRole::Owner, None)
        });
    }

    pub fn update_circuit(&self, circuit_id: &str, change: impl FnOnce(&mut Circuit)) {
        if let Some(circuit) = self.state().circuits.iter_mut().find(|c| c.circuit_id == circuit_id) {
            change(circuit);
        }
    }

    pub fn add_member(&self, circuit_id: &str, user_id: &str, role: MemberRole) {
        self.state().members.push(Member {
            circuit_id: circuit_id.into(),
            ..member(user_id, role, None)
        });
    }

    /// A custom role `role_id` in `circuit_id` holding `permissions`, given to `user_id`.
    pub fn give_custom_role(&self, circuit_id: &str, user_id: &str, role_id: &str, permissions: PermissionSet) {
        let mut state = self.state();
        state.roles.push(CustomRole {
            role_id: role_id.into(),
            circuit_id: circuit_id.into(),
            role_name: role_id.into(),
            permissions,
            description: None,
            color: None,
            created_at: start_of_test(),
        });
        for m in state
            .members
            .iter_mut()
            .filter(|m| m.circuit_id == circuit_id && m.user_id == user_id)
        {
            m.custom_role = Some(role_id.into());
        }
    }

    /// A local item `local_id` of `owner` with `identifiers`, not tokenized yet.
    pub fn add_local_item(&self, local_id: &str, owner: &str, identifiers: Vec<Identifier>) {
        self.state().local_items.push(LocalItem {
            local_id: local_id.into(),
            owner_id: owner.into(),
            identifiers,
            enriched_data: Map::new(),
            dfid: None,
            created_at: start_of_test(),
        });
    }

    /// A global item `dfid` created by `owner`, with `identifiers`.
    pub fn add_item(&self, dfid: &str, owner: &str, identifiers: Vec<Identifier>) {
        let now = start_of_test();
        self.state().items.push(Item {
            dfid: dfid.into(),
            identifiers,
            enriched_data: Map::new(),
            status: ItemStatus::Active,
            created_by: owner.into(),
            created_at: now,
            updated_at: now,
            latest_cid: None,
        });
    }

    pub fn holds(&self, circuit_id: &str, dfid: &str) -> bool {
        self.state()
            .circuit_items
            .iter()
            .any(|held| held.circuit_id == circuit_id && held.dfid == dfid)
    }

    pub fn put_item_in_circuit(&self, circuit_id: &str, dfid: &str) {
        self.state().circuit_items.push(CircuitItem {
            circuit_id: circuit_id.into(),
            dfid: dfid.into(),
            pushed_by: "seed".into(),
            pushed_at: start_of_test(),
        });
    }

    pub fn item_now(&self, dfid: &str) -> Option<Item> {
        self.state().items.iter().find(|i| i.dfid == dfid).cloned()
    }

    /// The item and how `user_id` relates to it, as the store's `items_for` finds it.
    pub fn item_for_now(&self, dfid: &str, user_id: &str) -> Option<(Item, ViewerFacts)> {
        let state = self.state();
        let item = state.items.iter().find(|i| i.dfid == dfid).cloned()?;
        let memberships = state
            .circuit_items
            .iter()
            .filter(|ci| ci.dfid == dfid)
            .filter_map(|ci| {
                state
                    .members
                    .iter()
                    .find(|m| m.circuit_id == ci.circuit_id && m.user_id == user_id)
            })
            .map(|m| state.with_role(m.clone()))
            .collect();
        let facts = ViewerFacts {
            memberships,
            pulled: state.pulled.iter().any(|(d, u)| d == dfid && u == user_id),
            local_id: state
                .local_items
                .iter()
                .find(|l| l.owner_id == user_id && l.dfid.as_deref() == Some(dfid))
                .map(|l| l.local_id.clone()),
        };
        Some((item, facts))
    }

    pub fn local_item_now(&self, local_id: &str) -> Option<LocalItem> {
        self.state()
            .local_items
            .iter()
            .find(|l| l.local_id == local_id)
            .cloned()
    }

    pub fn items_in(&self, circuit_id: &str) -> Vec<String> {
        self.state()
            .circuit_items
            .iter()
            .filter(|ci| ci.circuit_id == circuit_id)
            .map(|ci| ci.dfid.clone())
            .collect()
    }

    pub fn member_now(&self, circuit_id: &str, user_id: &str) -> Option<Member> {
        let state = self.state();
        let found = state
            .members
            .iter()
            .find(|m| m.circuit_id == circuit_id && m.user_id == user_id)
            .cloned();
        found.map(|m| state.with_role(m))
    }

    /// An event of `event_type` on `dfid` by its owner, at `occurred_at`.
    pub fn add_event(&self, dfid: &str, event_type: &str, visibility: Visibility, occurred_at: Timestamp) {
        let mut state = self.state();
        let number = state.events.len();
        state.events.push(Event {
            event_id: format!("event-{number}"),
            dfid: dfid.into(),
            event_type: event_type.into(),
            visibility,
            source: "owner".into(),
            metadata: serde_json::Value::Null,
            occurred_at,
            recorded_at: occurred_at,
            content_hash: format!("hash-{number}"),
        });
    }

    /// The mail outbox: each message and its status.
    pub fn mails(&self) -> Vec<(QueuedMail, MailStatus)> {
        self.state()
            .mails
            .iter()
            .map(|(mail, status, _)| (mail.clone(), *status))
            .collect()
    }

    pub fn local_item_count(&self) -> usize {
        self.state().local_items.len()
    }

    pub fn item_count(&self) -> usize {
        self.state().items.len()
    }
}

#[async_trait::async_trait]
impl UnitOfWork for MemoryStore {
    async fn commit(&self, changes: Vec<Change>) -> Result<()> {
        let mut state = self.state();
        // All or nothing, as one transaction: apply to a copy, keep it only if every change fit.
        let mut draft = state.clone();
        for change in &changes {
            draft.apply(change)?;
        }
        draft.committed.extend(changes);
        *state = draft;
        Ok(())
    }
}
