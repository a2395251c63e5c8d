//! What the notification use cases need from the outside world.

use crate::kind::MessageKind;
use crate::template::Template;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Page, PageRequest, StoreError, TenantId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

/// Who an order's messages go to: its ship-to contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub name: String,
    /// None: the order has no e-mail address (the message is skipped).
    pub email: Option<String>,
}

/// Looks up the recipient of an order. `Ok(None)` when the tenant has no such order.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Recipients: Send + Sync {
    async fn of_order(
        &self,
        tenant: TenantId,
        order_id: Uuid,
    ) -> Result<Option<Recipient>, StoreError>;
    /// The account owner: the e-mail the tenant signed up with, named by its company.
    /// `Ok(None)` when there is no such tenant.
    async fn account_owner(&self, tenant: TenantId) -> Result<Option<Recipient>, StoreError>;
    /// The recipients of several orders; an order the tenant does not have is absent. The
    /// default asks one by one; a store answers in one query.
    async fn of_orders(
        &self,
        tenant: TenantId,
        order_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Recipient>, StoreError> {
        let mut found = HashMap::new();
        for &id in order_ids {
            if let Some(r) = self.of_order(tenant, id).await? {
                found.insert(id, r);
            }
        }
        Ok(found)
    }
}

/// The tenant's own templates (overrides of the defaults).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait TemplateStore: Send + Sync {
    async fn find_template(
        &self,
        tenant: TenantId,
        kind: MessageKind,
    ) -> Result<Option<Template>, StoreError>;
    /// Every override the tenant has, in any order.
    async fn overrides(&self, tenant: TenantId) -> Result<Vec<Template>, StoreError>;
    /// Inserts or replaces the tenant's template of `template.kind`.
    async fn save_template(
        &self,
        tenant: TenantId,
        template: &Template,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Removes the override; false if there was none.
    async fn delete_template(
        &self,
        tenant: TenantId,
        kind: MessageKind,
    ) -> Result<bool, StoreError>;
}

/// One message, ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub tenant_id: TenantId,
    /// The event that caused it: adapters use it for a stable Message-ID.
    pub event_id: Uuid,
    pub kind: MessageKind,
    pub to: String,
    pub to_name: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (server unreachable, 4xx reply, disk full).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Will fail again (the address or the message was refused, 5xx reply).
    #[error("refused: {0}")]
    Permanent(String),
}

/// Sends a message to a customer (SMTP, or a file in the embedded default).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), SendError>;
}

#[async_trait]
impl<N: Notifier + ?Sized> Notifier for Arc<N> {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), SendError> {
        (**self).send(message).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    /// Nothing to send to (the order has no e-mail address, or no longer exists).
    Skipped,
    /// Refused for good; `error` says why.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Sent, Self::Skipped, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// What became of one event's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// At most one entry per event.
    pub event_id: Uuid,
    pub kind: MessageKind,
    pub order_id: Option<Uuid>,
    pub recipient: Option<String>,
    pub status: DeliveryStatus,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The record of what was sent. Recording an event twice keeps the first entry.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait NotificationLog: Send + Sync {
    /// Whether this event's message was already dealt with (sent, skipped or failed).
    async fn is_recorded(&self, tenant: TenantId, event_id: Uuid) -> Result<bool, StoreError>;
    async fn record(&self, entry: &LogEntry) -> Result<(), StoreError>;
    /// Which of `event_ids` were already dealt with. The default asks one by one.
    async fn recorded_among(
        &self,
        tenant: TenantId,
        event_ids: &[Uuid],
    ) -> Result<HashSet<Uuid>, StoreError> {
        let mut done = HashSet::new();
        for &id in event_ids {
            if self.is_recorded(tenant, id).await? {
                done.insert(id);
            }
        }
        Ok(done)
    }
    /// Records several entries, all or none. The default records one by one.
    async fn record_many(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        for entry in entries {
            self.record(entry).await?;
        }
        Ok(())
    }
    /// Newest first, keyset-paginated by id; only `order_id`'s when given.
    async fn entries(
        &self,
        tenant: TenantId,
        order_id: Option<Uuid>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<LogEntry, Uuid>, StoreError>;
}
