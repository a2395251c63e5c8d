//! Floor use cases, generic over their ports so tests run them against mocks.

use crate::packing::{BoxType, PackError, PackProgress, PackSession};
use crate::pick_plan::{PickableOrder, plan_groups};
use crate::picking::{PickError, PickList, Scan, ScanOutcome, Shortage};
use crate::ports::{BinStockReader, FloorTransaction, FloorUnitOfWork};
use crate::task::{TaskKind, WarehouseTask};
use chrono::{DateTime, Utc};
use kernel::{Clock, OrderId, Quantity, RequestContext, Sku, StoreError, WarehouseId};
use std::collections::HashSet;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum FloorError {
    #[error("no such pick list")]
    PickListNotFound,
    #[error("no such pack session")]
    PackSessionNotFound,
    #[error(transparent)]
    Pick(#[from] PickError),
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A stored pick list and the pick task opened for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub list: PickList,
    pub task: WarehouseTask,
}

/// Picking on the floor: plan lists from bin stock, confirm scans, report short picks. Each
/// call is one unit of work: the list, the bin stock it moves, and any events it raised,
/// commit together.
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

    /// Plans batch pick lists for `groups` of orders (one group per wave, or a single group)
    /// in `warehouse` (see [`plan_groups`]) and stores each with an open pick task, due by its
    /// earliest order's ship-by.
    pub async fn plan(
        &self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        groups: &[Vec<PickableOrder>],
        max_orders: usize,
    ) -> Result<Vec<Planned>, FloorError> {
        let mut seen = HashSet::new();
        let skus: Vec<Sku> = groups
            .iter()
            .flatten()
            .flat_map(|o| o.lines.iter().map(|(_, sku, _)| sku))
            .filter(|sku| seen.insert(*sku))
            .cloned()
            .collect();
        let stock = self
            .stock
            .bin_stock(ctx.tenant_id, warehouse, &skus)
            .await?;
        let now = self.clock.now();
        let ship_by: std::collections::HashMap<OrderId, DateTime<Utc>> = groups
            .iter()
            .flatten()
            .map(|o| (o.order_id, o.ship_by))
            .collect();
        let lists = plan_groups(groups, &stock, max_orders, now);
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut planned = Vec::with_capacity(lists.len());
        for list in lists {
            tx.insert_pick_list(&list).await?;
            let mut task = WarehouseTask::open(
                ctx.tenant_id,
                warehouse,
                TaskKind::Pick,
                format!("picklist:{}", list.id()),
                now,
            );
            if let Some(due) = list.orders().iter().filter_map(|o| ship_by.get(o)).min() {
                task = task.due(*due);
            }
            tx.insert_task(&task).await?;
            planned.push(Planned { list, task });
        }
        tx.commit().await?;
        Ok(planned)
    }

    /// Applies one scan and takes its units out of the bin. A wrong scan commits nothing; a
    /// replayed scan id writes nothing and answers as the first time.
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
        let scan_id = scan.scan_id;
        let outcome = list.scan(scan, now)?;
        if list.version() == version {
            return Ok(outcome);
        }
        let applied = list
            .scans()
            .into_iter()
            .find(|s| s.scan_id == scan_id)
            .map(|s| (s.line_seq, s.quantity));
        if let Some((seq, quantity)) = applied
            && let Some(line) = list.lines().get(seq as usize - 1)
        {
            tx.take_from_bin(&line.bin, &line.sku, quantity).await?;
        }
        save_list(tx, &mut list, ctx, now).await?;
        Ok(outcome)
    }

    /// Records a short pick on line `seq`, takes the missing units out of the bin's count and
    /// writes the `pick.short` event; the caller turns the returned shortage into order
    /// write-offs and re-allocation.
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
        tx.take_from_bin(&shortage.bin, &shortage.sku, shortage.missing)
            .await?;
        save_list(tx, &mut list, ctx, now).await?;
        Ok(shortage)
    }
}

async fn save_list(
    mut tx: Box<dyn FloorTransaction>,
    list: &mut PickList,
    ctx: &RequestContext,
    now: DateTime<Utc>,
) -> Result<(), FloorError> {
    tx.save_pick_list(list).await?;
    let events: Vec<_> = list
        .take_events()
        .iter()
        .map(|e| e.to_envelope(list, ctx, now))
        .collect();
    if !events.is_empty() {
        tx.append_events(&events).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Packing at a station: open a session for an order, verify units by scan, finish with a box
/// and a weight. Each call is one unit of work.
pub struct PackingService<U, C> {
    uow: U,
    clock: C,
}

impl<U, C> PackingService<U, C>
where
    U: FloorUnitOfWork,
    C: Clock,
{
    pub fn new(uow: U, clock: C) -> Self {
        Self { uow, clock }
    }

    /// Opens a session expecting `(sku, gtin, units)`.
    pub async fn open(
        &self,
        ctx: &RequestContext,
        order_id: OrderId,
        expected: Vec<(Sku, Option<String>, Quantity)>,
    ) -> Result<PackSession, FloorError> {
        let session = PackSession::open(order_id, expected);
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        tx.insert_pack_session(&session).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Verifies units; a wrong scan or a replay writes nothing.
    pub async fn scan(
        &self,
        ctx: &RequestContext,
        session: Uuid,
        scan_id: Uuid,
        barcode: &str,
        quantity: u32,
    ) -> Result<PackProgress, FloorError> {
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut s = tx
            .lock_pack_session(session)
            .await?
            .ok_or(FloorError::PackSessionNotFound)?;
        let version = s.version();
        let progress = s.scan(scan_id, barcode, quantity)?;
        if s.version() != version {
            tx.save_pack_session(&s).await?;
            tx.commit().await?;
        }
        Ok(progress)
    }

    /// Records the box and the weight and closes the session (every unit must be scanned).
    pub async fn finish(
        &self,
        ctx: &RequestContext,
        session: Uuid,
        box_type: &BoxType,
        weight_g: u32,
    ) -> Result<PackSession, FloorError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut s = tx
            .lock_pack_session(session)
            .await?
            .ok_or(FloorError::PackSessionNotFound)?;
        s.use_box(box_type)?;
        s.record_weight(weight_g)?;
        s.finish(now)?;
        tx.save_pack_session(&s).await?;
        tx.commit().await?;
        Ok(s)
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
        tx.expect_take_from_bin()
            .withf(|bin, sku, q| {
                bin.code.as_str() == "A-01" && sku.as_str() == "TEE" && q.get() == 2
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
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
        tx.expect_take_from_bin().never();
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
        tx.expect_take_from_bin()
            .withf(|_, _, q| q.get() == 2)
            .times(1)
            .returning(|_, _, _| Ok(()));
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
        tx.expect_insert_task()
            .withf(|t| t.kind == crate::TaskKind::Pick && t.ship_by == Some(now()))
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_commit().times(1).returning(|| Ok(()));
        let service = PickingService::new(uow_with(tx), reader, FixedClock::at(now()));
        let orders = vec![vec![order(2), order(1)]];
        let planned = service
            .plan(&ctx(), WarehouseId::new(), &orders, 10)
            .await
            .unwrap();
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].list.total_units(), 3);
        assert_eq!(
            planned[0].task.reference,
            format!("picklist:{}", planned[0].list.id())
        );
    }

    fn pack_session() -> PackSession {
        PackSession::open(
            OrderId::from_uuid(Uuid::from_u128(1)),
            vec![(Sku::parse("TEE").unwrap(), Some("0001".into()), q(2))],
        )
    }

    fn small_box() -> BoxType {
        BoxType {
            code: "S".into(),
            length_mm: 200,
            width_mm: 150,
            height_mm: 100,
            max_weight_g: 2_000,
            cost: kernel::Money::new(50, kernel::Currency::parse("USD").unwrap()),
        }
    }

    #[tokio::test]
    async fn a_wrong_pack_scan_writes_nothing_and_a_good_one_is_saved() {
        let stored = pack_session();
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pack_session()
            .returning(move |_| Ok(Some(stored.clone())));
        tx.expect_save_pack_session().never();
        tx.expect_commit().never();
        let packing = PackingService::new(uow_with(tx), FixedClock::at(now()));
        let err = packing
            .scan(&ctx(), Uuid::nil(), Uuid::from_u128(9), "MUG", 1)
            .await
            .unwrap_err();
        assert!(matches!(err, FloorError::Pack(PackError::WrongItem(_))));

        let stored = pack_session();
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pack_session()
            .returning(move |_| Ok(Some(stored.clone())));
        tx.expect_save_pack_session()
            .withf(|s| s.remaining_total() == 1)
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_commit().times(1).returning(|| Ok(()));
        let packing = PackingService::new(uow_with(tx), FixedClock::at(now()));
        let progress = packing
            .scan(&ctx(), Uuid::nil(), Uuid::from_u128(9), "0001", 1)
            .await
            .unwrap();
        assert_eq!(progress.remaining_total, 1);
    }

    #[tokio::test]
    async fn finishing_with_units_left_to_scan_writes_nothing() {
        let stored = pack_session();
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pack_session()
            .returning(move |_| Ok(Some(stored.clone())));
        tx.expect_save_pack_session().never();
        tx.expect_commit().never();
        let packing = PackingService::new(uow_with(tx), FixedClock::at(now()));
        let err = packing
            .finish(&ctx(), Uuid::nil(), &small_box(), 500)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            FloorError::Pack(PackError::NotAllScanned { remaining: 2 })
        ));
    }

    #[tokio::test]
    async fn finishing_records_box_and_weight_and_packs_the_session() {
        let mut stored = pack_session();
        stored.scan(Uuid::from_u128(1), "TEE", 2).unwrap();
        let mut tx = MockFloorTransaction::new();
        tx.expect_lock_pack_session()
            .returning(move |_| Ok(Some(stored.clone())));
        tx.expect_save_pack_session()
            .withf(|s| {
                s.status() == crate::PackStatus::Packed
                    && s.box_code() == Some("S")
                    && s.weight_g() == Some(450)
            })
            .times(1)
            .returning(|_| Ok(()));
        tx.expect_commit().times(1).returning(|| Ok(()));
        let packing = PackingService::new(uow_with(tx), FixedClock::at(now()));
        let session = packing
            .finish(&ctx(), Uuid::nil(), &small_box(), 450)
            .await
            .unwrap();
        assert_eq!(session.packed_at(), Some(now()));
    }
}
