//! Joining a circuit: requests decided by its managers, and joins through an open public page.

use crate::domain::circuits::circuit::CircuitId;
use crate::domain::identity::account::UserId;
use crate::domain::partners::notification::Notice;
use std::sync::Arc;

use serde_json::json;

use crate::domain::audit::{Activity, AuditEntry};
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit::Circuit;
use crate::domain::circuits::fields::optional_text;
use crate::domain::circuits::join_request::{JoinRequest, RequestStatus};
use crate::domain::circuits::membership::{circuit_member, notify_managers};
use crate::domain::circuits::ports::{CircuitRepo, JoinRequestRepo, MemberRepo};
use crate::domain::circuits::public_page::{PageGate, PageKey};
use crate::domain::circuits::roles::{Member, MemberRole, Permission, check_grant_role};
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What joining needs from storage.
    pub trait JoinStore: UnitOfWork, CircuitRepo, MemberRepo, JoinRequestRepo
);

/// What a manager decides about a join request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinDecision {
    /// Admit the requester as `role` (default `Member`).
    Approve {
        role: Option<MemberRole>,
    },
    Reject {
        reason: Option<String>,
    },
}

pub struct JoinService {
    pub(crate) store: Arc<dyn JoinStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    /// Whether a circuit's public page is open to this caller.
    pub(crate) gate: Arc<PageGate>,
}

/// The result of joining through a public page.
#[derive(Debug, Clone, PartialEq)]
pub enum PublicJoin {
    Joined(Member),
    Requested(JoinRequest),
}

impl JoinService {
    /// Asks to join a circuit whose public page is open (404 otherwise), with the page's password
    /// when it is `Protected`.
    pub async fn request_to_join(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        access_password: Option<&str>,
        message: Option<String>,
        meta: &RequestMeta,
    ) -> Result<JoinRequest> {
        let (circuit, _) = self
            .gate
            .enter(circuit_id, PageKey::Password(access_password), meta.ip)
            .await?;
        self.new_request(principal, &circuit, message).await
    }

    async fn ensure_joinable(&self, principal: &Principal, circuit_id: &str) -> Result<()> {
        if self.store.member(circuit_id, &principal.user_id).await?.is_some() {
            return Err(Error::conflict("already_member", "you are already a member"));
        }
        if let Some(request) = self.store.join_request(circuit_id, &principal.user_id).await?
            && request.status == RequestStatus::Pending
        {
            return Err(Error::conflict(
                "request_pending",
                "your request to join is waiting for a decision",
            ));
        }
        Ok(())
    }

    async fn new_request(
        &self,
        principal: &Principal,
        circuit: &Circuit,
        message: Option<String>,
    ) -> Result<JoinRequest> {
        self.ensure_joinable(principal, &circuit.circuit_id).await?;
        let message = optional_text("message", message, 1000)?;
        let now = self.clock.now();
        let request = JoinRequest {
            circuit_id: circuit.circuit_id.clone(),
            user_id: principal.user_id.clone(),
            username: principal.username.clone(),
            message,
            status: RequestStatus::Pending,
            created_at: now,
            decided_by: None,
            decided_at: None,
            reason: None,
        };
        let mut changes = vec![Change::UpsertJoinRequest(request.clone())];
        changes.extend(
            notify_managers(
                self.store.as_ref(),
                &circuit.circuit_id,
                &principal.user_id,
                Notice {
                    kind: NotificationType::JoinRequestReceived,
                    title: "New join request",
                    message: format!("{} asked to join {}", principal.username, circuit.name),
                    data: json!({ "circuit_id": circuit.circuit_id, "user_id": principal.user_id }),
                },
                now,
                self.ids.as_ref(),
            )
            .await?,
        );
        self.store.commit(changes).await?;
        Ok(request)
    }

    /// Joins through the public page: at once as `Member` with `auto_approve_members`, as a
    /// join request otherwise.
    pub async fn public_join(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        access_password: Option<&str>,
        message: Option<String>,
        meta: &RequestMeta,
    ) -> Result<PublicJoin> {
        let (circuit, public) = self
            .gate
            .enter(circuit_id, PageKey::Password(access_password), meta.ip)
            .await?;
        if !public.auto_approve_members {
            return self
                .new_request(principal, &circuit, message)
                .await
                .map(PublicJoin::Requested);
        }
        self.ensure_joinable(principal, circuit_id).await?;
        let now = self.clock.now();
        let member = Member {
            circuit_id: circuit_id.to_string(),
            user_id: principal.user_id.clone(),
            username: principal.username.clone(),
            role: MemberRole::Member,
            custom_role: None,
            custom_permissions: None,
            joined_at: now,
        };
        self.store
            .commit(vec![
                Change::InsertMember(member.clone()),
                Change::Activity(
                    Activity::new(
                        self.ids.new_id(),
                        "member_joined",
                        &principal.user_id,
                        format!("{} joined {}", principal.username, circuit.name),
                        now,
                    )
                    .in_circuit(circuit_id),
                ),
                Change::Audit(AuditEntry::new(
                    self.ids.new_id(),
                    "member_joined",
                    Some(&principal.user_id),
                    ("circuit_member", Some(&principal.user_id)),
                    meta,
                    now,
                    json!({ "circuit_id": circuit_id, "via": "public_page" }),
                )),
            ])
            .await?;
        Ok(PublicJoin::Joined(member))
    }

    pub async fn join_requests(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        page: &PageRequest,
    ) -> Result<Page<JoinRequest>> {
        let (_, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        actor.require(Permission::ManageMembers)?;
        self.store.pending_join_requests(circuit_id, page).await
    }

    /// Approves (as `role`, default `Member`) or rejects a join request (ManageMembers).
    pub async fn decide_request(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        user_id: &UserId,
        decision: JoinDecision,
        meta: &RequestMeta,
    ) -> Result<JoinRequest> {
        let (circuit, actor) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        actor.require(Permission::ManageMembers)?;
        let (approve, role, reason) = match decision {
            JoinDecision::Approve { role } => {
                let role = role.unwrap_or(MemberRole::Member);
                check_grant_role(&actor, role, Permission::ManageMembers)?;
                (true, role, None)
            }
            JoinDecision::Reject { reason } => (false, MemberRole::Member, optional_text("reason", reason, 500)?),
        };
        let mut request = self
            .store
            .join_request(circuit_id, user_id)
            .await?
            .filter(|r| r.status == RequestStatus::Pending)
            .ok_or_else(|| Error::not_found("join request"))?;
        let now = self.clock.now();
        let status = if approve {
            RequestStatus::Approved
        } else {
            RequestStatus::Rejected
        };
        let mut changes = vec![Change::DecideJoinRequest {
            circuit_id: circuit_id.to_string(),
            user_id: user_id.to_string(),
            status,
            decided_by: principal.user_id.clone(),
            at: now,
            reason: reason.clone(),
        }];
        let (kind, title, message) = if approve {
            changes.push(Change::InsertMember(Member {
                circuit_id: circuit_id.to_string(),
                user_id: user_id.to_string(),
                username: request.username.clone(),
                role,
                custom_role: None,
                custom_permissions: None,
                joined_at: now,
            }));
            changes.push(Change::Audit(AuditEntry::new(
                self.ids.new_id(),
                "member_added",
                Some(&principal.user_id),
                ("circuit_member", Some(user_id)),
                meta,
                now,
                json!({ "circuit_id": circuit_id, "role": role.as_str(), "via": "join_request" }),
            )));
            (
                NotificationType::JoinRequestApproved,
                "Join request approved",
                format!("you joined {} as {}", circuit.name, role.as_str()),
            )
        } else {
            (
                NotificationType::JoinRequestRejected,
                "Join request rejected",
                format!("your request to join {} was rejected", circuit.name),
            )
        };
        changes.push(Change::Notify(Notification::new(
            self.ids.new_id(),
            user_id,
            kind,
            title,
            message,
            json!({ "circuit_id": circuit_id, "reason": reason }),
            now,
        )));
        self.store.commit(changes).await?;
        request.status = status;
        request.decided_by = Some(principal.user_id.clone());
        request.decided_at = Some(now);
        request.reason = reason;
        Ok(request)
    }
}
