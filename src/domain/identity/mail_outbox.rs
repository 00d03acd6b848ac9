//! Mail leaves through an outbox: a message is queued in the transaction that makes what it
//! tells about (a reset token and its mail commit together), and a worker sends the due ones,
//! retrying with backoff. A mail server that is down delays no request and loses no message.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::changes::Change;
use crate::domain::identity::ports::{MailMessage, Mailer};
use crate::domain::partners::notification::Notification;
use crate::domain::partners::ports::SecretCipher;
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Clock, IdGenerator};

/// Attempts before a message is `Failed`: its retries wait 2 s, 4 s... up to an hour, about
/// three hours in all.
pub const MAX_MAIL_ATTEMPTS: u32 = 14;
/// How long one send may take before the message goes back to the queue.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const LEASE: Duration = Duration::from_secs(120);
const BATCH: u64 = 16;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum MailStatus {
        Pending = "Pending",
        InProgress = "InProgress",
        Sent = "Sent",
        Failed = "Failed",
    }
}

/// A message waiting in the outbox, its body sealed: a reset token must not sit in the database
/// where anyone who reads it (a backup) could use it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMail {
    pub mail_id: String,
    pub to: String,
    pub subject: String,
    pub sealed_body: String,
    pub attempts: u32,
    pub created_at: Timestamp,
    /// A notification mailed to its user: the body is its text, read when the message is sent,
    /// and `sealed_body` is empty.
    pub notification_id: Option<String>,
}

/// What one attempt to send a message came to.
#[derive(Debug, Clone, PartialEq)]
pub struct MailOutcome {
    pub mail_id: String,
    pub status: MailStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub error: Option<String>,
    pub at: Timestamp,
}

#[async_trait::async_trait]
pub trait MailOutboxRepo: Send + Sync {
    /// Leases up to `limit` due messages (pending and due, or in progress with an expired
    /// lease) to this worker; replicas never claim the same one.
    async fn claim_mail(&self, now: Timestamp, limit: u64, lease: Duration) -> Result<Vec<QueuedMail>>;
    /// The notification a queued message mails, unless its user deleted it meanwhile.
    async fn mailed_notification(&self, notification_id: &str) -> Result<Option<Notification>>;
}

/// The change that queues `message`.
pub fn queue_mail(
    ids: &dyn IdGenerator,
    cipher: &dyn SecretCipher,
    message: MailMessage,
    now: Timestamp,
) -> Result<Change> {
    Ok(Change::QueueMail(QueuedMail {
        mail_id: ids.new_id(),
        to: message.to,
        subject: message.subject,
        sealed_body: cipher.seal(&message.body)?,
        attempts: 0,
        created_at: now,
        notification_id: None,
    }))
}

/// The body of the message that mails `notification` to its user.
pub fn notification_mail_body(notification: &Notification) -> String {
    format!(
        "{}\n\n{}, {} UTC.\n\nYou receive this because email notifications are on for your DeFarm account; \
         turn them off with PUT /api/notifications/settings {{\"email\": false}}.\n",
        notification.message,
        notification.title,
        notification.created_at.format("%Y-%m-%d %H:%M"),
    )
}

combined_port!(
    /// What the mail worker needs from storage.
    pub trait MailStore: crate::domain::changes::UnitOfWork, MailOutboxRepo
);

/// Sends what the outbox holds.
pub struct MailSender {
    pub(crate) store: Arc<dyn MailStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) cipher: Arc<dyn SecretCipher>,
}

impl MailSender {
    /// Sends the due messages; returns how many it claimed.
    pub async fn send_due(&self) -> Result<usize> {
        let claimed = self.store.claim_mail(self.clock.now(), BATCH, LEASE).await?;
        let count = claimed.len();
        for mail in claimed {
            if let Err(err) = self.send_one(mail).await {
                tracing::warn!(error = %err, "could not record a mail attempt; its lease will expire and it will be retried");
            }
        }
        Ok(count)
    }

    /// The message's body: its notification's text, or its own opened; `None` when there is
    /// nothing left to send (the notification was deleted).
    async fn body(&self, mail: &QueuedMail) -> Result<Option<String>> {
        match &mail.notification_id {
            Some(id) => Ok(self
                .store
                .mailed_notification(id)
                .await?
                .map(|notification| notification_mail_body(&notification))),
            None => self.cipher.open(&mail.sealed_body).map(Some),
        }
    }

    /// Sends `body`, bounded by `SEND_TIMEOUT`.
    async fn send(&self, mail: &QueuedMail, body: String) -> Result<()> {
        let message = MailMessage {
            to: mail.to.clone(),
            subject: mail.subject.clone(),
            body,
        };
        tokio::time::timeout(SEND_TIMEOUT, self.mailer.send(message))
            .await
            .unwrap_or_else(|_| {
                Err(Error::unavailable(
                    "service_unavailable",
                    "the mail server did not answer in time",
                    30,
                ))
            })
    }

    async fn send_one(&self, mail: QueuedMail) -> Result<()> {
        let attempts = mail.attempts + 1;
        let sent = match self.body(&mail).await {
            Ok(Some(body)) => Some(self.send(&mail, body).await),
            Ok(None) => None,
            Err(err) => Some(Err(err)),
        };
        let now = self.clock.now();
        let (status, next, error) = match sent {
            Some(sent) => outcome(&mail, attempts, sent, now),
            None => {
                let reason = "the notification was deleted before it was mailed";
                (MailStatus::Failed, now, Some(reason.to_owned()))
            }
        };
        metrics::counter!("defarm_mail_attempts_total", "outcome" => status.as_str()).increment(1);
        self.store
            .commit(vec![Change::RecordMail(MailOutcome {
                mail_id: mail.mail_id,
                status,
                attempts,
                next_attempt_at: next,
                error,
                at: now,
            })])
            .await
    }
}

/// What attempt number `attempts` of `mail` came to: sent, retried later with backoff, or, after
/// the last attempt, failed.
fn outcome(
    mail: &QueuedMail,
    attempts: u32,
    sent: Result<()>,
    now: Timestamp,
) -> (MailStatus, Timestamp, Option<String>) {
    match sent {
        Ok(()) => (MailStatus::Sent, now, None),
        Err(err) if attempts >= MAX_MAIL_ATTEMPTS => {
            tracing::error!(mail_id = %mail.mail_id, error = %err, "a message could not be sent; giving up");
            (MailStatus::Failed, now, Some(err.message))
        }
        Err(err) => {
            let delay = chrono::Duration::seconds(2_i64.pow(attempts.min(11)).min(3_600));
            tracing::warn!(mail_id = %mail.mail_id, error = %err, "sending a message failed; will retry");
            (MailStatus::Pending, now + delay, Some(err.message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::changes::UnitOfWork;
    use crate::domain::testing::{FixedClock, MailOutbox, MarkingCipher, MemoryStore, SequentialIds, start_of_test};

    struct World {
        store: Arc<MemoryStore>,
        clock: Arc<FixedClock>,
        mailer: Arc<MailOutbox>,
        sender: MailSender,
    }

    /// `message` queued, and a mail server that refuses the first `refusals` sends.
    async fn world(refusals: u32, message: &MailMessage) -> World {
        let store = Arc::new(MemoryStore::default());
        let clock = Arc::new(FixedClock::default());
        let mailer = Arc::new(MailOutbox::default());
        *mailer.refusals.lock().unwrap() = refusals;
        let sender = MailSender {
            store: store.clone(),
            clock: clock.clone(),
            mailer: mailer.clone(),
            cipher: Arc::new(MarkingCipher),
        };
        let queued = queue_mail(
            &SequentialIds::default(),
            &MarkingCipher,
            message.clone(),
            start_of_test(),
        )
        .unwrap();
        store.commit(vec![queued]).await.unwrap();
        World {
            store,
            clock,
            mailer,
            sender,
        }
    }

    #[tokio::test]
    async fn a_refused_message_waits_and_is_sent_later_then_forgotten() {
        let message = MailMessage {
            to: "joao@fazenda.example".into(),
            subject: "Reset".into(),
            body: "token abc".into(),
        };
        let World {
            store,
            clock,
            mailer,
            sender,
        } = world(1, &message).await;
        assert_eq!(store.mails()[0].0.sealed_body, "sealed:token abc", "stored sealed");

        assert_eq!(sender.send_due().await.unwrap(), 1);
        assert_eq!(store.mails()[0].1, MailStatus::Pending, "refused: waits for a retry");
        assert_eq!(sender.send_due().await.unwrap(), 0, "not due yet");
        clock.advance(chrono::Duration::seconds(2));
        assert_eq!(sender.send_due().await.unwrap(), 1);
        let (mail, status) = store.mails()[0].clone();
        assert_eq!((status, mail.attempts), (MailStatus::Sent, 2));
        assert!(mail.sealed_body.is_empty(), "a sent message's body is not kept");
        assert_eq!(*mailer.sent.lock().unwrap(), vec![message]);
    }

    #[tokio::test]
    async fn a_message_that_never_goes_out_fails_after_the_last_attempt() {
        let message = MailMessage {
            to: "a@b.example".into(),
            subject: "s".into(),
            body: "b".into(),
        };
        let World {
            store, clock, sender, ..
        } = world(u32::MAX, &message).await;
        for _ in 0..MAX_MAIL_ATTEMPTS {
            assert_eq!(sender.send_due().await.unwrap(), 1);
            clock.advance(chrono::Duration::hours(1));
        }
        assert_eq!(store.mails()[0].1, MailStatus::Failed);
        assert_eq!(sender.send_due().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_notification_mail_says_what_the_notification_says_and_is_dropped_once_it_is_deleted() {
        use crate::domain::partners::notification::{Notification, NotificationType};
        let store = Arc::new(MemoryStore::default());
        let mailer = Arc::new(MailOutbox::default());
        let sender = MailSender {
            store: store.clone(),
            clock: Arc::new(FixedClock::default()),
            mailer: mailer.clone(),
            cipher: Arc::new(MarkingCipher),
        };
        let notification = Notification::new(
            "n-1".into(),
            "user-1",
            NotificationType::MemberAdded,
            "Added to a circuit",
            "maria added you to Cooperativa Norte".into(),
            serde_json::Value::Null,
            start_of_test(),
        );
        let mail = |id: &str, notification_id: &str| {
            Change::QueueMail(QueuedMail {
                mail_id: id.into(),
                to: "coop@example.com".into(),
                subject: "Added to a circuit".into(),
                sealed_body: String::new(),
                attempts: 0,
                created_at: start_of_test(),
                notification_id: Some(notification_id.into()),
            })
        };
        store
            .commit(vec![
                Change::Notify(notification),
                mail("m-1", "n-1"),
                mail("m-2", "deleted"),
            ])
            .await
            .unwrap();
        assert_eq!(sender.send_due().await.unwrap(), 2);
        let sent = mailer.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].subject, "Added to a circuit");
        assert!(
            sent[0].body.starts_with("maria added you to Cooperativa Norte\n"),
            "{}",
            sent[0].body
        );
        let statuses: Vec<MailStatus> = store.mails().iter().map(|(_, status)| *status).collect();
        assert_eq!(
            statuses,
            [MailStatus::Sent, MailStatus::Failed],
            "nothing left to send is not retried"
        );
    }
}
