//! Saving a tenant's routing: its allocation rules and its warehouses' order and cut-offs,
//! in one transaction.

use crate::entities::{allocation_rule, warehouse};
use crate::{SqlStore, store_err};
use inventory::allocation::AllocationRules;
use inventory::routing::WarehousePlacement;
use kernel::{StoreError, TenantId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

pub(crate) async fn save(
    store: &SqlStore,
    tenant: TenantId,
    rules: AllocationRules,
    placements: &[WarehousePlacement],
) -> Result<(), StoreError> {
    let tx = store.begin_tenant(tenant).await?;
    allocation_rule::Entity::insert(allocation_rule::ActiveModel {
        tenant_id: Set(tenant.into_uuid()),
        prefer_single_warehouse: Set(rules.prefer_single_warehouse),
        allow_split: Set(rules.allow_split),
        updated_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::column(allocation_rule::Column::TenantId)
            .update_columns([
                allocation_rule::Column::PreferSingleWarehouse,
                allocation_rule::Column::AllowSplit,
                allocation_rule::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&tx)
    .await
    .map_err(store_err)?;
    // A tenant has a handful of warehouses: one small update each.
    for p in placements {
        warehouse::Entity::update_many()
            .col_expr(warehouse::Column::Priority, p.priority.into())
            .col_expr(warehouse::Column::CutoffMinute, p.cutoff_minute.into())
            .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse::Column::Id.eq(p.id.into_uuid()))
            .exec(&tx)
            .await
            .map_err(store_err)?;
    }
    tx.commit().await.map_err(store_err)
}
