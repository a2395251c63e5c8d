//! Returns (RMA): a customer sends back part of what shipped. `requested` → `approved` or
//! `rejected`; approved → `received` (counted at the dock) → `inspected` (each unit restocked
//! or disposed) → `refunded` (a refund record; moving money is billing's job). An exchange
//! asks for replacement items, placed as a linked order when the return is approved.

use crate::{Order, OrderError, OrderStatus};
use chrono::{DateTime, Utc};
use kernel::{
    EventEnvelope, Money, OrderId, Quantity, RequestContext, ReturnId, Sku, TenantId,
    ValidationErrors,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    Received,
    Inspected,
    Refunded,
}

impl ReturnStatus {
    pub const ALL: [ReturnStatus; 6] = [
        Self::Requested,
        Self::Approved,
        Self::Rejected,
        Self::Received,
        Self::Inspected,
        Self::Refunded,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Received => "received",
            Self::Inspected => "inspected",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The one table of legal moves.
    pub fn can_become(self, next: ReturnStatus) -> bool {
        use ReturnStatus::*;
        matches!(
            (self, next),
            (Requested, Approved | Rejected)
                | (Approved, Received)
                | (Received, Inspected)
                | (Inspected, Refunded)
        )
    }

    /// Units of a return in this status still count against what can be returned.
    pub fn holds_units(self) -> bool {
        matches!(self, Self::Requested | Self::Approved)
    }
}

/// Why the customer sends it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    Damaged,
    WrongItem,
    NotAsDescribed,
    NoLongerNeeded,
    Other,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 5] = [
        Self::Damaged,
        Self::WrongItem,
        Self::NotAsDescribed,
        Self::NoLongerNeeded,
        Self::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Damaged => "damaged",
            Self::WrongItem => "wrong_item",
            Self::NotAsDescribed => "not_as_described",
            Self::NoLongerNeeded => "no_longer_needed",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLine {
    /// The order line it returns.
    pub line_no: u32,
    pub sku: Sku,
    pub quantity: Quantity,
    pub reason: ReturnReason,
    pub note: Option<String>,
    pub unit_price: Money,
    pub received: Quantity,
    pub restocked: Quantity,
    pub disposed: Quantity,
}

/// A return as the customer (or seller) asks for it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct NewReturn {
    /// `(line_no, quantity, reason, note)`.
    pub lines: Vec<(u32, i64, String, Option<String>)>,
    /// Replacement items for an exchange: `(sku, quantity)`.
    pub exchange: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnAuthorization {
    pub id: ReturnId,
    pub tenant_id: TenantId,
    pub order_id: OrderId,
    /// What the customer writes on the parcel.
    pub rma_number: String,
    pub status: ReturnStatus,
    pub lines: Vec<ReturnLine>,
    pub exchange: Vec<(Sku, Quantity)>,
    pub replacement_order_id: Option<OrderId>,
    pub rejection_reason: Option<String>,
    pub refund: Option<Money>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub(crate) pending_events: Vec<&'static str>,
}

const MAX_NOTE: usize = 500;
const MAX_LINES: usize = 500;

fn refused(from: ReturnStatus, to: ReturnStatus) -> OrderError {
    OrderError::IllegalReturnTransition { from, to }
}

impl NewReturn {
    /// Checks the request against the order: it must have shipped, and no line may take back
    /// more than shipped minus what is returned or already under an open return
    /// (`open[line_no]`).
    pub fn validate(
        self,
        id: ReturnId,
        order: &Order,
        open: &[(u32, i64)],
        now: DateTime<Utc>,
    ) -> Result<ReturnAuthorization, OrderError> {
        if !matches!(
            order.status,
            OrderStatus::PartiallyShipped | OrderStatus::Shipped | OrderStatus::Delivered
        ) {
            return Err(OrderError::NotReturnable(order.status));
        }
        let mut errors = ValidationErrors::new();
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            errors.add("lines", format!("a return needs 1 to {MAX_LINES} lines"));
        }
        let mut lines: Vec<ReturnLine> = Vec::new();
        for (i, (line_no, quantity, reason, note)) in self.lines.into_iter().enumerate() {
            let at = |f: &str| format!("lines[{i}].{f}");
            let reason = ReturnReason::parse(reason.trim());
            if reason.is_none() {
                let names = ReturnReason::ALL.map(ReturnReason::as_str).join(", ");
                errors.add(at("reason"), format!("reason must be one of: {names}"));
            }
            if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
                errors.add(
                    at("note"),
                    format!("a note has at most {MAX_NOTE} characters"),
                );
            }
            let Some(line) = order.lines.iter().find(|l| l.line_no == line_no) else {
                errors.add(at("line_no"), format!("the order has no line {line_no}"));
                continue;
            };
            if lines.iter().any(|l| l.line_no == line_no) {
                errors.add(at("line_no"), format!("line {line_no} is listed twice"));
                continue;
            }
            let pending = open
                .iter()
                .filter(|(n, _)| *n == line_no)
                .map(|(_, q)| *q)
                .sum::<i64>();
            let returnable = line.shipped.as_i64() - line.returned.as_i64() - pending;
            if quantity < 1 || quantity > returnable {
                errors.add(
                    at("quantity"),
                    format!(
                        "line {line_no} can take back 1 to {} units",
                        returnable.max(0)
                    ),
                );
                continue;
            }
            if let (Some(reason), Ok(quantity)) = (reason, Quantity::new(quantity)) {
                lines.push(ReturnLine {
                    line_no,
                    sku: line.sku.clone(),
                    quantity,
                    reason,
                    note: note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
                    unit_price: line.unit_price,
                    received: Quantity::ZERO,
                    restocked: Quantity::ZERO,
                    disposed: Quantity::ZERO,
                });
            }
        }
        let mut exchange = Vec::new();
        for (i, (sku, quantity)) in self.exchange.into_iter().enumerate() {
            let sku = errors.check(format!("exchange[{i}].sku"), Sku::parse(&sku));
            let q = Quantity::new(quantity).ok().filter(|q| !q.is_zero());
            if q.is_none() {
                errors.add(
                    format!("exchange[{i}].quantity"),
                    "quantity must be at least 1",
                );
            }
            if let (Some(sku), Some(q)) = (sku, q) {
                exchange.push((sku, q));
            }
        }
        errors.into_result()?;
        let rma_number =
            format!("RMA-{}", &id.into_uuid().simple().to_string()[20..]).to_uppercase();
        Ok(ReturnAuthorization {
            id,
            tenant_id: order.tenant_id,
            order_id: order.id,
            rma_number,
            status: ReturnStatus::Requested,
            lines,
            exchange,
            replacement_order_id: None,
            rejection_reason: None,
            refund: None,
            version: 1,
            created_at: now,
            updated_at: now,
            pending_events: vec!["return.initiated"],
        })
    }
}

impl ReturnAuthorization {
    /// Rebuilds a return from storage; no events are recorded. Replacement, rejection and
    /// refund start empty; the adapter sets what it stored.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: ReturnId,
        tenant_id: TenantId,
        order_id: OrderId,
        rma_number: String,
        status: ReturnStatus,
        lines: Vec<ReturnLine>,
        exchange: Vec<(Sku, Quantity)>,
        version: i64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            tenant_id,
            order_id,
            rma_number,
            status,
            lines,
            exchange,
            replacement_order_id: None,
            rejection_reason: None,
            refund: None,
            version,
            created_at,
            updated_at,
            pending_events: Vec::new(),
        }
    }

    fn go(
        &mut self,
        next: ReturnStatus,
        now: DateTime<Utc>,
        event: &'static str,
    ) -> Result<(), OrderError> {
        if !self.status.can_become(next) {
            return Err(refused(self.status, next));
        }
        self.status = next;
        self.version += 1;
        self.updated_at = now;
        self.pending_events.push(event);
        Ok(())
    }

    /// Approves; an exchange's replacement order is placed by the use case and linked here.
    pub fn approve(&mut self, now: DateTime<Utc>) -> Result<(), OrderError> {
        self.go(ReturnStatus::Approved, now, "return.approved")
    }

    pub fn link_replacement(&mut self, order: OrderId) {
        self.replacement_order_id = Some(order);
    }

    pub fn reject(&mut self, reason: String, now: DateTime<Utc>) -> Result<(), OrderError> {
        let reason = reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > MAX_NOTE {
            return Err(ValidationErrors::single(
                "reason",
                format!("a rejection needs a reason of 1 to {MAX_NOTE} characters"),
            )
            .into());
        }
        self.go(ReturnStatus::Rejected, now, "return.rejected")?;
        self.rejection_reason = Some(reason);
        Ok(())
    }

    /// Counts what arrived, per line (`(line_no, units)`; unlisted lines got nothing). At
    /// least one unit, never more than authorised. Returns what the order lines got back.
    pub fn receive(
        &mut self,
        counted: &[(u32, i64)],
        now: DateTime<Utc>,
    ) -> Result<Vec<(u32, Quantity)>, OrderError> {
        if !self.status.can_become(ReturnStatus::Received) {
            return Err(refused(self.status, ReturnStatus::Received));
        }
        let mut errors = ValidationErrors::new();
        let mut got = Vec::new();
        for (i, (line_no, units)) in counted.iter().enumerate() {
            match self.lines.iter().find(|l| l.line_no == *line_no) {
                None => errors.add(
                    format!("lines[{i}].line_no"),
                    "this return has no such line",
                ),
                Some(line) if *units < 0 || *units > line.quantity.as_i64() => errors.add(
                    format!("lines[{i}].quantity"),
                    format!(
                        "0 to {} units of line {line_no} were authorised",
                        line.quantity
                    ),
                ),
                Some(_) if got.iter().any(|(n, _)| n == line_no) => {
                    errors.add(format!("lines[{i}].line_no"), "each line once")
                }
                Some(_) => got.push((*line_no, Quantity::new(*units).unwrap_or(Quantity::ZERO))),
            }
        }
        if errors.0.is_empty() && got.iter().all(|(_, q)| q.is_zero()) {
            errors.add("lines", "nothing was received: count at least one unit");
        }
        errors.into_result()?;
        for (line_no, units) in &got {
            if let Some(line) = self.lines.iter_mut().find(|l| l.line_no == *line_no) {
                line.received = *units;
            }
        }
        self.go(ReturnStatus::Received, now, "return.received")?;
        Ok(got.into_iter().filter(|(_, q)| !q.is_zero()).collect())
    }

    /// Decides every received unit: `(line_no, restock, dispose)`, which must add up to what
    /// the line received. Returns what goes back on the shelf: `(line_no, sku, units)`.
    pub fn inspect(
        &mut self,
        decisions: &[(u32, i64, i64)],
        now: DateTime<Utc>,
    ) -> Result<Vec<(u32, Sku, Quantity)>, OrderError> {
        if !self.status.can_become(ReturnStatus::Inspected) {
            return Err(refused(self.status, ReturnStatus::Inspected));
        }
        let mut errors = ValidationErrors::new();
        for line in self.lines.iter().filter(|l| !l.received.is_zero()) {
            let decided: Vec<&(u32, i64, i64)> =
                decisions.iter().filter(|d| d.0 == line.line_no).collect();
            let ok = matches!(decided.as_slice(), [(_, r, d)] if *r >= 0 && *d >= 0 && r + d == line.received.as_i64());
            if !ok {
                errors.add(
                    format!("lines[{}]", line.line_no),
                    format!(
                        "line {}: restock + dispose must equal the {} units received, once",
                        line.line_no, line.received
                    ),
                );
            }
        }
        if let Some((n, _, _)) = decisions.iter().find(|d| {
            !self
                .lines
                .iter()
                .any(|l| l.line_no == d.0 && !l.received.is_zero())
        }) {
            errors.add("lines", format!("line {n} received nothing to inspect"));
        }
        errors.into_result()?;
        let mut restock = Vec::new();
        for (line_no, r, d) in decisions {
            if let Some(line) = self.lines.iter_mut().find(|l| l.line_no == *line_no) {
                line.restocked = Quantity::new(*r).unwrap_or(Quantity::ZERO);
                line.disposed = Quantity::new(*d).unwrap_or(Quantity::ZERO);
                if *r > 0 {
                    restock.push((line.line_no, line.sku.clone(), line.restocked));
                }
            }
        }
        self.go(ReturnStatus::Inspected, now, "return.inspected")?;
        Ok(restock)
    }

    /// What the received units are worth at the prices paid.
    pub fn refundable(&self) -> Money {
        let currency = self.lines[0].unit_price.currency;
        let minor = self
            .lines
            .iter()
            .map(|l| {
                l.unit_price
                    .amount_minor
                    .saturating_mul(l.received.as_i64())
            })
            .fold(0i64, i64::saturating_add);
        Money::new(minor, currency)
    }

    /// Records the refund: by default what the received units are worth; never more.
    pub fn refund(
        &mut self,
        amount_minor: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Money, OrderError> {
        if !self.status.can_become(ReturnStatus::Refunded) {
            return Err(refused(self.status, ReturnStatus::Refunded));
        }
        let most = self.refundable();
        let amount = amount_minor.unwrap_or(most.amount_minor);
        if amount < 0 || amount > most.amount_minor {
            return Err(ValidationErrors::single(
                "amount_minor",
                format!(
                    "a refund is 0 to {} (what was received, at the prices paid)",
                    most.amount_minor
                ),
            )
            .into());
        }
        let refund = Money::new(amount, most.currency);
        self.go(ReturnStatus::Refunded, now, "return.refunded")?;
        self.refund = Some(refund);
        Ok(refund)
    }

    /// The recorded events as outbox envelopes (`return.received` lists what arrived).
    pub fn take_events(&mut self, ctx: &RequestContext, now: DateTime<Utc>) -> Vec<EventEnvelope> {
        let events = std::mem::take(&mut self.pending_events);
        events
            .into_iter()
            .map(|event_type| {
                let lines: Vec<_> = self
                    .lines
                    .iter()
                    .map(|l| {
                        let quantity = if event_type == "return.received" {
                            l.received
                        } else {
                            l.quantity
                        };
                        json!({ "line_no": l.line_no, "sku": l.sku, "quantity": quantity,
                                "restocked": l.restocked, "disposed": l.disposed })
                    })
                    .collect();
                EventEnvelope::new(
                    event_type,
                    self.tenant_id,
                    now,
                    "return",
                    self.id.into_uuid(),
                    self.version,
                    json!({
                        "return_id": self.id,
                        "order_id": self.order_id,
                        "rma_number": self.rma_number,
                        "status": self.status,
                        "lines": lines,
                        "replacement_order_id": self.replacement_order_id,
                        "refund": self.refund,
                    }),
                    Some(ctx.correlation_id),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
