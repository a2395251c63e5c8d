use crate::entities::{idempotency_record, order as order_row, order_line, order_status_history};
use crate::inventory_tx::{lock_hold, save_hold};
use crate::write_behind::{Buffered, LedgerConn, insert_rows};
use crate::{SqlStore, is_unique_violation, outbox, stock_ledger, store_err};
use async_trait::async_trait;
use inventory::allocation::LineRequest;
use inventory::reservations::{self, MovementMeta, ReserveError, StockLedger};
use inventory::shipping::{ConsumeError, ShipLine};
use kernel::{
    Currency, EventEnvelope, HoldId, Money, OrderId, Quantity, ReturnId, Sku, StoreError, TenantId,
};
use order::ports::{
    IdempotencyRecord, OrderTransaction, OrderUnitOfWork, StockOutcome, StockRequest,
};
use order::returns::ReturnAuthorization;
use order::{
    Address, Cutoff, Hold, Order, OrderError, OrderLine, OrderStatus, ServiceLevel, Shipment,
    StatusChange,
};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use std::collections::HashMap;

fn bad_row(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::from_source(e)
}

fn parse_status(s: &str) -> Result<OrderStatus, StoreError> {
    OrderStatus::parse(s).ok_or_else(|| StoreError::new(format!("unknown order status {s:?}")))
}

fn quantity(n: i64) -> Result<Quantity, StoreError> {
    Quantity::new(n).map_err(bad_row)
}

pub(crate) fn to_order(
    m: order_row::Model,
    lines: Vec<order_line::Model>,
) -> Result<Order, StoreError> {
    let status = parse_status(&m.status)?;
    let currency = Currency::parse(&m.currency).map_err(bad_row)?;
    let ship_to: Address = serde_json::from_value(m.ship_to).map_err(bad_row)?;
    let lines = lines
        .into_iter()
        .map(|l| {
            Ok(OrderLine {
                line_no: l.line_no as u32,
                sku: Sku::parse(&l.sku).map_err(bad_row)?,
                quantity: quantity(l.quantity)?,
                allocated: quantity(l.allocated)?,
                picked: quantity(l.picked)?,
                shipped: quantity(l.shipped)?,
                returned: quantity(l.returned)?,
                unit_price: Money::new(
                    l.unit_price_minor,
                    Currency::parse(&l.currency).map_err(bad_row)?,
                ),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut order = Order::restore(
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
    );
    order.service_level = ServiceLevel::parse(&m.service_level)
        .ok_or_else(|| StoreError::new(format!("unknown service level {:?}", m.service_level)))?;
    order.cutoff = Cutoff::from_minute(m.cutoff_minute.into()).unwrap_or(Cutoff::DEFAULT);
    order.ship_by = m.ship_by.unwrap_or(m.created_at);
    order.hold = match (m.hold_reason, m.hold_resume) {
        (Some(reason), Some(resume)) => Some(Hold {
            reason,
            resume: parse_status(&resume)?,
        }),
        _ => None,
    };
    Ok(order)
}

/// The order's own columns, as written on insert and update.
fn order_columns(o: &Order) -> Result<order_row::ActiveModel, StoreError> {
    Ok(order_row::ActiveModel {
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
        service_level: Set(o.service_level.as_str().to_owned()),
        service_rank: Set(o.service_level.rank()),
        cutoff_minute: Set(i32::from(o.cutoff.minute())),
        ship_by: Set(Some(o.ship_by)),
        hold_reason: Set(o.hold.as_ref().map(|h| h.reason.clone())),
        hold_resume: Set(o.hold.as_ref().map(|h| h.resume.as_str().to_owned())),
        customer_email: Set(o.ship_to.email.as_ref().map(|e| e.to_lowercase())),
    })
}

fn line_rows(o: &Order) -> impl Iterator<Item = order_line::ActiveModel> + '_ {
    o.lines.iter().map(|l| order_line::ActiveModel {
        order_id: Set(o.id.into_uuid()),
        line_no: Set(l.line_no as i32),
        tenant_id: Set(o.tenant_id.into_uuid()),
        sku: Set(l.sku.to_string()),
        quantity: Set(l.quantity.as_i64()),
        allocated: Set(l.allocated.as_i64()),
        unit_price_minor: Set(l.unit_price.amount_minor),
        currency: Set(l.unit_price.currency.to_string()),
        picked: Set(l.picked.as_i64()),
        shipped: Set(l.shipped.as_i64()),
        returned: Set(l.returned.as_i64()),
    })
}

/// Loads the lines of all given orders in one query (never one query per order).
pub(crate) async fn with_lines(
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

pub(crate) fn tenant_orders(tenant: TenantId) -> Select<order_row::Entity> {
    order_row::Entity::find().filter(order_row::Column::TenantId.eq(tenant.into_uuid()))
}

pub(crate) async fn one_order(
    conn: &impl ConnectionTrait,
    query: Select<order_row::Entity>,
) -> Result<Option<Order>, StoreError> {
    let Some(row) = query.one(conn).await.map_err(store_err)? else {
        return Ok(None);
    };
    Ok(with_lines(conn, vec![row]).await?.pop())
}

pub(crate) fn by_external(
    tenant: TenantId,
    channel: &str,
    external_id: &str,
) -> Select<order_row::Entity> {
    tenant_orders(tenant)
        .filter(order_row::Column::Channel.eq(channel))
        .filter(order_row::Column::ExternalId.eq(external_id))
}

pub(crate) async fn idempotency(
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
    tx: Buffered,
    tenant: TenantId,
    read_ahead: crate::stock_ledger::ReadAhead,
}

#[async_trait]
impl OrderUnitOfWork for SqlStore {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn OrderTransaction>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        Ok(Box::new(SqlOrderTx {
            tx: Buffered::new(tx),
            tenant,
            read_ahead: Default::default(),
        }))
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
        idempotency(self.tx.conn().await?, self.tenant, key).await
    }

    async fn find_by_external_id(
        &mut self,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<Order>, StoreError> {
        one_order(
            self.tx.conn().await?,
            by_external(self.tenant, channel, external_id),
        )
        .await
    }

    async fn lock_order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        let query = tenant_orders(self.tenant)
            .filter(order_row::Column::Id.eq(id.into_uuid()))
            .lock_exclusive();
        one_order(self.tx.conn().await?, query).await
    }

    async fn reserve_lines(&mut self, request: &StockRequest) -> Result<StockOutcome, OrderError> {
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
            Ok(plan) => Ok(StockOutcome {
                allocated: plan.allocated,
                cutoff: plan
                    .cutoff_minute
                    .and_then(|m| Cutoff::from_minute(m.into()))
                    .unwrap_or(Cutoff::DEFAULT),
            }),
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
    ) -> Result<StockOutcome, OrderError> {
        let mut hold = lock_hold(self.tx.conn().await?, self.tenant, id)
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
            self.tx.conn().await?,
            self.tenant,
            &hold.owner(),
            &request.reference,
            &renumber,
        )
        .await?;
        save_hold(self.tx.conn().await?, &hold).await?;
        outbox::append(
            self.tx.conn().await?,
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
        Ok(StockOutcome {
            allocated: lines.into_iter().map(|(_, q)| q).collect(),
            cutoff: crate::order_queries::first_cutoff(self.tx.conn().await?, self.tenant).await?,
        })
    }

    async fn insert_order(&mut self, o: &Order) -> Result<(), OrderError> {
        // Held back until the next read or the commit; a duplicate external id then fails
        // the commit, which `commit` maps to `DuplicateExternalId`.
        if let Some(order) = insert_rows([order_columns(o)?]) {
            self.tx.write(order.into()).await?;
        }
        if let Some(lines) = insert_rows(line_rows(o)) {
            self.tx.write(lines.into()).await?;
        }
        Ok(())
    }

    async fn update_order(&mut self, o: &Order, expected_version: i64) -> Result<(), OrderError> {
        let mut row = order_columns(o)?;
        // Identity and creation never change.
        row.id = NotSet;
        row.tenant_id = NotSet;
        row.channel = NotSet;
        row.external_id = NotSet;
        row.created_at = NotSet;
        let result = order_row::Entity::update_many()
            .set(row)
            .filter(order_row::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(order_row::Column::Id.eq(o.id.into_uuid()))
            .filter(order_row::Column::Version.eq(expected_version))
            .exec(self.tx.conn().await?)
            .await
            .map_err(store_err)?;
        if result.rows_affected != 1 {
            return Err(OrderError::VersionConflict);
        }
        // Lines are few (≤ 500) and may have been replaced by an edit: rewrite them in two
        // statements rather than one per line.
        order_line::Entity::delete_many()
            .filter(order_line::Column::OrderId.eq(o.id.into_uuid()))
            .exec(self.tx.conn().await?)
            .await
            .map_err(store_err)?;
        order_line::Entity::insert_many(line_rows(o))
            .exec_without_returning(self.tx.conn().await?)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn record_status_changes(
        &mut self,
        order: OrderId,
        changes: &[StatusChange],
        actor: &str,
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let history = insert_rows(changes.iter().map(|c| order_status_history::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant_id: Set(self.tenant.into_uuid()),
            order_id: Set(order.into_uuid()),
            from_status: Set(c.from.map(|s| s.as_str().to_owned())),
            to_status: Set(c.to.as_str().to_owned()),
            reason: Set(c.reason.clone()),
            actor: Set(actor.to_owned()),
            at: Set(c.at),
        }));
        match history {
            Some(history) => self.tx.write(history.into()).await,
            None => Ok(()),
        }
    }

    async fn insert_shipment(&mut self, s: &Shipment) -> Result<(), StoreError> {
        crate::order_queries::insert_shipment(self.tx.conn().await?, self.tenant, s).await
    }

    async fn open_return_units(&mut self, order: OrderId) -> Result<Vec<(u32, i64)>, StoreError> {
        crate::returns::open_units(self.tx.conn().await?, self.tenant, order).await
    }

    async fn insert_return(&mut self, rma: &ReturnAuthorization) -> Result<(), StoreError> {
        crate::returns::insert(self.tx.conn().await?, rma).await
    }

    async fn lock_return(
        &mut self,
        id: ReturnId,
    ) -> Result<Option<ReturnAuthorization>, StoreError> {
        crate::returns::lock(self.tx.conn().await?, self.tenant, id).await
    }

    async fn update_return(
        &mut self,
        rma: &ReturnAuthorization,
        expected_version: i64,
    ) -> Result<(), OrderError> {
        crate::returns::update(self.tx.conn().await?, self.tenant, rma, expected_version).await
    }

    async fn restock(
        &mut self,
        request: &StockRequest,
        warehouse: Option<String>,
    ) -> Result<(), OrderError> {
        crate::returns::restock(self.tx.conn().await?, self.tenant, request, warehouse).await
    }

    async fn consume_shipment(&mut self, request: &StockRequest) -> Result<(), OrderError> {
        let lines: Vec<ShipLine> = request
            .lines
            .iter()
            .map(|(line_no, sku, quantity)| ShipLine {
                line_no: *line_no,
                sku: sku.clone(),
                quantity: *quantity,
            })
            .collect();
        let meta = meta(self.tenant, request);
        match inventory::shipping::consume(self, &lines, &meta).await {
            Ok(_) => Ok(()),
            // The order checked its own reservations first; disagreeing with the ledger
            // means the two drifted, which must not be papered over.
            Err(ConsumeError::NotReserved {
                line_no,
                wanted,
                reserved,
            }) => Err(StoreError::new(format!(
                "line {line_no}: the order counts {wanted} reserved units but stock holds {reserved}"
            ))
            .into()),
            Err(ConsumeError::Store(e)) => Err(e.into()),
        }
    }

    async fn write_off_reserved(
        &mut self,
        request: &StockRequest,
        warehouse: kernel::WarehouseId,
        reason: &str,
    ) -> Result<(), OrderError> {
        crate::pick_pack::write_off_reserved(
            self.tx.conn().await?,
            self.tenant,
            request,
            warehouse,
            reason,
        )
        .await
    }

    async fn save_idempotency(&mut self, record: &IdempotencyRecord) -> Result<(), OrderError> {
        // Held back like the order; a key taken concurrently fails the commit, which `commit`
        // maps to `DuplicateIdempotencyKey`.
        let insert = insert_rows([idempotency_record::ActiveModel {
            tenant_id: Set(self.tenant.into_uuid()),
            key: Set(record.key.clone()),
            fingerprint: Set(record.fingerprint.clone()),
            resource_type: Set("order".into()),
            resource_id: Set(record.order_id.into_uuid()),
            created_at: Set(chrono::Utc::now()),
        }]);
        if let Some(insert) = insert {
            self.tx.write(insert.into()).await?;
        }
        Ok(())
    }

    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError> {
        StockLedger::append_events(self, events).await
    }

    async fn commit(self: Box<Self>) -> Result<(), OrderError> {
        self.tx.commit().await.map_err(commit_error)
    }
}

/// A commit's error, with the unique keys a placement can lose a race on told apart (both
/// inserts are held back to the commit, so this is where their conflicts surface).
fn commit_error(e: sea_orm::DbErr) -> OrderError {
    if is_unique_violation(&e) {
        let message = e.to_string();
        if message.contains("idempotency") {
            return OrderError::DuplicateIdempotencyKey;
        }
        if message.contains("external") {
            return OrderError::DuplicateExternalId;
        }
    }
    store_err(e).into()
}
