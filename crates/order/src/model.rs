use crate::events::OrderEvent;
use crate::{Address, OrderError, OrderStatus, Shortage};
use chrono::{DateTime, Utc};
use kernel::{Money, OrderId, Quantity, Sku, TenantId};

/// One line of an order: what was ordered, at what price, and how much of it is reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// 1-based position in the order, stable for the order's life.
    pub line_no: u32,
    pub sku: Sku,
    pub quantity: Quantity,
    pub allocated: Quantity,
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

    pub fn backordered(&self) -> Quantity {
        self.quantity.saturating_sub(self.allocated)
    }
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
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pending_events: Vec<OrderEvent>,
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
            version: 1,
            created_at: now,
            updated_at: now,
            pending_events: Vec::new(),
        }
    }

    /// Rebuilds an order from storage. No events are recorded.
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
            version,
            created_at,
            updated_at,
            pending_events: Vec::new(),
        }
    }

    /// Applies what the stock could give each line (same order as `lines`) and settles the
    /// status: all reserved → `allocated`, none → `backordered`, some → `partially_allocated`.
    /// Without backorders allowed anything short is an error (and the caller rolls back).
    pub fn allocate(
        &mut self,
        reserved: &[Quantity],
        now: DateTime<Utc>,
    ) -> Result<(), OrderError> {
        debug_assert_eq!(reserved.len(), self.lines.len());
        let shortages: Vec<Shortage> = self
            .lines
            .iter()
            .zip(reserved)
            .filter(|(line, got)| **got < line.quantity)
            .map(|(line, got)| Shortage {
                sku: line.sku.clone(),
                requested: line.quantity,
                available: *got,
            })
            .collect();
        if !shortages.is_empty() && !self.allow_backorder {
            return Err(OrderError::InsufficientStock(shortages));
        }
        let next = if shortages.is_empty() {
            OrderStatus::Allocated
        } else if reserved.iter().all(|q| q.is_zero()) {
            OrderStatus::Backordered
        } else {
            OrderStatus::PartiallyAllocated
        };
        self.transition(next, now)?;
        for (line, got) in self.lines.iter_mut().zip(reserved) {
            line.allocated = line.quantity.min(*got);
        }
        if self.version == 1 {
            // Placement: the order is born allocated (or not) in one step.
            self.pending_events.push(OrderEvent::Created);
        }
        Ok(())
    }

    /// Cancels the order and says which reservations must be released.
    pub fn cancel(
        &mut self,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Sku, Quantity)>, OrderError> {
        self.transition(OrderStatus::Cancelled, now)?;
        let released: Vec<(Sku, Quantity)> = self
            .lines
            .iter_mut()
            .filter(|line| !line.allocated.is_zero())
            .map(|line| {
                let quantity = std::mem::take(&mut line.allocated);
                (line.sku.clone(), quantity)
            })
            .collect();
        self.version += 1;
        self.pending_events.push(OrderEvent::Cancelled { reason });
        Ok(released)
    }

    fn transition(&mut self, next: OrderStatus, now: DateTime<Utc>) -> Result<(), OrderError> {
        if !self.status.can_become(next) {
            return Err(OrderError::IllegalTransition {
                from: self.status,
                to: next,
            });
        }
        self.status = next;
        self.updated_at = now;
        Ok(())
    }

    /// Takes the events recorded since the last call, to be written to the outbox.
    pub fn take_events(&mut self) -> Vec<OrderEvent> {
        std::mem::take(&mut self.pending_events)
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

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    #[test]
    fn an_order_fully_reserved_is_allocated_and_announces_itself() {
        let mut o = order(vec![line("A", 2), line("B", 1)]);
        o.allocate(&[q(2), q(1)], now()).unwrap();
        assert_eq!(o.status, OrderStatus::Allocated);
        assert_eq!(o.lines[0].allocated, q(2));
        assert_eq!(o.take_events(), vec![OrderEvent::Created]);
        assert!(o.take_events().is_empty());
    }

    #[test]
    fn an_order_with_nothing_reserved_is_backordered() {
        let mut o = order(vec![line("A", 2)]);
        o.allocate(&[q(0)], now()).unwrap();
        assert_eq!(o.status, OrderStatus::Backordered);
        assert_eq!(o.lines[0].backordered(), q(2));
    }

    #[test]
    fn an_order_with_some_reserved_is_partially_allocated() {
        let mut o = order(vec![line("A", 2), line("B", 3)]);
        o.allocate(&[q(2), q(1)], now()).unwrap();
        assert_eq!(o.status, OrderStatus::PartiallyAllocated);
        assert_eq!(o.lines[1].allocated, q(1));
    }

    #[test]
    fn without_backorders_a_short_order_is_refused_with_every_shortage() {
        let mut o = NewOrder {
            allow_backorder: false,
            ..new_order(vec![line("A", 2), line("B", 3), line("C", 1)])
        }
        .validate(OrderId::new(), TenantId::new(), now())
        .unwrap();
        let err = o.allocate(&[q(1), q(3), q(0)], now()).unwrap_err();
        match err {
            OrderError::InsufficientStock(s) => {
                assert_eq!(s.len(), 2);
                assert_eq!(s[0].sku.as_str(), "A");
                assert_eq!(s[0].available, q(1));
                assert_eq!(s[1].sku.as_str(), "C");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(o.status, OrderStatus::Pending);
    }

    #[test]
    fn cancelling_releases_every_reservation_once() {
        let mut o = order(vec![line("A", 2), line("B", 3)]);
        o.allocate(&[q(2), q(1)], now()).unwrap();
        o.take_events();
        let released = o.cancel(Some("customer asked".into()), now()).unwrap();
        assert_eq!(
            released,
            vec![
                (Sku::parse("A").unwrap(), q(2)),
                (Sku::parse("B").unwrap(), q(1))
            ]
        );
        assert_eq!(o.status, OrderStatus::Cancelled);
        assert_eq!(o.version, 2);
        assert!(o.lines.iter().all(|l| l.allocated.is_zero()));
        assert_eq!(
            o.take_events(),
            vec![OrderEvent::Cancelled {
                reason: Some("customer asked".into())
            }]
        );
    }

    #[test]
    fn a_cancelled_order_cannot_be_cancelled_again() {
        let mut o = order(vec![line("A", 1)]);
        o.allocate(&[q(1)], now()).unwrap();
        o.cancel(None, now()).unwrap();
        let err = o.cancel(None, now()).unwrap_err();
        assert!(matches!(
            err,
            OrderError::IllegalTransition {
                from: OrderStatus::Cancelled,
                to: OrderStatus::Cancelled
            }
        ));
    }
}
