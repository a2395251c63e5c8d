//! Stock reservations inside any open transaction (an order's, a hold's): the SQL half of
//! `inventory::reservations::StockLedger`, shared by the order and inventory units of work.
//! Reserve, release, and consume on shipment (`inventory::shipping::consume`, which any unit
//! of work can call with itself: `reservations::consume(self, &lines, &meta)`).

use crate::entities::{allocation_rule, stock_allocation, stock_level, stock_movement};
use crate::inventory::movement_row;
use crate::store_err;
use crate::tx::Tx;
use crate::write_behind::{LedgerConn, ReserveStock, insert_rows};
use inventory::allocation::{AllocationRules, Reservation};
use inventory::reservations::MovementMeta;
use inventory::{MovementKind, StockMovement};
use kernel::{MovementId, Quantity, Sku, StoreError, TenantId, WarehouseId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

mod consume;
mod lock;
pub(crate) use consume::consume_reservations;
pub(crate) use lock::{ReadAhead, kits_and_lock, lock_stock, lock_stock_and_rules};

/// Implements `StockLedger` for a unit of work with `tx`, `tenant` and
/// `read_ahead: ReadAhead` fields by delegating to this module: the order
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
                let (kits, locked) = $crate::stock_ledger::kits_and_lock(
                    $crate::write_behind::LedgerConn::conn(&mut self.tx).await?,
                    self.tenant,
                    skus,
                )
                .await?;
                self.read_ahead.locked_for(skus, locked);
                Ok(kits)
            }

            async fn lock_stock(
                &mut self,
                skus: &[kernel::Sku],
            ) -> Result<Vec<inventory::allocation::LockedStock>, kernel::StoreError> {
                // No SKU was a kit: the kit look-up has locked these rows already.
                let (rows, rules) = match self.read_ahead.take_locked(skus) {
                    Some(locked) => locked,
                    None => {
                        $crate::stock_ledger::lock_stock_and_rules(
                            $crate::write_behind::LedgerConn::conn(&mut self.tx).await?,
                            self.tenant,
                            skus,
                        )
                        .await?
                    }
                };
                self.read_ahead.rules = rules;
                Ok(rows)
            }

            async fn allocation_rules(
                &mut self,
            ) -> Result<inventory::allocation::AllocationRules, kernel::StoreError> {
                // Reserving asks for the rules right after the lock, which read them with the
                // stock rows: one round trip fewer on the order path.
                if let Some(rules) = self.read_ahead.rules.take() {
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
    tx: &Tx,
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
    // One update for every stock row, each row once (two lines may reserve from the same
    // one): held-back writes are sent as one statement, which must not change a row twice.
    let mut reserve = ReserveStock::new(meta.tenant_id, meta.at);
    for r in reservations {
        reserve.add(&r.sku, r.warehouse_id, r.quantity.as_i64());
    }
    conn.write(reserve.into()).await?;
    let allocations = insert_rows(reservations.iter().map(|r| stock_allocation::ActiveModel {
        tenant_id: Set(meta.tenant_id.into_uuid()),
        owner: Set(meta.reference.clone()),
        line_no: Set(r.line_no as i32),
        sku: Set(r.sku.to_string()),
        warehouse_id: Set(r.warehouse_id.into_uuid()),
        quantity: Set(r.quantity.as_i64()),
    }));
    if let Some(allocations) = allocations {
        let allocations = allocations.on_conflict(
            "(\"tenant_id\", \"owner\", \"line_no\", \"sku\", \"warehouse_id\") DO UPDATE SET \
             \"quantity\" = \"stock_allocations\".\"quantity\" + excluded.\"quantity\"",
        );
        conn.write(allocations.into()).await?;
    }
    let movements = insert_rows(
        reservations
            .iter()
            .map(|r| movement(meta, r, MovementKind::Reservation, 1)),
    );
    match movements {
        Some(movements) => conn.write(movements.into()).await,
        None => Ok(()),
    }
}

/// What `owner` holds, in lock order.
pub(crate) async fn allocations_of(
    tx: &Tx,
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
    tx: &Tx,
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
    tx: &Tx,
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
