//! The pick list aggregate: lines in walk order, confirmed scan by scan, with short picks.
//!
//! Built by [`plan_single`](crate::plan_single) or [`plan_batch`](crate::plan_batch). Every scan
//! carries a client-made id; a replayed id gives back what it gave the first time and changes
//! nothing, so a scanner may retry freely. A wrong scan changes nothing either.

use crate::location::{Bin, BinCode};
use chrono::{DateTime, Utc};
use kernel::{EventEnvelope, OrderId, Quantity, RequestContext, Sku};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

/// Units of one order line that a pick line (or a shortage) is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub order_id: OrderId,
    pub line_no: u32,
    pub quantity: Quantity,
}

/// Take `quantity` units of `sku` from `bin`, for the orders in `allocations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickLine {
    /// 1-based position on the walk.
    pub seq: u32,
    pub bin: Bin,
    pub sku: Sku,
    /// The product's GTIN, when it has one; scanning it confirms the SKU too.
    pub barcode: Option<String>,
    pub quantity: Quantity,
    pub picked: Quantity,
    /// Units the picker reported missing from the bin.
    pub short: Quantity,
    /// Which order lines the units go to, in priority order (earliest ship-by first).
    pub allocations: Vec<Allocation>,
}

impl PickLine {
    /// Units still to pick here.
    pub fn remaining(&self) -> Quantity {
        self.quantity
            .saturating_sub(self.picked)
            .saturating_sub(self.short)
    }

    pub fn is_done(&self) -> bool {
        self.remaining().is_zero()
    }

    /// Whether a scanned barcode is this line's SKU or its GTIN (trimmed, any case).
    pub fn matches_item(&self, scanned: &str) -> bool {
        let scanned = scanned.trim();
        self.sku.as_str().eq_ignore_ascii_case(scanned)
            || self
                .barcode
                .as_deref()
                .is_some_and(|b| b.eq_ignore_ascii_case(scanned))
    }
}

/// Units of an order line that no bin could give when the list was planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unallocated {
    pub sku: Sku,
    pub missing: Quantity,
    pub affected: Vec<Allocation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickStatus {
    Open,
    Picking,
    Complete,
}

impl PickStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Picking => "picking",
            Self::Complete => "complete",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "open" => Some(Self::Open),
            "picking" => Some(Self::Picking),
            "complete" => Some(Self::Complete),
            _ => None,
        }
    }
}

/// One scan from a handheld: the bin label, then the item barcode and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Made by the scanner, once per physical scan; a retry sends the same id.
    pub scan_id: Uuid,
    pub bin: String,
    pub barcode: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// Scan taken; this is the line to go to next (possibly the same one).
    Next { line: PickLine },
    /// Scan taken, and nothing is left to pick.
    Complete,
}

/// A scan the list took, kept so a replay is recognised and as the pick audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedScan {
    pub scan_id: Uuid,
    pub line_seq: u32,
    pub quantity: Quantity,
    pub at: DateTime<Utc>,
    /// The line the scan pointed to next; `None` when it completed the list.
    pub next_seq: Option<u32>,
}

/// What a picker found missing: the app books it as a stock move and re-allocates or
/// backorders the affected order lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub sku: Sku,
    pub bin: Bin,
    pub missing: Quantity,
    /// Order lines that lose units, the latest ship-by first.
    pub affected: Vec<Allocation>,
}

/// Every message is written for a scanner screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickError {
    #[error("wrong bin: go to {expected}")]
    WrongBin { expected: BinCode },
    #[error("wrong item: pick {expected_sku} here")]
    WrongItem { expected_sku: Sku },
    #[error("too many: only {remaining} left to pick here")]
    TooMany { remaining: Quantity },
    #[error("this pick list is already complete")]
    AlreadyComplete,
    #[error("scan at least one unit")]
    ZeroQuantity,
    #[error("this pick list has no line {0}")]
    UnknownLine(u32),
    #[error("{picked} already picked from this line; found cannot be fewer")]
    FoundFewerThanPicked { picked: Quantity },
    #[error("nothing is missing: {expected} were still expected here")]
    NotShort { expected: Quantity },
}

/// What happened to a pick list, for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickEvent {
    Completed,
    Short(Shortage),
}

/// A walk through the warehouse for one order or a batch of them.
#[derive(Debug, Clone, PartialEq)]
pub struct PickList {
    id: Uuid,
    status: PickStatus,
    orders: Vec<OrderId>,
    lines: Vec<PickLine>,
    unallocated: Vec<Unallocated>,
    scans: HashMap<Uuid, AppliedScan>,
    version: i64,
    created_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    pending_events: Vec<PickEvent>,
}

impl PickList {
    /// A fresh list; `lines` must already be in walk order (the planner does that).
    pub(crate) fn new(
        orders: Vec<OrderId>,
        mut lines: Vec<PickLine>,
        unallocated: Vec<Unallocated>,
        now: DateTime<Utc>,
    ) -> Self {
        for (i, line) in lines.iter_mut().enumerate() {
            line.seq = i as u32 + 1;
        }
        let status = if lines.iter().all(PickLine::is_done) {
            PickStatus::Complete
        } else {
            PickStatus::Open
        };
        Self {
            id: Uuid::now_v7(),
            status,
            orders,
            lines,
            unallocated,
            scans: HashMap::new(),
            version: 1,
            created_at: now,
            completed_at: (status == PickStatus::Complete).then_some(now),
            pending_events: Vec::new(),
        }
    }

    /// Rebuilds a stored list (for adapters); no events are pending.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: Uuid,
        status: PickStatus,
        orders: Vec<OrderId>,
        lines: Vec<PickLine>,
        unallocated: Vec<Unallocated>,
        scans: Vec<AppliedScan>,
        version: i64,
        created_at: DateTime<Utc>,
        completed_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            id,
            status,
            orders,
            lines,
            unallocated,
            scans: scans.into_iter().map(|s| (s.scan_id, s)).collect(),
            version,
            created_at,
            completed_at,
            pending_events: Vec::new(),
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn status(&self) -> PickStatus {
        self.status
    }
    pub fn orders(&self) -> &[OrderId] {
        &self.orders
    }
    pub fn lines(&self) -> &[PickLine] {
        &self.lines
    }
    /// What no bin had when the list was planned.
    pub fn unallocated(&self) -> &[Unallocated] {
        &self.unallocated
    }
    /// Every scan taken, oldest first.
    pub fn scans(&self) -> Vec<&AppliedScan> {
        let mut scans: Vec<&AppliedScan> = self.scans.values().collect();
        scans.sort_by_key(|s| (s.at, s.scan_id));
        scans
    }
    pub fn version(&self) -> i64 {
        self.version
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    pub fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.completed_at
    }
    pub fn take_events(&mut self) -> Vec<PickEvent> {
        std::mem::take(&mut self.pending_events)
    }

    /// Units planned across all lines.
    pub fn total_units(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity.get())).sum()
    }

    /// The line to walk to now: the first one with units left.
    pub fn current_line(&self) -> Option<&PickLine> {
        self.lines.iter().find(|l| !l.is_done())
    }

    /// Confirms a pick. The scan must name an open line's bin and its SKU or GTIN; a picker
    /// who skips ahead to a later line is accepted. Errors name the current line's bin or item.
    pub fn scan(&mut self, scan: Scan, now: DateTime<Utc>) -> Result<ScanOutcome, PickError> {
        if let Some(applied) = self.scans.get(&scan.scan_id) {
            return Ok(self.outcome(applied.next_seq));
        }
        let Some(current) = self.current_line() else {
            return Err(PickError::AlreadyComplete);
        };
        if scan.quantity == 0 {
            return Err(PickError::ZeroQuantity);
        }
        let open = || self.lines.iter().filter(|l| !l.is_done());
        let index =
            match open().find(|l| l.bin.code.matches(&scan.bin) && l.matches_item(&scan.barcode)) {
                Some(line) => line.seq as usize - 1,
                None => {
                    return Err(match open().find(|l| l.bin.code.matches(&scan.bin)) {
                        Some(in_bin) => PickError::WrongItem {
                            expected_sku: in_bin.sku.clone(),
                        },
                        None => PickError::WrongBin {
                            expected: current.bin.code.clone(),
                        },
                    });
                }
            };
        let line = &mut self.lines[index];
        let remaining = line.remaining();
        if scan.quantity > remaining.get() {
            return Err(PickError::TooMany { remaining });
        }
        let quantity = Quantity::new(i64::from(scan.quantity))
            .map_err(|_| PickError::TooMany { remaining })?;
        line.picked = line.picked.saturating_add(quantity);
        let line_seq = line.seq;
        let next_seq = self.after_change(now);
        self.scans.insert(
            scan.scan_id,
            AppliedScan {
                scan_id: scan.scan_id,
                line_seq,
                quantity,
                at: now,
                next_seq,
            },
        );
        Ok(self.outcome(next_seq))
    }

    /// The picker found only `found` units for line `seq` (counting those already picked):
    /// the rest is recorded short and taken from the order lines shipping last.
    pub fn short(
        &mut self,
        seq: u32,
        found: Quantity,
        now: DateTime<Utc>,
    ) -> Result<Shortage, PickError> {
        if self.status == PickStatus::Complete {
            return Err(PickError::AlreadyComplete);
        }
        let line = self
            .lines
            .get_mut((seq as usize).wrapping_sub(1))
            .ok_or(PickError::UnknownLine(seq))?;
        let expected = line.quantity.saturating_sub(line.short);
        if found < line.picked {
            return Err(PickError::FoundFewerThanPicked {
                picked: line.picked,
            });
        }
        if found >= expected {
            return Err(PickError::NotShort { expected });
        }
        let missing = expected.saturating_sub(found);
        let affected = take_from_last(&line.allocations, line.short, missing);
        line.short = line.short.saturating_add(missing);
        let shortage = Shortage {
            sku: line.sku.clone(),
            bin: line.bin.clone(),
            missing,
            affected,
        };
        self.pending_events.push(PickEvent::Short(shortage.clone()));
        self.after_change(now);
        Ok(shortage)
    }

    /// Bumps the version, settles the status and gives the next line to walk to.
    fn after_change(&mut self, now: DateTime<Utc>) -> Option<u32> {
        self.version += 1;
        match self.current_line().map(|l| l.seq) {
            Some(seq) => {
                self.status = PickStatus::Picking;
                Some(seq)
            }
            None => {
                self.status = PickStatus::Complete;
                self.completed_at = Some(now);
                self.pending_events.push(PickEvent::Completed);
                None
            }
        }
    }

    fn outcome(&self, next_seq: Option<u32>) -> ScanOutcome {
        match next_seq.and_then(|seq| self.lines.get(seq as usize - 1)) {
            Some(line) => ScanOutcome::Next { line: line.clone() },
            None => ScanOutcome::Complete,
        }
    }
}

/// Takes `missing` units from the end of `allocations`, after skipping `already` units that
/// earlier shortages took.
fn take_from_last(
    allocations: &[Allocation],
    already: Quantity,
    missing: Quantity,
) -> Vec<Allocation> {
    let mut skip = already.get();
    let mut left = missing.get();
    let mut affected = Vec::new();
    for a in allocations.iter().rev() {
        if left == 0 {
            break;
        }
        let mut available = a.quantity.get();
        let skipped = skip.min(available);
        skip -= skipped;
        available -= skipped;
        let take = available.min(left);
        if take > 0 {
            left -= take;
            affected.push(Allocation {
                quantity: Quantity::new(i64::from(take)).unwrap_or_default(),
                ..a.clone()
            });
        }
    }
    affected
}

impl PickEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Completed => "picklist.completed",
            Self::Short(_) => "pick.short",
        }
    }

    /// The outbox form, built from the list as it stands after the change.
    pub fn to_envelope(
        &self,
        list: &PickList,
        ctx: &RequestContext,
        now: DateTime<Utc>,
    ) -> EventEnvelope {
        let payload = match self {
            Self::Completed => json!({
                "pick_list_id": list.id,
                "orders": list.orders,
                "lines": list.lines.iter().map(|l| json!({
                    "sku": l.sku,
                    "bin": l.bin.code.as_str(),
                    "picked": l.picked,
                    "short": l.short,
                })).collect::<Vec<_>>(),
            }),
            Self::Short(s) => json!({
                "pick_list_id": list.id,
                "sku": s.sku,
                "bin": s.bin.code.as_str(),
                "missing": s.missing,
                "affected": allocations_json(&s.affected),
            }),
        };
        EventEnvelope::new(
            self.event_type(),
            ctx.tenant_id,
            now,
            "pick_list",
            list.id,
            list.version,
            payload,
            Some(ctx.correlation_id),
        )
    }
}

pub(crate) fn allocations_json(allocations: &[Allocation]) -> Value {
    allocations
        .iter()
        .map(|a| json!({ "order_id": a.order_id, "line_no": a.line_no, "quantity": a.quantity }))
        .collect()
}

#[cfg(test)]
mod tests;
