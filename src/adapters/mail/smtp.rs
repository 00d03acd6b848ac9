//! Mail through an SMTP server (lettre): `SMTP_URL` names the server, its TLS and credentials.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::identity::ports::{MailMessage, Mailer};
use crate::domain::{Error, Result};

/// One SMTP conversation's limit; the mail outbox retries what runs over.
const TIMEOUT: Duration = Duration::from_secs(15);

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
            .timeout(Some(TIMEOUT))
            .build();
        let from = from.parse().map_err(|e| anyhow::anyhow!("SMTP_FROM: {e}"))?;
        Ok(Self { transport, from })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: MailMessage) -> Result<()> {
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|e| Error::invalid("validation_error", format!("the address {:?}: {e}", message.to)))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(message.body)
            .map_err(|e| Error::internal(format!("building a message: {e}")))?;
        self.transport
            .send(email)
            .await
            .map_err(|e| Error::unavailable("service_unavailable", format!("SMTP: {e}"), 30))?;
        Ok(())
    }
}
