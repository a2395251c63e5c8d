//! The use cases: tell the customer about an event; manage the tenant's templates; read the log.

use crate::kind::MessageKind;
use crate::ports::{
    DeliveryStatus, LogEntry, NotificationLog, Notifier, OutgoingMessage, Recipient, Recipients,
    SendError, TemplateStore,
};
use crate::template::Template;
use crate::trigger::{MalformedEvent, Trigger, trigger_for};
use kernel::{Clock, EventEnvelope, Page, PageRequest, StoreError, TenantId, ValidationErrors};
use std::collections::HashMap;
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
        let recipient = match trigger.order_id {
            Some(order) => self.recipients.of_order(tenant, order).await?,
            None => self.recipients.account_owner(tenant).await?,
        };
        let entry = self
            .deliver(tenant, event_id, &trigger, recipient, &mut HashMap::new())
            .await?;
        self.log.record(&entry).await?;
        Ok(Outcome::Recorded(entry.status))
    }

    /// [`notify_for_event`](Self::notify_for_event) for several events of one tenant, with
    /// the look-ups shared: one read of which events are already logged, one of the orders'
    /// recipients, each template once, and one write of every entry. Messages still go one
    /// at a time. If one fails for now, what was sent before it is recorded first (so no
    /// customer gets a message twice) and [`NotificationError::Retry`] is returned; a
    /// malformed event fails the batch before anything is sent. Returns the entries recorded.
    pub async fn notify_batch(
        &self,
        tenant: TenantId,
        events: &[&EventEnvelope],
    ) -> Result<usize, NotificationError> {
        let mut triggered = Vec::new();
        for event in events {
            if let Some(trigger) = trigger_for(event)? {
                triggered.push((event.id.into_uuid(), trigger));
            }
        }
        if triggered.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = triggered.iter().map(|(id, _)| *id).collect();
        let done = self.log.recorded_among(tenant, &ids).await?;
        triggered.retain(|(id, _)| !done.contains(id));
        if triggered.is_empty() {
            return Ok(0);
        }
        let orders: Vec<Uuid> = triggered.iter().filter_map(|(_, t)| t.order_id).collect();
        let mut recipients = self.recipients.of_orders(tenant, &orders).await?;
        let mut templates = HashMap::new();
        let mut entries = Vec::with_capacity(triggered.len());
        for (event_id, trigger) in &triggered {
            let recipient = match trigger.order_id {
                Some(order) => recipients.remove(&order),
                None => self.recipients.account_owner(tenant).await?,
            };
            match self
                .deliver(tenant, *event_id, trigger, recipient, &mut templates)
                .await
            {
                Ok(entry) => entries.push(entry),
                Err(e) => {
                    self.log.record_many(&entries).await?;
                    return Err(e);
                }
            }
        }
        self.log.record_many(&entries).await?;
        Ok(entries.len())
    }

    /// Decides, renders and sends one event's message; the entry to record. `templates`
    /// remembers each kind's template for the rest of a batch.
    async fn deliver(
        &self,
        tenant: TenantId,
        event_id: Uuid,
        trigger: &Trigger,
        recipient: Option<Recipient>,
        templates: &mut HashMap<MessageKind, Template>,
    ) -> Result<LogEntry, NotificationError> {
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
        let (name, email) = match recipient {
            Some(Recipient {
                name,
                email: Some(email),
            }) => (name, email),
            Some(_) => {
                let why = "no e-mail address".into();
                return Ok(entry(DeliveryStatus::Skipped, None, Some(why)));
            }
            None => {
                let why = if trigger.order_id.is_some() {
                    "order not found"
                } else {
                    "tenant not found"
                };
                return Ok(entry(DeliveryStatus::Skipped, None, Some(why.into())));
            }
        };
        let template = match templates.get(&trigger.kind) {
            Some(t) => t.clone(),
            None => {
                let t = self
                    .templates
                    .find_template(tenant, trigger.kind)
                    .await?
                    .unwrap_or_else(|| Template::default_for(trigger.kind));
                templates.insert(trigger.kind, t.clone());
                t
            }
        };
        let mut variables = trigger.variables.clone();
        variables["customer_name"] = serde_json::json!(name);
        let rendered = match template.render(&variables) {
            Ok(r) => r,
            Err(e) => {
                return Ok(entry(
                    DeliveryStatus::Failed,
                    Some(email),
                    Some(e.to_string()),
                ));
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
            Ok(()) => Ok(entry(DeliveryStatus::Sent, Some(email), None)),
            Err(SendError::Permanent(why)) => Ok(entry(
                DeliveryStatus::Failed,
                Some(email),
                Some(truncate(&why)),
            )),
            Err(SendError::Transient(why)) => Err(NotificationError::Retry(why)),
        }
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
