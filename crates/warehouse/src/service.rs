//! Floor use cases, generic over their ports so tests run them against mocks.

use crate::pick_plan::{PickableOrder, plan_batch};
use crate::picking::{PickError, PickList, Scan, ScanOutcome, Shortage};
use crate::ports::{BinStockReader, FloorUnitOfWork};
use kernel::{Clock, Quantity, RequestContext, Sku, StoreError, WarehouseId};
use std::collections::HashSet;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum FloorError {
    #[error("no such pick list")]
    PickListNotFound,
    #[error(transparent)]
    Pick(#[from] PickError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Picking on the floor: plan lists from bin stock, confirm scans, report short picks. Each
/// call is one unit of work: the list, and any events it raised, commit together.
pub struct PickingService<U, S, C> {
    uow: U,
    stock: S,
    clock: C,
}

impl<U, S, C> PickingService<U, S, C>
where
    U: FloorUnitOfWork,
    S: BinStockReader,
    C: Clock,
{
    pub fn new(uow: U, stock: S, clock: C) -> Self {
        Self { uow, stock, clock }
    }

    /// Plans batch pick lists for `orders` in `warehouse` (see [`plan_batch`]) and stores them.
    pub async fn plan(
        &self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        orders: &[PickableOrder],
        max_orders: usize,
    ) -> Result<Vec<PickList>, FloorError> {
        let mut seen = HashSet::new();
        let skus: Vec<Sku> = orders
            .iter()
            .flat_map(|o| o.lines.iter().map(|(_, sku, _)| sku))
            .filter(|sku| seen.insert(*sku))
            .cloned()
            .collect();
        let stock = self
            .stock
            .bin_stock(ctx.tenant_id, warehouse, &skus)
            .await?;
        let lists = plan_batch(orders, &stock, max_orders, self.clock.now());
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        for list in &lists {
            tx.insert_pick_list(list).await?;
        }
        tx.commit().await?;
        Ok(lists)
    }

    /// Applies one scan. A wrong scan commits nothing; a replayed scan id writes nothing and
    /// answers as the first time.
    pub async fn confirm_scan(
        &self,
        ctx: &RequestContext,
        pick_list: Uuid,
        scan: Scan,
    ) -> Result<ScanOutcome, FloorError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut list = tx
            .lock_pick_list(pick_list)
            .await?
            .ok_or(FloorError::PickListNotFound)?;
        let version = list.version();
        let outcome = list.scan(scan, now)?;
        if list.version() == version {
            return Ok(outcome);
        }
        tx.save_pick_list(&list).await?;
        let events: Vec<_> = list
            .take_events()
            .iter()
            .map(|e| e.to_envelope(&list, ctx, now))
            .collect();
        if !events.is_empty() {
            tx.append_events(&events).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records a short pick on line `seq` and its `pick.short` event; the app turns the
    /// returned shortage into stock moves and re-allocation.
    pub async fn report_short(
        &self,
        ctx: &RequestContext,
        pick_list: Uuid,
        seq: u32,
        found: Quantity,
    ) -> Result<Shortage, FloorError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut list = tx
            .lock_pick_list(pick_list)
            .await?
            .ok_or(FloorError::PickListNotFound)?;
        let shortage = list.short(seq, found, now)?;
        tx.save_pick_list(&list).await?;
        let events: Vec<_> = list
            .take_events()
            .iter()
            .map(|e| e.to_envelope(&list, ctx, now))
            .collect();
        tx.append_events(&events).await?;
        tx.commit().await?;
        Ok(shortage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::tests::bin;
    use crate::pick_plan::{BinStock, plan_single};
    use crate::ports::{MockBinStockReader, MockFloorTransaction, MockFloorUnitOfWork};
    use chrono::{DateTime, Utc};
    use kernel::{FixedClock, OrderId, TenantId};

    fn now() -> DateTime<Utc> {
        "2025-03-01T09:00:00Z".parse().unwrap()
    }

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn ctx() -> RequestContext {
        RequestContext::new(TenantId::new(), "user:ana")
    }

    fn stock() -> Vec<BinStock> {
        vec![BinStock {
            sku: Sku::parse("TEE").unwrap(),
            bin: bin("A-01", 1),
            barcode: None,
            on_hand: q(5),
            preferred: true,
        }]
    }

    fn order(qty: i64) -> PickableOrder {
        PickableOrder {
            order_id: OrderId::from_uuid(Uuid::from_u128(1)),
            ship_by: now(),
            carrier: None,
            lines: vec![(1, Sku::parse("TEE").unwrap(), q(qty))],
        }
    }

    fn list() -> PickList {
        plan_single(&order(2), &stock(), now())
    }

    fn uow_with(tx: MockFloorTransaction) -> MockFloorUnitOfWork {
        let mut uow = MockFloorUnitOfWork::new();
        let mut tx = Some(tx);
        uow.expect_begin()
            .times(1)
            .returning(move |_| Ok(Box::new(tx.take().expect("begun once"))));
        uow
    }

    fn service(
        uow: MockFloorUnitOfWork,
    ) -> PickingService<MockFloorUnitOfWork, MockBinStockReader, FixedClock> {
        PickingService::new(uow, MockBinStockReader::new(), FixedClock::at(now()))
    }

    fn scan(id: u128, qty: u32) -> Scan {
        Scan {
            scan_id: Uuid::from_u128(id),
            bin: "A-01".into(),
            barcode: "TEE".into(),
            quantity: qty,
        }
    }

    #[tokio::test]
    async fn a_completing_scan_saves_the_list_with_its_event_and_commits() {
        let stored = list();
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pick_list()
            .returning(move |_| Ok(Some(stored.clone())));
        tx.expect_save_pick_list()
            .withf(|l| l.lines()[0].picked == Quantity::new(2).unwrap())
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_append_events()
            .withf(|e| e.len() == 1 && e[0].event_type == "picklist.completed")
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_commit().times(1).returning(|| Ok(()));
        let outcome = service(uow_with(tx))
            .confirm_scan(&ctx(), Uuid::nil(), scan(1, 2))
            .await
            .unwrap();
        assert_eq!(outcome, ScanOutcome::Complete);
    }

    #[tokio::test]
    async fn a_wrong_scan_commits_nothing_and_says_what_was_wrong() {
        let stored = list();
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pick_list()
            .returning(move |_| Ok(Some(stored.clone())));
        tx.expect_save_pick_list().never();
        tx.expect_commit().never();
        let err = service(uow_with(tx))
            .confirm_scan(&ctx(), Uuid::nil(), scan(1, 3))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "too many: only 2 left to pick here");
    }

    #[tokio::test]
    async fn a_replayed_scan_writes_nothing() {
        let mut stored = list();
        stored.scan(scan(1, 1), now()).unwrap();
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pick_list()
            .returning(move |_| Ok(Some(stored.clone())));
        tx.expect_save_pick_list().never();
        tx.expect_commit().never();
        let outcome = service(uow_with(tx))
            .confirm_scan(&ctx(), Uuid::nil(), scan(1, 1))
            .await
            .unwrap();
        let ScanOutcome::Next { line } = outcome else {
            panic!("expected the next line");
        };
        assert_eq!(line.picked, q(1));
    }

    #[tokio::test]
    async fn a_missing_pick_list_is_not_found() {
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pick_list().returning(|_| Ok(None));
        let err = service(uow_with(tx))
            .confirm_scan(&ctx(), Uuid::nil(), scan(1, 1))
            .await
            .unwrap_err();
        assert!(matches!(err, FloorError::PickListNotFound));
    }

    #[tokio::test]
    async fn a_short_pick_is_saved_with_its_event() {
        let stored = list();
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pick_list()
            .returning(move |_| Ok(Some(stored.clone())));
        tx.expect_save_pick_list().times(1).returning(|_| Ok(()));
        tx.expect_append_events()
            .withf(|e| e.len() == 2 && e[0].event_type == "pick.short")
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_commit().times(1).returning(|| Ok(()));
        let shortage = service(uow_with(tx))
            .report_short(&ctx(), Uuid::nil(), 1, q(0))
            .await
            .unwrap();
        assert_eq!(shortage.missing, q(2));
    }

    #[tokio::test]
    async fn planning_reads_each_sku_once_and_stores_every_list() {
        let mut reader = MockBinStockReader::new();
        reader
            .expect_bin_stock()
            .withf(|_, _, skus| skus.len() == 1 && skus[0].as_str() == "TEE")
            .times(1)
            .returning(|_, _, _| Ok(stock()));
        let mut tx = MockFloorTransaction::new();
        tx.expect_insert_pick_list().times(1).returning(|_| Ok(()));
        tx.expect_commit().times(1).returning(|| Ok(()));
        let service = PickingService::new(uow_with(tx), reader, FixedClock::at(now()));
        let orders = [order(2), order(1)];
        let lists = service
            .plan(&ctx(), WarehouseId::new(), &orders, 10)
            .await
            .unwrap();
        assert_eq!(lists.len(), 1);
        assert_eq!(lists[0].total_units(), 3);
    }
}
