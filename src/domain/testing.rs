//! Builders and in-memory fakes of the ports, for unit tests of the domain's rules and services.
//!
//! [`MemoryStore`] keeps what the circuit and item use cases read and applies their changes the way
//! the SQL adapter does (guards included: a decided operation cannot be decided again, an item
//! written since it was read is a concurrent write); every committed change is also kept in order,
//! so a test can assert on what a use case wrote.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::Map;

use crate::domain::audit::Activity;
use crate::domain::audit::ports::ActivityRepo;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit::{AliasConfig, Circuit, CircuitItem, CircuitSettings, CircuitStatus};
use crate::domain::circuits::join_request::{JoinRequest, RequestStatus};
use crate::domain::circuits::operation::{Operation, OperationStatus, OperationType};
use crate::domain::circuits::ports::{
    CircuitItemRepo, CircuitRepo, JoinRequestRepo, MemberRepo, OperationRepo, RoleRepo,
};
use crate::domain::circuits::roles::{CustomRole, Member, MemberRole, PermissionSet};
use crate::domain::identity::access::{Claims, Credential, Principal, RequestMeta, Session};
use crate::domain::identity::account::{Account, AccountStatus, Tier};
use crate::domain::identity::ports::{
    AccountFilter, AccountRepo, MailMessage, Mailer, PasswordCheck, PasswordHasher, ResetToken, TokenSigner,
};

use crate::domain::items::event::{Event, LocalEvent, Visibility};
use crate::domain::items::identifier::{IdType, Identifier, Namespace};
use crate::domain::items::item::{Item, ItemStatus, LocalItem};
use crate::domain::items::ports::{EventFilter, EventRepo, ItemFilter, ItemRepo, ViewerFacts};
use crate::domain::page::{Page, PageRequest};
use crate::domain::{CONCURRENT_WRITE, Error, Result, Timestamp};
use crate::ports::{Cache, Clock, Counter, IdGenerator, RateLimiter};

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
    }
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

/// A clock that stands still until a test moves it.
pub struct FixedClock(Mutex<Timestamp>);

impl Default for FixedClock {
    fn default() -> Self {
        Self(Mutex::new(start_of_test()))
    }
}

impl FixedClock {
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0.lock().map(|now| *now).unwrap_or_else(|_| start_of_test())
    }
}

/// Ids `id-1`, `id-2`... in the order they are asked for.
#[derive(Default)]
pub struct SequentialIds(std::sync::atomic::AtomicU64);

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> String {
        format!("id-{}", self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

/// Counters that never expire on their own: a test decides when a window is over (`clear`).
#[derive(Default)]
pub struct CountingLimiter(Mutex<HashMap<String, u64>>);

impl CountingLimiter {
    pub fn count(&self, key: &str) -> u64 {
        self.0.lock().map(|c| c.get(key).copied().unwrap_or(0)).unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl RateLimiter for CountingLimiter {
    async fn hit(&self, key: &str, window: Duration) -> Counter {
        let mut counts = self.0.lock().expect("limiter lock");
        let count = counts.entry(key.to_owned()).or_insert(0);
        *count += 1;
        Counter {
            count: *count,
            resets_in: window,
        }
    }

    async fn peek(&self, key: &str) -> Option<Counter> {
        let counts = self.0.lock().expect("limiter lock");
        counts.get(key).map(|count| Counter {
            count: *count,
            resets_in: Duration::from_secs(60),
        })
    }

    async fn clear(&self, key: &str) {
        self.0.lock().expect("limiter lock").remove(key);
    }
}

/// A hasher whose hash is the password in clear behind a prefix, and that counts verifications.
#[derive(Default)]
pub struct PlainHasher {
    pub verifications: AtomicUsize,
}

impl PlainHasher {
    pub fn hash_of(password: &str) -> String {
        format!("plain:{password}")
    }

    pub fn verifications(&self) -> usize {
        self.verifications.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: String) -> Result<String> {
        Ok(Self::hash_of(&password))
    }

    async fn verify(&self, password: String, hash: String) -> Result<PasswordCheck> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        Ok(if hash == Self::hash_of(&password) {
            PasswordCheck::Match { needs_rehash: false }
        } else {
            PasswordCheck::Mismatch
        })
    }

    async fn verify_dummy(&self, _password: String) -> Result<()> {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Tokens that name their session in clear; verification is not needed by the use cases tested.
pub struct PlainTokens;

impl TokenSigner for PlainTokens {
    fn sign(&self, claims: &Claims) -> Result<String> {
        Ok(format!("token-for-{}", claims.sid))
    }

    fn verify(&self, _token: &str) -> Result<Claims> {
        Err(Error::unauthenticated("invalid_token", "test tokens are not verified"))
    }
}

/// A cache that remembers nothing.
pub struct NoCache;

#[async_trait::async_trait]
impl Cache for NoCache {
    async fn get(&self, _key: &str) -> Option<Vec<u8>> {
        None
    }

    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        vec![None; keys.len()]
    }

    async fn set(&self, _key: &str, _value: &[u8], _ttl: Duration) {}

    async fn delete(&self, _key: &str) -> bool {
        false
    }

    fn backend(&self) -> &'static str {
        "none"
    }

    async fn ping(&self) -> bool {
        true
    }
}

/// A mailer that keeps what it was asked to send.
#[derive(Default)]
pub struct MailOutbox(pub Mutex<Vec<MailMessage>>);

#[async_trait::async_trait]
impl Mailer for MailOutbox {
    async fn send(&self, message: MailMessage) -> Result<()> {
        self.0.lock().expect("outbox lock").push(message);
        Ok(())
    }
}

#[derive(Default)]
struct State {
    accounts: Vec<Account>,
    local_items: Vec<LocalItem>,
    items: Vec<Item>,
    events: Vec<Event>,
    circuits: Vec<Circuit>,
    members: Vec<Member>,
    roles: Vec<CustomRole>,
    join_requests: Vec<JoinRequest>,
    operations: Vec<Operation>,
    circuit_items: Vec<CircuitItem>,
    published: Vec<(String, String)>,
    pulled: Vec<(String, String)>,
    dfid_counter: u64,
    committed: Vec<Change>,
}

impl State {
    /// A member as the SQL adapter returns it: with its custom role's permissions.
    fn with_role(&self, mut member: Member) -> Member {
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
            Change::InsertLocalItem(local) => self.local_items.push(local),
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
            // Kept in the log only: nothing these tests read depends on them.
            _ => {}
        }
        Ok(())
    }
}

/// The in-memory store: see the module's documentation.
#[derive(Default)]
pub struct MemoryStore(Mutex<State>);

fn first_page<T>(rows: Vec<T>, page: &PageRequest) -> Page<T> {
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    Page {
        data: rows.into_iter().take(limit).collect(),
        next_cursor: None,
    }
}

impl MemoryStore {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().expect("memory store lock")
    }

    /// Every change committed so far, in order.
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

    pub fn item_count(&self) -> usize {
        self.state().items.len()
    }
}

#[async_trait::async_trait]
impl UnitOfWork for MemoryStore {
    async fn commit(&self, changes: Vec<Change>) -> Result<()> {
        let mut state = self.state();
        // All or nothing, as one transaction: apply to a copy, keep it only if every change fit.
        let mut draft = State {
            accounts: state.accounts.clone(),
            local_items: state.local_items.clone(),
            items: state.items.clone(),
            events: state.events.clone(),
            circuits: state.circuits.clone(),
            members: state.members.clone(),
            roles: state.roles.clone(),
            join_requests: state.join_requests.clone(),
            operations: state.operations.clone(),
            circuit_items: state.circuit_items.clone(),
            published: state.published.clone(),
            pulled: state.pulled.clone(),
            dfid_counter: state.dfid_counter,
            committed: Vec::new(),
        };
        for change in &changes {
            draft.apply(change)?;
        }
        draft.committed = std::mem::take(&mut state.committed);
        draft.committed.extend(changes);
        *state = draft;
        Ok(())
    }
}

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
            .find(|o| {
                o.circuit_id == circuit_id
                    && o.dfid == dfid
                    && o.operation_type == operation_type
                    && o.status == OperationStatus::Pending
                    && requester_id.is_none_or(|r| o.requester_id == r)
            })
            .cloned())
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
}

#[async_trait::async_trait]
impl ItemRepo for MemoryStore {
    async fn next_dfid_sequence(&self, _day: chrono::NaiveDate) -> Result<u64> {
        let mut state = self.state();
        state.dfid_counter += 1;
        Ok(state.dfid_counter)
    }

    async fn local_item(&self, local_id: &str) -> Result<Option<LocalItem>> {
        Ok(self.local_item_now(local_id))
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

    async fn count_local_items_since(&self, owner_id: &str, since: Timestamp) -> Result<u64> {
        Ok(self
            .state()
            .local_items
            .iter()
            .filter(|l| l.owner_id == owner_id && l.created_at >= since)
            .count() as u64)
    }

    async fn item(&self, dfid: &str) -> Result<Option<Item>> {
        Ok(self.item_now(dfid))
    }

    async fn item_for(&self, dfid: &str, user_id: &str) -> Result<Option<(Item, ViewerFacts)>> {
        let state = self.state();
        let Some(item) = state.items.iter().find(|i| i.dfid == dfid).cloned() else {
            return Ok(None);
        };
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
        Ok(Some((item, facts)))
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
