//! Filling backorders when stock arrives: the orders waiting for the SKUs that came in are
//! served earliest ship-by first, then by faster service, then oldest, each in its own short
//! transaction so one busy SKU never holds a long lock.

use super::OrderService;
use crate::ports::{OrderQueries, OrderUnitOfWork, StockRequest};
use crate::{OrderError, OrderStatus};
use kernel::{Clock, EventEnvelope, RequestContext, Sku};
use std::collections::HashSet;

/// The events after which stock may be free for a backorder.
pub const STOCK_FREEING_EVENTS: &[&str] = &[
    "inventory.changed",
    "order.cancelled",
    "reservation.released",
    "reservation.expired",
    "transfer.received",
];

/// The SKUs whose stock an event may have freed: empty if it freed none. A stock change
/// counts only when on hand went up (a receipt, a count up, a return).
pub fn skus_freed_by(event: &EventEnvelope) -> Vec<Sku> {
    if !STOCK_FREEING_EVENTS.contains(&event.event_type.as_str()) {
        return Vec::new();
    }
    let p = &event.payload;
    if event.event_type == "inventory.changed" && p["on_hand_delta"].as_i64().is_none_or(|d| d <= 0)
    {
        return Vec::new();
    }
    let mut skus: Vec<Sku> = p["sku"]
        .as_str()
        .into_iter()
        .chain(
            p["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["sku"].as_str()),
        )
        .filter_map(|s| Sku::parse(s).ok())
        .collect();
    skus.sort();
    skus.dedup();
    skus
}

/// How many waiting orders one call looks at: bounded work per event.
pub const FILL_BATCH: u32 = 200;

/// What a fill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FillReport {
    /// Orders that got stock, in the order they were served.
    pub filled: Vec<kernel::OrderId>,
    /// Orders looked at.
    pub examined: usize,
}

impl<U, Q, C> OrderService<U, Q, C>
where
    U: OrderUnitOfWork,
    Q: OrderQueries,
    C: Clock,
{
    /// Gives newly available stock of `skus` to the orders waiting for it.
    pub async fn fill_backorders(
        &self,
        ctx: &RequestContext,
        skus: &[Sku],
    ) -> Result<FillReport, OrderError> {
        let mut report = FillReport::default();
        if skus.is_empty() {
            return Ok(report);
        }
        let waiting = self
            .queries
            .waiting_for_stock(ctx.tenant_id, skus, FILL_BATCH)
            .await?;
        // SKUs found empty: orders waiting only for those are not worth a transaction.
        let mut exhausted: HashSet<Sku> = HashSet::new();
        for id in waiting {
            if skus.iter().all(|s| exhausted.contains(s)) {
                break;
            }
            report.examined += 1;
            let now = self.clock.now();
            let mut tx = self.uow.begin(ctx.tenant_id).await?;
            // Re-read under lock: it may have been cancelled, held or filled meanwhile.
            let Some(mut order) = tx.lock_order(id).await? else {
                continue;
            };
            if matches!(
                order.status,
                OrderStatus::Cancelled | OrderStatus::OnHold | OrderStatus::Delivered
            ) {
                continue;
            }
            let missing = order.backorders();
            if missing.is_empty() {
                continue;
            }
            let request = StockRequest {
                reference: format!("order:{}", order.id),
                actor: ctx.actor.clone(),
                at: now,
                correlation_id: Some(ctx.correlation_id),
                lines: missing.clone(),
            };
            let stock = tx.reserve_lines(&request).await?;
            for ((_, sku, wanted), got) in missing.iter().zip(&stock.allocated) {
                if got < wanted && skus.contains(sku) {
                    exhausted.insert(sku.clone());
                }
            }
            let got: Vec<(u32, kernel::Quantity)> = missing
                .iter()
                .zip(&stock.allocated)
                .map(|((line_no, _, _), q)| (*line_no, *q))
                .collect();
            let stored = order.version;
            if !order.fill_backorder(&got, now)? {
                continue; // nothing free: dropping the transaction writes nothing
            }
            super::save(tx, &mut order, stored, ctx, now).await?;
            report.filled.push(order.id);
        }
        Ok(report)
    }
}
