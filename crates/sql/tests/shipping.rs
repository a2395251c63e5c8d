//! Shipping consumes an order's reservations, on PostgreSQL and on SQLite: stock leaves on hand
//! and reserved together, allocations shrink to nothing, the ledger explains every unit.

use chrono::Utc;
use identity::ports::TenantRepository;
use identity::{ApiKey, NewTenant};
use inventory::allocation::{LineRequest, Reservation};
use inventory::ports::{InventoryUnitOfWork, StockQueries};
use inventory::reservations::{self, ConsumeError, MovementMeta, ShipLine};
use inventory::service::{InventoryService, SetCountedQuantity};
use inventory::{MovementKind, NewProduct, NewWarehouse, StockMovement};
use kernel::{PageRequest, Quantity, RequestContext, Sku, SystemClock, TenantId, WarehouseId};
use sql::SqlStore;
use testkit::{Backend, TestDb, on_both_databases};

on_both_databases!(
    shipping_in_two_steps_takes_stock_out_of_on_hand_and_reserved_and_leaves_no_allocation,
    releasing_after_a_partial_shipment_gives_back_only_the_unshipped_rest,
    shipments_and_placements_on_the_same_skus_run_concurrently_without_deadlock,
);

type Inventory = InventoryService<SqlStore, SqlStore, SqlStore, SqlStore, SystemClock>;

struct World {
    db: TestDb,
    inventory: Inventory,
    ctx: RequestContext,
    reference: String,
}

impl World {
    async fn new(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let s = db.store.clone();
        let tenant = NewTenant {
            company: "Acme".into(),
            email: "ops@acme.example".into(),
        }
        .validate(TenantId::new(), Utc::now())
        .unwrap();
        let (key, _) = ApiKey::generate(tenant.id, "default", Utc::now());
        s.create_with_key(&tenant, &key, None).await.unwrap();
        Self {
            inventory: InventoryService::new(s.clone(), s.clone(), s.clone(), s, SystemClock),
            ctx: RequestContext::new(tenant.id, format!("api_key:{}", key.id)),
            reference: format!("order:{}", uuid::Uuid::now_v7()),
            db,
        }
    }

    async fn product(&self, sku: &str, components: &[(&str, i64)]) {
        self.inventory
            .register_product(
                &self.ctx,
                NewProduct {
                    sku: sku.into(),
                    name: format!("Product {sku}"),
                    components: components
                        .iter()
                        .map(|(s, n)| (s.to_string(), *n))
                        .collect(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }

    async fn count(&self, warehouse: Option<&str>, sku: &str, on_hand: i64) {
        self.inventory
            .set_counted_quantity(
                &self.ctx,
                SetCountedQuantity {
                    warehouse: warehouse.map(str::to_owned),
                    sku: sku.parse_sku(),
                    on_hand: Quantity::new(on_hand).unwrap(),
                    reason: "initial count".into(),
                    expected_version: None,
                },
            )
            .await
            .unwrap();
    }

    fn meta(&self, reference: &str) -> MovementMeta {
        MovementMeta::for_request(&self.ctx, reference.to_owned(), Utc::now())
    }

    async fn reserve(&self, lines: &[(u32, &str, i64)]) {
        self.reserve_for(&self.reference, lines).await
    }

    async fn ship(&self, lines: &[(u32, &str, i64)]) -> Result<Vec<Reservation>, ConsumeError> {
        self.ship_for(&self.reference, lines).await
    }

    /// Reserves `lines` (line_no, SKU, units) for an order, as placing it does, and commits.
    async fn reserve_for(&self, reference: &str, lines: &[(u32, &str, i64)]) {
        let requests: Vec<LineRequest> = lines
            .iter()
            .map(|(line_no, sku, n)| LineRequest {
                line_no: *line_no,
                sku: sku.parse_sku(),
                quantity: Quantity::new(*n).unwrap(),
            })
            .collect();
        let mut tx = self.db.store.begin(self.ctx.tenant_id).await.unwrap();
        reservations::reserve(tx.as_mut(), &requests, &self.meta(reference), true)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// Ships `lines` (line_no, SKU, units) in one transaction; commits only on success.
    async fn ship_for(
        &self,
        reference: &str,
        lines: &[(u32, &str, i64)],
    ) -> Result<Vec<Reservation>, ConsumeError> {
        let lines: Vec<ShipLine> = lines
            .iter()
            .map(|(line_no, sku, n)| ShipLine {
                line_no: *line_no,
                sku: sku.parse_sku(),
                quantity: Quantity::new(*n).unwrap(),
            })
            .collect();
        let mut tx = self.db.store.begin(self.ctx.tenant_id).await.unwrap();
        let consumed = reservations::consume(tx.as_mut(), &lines, &self.meta(reference)).await?;
        tx.commit().await.unwrap();
        Ok(consumed)
    }

    async fn release(&self) -> Vec<Reservation> {
        let mut tx = self.db.store.begin(self.ctx.tenant_id).await.unwrap();
        let released = reservations::release(tx.as_mut(), &self.meta(&self.reference))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        released
    }

    async fn allocations(&self) -> Vec<Reservation> {
        let mut tx = self.db.store.begin(self.ctx.tenant_id).await.unwrap();
        tx.allocations_of(&self.reference).await.unwrap()
    }

    /// (on hand, reserved) of a SKU in one warehouse.
    async fn level(&self, warehouse: WarehouseId, sku: &str) -> (u32, u32) {
        let levels = self
            .db
            .store
            .levels(self.ctx.tenant_id, &sku.parse_sku())
            .await
            .unwrap();
        let level = levels
            .iter()
            .find(|l| l.warehouse_id == warehouse)
            .unwrap_or_else(|| panic!("{sku} has no stock row in {warehouse:?}"));
        (level.on_hand.get(), level.reserved.get())
    }

    async fn movements(&self, sku: &str, kind: MovementKind) -> Vec<StockMovement> {
        let page = self
            .inventory
            .movements(
                &self.ctx,
                &sku.parse_sku(),
                PageRequest::new(None, Some(200)),
            )
            .await
            .unwrap();
        page.items.into_iter().filter(|m| m.kind == kind).collect()
    }

    async fn assert_no_drift(&self) {
        let report = self
            .inventory
            .rebuild_levels(&self.ctx, false)
            .await
            .unwrap();
        assert!(report.levels_checked > 0);
        assert!(
            report.drift.is_empty(),
            "ledger disagrees with stock levels: {:?}",
            report.drift
        );
    }

    async fn warehouse(&self, code: &str) -> WarehouseId {
        let all = self.inventory.warehouses(&self.ctx).await.unwrap();
        all.iter().find(|w| w.code == code).unwrap().id
    }
}

trait ParseSku {
    fn parse_sku(&self) -> Sku;
}

impl ParseSku for str {
    fn parse_sku(&self) -> Sku {
        Sku::parse(self).unwrap()
    }
}

async fn shipping_in_two_steps_takes_stock_out_of_on_hand_and_reserved_and_leaves_no_allocation(
    backend: Backend,
) {
    let w = World::new(backend).await;
    w.inventory
        .open_warehouse(
            &w.ctx,
            NewWarehouse {
                code: "EAST".into(),
                name: "East".into(),
                address: None,
                priority: Some(5),
                cutoff: None,
            },
        )
        .await
        .unwrap();
    let (main, east) = (w.warehouse("MAIN").await, w.warehouse("EAST").await);
    w.product("A", &[]).await;
    w.product("B", &[]).await;
    w.product("KIT", &[("B", 2)]).await;
    w.count(None, "A", 10).await;
    w.count(Some("EAST"), "A", 4).await;
    w.count(None, "B", 6).await;
    // Line 1 splits: 10 A from MAIN (priority 0), 2 from EAST; line 2: 2 kits = 4 B from MAIN.
    w.reserve(&[(1, "A", 12), (2, "KIT", 2)]).await;
    assert_eq!(w.level(main, "A").await, (10, 10));
    assert_eq!(w.level(east, "A").await, (4, 2));
    assert_eq!(w.level(main, "B").await, (6, 4));

    let first = w.ship(&[(1, "A", 11), (2, "KIT", 1)]).await.unwrap();
    let got: Vec<(u32, WarehouseId, String, u32)> = first
        .iter()
        .map(|c| {
            (
                c.line_no,
                c.warehouse_id,
                c.sku.to_string(),
                c.quantity.get(),
            )
        })
        .collect();
    let mut want = vec![
        (1, main, "A".to_owned(), 10),
        (1, east, "A".to_owned(), 1),
        (2, main, "B".to_owned(), 2),
    ];
    want.sort_by(|a, b| (&a.2, a.1).cmp(&(&b.2, b.1)));
    assert_eq!(got, want, "best priority first, sorted in lock order");
    assert_eq!(w.level(main, "A").await, (0, 0));
    assert_eq!(w.level(east, "A").await, (3, 1));
    assert_eq!(w.level(main, "B").await, (4, 2));
    w.assert_no_drift().await;

    w.ship(&[(1, "A", 1), (2, "KIT", 1)]).await.unwrap();
    assert_eq!(w.level(main, "A").await, (0, 0));
    assert_eq!(w.level(east, "A").await, (2, 0));
    assert_eq!(w.level(main, "B").await, (2, 0));
    assert!(
        w.allocations().await.is_empty(),
        "allocations fully consumed"
    );
    w.assert_no_drift().await;

    let shipped_a = w.movements("A", MovementKind::Ship).await;
    assert_eq!(shipped_a.len(), 3, "one per (SKU, warehouse) per shipment");
    assert!(shipped_a.iter().all(|m| {
        m.on_hand_delta == m.reserved_delta
            && m.reference.as_deref() == Some(w.reference.as_str())
            && m.actor.as_deref() == Some(w.ctx.actor.as_str())
            && m.reason.as_deref() == Some(inventory::shipping::SHIP_REASON)
    }));
    assert_eq!(shipped_a.iter().map(|m| m.on_hand_delta).sum::<i64>(), -12);
    let shipped_b = w.movements("B", MovementKind::Ship).await;
    assert_eq!(shipped_b.iter().map(|m| m.reserved_delta).sum::<i64>(), -4);

    let events = w.db.store.events_of(w.ctx.tenant_id).await.unwrap();
    let ship_events: Vec<_> = events
        .iter()
        .filter(|e| e.event.event_type == "inventory.changed" && e.event.payload["cause"] == "ship")
        .collect();
    assert_eq!(
        ship_events.len(),
        5,
        "3 rows in the first shipment, 2 in the second"
    );
    let east_a = ship_events
        .iter()
        .rfind(|e| e.event.payload["warehouse"] == "EAST")
        .unwrap();
    assert_eq!(east_a.event.payload["on_hand"], 2);
    assert_eq!(east_a.event.payload["reserved"], 0);
    assert_eq!(east_a.event.payload["on_hand_delta"], -1);

    let more = w.ship(&[(1, "A", 1)]).await;
    assert!(
        matches!(more, Err(ConsumeError::NotReserved { line_no: 1, reserved, .. }) if reserved.is_zero()),
        "{more:?}"
    );
}

async fn releasing_after_a_partial_shipment_gives_back_only_the_unshipped_rest(backend: Backend) {
    let w = World::new(backend).await;
    let main = w.warehouse("MAIN").await;
    w.product("A", &[]).await;
    w.count(None, "A", 10).await;
    w.reserve(&[(1, "A", 6)]).await;
    w.ship(&[(1, "A", 4)]).await.unwrap();
    assert_eq!(w.level(main, "A").await, (6, 2));

    let over = w.ship(&[(1, "A", 3)]).await;
    assert!(
        matches!(
            over,
            Err(ConsumeError::NotReserved { line_no: 1, wanted, reserved })
                if wanted.get() == 3 && reserved.get() == 2
        ),
        "{over:?}"
    );
    assert_eq!(
        w.level(main, "A").await,
        (6, 2),
        "a refused shipment writes nothing"
    );

    let released = w.release().await;
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].quantity.get(), 2);
    assert_eq!(w.level(main, "A").await, (6, 0));
    assert!(w.allocations().await.is_empty());
    let releases = w.movements("A", MovementKind::Release).await;
    assert_eq!(releases.iter().map(|m| m.reserved_delta).sum::<i64>(), -2);
    w.assert_no_drift().await;
}

async fn shipments_and_placements_on_the_same_skus_run_concurrently_without_deadlock(
    backend: Backend,
) {
    let w = World::new(backend).await;
    let main = w.warehouse("MAIN").await;
    w.product("A", &[]).await;
    w.product("B", &[]).await;
    w.count(None, "A", 40).await;
    w.count(None, "B", 40).await;
    let old: Vec<String> = (0..8).map(|i| format!("order:old-{i}")).collect();
    for r in &old {
        w.reserve_for(r, &[(1, "A", 2), (2, "B", 2)]).await;
    }
    // Shipments of the old orders race placements that list the SKUs the other way round:
    // every writer still locks A before B, so none waits on another in a cycle.
    let ships = old
        .iter()
        .map(|r| w.ship_for(r, &[(2, "B", 2), (1, "A", 2)]));
    let new: Vec<String> = (0..8).map(|i| format!("order:new-{i}")).collect();
    let places = new
        .iter()
        .map(|r| w.reserve_for(r, &[(1, "B", 1), (2, "A", 1)]));
    let (shipped, _) = futures::join!(
        futures::future::join_all(ships),
        futures::future::join_all(places)
    );
    assert!(shipped.iter().all(Result::is_ok), "{shipped:?}");
    // 16 of each shipped, 8 of each newly reserved.
    assert_eq!(w.level(main, "A").await, (24, 8));
    assert_eq!(w.level(main, "B").await, (24, 8));
    w.assert_no_drift().await;
}
