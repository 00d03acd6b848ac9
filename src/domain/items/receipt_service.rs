//! Receipts: record, list, read and verify (VERIFY.md, "Routes").

use std::sync::Arc;

use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::ports::MemberRepo;
use crate::domain::identity::access::Principal;
use crate::domain::items::ports::{ItemRepo, ReceiptRepo};
use crate::domain::items::receipt::{Receipt, Receipted, check_label};
use crate::domain::items::relation::{item_and_relation, visible_item};
use crate::domain::page::{Page, PageRequest};
use crate::domain::{Error, Result};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What receipts need from storage.
    pub trait ReceiptStore: UnitOfWork, ItemRepo, MemberRepo, ReceiptRepo
);

/// Most receipts `verify` examines for one digest.
const MAX_MATCHES: u64 = 100;

pub struct ReceiptService {
    pub(crate) store: Arc<dyn ReceiptStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
}

impl ReceiptService {
    /// Records a receipt; with `dfid` (the caller must be allowed to change the item) it is
    /// attached to the item as evidence.
    pub async fn create(
        &self,
        principal: &Principal,
        receipted: Receipted,
        dfid: Option<&str>,
        label: Option<String>,
    ) -> Result<Receipt> {
        check_label(label.as_deref())?;
        let (sha256, size_bytes, content_type) = receipted.digest()?;
        let dfid = match dfid {
            Some(dfid) => {
                let (item, relation) = visible_item(self.store.as_ref(), dfid, &principal.user_id).await?;
                relation.require_changeable()?;
                Some(item.dfid)
            }
            None => None,
        };
        let receipt = Receipt {
            receipt_id: self.ids.new_id(),
            owner_id: principal.user_id.clone(),
            sha256,
            size_bytes,
            content_type,
            dfid,
            label,
            created_at: self.clock.now(),
        };
        self.store.commit(vec![Change::InsertReceipt(receipt.clone())]).await?;
        Ok(receipt)
    }

    pub async fn list(&self, principal: &Principal, page: &PageRequest) -> Result<Page<Receipt>> {
        self.store.receipts_of(&principal.user_id, page).await
    }

    /// One receipt: the caller's own, or one attached to an item the caller may see.
    pub async fn get(&self, principal: &Principal, receipt_id: &str) -> Result<Receipt> {
        let receipt = self
            .store
            .receipt(receipt_id)
            .await?
            .ok_or_else(|| Error::not_found("receipt"))?;
        if self.may_see(principal, &receipt).await? {
            Ok(receipt)
        } else {
            Err(Error::not_found("receipt"))
        }
    }

    /// The receipts of these bytes (or this digest) that the caller may see.
    pub async fn verify(&self, principal: &Principal, receipted: Receipted) -> Result<Vec<Receipt>> {
        let (sha256, _, _) = receipted.digest()?;
        let mut matches = Vec::new();
        for receipt in self.store.receipts_with(&sha256, MAX_MATCHES).await? {
            if self.may_see(principal, &receipt).await? {
                matches.push(receipt);
            }
        }
        Ok(matches)
    }

    async fn may_see(&self, principal: &Principal, receipt: &Receipt) -> Result<bool> {
        if receipt.owner_id == principal.user_id {
            return Ok(true);
        }
        let Some(dfid) = &receipt.dfid else {
            return Ok(false);
        };
        Ok(item_and_relation(self.store.as_ref(), dfid, &principal.user_id)
            .await?
            .is_some_and(|(_, relation)| relation.can_see()))
    }
}
