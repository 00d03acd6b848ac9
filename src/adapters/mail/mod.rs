//! Outgoing mail: SMTP when `SMTP_URL` is set, otherwise the log mailer (the development
//! default; `serve` warns when it is active).

mod smtp;

pub use smtp::SmtpMailer;

use crate::domain::Result;
use crate::domain::identity::ports::{MailMessage, Mailer};

/// Writes each message to the `defarm::mailer` log target. Reset tokens appear there, so this
/// is for development only.
pub struct LogMailer;

#[async_trait::async_trait]
impl Mailer for LogMailer {
    async fn send(&self, message: MailMessage) -> Result<()> {
        tracing::info!(target: "defarm::mailer", to = %message.to, subject = %message.subject, body = %message.body, "mail");
        Ok(())
    }
}
