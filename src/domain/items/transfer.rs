//! Ownership transfers: an item changes owner only when its recipient accepts.

use crate::domain::{Error, Timestamp};

id_type!(
    /// A transfer's id.
    TransferId,
    "transfer"
);

/// How long a transfer waits for its recipient.
pub const TRANSFER_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// The longest message a sender may attach.
pub const MAX_MESSAGE_CHARS: usize = 1000;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TransferStatus {
        Pending = "Pending",
        Accepted = "Accepted",
        Declined = "Declined",
        Cancelled = "Cancelled",
        Expired = "Expired",
    }
}

text_enum! {
    /// Which side of a transfer a listing shows.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Direction {
        Incoming = "incoming",
        Outgoing = "outgoing",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub transfer_id: String,
    pub dfid: String,
    pub from_user_id: String,
    /// `None` when the recipient named no account: such an offer is kept, and ends, like any other.
    pub to_user_id: Option<String>,
    /// What the sender wrote as the recipient (a user id, username or email), shown back to
    /// both sides instead of whether it named an account.
    pub recipient: String,
    pub message: Option<String>,
    pub status: TransferStatus,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

impl Transfer {
    /// The status as of `now`: a pending transfer past its expiry is `Expired`, whether or not
    /// anything wrote that down yet.
    pub fn status_at(&self, now: Timestamp) -> TransferStatus {
        if self.status == TransferStatus::Pending && now >= self.expires_at {
            TransferStatus::Expired
        } else {
            self.status
        }
    }

    /// The same transfer, as of `now`.
    pub fn as_of(mut self, now: Timestamp) -> Self {
        self.status = self.status_at(now);
        self
    }

    /// 409 unless still pending at `now`.
    pub fn require_pending(&self, now: Timestamp) -> Result<(), Error> {
        match self.status_at(now) {
            TransferStatus::Pending => Ok(()),
            status => Err(Error::conflict(
                "transfer_not_pending",
                format!("this transfer is {status}"),
            )),
        }
    }

    /// Whether `user_id` sent or received it: nobody else learns it exists.
    pub fn involves(&self, user_id: &str) -> bool {
        self.from_user_id == user_id || self.to_user_id.as_deref() == Some(user_id)
    }
}
