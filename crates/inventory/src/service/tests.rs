use super::*;
use crate::allocation::{AllocationRules, LockedStock, Reservation};
use crate::hold::{Hold, NewHold};
use crate::kit::KitComponent;
use crate::ports::{
    InventoryTransaction, MockInventoryUnitOfWork, MockProductRepository, MockStockQueries,
    MockWarehouseRepository,
};
use crate::reservations::{MovementMeta, StockLedger};
use crate::transfer::Transfer;
use crate::{MovementKind, NewProduct, Product, StockDelta, StockLevel, StockMovement};
use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use kernel::{FixedClock, HoldId, Money, Quantity, StoreError, TenantId, TransferId, WarehouseId};
use std::collections::HashMap;

mockall::mock! {
    pub Tx {}
    #[async_trait]
    impl StockLedger for Tx {
        async fn kit_components(&mut self, skus: &[Sku]) -> Result<HashMap<Sku, Vec<KitComponent>>, StoreError>;
        async fn lock_stock(&mut self, skus: &[Sku]) -> Result<Vec<LockedStock>, StoreError>;
        async fn allocation_rules(&mut self) -> Result<AllocationRules, StoreError>;
        async fn add_reservations(&mut self, reservations: &[Reservation], meta: &MovementMeta) -> Result<(), StoreError>;
        async fn release_reservations(&mut self, meta: &MovementMeta) -> Result<Vec<Reservation>, StoreError>;
        async fn allocations_of(&mut self, reference: &str) -> Result<Vec<Reservation>, StoreError>;
        async fn consume_reservations(&mut self, consumed: &[Reservation], meta: &MovementMeta) -> Result<Vec<crate::shipping::ShippedStock>, StoreError>;
        async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError>;
    }
    #[async_trait]
    impl InventoryTransaction for Tx {
        async fn lock_level(&mut self, warehouse: WarehouseId, sku: &Sku) -> Result<Option<StockLevel>, StoreError>;
        async fn save_level(&mut self, level: &StockLevel) -> Result<(), StoreError>;
        async fn record_movement(&mut self, movement: &StockMovement) -> Result<(), StoreError>;
        async fn lock_product(&mut self, sku: &Sku) -> Result<Option<Product>, StoreError>;
        async fn find_warehouse(&mut self, code: Option<String>) -> Result<Option<Warehouse>, StoreError>;
        async fn save_average_cost(&mut self, sku: &Sku, cost: Money) -> Result<(), StoreError>;
        async fn insert_hold(&mut self, hold: &Hold) -> Result<(), StoreError>;
        async fn lock_hold(&mut self, id: HoldId) -> Result<Option<Hold>, StoreError>;
        async fn save_hold(&mut self, hold: &Hold) -> Result<(), StoreError>;
        async fn insert_transfer(&mut self, transfer: &Transfer) -> Result<(), StoreError>;
        async fn lock_transfer(&mut self, id: TransferId) -> Result<Option<Transfer>, StoreError>;
        async fn save_transfer(&mut self, transfer: &Transfer) -> Result<(), StoreError>;
        async fn overwrite_level(&mut self, warehouse: WarehouseId, sku: &Sku, sums: StockDelta) -> Result<(), StoreError>;
        async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    }
}

type Service = InventoryService<
    MockProductRepository,
    MockWarehouseRepository,
    MockStockQueries,
    MockInventoryUnitOfWork,
    FixedClock,
>;

fn ctx() -> RequestContext {
    RequestContext::new(TenantId::new(), "api_key:test")
}

fn sku() -> Sku {
    Sku::parse("MUG-01").unwrap()
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn clock() -> FixedClock {
    FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap())
}

fn main_warehouse() -> Warehouse {
    crate::NewWarehouse::default_for_signup()
        .validate(
            WarehouseId::from_uuid(uuid::Uuid::from_u128(7)),
            TenantId::new(),
            true,
            Utc::now(),
        )
        .unwrap()
}

fn product(components: Vec<(String, i64)>) -> Product {
    NewProduct {
        sku: "MUG-01".into(),
        name: "Mug".into(),
        components,
        ..Default::default()
    }
    .validate(kernel::ProductId::new(), TenantId::new(), Utc::now())
    .unwrap()
}

fn products_with(p: Option<Product>) -> MockProductRepository {
    let mut products = MockProductRepository::new();
    products.expect_get().returning(move |_, _| Ok(p.clone()));
    products
}

fn warehouses() -> MockWarehouseRepository {
    let mut w = MockWarehouseRepository::new();
    w.expect_default_warehouse()
        .returning(|_| Ok(Some(main_warehouse())));
    w
}

fn uow_with(tx: MockTx) -> MockInventoryUnitOfWork {
    let mut uow = MockInventoryUnitOfWork::new();
    let mut tx = Some(tx);
    uow.expect_begin()
        .times(1)
        .returning(move |_| Ok(Box::new(tx.take().expect("begun once"))));
    uow
}

fn service(products: MockProductRepository, uow: MockInventoryUnitOfWork) -> Service {
    InventoryService::new(
        products,
        warehouses(),
        MockStockQueries::new(),
        uow,
        clock(),
    )
}

fn level(on_hand: i64, reserved: i64, version: i64) -> StockLevel {
    StockLevel {
        warehouse_id: main_warehouse().id,
        sku: sku(),
        on_hand: q(on_hand),
        reserved: q(reserved),
        incoming: Quantity::ZERO,
        version,
    }
}

/// The product and warehouse a stock command reads inside its transaction.
fn expect_catalogue(tx: &mut MockTx, product: Option<Product>) {
    tx.expect_lock_product()
        .returning(move |_| Ok(product.clone()));
    tx.expect_find_warehouse()
        .returning(|_| Ok(Some(main_warehouse())));
}

/// The SKU's rows everywhere, as a count locks them first.
fn expect_stock(tx: &mut MockTx, on_hand: i64, reserved: i64, threshold: Option<i64>) {
    expect_catalogue(tx, Some(product(vec![])));
    tx.expect_allocation_rules()
        .returning(|| Ok(Default::default()));
    tx.expect_lock_stock().returning(move |_| {
        Ok(vec![LockedStock {
            warehouse_id: main_warehouse().id,
            priority: 0,
            sku: sku(),
            on_hand,
            reserved,
            low_stock_threshold: threshold,
            cutoff_minute: 900,
        }])
    });
}

fn count(on_hand: i64, expected_version: Option<i64>) -> SetCountedQuantity {
    SetCountedQuantity {
        sku: sku(),
        warehouse: None,
        on_hand: q(on_hand),
        reason: "cycle count".into(),
        expected_version,
    }
}

#[tokio::test]
async fn a_count_writes_a_count_movement_the_new_level_and_an_event_then_commits() {
    let mut tx = MockTx::new();
    expect_stock(&mut tx, 10, 2, None);
    tx.expect_lock_level()
        .withf(|w, s| *w == main_warehouse().id && *s == sku())
        .returning(|_, _| Ok(Some(level(10, 2, 5))));
    tx.expect_save_level()
        .withf(|l| l.on_hand.get() == 25 && l.reserved.get() == 2 && l.version == 6)
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_record_movement()
        .withf(|m| {
            m.kind == MovementKind::Count
                && m.on_hand_delta == 15
                && m.reserved_delta == 0
                && m.reason.as_deref() == Some("cycle count")
                && m.actor.as_deref() == Some("api_key:test")
        })
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_append_events()
        .withf(|e| e.len() == 1 && e[0].event_type == "inventory.changed")
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_commit().times(1).returning(|| Ok(()));

    let level = service(products_with(Some(product(vec![]))), uow_with(tx))
        .set_counted_quantity(&ctx(), count(25, None))
        .await
        .unwrap();
    assert_eq!(level.available().get(), 23);
}

#[tokio::test]
async fn a_stale_version_is_refused_and_nothing_is_written() {
    let mut tx = MockTx::new();
    expect_stock(&mut tx, 10, 0, None);
    tx.expect_lock_level()
        .returning(|_, _| Ok(Some(level(10, 0, 5))));
    tx.expect_save_level().never();
    tx.expect_commit().never();
    let err = service(products_with(Some(product(vec![]))), uow_with(tx))
        .set_counted_quantity(&ctx(), count(3, Some(4)))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        InventoryError::VersionMismatch {
            expected: 4,
            actual: 5,
            ..
        }
    ));
}

#[tokio::test]
async fn a_count_below_reservations_is_refused_and_nothing_is_written() {
    let mut tx = MockTx::new();
    expect_stock(&mut tx, 10, 8, None);
    tx.expect_lock_level()
        .returning(|_, _| Ok(Some(level(10, 8, 1))));
    tx.expect_save_level().never();
    tx.expect_record_movement().never();
    tx.expect_commit().never();
    let err = service(products_with(Some(product(vec![]))), uow_with(tx))
        .set_counted_quantity(&ctx(), count(7, None))
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::BelowReserved { .. }));
}

#[tokio::test]
async fn a_count_that_crosses_the_threshold_raises_low_stock_once() {
    // Available 8 → 3 with a threshold of 5: one inventory.low_stock beside inventory.changed.
    let mut tx = MockTx::new();
    expect_stock(&mut tx, 10, 2, Some(5));
    tx.expect_lock_level()
        .returning(|_, _| Ok(Some(level(10, 2, 5))));
    tx.expect_save_level().returning(|_| Ok(()));
    tx.expect_record_movement().returning(|_| Ok(()));
    tx.expect_append_events()
        .withf(|e| {
            e.len() == 2
                && e[1].event_type == "inventory.low_stock"
                && e[1].payload["available"] == 3
                && e[1].payload["threshold"] == 5
        })
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_commit().returning(|| Ok(()));
    service(products_with(Some(product(vec![]))), uow_with(tx))
        .set_counted_quantity(&ctx(), count(5, None))
        .await
        .unwrap();
}

#[tokio::test]
async fn counting_an_unknown_sku_is_not_found_and_writes_nothing() {
    let mut tx = MockTx::new();
    expect_catalogue(&mut tx, None);
    tx.expect_save_level().never();
    tx.expect_commit().never();
    let err = service(MockProductRepository::new(), uow_with(tx))
        .set_counted_quantity(&ctx(), count(1, None))
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::UnknownSku(_)));
}

#[tokio::test]
async fn a_kit_has_no_stock_of_its_own_to_count() {
    let mut tx = MockTx::new();
    expect_catalogue(&mut tx, Some(product(vec![("CUP".into(), 2)])));
    tx.expect_save_level().never();
    tx.expect_commit().never();
    let err = service(MockProductRepository::new(), uow_with(tx))
        .set_counted_quantity(&ctx(), count(1, None))
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::KitHasNoStock(_)));
}

#[tokio::test]
async fn a_count_without_a_reason_is_refused_before_touching_storage() {
    let mut uow = MockInventoryUnitOfWork::new();
    uow.expect_begin().never();
    let err = service(MockProductRepository::new(), uow)
        .set_counted_quantity(
            &ctx(),
            SetCountedQuantity {
                reason: "  ".into(),
                ..count(1, None)
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::Invalid(_)));
}

#[tokio::test]
async fn a_kit_of_a_kit_is_refused() {
    let mut products = MockProductRepository::new();
    products
        .expect_get()
        .returning(|_, _| Ok(Some(product(vec![("X".into(), 1)]))));
    products.expect_insert().never();
    let err = service(products, MockInventoryUnitOfWork::new())
        .register_product(
            &ctx(),
            NewProduct {
                sku: "BIG-KIT".into(),
                name: "Big kit".into(),
                components: vec![("MUG-01".into(), 1)],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::NestedKit(_)));
}

#[tokio::test]
async fn a_kit_with_an_unknown_component_is_refused() {
    let mut products = products_with(None);
    products.expect_insert().never();
    let err = service(products, MockInventoryUnitOfWork::new())
        .register_product(
            &ctx(),
            NewProduct {
                sku: "KIT".into(),
                name: "Kit".into(),
                components: vec![("NOPE".into(), 1)],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::UnknownSkus(s) if s[0].as_str() == "NOPE"));
}

#[tokio::test]
async fn a_hold_that_cannot_be_filled_in_full_writes_nothing() {
    let mut tx = MockTx::new();
    tx.expect_kit_components().returning(|_| Ok(HashMap::new()));
    tx.expect_allocation_rules()
        .returning(|| Ok(Default::default()));
    tx.expect_lock_stock().returning(|_| {
        Ok(vec![LockedStock {
            warehouse_id: main_warehouse().id,
            priority: 0,
            sku: sku(),
            on_hand: 1,
            reserved: 0,
            low_stock_threshold: None,
            cutoff_minute: 900,
        }])
    });
    tx.expect_add_reservations().never();
    tx.expect_insert_hold().never();
    tx.expect_commit().never();
    let err = service(MockProductRepository::new(), uow_with(tx))
        .place_hold(
            &ctx(),
            NewHold {
                lines: vec![("MUG-01".into(), 2)],
                ttl_seconds: None,
                reference: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::InsufficientStock(s) if s[0].1 == 1));
}

#[tokio::test]
async fn expiry_releases_the_hold_reservations_and_records_it() {
    let tenant = TenantId::new();
    let past = Utc.with_ymd_and_hms(2026, 11, 23, 11, 0, 0).unwrap();
    let hold = NewHold {
        lines: vec![("MUG-01".into(), 2)],
        ttl_seconds: Some(60),
        reference: None,
    }
    .validate(HoldId::new(), tenant, past)
    .unwrap();
    let id = hold.id;
    let mut uow = MockInventoryUnitOfWork::new();
    uow.expect_claim_expired_holds()
        .returning(move |_, _| Ok(vec![(tenant, id)]));
    let mut tx = MockTx::new();
    tx.expect_lock_hold()
        .returning(move |_| Ok(Some(hold.clone())));
    tx.expect_release_reservations()
        .withf(move |m| m.reference == format!("hold:{id}"))
        .times(1)
        .returning(|_| Ok(vec![]));
    tx.expect_save_hold()
        .withf(|h| h.status == crate::hold::HoldStatus::Expired)
        .times(1)
        .returning(|_| Ok(()));
    tx.expect_append_events()
        .withf(|e| e[0].event_type == "reservation.expired")
        .returning(|_| Ok(()));
    tx.expect_commit().times(1).returning(|| Ok(()));
    let mut tx = Some(tx);
    uow.expect_begin()
        .returning(move |_| Ok(Box::new(tx.take().expect("once"))));
    let expired = service(MockProductRepository::new(), uow)
        .expire_holds(100)
        .await
        .unwrap();
    assert_eq!(expired, 1);
}
