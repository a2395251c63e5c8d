//! Everything that moves an order along: allocation, backorder fills, edits, hold and release,
//! picking, packing, shipments, delivery and cancellation. Each method checks its rule against
//! the status table, records a status-history entry and an event, and bumps the version.

use crate::draft::validate_lines;
use crate::events::OrderEvent;
use crate::shipment::{NewShipment, Shipment, ShipmentLine};
use crate::{Address, Cutoff, Hold, NewOrderLine, Order, OrderError, OrderStatus, ServiceLevel};
use chrono::{DateTime, Utc};
use kernel::{Quantity, ShipmentId, Sku, ValidationErrors};

/// What a seller may change before picking starts. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrderChanges {
    pub ship_to: Option<Address>,
    pub service_level: Option<ServiceLevel>,
    /// Replaces every line; the order's stock is then planned again.
    pub lines: Option<Vec<NewOrderLine>>,
}

const MAX_REASON: usize = 500;

impl Order {
    /// Placement: applies what stock could give each line (same order as `lines`), routes the
    /// order to `cutoff`, and settles the status: all reserved → `allocated`, none →
    /// `backordered`, some → `partially_allocated`. Without backorders allowed anything short
    /// is an error (and the caller rolls back).
    pub fn allocate(
        &mut self,
        got: &[Quantity],
        cutoff: Cutoff,
        now: DateTime<Utc>,
    ) -> Result<(), OrderError> {
        debug_assert_eq!(got.len(), self.lines.len());
        let shortages = self.shortages(got);
        if !shortages.is_empty() && !self.allow_backorder {
            return Err(OrderError::InsufficientStock(shortages));
        }
        for (line, got) in self.lines.iter_mut().zip(got) {
            line.allocated = line.quantity.min(*got);
        }
        self.route(cutoff);
        self.transition(self.allocation_status(), None, now)?;
        self.pending_events.push(OrderEvent::Created);
        Ok(())
    }

    /// Stock arrived for a backordered line: adds what it got (same order as `backorders()`
    /// lines, missing ones count as zero). Returns whether anything was added.
    pub fn fill_backorder(
        &mut self,
        got: &[(u32, Quantity)],
        now: DateTime<Utc>,
    ) -> Result<bool, OrderError> {
        if self.status.is_final() || self.status == OrderStatus::Pending {
            return Err(OrderError::IllegalTransition {
                from: self.status,
                to: OrderStatus::Allocated,
            });
        }
        let mut added = false;
        for (line_no, quantity) in got {
            if let Some(line) = self.lines.iter_mut().find(|l| l.line_no == *line_no) {
                let take = (*quantity).min(line.backordered());
                if !take.is_zero() {
                    line.allocated = line.allocated.saturating_add(take);
                    added = true;
                }
            }
        }
        if !added {
            return Ok(false);
        }
        self.settle_allocation(Some("stock arrived".into()), now)?;
        self.bump(now, OrderEvent::Allocated);
        Ok(true)
    }

    /// Applies `changes` if the order is still editable. Returns `true` when the lines changed:
    /// the caller must then release the order's stock, reserve again and call [`Order::replan`].
    pub fn edit(&mut self, changes: OrderChanges, now: DateTime<Utc>) -> Result<bool, OrderError> {
        if !self.status.is_editable() {
            return Err(OrderError::NotEditable(self.status));
        }
        let mut errors = ValidationErrors::new();
        if changes.ship_to.is_none() && changes.service_level.is_none() && changes.lines.is_none() {
            errors.add("", "name at least one of ship_to, service_level or lines");
            return Err(errors.into());
        }
        let ship_to = changes.ship_to.map(|a| a.normalise("ship_to", &mut errors));
        let lines = changes
            .lines
            .map(|raw| validate_lines(raw, Some(self.total.currency), &mut errors));
        errors.into_result()?;
        let mut changed = Vec::new();
        if let Some(ship_to) = ship_to {
            self.ship_to = ship_to;
            changed.push("ship_to");
        }
        if let Some(level) = changes.service_level {
            self.service_level = level;
            self.ship_by = level.ship_by(self.created_at, self.cutoff);
            changed.push("service_level");
        }
        let replan = match lines {
            Some(Some((lines, total))) => {
                self.lines = lines;
                self.total = total;
                changed.push("lines");
                true
            }
            _ => false,
        };
        self.bump(
            now,
            OrderEvent::Updated {
                changed: changed.into_iter().map(str::to_owned).collect(),
            },
        );
        Ok(replan)
    }

    /// After an edit replaced the lines: applies the new reservations and settles the status.
    pub fn replan(
        &mut self,
        got: &[Quantity],
        cutoff: Cutoff,
        now: DateTime<Utc>,
    ) -> Result<(), OrderError> {
        let shortages = self.shortages(got);
        if !shortages.is_empty() && !self.allow_backorder {
            return Err(OrderError::InsufficientStock(shortages));
        }
        for (line, got) in self.lines.iter_mut().zip(got) {
            line.allocated = line.quantity.min(*got);
        }
        self.route(cutoff);
        self.settle_allocation(Some("lines edited".into()), now)
    }

    /// Puts the order on hold: it keeps its stock but goes no further until released.
    pub fn hold(&mut self, reason: String, now: DateTime<Utc>) -> Result<(), OrderError> {
        let reason = reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(ValidationErrors::single(
                "reason",
                format!("a hold needs a reason of 1 to {MAX_REASON} characters"),
            )
            .into());
        }
        let resume = self.status;
        if resume == OrderStatus::OnHold || !resume.is_editable() {
            return Err(OrderError::IllegalTransition {
                from: resume,
                to: OrderStatus::OnHold,
            });
        }
        self.transition(OrderStatus::OnHold, Some(reason.clone()), now)?;
        self.hold = Some(Hold { reason, resume });
        self.bump(now, OrderEvent::Held);
        Ok(())
    }

    /// Takes the order off hold, back to where it was (or where stock moved it meanwhile).
    pub fn release(&mut self, note: Option<String>, now: DateTime<Utc>) -> Result<(), OrderError> {
        let Some(hold) = self
            .hold
            .clone()
            .filter(|_| self.status == OrderStatus::OnHold)
        else {
            return Err(OrderError::IllegalTransition {
                from: self.status,
                to: OrderStatus::Allocated,
            });
        };
        self.transition(hold.resume, note, now)?;
        self.hold = None;
        self.bump(now, OrderEvent::Released);
        Ok(())
    }

    /// The warehouse starts picking what is reserved.
    pub fn start_picking(&mut self, now: DateTime<Utc>) -> Result<(), OrderError> {
        let from = self.status;
        let ready = matches!(
            from,
            OrderStatus::Allocated
                | OrderStatus::PartiallyAllocated
                | OrderStatus::PartiallyShipped
        );
        if !ready || self.reserved_units() == 0 {
            return Err(OrderError::IllegalTransition {
                from,
                to: OrderStatus::Picking,
            });
        }
        self.transition(OrderStatus::Picking, None, now)?;
        self.bump(now, OrderEvent::PickingStarted);
        Ok(())
    }

    /// The picker found `units` of line `line_no` missing: they stop being reserved for the
    /// line, which waits for them again (backordered) until a fill re-allocates them. Allowed
    /// while the order is being picked (or is still allocated); at most what the line holds.
    pub fn short_pick(
        &mut self,
        line_no: u32,
        units: Quantity,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<(), OrderError> {
        let from = self.status;
        if !matches!(
            from,
            OrderStatus::Picking
                | OrderStatus::Allocated
                | OrderStatus::PartiallyAllocated
                | OrderStatus::PartiallyShipped
        ) {
            return Err(OrderError::IllegalTransition {
                from,
                to: OrderStatus::PartiallyAllocated,
            });
        }
        let Some(line) = self.lines.iter_mut().find(|l| l.line_no == line_no) else {
            return Err(ValidationErrors::single("line_no", "the order has no such line").into());
        };
        if units.is_zero() || units > line.reserved() {
            return Err(ValidationErrors::single(
                "units",
                format!(
                    "between 1 and the {} units reserved for the line",
                    line.reserved()
                ),
            )
            .into());
        }
        line.allocated = line.allocated.saturating_sub(units);
        self.settle_allocation(Some("short pick".into()), now)?;
        self.bump(
            now,
            OrderEvent::ShortPicked {
                line_no,
                units,
                reason,
            },
        );
        Ok(())
    }

    /// Everything reserved has been picked and packed.
    pub fn pack(&mut self, now: DateTime<Utc>) -> Result<(), OrderError> {
        self.transition(OrderStatus::Packed, None, now)?;
        for line in &mut self.lines {
            line.picked = line.allocated;
        }
        self.bump(now, OrderEvent::Packed);
        Ok(())
    }

    /// Records a parcel leaving with some reserved units. The caller consumes those units from
    /// stock. All of every line shipped → `shipped`, else `partially_shipped`.
    pub fn ship(
        &mut self,
        shipment: NewShipment,
        now: DateTime<Utc>,
    ) -> Result<Shipment, OrderError> {
        let from = self.status;
        if !matches!(
            from,
            OrderStatus::Allocated
                | OrderStatus::PartiallyAllocated
                | OrderStatus::Picking
                | OrderStatus::Packed
                | OrderStatus::PartiallyShipped
        ) {
            return Err(OrderError::IllegalTransition {
                from,
                to: OrderStatus::Shipped,
            });
        }
        let mut errors = ValidationErrors::new();
        shipment.check_fields(&mut errors);
        let mut lines = Vec::with_capacity(shipment.lines.len());
        for (i, (line_no, quantity)) in shipment.lines.iter().enumerate() {
            let Some(line) = self.lines.iter().find(|l| l.line_no == *line_no) else {
                errors.add(format!("lines[{i}].line_no"), "the order has no such line");
                continue;
            };
            if *quantity > line.reserved().as_i64() {
                errors.add(
                    format!("lines[{i}].quantity"),
                    format!(
                        "line {line_no} has {} reserved unshipped units",
                        line.reserved()
                    ),
                );
            } else if let Ok(quantity) = Quantity::new(*quantity) {
                lines.push(ShipmentLine {
                    line_no: *line_no,
                    sku: line.sku.clone(),
                    quantity,
                });
            }
        }
        errors.into_result()?;
        for shipped in &lines {
            if let Some(line) = self.lines.iter_mut().find(|l| l.line_no == shipped.line_no) {
                line.shipped = line.shipped.saturating_add(shipped.quantity);
                line.picked = line.picked.max(line.shipped);
            }
        }
        let next = if self.lines.iter().all(|l| l.shipped == l.quantity) {
            OrderStatus::Shipped
        } else {
            OrderStatus::PartiallyShipped
        };
        if next != from {
            self.transition(next, None, now)?;
        }
        let shipment = Shipment {
            id: ShipmentId::new(),
            order_id: self.id,
            carrier: shipment.carrier.trim().to_ascii_lowercase(),
            service: shipment.service.map(|s| s.trim().to_owned()),
            tracking_number: shipment.tracking_number.map(|s| s.trim().to_owned()),
            tracking_url: shipment.tracking_url,
            lines,
            shipped_at: now,
        };
        self.bump(now, OrderEvent::Shipped(Box::new(shipment.clone())));
        Ok(shipment)
    }

    /// The carrier delivered the last parcel.
    pub fn deliver(&mut self, now: DateTime<Utc>) -> Result<(), OrderError> {
        self.transition(OrderStatus::Delivered, None, now)?;
        self.bump(now, OrderEvent::Delivered);
        Ok(())
    }

    /// Cancels the order and says which reservations must be released.
    pub fn cancel(
        &mut self,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Sku, Quantity)>, OrderError> {
        self.transition(OrderStatus::Cancelled, reason.clone(), now)?;
        let released: Vec<(Sku, Quantity)> = self
            .lines
            .iter_mut()
            .filter(|line| !line.reserved().is_zero())
            .map(|line| {
                let quantity = line.reserved();
                line.allocated = line.shipped;
                (line.sku.clone(), quantity)
            })
            .collect();
        self.hold = None;
        self.bump(now, OrderEvent::Cancelled { reason });
        Ok(released)
    }

    /// Counts units a return brought back (`(line_no, units)`); no status change.
    pub fn record_returned(&mut self, got: &[(u32, Quantity)], now: DateTime<Utc>) {
        for (line_no, units) in got {
            if let Some(line) = self.lines.iter_mut().find(|l| l.line_no == *line_no) {
                line.returned = line.returned.saturating_add(*units).min(line.shipped);
            }
        }
        self.version += 1;
        self.updated_at = now;
    }

    fn route(&mut self, cutoff: Cutoff) {
        self.cutoff = cutoff;
        self.ship_by = self.service_level.ship_by(self.created_at, cutoff);
    }

    /// Moves an allocation status to what the lines now call for; on hold, only the status to
    /// resume changes; later statuses keep theirs.
    fn settle_allocation(
        &mut self,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), OrderError> {
        let target = self.allocation_status();
        match self.status {
            OrderStatus::OnHold => {
                if let Some(hold) = &mut self.hold {
                    hold.resume = target;
                }
                Ok(())
            }
            OrderStatus::Pending
            | OrderStatus::Backordered
            | OrderStatus::PartiallyAllocated
            | OrderStatus::Allocated
                if target != self.status =>
            {
                self.transition(target, reason, now)
            }
            _ => Ok(()),
        }
    }

    fn bump(&mut self, now: DateTime<Utc>, event: OrderEvent) {
        self.version += 1;
        self.updated_at = now;
        self.pending_events.push(event);
    }
}

#[cfg(test)]
mod tests;
