//! Catalogue and warehouses, and the row ↔ domain mappings the other inventory modules share.

use crate::entities::{kit_component, product, stock_level, stock_movement, warehouse};
use crate::{SqlStore, is_unique_violation, store_err};
use async_trait::async_trait;
use inventory::allocation::AllocationRules;
use inventory::kit::KitComponent;
use inventory::ports::{ProductFilter, ProductRepository, WarehouseRepository};
use inventory::routing::WarehousePlacement;
use inventory::{
    Dimensions, InventoryError, MovementKind, Product, StockLevel, StockMovement, Warehouse,
};
use kernel::{
    Currency, Money, MovementId, Page, PageRequest, ProductId, Quantity, Sku, StoreError, TenantId,
    WarehouseId,
};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashMap;

pub(crate) fn bad(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::from_source(e)
}

fn money(amount: Option<i64>, currency: Option<String>) -> Result<Option<Money>, StoreError> {
    match (amount, currency) {
        (Some(amount), Some(c)) => Ok(Some(Money::new(amount, Currency::parse(&c).map_err(bad)?))),
        _ => Ok(None),
    }
}

pub(crate) fn to_product(
    m: product::Model,
    components: Vec<KitComponent>,
) -> Result<Product, StoreError> {
    let dimensions = match (m.length_mm, m.width_mm, m.height_mm) {
        (Some(l), Some(w), Some(h)) => Some(Dimensions {
            length_mm: l as u32,
            width_mm: w as u32,
            height_mm: h as u32,
        }),
        _ => None,
    };
    Ok(Product {
        id: ProductId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        sku: Sku::parse(&m.sku).map_err(bad)?,
        name: m.name,
        barcode: m.barcode,
        weight_grams: m.weight_grams.map(|w| w as u32),
        dimensions,
        unit_cost: money(m.unit_cost_minor, m.unit_cost_currency)?,
        hs_code: m.hs_code,
        country_of_origin: m.country_of_origin,
        active: m.active,
        components,
        low_stock_threshold: m.low_stock_threshold,
        lead_time_days: m.lead_time_days,
        average_cost: money(m.average_cost_minor, m.average_cost_currency)?,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn product_row(p: &Product) -> product::ActiveModel {
    product::ActiveModel {
        id: Set(p.id.into_uuid()),
        tenant_id: Set(p.tenant_id.into_uuid()),
        sku: Set(p.sku.to_string()),
        name: Set(p.name.clone()),
        barcode: Set(p.barcode.clone()),
        weight_grams: Set(p.weight_grams.map(|w| w as i32)),
        length_mm: Set(p.dimensions.map(|d| d.length_mm as i32)),
        width_mm: Set(p.dimensions.map(|d| d.width_mm as i32)),
        height_mm: Set(p.dimensions.map(|d| d.height_mm as i32)),
        unit_cost_minor: Set(p.unit_cost.map(|m| m.amount_minor)),
        unit_cost_currency: Set(p.unit_cost.map(|m| m.currency.to_string())),
        hs_code: Set(p.hs_code.clone()),
        country_of_origin: Set(p.country_of_origin.clone()),
        version: Set(p.version),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
        active: Set(p.active),
        low_stock_threshold: Set(p.low_stock_threshold),
        lead_time_days: Set(p.lead_time_days),
        average_cost_minor: Set(p.average_cost.map(|m| m.amount_minor)),
        average_cost_currency: Set(p.average_cost.map(|m| m.currency.to_string())),
    }
}

pub(crate) fn to_level(m: stock_level::Model) -> Result<StockLevel, StoreError> {
    Ok(StockLevel {
        warehouse_id: WarehouseId::from_uuid(m.warehouse_id),
        sku: Sku::parse(&m.sku).map_err(bad)?,
        on_hand: Quantity::new(m.on_hand).map_err(bad)?,
        reserved: Quantity::new(m.reserved).map_err(bad)?,
        incoming: Quantity::new(m.incoming).map_err(bad)?,
        version: m.version,
    })
}

pub(crate) fn to_warehouse(m: warehouse::Model) -> Result<Warehouse, StoreError> {
    Ok(Warehouse {
        id: WarehouseId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        code: m.code,
        name: m.name,
        address: m
            .address
            .map(serde_json::from_value)
            .transpose()
            .map_err(bad)?,
        priority: m.priority,
        is_default: m.is_default,
        created_at: m.created_at,
        cutoff_minute: m.cutoff_minute,
    })
}

pub(crate) fn warehouse_row(w: &Warehouse) -> Result<warehouse::ActiveModel, StoreError> {
    Ok(warehouse::ActiveModel {
        id: Set(w.id.into_uuid()),
        tenant_id: Set(w.tenant_id.into_uuid()),
        code: Set(w.code.clone()),
        name: Set(w.name.clone()),
        address: Set(w
            .address
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(bad)?),
        priority: Set(w.priority),
        is_default: Set(w.is_default),
        created_at: Set(w.created_at),
        cutoff_minute: Set(w.cutoff_minute),
    })
}

pub(crate) fn movement_row(m: &StockMovement) -> stock_movement::ActiveModel {
    stock_movement::ActiveModel {
        id: Set(m.id.into_uuid()),
        tenant_id: Set(m.tenant_id.into_uuid()),
        warehouse_id: Set(Some(m.warehouse_id.into_uuid())),
        sku: Set(m.sku.to_string()),
        kind: Set(m.kind.as_str().to_owned()),
        on_hand_delta: Set(m.on_hand_delta),
        reserved_delta: Set(m.reserved_delta),
        incoming_delta: Set(m.incoming_delta),
        reason: Set(m.reason.clone()),
        reference: Set(m.reference.clone()),
        actor: Set(m.actor.clone()),
        occurred_at: Set(m.occurred_at),
    }
}

pub(crate) fn to_movement(m: stock_movement::Model) -> Result<StockMovement, StoreError> {
    Ok(StockMovement {
        id: MovementId::from_uuid(m.id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        warehouse_id: WarehouseId::from_uuid(m.warehouse_id.unwrap_or_default()),
        sku: Sku::parse(&m.sku).map_err(bad)?,
        kind: MovementKind::parse(&m.kind)
            .ok_or_else(|| StoreError::new(format!("unknown movement {}", m.kind)))?,
        on_hand_delta: m.on_hand_delta,
        reserved_delta: m.reserved_delta,
        incoming_delta: m.incoming_delta,
        reason: m.reason,
        reference: m.reference,
        actor: m.actor,
        occurred_at: m.occurred_at,
    })
}

/// Components of the given kits, in one query.
pub(crate) async fn components_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    kits: &[&str],
) -> Result<HashMap<String, Vec<KitComponent>>, StoreError> {
    if kits.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = kit_component::Entity::find()
        .filter(kit_component::Column::TenantId.eq(tenant.into_uuid()))
        .filter(kit_component::Column::KitSku.is_in(kits.iter().copied()))
        .order_by_asc(kit_component::Column::ComponentSku)
        .all(conn)
        .await
        .map_err(store_err)?;
    let mut by_kit: HashMap<String, Vec<KitComponent>> = HashMap::new();
    for r in rows {
        by_kit.entry(r.kit_sku).or_default().push(KitComponent {
            sku: Sku::parse(&r.component_sku).map_err(bad)?,
            quantity: Quantity::new(r.quantity).map_err(bad)?,
        });
    }
    Ok(by_kit)
}

/// Rows to products, with every kit's components loaded in one more query (never one each).
pub(crate) async fn with_components(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    rows: Vec<product::Model>,
) -> Result<Vec<Product>, StoreError> {
    let skus: Vec<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    let mut components = components_of(conn, tenant, &skus).await?;
    rows.into_iter()
        .map(|r| {
            let c = components.remove(&r.sku).unwrap_or_default();
            to_product(r, c)
        })
        .collect()
}

/// A simple product's first stock row: nothing yet, in the given warehouse.
fn empty_level(p: &Product, warehouse: WarehouseId) -> stock_level::ActiveModel {
    stock_level::ActiveModel {
        tenant_id: Set(p.tenant_id.into_uuid()),
        sku: Set(p.sku.to_string()),
        warehouse_id: Set(warehouse.into_uuid()),
        on_hand: Set(0),
        reserved: Set(0),
        incoming: Set(0),
        version: Set(1),
        updated_at: Set(p.created_at),
    }
}

pub(crate) async fn default_warehouse_id(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Option<WarehouseId>, StoreError> {
    Ok(warehouse::Entity::find()
        .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
        .filter(warehouse::Column::IsDefault.eq(true))
        .one(conn)
        .await
        .map_err(store_err)?
        .map(|w| WarehouseId::from_uuid(w.id)))
}

#[async_trait]
impl ProductRepository for SqlStore {
    async fn insert(&self, p: &Product) -> Result<(), InventoryError> {
        let tx = self.begin_tenant(p.tenant_id).await?;
        let inserted = product::Entity::insert(product_row(p))
            .exec_without_returning(&tx)
            .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(InventoryError::DuplicateSku(p.sku.clone()));
            }
            other => other.map_err(store_err)?,
        };
        if p.is_kit() {
            kit_component::Entity::insert_many(p.components.iter().map(|c| {
                kit_component::ActiveModel {
                    tenant_id: Set(p.tenant_id.into_uuid()),
                    kit_sku: Set(p.sku.to_string()),
                    component_sku: Set(c.sku.to_string()),
                    quantity: Set(c.quantity.as_i64()),
                }
            }))
            .exec_without_returning(&tx)
            .await
            .map_err(store_err)?;
        } else if let Some(warehouse) = default_warehouse_id(&tx, p.tenant_id).await? {
            // A simple product has a stock row from birth in the default warehouse.
            stock_level::Entity::insert(empty_level(p, warehouse))
                .exec_without_returning(&tx)
                .await
                .map_err(store_err)?;
        }
        tx.commit().await.map_err(store_err)?;
        Ok(())
    }

    async fn insert_all(&self, products: &[Product]) -> Result<(), InventoryError> {
        let Some(first) = products.first() else {
            return Ok(());
        };
        let tenant = first.tenant_id;
        let tx = self.begin_tenant(tenant).await?;
        // Name the first SKU that is taken, so the report can point at its line.
        for chunk in products.chunks(500) {
            let taken = product::Entity::find()
                .select_only()
                .column(product::Column::Sku)
                .filter(product::Column::TenantId.eq(tenant.into_uuid()))
                .filter(product::Column::Sku.is_in(chunk.iter().map(|p| p.sku.as_str())))
                .into_tuple::<String>()
                .one(&tx)
                .await
                .map_err(store_err)?;
            if let Some(sku) = taken {
                return Err(InventoryError::DuplicateSku(Sku::parse(&sku).map_err(bad)?));
            }
        }
        let warehouse = default_warehouse_id(&tx, tenant).await?;
        for chunk in products.chunks(500) {
            match product::Entity::insert_many(chunk.iter().map(product_row))
                .exec_without_returning(&tx)
                .await
            {
                // A concurrent import took one of these SKUs after the check above.
                Err(e) if is_unique_violation(&e) => {
                    return Err(InventoryError::DuplicateSku(chunk[0].sku.clone()));
                }
                other => other.map_err(store_err)?,
            };
            if let Some(warehouse) = warehouse {
                stock_level::Entity::insert_many(chunk.iter().map(|p| empty_level(p, warehouse)))
                    .exec_without_returning(&tx)
                    .await
                    .map_err(store_err)?;
            }
        }
        tx.commit().await.map_err(store_err)?;
        Ok(())
    }

    async fn get(&self, tenant: TenantId, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let query = product::Entity::find()
            .filter(product::Column::TenantId.eq(tenant.into_uuid()))
            .filter(product::Column::Sku.eq(sku.as_str()));
        self.in_tenant(tenant, async |tx| {
            let row = query.one(tx).await.map_err(store_err)?;
            Ok(with_components(tx, tenant, row.into_iter().collect())
                .await?
                .pop())
        })
        .await
    }

    async fn list(
        &self,
        tenant: TenantId,
        filter: &ProductFilter,
        page: PageRequest<Sku>,
    ) -> Result<Page<Product, Sku>, StoreError> {
        let mut query = product::Entity::find()
            .filter(product::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_asc(product::Column::Sku)
            .limit(u64::from(page.limit) + 1);
        if !filter.include_archived {
            query = query.filter(product::Column::Active.eq(true));
        }
        if let Some(search) = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let pattern = format!(
                "%{}%",
                search
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            query = query.filter(
                Condition::any()
                    .add(product::Column::Sku.eq(search.to_uppercase()))
                    .add(product::Column::Sku.eq(search))
                    .add(product::Column::Barcode.eq(search))
                    .add(
                        Expr::expr(Func::lower(Expr::col(product::Column::Name)))
                            .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
                    ),
            );
        }
        if let Some(after) = &page.after {
            query = query.filter(product::Column::Sku.gt(after.as_str()));
        }
        let items = self
            .in_tenant(tenant, async |tx| {
                let rows = query.all(tx).await.map_err(store_err)?;
                with_components(tx, tenant, rows).await
            })
            .await?;
        Ok(Page::from_overfetch(items, page.limit, |p: &Product| {
            p.sku.clone()
        }))
    }

    async fn update(&self, p: &Product, expected_version: i64) -> Result<(), InventoryError> {
        let mut row = product_row(p);
        row.id = sea_orm::ActiveValue::Unchanged(p.id.into_uuid());
        row.created_at = sea_orm::ActiveValue::NotSet;
        row.average_cost_minor = sea_orm::ActiveValue::NotSet;
        row.average_cost_currency = sea_orm::ActiveValue::NotSet;
        let update = product::Entity::update_many()
            .set(row)
            .filter(product::Column::TenantId.eq(p.tenant_id.into_uuid()))
            .filter(product::Column::Id.eq(p.id.into_uuid()))
            .filter(product::Column::Version.eq(expected_version));
        let result = self
            .in_tenant(p.tenant_id, async |tx| {
                update.exec(tx).await.map_err(store_err)
            })
            .await?;
        if result.rows_affected != 1 {
            return Err(InventoryError::VersionMismatch {
                what: format!("product {}", p.sku),
                expected: expected_version,
                actual: expected_version + 1,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl WarehouseRepository for SqlStore {
    async fn insert(&self, w: &Warehouse) -> Result<(), InventoryError> {
        let insert = warehouse::Entity::insert(warehouse_row(w)?);
        self.in_tenant(w.tenant_id, async |tx| {
            match insert.exec_without_returning(tx).await {
                Err(e) if is_unique_violation(&e) => {
                    Err(InventoryError::DuplicateWarehouse(w.code.clone()))
                }
                other => other.map(|_| ()).map_err(|e| store_err(e).into()),
            }
        })
        .await
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<Warehouse>, StoreError> {
        let query = warehouse::Entity::find()
            .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_asc(warehouse::Column::Priority)
            .order_by_asc(warehouse::Column::Code);
        self.in_tenant(tenant, async |tx| query.all(tx).await.map_err(store_err))
            .await?
            .into_iter()
            .map(to_warehouse)
            .collect()
    }

    async fn by_code(&self, tenant: TenantId, code: &str) -> Result<Option<Warehouse>, StoreError> {
        let query = warehouse::Entity::find()
            .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse::Column::Code.eq(code));
        self.in_tenant(tenant, async |tx| query.one(tx).await.map_err(store_err))
            .await?
            .map(to_warehouse)
            .transpose()
    }

    async fn update_details(&self, w: &Warehouse) -> Result<(), StoreError> {
        let row = warehouse_row(w)?;
        let update = warehouse::Entity::update_many()
            .col_expr(warehouse::Column::Name, Expr::value(w.name.clone()))
            .col_expr(
                warehouse::Column::Address,
                Expr::value(row.address.unwrap()),
            )
            .filter(warehouse::Column::TenantId.eq(w.tenant_id.into_uuid()))
            .filter(warehouse::Column::Id.eq(w.id.into_uuid()));
        self.in_tenant(w.tenant_id, async |tx| {
            update.exec(tx).await.map(|_| ()).map_err(store_err)
        })
        .await
    }

    async fn default_warehouse(&self, tenant: TenantId) -> Result<Option<Warehouse>, StoreError> {
        let query = warehouse::Entity::find()
            .filter(warehouse::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse::Column::IsDefault.eq(true));
        self.in_tenant(tenant, async |tx| query.one(tx).await.map_err(store_err))
            .await?
            .map(to_warehouse)
            .transpose()
    }

    async fn allocation_rules(&self, tenant: TenantId) -> Result<AllocationRules, StoreError> {
        self.in_tenant(tenant, async |tx| {
            crate::stock_ledger::allocation_rules(tx, tenant).await
        })
        .await
    }

    async fn save_routing(
        &self,
        tenant: TenantId,
        rules: AllocationRules,
        placements: &[WarehousePlacement],
    ) -> Result<(), StoreError> {
        crate::routing::save(self, tenant, rules, placements).await
    }
}
