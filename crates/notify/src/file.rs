use crate::MailConfigError;
use crate::message::{parse_from, to_email};
use async_trait::async_trait;
use lettre::message::Mailbox;
use notification::{Notifier, OutgoingMessage, SendError};
use std::path::PathBuf;

/// The embedded default: writes each message as `<time>-<event id>.eml` (RFC 5322, openable by
/// any mail client) into a folder, and logs one line. Nothing leaves the machine.
pub struct FileNotifier {
    dir: PathBuf,
    from: Mailbox,
}

impl FileNotifier {
    pub fn new(dir: PathBuf, from: &str) -> Result<Self, MailConfigError> {
        Ok(Self {
            dir,
            from: parse_from(from)?,
        })
    }
}

#[async_trait]
impl Notifier for FileNotifier {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), SendError> {
        let bytes = to_email(&self.from, message)?.formatted();
        let io = |e: std::io::Error| SendError::Transient(format!("{}: {e}", self.dir.display()));
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            message.event_id
        );
        // Written aside, then renamed: a reader never sees half a message.
        let partial = self.dir.join(format!(".{name}.part"));
        tokio::fs::write(&partial, &bytes).await.map_err(io)?;
        let path = self.dir.join(&name);
        tokio::fs::rename(&partial, &path).await.map_err(io)?;
        tracing::info!(
            tenant = %message.tenant_id,
            kind = %message.kind,
            to = %message.to,
            file = %path.display(),
            "notification written to file (no TOTE_SMTP_URL)"
        );
        Ok(())
    }
}
