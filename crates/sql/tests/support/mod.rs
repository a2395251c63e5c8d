//! What the adapter tests share: a world with a fresh database, its services, and builders.
#![allow(dead_code)] // each test crate uses its own part

use chrono::Utc;
use identity::ports::TenantRepository;
use identity::{ApiKey, NewTenant};
use inventory::NewProduct;
use inventory::ports::StockQueries;
use inventory::service::{InventoryService, SetCountedQuantity};
use kernel::{Quantity, RequestContext, Sku, SystemClock, TenantId};
use order::service::OrderService;
use order::{Address, NewOrder, NewOrderLine};
use sql::SqlStore;
use testkit::{Backend, TestDb};

pub type Inventory = InventoryService<SqlStore, SqlStore, SqlStore, SqlStore, SystemClock>;
pub type Orders = OrderService<SqlStore, SqlStore, SystemClock>;

pub struct World {
    pub db: TestDb,
    pub inventory: Inventory,
    pub orders: Orders,
}

impl World {
    pub async fn new(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let s = db.store.clone();
        Self {
            inventory: InventoryService::new(
                s.clone(),
                s.clone(),
                s.clone(),
                s.clone(),
                SystemClock,
            ),
            orders: OrderService::new(s.clone(), s, SystemClock),
            db,
        }
    }

    pub fn store(&self) -> &SqlStore {
        &self.db.store
    }

    pub async fn tenant(&self) -> RequestContext {
        let tenant = NewTenant {
            company: "Acme".into(),
            email: "ops@acme.example".into(),
        }
        .validate(TenantId::new(), Utc::now())
        .unwrap();
        let (key, _) = ApiKey::generate(tenant.id, "default", Utc::now());
        self.store()
            .create_with_key(&tenant, &key, None)
            .await
            .unwrap();
        RequestContext::new(tenant.id, format!("api_key:{}", key.id))
    }

    pub async fn product_with_stock(&self, ctx: &RequestContext, sku: &str, on_hand: i64) {
        self.inventory
            .register_product(
                ctx,
                NewProduct {
                    sku: sku.into(),
                    name: format!("Product {sku}"),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if on_hand > 0 {
            self.inventory
                .set_counted_quantity(ctx, count(sku, on_hand))
                .await
                .unwrap();
        }
    }

    /// On hand and reserved of a SKU, summed over warehouses.
    pub async fn level(&self, ctx: &RequestContext, sku: &str) -> (u32, u32) {
        let levels = self
            .store()
            .levels(ctx.tenant_id, &Sku::parse(sku).unwrap())
            .await
            .unwrap();
        assert!(!levels.is_empty(), "{sku} has no stock row");
        let totals = inventory::StockTotals::of(Sku::parse(sku).unwrap(), &levels);
        (totals.on_hand.get(), totals.reserved.get())
    }

    /// Stock levels must equal the sum of their ledger: the projection never drifts.
    pub async fn assert_ledger_matches(&self, ctx: &RequestContext, sku: &str) {
        let report = self.inventory.rebuild_levels(ctx, false).await.unwrap();
        assert!(
            report.drift.is_empty(),
            "ledger disagrees with stock levels (checking {sku}): {:?}",
            report.drift
        );
    }
}

pub fn count(sku: &str, on_hand: i64) -> SetCountedQuantity {
    SetCountedQuantity {
        warehouse: None,
        sku: Sku::parse(sku).unwrap(),
        on_hand: Quantity::new(on_hand).unwrap(),
        reason: "initial count".into(),
        expected_version: None,
    }
}

pub fn order_of(lines: &[(&str, i64)]) -> NewOrder {
    NewOrder {
        hold_id: None,
        service_level: Default::default(),
        channel: None,
        external_id: None,
        allow_backorder: true,
        ship_to: Address {
            name: "Grace Hopper".into(),
            line1: "1 Navy Way".into(),
            city: "Arlington".into(),
            country: "US".into(),
            ..Default::default()
        },
        lines: lines
            .iter()
            .map(|(sku, quantity)| NewOrderLine {
                sku: sku.to_string(),
                quantity: *quantity,
                unit_price_minor: 999,
                currency: "USD".into(),
            })
            .collect(),
    }
}
