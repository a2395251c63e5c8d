//! Stock reservations inside any open transaction (an order's, a hold's): the SQL half of
//! `inventory::reservations::StockLedger`, shared by the order and inventory units of work.
//! Reserve, release, and consume on shipment (`inventory::shipping::consume`, which any unit
//! of work can call with itself: `reservations::consume(self, &lines, &meta)`).

use crate::entities::{
    allocation_rule, kit_component, stock_allocation, stock_level, stock_movement,
};
use crate::inventory::movement_row;
use crate::store_err;
use crate::write_behind::LedgerConn;
use inventory::allocation::{AllocationRules, LockedStock, Reservation};
use inventory::kit::KitComponent;
use inventory::reservations::MovementMeta;
use inventory::{MovementKind, StockMovement};
use kernel::{MovementId, Quantity, Sku, StoreError, TenantId, WarehouseId};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QueryTrait, Statement, Value,
};
use std::collections::HashMap;

mod consume;
pub(crate) use consume::consume_reservations;

/// Implements `StockLedger` for a unit of work with `tx`, `tenant` and
/// `rules_read_ahead: Option<AllocationRules>` fields by delegating to this module: the order
/// and inventory units of work reserve stock the same way.
macro_rules! delegate_stock_ledger {
    ($unit:ty) => {
        #[async_trait::async_trait]
        impl inventory::reservations::StockLedger for $unit {
            async fn kit_components(
                &mut self,
                skus: &[kernel::Sku],
            ) -> Result<
                std::collections::HashMap<kernel::Sku, Vec<inventory::kit::KitComponent>>,
                kernel::StoreError,
            > {
                $crate::stock_ledger::kit_components(
                    $crate::write_behind::LedgerConn::conn(&mut self.tx).await?,
                    self.tenant,
                    skus,
                )
                .await
            }

            async fn lock_stock(
                &mut self,
                skus: &[kernel::Sku],
            ) -> Result<Vec<inventory::allocation::LockedStock>, kernel::StoreError> {
                let (rows, rules) = $crate::stock_ledger::lock_stock_and_rules(
                    $crate::write_behind::LedgerConn::conn(&mut self.tx).await?,
                    self.tenant,
                    skus,
                )
                .await?;
                self.rules_read_ahead = rules;
                Ok(rows)
            }

            async fn allocation_rules(
                &mut self,
            ) -> Result<inventory::allocation::AllocationRules, kernel::StoreError> {
                // Reserving asks for the rules right after the lock, which read them with the
                // stock rows: one round trip fewer on the order path.
                if let Some(rules) = self.rules_read_ahead.take() {
                    return Ok(rules);
                }
                $crate::stock_ledger::allocation_rules(
                    $crate::write_behind::LedgerConn::conn(&mut self.tx).await?,
                    self.tenant,
                )
                .await
            }

            async fn add_reservations(
                &mut self,
                reservations: &[inventory::allocation::Reservation],
                meta: &inventory::reservations::MovementMeta,
            ) -> Result<(), kernel::StoreError> {
                $crate::stock_ledger::add_reservations(&mut self.tx, reservations, meta).await
            }

            async fn release_reservations(
                &mut self,
                meta: &inventory::reservations::MovementMeta,
            ) -> Result<Vec<inventory::allocation::Reservation>, kernel::StoreError> {
                $crate::stock_ledger::release_reservations(
                    $crate::write_behind::LedgerConn::conn(&mut self.tx).await?,
                    meta,
                )
                .await
            }

            async fn allocations_of(
                &mut self,
                reference: &str,
            ) -> Result<Vec<inventory::allocation::Reservation>, kernel::StoreError> {
                $crate::stock_ledger::allocations_of(
                    $crate::write_behind::LedgerConn::conn(&mut self.tx).await?,
                    self.tenant,
                    reference,
                )
                .await
            }

            async fn consume_reservations(
                &mut self,
                consumed: &[inventory::allocation::Reservation],
                meta: &inventory::reservations::MovementMeta,
            ) -> Result<Vec<inventory::shipping::ShippedStock>, kernel::StoreError> {
                $crate::stock_ledger::consume_reservations(
                    $crate::write_behind::LedgerConn::conn(&mut self.tx).await?,
                    consumed,
                    meta,
                )
                .await
            }

            async fn append_events(
                &mut self,
                events: &[kernel::EventEnvelope],
            ) -> Result<(), kernel::StoreError> {
                $crate::outbox::append_to(&mut self.tx, events).await
            }
        }
    };
}
pub(crate) use delegate_stock_ledger;

fn bad(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::from_source(e)
}

pub(crate) async fn kit_components(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<HashMap<Sku, Vec<KitComponent>>, StoreError> {
    let rows = kit_component::Entity::find()
        .filter(kit_component::Column::TenantId.eq(tenant.into_uuid()))
        .filter(kit_component::Column::KitSku.is_in(skus.iter().map(Sku::as_str)))
        .order_by_asc(kit_component::Column::KitSku)
        .order_by_asc(kit_component::Column::ComponentSku)
        .all(tx)
        .await
        .map_err(store_err)?;
    let mut kits: HashMap<Sku, Vec<KitComponent>> = HashMap::new();
    for r in rows {
        kits.entry(Sku::parse(&r.kit_sku).map_err(bad)?)
            .or_default()
            .push(KitComponent {
                sku: Sku::parse(&r.component_sku).map_err(bad)?,
                quantity: Quantity::new(r.quantity).map_err(bad)?,
            });
    }
    Ok(kits)
}

/// Locks the rows of `skus` in every warehouse, in (SKU, warehouse) order — the one order
/// every writer takes them in, so two transactions never wait on each other in a cycle.
pub(crate) async fn lock_stock(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<Vec<LockedStock>, StoreError> {
    Ok(lock_stock_and_rules(tx, tenant, skus).await?.0)
}

/// [`lock_stock`], and the tenant's routing rules read by the same statement: `None` when no
/// row came back to carry them.
pub(crate) async fn lock_stock_and_rules(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<(Vec<LockedStock>, Option<AllocationRules>), StoreError> {
    if skus.is_empty() {
        return Ok((Vec::new(), None));
    }
    let backend = tx.get_database_backend();
    let placeholder = |i: usize| match backend {
        DatabaseBackend::Postgres => format!("${i}"),
        _ => "?".to_owned(),
    };
    let list: Vec<String> = (0..skus.len()).map(|i| placeholder(i + 2)).collect();
    // The SKUs filter the products too: the planner does not carry an IN list across the join,
    // and without it a stale estimate can make it walk every product of the tenant (seen in
    // `make bench`: 1,000 index probes, 5-13 ms, per order). PostgreSQL reuses `$2..`; SQLite's
    // `?` needs the values again.
    let product_list: Vec<String> = match backend {
        DatabaseBackend::Postgres => list.clone(),
        _ => (0..skus.len())
            .map(|i| placeholder(i + 2 + skus.len()))
            .collect(),
    };
    let lock = match backend {
        DatabaseBackend::Postgres => " FOR UPDATE OF s",
        // SQLite has one writer at a time: the transaction itself is the lock.
        _ => "",
    };
    let sql = format!(
        "SELECT s.sku, s.warehouse_id, s.on_hand, s.reserved, w.priority, w.cutoff_minute, \
         p.low_stock_threshold, r.prefer_single_warehouse, r.allow_split \
         FROM stock_levels s \
         JOIN warehouses w ON w.id = s.warehouse_id \
         JOIN products p ON p.tenant_id = s.tenant_id AND p.sku = s.sku \
         LEFT JOIN allocation_rules r ON r.tenant_id = s.tenant_id \
         WHERE s.tenant_id = {} AND s.sku IN ({}) AND p.sku IN ({}) AND p.active \
         ORDER BY s.sku, s.warehouse_id{lock}",
        placeholder(1),
        list.join(", "),
        product_list.join(", ")
    );
    let mut values: Vec<Value> = vec![tenant.into_uuid().into()];
    values.extend(skus.iter().map(|s| Value::from(s.as_str().to_owned())));
    if backend != DatabaseBackend::Postgres {
        values.extend(skus.iter().map(|s| Value::from(s.as_str().to_owned())));
    }
    let rows = tx
        .query_all(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(store_err)?;
    let get = |e| store_err(e);
    let rules = match rows.first() {
        Some(r) => Some(
            match (
                r.try_get::<Option<bool>>("", "prefer_single_warehouse")
                    .map_err(get)?,
                r.try_get::<Option<bool>>("", "allow_split").map_err(get)?,
            ) {
                (Some(prefer_single_warehouse), Some(allow_split)) => AllocationRules {
                    prefer_single_warehouse,
                    allow_split,
                },
                _ => AllocationRules::default(),
            },
        ),
        None => None,
    };
    let stock = rows
        .into_iter()
        .map(|r| {
            Ok(LockedStock {
                sku: Sku::parse(&r.try_get::<String>("", "sku").map_err(get)?).map_err(bad)?,
                warehouse_id: WarehouseId::from_uuid(
                    r.try_get::<uuid::Uuid>("", "warehouse_id").map_err(get)?,
                ),
                on_hand: r.try_get("", "on_hand").map_err(get)?,
                reserved: r.try_get("", "reserved").map_err(get)?,
                priority: r.try_get("", "priority").map_err(get)?,
                low_stock_threshold: r.try_get("", "low_stock_threshold").map_err(get)?,
                cutoff_minute: r.try_get("", "cutoff_minute").map_err(get)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((stock, rules))
}

/// The tenant's routing rules; the defaults until it sets some.
pub(crate) async fn allocation_rules(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<AllocationRules, StoreError> {
    Ok(allocation_rule::Entity::find_by_id(tenant.into_uuid())
        .one(conn)
        .await
        .map_err(store_err)?
        .map(|r| AllocationRules {
            prefer_single_warehouse: r.prefer_single_warehouse,
            allow_split: r.allow_split,
        })
        .unwrap_or_default())
}

fn movement(
    meta: &MovementMeta,
    r: &Reservation,
    kind: MovementKind,
    sign: i64,
) -> stock_movement::ActiveModel {
    movement_row(&StockMovement {
        id: MovementId::new(),
        tenant_id: meta.tenant_id,
        warehouse_id: r.warehouse_id,
        sku: r.sku.clone(),
        kind,
        on_hand_delta: 0,
        reserved_delta: sign * r.quantity.as_i64(),
        incoming_delta: 0,
        reason: None,
        reference: Some(meta.reference.clone()),
        actor: Some(meta.actor.clone()),
        occurred_at: meta.at,
    })
}

/// Moves one row's `reserved` (and `on_hand`, when shipping) by the given deltas.
pub(crate) async fn move_stock(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    (sku, warehouse): (&Sku, WarehouseId),
    on_hand_delta: i64,
    delta: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let mut update = stock_level::Entity::update_many()
        .col_expr(
            stock_level::Column::Reserved,
            Expr::col(stock_level::Column::Reserved).add(delta),
        )
        .col_expr(
            stock_level::Column::Version,
            Expr::col(stock_level::Column::Version).add(1),
        )
        .col_expr(stock_level::Column::UpdatedAt, at.into())
        .filter(stock_level::Column::TenantId.eq(tenant.into_uuid()))
        .filter(stock_level::Column::Sku.eq(sku.as_str()))
        .filter(stock_level::Column::WarehouseId.eq(warehouse.into_uuid()));
    if on_hand_delta != 0 {
        update = update.col_expr(
            stock_level::Column::OnHand,
            Expr::col(stock_level::Column::OnHand).add(on_hand_delta),
        );
    }
    // Belt and braces under the row lock: never more reserved than on hand, never below zero.
    update = if delta > 0 {
        update.filter(
            Expr::expr(
                Expr::col(stock_level::Column::OnHand)
                    .sub(Expr::col(stock_level::Column::Reserved)),
            )
            .gte(delta),
        )
    } else {
        update.filter(stock_level::Column::Reserved.gte(-delta))
    };
    let result = update.exec(tx).await.map_err(store_err)?;
    if result.rows_affected != 1 {
        return Err(StoreError::new(format!(
            "stock of {sku} moved under a lock: cannot change reserved by {delta}"
        )));
    }
    Ok(())
}

/// Reserves each row and records the allocations and movements. The writes go through
/// `conn`, so a write-behind unit of work sends them with its other writes: the rows were
/// locked by `lock_stock`, and `CHECK (reserved <= on_hand)` refuses an over-reservation
/// (which the allocation planner never asks for) by failing the transaction.
pub(crate) async fn add_reservations(
    conn: &mut impl LedgerConn,
    reservations: &[Reservation],
    meta: &MovementMeta,
) -> Result<(), StoreError> {
    if reservations.is_empty() {
        return Ok(());
    }
    // One update per stock row (two lines may reserve from the same one): held-back writes
    // are sent as one statement, which must not change a row twice.
    let mut per_row: Vec<((&Sku, WarehouseId), i64)> = Vec::new();
    for r in reservations {
        let key = (&r.sku, r.warehouse_id);
        match per_row.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += r.quantity.as_i64(),
            None => per_row.push((key, r.quantity.as_i64())),
        }
    }
    for ((sku, warehouse), quantity) in per_row {
        let update = stock_level::Entity::update_many()
            .col_expr(
                stock_level::Column::Reserved,
                Expr::col(stock_level::Column::Reserved).add(quantity),
            )
            .col_expr(
                stock_level::Column::Version,
                Expr::col(stock_level::Column::Version).add(1),
            )
            .col_expr(stock_level::Column::UpdatedAt, meta.at.into())
            .filter(stock_level::Column::TenantId.eq(meta.tenant_id.into_uuid()))
            .filter(stock_level::Column::Sku.eq(sku.as_str()))
            .filter(stock_level::Column::WarehouseId.eq(warehouse.into_uuid()))
            .into_query();
        conn.write(update.into()).await?;
    }
    let allocations = stock_allocation::Entity::insert_many(reservations.iter().map(|r| {
        stock_allocation::ActiveModel {
            tenant_id: Set(meta.tenant_id.into_uuid()),
            owner: Set(meta.reference.clone()),
            line_no: Set(r.line_no as i32),
            sku: Set(r.sku.to_string()),
            warehouse_id: Set(r.warehouse_id.into_uuid()),
            quantity: Set(r.quantity.as_i64()),
        }
    }))
    .on_conflict(
        OnConflict::columns([
            stock_allocation::Column::TenantId,
            stock_allocation::Column::Owner,
            stock_allocation::Column::LineNo,
            stock_allocation::Column::Sku,
            stock_allocation::Column::WarehouseId,
        ])
        .value(
            stock_allocation::Column::Quantity,
            Expr::col((stock_allocation::Entity, stock_allocation::Column::Quantity))
                .add(Expr::cust("excluded.quantity")),
        )
        .to_owned(),
    )
    .into_query();
    conn.write(allocations.into()).await?;
    let movements = stock_movement::Entity::insert_many(
        reservations
            .iter()
            .map(|r| movement(meta, r, MovementKind::Reservation, 1)),
    )
    .into_query();
    conn.write(movements.into()).await
}

/// What `owner` holds, in lock order.
pub(crate) async fn allocations_of(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    owner: &str,
) -> Result<Vec<Reservation>, StoreError> {
    let rows = stock_allocation::Entity::find()
        .filter(stock_allocation::Column::TenantId.eq(tenant.into_uuid()))
        .filter(stock_allocation::Column::Owner.eq(owner))
        .order_by_asc(stock_allocation::Column::Sku)
        .order_by_asc(stock_allocation::Column::WarehouseId)
        .all(tx)
        .await
        .map_err(store_err)?;
    rows.into_iter()
        .map(|a| {
            Ok(Reservation {
                line_no: a.line_no as u32,
                warehouse_id: WarehouseId::from_uuid(a.warehouse_id),
                sku: Sku::parse(&a.sku).map_err(bad)?,
                quantity: Quantity::new(a.quantity).map_err(bad)?,
            })
        })
        .collect()
}

pub(crate) async fn release_reservations(
    tx: &DatabaseTransaction,
    meta: &MovementMeta,
) -> Result<Vec<Reservation>, StoreError> {
    let held = allocations_of(tx, meta.tenant_id, &meta.reference).await?;
    if held.is_empty() {
        return Ok(held);
    }
    for r in &held {
        move_stock(
            tx,
            meta.tenant_id,
            (&r.sku, r.warehouse_id),
            0,
            -r.quantity.as_i64(),
            meta.at,
        )
        .await?;
    }
    stock_allocation::Entity::delete_many()
        .filter(stock_allocation::Column::TenantId.eq(meta.tenant_id.into_uuid()))
        .filter(stock_allocation::Column::Owner.eq(meta.reference.as_str()))
        .exec(tx)
        .await
        .map_err(store_err)?;
    stock_movement::Entity::insert_many(
        held.iter()
            .map(|r| movement(meta, r, MovementKind::Release, -1)),
    )
    .exec_without_returning(tx)
    .await
    .map_err(store_err)?;
    Ok(held)
}

/// Hands what `from` holds to `to`, renumbering lines (`(old line, new line)`).
pub(crate) async fn transfer_allocations(
    tx: &DatabaseTransaction,
    tenant: TenantId,
    from: &str,
    to: &str,
    lines: &[(u32, u32)],
) -> Result<(), StoreError> {
    for (old, new) in lines {
        stock_allocation::Entity::update_many()
            .col_expr(stock_allocation::Column::Owner, to.into())
            .col_expr(stock_allocation::Column::LineNo, (*new as i32).into())
            .filter(stock_allocation::Column::TenantId.eq(tenant.into_uuid()))
            .filter(stock_allocation::Column::Owner.eq(from))
            .filter(stock_allocation::Column::LineNo.eq(*old as i32))
            .exec(tx)
            .await
            .map_err(store_err)?;
    }
    Ok(())
}
