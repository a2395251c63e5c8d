use crate::MailConfigError;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MessageBuilder};
use notification::{OutgoingMessage, SendError};

pub(crate) fn parse_from(from: &str) -> Result<Mailbox, MailConfigError> {
    from.trim()
        .parse()
        .map_err(|e: lettre::address::AddressError| {
            MailConfigError::From(from.to_owned(), e.to_string())
        })
}

/// The RFC 5322 message for `m`: plain text, a Message-ID derived from the event (so a resent
/// message is recognisably the same one), and the tenant in a header for support.
pub fn to_email(from: &Mailbox, m: &OutgoingMessage) -> Result<Message, SendError> {
    let to_address =
        m.to.parse()
            .map_err(|e| SendError::Permanent(format!("bad recipient address {:?}: {e}", m.to)))?;
    let name = Some(m.to_name.clone()).filter(|n| !n.trim().is_empty());
    let domain = from.email.domain().to_owned();
    MessageBuilder::new()
        .from(from.clone())
        .to(Mailbox::new(name, to_address))
        .subject(m.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", m.event_id)))
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}
