//! Ownership transfers: the owner offers an item, the recipient accepts or declines, the sender
//! may cancel. The offer answers the same whether or not its recipient exists.

use std::sync::Arc;

use serde_json::json;

use crate::domain::audit::Activity;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::fields::{optional_text, text};
use crate::domain::identity::access::Principal;
use crate::domain::identity::account::Account;
use crate::domain::identity::ports::AccountRepo;
use crate::domain::items::event::{Event, EventTimes, Visibility};
use crate::domain::items::ports::{ItemRepo, TransferRepo};
use crate::domain::items::relation::visible_item;
use crate::domain::items::transfer::{
    Direction, MAX_MESSAGE_CHARS, TRANSFER_LIFETIME, Transfer, TransferId, TransferStatus,
};
use crate::domain::page::{Page, PageRequest};
use crate::domain::partners::notification::{Notification, NotificationType};
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What transfers need from storage.
    pub trait TransferStore: UnitOfWork, ItemRepo, TransferRepo, AccountRepo
);

pub struct TransferService {
    pub(crate) store: Arc<dyn TransferStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
}

impl TransferService {
    /// Offers the caller's item to `to` (a user id, username or email). Pending for
    /// `TRANSFER_LIFETIME`; one pending transfer per item.
    pub async fn offer(
        &self,
        principal: &Principal,
        dfid: &str,
        to: &str,
        message: Option<String>,
    ) -> Result<Transfer> {
        let store = self.store.as_ref();
        let (item, relation) = visible_item(store, dfid, &principal.user_id).await?;
        relation.require_owner("transfers it")?;
        let recipient = text("to", to, 1, 254)?;
        let message = optional_text("message", message, MAX_MESSAGE_CHARS)?;
        let account = self.recipient(&recipient).await?;
        if account.as_ref().is_some_and(|a| a.id == principal.user_id) {
            return Err(Error::field("to", "you own this item already"));
        }
        let now = self.clock.now();
        let mut changes = Vec::new();
        if let Some(pending) = store.pending_transfer(&item.dfid).await? {
            if pending.status_at(now) == TransferStatus::Pending {
                return Err(transfer_pending());
            }
            changes.push(Change::DecideTransfer {
                transfer_id: pending.transfer_id,
                status: TransferStatus::Expired,
                at: now,
            });
        }
        let transfer = Transfer {
            transfer_id: self.ids.new_id(),
            dfid: item.dfid.clone(),
            from_user_id: principal.user_id.clone(),
            to_user_id: account.as_ref().map(|a| a.id.clone()),
            recipient,
            message,
            status: TransferStatus::Pending,
            created_at: now,
            expires_at: now + TRANSFER_LIFETIME,
            decided_at: None,
        };
        changes.push(Change::InsertTransfer(transfer.clone()));
        if let Some(account) = &account {
            changes.push(self.notice(
                &account.id,
                NotificationType::TransferReceived,
                "Item offered to you",
                format!("{} offers you {}", principal.username, item.dfid),
                &transfer,
                now,
            ));
        }
        store.commit(changes).await?;
        Ok(transfer)
    }

    /// The account `to` names, looked up the same way whatever it is, so that the time taken
    /// does not tell an id from a login, or an account from none.
    async fn recipient(&self, to: &str) -> Result<Option<Account>> {
        let by_id = self.store.account(to).await?;
        let by_login = self.store.account_by_login(&to.to_lowercase()).await?;
        Ok(by_id.or(by_login))
    }

    pub async fn transfers(
        &self,
        principal: &Principal,
        direction: Direction,
        page: &PageRequest,
    ) -> Result<Page<Transfer>> {
        let now = self.clock.now();
        let mut page = self.store.transfers(&principal.user_id, direction, page).await?;
        page.data = page.data.into_iter().map(|t| t.as_of(now)).collect();
        Ok(page)
    }

    /// One transfer, to its sender or recipient; 404 to anyone else.
    pub async fn transfer(&self, principal: &Principal, transfer_id: &TransferId) -> Result<Transfer> {
        Ok(self.involving(principal, transfer_id).await?.as_of(self.clock.now()))
    }

    /// The recipient takes the item: the owner changes in the same transaction that closes the
    /// transfer, with an `OwnershipTransferred` event and a notification to both.
    pub async fn accept(&self, principal: &Principal, transfer_id: &TransferId) -> Result<Transfer> {
        let mut transfer = self.as_recipient(principal, transfer_id).await?;
        let now = self.clock.now();
        transfer.require_pending(now)?;
        let event = Event::new(
            self.ids.new_id(),
            &transfer.dfid,
            "OwnershipTransferred",
            Visibility::CircuitOnly,
            &principal.user_id,
            json!({ "transfer_id": transfer.transfer_id, "from": transfer.from_user_id, "to": principal.user_id }),
            EventTimes::now(now),
        )?;
        transfer.status = TransferStatus::Accepted;
        transfer.decided_at = Some(now);
        let message = format!("{} now owns {}", principal.username, transfer.dfid);
        let changes = vec![
            decided(&transfer, now),
            Change::SetItemOwner {
                dfid: transfer.dfid.clone(),
                from_user_id: transfer.from_user_id.clone(),
                to_user_id: principal.user_id.clone(),
                at: now,
            },
            Change::InsertEvent(event),
            Change::Activity(
                Activity::new(
                    self.ids.new_id(),
                    "ownership_transferred",
                    &principal.user_id,
                    message.clone(),
                    now,
                )
                .on_item(&transfer.dfid),
            ),
            self.notice(
                &transfer.from_user_id,
                NotificationType::TransferAccepted,
                "Transfer accepted",
                message.clone(),
                &transfer,
                now,
            ),
            self.notice(
                &principal.user_id,
                NotificationType::TransferAccepted,
                "Transfer accepted",
                message,
                &transfer,
                now,
            ),
        ];
        self.store.commit(changes).await?;
        Ok(transfer)
    }

    /// The recipient refuses the item; its sender is told.
    pub async fn decline(&self, principal: &Principal, transfer_id: &TransferId) -> Result<Transfer> {
        let mut transfer = self.as_recipient(principal, transfer_id).await?;
        let now = self.clock.now();
        transfer.require_pending(now)?;
        transfer.status = TransferStatus::Declined;
        transfer.decided_at = Some(now);
        let notice = self.notice(
            &transfer.from_user_id,
            NotificationType::TransferDeclined,
            "Transfer declined",
            format!("{} declined {}", principal.username, transfer.dfid),
            &transfer,
            now,
        );
        self.store.commit(vec![decided(&transfer, now), notice]).await?;
        Ok(transfer)
    }

    /// The sender withdraws a pending transfer.
    pub async fn cancel(&self, principal: &Principal, transfer_id: &TransferId) -> Result<()> {
        let transfer = self.involving(principal, transfer_id).await?;
        if transfer.from_user_id != principal.user_id {
            return Err(Error::forbidden(
                "sender_required",
                "only the sender cancels a transfer",
            ));
        }
        let now = self.clock.now();
        transfer.require_pending(now)?;
        self.store
            .commit(vec![Change::DecideTransfer {
                transfer_id: transfer.transfer_id,
                status: TransferStatus::Cancelled,
                at: now,
            }])
            .await
    }

    async fn involving(&self, principal: &Principal, transfer_id: &TransferId) -> Result<Transfer> {
        self.store
            .transfer(transfer_id)
            .await?
            .filter(|t| t.involves(&principal.user_id))
            .ok_or_else(|| Error::not_found("transfer"))
    }

    async fn as_recipient(&self, principal: &Principal, transfer_id: &TransferId) -> Result<Transfer> {
        let transfer = self.involving(principal, transfer_id).await?;
        if transfer.to_user_id.as_deref() != Some(principal.user_id.as_str()) {
            return Err(Error::forbidden(
                "recipient_required",
                "only the recipient accepts or declines a transfer",
            ));
        }
        Ok(transfer)
    }

    fn notice(
        &self,
        user_id: &str,
        kind: NotificationType,
        title: &str,
        message: String,
        transfer: &Transfer,
        now: Timestamp,
    ) -> Change {
        Change::Notify(Notification::new(
            self.ids.new_id(),
            user_id,
            kind,
            title,
            message,
            json!({ "transfer_id": transfer.transfer_id, "dfid": transfer.dfid }),
            now,
        ))
    }
}

fn decided(transfer: &Transfer, now: Timestamp) -> Change {
    Change::DecideTransfer {
        transfer_id: transfer.transfer_id.clone(),
        status: transfer.status,
        at: now,
    }
}

fn transfer_pending() -> Error {
    Error::conflict("transfer_pending", "this item has a pending transfer")
}
