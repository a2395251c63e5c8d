//! Products and warehouses.

use super::InventoryService;
use crate::allocation::AllocationRules;
use crate::ports::{
    InventoryUnitOfWork, ProductFilter, ProductRepository, StockQueries, WarehouseRepository,
};
use crate::product::ProductPatch;
use crate::product_csv::{ImportedProduct, ProductCsvReader, RowError, partition_rows};
use crate::routing::RoutingChange;
use crate::{InventoryError, NewProduct, NewWarehouse, Product, Warehouse};
use kernel::{
    Clock, Page, PageRequest, ProductId, RequestContext, Sku, ValidationErrors, WarehouseId,
};

/// What a CSV import did: how many products it created, and every row it refused.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub created: usize,
    pub errors: Vec<RowError>,
}

fn duplicate_row(rows: &[ImportedProduct], sku: &Sku) -> RowError {
    RowError {
        line: rows
            .iter()
            .find(|r| &r.product.sku == sku)
            .map_or(0, |r| r.line),
        field: Some("sku".into()),
        message: format!("{sku} already exists in your catalogue"),
    }
}

impl<P, W, S, U, C> InventoryService<P, W, S, U, C>
where
    P: ProductRepository,
    W: WarehouseRepository,
    S: StockQueries,
    U: InventoryUnitOfWork,
    C: Clock,
{
    /// Registers a product. A kit's components must already exist as simple products.
    pub async fn register_product(
        &self,
        ctx: &RequestContext,
        draft: NewProduct,
    ) -> Result<Product, InventoryError> {
        let product = draft.validate(ProductId::new(), ctx.tenant_id, self.clock.now())?;
        let mut unknown = Vec::new();
        for component in &product.components {
            match self.products.get(ctx.tenant_id, &component.sku).await? {
                None => unknown.push(component.sku.clone()),
                Some(p) if p.is_kit() => return Err(InventoryError::NestedKit(p.sku)),
                Some(_) => {}
            }
        }
        if !unknown.is_empty() {
            return Err(InventoryError::UnknownSkus(unknown));
        }
        self.products.insert(&product).await?;
        Ok(product)
    }

    pub async fn product(
        &self,
        ctx: &RequestContext,
        sku: &Sku,
    ) -> Result<Product, InventoryError> {
        self.products
            .get(ctx.tenant_id, sku)
            .await?
            .ok_or_else(|| InventoryError::UnknownSku(sku.clone()))
    }

    pub async fn products(
        &self,
        ctx: &RequestContext,
        filter: &ProductFilter,
        page: PageRequest<Sku>,
    ) -> Result<Page<Product, Sku>, InventoryError> {
        Ok(self.products.list(ctx.tenant_id, filter, page).await?)
    }

    /// A partial update, refused if the product changed since the caller read `expected_version`.
    pub async fn update_product(
        &self,
        ctx: &RequestContext,
        sku: &Sku,
        patch: ProductPatch,
        expected_version: Option<i64>,
    ) -> Result<Product, InventoryError> {
        let current = self.product(ctx, sku).await?;
        let expected = expected_version.unwrap_or(current.version);
        if expected != current.version {
            return Err(InventoryError::VersionMismatch {
                what: format!("product {sku}"),
                expected,
                actual: current.version,
            });
        }
        let next = current.patched(patch, self.clock.now())?;
        self.products.update(&next, expected).await?;
        Ok(next)
    }

    /// Archives (or restores) a product: it stays in history but cannot be ordered.
    pub async fn set_product_active(
        &self,
        ctx: &RequestContext,
        sku: &Sku,
        active: bool,
        expected_version: Option<i64>,
    ) -> Result<Product, InventoryError> {
        let patch = ProductPatch {
            active: Some(active),
            ..Default::default()
        };
        self.update_product(ctx, sku, patch, expected_version).await
    }

    /// Imports products from CSV. All-or-nothing unless `best_effort`: one bad row (or a SKU
    /// that already exists) and nothing is created, and the report lists every problem.
    pub async fn import_products(
        &self,
        ctx: &RequestContext,
        csv: &[u8],
        best_effort: bool,
    ) -> Result<ImportReport, InventoryError> {
        let reader = ProductCsvReader::new(csv, ctx.tenant_id, self.clock.now())
            .map_err(|e| ValidationErrors::single("csv", e))?;
        let (rows, mut errors) = partition_rows(reader);
        if !best_effort {
            if !errors.is_empty() {
                return Ok(ImportReport { created: 0, errors });
            }
            let products: Vec<Product> = rows.iter().map(|r| r.product.clone()).collect();
            return match self.products.insert_all(&products).await {
                Ok(()) => Ok(ImportReport {
                    created: products.len(),
                    errors,
                }),
                Err(InventoryError::DuplicateSku(sku)) => Ok(ImportReport {
                    created: 0,
                    errors: vec![duplicate_row(&rows, &sku)],
                }),
                Err(e) => Err(e),
            };
        }
        let mut created = 0;
        for row in &rows {
            match self.products.insert(&row.product).await {
                Ok(()) => created += 1,
                Err(InventoryError::DuplicateSku(sku)) => errors.push(duplicate_row(&rows, &sku)),
                Err(e) => return Err(e),
            }
        }
        errors.sort_by_key(|e| e.line);
        Ok(ImportReport { created, errors })
    }

    pub async fn open_warehouse(
        &self,
        ctx: &RequestContext,
        draft: NewWarehouse,
    ) -> Result<Warehouse, InventoryError> {
        let warehouse =
            draft.validate(WarehouseId::new(), ctx.tenant_id, false, self.clock.now())?;
        self.warehouses.insert(&warehouse).await?;
        Ok(warehouse)
    }

    /// Renames a warehouse or sets its address (the ship-from of its labels). `None` leaves a
    /// field as it is; an address is checked like a new warehouse's.
    pub async fn update_warehouse(
        &self,
        ctx: &RequestContext,
        code: &str,
        name: Option<String>,
        address: Option<kernel::Address>,
    ) -> Result<Warehouse, InventoryError> {
        let code = code.trim().to_ascii_uppercase();
        let mut warehouse = self
            .warehouses
            .by_code(ctx.tenant_id, &code)
            .await?
            .ok_or_else(|| InventoryError::UnknownWarehouse(code.clone()))?;
        let mut errors = kernel::ValidationErrors::new();
        if let Some(name) = name {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                errors.add("name", "name must be 1 to 200 characters");
            }
            warehouse.name = name;
        }
        if let Some(address) = address {
            warehouse.address = Some(address.normalise("address", &mut errors));
        }
        errors.into_result()?;
        self.warehouses.update_details(&warehouse).await?;
        Ok(warehouse)
    }

    pub async fn warehouses(&self, ctx: &RequestContext) -> Result<Vec<Warehouse>, InventoryError> {
        Ok(self.warehouses.list(ctx.tenant_id).await?)
    }

    /// The tenant's routing: rules, and warehouses in the order they are tried.
    pub async fn routing(
        &self,
        ctx: &RequestContext,
    ) -> Result<(AllocationRules, Vec<Warehouse>), InventoryError> {
        let rules = self.warehouses.allocation_rules(ctx.tenant_id).await?;
        Ok((rules, self.warehouses.list(ctx.tenant_id).await?))
    }

    /// Changes the routing; nothing changes if any part is invalid.
    pub async fn set_routing(
        &self,
        ctx: &RequestContext,
        change: RoutingChange,
    ) -> Result<(AllocationRules, Vec<Warehouse>), InventoryError> {
        let (current, warehouses) = self.routing(ctx).await?;
        let (rules, placements) = change.apply(current, &warehouses)?;
        self.warehouses
            .save_routing(ctx.tenant_id, rules, &placements)
            .await?;
        self.routing(ctx).await
    }
}
