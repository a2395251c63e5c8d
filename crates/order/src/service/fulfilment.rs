//! Use cases that move an existing order along: edit, hold and release, picking, packing,
//! shipments and delivery. Each runs in one transaction that locks the order first.

use super::{OrderService, release_request, save, stock_request};
use crate::ports::{OrderQueries, OrderUnitOfWork};
use crate::{NewShipment, Order, OrderChanges, OrderError, Shipment};
use chrono::{DateTime, Utc};
use kernel::{Clock, OrderId, Quantity, RequestContext, WarehouseId};

impl<U, Q, C> OrderService<U, Q, C>
where
    U: OrderUnitOfWork,
    Q: OrderQueries,
    C: Clock,
{
    /// Edits an order before picking. New lines release the order's stock and reserve again,
    /// in the same transaction. `expected_version` is the caller's `If-Match`, if it sent one.
    pub async fn edit(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        changes: OrderChanges,
        expected_version: Option<i64>,
    ) -> Result<Order, OrderError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut order = tx.lock_order(id).await?.ok_or(OrderError::NotFound(id))?;
        let stored = order.version;
        if expected_version.is_some_and(|v| v != stored) {
            return Err(OrderError::VersionConflict);
        }
        if order.edit(changes, now)? {
            tx.release_all(&release_request(ctx, &order, now)).await?;
            let stock = tx.reserve_lines(&stock_request(ctx, &order, now)).await?;
            order.replan(&stock.allocated, stock.cutoff, now)?;
        }
        save(tx, &mut order, stored, ctx, now).await?;
        Ok(order)
    }

    pub async fn hold(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        reason: String,
    ) -> Result<Order, OrderError> {
        self.change(ctx, id, |order, now| order.hold(reason, now))
            .await
    }

    pub async fn release(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        note: Option<String>,
    ) -> Result<Order, OrderError> {
        self.change(ctx, id, |order, now| order.release(note, now))
            .await
    }

    pub async fn start_picking(
        &self,
        ctx: &RequestContext,
        id: OrderId,
    ) -> Result<Order, OrderError> {
        self.change(ctx, id, |order, now| order.start_picking(now))
            .await
    }

    /// A short pick of `units` of line `line_no` from `warehouse`: in one transaction the line
    /// loses that many reserved units (it becomes partly backordered) and they come off the
    /// warehouse's on hand with an adjustment naming `reason` (the bin). A backorder fill
    /// ([`OrderService::fill_backorders`]) may then re-allocate them from another warehouse.
    pub async fn short_pick(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        warehouse: WarehouseId,
        line_no: u32,
        units: Quantity,
        reason: String,
    ) -> Result<Order, OrderError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut order = tx.lock_order(id).await?.ok_or(OrderError::NotFound(id))?;
        let stored = order.version;
        order.short_pick(line_no, units, reason.clone(), now)?;
        let sku = order
            .lines
            .iter()
            .find(|l| l.line_no == line_no)
            .map(|l| l.sku.clone())
            .ok_or_else(|| kernel::StoreError::new("short-picked line vanished"))?;
        let mut request = stock_request(ctx, &order, now);
        request.lines = vec![(line_no, sku, units)];
        tx.write_off_reserved(&request, warehouse, &reason).await?;
        save(tx, &mut order, stored, ctx, now).await?;
        Ok(order)
    }

    pub async fn pack(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, OrderError> {
        self.change(ctx, id, |order, now| order.pack(now)).await
    }

    pub async fn deliver(&self, ctx: &RequestContext, id: OrderId) -> Result<Order, OrderError> {
        self.change(ctx, id, |order, now| order.deliver(now)).await
    }

    /// Records a parcel and takes its units out of the order's reservations and out of stock.
    pub async fn ship(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        shipment: NewShipment,
    ) -> Result<(Order, Shipment), OrderError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut order = tx.lock_order(id).await?.ok_or(OrderError::NotFound(id))?;
        let stored = order.version;
        let shipment = order.ship(shipment, now)?;
        let mut request = stock_request(ctx, &order, now);
        request.lines = shipment
            .lines
            .iter()
            .map(|l| (l.line_no, l.sku.clone(), l.quantity))
            .collect();
        tx.consume_shipment(&request).await?;
        tx.insert_shipment(&shipment).await?;
        save(tx, &mut order, stored, ctx, now).await?;
        Ok((order, shipment))
    }

    /// Locks the order, applies `step`, saves it with its history and events.
    async fn change(
        &self,
        ctx: &RequestContext,
        id: OrderId,
        step: impl FnOnce(&mut Order, DateTime<Utc>) -> Result<(), OrderError>,
    ) -> Result<Order, OrderError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut order = tx.lock_order(id).await?.ok_or(OrderError::NotFound(id))?;
        let stored = order.version;
        step(&mut order, now)?;
        save(tx, &mut order, stored, ctx, now).await?;
        Ok(order)
    }
}
