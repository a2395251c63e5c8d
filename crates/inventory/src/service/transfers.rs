//! Transfers between a tenant's warehouses.

use super::{
    InventoryService, lock_sku_everywhere, low_stock_alert, sku_event, stocked_product,
    warehouse_in,
};
use crate::ports::{
    InventoryTransaction, InventoryUnitOfWork, ProductRepository, StockQueries, WarehouseRepository,
};
use crate::stock::StockDelta;
use crate::transfer::{NewTransfer, Transfer};
use crate::{InventoryError, MovementKind, StockLevel, StockMovement};
use chrono::{DateTime, Utc};
use kernel::{Clock, EventEnvelope, MovementId, RequestContext, Sku, TransferId, WarehouseId};
use serde_json::json;

/// Applies deltas to levels, locking each row in (SKU, warehouse) order, and writes a
/// `transfer` movement for each.
async fn apply_transfer_deltas(
    tx: &mut dyn InventoryTransaction,
    ctx: &RequestContext,
    transfer: &Transfer,
    mut deltas: Vec<(WarehouseId, &Sku, StockDelta)>,
    now: DateTime<Utc>,
) -> Result<Vec<EventEnvelope>, InventoryError> {
    deltas.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    let mut events = Vec::new();
    let mut skus: Vec<&Sku> = deltas.iter().map(|d| d.1).collect();
    skus.dedup();
    // Lock each SKU's rows everywhere first (the one lock order), remembering availability.
    let mut before = Vec::with_capacity(skus.len());
    for sku in &skus {
        before.push(((*sku).clone(), lock_sku_everywhere(tx, sku).await?));
    }
    for (sku, (available, threshold)) in &before {
        let change: i64 = deltas
            .iter()
            .filter(|d| d.1 == sku)
            .map(|d| d.2.on_hand - d.2.reserved)
            .sum();
        events.extend(low_stock_alert(
            ctx,
            sku,
            *threshold,
            *available,
            available + change,
            now,
            "transfer",
        ));
    }
    for (warehouse, sku, delta) in deltas {
        let current = tx
            .lock_level(warehouse, sku)
            .await?
            .unwrap_or_else(|| StockLevel::empty(warehouse, sku.clone()));
        let level = current.apply(&delta).map_err(|_| {
            InventoryError::InsufficientStock(vec![(
                sku.clone(),
                -delta.on_hand - current.available().as_i64(),
            )])
        })?;
        tx.save_level(&level).await?;
        tx.record_movement(&StockMovement {
            id: MovementId::new(),
            tenant_id: ctx.tenant_id,
            warehouse_id: warehouse,
            sku: sku.clone(),
            kind: MovementKind::Transfer,
            on_hand_delta: delta.on_hand,
            reserved_delta: delta.reserved,
            incoming_delta: delta.incoming,
            reason: None,
            reference: Some(format!("transfer:{}", transfer.id)),
            actor: Some(ctx.actor.clone()),
            occurred_at: now,
        })
        .await?;
        events.push(sku_event(
            ctx,
            "inventory.changed",
            sku,
            now,
            json!({
                "sku": sku,
                "warehouse_id": warehouse,
                "on_hand": level.on_hand,
                "reserved": level.reserved,
                "incoming": level.incoming,
                "available": level.available(),
                "on_hand_delta": delta.on_hand,
                "cause": "transfer",
            }),
        ));
    }
    Ok(events)
}

fn transfer_event(
    event_type: &str,
    t: &Transfer,
    ctx: &RequestContext,
    at: DateTime<Utc>,
) -> EventEnvelope {
    EventEnvelope::new(
        event_type,
        t.tenant_id,
        at,
        "transfer",
        t.id.into_uuid(),
        at.timestamp_micros(),
        json!({ "transfer_id": t.id, "status": t.status, "from": t.from, "to": t.to, "lines": t.lines }),
        Some(ctx.correlation_id),
    )
}

impl<P, W, S, U, C> InventoryService<P, W, S, U, C>
where
    P: ProductRepository,
    W: WarehouseRepository,
    S: StockQueries,
    U: InventoryUnitOfWork,
    C: Clock,
{
    /// Ships stock from one warehouse to another: it leaves the source's available stock now
    /// and is `incoming` at the destination until received. All lines or none.
    pub async fn dispatch_transfer(
        &self,
        ctx: &RequestContext,
        from: &str,
        to: &str,
        lines: Vec<(String, i64)>,
        reference: Option<String>,
    ) -> Result<Transfer, InventoryError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let from = warehouse_in(tx.as_mut(), Some(from)).await?;
        let to = warehouse_in(tx.as_mut(), Some(to)).await?;
        let transfer = NewTransfer {
            from: from.id,
            to: to.id,
            lines,
            reference,
        }
        .validate(TransferId::new(), ctx.tenant_id, now)?;
        for line in &transfer.lines {
            stocked_product(tx.as_mut(), &line.sku).await?;
        }
        let mut events =
            apply_transfer_deltas(tx.as_mut(), ctx, &transfer, transfer.dispatch_deltas(), now)
                .await?;
        tx.insert_transfer(&transfer).await?;
        events.push(transfer_event("transfer.dispatched", &transfer, ctx, now));
        tx.append_events(&events).await?;
        tx.commit().await?;
        Ok(transfer)
    }

    /// The goods arrived: incoming becomes on hand at the destination.
    pub async fn receive_transfer(
        &self,
        ctx: &RequestContext,
        id: TransferId,
    ) -> Result<Transfer, InventoryError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut transfer = tx
            .lock_transfer(id)
            .await?
            .ok_or(InventoryError::TransferNotFound(id))?;
        let deltas: Vec<(WarehouseId, Sku, StockDelta)> = transfer
            .receive(now)?
            .into_iter()
            .map(|(w, s, d)| (w, s.clone(), d))
            .collect();
        let mut events = apply_transfer_deltas(
            tx.as_mut(),
            ctx,
            &transfer,
            deltas.iter().map(|(w, s, d)| (*w, s, *d)).collect(),
            now,
        )
        .await?;
        tx.save_transfer(&transfer).await?;
        events.push(transfer_event("transfer.received", &transfer, ctx, now));
        tx.append_events(&events).await?;
        tx.commit().await?;
        Ok(transfer)
    }

    pub async fn transfer(
        &self,
        ctx: &RequestContext,
        id: TransferId,
    ) -> Result<Transfer, InventoryError> {
        self.stock
            .transfer(ctx.tenant_id, id)
            .await?
            .ok_or(InventoryError::TransferNotFound(id))
    }
}
