use crate::MailConfigError;
use crate::message::{parse_from, to_email};
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use notification::{Notifier, OutgoingMessage, SendError};
use std::time::Duration;

/// Sends through an SMTP server (`TOTE_SMTP_URL`), reusing pooled connections.
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpNotifier {
    /// `url` in lettre's form: `smtp://[user:pass@]host[:port][?tls=required|opportunistic]`,
    /// or `smtps://…` for TLS from the first byte.
    pub fn new(url: &str, from: &str) -> Result<Self, MailConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailConfigError::SmtpUrl(e.to_string()))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Self {
            transport,
            from: parse_from(from)?,
        })
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), SendError> {
        let email = to_email(&self.from, message)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            // 5xx: the server refused this message or recipient for good.
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
