use super::*;
use kernel::{Quantity, WarehouseId};

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn meta() -> MovementMeta {
    MovementMeta {
        tenant_id: TenantId::new(),
        reference: "order:1".into(),
        actor: "api_key:test".into(),
        at: Utc::now(),
        correlation_id: None,
    }
}

fn request(s: &str, n: i64) -> LineRequest {
    LineRequest {
        line_no: 1,
        sku: sku(s),
        quantity: Quantity::new(n).unwrap(),
    }
}

fn row(s: &str, on_hand: i64, threshold: Option<i64>) -> LockedStock {
    LockedStock {
        warehouse_id: WarehouseId::from_uuid(uuid::Uuid::from_u128(1)),
        priority: 0,
        sku: sku(s),
        on_hand,
        reserved: 0,
        low_stock_threshold: threshold,
        cutoff_minute: 900,
    }
}

fn ledger_with(rows: Vec<LockedStock>, kits: HashMap<Sku, Vec<KitComponent>>) -> MockStockLedger {
    let mut ledger = MockStockLedger::new();
    ledger
        .expect_kit_components()
        .returning(move |_| Ok(kits.clone()));
    ledger
        .expect_allocation_rules()
        .returning(|| Ok(Default::default()));
    ledger
        .expect_lock_stock()
        .returning(move |_| Ok(rows.clone()));
    ledger
}

#[tokio::test]
async fn an_unknown_sku_reserves_nothing() {
    let mut ledger = ledger_with(vec![row("A", 5, None)], HashMap::new());
    ledger.expect_add_reservations().never();
    let err = reserve(
        &mut ledger,
        &[request("A", 1), request("Z", 1)],
        &meta(),
        false,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ReserveError::UnknownSkus(s) if s == [sku("Z")]));
}

#[tokio::test]
async fn all_or_nothing_writes_nothing_when_short() {
    let mut ledger = ledger_with(vec![row("A", 2, None)], HashMap::new());
    ledger.expect_add_reservations().never();
    let err = reserve(&mut ledger, &[request("A", 3)], &meta(), true)
        .await
        .unwrap_err();
    assert!(matches!(err, ReserveError::Insufficient(s) if s == [(sku("A"), 1)]));
}

#[tokio::test]
async fn crossing_the_threshold_raises_one_low_stock_event() {
    let mut ledger = ledger_with(vec![row("A", 10, Some(5))], HashMap::new());
    ledger
        .expect_add_reservations()
        .times(1)
        .returning(|_, _| Ok(()));
    ledger
        .expect_append_events()
        .times(1)
        .withf(|events| {
            events.len() == 1
                && events[0].event_type == "inventory.low_stock"
                && events[0].payload["available"] == 4
        })
        .returning(|_| Ok(()));
    let plan = reserve(&mut ledger, &[request("A", 6)], &meta(), false)
        .await
        .unwrap();
    assert_eq!(plan.allocated[0].get(), 6);
}

#[tokio::test]
async fn staying_above_the_threshold_raises_nothing() {
    let mut ledger = ledger_with(vec![row("A", 10, Some(5))], HashMap::new());
    ledger.expect_add_reservations().returning(|_, _| Ok(()));
    ledger.expect_append_events().never();
    reserve(&mut ledger, &[request("A", 4)], &meta(), false)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_kit_locks_and_reserves_its_components() {
    let kits = HashMap::from([(
        sku("KIT"),
        vec![KitComponent {
            sku: sku("A"),
            quantity: Quantity::new(2).unwrap(),
        }],
    )]);
    let mut ledger = MockStockLedger::new();
    ledger
        .expect_kit_components()
        .returning(move |_| Ok(kits.clone()));
    ledger
        .expect_allocation_rules()
        .returning(|| Ok(Default::default()));
    ledger
        .expect_lock_stock()
        .withf(|skus| skus == [sku("A")])
        .returning(|_| Ok(vec![row("A", 5, None)]));
    ledger
        .expect_add_reservations()
        .withf(|r, _| r.len() == 1 && r[0].sku == sku("A") && r[0].quantity.get() == 4)
        .returning(|_, _| Ok(()));
    let plan = reserve(&mut ledger, &[request("KIT", 3)], &meta(), false)
        .await
        .unwrap();
    assert_eq!(plan.allocated[0].get(), 2);
}
