//! Return (RMA) use cases. Each runs in one transaction: the return, the order lines it
//! touches, stock put back on the shelf, an exchange's replacement order, and the events.

use super::{OrderService, outbox_events, stock_request};
use crate::ports::{OrderQueries, OrderTransaction, OrderUnitOfWork, ReturnFilter, StockRequest};
use crate::returns::{NewReturn, ReturnAuthorization};
use crate::{NewOrder, NewOrderLine, OrderError};
use chrono::{DateTime, Utc};
use kernel::{Clock, OrderId, Page, PageRequest, RequestContext, ReturnId};

/// Channel of replacement orders; their external id is the RMA number, so one return never
/// makes two replacements.
pub const EXCHANGE_CHANNEL: &str = "exchange";

impl<U, Q, C> OrderService<U, Q, C>
where
    U: OrderUnitOfWork,
    Q: OrderQueries,
    C: Clock,
{
    pub async fn request_return(
        &self,
        ctx: &RequestContext,
        order_id: OrderId,
        request: NewReturn,
    ) -> Result<ReturnAuthorization, OrderError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let order = tx
            .lock_order(order_id)
            .await?
            .ok_or(OrderError::NotFound(order_id))?;
        let open = tx.open_return_units(order_id).await?;
        let mut rma = request.validate(ReturnId::new(), &order, &open, now)?;
        tx.insert_return(&rma).await?;
        finish(tx, &mut rma, None, ctx, now).await?;
        Ok(rma)
    }

    /// Approves; with an exchange, places the replacement order (price 0, same ship-to,
    /// stock reserved like any order) in the same transaction and links it.
    pub async fn approve_return(
        &self,
        ctx: &RequestContext,
        id: ReturnId,
    ) -> Result<ReturnAuthorization, OrderError> {
        let (mut tx, mut rma, now) = self.open_return(ctx, id).await?;
        let stored = rma.version;
        rma.approve(now)?;
        if !rma.exchange.is_empty() {
            let original = tx
                .lock_order(rma.order_id)
                .await?
                .ok_or(OrderError::NotFound(rma.order_id))?;
            let draft = NewOrder {
                channel: Some(EXCHANGE_CHANNEL.into()),
                external_id: Some(rma.rma_number.clone()),
                allow_backorder: true,
                ship_to: original.ship_to.clone(),
                service_level: original.service_level,
                hold_id: None,
                lines: rma
                    .exchange
                    .iter()
                    .map(|(sku, quantity)| NewOrderLine {
                        sku: sku.to_string(),
                        quantity: quantity.as_i64(),
                        unit_price_minor: 0,
                        currency: original.total.currency.to_string(),
                    })
                    .collect(),
            };
            let mut replacement = draft.validate(OrderId::at(now), ctx.tenant_id, now)?;
            let stock = tx
                .reserve_lines(&stock_request(ctx, &replacement, now))
                .await?;
            replacement.allocate(&stock.allocated, stock.cutoff, now)?;
            tx.insert_order(&replacement).await?;
            tx.record_status_changes(
                replacement.id,
                &replacement.take_status_changes(),
                &ctx.actor,
            )
            .await?;
            tx.append_events(&outbox_events(&mut replacement, ctx, now))
                .await?;
            rma.link_replacement(replacement.id);
        }
        finish(tx, &mut rma, Some(stored), ctx, now).await?;
        Ok(rma)
    }

    pub async fn reject_return(
        &self,
        ctx: &RequestContext,
        id: ReturnId,
        reason: String,
    ) -> Result<ReturnAuthorization, OrderError> {
        self.change_return(ctx, id, |rma, now| rma.reject(reason, now))
            .await
    }

    /// Counts what arrived; the order's lines count it returned.
    pub async fn receive_return(
        &self,
        ctx: &RequestContext,
        id: ReturnId,
        counted: Vec<(u32, i64)>,
    ) -> Result<ReturnAuthorization, OrderError> {
        let (mut tx, mut rma, now) = self.open_return(ctx, id).await?;
        let stored = rma.version;
        let got = rma.receive(&counted, now)?;
        let mut order = tx
            .lock_order(rma.order_id)
            .await?
            .ok_or(OrderError::NotFound(rma.order_id))?;
        let order_version = order.version;
        order.record_returned(&got, now);
        tx.update_order(&order, order_version).await?;
        finish(tx, &mut rma, Some(stored), ctx, now).await?;
        Ok(rma)
    }

    /// Decides every received unit; restocked ones go back on the shelf of `warehouse`.
    pub async fn inspect_return(
        &self,
        ctx: &RequestContext,
        id: ReturnId,
        decisions: Vec<(u32, i64, i64)>,
        warehouse: Option<String>,
    ) -> Result<ReturnAuthorization, OrderError> {
        let (mut tx, mut rma, now) = self.open_return(ctx, id).await?;
        let stored = rma.version;
        let restock = rma.inspect(&decisions, now)?;
        if !restock.is_empty() {
            let request = StockRequest {
                reference: format!("return:{}", rma.id),
                actor: ctx.actor.clone(),
                at: now,
                correlation_id: Some(ctx.correlation_id),
                lines: restock,
            };
            tx.restock(&request, warehouse).await?;
        }
        finish(tx, &mut rma, Some(stored), ctx, now).await?;
        Ok(rma)
    }

    pub async fn refund_return(
        &self,
        ctx: &RequestContext,
        id: ReturnId,
        amount_minor: Option<i64>,
    ) -> Result<ReturnAuthorization, OrderError> {
        self.change_return(ctx, id, |rma, now| {
            rma.refund(amount_minor, now).map(|_| ())
        })
        .await
    }

    pub async fn get_return(
        &self,
        ctx: &RequestContext,
        id: ReturnId,
    ) -> Result<ReturnAuthorization, OrderError> {
        self.queries
            .get_return(ctx.tenant_id, id)
            .await?
            .ok_or(OrderError::ReturnNotFound(id))
    }

    pub async fn list_returns(
        &self,
        ctx: &RequestContext,
        filter: &ReturnFilter,
        page: PageRequest<ReturnId>,
    ) -> Result<Page<ReturnAuthorization, ReturnId>, OrderError> {
        if let Some(order) = filter.order_id {
            self.get(ctx, order).await?;
        }
        Ok(self.queries.returns(ctx.tenant_id, filter, page).await?)
    }

    /// Begins the unit of work and locks the return in it.
    async fn open_return(
        &self,
        ctx: &RequestContext,
        id: ReturnId,
    ) -> Result<
        (
            Box<dyn OrderTransaction>,
            ReturnAuthorization,
            DateTime<Utc>,
        ),
        OrderError,
    > {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let rma = tx
            .lock_return(id)
            .await?
            .ok_or(OrderError::ReturnNotFound(id))?;
        Ok((tx, rma, now))
    }

    async fn change_return(
        &self,
        ctx: &RequestContext,
        id: ReturnId,
        step: impl FnOnce(&mut ReturnAuthorization, DateTime<Utc>) -> Result<(), OrderError>,
    ) -> Result<ReturnAuthorization, OrderError> {
        let (tx, mut rma, now) = self.open_return(ctx, id).await?;
        let stored = rma.version;
        step(&mut rma, now)?;
        finish(tx, &mut rma, Some(stored), ctx, now).await?;
        Ok(rma)
    }
}

/// Saves the return (unless it was just inserted), writes its events and commits.
async fn finish(
    mut tx: Box<dyn OrderTransaction>,
    rma: &mut ReturnAuthorization,
    stored_version: Option<i64>,
    ctx: &RequestContext,
    now: DateTime<Utc>,
) -> Result<(), OrderError> {
    if let Some(version) = stored_version {
        tx.update_return(rma, version).await?;
    }
    tx.append_events(&rma.take_events(ctx, now)).await?;
    tx.commit().await?;
    Ok(())
}
