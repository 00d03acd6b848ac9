//! Canonical identifier disputes: the claimant opens one for their own item; an administrator
//! rejects it or reassigns the identifier, moving it between the items in one transaction.

use std::sync::Arc;

use serde_json::json;

use crate::domain::audit::AuditEntry;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::fields::optional_text;
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::items::dfid::Dfid;
use crate::domain::items::dispute::{Dispute, DisputeDecision, DisputeId, DisputeStatus, MAX_EVIDENCE_CHARS};
use crate::domain::items::event::{Event, EventTimes, Visibility};
use crate::domain::items::identifier::{IdType, Identifier, IdentifierInput, Namespace, Registry};
use crate::domain::items::item::Item;
use crate::domain::items::ports::{DisputeRepo, ItemRepo};
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What disputes need from storage.
    pub trait DisputeStore: UnitOfWork, ItemRepo, DisputeRepo
);

pub struct DisputeService {
    pub(crate) store: Arc<dyn DisputeStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
}

/// A dispute with the item that holds its identifier now, for administrators.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeCase {
    pub dispute: Dispute,
    pub holder_dfid: Option<String>,
}

impl DisputeService {
    /// Opens a dispute for the caller's own item (404 for any other: owning is what a claim
    /// needs). The answer says nothing about the item holding the identifier.
    pub async fn open(
        &self,
        principal: &Principal,
        key: &str,
        value: &str,
        dfid: &str,
        evidence: Option<String>,
        meta: &RequestMeta,
    ) -> Result<Dispute> {
        let dfid = Dfid::parse(dfid)?;
        let item = self
            .store
            .item(dfid.as_str())
            .await?
            .filter(|item| item.created_by == principal.user_id)
            .ok_or_else(|| Error::not_found("item"))?;
        let identifier = canonical(key, value)?;
        let evidence = optional_text("evidence", evidence, MAX_EVIDENCE_CHARS)?;
        let now = self.clock.now();
        let dispute = Dispute {
            dispute_id: self.ids.new_id(),
            key: identifier.key,
            value: identifier.value,
            dfid: item.dfid,
            claimant_id: principal.user_id.clone(),
            evidence,
            status: DisputeStatus::Open,
            note: None,
            resolved_by: None,
            created_at: now,
            resolved_at: None,
        };
        let audit = self.audit("identifier_dispute_opened", principal, &dispute, meta, now);
        self.store
            .commit(vec![Change::InsertDispute(dispute.clone()), audit])
            .await?;
        Ok(dispute)
    }

    /// Disputes for administrators, with the item holding each identifier now.
    pub async fn cases(&self, status: Option<DisputeStatus>, page: &PageRequest) -> Result<Page<DisputeCase>> {
        let page = self.store.disputes(status, page).await?;
        let names: Vec<(String, String)> = page.data.iter().map(|d| (d.key.clone(), d.value.clone())).collect();
        let holders = if names.is_empty() {
            Vec::new()
        } else {
            self.store.canonical_owners(&names).await?
        };
        let data = page
            .data
            .into_iter()
            .map(|dispute| {
                let holder_dfid = holders
                    .iter()
                    .find(|(key, value, _)| *key == dispute.key && *value == dispute.value)
                    .map(|(_, _, dfid)| dfid.clone());
                DisputeCase { dispute, holder_dfid }
            })
            .collect();
        Ok(Page {
            data,
            next_cursor: page.next_cursor,
        })
    }

    /// Rejects the claim, or moves the identifier to the claimant's item: both items' lists, the
    /// index, an `IdentifierReassigned` event on each and the decision commit together.
    pub async fn resolve(
        &self,
        admin: &Principal,
        dispute_id: &DisputeId,
        decision: DisputeDecision,
        note: Option<String>,
        meta: &RequestMeta,
    ) -> Result<Dispute> {
        let mut dispute = self
            .store
            .dispute(dispute_id)
            .await?
            .ok_or_else(|| Error::not_found("dispute"))?;
        if dispute.status != DisputeStatus::Open {
            return Err(not_open());
        }
        let note = optional_text("note", note, MAX_EVIDENCE_CHARS)?;
        let now = self.clock.now();
        dispute.status = match decision {
            DisputeDecision::Reassign => DisputeStatus::Reassigned,
            DisputeDecision::Reject => DisputeStatus::Rejected,
        };
        dispute.note = note;
        dispute.resolved_by = Some(admin.user_id.clone());
        dispute.resolved_at = Some(now);
        let mut changes = vec![
            Change::ResolveDispute {
                dispute_id: dispute.dispute_id.clone(),
                status: dispute.status,
                note: dispute.note.clone(),
                resolved_by: admin.user_id.clone(),
                at: now,
            },
            self.audit("identifier_dispute_resolved", admin, &dispute, meta, now),
            self.outcome(&dispute.claimant_id, &dispute, now),
        ];
        if decision == DisputeDecision::Reassign {
            changes.extend(self.reassignment(admin, &dispute, now).await?);
        }
        self.store.commit(changes).await?;
        Ok(dispute)
    }

    async fn reassignment(&self, admin: &Principal, dispute: &Dispute, now: Timestamp) -> Result<Vec<Change>> {
        let store = self.store.as_ref();
        let mut claimant = store
            .item(&dispute.dfid)
            .await?
            .ok_or_else(|| Error::not_found("item"))?;
        let name = (dispute.key.clone(), dispute.value.clone());
        let holder = store.canonical_owners(std::slice::from_ref(&name)).await?.pop();
        let mut changes = Vec::new();
        let identifier = match holder {
            Some((_, _, holder)) if holder == claimant.dfid => return Ok(changes),
            Some((_, _, holder)) => {
                let mut holder = store.item(&holder).await?.ok_or_else(|| Error::not_found("item"))?;
                let position = holder
                    .identifiers
                    .iter()
                    .position(|i| i.is_canonical() && i.key == dispute.key && i.value == dispute.value);
                let identifier = match position {
                    Some(position) => holder.identifiers.remove(position),
                    None => canonical(&dispute.key, &dispute.value)?,
                };
                changes.push(Change::ReassignCanonical {
                    key: dispute.key.clone(),
                    value: dispute.value.clone(),
                    from_dfid: holder.dfid.clone(),
                    to_dfid: claimant.dfid.clone(),
                });
                changes.push(updated(&holder, now));
                changes.push(self.reassigned_event(&holder.dfid, "removed", admin, dispute, now)?);
                if holder.created_by != dispute.claimant_id {
                    changes.push(self.outcome(&holder.created_by, dispute, now));
                }
                identifier
            }
            None => {
                let identifier = canonical(&dispute.key, &dispute.value)?;
                changes.push(Change::AddIdentifiers {
                    dfid: claimant.dfid.clone(),
                    identifiers: vec![identifier.clone()],
                    added_by: admin.user_id.clone(),
                    at: now,
                });
                identifier
            }
        };
        claimant.identifiers.push(identifier);
        changes.push(updated(&claimant, now));
        changes.push(self.reassigned_event(&claimant.dfid, "added", admin, dispute, now)?);
        Ok(changes)
    }

    fn reassigned_event(
        &self,
        dfid: &str,
        change: &str,
        admin: &Principal,
        dispute: &Dispute,
        now: Timestamp,
    ) -> Result<Change> {
        Ok(Change::InsertEvent(Event::new(
            self.ids.new_id(),
            dfid,
            "IdentifierReassigned",
            Visibility::CircuitOnly,
            &admin.user_id,
            json!({ "key": dispute.key, "value": dispute.value, "change": change, "dispute_id": dispute.dispute_id }),
            EventTimes::now(now),
        )?))
    }

    fn outcome(&self, user_id: &str, dispute: &Dispute, now: Timestamp) -> Change {
        Change::Notify(Notification::new(
            self.ids.new_id(),
            user_id,
            NotificationType::DisputeResolved,
            "Identifier dispute resolved",
            format!(
                "The dispute over {} {} was decided: {}",
                dispute.key, dispute.value, dispute.status
            ),
            json!({ "dispute_id": dispute.dispute_id, "key": dispute.key, "value": dispute.value, "status": dispute.status.as_str() }),
            now,
        ))
    }

    fn audit(&self, action: &str, actor: &Principal, dispute: &Dispute, meta: &RequestMeta, now: Timestamp) -> Change {
        Change::Audit(AuditEntry::new(
            self.ids.new_id(),
            action,
            Some(&actor.user_id),
            ("identifier_dispute", Some(&dispute.dispute_id)),
            meta,
            now,
            json!({ "key": dispute.key, "value": dispute.value, "dfid": dispute.dfid, "status": dispute.status.as_str() }),
        ))
    }
}

/// The canonical identifier `key`/`value` names, normalised as items store it.
fn canonical(key: &str, value: &str) -> Result<Identifier> {
    if Registry::parse(key).is_none() {
        return Err(Error::field(
            "key",
            "a canonical registry: sisbov, cpf, cnpj, car, nirf, ie or rfid",
        ));
    }
    Identifier::from_input(
        IdentifierInput {
            key: key.to_owned(),
            value: value.to_owned(),
            id_type: Some(IdType::Canonical),
            ..IdentifierInput::default()
        },
        0,
        Namespace::Generic,
    )
}

/// The item with its new identifier list, guarded by the `updated_at` it was read with.
fn updated(item: &Item, now: Timestamp) -> Change {
    Change::UpdateItem {
        dfid: item.dfid.clone(),
        expected_updated_at: item.updated_at,
        identifiers: item.identifiers.clone(),
        enriched_data: item.enriched_data.clone(),
        status: item.status,
        updated_at: now,
    }
}

fn not_open() -> Error {
    Error::conflict("dispute_not_open", "this dispute was decided already")
}
