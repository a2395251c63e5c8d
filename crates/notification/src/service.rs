//! The use cases: tell the customer about an event; manage the tenant's templates; read the log.

use crate::kind::MessageKind;
use crate::ports::{
    DeliveryStatus, LogEntry, NotificationLog, Notifier, OutgoingMessage, Recipients, SendError,
    TemplateStore,
};
use crate::template::Template;
use crate::trigger::{MalformedEvent, trigger_for};
use kernel::{Clock, EventEnvelope, Page, PageRequest, StoreError, TenantId, ValidationErrors};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("the template is not valid")]
    Invalid(ValidationErrors),
    /// The event can never be turned into a message.
    #[error(transparent)]
    Malformed(#[from] MalformedEvent),
    /// Sending failed for now: try the event again later.
    #[error("sending failed, to be retried: {0}")]
    Retry(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `notify_for_event` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The event tells no customer anything.
    NotApplicable,
    /// Dealt with before (a redelivery).
    AlreadyDone,
    Recorded(DeliveryStatus),
}

/// A template as the tenant sees it: theirs, or the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateView {
    pub template: Template,
    pub customised: bool,
}

pub struct NotificationService<T, R, N, L, C> {
    templates: T,
    recipients: R,
    notifier: N,
    log: L,
    clock: C,
}

impl<T, R, N, L, C> NotificationService<T, R, N, L, C>
where
    T: TemplateStore,
    R: Recipients,
    N: Notifier,
    L: NotificationLog,
    C: Clock,
{
    pub fn new(templates: T, recipients: R, notifier: N, log: L, clock: C) -> Self {
        Self {
            templates,
            recipients,
            notifier,
            log,
            clock,
        }
    }

    /// Sends the message `event` asks for, once: to the order's e-mail address, with the
    /// tenant's template (or the default), and records the outcome. An order without an e-mail
    /// is recorded as skipped; a refused message as failed. A temporary failure records
    /// nothing and returns [`NotificationError::Retry`], so the event is delivered again.
    pub async fn notify_for_event(
        &self,
        event: &EventEnvelope,
    ) -> Result<Outcome, NotificationError> {
        let Some(trigger) = trigger_for(event)? else {
            return Ok(Outcome::NotApplicable);
        };
        let tenant = event.tenant_id;
        let event_id = event.id.into_uuid();
        if self.log.is_recorded(tenant, event_id).await? {
            return Ok(Outcome::AlreadyDone);
        }
        let entry = |status, recipient: Option<String>, error: Option<String>| LogEntry {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            event_id,
            kind: trigger.kind,
            order_id: trigger.order_id,
            recipient,
            status,
            error,
            created_at: self.clock.now(),
        };
        let recipient = match trigger.order_id {
            Some(order) => self.recipients.of_order(tenant, order).await?,
            None => self.recipients.account_owner(tenant).await?,
        };
        let (name, email) = match recipient {
            Some(r) => match r.email {
                Some(email) => (r.name, email),
                None => {
                    let e = entry(
                        DeliveryStatus::Skipped,
                        None,
                        Some("no e-mail address".into()),
                    );
                    return self.record(e).await;
                }
            },
            None => {
                let e = entry(
                    DeliveryStatus::Skipped,
                    None,
                    Some(
                        if trigger.order_id.is_some() {
                            "order not found"
                        } else {
                            "tenant not found"
                        }
                        .into(),
                    ),
                );
                return self.record(e).await;
            }
        };
        let template = self
            .templates
            .find_template(tenant, trigger.kind)
            .await?
            .unwrap_or_else(|| Template::default_for(trigger.kind));
        let mut variables = trigger.variables.clone();
        variables["customer_name"] = serde_json::json!(name);
        let rendered = match template.render(&variables) {
            Ok(r) => r,
            Err(e) => {
                let e = entry(DeliveryStatus::Failed, Some(email), Some(e.to_string()));
                return self.record(e).await;
            }
        };
        let message = OutgoingMessage {
            tenant_id: tenant,
            event_id,
            kind: trigger.kind,
            to: email.clone(),
            to_name: name,
            subject: rendered.subject,
            body: rendered.body,
        };
        match self.notifier.send(&message).await {
            Ok(()) => {
                self.record(entry(DeliveryStatus::Sent, Some(email), None))
                    .await
            }
            Err(SendError::Permanent(why)) => {
                let e = entry(DeliveryStatus::Failed, Some(email), Some(truncate(&why)));
                self.record(e).await
            }
            Err(SendError::Transient(why)) => Err(NotificationError::Retry(why)),
        }
    }

    async fn record(&self, entry: LogEntry) -> Result<Outcome, NotificationError> {
        self.log.record(&entry).await?;
        Ok(Outcome::Recorded(entry.status))
    }

    /// Every kind, with the tenant's template where it has one, else the default.
    pub async fn templates(&self, tenant: TenantId) -> Result<Vec<TemplateView>, StoreError> {
        let mut own = self.templates.overrides(tenant).await?;
        Ok(MessageKind::ALL
            .into_iter()
            .map(|kind| match own.iter().position(|t| t.kind == kind) {
                Some(i) => TemplateView {
                    template: own.swap_remove(i),
                    customised: true,
                },
                None => TemplateView {
                    template: Template::default_for(kind),
                    customised: false,
                },
            })
            .collect())
    }

    /// Validates and saves the tenant's template of `kind`.
    pub async fn save_template(
        &self,
        tenant: TenantId,
        kind: &str,
        subject: &str,
        body: &str,
    ) -> Result<TemplateView, NotificationError> {
        let kind = parse_kind(kind)?;
        let template = Template::parse(kind, subject, body).map_err(NotificationError::Invalid)?;
        self.templates
            .save_template(tenant, &template, self.clock.now())
            .await?;
        Ok(TemplateView {
            template,
            customised: true,
        })
    }

    /// Drops the tenant's template of `kind`: the default applies again.
    pub async fn reset_template(
        &self,
        tenant: TenantId,
        kind: &str,
    ) -> Result<TemplateView, NotificationError> {
        let kind = parse_kind(kind)?;
        self.templates.delete_template(tenant, kind).await?;
        Ok(TemplateView {
            template: Template::default_for(kind),
            customised: false,
        })
    }

    pub async fn log(
        &self,
        tenant: TenantId,
        order_id: Option<Uuid>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<LogEntry, Uuid>, StoreError> {
        self.log.entries(tenant, order_id, page).await
    }
}

fn parse_kind(raw: &str) -> Result<MessageKind, NotificationError> {
    MessageKind::parse(raw)
        .map_err(|e| NotificationError::Invalid(ValidationErrors::single("kind", e)))
}

fn truncate(s: &str) -> String {
    s.chars().take(500).collect()
}

#[cfg(test)]
mod tests;
