use super::*;
use crate::reservations::MockStockLedger;
use async_trait::async_trait;
use chrono::Utc;
use kernel::TenantId;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn wh(n: u128) -> WarehouseId {
    WarehouseId::from_uuid(uuid::Uuid::from_u128(n))
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

fn line(line_no: u32, s: &str, n: i64) -> ShipLine {
    ShipLine {
        line_no,
        sku: sku(s),
        quantity: q(n),
    }
}

fn held(line_no: u32, w: u128, s: &str, n: i64) -> Reservation {
    Reservation {
        line_no,
        warehouse_id: wh(w),
        sku: sku(s),
        quantity: q(n),
    }
}

fn kit(components: &[(&str, i64)]) -> Vec<KitComponent> {
    components
        .iter()
        .map(|(s, n)| KitComponent {
            sku: sku(s),
            quantity: q(*n),
        })
        .collect()
}

/// An in-memory ledger: stock rows (warehouse `n` has priority `priorities[n]`), the
/// allocations of `order:1`, and every write it was asked for.
#[derive(Default)]
struct Fake {
    kits: HashMap<Sku, Vec<KitComponent>>,
    rows: Vec<LockedStock>,
    held: Vec<Reservation>,
    locked: Vec<Vec<Sku>>,
    events: Vec<EventEnvelope>,
    event_batches: usize,
}

impl Fake {
    /// `stock`: (warehouse, priority, SKU, on hand, reserved).
    fn new(stock: &[(u128, i32, &str, i64, i64)], held: Vec<Reservation>) -> Self {
        Self {
            rows: stock
                .iter()
                .map(|(w, priority, s, on_hand, reserved)| LockedStock {
                    warehouse_id: wh(*w),
                    priority: *priority,
                    sku: sku(s),
                    on_hand: *on_hand,
                    reserved: *reserved,
                    low_stock_threshold: None,
                    cutoff_minute: 900,
                })
                .collect(),
            held,
            ..Default::default()
        }
    }

    fn level(&self, w: u128, s: &str) -> (i64, i64) {
        let r = self
            .rows
            .iter()
            .find(|r| r.warehouse_id == wh(w) && r.sku == sku(s))
            .unwrap();
        (r.on_hand, r.reserved)
    }
}

#[async_trait]
impl StockLedger for Fake {
    async fn allocation_rules(&mut self) -> Result<crate::allocation::AllocationRules, StoreError> {
        Ok(Default::default())
    }

    async fn kit_components(
        &mut self,
        skus: &[Sku],
    ) -> Result<HashMap<Sku, Vec<KitComponent>>, StoreError> {
        Ok(self
            .kits
            .iter()
            .filter(|(k, _)| skus.contains(k))
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect())
    }

    async fn lock_stock(&mut self, skus: &[Sku]) -> Result<Vec<LockedStock>, StoreError> {
        self.locked.push(skus.to_vec());
        Ok(self
            .rows
            .iter()
            .filter(|r| skus.contains(&r.sku))
            .cloned()
            .collect())
    }

    async fn add_reservations(
        &mut self,
        _: &[Reservation],
        _: &MovementMeta,
    ) -> Result<(), StoreError> {
        Err(StoreError::new("shipping never reserves"))
    }

    async fn release_reservations(
        &mut self,
        _: &MovementMeta,
    ) -> Result<Vec<Reservation>, StoreError> {
        Err(StoreError::new("shipping never releases"))
    }

    async fn allocations_of(&mut self, reference: &str) -> Result<Vec<Reservation>, StoreError> {
        assert_eq!(reference, "order:1");
        assert!(!self.locked.is_empty(), "allocations read before the lock");
        Ok(self.held.clone())
    }

    async fn consume_reservations(
        &mut self,
        consumed: &[Reservation],
        _: &MovementMeta,
    ) -> Result<Vec<ShippedStock>, StoreError> {
        let mut units: BTreeMap<(Sku, WarehouseId), i64> = BTreeMap::new();
        for c in consumed {
            let h = self
                .held
                .iter_mut()
                .find(|h| {
                    (h.line_no, h.warehouse_id, &h.sku) == (c.line_no, c.warehouse_id, &c.sku)
                })
                .ok_or_else(|| StoreError::new("no such allocation"))?;
            h.quantity = Quantity::new(h.quantity.as_i64() - c.quantity.as_i64())
                .map_err(|_| StoreError::new("allocation exceeded"))?;
            *units.entry((c.sku.clone(), c.warehouse_id)).or_insert(0) += c.quantity.as_i64();
        }
        self.held.retain(|h| !h.quantity.is_zero());
        let mut shipped = Vec::new();
        for ((s, w), n) in units {
            let row = self
                .rows
                .iter_mut()
                .find(|r| r.sku == s && r.warehouse_id == w)
                .unwrap();
            row.on_hand -= n;
            row.reserved -= n;
            assert!(row.reserved >= 0, "reserved went negative");
            shipped.push(ShippedStock {
                warehouse_code: format!("W{}", row.priority),
                level: StockLevel {
                    warehouse_id: w,
                    sku: s,
                    on_hand: q(row.on_hand),
                    reserved: q(row.reserved),
                    incoming: Quantity::ZERO,
                    version: 2,
                },
                units: q(n),
            });
        }
        Ok(shipped)
    }

    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError> {
        self.event_batches += 1;
        self.events.extend_from_slice(events);
        Ok(())
    }
}

#[tokio::test]
async fn a_plain_sku_ships_from_its_one_warehouse() {
    let mut ledger = Fake::new(&[(1, 0, "A", 10, 5)], vec![held(1, 1, "A", 5)]);
    let consumed = consume(&mut ledger, &[line(1, "A", 3)], &meta())
        .await
        .unwrap();
    assert_eq!(consumed, [held(1, 1, "A", 3)]);
    assert_eq!(ledger.level(1, "A"), (7, 2));
    assert_eq!(ledger.held, [held(1, 1, "A", 2)]);
    assert_eq!(ledger.locked, [vec![sku("A")]]);
    assert_eq!(ledger.event_batches, 1);
    let event = &ledger.events[0];
    assert_eq!(event.event_type, "inventory.changed");
    assert_eq!(event.payload["cause"], "ship");
    assert_eq!(event.payload["warehouse"], "W0");
    assert_eq!(event.payload["on_hand"], 7);
    assert_eq!(event.payload["reserved"], 2);
    assert_eq!(event.payload["available"], 5);
    assert_eq!(event.payload["on_hand_delta"], -3);
}

#[tokio::test]
async fn a_split_line_ships_from_the_best_priority_warehouse_first() {
    // Warehouse 1 sorts first by id, but warehouse 2 has the better priority.
    let mut ledger = Fake::new(
        &[(1, 5, "A", 10, 3), (2, 1, "A", 10, 2)],
        vec![held(1, 1, "A", 3), held(1, 2, "A", 2)],
    );
    let consumed = consume(&mut ledger, &[line(1, "A", 4)], &meta())
        .await
        .unwrap();
    assert_eq!(consumed, [held(1, 1, "A", 2), held(1, 2, "A", 2)]);
    assert_eq!(ledger.level(2, "A"), (8, 0));
    assert_eq!(ledger.level(1, "A"), (8, 1));
    assert_eq!(ledger.held, [held(1, 1, "A", 1)]);
    assert_eq!(ledger.events.len(), 2, "one event per (SKU, warehouse)");
    assert_eq!(ledger.event_batches, 1, "one batch per call");
}

#[tokio::test]
async fn a_kit_line_ships_its_components_whole_kits_from_one_warehouse() {
    let mut ledger = Fake::new(
        &[
            (1, 1, "A", 10, 4),
            (1, 1, "B", 10, 2),
            (2, 0, "A", 10, 2),
            (2, 0, "B", 10, 1),
        ],
        vec![
            held(1, 1, "A", 4),
            held(1, 1, "B", 2),
            held(1, 2, "A", 2),
            held(1, 2, "B", 1),
        ],
    );
    ledger.kits.insert(sku("KIT"), kit(&[("A", 2), ("B", 1)]));
    let consumed = consume(&mut ledger, &[line(1, "KIT", 2)], &meta())
        .await
        .unwrap();
    // One kit from warehouse 2 (best priority), the second from warehouse 1.
    assert_eq!(
        consumed,
        [
            held(1, 1, "A", 2),
            held(1, 2, "A", 2),
            held(1, 1, "B", 1),
            held(1, 2, "B", 1),
        ]
    );
    assert_eq!(
        ledger.locked,
        [vec![sku("A"), sku("B")]],
        "components locked, in SKU order"
    );
    assert_eq!(ledger.held, [held(1, 1, "A", 2), held(1, 1, "B", 1)]);
}

#[tokio::test]
async fn a_kit_whose_components_are_spread_still_ships_them_all() {
    let mut ledger = Fake::new(
        &[(1, 0, "A", 5, 2), (1, 0, "B", 5, 1), (2, 1, "B", 5, 1)],
        vec![held(1, 1, "A", 2), held(1, 1, "B", 1), held(1, 2, "B", 1)],
    );
    ledger.kits.insert(sku("KIT"), kit(&[("A", 1), ("B", 1)]));
    let consumed = consume(&mut ledger, &[line(1, "KIT", 2)], &meta())
        .await
        .unwrap();
    assert_eq!(
        consumed,
        [held(1, 1, "A", 2), held(1, 1, "B", 1), held(1, 2, "B", 1)]
    );
    assert!(ledger.held.is_empty());
}

#[tokio::test]
async fn shipping_more_than_reserved_is_refused_and_writes_nothing() {
    let mut ledger = MockStockLedger::new();
    ledger
        .expect_kit_components()
        .returning(|_| Ok(HashMap::new()));
    ledger.expect_lock_stock().returning(|_| Ok(Vec::new()));
    ledger.expect_allocations_of().returning(|_| {
        Ok(vec![
            held(1, 1, "A", 2),
            held(1, 2, "A", 1),
            held(2, 1, "B", 9),
        ])
    });
    ledger.expect_consume_reservations().never();
    ledger.expect_append_events().never();
    let err = consume(&mut ledger, &[line(2, "B", 1), line(1, "A", 4)], &meta())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ConsumeError::NotReserved { line_no: 1, wanted, reserved }
                if wanted.get() == 4 && reserved.get() == 3
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_kit_counts_only_the_whole_kits_its_components_make() {
    let mut ledger = Fake::new(
        &[(1, 0, "A", 5, 3), (1, 0, "B", 5, 5)],
        vec![held(1, 1, "A", 3), held(1, 1, "B", 5)],
    );
    ledger.kits.insert(sku("KIT"), kit(&[("A", 2), ("B", 1)]));
    let err = consume(&mut ledger, &[line(1, "KIT", 2)], &meta())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConsumeError::NotReserved { reserved, .. } if reserved.get() == 1),
        "{err:?}"
    );
    assert_eq!(ledger.level(1, "A"), (5, 3));
    assert!(ledger.events.is_empty());
}

#[tokio::test]
async fn shipping_in_two_steps_consumes_the_allocations_fully() {
    let mut ledger = Fake::new(
        &[(1, 0, "A", 10, 3), (2, 1, "A", 10, 2)],
        vec![held(1, 1, "A", 3), held(1, 2, "A", 2)],
    );
    consume(&mut ledger, &[line(1, "A", 2)], &meta())
        .await
        .unwrap();
    assert_eq!(ledger.held, [held(1, 1, "A", 1), held(1, 2, "A", 2)]);
    let rest = consume(&mut ledger, &[line(1, "A", 3)], &meta())
        .await
        .unwrap();
    assert_eq!(rest, [held(1, 1, "A", 1), held(1, 2, "A", 2)]);
    assert!(ledger.held.is_empty());
    assert_eq!(ledger.level(1, "A"), (7, 0));
    assert_eq!(ledger.level(2, "A"), (8, 0));
    let more = consume(&mut ledger, &[line(1, "A", 1)], &meta()).await;
    assert!(matches!(
        more,
        Err(ConsumeError::NotReserved { reserved, .. }) if reserved.is_zero()
    ));
}

#[tokio::test]
async fn nothing_to_ship_touches_nothing() {
    let mut ledger = MockStockLedger::new();
    ledger.expect_lock_stock().never();
    let consumed = consume(&mut ledger, &[], &meta()).await.unwrap();
    assert!(consumed.is_empty());
}
