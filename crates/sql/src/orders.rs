use crate::entities::{idempotency_record, order as order_row, order_line};
use crate::inventory_tx::{lock_hold, save_hold};
use crate::{SqlStore, is_unique_violation, outbox, stock_ledger, store_err};
use async_trait::async_trait;
use inventory::allocation::LineRequest;
use inventory::reservations::{self, MovementMeta, ReserveError, StockLedger};
use kernel::{
    Currency, EventEnvelope, HoldId, Money, OrderId, Page, PageRequest, Quantity, Sku, StoreError,
    TenantId,
};
use order::ports::{
    IdempotencyRecord, OrderFilter, OrderQueries, OrderTransaction, OrderUnitOfWork, StockRequest,
};
use order::{Address, Order, OrderError, OrderLine, OrderStatus};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use std::collections::HashMap;

fn bad_row(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::from_source(e)
}

fn to_order(m: order_row::Model, lines: Vec<order_line::Model>) -> Result<Order, StoreError> {
    let status = OrderStatus::parse(&m.status)
        .ok_or_else(|| StoreError::new(format!("unknown order status {:?}", m.status)))?;
    let currency = Currency::parse(&m.currency).map_err(bad_row)?;
    let ship_to: Address = serde_json::from_value(m.ship_to).map_err(bad_row)?;
    let lines = lines
        .into_iter()
        .map(|l| {
            Ok(OrderLine {
                line_no: l.line_no as u32,
                sku: Sku::parse(&l.sku).map_err(bad_row)?,
                quantity: Quantity::new(l.quantity).map_err(bad_row)?,
                allocated: Quantity::new(l.allocated).map_err(bad_row)?,
                unit_price: Money::new(
                    l.unit_price_minor,
                    Currency::parse(&l.currency).map_err(bad_row)?,
                ),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Order::restore(
        OrderId::from_uuid(m.id),
        TenantId::from_uuid(m.tenant_id),
        m.channel,
        m.external_id,
        status,
        m.allow_backorder,
        ship_to,
        lines,
        Money::new(m.total_minor, currency),
        m.version,
        m.created_at,
        m.updated_at,
    ))
}

/// Loads the lines of all given orders in one query (never one query per order).
async fn with_lines(
    conn: &impl ConnectionTrait,
    orders: Vec<order_row::Model>,
) -> Result<Vec<Order>, StoreError> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
        .order_by_asc(order_line::Column::OrderId)
        .order_by_asc(order_line::Column::LineNo)
        .all(conn)
        .await
        .map_err(store_err)?;
    let mut by_order: HashMap<uuid::Uuid, Vec<order_line::Model>> = HashMap::new();
    for line in lines {
        by_order.entry(line.order_id).or_default().push(line);
    }
    orders
        .into_iter()
        .map(|o| {
            let lines = by_order.remove(&o.id).unwrap_or_default();
            to_order(o, lines)
        })
        .collect()
}

fn tenant_orders(tenant: TenantId) -> Select<order_row::Entity> {
    order_row::Entity::find().filter(order_row::Column::TenantId.eq(tenant.into_uuid()))
}

async fn one_order(
    conn: &impl ConnectionTrait,
    query: Select<order_row::Entity>,
) -> Result<Option<Order>, StoreError> {
    let Some(row) = query.one(conn).await.map_err(store_err)? else {
        return Ok(None);
    };
    Ok(with_lines(conn, vec![row]).await?.pop())
}

fn by_external(tenant: TenantId, channel: &str, external_id: &str) -> Select<order_row::Entity> {
    tenant_orders(tenant)
        .filter(order_row::Column::Channel.eq(channel))
        .filter(order_row::Column::ExternalId.eq(external_id))
}

async fn idempotency(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    let row = idempotency_record::Entity::find_by_id((tenant.into_uuid(), key.to_owned()))
        .one(conn)
        .await
        .map_err(store_err)?;
    Ok(row.map(|r| IdempotencyRecord {
        key: r.key,
        fingerprint: r.fingerprint,
        order_id: OrderId::from_uuid(r.resource_id),
    }))
}

/// One order unit of work: a database transaction scoped to one tenant. Stock goes through
/// inventory's reservation rules on this same transaction.
pub struct SqlOrderTx {
    tx: DatabaseTransaction,
    tenant: TenantId,
}

#[async_trait]
impl OrderUnitOfWork for SqlStore {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn OrderTransaction>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        Ok(Box::new(SqlOrderTx { tx, tenant }))
    }
}

crate::stock_ledger::delegate_stock_ledger!(SqlOrderTx);

fn meta(tenant: TenantId, request: &StockRequest) -> MovementMeta {
    MovementMeta {
        tenant_id: tenant,
        reference: request.reference.clone(),
        actor: request.actor.clone(),
        at: request.at,
        correlation_id: request.correlation_id,
    }
}

#[async_trait]
impl OrderTransaction for SqlOrderTx {
    async fn find_idempotency(
        &mut self,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        idempotency(&self.tx, self.tenant, key).await
    }

    async fn find_by_external_id(
        &mut self,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        one_order(&self.tx, by_external(self.tenant, channel, external_id)).await
    }

    async fn lock_order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        let query = tenant_orders(self.tenant)
            .filter(order_row::Column::Id.eq(id.into_uuid()))
            .lock_exclusive();
        one_order(&self.tx, query).await
    }

    async fn reserve_lines(&mut self, request: &StockRequest) -> Result<Vec<Quantity>, OrderError> {
        let requests: Vec<LineRequest> = request
            .lines
            .iter()
            .map(|(line_no, sku, quantity)| LineRequest {
                line_no: *line_no,
                sku: sku.clone(),
                quantity: *quantity,
            })
            .collect();
        let meta = meta(self.tenant, request);
        match reservations::reserve(self, &requests, &meta, false).await {
            Ok(plan) => Ok(plan.allocated),
            Err(ReserveError::UnknownSkus(skus)) => Err(OrderError::UnknownSkus(skus)),
            Err(ReserveError::Insufficient(_)) => {
                Err(StoreError::new("unreachable: partial reservations allowed").into())
            }
            Err(ReserveError::Store(e)) => Err(e.into()),
        }
    }

    async fn release_all(&mut self, request: &StockRequest) -> Result<(), OrderError> {
        let meta = meta(self.tenant, request);
        reservations::release(self, &meta).await?;
        Ok(())
    }

    async fn claim_hold(
        &mut self,
        id: HoldId,
        request: &StockRequest,
    ) -> Result<Vec<Quantity>, OrderError> {
        let mut hold = lock_hold(&self.tx, self.tenant, id)
            .await?
            .ok_or(OrderError::HoldNotFound(id))?;
        let lines: Vec<(Sku, Quantity)> = request
            .lines
            .iter()
            .map(|(_, sku, quantity)| (sku.clone(), *quantity))
            .collect();
        let mapping = hold
            .confirm(&request.reference, &lines, request.at)
            .map_err(|e| OrderError::HoldUnusable(e.to_string()))?;
        let renumber: Vec<(u32, u32)> = mapping
            .iter()
            .zip(&request.lines)
            .map(|(held, (line_no, _, _))| (*held, *line_no))
            .collect();
        stock_ledger::transfer_allocations(
            &self.tx,
            self.tenant,
            &hold.owner(),
            &request.reference,
            &renumber,
        )
        .await?;
        save_hold(&self.tx, &hold).await?;
        outbox::append(
            &self.tx,
            &[EventEnvelope::new(
                "reservation.confirmed",
                self.tenant,
                request.at,
                "reservation",
                hold.id.into_uuid(),
                request.at.timestamp_micros(),
                serde_json::json!({ "reservation_id": hold.id, "order": request.reference }),
                request.correlation_id,
            )],
        )
        .await?;
        Ok(lines.into_iter().map(|(_, q)| q).collect())
    }

    async fn insert_order(&mut self, o: &Order) -> Result<(), OrderError> {
        let inserted = order_row::Entity::insert(order_row::ActiveModel {
            id: Set(o.id.into_uuid()),
            tenant_id: Set(o.tenant_id.into_uuid()),
            channel: Set(o.channel.clone()),
            external_id: Set(o.external_id.clone()),
            status: Set(o.status.as_str().to_owned()),
            allow_backorder: Set(o.allow_backorder),
            ship_to: Set(serde_json::to_value(&o.ship_to).map_err(bad_row)?),
            currency: Set(o.total.currency.to_string()),
            total_minor: Set(o.total.amount_minor),
            version: Set(o.version),
            created_at: Set(o.created_at),
            updated_at: Set(o.updated_at),
        })
        .exec_without_returning(&self.tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(OrderError::DuplicateExternalId),
            other => other.map_err(store_err)?,
        };
        order_line::Entity::insert_many(o.lines.iter().map(|l| order_line::ActiveModel {
            order_id: Set(o.id.into_uuid()),
            line_no: Set(l.line_no as i32),
            tenant_id: Set(o.tenant_id.into_uuid()),
            sku: Set(l.sku.to_string()),
            quantity: Set(l.quantity.as_i64()),
            allocated: Set(l.allocated.as_i64()),
            unit_price_minor: Set(l.unit_price.amount_minor),
            currency: Set(l.unit_price.currency.to_string()),
        }))
        .exec_without_returning(&self.tx)
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn update_order(&mut self, o: &Order, expected_version: i64) -> Result<(), OrderError> {
        let result = order_row::Entity::update_many()
            .col_expr(order_row::Column::Status, o.status.as_str().into())
            .col_expr(order_row::Column::Version, o.version.into())
            .col_expr(order_row::Column::UpdatedAt, o.updated_at.into())
            .filter(order_row::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(order_row::Column::Id.eq(o.id.into_uuid()))
            .filter(order_row::Column::Version.eq(expected_version))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        if result.rows_affected != 1 {
            return Err(OrderError::VersionConflict);
        }
        for line in &o.lines {
            order_line::Entity::update_many()
                .col_expr(
                    order_line::Column::Allocated,
                    line.allocated.as_i64().into(),
                )
                .filter(order_line::Column::OrderId.eq(o.id.into_uuid()))
                .filter(order_line::Column::LineNo.eq(line.line_no as i32))
                .exec(&self.tx)
                .await
                .map_err(store_err)?;
        }
        Ok(())
    }

    async fn save_idempotency(&mut self, record: &IdempotencyRecord) -> Result<(), OrderError> {
        let inserted = idempotency_record::Entity::insert(idempotency_record::ActiveModel {
            tenant_id: Set(self.tenant.into_uuid()),
            key: Set(record.key.clone()),
            fingerprint: Set(record.fingerprint.clone()),
            resource_type: Set("order".into()),
            resource_id: Set(record.order_id.into_uuid()),
            created_at: Set(chrono::Utc::now()),
        })
        .exec_without_returning(&self.tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => Err(OrderError::DuplicateIdempotencyKey),
            other => other.map(|_| ()).map_err(|e| store_err(e).into()),
        }
    }

    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError> {
        StockLedger::append_events(self, events).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(store_err)
    }
}

#[async_trait]
impl OrderQueries for SqlStore {
    async fn get(&self, tenant: TenantId, id: OrderId) -> Result<Option<Order>, StoreError> {
        one_order(
            &self.db,
            tenant_orders(tenant).filter(order_row::Column::Id.eq(id.into_uuid())),
        )
        .await
    }

    async fn find_by_external_id(
        &self,
        tenant: TenantId,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        one_order(&self.db, by_external(tenant, channel, external_id)).await
    }

    async fn find_idempotency(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        idempotency(&self.db, tenant, key).await
    }

    async fn list(
        &self,
        tenant: TenantId,
        filter: &OrderFilter,
        page: PageRequest<OrderId>,
    ) -> Result<Page<Order, OrderId>, StoreError> {
        let mut query = tenant_orders(tenant)
            .order_by_desc(order_row::Column::Id)
            .limit(u64::from(page.limit) + 1);
        if let Some(status) = filter.status {
            query = query.filter(order_row::Column::Status.eq(status.as_str()));
        }
        if let Some(after) = page.after {
            query = query.filter(order_row::Column::Id.lt(after.into_uuid()));
        }
        let rows = query.all(&self.db).await.map_err(store_err)?;
        let orders = with_lines(&self.db, rows).await?;
        Ok(Page::from_overfetch(orders, page.limit, |o: &Order| o.id))
    }
}
