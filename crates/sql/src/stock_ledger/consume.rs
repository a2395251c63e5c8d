//! Consuming reservations as goods ship: the SQL half of `inventory::shipping::consume`.

use super::{bad, move_stock};
use crate::entities::{stock_allocation, stock_level, stock_movement, warehouse};
use crate::inventory::{movement_row, to_level};
use crate::store_err;
use crate::tx::Tx;
use inventory::allocation::Reservation;
use inventory::reservations::MovementMeta;
use inventory::shipping::{SHIP_REASON, ShippedStock};
use inventory::{MovementKind, StockMovement};
use kernel::{MovementId, Quantity, Sku, StoreError, TenantId, WarehouseId};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Ships `consumed` out of `meta.reference`'s reservations: rows first (lock order), then the
/// allocations, then one `ship` movement per (SKU, warehouse); returns those rows afterwards.
pub(crate) async fn consume_reservations(
    tx: &Tx,
    consumed: &[Reservation],
    meta: &MovementMeta,
) -> Result<Vec<ShippedStock>, StoreError> {
    let mut units: BTreeMap<(Sku, WarehouseId), i64> = BTreeMap::new();
    for c in consumed {
        *units.entry((c.sku.clone(), c.warehouse_id)).or_insert(0) += c.quantity.as_i64();
    }
    if units.is_empty() {
        return Ok(Vec::new());
    }
    for ((sku, warehouse), n) in &units {
        move_stock(tx, meta.tenant_id, (sku, *warehouse), -n, -n, meta.at).await?;
    }
    for c in consumed {
        shrink_allocation(tx, meta, c).await?;
    }
    stock_movement::Entity::insert_many(units.iter().map(|((sku, warehouse), n)| {
        movement_row(&StockMovement {
            id: MovementId::new(),
            tenant_id: meta.tenant_id,
            warehouse_id: *warehouse,
            sku: sku.clone(),
            kind: MovementKind::Ship,
            on_hand_delta: -n,
            reserved_delta: -n,
            incoming_delta: 0,
            reason: Some(SHIP_REASON.to_owned()),
            reference: Some(meta.reference.clone()),
            actor: Some(meta.actor.clone()),
            occurred_at: meta.at,
        })
    }))
    .exec_without_returning(tx)
    .await
    .map_err(store_err)?;
    shipped_rows(tx, meta.tenant_id, &units).await
}

/// Takes `c` out of its allocation row, deleting the row when nothing is left (the table
/// allows no zero).
async fn shrink_allocation(
    tx: &Tx,
    meta: &MovementMeta,
    c: &Reservation,
) -> Result<(), StoreError> {
    let n = c.quantity.as_i64();
    let row = Condition::all()
        .add(stock_allocation::Column::TenantId.eq(meta.tenant_id.into_uuid()))
        .add(stock_allocation::Column::Owner.eq(meta.reference.as_str()))
        .add(stock_allocation::Column::LineNo.eq(c.line_no as i32))
        .add(stock_allocation::Column::Sku.eq(c.sku.as_str()))
        .add(stock_allocation::Column::WarehouseId.eq(c.warehouse_id.into_uuid()));
    let deleted = stock_allocation::Entity::delete_many()
        .filter(row.clone())
        .filter(stock_allocation::Column::Quantity.eq(n))
        .exec(tx)
        .await
        .map_err(store_err)?;
    if deleted.rows_affected == 1 {
        return Ok(());
    }
    let shrunk = stock_allocation::Entity::update_many()
        .col_expr(
            stock_allocation::Column::Quantity,
            Expr::col(stock_allocation::Column::Quantity).sub(n),
        )
        .filter(row)
        .filter(stock_allocation::Column::Quantity.gt(n))
        .exec(tx)
        .await
        .map_err(store_err)?;
    if shrunk.rows_affected != 1 {
        return Err(StoreError::new(format!(
            "{} has fewer than {n} of {} reserved for line {} to ship",
            meta.reference, c.sku, c.line_no
        )));
    }
    Ok(())
}

/// The rows a shipment touched, after it, with their warehouse codes: two queries.
async fn shipped_rows(
    tx: &Tx,
    tenant: TenantId,
    units: &BTreeMap<(Sku, WarehouseId), i64>,
) -> Result<Vec<ShippedStock>, StoreError> {
    let skus: BTreeSet<&str> = units.keys().map(|(s, _)| s.as_str()).collect();
    let warehouses: BTreeSet<uuid::Uuid> = units.keys().map(|(_, w)| w.into_uuid()).collect();
    let mut levels: HashMap<(String, uuid::Uuid), stock_level::Model> = stock_level::Entity::find()
        .filter(stock_level::Column::TenantId.eq(tenant.into_uuid()))
        .filter(stock_level::Column::Sku.is_in(skus))
        .filter(stock_level::Column::WarehouseId.is_in(warehouses.iter().copied()))
        .all(tx)
        .await
        .map_err(store_err)?
        .into_iter()
        .map(|m| ((m.sku.clone(), m.warehouse_id), m))
        .collect();
    let codes: HashMap<uuid::Uuid, String> = warehouse::Entity::find()
        .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
        .filter(warehouse::Column::Id.is_in(warehouses))
        .all(tx)
        .await
        .map_err(store_err)?
        .into_iter()
        .map(|w| (w.id, w.code))
        .collect();
    units
        .iter()
        .map(|((sku, warehouse), n)| {
            let key = (sku.to_string(), warehouse.into_uuid());
            let level = levels.remove(&key).ok_or_else(|| {
                StoreError::new(format!("stock of {sku} vanished while shipping"))
            })?;
            Ok(ShippedStock {
                warehouse_code: codes.get(&key.1).cloned().unwrap_or_default(),
                level: to_level(level)?,
                units: Quantity::new(*n).map_err(bad)?,
            })
        })
        .collect()
}
