//! Stock reads: levels, totals, the ledger, demand history, valuation; hold and transfer rows.

use crate::entities::{
    product, reservation_hold, stock_level, stock_movement, stock_transfer, warehouse,
};
use crate::inventory::{bad, to_level, to_movement};
use crate::{SqlStore, store_err};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use inventory::hold::{Hold, HoldLine, HoldStatus};
use inventory::ledger::LedgerSums;
use inventory::ports::StockQueries;
use inventory::transfer::{Transfer, TransferLine, TransferStatus};
use inventory::{StockDelta, StockLevel, StockMovement, StockTotals, ValuationRow};
use kernel::{
    Currency, HoldId, Money, MovementId, Page, PageRequest, Quantity, Sku, StoreError, TenantId,
    TransferId, WarehouseId,
};

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::HashMap;

pub(crate) fn to_hold(m: reservation_hold::Model) -> Result<Hold, StoreError> {
    let lines: Vec<HoldLine> = serde_json::from_value(m.lines).map_err(bad)?;
    Ok(Hold {
        id: HoldId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        status: HoldStatus::parse(&m.status)
            .ok_or_else(|| StoreError::new(format!("unknown hold status {}", m.status)))?,
        lines,
        reference: m.reference,
        order_ref: m.order_ref,
        expires_at: m.expires_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn hold_row(h: &Hold) -> Result<reservation_hold::ActiveModel, StoreError> {
    Ok(reservation_hold::ActiveModel {
        id: Set(h.id.into_uuid()),
        tenant_id: Set(h.tenant_id.into_uuid()),
        status: Set(h.status.as_str().to_owned()),
        lines: Set(serde_json::to_value(&h.lines).map_err(bad)?),
        reference: Set(h.reference.clone()),
        order_ref: Set(h.order_ref.clone()),
        expires_at: Set(h.expires_at),
        created_at: Set(h.created_at),
        updated_at: Set(h.updated_at),
    })
}

pub(crate) fn to_transfer(m: stock_transfer::Model) -> Result<Transfer, StoreError> {
    let lines: Vec<TransferLine> = serde_json::from_value(m.lines).map_err(bad)?;
    Ok(Transfer {
        id: TransferId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        from: WarehouseId::from_uuid(m.from_warehouse_id),
        to: WarehouseId::from_uuid(m.to_warehouse_id),
        status: TransferStatus::parse(&m.status)
            .ok_or_else(|| StoreError::new(format!("unknown transfer status {}", m.status)))?,
        lines,
        reference: m.reference,
        created_at: m.created_at,
        received_at: m.received_at,
    })
}

pub(crate) fn transfer_row(t: &Transfer) -> Result<stock_transfer::ActiveModel, StoreError> {
    Ok(stock_transfer::ActiveModel {
        id: Set(t.id.into_uuid()),
        tenant_id: Set(t.tenant_id.into_uuid()),
        from_warehouse_id: Set(t.from.into_uuid()),
        to_warehouse_id: Set(t.to.into_uuid()),
        status: Set(t.status.as_str().to_owned()),
        lines: Set(serde_json::to_value(&t.lines).map_err(bad)?),
        reference: Set(t.reference.clone()),
        created_at: Set(t.created_at),
        received_at: Set(t.received_at),
    })
}

#[derive(FromQueryResult)]
struct TotalsRow {
    sku: String,
    on_hand: i64,
    reserved: i64,
    incoming: i64,
}

#[derive(FromQueryResult)]
struct SumsRow {
    warehouse_id: Option<uuid::Uuid>,
    sku: String,
    on_hand: i64,
    reserved: i64,
    incoming: i64,
}

#[derive(FromQueryResult)]
struct DemandRow {
    sku: String,
    occurred_at: DateTime<Utc>,
    reserved_delta: i64,
}

/// `SUM` of a BIGINT is NUMERIC on PostgreSQL: cast it back so it reads as an i64.
fn sum_i64(col: impl sea_orm::sea_query::IntoColumnRef) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::col(col)
        .sum()
        .cast_as(sea_orm::sea_query::Alias::new("BIGINT"))
}

fn tenant_levels(tenant: TenantId) -> sea_orm::Select<stock_level::Entity> {
    stock_level::Entity::find().filter(stock_level::Column::TenantId.eq(tenant.into_uuid()))
}

#[async_trait]
impl StockQueries for SqlStore {
    async fn levels(&self, tenant: TenantId, sku: &Sku) -> Result<Vec<StockLevel>, StoreError> {
        self.levels_of(tenant, std::slice::from_ref(sku)).await
    }

    async fn levels_of(
        &self,
        tenant: TenantId,
        skus: &[Sku],
    ) -> Result<Vec<StockLevel>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            tenant_levels(tenant)
                .filter(stock_level::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
                .order_by_asc(stock_level::Column::Sku)
                .order_by_asc(stock_level::Column::WarehouseId)
                .all(tx)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(to_level)
                .collect()
        })
        .await
    }

    async fn totals(
        &self,
        tenant: TenantId,
        page: PageRequest<Sku>,
    ) -> Result<Page<StockTotals, Sku>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let mut query = tenant_levels(tenant)
                .select_only()
                .column(stock_level::Column::Sku)
                .column_as(sum_i64(stock_level::Column::OnHand), "on_hand")
                .column_as(sum_i64(stock_level::Column::Reserved), "reserved")
                .column_as(sum_i64(stock_level::Column::Incoming), "incoming")
                .group_by(stock_level::Column::Sku)
                .order_by_asc(stock_level::Column::Sku)
                .limit(u64::from(page.limit) + 1);
            if let Some(after) = &page.after {
                query = query.filter(stock_level::Column::Sku.gt(after.as_str()));
            }
            let rows = query
                .into_model::<TotalsRow>()
                .all(tx)
                .await
                .map_err(store_err)?;
            let items = rows
                .into_iter()
                .map(|r| {
                    Ok(StockTotals {
                        sku: Sku::parse(&r.sku).map_err(bad)?,
                        on_hand: Quantity::new(r.on_hand).map_err(bad)?,
                        reserved: Quantity::new(r.reserved).map_err(bad)?,
                        incoming: Quantity::new(r.incoming).map_err(bad)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Page::from_overfetch(
                items,
                page.limit,
                |t: &StockTotals| t.sku.clone(),
            ))
        })
        .await
    }

    async fn movements(
        &self,
        tenant: TenantId,
        sku: &Sku,
        page: PageRequest<MovementId>,
    ) -> Result<Page<StockMovement, MovementId>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let mut query = stock_movement::Entity::find()
                .filter(stock_movement::Column::TenantId.eq(tenant.into_uuid()))
                .filter(stock_movement::Column::Sku.eq(sku.as_str()))
                .order_by_desc(stock_movement::Column::Id)
                .limit(u64::from(page.limit) + 1);
            if let Some(after) = page.after {
                query = query.filter(stock_movement::Column::Id.lt(after.into_uuid()));
            }
            let rows = query.all(tx).await.map_err(store_err)?;
            let items = rows
                .into_iter()
                .map(to_movement)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(
                items,
                page.limit,
                |m: &StockMovement| m.id,
            ))
        })
        .await
    }

    async fn all_levels(&self, tenant: TenantId) -> Result<Vec<StockLevel>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            tenant_levels(tenant)
                .all(tx)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(to_level)
                .collect()
        })
        .await
    }

    async fn ledger_sums(&self, tenant: TenantId) -> Result<LedgerSums, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let rows = stock_movement::Entity::find()
                .select_only()
                .column(stock_movement::Column::WarehouseId)
                .column(stock_movement::Column::Sku)
                .column_as(sum_i64(stock_movement::Column::OnHandDelta), "on_hand")
                .column_as(sum_i64(stock_movement::Column::ReservedDelta), "reserved")
                .column_as(sum_i64(stock_movement::Column::IncomingDelta), "incoming")
                .filter(stock_movement::Column::TenantId.eq(tenant.into_uuid()))
                .group_by(stock_movement::Column::WarehouseId)
                .group_by(stock_movement::Column::Sku)
                .into_model::<SumsRow>()
                .all(tx)
                .await
                .map_err(store_err)?;
            rows.into_iter()
                .map(|r| {
                    Ok((
                        (
                            WarehouseId::from_uuid(r.warehouse_id.unwrap_or_default()),
                            Sku::parse(&r.sku).map_err(bad)?,
                        ),
                        StockDelta {
                            on_hand: r.on_hand,
                            reserved: r.reserved,
                            incoming: r.incoming,
                        },
                    ))
                })
                .collect()
        })
        .await
    }

    async fn daily_demand(
        &self,
        tenant: TenantId,
        skus: &[Sku],
        days: u32,
        until: DateTime<Utc>,
    ) -> Result<HashMap<Sku, Vec<u32>>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let since = until - Duration::days(i64::from(days));
            // Orders' reservations are demand, whether or not stock covered them all.
            let rows = stock_movement::Entity::find()
                .select_only()
                .column(stock_movement::Column::Sku)
                .column(stock_movement::Column::OccurredAt)
                .column(stock_movement::Column::ReservedDelta)
                .filter(stock_movement::Column::TenantId.eq(tenant.into_uuid()))
                .filter(stock_movement::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
                .filter(stock_movement::Column::Kind.eq("reservation"))
                .filter(stock_movement::Column::Reference.like("order:%"))
                .filter(stock_movement::Column::OccurredAt.gt(since))
                .filter(stock_movement::Column::OccurredAt.lte(until))
                .into_model::<DemandRow>()
                .all(tx)
                .await
                .map_err(store_err)?;
            let mut demand: HashMap<Sku, Vec<u32>> = skus
                .iter()
                .map(|s| (s.clone(), vec![0; days as usize]))
                .collect();
            for r in rows {
                let age = (until - r.occurred_at)
                    .num_days()
                    .clamp(0, i64::from(days) - 1) as usize;
                if let Some(series) = Sku::parse(&r.sku).ok().and_then(|s| demand.get_mut(&s)) {
                    let slot = series.len() - 1 - age;
                    series[slot] = series[slot].saturating_add(r.reserved_delta.max(0) as u32);
                }
            }
            Ok(demand)
        })
        .await
    }

    async fn valuation_rows(&self, tenant: TenantId) -> Result<Vec<ValuationRow>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            let levels = tenant_levels(tenant)
                .filter(stock_level::Column::OnHand.gt(0))
                .all(tx)
                .await
                .map_err(store_err)?;
            let products: HashMap<String, (Option<i64>, Option<String>)> = product::Entity::find()
                .filter(product::Column::TenantId.eq(tenant.into_uuid()))
                .filter(product::Column::AverageCostMinor.is_not_null())
                .all(tx)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(|p| (p.sku, (p.average_cost_minor, p.average_cost_currency)))
                .collect();
            let warehouses: HashMap<uuid::Uuid, String> = warehouse::Entity::find()
                .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
                .all(tx)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(|w| (w.id, w.code))
                .collect();
            let mut rows = Vec::new();
            for l in levels {
                let Some((Some(amount), Some(currency))) = products.get(&l.sku) else {
                    continue;
                };
                rows.push(ValuationRow {
                    warehouse: warehouses.get(&l.warehouse_id).cloned().unwrap_or_default(),
                    sku: Sku::parse(&l.sku).map_err(bad)?,
                    on_hand: Quantity::new(l.on_hand).map_err(bad)?,
                    average_cost: Money::new(*amount, Currency::parse(currency).map_err(bad)?),
                });
            }
            Ok(rows)
        })
        .await
    }

    async fn transfer(
        &self,
        tenant: TenantId,
        id: TransferId,
    ) -> Result<Option<Transfer>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            stock_transfer::Entity::find_by_id(id.into_uuid())
                .filter(stock_transfer::Column::TenantId.eq(tenant.into_uuid()))
                .one(tx)
                .await
                .map_err(store_err)?
                .map(to_transfer)
                .transpose()
        })
        .await
    }

    async fn hold(&self, tenant: TenantId, id: HoldId) -> Result<Option<Hold>, StoreError> {
        self.in_tenant(tenant, async |tx| {
            reservation_hold::Entity::find_by_id(id.into_uuid())
                .filter(reservation_hold::Column::TenantId.eq(tenant.into_uuid()))
                .one(tx)
                .await
                .map_err(store_err)?
                .map(to_hold)
                .transpose()
        })
        .await
    }
}
