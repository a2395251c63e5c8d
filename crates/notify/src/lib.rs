//! Notification adapters: implement `notification::Notifier` with real I/O.
//!
//! [`SmtpNotifier`] sends through an SMTP server (lettre, async on tokio, rustls with ring);
//! [`FileNotifier`] writes each message as an RFC 5322 `.eml` file, the embedded default when no
//! SMTP server is configured. [`build`] picks one from a [`MailConfig`]. Holds no business
//! rule: what to send, to whom and when is decided by the `notification` crate.

mod file;
mod message;
mod smtp;

pub use file::FileNotifier;
pub use message::to_email;
pub use smtp::SmtpNotifier;

use notification::Notifier;
use std::path::PathBuf;
use std::sync::Arc;

/// Where messages go: an SMTP server when `smtp_url` is set, else files in `mail_dir`.
#[derive(Clone)]
pub struct MailConfig {
    /// lettre's URL form, e.g. `smtp://user:pass@host:587?tls=required` or `smtps://host`.
    pub smtp_url: Option<String>,
    /// The From address, e.g. `Acme Shop <orders@acme.example>`.
    pub from: String,
    /// Folder of the file notifier.
    pub mail_dir: PathBuf,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("mail_dir", &self.mail_dir)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("TOTE_MAIL_FROM {0:?} is not an e-mail address: {1}")]
    From(String, String),
    #[error("TOTE_SMTP_URL is not a valid SMTP URL: {0}")]
    SmtpUrl(String),
}

/// The notifier `config` asks for.
pub fn build(config: &MailConfig) -> Result<Arc<dyn Notifier>, MailConfigError> {
    Ok(match &config.smtp_url {
        Some(url) => Arc::new(SmtpNotifier::new(url, &config.from)?),
        None => Arc::new(FileNotifier::new(config.mail_dir.clone(), &config.from)?),
    })
}

/// A short, password-free description of where mail goes, for the start-up log line.
pub fn describe(config: &MailConfig) -> String {
    match &config.smtp_url {
        Some(url) => {
            let (scheme, rest) = url.split_once("://").unwrap_or(("smtp", url));
            let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
            format!("{scheme}://{}", host.split('?').next().unwrap_or(host))
        }
        None => format!("files in {}", config.mail_dir.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_of_an_smtp_url_hides_its_password() {
        let config = MailConfig {
            smtp_url: Some("smtp://user:hunter2@mail.example:587?tls=required".into()),
            from: "a@b.example".into(),
            mail_dir: "data/mail".into(),
        };
        assert_eq!(describe(&config), "smtp://mail.example:587");
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn a_bad_from_address_or_smtp_url_is_refused_at_start() {
        let mut config = MailConfig {
            smtp_url: None,
            from: "not an address".into(),
            mail_dir: "data/mail".into(),
        };
        assert!(matches!(build(&config), Err(MailConfigError::From(..))));
        config.from = "Shop <shop@example.com>".into();
        config.smtp_url = Some("http://mail.example".into());
        assert!(matches!(build(&config), Err(MailConfigError::SmtpUrl(_))));
    }
}
