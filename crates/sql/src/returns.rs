//! Returns (RMA) storage, and putting returned units back on the shelf inside the order's
//! unit of work.

use crate::entities::{return_authorization as row, stock_level, stock_movement, warehouse};
use crate::inventory::movement_row;
use crate::tx::Tx;
use crate::{outbox, stock_ledger, store_err};
use inventory::{MovementKind, StockMovement};
use kernel::{
    Currency, Money, MovementId, OrderId, Page, PageRequest, Quantity, RequestContext, ReturnId,
    Sku, StoreError, TenantId, ValidationErrors, WarehouseId,
};
use order::OrderError;
use order::ports::{ReturnFilter, StockRequest};
use order::returns::{ReturnAuthorization, ReturnLine, ReturnReason, ReturnStatus};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde_json::{Value, json};

fn bad(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::from_source(e)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::new(format!("stored return has a bad {what}"))
}

fn to_return(m: row::Model) -> Result<ReturnAuthorization, StoreError> {
    let q = |v: &Value| Quantity::new(v.as_i64().unwrap_or(-1)).map_err(bad);
    let lines = m
        .lines
        .as_array()
        .ok_or_else(|| corrupt("lines"))?
        .iter()
        .map(|l| {
            Ok(ReturnLine {
                line_no: l["line_no"].as_u64().ok_or_else(|| corrupt("line_no"))? as u32,
                sku: Sku::parse(l["sku"].as_str().unwrap_or_default()).map_err(bad)?,
                quantity: q(&l["quantity"])?,
                reason: ReturnReason::parse(l["reason"].as_str().unwrap_or_default())
                    .ok_or_else(|| corrupt("reason"))?,
                note: l["note"].as_str().map(str::to_owned),
                unit_price: serde_json::from_value::<Money>(l["unit_price"].clone())
                    .map_err(bad)?,
                received: q(&l["received"])?,
                restocked: q(&l["restocked"])?,
                disposed: q(&l["disposed"])?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let exchange = m
        .exchange
        .as_array()
        .ok_or_else(|| corrupt("exchange"))?
        .iter()
        .map(|e| {
            Ok((
                Sku::parse(e["sku"].as_str().unwrap_or_default()).map_err(bad)?,
                q(&e["quantity"])?,
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let refund = match (m.refund_minor, m.refund_currency) {
        (Some(minor), Some(c)) => Some(Money::new(minor, Currency::parse(&c).map_err(bad)?)),
        _ => None,
    };
    let mut rma = ReturnAuthorization::restore(
        ReturnId::from_uuid(m.id),
        TenantId::from_uuid(m.tenant_id),
        OrderId::from_uuid(m.order_id),
        m.rma_number,
        ReturnStatus::parse(&m.status).ok_or_else(|| corrupt("status"))?,
        lines,
        exchange,
        m.version,
        m.created_at,
        m.updated_at,
    );
    rma.replacement_order_id = m.replacement_order_id.map(OrderId::from_uuid);
    rma.rejection_reason = m.rejection_reason;
    rma.refund = refund;
    Ok(rma)
}

fn to_row(r: &ReturnAuthorization) -> row::ActiveModel {
    let lines: Vec<Value> = r
        .lines
        .iter()
        .map(|l| {
            json!({ "line_no": l.line_no, "sku": l.sku, "quantity": l.quantity,
                    "reason": l.reason.as_str(), "note": l.note, "unit_price": l.unit_price,
                    "received": l.received, "restocked": l.restocked, "disposed": l.disposed })
        })
        .collect();
    let exchange: Vec<Value> = r
        .exchange
        .iter()
        .map(|(sku, q)| json!({ "sku": sku, "quantity": q }))
        .collect();
    row::ActiveModel {
        id: Set(r.id.into_uuid()),
        tenant_id: Set(r.tenant_id.into_uuid()),
        order_id: Set(r.order_id.into_uuid()),
        rma_number: Set(r.rma_number.clone()),
        status: Set(r.status.as_str().to_owned()),
        lines: Set(Value::Array(lines)),
        exchange: Set(Value::Array(exchange)),
        replacement_order_id: Set(r.replacement_order_id.map(OrderId::into_uuid)),
        rejection_reason: Set(r.rejection_reason.clone()),
        refund_minor: Set(r.refund.map(|m| m.amount_minor)),
        refund_currency: Set(r.refund.map(|m| m.currency.to_string())),
        version: Set(r.version),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
    }
}

fn of_tenant(tenant: TenantId) -> Select<row::Entity> {
    row::Entity::find().filter(row::Column::TenantId.eq(tenant.into_uuid()))
}

pub(crate) async fn insert(tx: &Tx, r: &ReturnAuthorization) -> Result<(), StoreError> {
    row::Entity::insert(to_row(r))
        .exec_without_returning(tx)
        .await
        .map_err(store_err)?;
    Ok(())
}

pub(crate) async fn lock(
    tx: &Tx,
    tenant: TenantId,
    id: ReturnId,
) -> Result<Option<ReturnAuthorization>, StoreError> {
    of_tenant(tenant)
        .filter(row::Column::Id.eq(id.into_uuid()))
        .lock_exclusive()
        .one(tx)
        .await
        .map_err(store_err)?
        .map(to_return)
        .transpose()
}

pub(crate) async fn update(
    tx: &Tx,
    tenant: TenantId,
    r: &ReturnAuthorization,
    expected_version: i64,
) -> Result<(), OrderError> {
    let done = row::Entity::update_many()
        .set(to_row(r))
        .filter(row::Column::TenantId.eq(tenant.into_uuid()))
        .filter(row::Column::Id.eq(r.id.into_uuid()))
        .filter(row::Column::Version.eq(expected_version))
        .exec(tx)
        .await
        .map_err(store_err)?;
    if done.rows_affected != 1 {
        return Err(OrderError::VersionConflict);
    }
    Ok(())
}

pub(crate) async fn open_units(
    tx: &Tx,
    tenant: TenantId,
    order: OrderId,
) -> Result<Vec<(u32, i64)>, StoreError> {
    let open = [ReturnStatus::Requested, ReturnStatus::Approved];
    let rows = of_tenant(tenant)
        .filter(row::Column::OrderId.eq(order.into_uuid()))
        .filter(row::Column::Status.is_in(open.iter().map(|s| s.as_str())))
        .all(tx)
        .await
        .map_err(store_err)?;
    let mut units = Vec::new();
    for r in rows {
        for l in to_return(r)?.lines {
            units.push((l.line_no, l.quantity.as_i64()));
        }
    }
    Ok(units)
}

/// The ids of an order's returns (their events belong on the order's timeline).
pub(crate) async fn ids_of_order(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    order: OrderId,
) -> Result<Vec<uuid::Uuid>, StoreError> {
    of_tenant(tenant)
        .select_only()
        .column(row::Column::Id)
        .filter(row::Column::OrderId.eq(order.into_uuid()))
        .limit(MAX_RETURNS_ON_TIMELINE)
        .into_tuple()
        .all(conn)
        .await
        .map_err(store_err)
}

const MAX_RETURNS_ON_TIMELINE: u64 = 100;

pub(crate) async fn get(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: ReturnId,
) -> Result<Option<ReturnAuthorization>, StoreError> {
    of_tenant(tenant)
        .filter(row::Column::Id.eq(id.into_uuid()))
        .one(conn)
        .await
        .map_err(store_err)?
        .map(to_return)
        .transpose()
}

pub(crate) async fn list(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    filter: &ReturnFilter,
    page: PageRequest<ReturnId>,
) -> Result<Page<ReturnAuthorization, ReturnId>, StoreError> {
    let mut query = of_tenant(tenant)
        .order_by_desc(row::Column::Id)
        .limit(u64::from(page.limit) + 1);
    if let Some(order) = filter.order_id {
        query = query.filter(row::Column::OrderId.eq(order.into_uuid()));
    }
    if let Some(status) = filter.status {
        query = query.filter(row::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = page.after {
        query = query.filter(row::Column::Id.lt(after.into_uuid()));
    }
    let rows = query
        .all(conn)
        .await
        .map_err(store_err)?
        .into_iter()
        .map(to_return)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(rows, page.limit, |r| r.id))
}

/// `return` movements adding on hand in one warehouse, rows locked in the usual order.
pub(crate) async fn restock(
    tx: &Tx,
    tenant: TenantId,
    request: &StockRequest,
    warehouse_code: Option<String>,
) -> Result<(), OrderError> {
    let mut query =
        warehouse::Entity::find().filter(warehouse::Column::TenantId.eq(tenant.into_uuid()));
    query = match &warehouse_code {
        Some(code) => query.filter(warehouse::Column::Code.eq(code.trim().to_ascii_uppercase())),
        None => query.filter(warehouse::Column::IsDefault.eq(true)),
    };
    let Some(target) = query.one(tx).await.map_err(store_err)? else {
        return Err(ValidationErrors::single(
            "warehouse",
            "no such warehouse; see GET /api/v1/warehouses",
        )
        .into());
    };
    let warehouse_id = WarehouseId::from_uuid(target.id);
    let mut skus: Vec<Sku> = request.lines.iter().map(|(_, s, _)| s.clone()).collect();
    skus.sort();
    skus.dedup();
    let locked = stock_ledger::lock_stock(tx, tenant, &skus).await?;
    let ctx = RequestContext {
        tenant_id: tenant,
        actor: request.actor.clone(),
        correlation_id: request.correlation_id.unwrap_or_default(),
    };
    let mut events = Vec::new();
    for (_, sku, units) in &request.lines {
        let q = units.as_i64();
        if locked
            .iter()
            .any(|r| &r.sku == sku && r.warehouse_id == warehouse_id)
        {
            stock_ledger::move_stock(tx, tenant, (sku, warehouse_id), q, 0, request.at).await?;
        } else {
            // First units of this SKU here; a concurrent first receipt adds, never overwrites.
            stock_level::Entity::insert(stock_level::ActiveModel {
                tenant_id: Set(tenant.into_uuid()),
                sku: Set(sku.to_string()),
                warehouse_id: Set(warehouse_id.into_uuid()),
                on_hand: Set(q),
                reserved: Set(0),
                incoming: Set(0),
                version: Set(1),
                updated_at: Set(request.at),
            })
            .on_conflict(
                OnConflict::columns([
                    stock_level::Column::TenantId,
                    stock_level::Column::Sku,
                    stock_level::Column::WarehouseId,
                ])
                .value(
                    stock_level::Column::OnHand,
                    Expr::col((stock_level::Entity, stock_level::Column::OnHand))
                        .add(Expr::cust("excluded.on_hand")),
                )
                .value(
                    stock_level::Column::Version,
                    Expr::col((stock_level::Entity, stock_level::Column::Version)).add(1),
                )
                .to_owned(),
            )
            .exec_without_returning(tx)
            .await
            .map_err(store_err)?;
        }
        stock_movement::Entity::insert(movement_row(&StockMovement {
            id: MovementId::new(),
            tenant_id: tenant,
            warehouse_id,
            sku: sku.clone(),
            kind: MovementKind::Return,
            on_hand_delta: q,
            reserved_delta: 0,
            incoming_delta: 0,
            reason: Some("returned and restocked".into()),
            reference: Some(request.reference.clone()),
            actor: Some(request.actor.clone()),
            occurred_at: request.at,
        }))
        .exec_without_returning(tx)
        .await
        .map_err(store_err)?;
        events.push(inventory::service::sku_event(
            &ctx,
            "inventory.changed",
            sku,
            request.at,
            json!({ "sku": sku, "warehouse": target.code, "on_hand_delta": q, "cause": "return" }),
        ));
    }
    outbox::append(tx, &events).await?;
    Ok(())
}
