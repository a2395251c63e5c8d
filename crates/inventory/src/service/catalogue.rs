//! Products and warehouses.

use super::InventoryService;
use crate::ports::{
    InventoryUnitOfWork, ProductFilter, ProductRepository, StockQueries, WarehouseRepository,
};
use crate::product::ProductPatch;
use crate::{InventoryError, NewProduct, NewWarehouse, Product, Warehouse};
use kernel::{Clock, Page, PageRequest, ProductId, RequestContext, Sku, WarehouseId};

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

    pub async fn warehouses(&self, ctx: &RequestContext) -> Result<Vec<Warehouse>, InventoryError> {
        Ok(self.warehouses.list(ctx.tenant_id).await?)
    }
}
