use crate::events::OrderEvent;
use crate::{Address, Cutoff, OrderError, OrderStatus, ServiceLevel, Shortage};
use chrono::{DateTime, Utc};
use kernel::{Money, OrderId, Quantity, Sku, TenantId};

/// One line of an order: what was ordered, at what price, and how far it has got.
/// `allocated` counts every unit ever reserved for the line, shipped ones included, so
/// `quantity ≥ allocated ≥ picked ≥ shipped ≥ returned` in a steady state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// 1-based position in the order, stable for the order's life.
    pub line_no: u32,
    pub sku: Sku,
    pub quantity: Quantity,
    pub allocated: Quantity,
    pub picked: Quantity,
    pub shipped: Quantity,
    pub returned: Quantity,
    pub unit_price: Money,
}

impl OrderLine {
    pub fn total(&self) -> Money {
        // Bounded at validation: quantity ≤ 1e9 and the order total was checked for overflow.
        Money::new(
            self.unit_price
                .amount_minor
                .saturating_mul(self.quantity.as_i64()),
            self.unit_price.currency,
        )
    }

    /// Units still waiting for stock.
    pub fn backordered(&self) -> Quantity {
        self.quantity.saturating_sub(self.allocated)
    }

    /// Units reserved in a warehouse and not yet shipped.
    pub fn reserved(&self) -> Quantity {
        self.allocated.saturating_sub(self.shipped)
    }

    /// A line as first ordered: nothing reserved, picked, shipped or returned.
    pub fn new(line_no: u32, sku: Sku, quantity: Quantity, unit_price: Money) -> Self {
        Self {
            line_no,
            sku,
            quantity,
            allocated: Quantity::ZERO,
            picked: Quantity::ZERO,
            shipped: Quantity::ZERO,
            returned: Quantity::ZERO,
            unit_price,
        }
    }
}

/// Why an order is on hold, and the status it goes back to when released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub reason: String,
    pub resume: OrderStatus,
}

/// One entry of an order's status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// `None` when the order was created.
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// The order aggregate. Changes go through its methods, which check the status machine and
/// record the events that the use case then writes to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub tenant_id: TenantId,
    /// Where the order came from (`api`, `shopify`, ...).
    pub channel: String,
    /// The channel's own id for it; `(tenant, channel, external_id)` is unique.
    pub external_id: Option<String>,
    pub status: OrderStatus,
    pub allow_backorder: bool,
    pub ship_to: Address,
    pub lines: Vec<OrderLine>,
    /// Sum of the lines, computed, never sent by the caller.
    pub total: Money,
    pub service_level: ServiceLevel,
    /// The cut-off of the warehouse the order was routed to, which sets `ship_by`.
    pub cutoff: Cutoff,
    /// When it must leave; the warehouse queue and backorder filling go by it.
    pub ship_by: DateTime<Utc>,
    pub hold: Option<Hold>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub(crate) pending_events: Vec<OrderEvent>,
    pub(crate) status_changes: Vec<StatusChange>,
}

impl Order {
    /// A new order as validated by [`crate::NewOrder::validate`]: `pending`, nothing reserved.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: OrderId,
        tenant_id: TenantId,
        channel: String,
        external_id: Option<String>,
        allow_backorder: bool,
        ship_to: Address,
        lines: Vec<OrderLine>,
        total: Money,
        service_level: ServiceLevel,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            tenant_id,
            channel,
            external_id,
            status: OrderStatus::Pending,
            allow_backorder,
            ship_to,
            lines,
            total,
            service_level,
            cutoff: Cutoff::DEFAULT,
            ship_by: service_level.ship_by(now, Cutoff::DEFAULT),
            hold: None,
            version: 1,
            created_at: now,
            updated_at: now,
            pending_events: Vec::new(),
            status_changes: Vec::new(),
        }
    }

    /// Rebuilds an order from storage. No events are recorded. Fulfilment fields
    /// (`service_level`, `cutoff`, `ship_by`, `hold`) start at their defaults; the adapter sets
    /// what it stored.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: OrderId,
        tenant_id: TenantId,
        channel: String,
        external_id: Option<String>,
        status: OrderStatus,
        allow_backorder: bool,
        ship_to: Address,
        lines: Vec<OrderLine>,
        total: Money,
        version: i64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            tenant_id,
            channel,
            external_id,
            status,
            allow_backorder,
            ship_to,
            lines,
            total,
            service_level: ServiceLevel::Standard,
            cutoff: Cutoff::DEFAULT,
            ship_by: created_at,
            hold: None,
            version,
            created_at,
            updated_at,
            pending_events: Vec::new(),
            status_changes: Vec::new(),
        }
    }

    /// Takes the events recorded since the last call, to be written to the outbox.
    pub fn take_events(&mut self) -> Vec<OrderEvent> {
        std::mem::take(&mut self.pending_events)
    }

    /// Takes the status changes recorded since the last call, for the status history.
    pub fn take_status_changes(&mut self) -> Vec<StatusChange> {
        std::mem::take(&mut self.status_changes)
    }

    /// Units per line still reserved in stock (allocated, not shipped).
    pub fn reserved_units(&self) -> i64 {
        self.lines.iter().map(|l| l.reserved().as_i64()).sum()
    }

    /// What each line still waits for, for a backorder fill: `(line_no, sku, missing)`.
    pub fn backorders(&self) -> Vec<(u32, Sku, Quantity)> {
        self.lines
            .iter()
            .filter(|l| !l.backordered().is_zero())
            .map(|l| (l.line_no, l.sku.clone(), l.backordered()))
            .collect()
    }

    pub(crate) fn shortages(&self, got: &[Quantity]) -> Vec<Shortage> {
        self.lines
            .iter()
            .zip(got)
            .filter(|(line, got)| line.allocated.as_i64() + got.as_i64() < line.quantity.as_i64())
            .map(|(line, got)| Shortage {
                sku: line.sku.clone(),
                requested: line.quantity,
                available: *got,
            })
            .collect()
    }

    /// Moves to `next`, if the table allows it, and writes the history entry.
    pub(crate) fn transition(
        &mut self,
        next: OrderStatus,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), OrderError> {
        if !self.status.can_become(next) {
            return Err(OrderError::IllegalTransition {
                from: self.status,
                to: next,
            });
        }
        self.status_changes.push(StatusChange {
            from: Some(self.status),
            to: next,
            reason,
            at: now,
        });
        self.status = next;
        self.updated_at = now;
        Ok(())
    }

    /// The status the lines' allocations call for.
    pub(crate) fn allocation_status(&self) -> OrderStatus {
        if self.lines.iter().all(|l| l.allocated == l.quantity) {
            OrderStatus::Allocated
        } else if self.lines.iter().all(|l| l.allocated.is_zero()) {
            OrderStatus::Backordered
        } else {
            OrderStatus::PartiallyAllocated
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{NewOrder, NewOrderLine};
    use chrono::TimeZone;

    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap()
    }

    pub fn line(sku: &str, quantity: i64) -> NewOrderLine {
        NewOrderLine {
            sku: sku.into(),
            quantity,
            unit_price_minor: 1_250,
            currency: "USD".into(),
        }
    }

    pub fn new_order(lines: Vec<NewOrderLine>) -> NewOrder {
        NewOrder {
            hold_id: None,
            service_level: crate::ServiceLevel::Standard,
            channel: None,
            external_id: None,
            allow_backorder: true,
            ship_to: Address {
                name: "Ada Lovelace".into(),
                line1: "1 Main St".into(),
                city: "London".into(),
                country: "GB".into(),
                ..Default::default()
            },
            lines,
        }
    }

    pub fn order(lines: Vec<NewOrderLine>) -> Order {
        new_order(lines)
            .validate(OrderId::new(), TenantId::new(), now())
            .unwrap()
    }
}
