//! Reads and small writes of the floor: bins, put-away, boxes, tasks, and the short-pick write-off.

use super::*;
use crate::tx::Tx;

/// Why units could not be put away.
#[derive(Debug)]
pub enum PutAwayFailure {
    /// No bin with this code in the warehouse.
    UnknownBin(String),
    ExceedsOnHand(PutAwayError),
    Store(StoreError),
}

impl From<StoreError> for PutAwayFailure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<PutAwayError> for PutAwayFailure {
    fn from(e: PutAwayError) -> Self {
        Self::ExceedsOnHand(e)
    }
}

/// One bin's units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinHolding {
    pub warehouse_code: String,
    pub bin: Bin,
    pub sku: Sku,
    pub quantity: i64,
    pub preferred: bool,
}

/// One unit of an order's reservations: `(line_no, sku, warehouse, units)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAllocation {
    pub order_id: OrderId,
    pub line_no: u32,
    pub sku: Sku,
    pub warehouse: WarehouseId,
    pub quantity: Quantity,
}

impl SqlStore {
    /// The tenant's warehouse with this code (trimmed, any case): its id and stored code.
    pub async fn warehouse_by_code(
        &self,
        tenant: TenantId,
        code: &str,
    ) -> Result<Option<(WarehouseId, String)>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = warehouse_row::Entity::find()
            .filter(warehouse_row::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse_row::Column::Code.eq(code.trim().to_ascii_uppercase()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(row.map(|w| (WarehouseId::from_uuid(w.id), w.code)))
    }

    /// Adds a bin; `Ok(false)` when the warehouse already has a bin with that code.
    pub async fn create_bin(
        &self,
        tenant: TenantId,
        b: &Bin,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let inserted = bin::Entity::insert(bin::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.into_uuid()),
            warehouse_id: Set(b.warehouse.into_uuid()),
            code: Set(b.code.to_string()),
            zone: Set(b.zone.clone()),
            walk_order: Set(i64::from(b.walk_order)),
            created_at: Set(now),
        })
        .exec_without_returning(&tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Ok(false),
            other => other.map_err(store_err)?,
        };
        tx.commit().await.map_err(store_err)?;
        Ok(true)
    }

    /// A warehouse's bins in walk order.
    pub async fn bins(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
    ) -> Result<Vec<Bin>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = bin::Entity::find()
            .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
            .order_by_asc(bin::Column::WalkOrder)
            .order_by_asc(bin::Column::Code)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.iter().map(to_bin).collect()
    }

    /// Places `quantity` units of `sku` in a bin (marking it the SKU's home bin if
    /// `preferred`). Refused when the SKU's units in the warehouse's bins would exceed its on
    /// hand there ([`warehouse::check_put_away`]); the stock row is locked meanwhile, so two
    /// put-aways cannot together exceed it. Returns what the bin now holds.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_away(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
        code: &BinCode,
        sku: &Sku,
        quantity: Quantity,
        preferred: bool,
        now: DateTime<Utc>,
    ) -> Result<i64, PutAwayFailure> {
        let tx = self.begin_tenant(tenant).await?;
        let Some(target) = find_bin(&tx, tenant, warehouse, code).await? else {
            return Err(PutAwayFailure::UnknownBin(code.to_string()));
        };
        let on_hand = crate::stock_ledger::lock_stock(&tx, tenant, std::slice::from_ref(sku))
            .await?
            .into_iter()
            .find(|r| r.warehouse_id == warehouse)
            .map(|r| r.on_hand)
            .unwrap_or(0);
        let bin_ids: Vec<Uuid> = bin::Entity::find()
            .select_only()
            .column(bin::Column::Id)
            .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
            .into_tuple()
            .all(&tx)
            .await
            .map_err(store_err)?;
        let held = bin_stock::Entity::find()
            .filter(bin_stock::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin_stock::Column::Sku.eq(sku.as_str()))
            .filter(bin_stock::Column::BinId.is_in(bin_ids))
            .all(&tx)
            .await
            .map_err(store_err)?;
        let in_bins: i64 = held.iter().map(|r| r.quantity).sum();
        warehouse::check_put_away(on_hand, in_bins, quantity)?;
        let existing = held.iter().find(|r| r.bin_id == target.id);
        let total = existing.map_or(0, |r| r.quantity) + quantity.as_i64();
        match existing {
            Some(row) => {
                bin_stock::Entity::update_many()
                    .col_expr(bin_stock::Column::Quantity, total.into())
                    .col_expr(
                        bin_stock::Column::Preferred,
                        (row.preferred || preferred).into(),
                    )
                    .col_expr(bin_stock::Column::UpdatedAt, now.into())
                    .filter(bin_stock::Column::TenantId.eq(tenant.into_uuid()))
                    .filter(bin_stock::Column::BinId.eq(target.id))
                    .filter(bin_stock::Column::Sku.eq(sku.as_str()))
                    .exec(&tx)
                    .await
                    .map_err(store_err)?;
            }
            None => {
                bin_stock::Entity::insert(bin_stock::ActiveModel {
                    tenant_id: Set(tenant.into_uuid()),
                    bin_id: Set(target.id),
                    sku: Set(sku.to_string()),
                    quantity: Set(total),
                    preferred: Set(preferred),
                    updated_at: Set(now),
                })
                .exec_without_returning(&tx)
                .await
                .map_err(store_err)?;
            }
        }
        tx.commit().await.map_err(store_err)?;
        Ok(total)
    }

    /// Every bin holding units of `sku` (with zero-unit rows left out), in warehouse code
    /// then walk order.
    pub async fn bins_of_sku(
        &self,
        tenant: TenantId,
        sku: &Sku,
    ) -> Result<Vec<BinHolding>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = bin_stock::Entity::find()
            .filter(bin_stock::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin_stock::Column::Sku.eq(sku.as_str()))
            .filter(bin_stock::Column::Quantity.gt(0))
            .all(&tx)
            .await
            .map_err(store_err)?;
        let bins: HashMap<Uuid, bin::Model> = bin::Entity::find()
            .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin::Column::Id.is_in(rows.iter().map(|r| r.bin_id)))
            .all(&tx)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        let codes: HashMap<Uuid, String> = warehouse_row::Entity::find()
            .filter(warehouse_row::Column::TenantId.eq(tenant.into_uuid()))
            .all(&tx)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|w| (w.id, w.code))
            .collect();
        tx.commit().await.map_err(store_err)?;
        let mut out = rows
            .into_iter()
            .filter_map(|r| bins.get(&r.bin_id).map(|b| (r, b)))
            .map(|(r, b)| {
                Ok(BinHolding {
                    warehouse_code: codes.get(&b.warehouse_id).cloned().unwrap_or_default(),
                    bin: to_bin(b)?,
                    sku: sku.clone(),
                    quantity: r.quantity,
                    preferred: r.preferred,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by(|a, b| {
            a.warehouse_code
                .cmp(&b.warehouse_code)
                .then_with(|| a.bin.walk_cmp(&b.bin))
        });
        Ok(out)
    }

    /// Adds a box to the tenant's catalogue; `Ok(false)` when the code is taken.
    pub async fn create_box(
        &self,
        tenant: TenantId,
        b: &BoxType,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let inserted = box_type::Entity::insert(box_type::ActiveModel {
            tenant_id: Set(tenant.into_uuid()),
            code: Set(b.code.clone()),
            length_mm: Set(i64::from(b.length_mm)),
            width_mm: Set(i64::from(b.width_mm)),
            height_mm: Set(i64::from(b.height_mm)),
            max_weight_g: Set(i64::from(b.max_weight_g)),
            cost_minor: Set(b.cost.amount_minor),
            currency: Set(b.cost.currency.to_string()),
            created_at: Set(now),
        })
        .exec_without_returning(&tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Ok(false),
            other => other.map_err(store_err)?,
        };
        tx.commit().await.map_err(store_err)?;
        Ok(true)
    }

    /// The tenant's boxes, by code.
    pub async fn boxes(&self, tenant: TenantId) -> Result<Vec<BoxType>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = box_type::Entity::find()
            .filter(box_type::Column::TenantId.eq(tenant.into_uuid()))
            .order_by_asc(box_type::Column::Code)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.into_iter().map(to_box).collect()
    }

    pub async fn pick_list(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<PickList>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = pick_list::Entity::find_by_id(id)
            .filter(pick_list::Column::TenantId.eq(tenant.into_uuid()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(to_pick_list).transpose()
    }

    pub async fn pack_session(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<PackSession>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = pack_session::Entity::find_by_id(id)
            .filter(pack_session::Column::TenantId.eq(tenant.into_uuid()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(to_pack_session).transpose()
    }

    /// The order's pack session still open, if any (the newest).
    pub async fn open_pack_session_of(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Option<PackSession>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = pack_session::Entity::find()
            .filter(pack_session::Column::TenantId.eq(tenant.into_uuid()))
            .filter(pack_session::Column::OrderId.eq(order.into_uuid()))
            .filter(pack_session::Column::Status.eq(PackStatus::Open.as_str()))
            .order_by_desc(pack_session::Column::CreatedAt)
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(to_pack_session).transpose()
    }

    /// What the orders hold in stock, line by line and warehouse by warehouse.
    pub async fn order_allocations(
        &self,
        tenant: TenantId,
        orders: &[OrderId],
    ) -> Result<Vec<OrderAllocation>, StoreError> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let owners: Vec<String> = orders.iter().map(|o| format!("order:{o}")).collect();
        let tx = self.begin_tenant(tenant).await?;
        let rows = stock_allocation::Entity::find()
            .filter(stock_allocation::Column::TenantId.eq(tenant.into_uuid()))
            .filter(stock_allocation::Column::Owner.is_in(owners))
            .filter(stock_allocation::Column::Quantity.gt(0))
            .order_by_asc(stock_allocation::Column::Owner)
            .order_by_asc(stock_allocation::Column::LineNo)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.into_iter()
            .map(|r| {
                let id = r
                    .owner
                    .strip_prefix("order:")
                    .and_then(|s| s.parse::<Uuid>().ok())
                    .ok_or_else(|| bad("allocation owner"))?;
                Ok(OrderAllocation {
                    order_id: OrderId::from_uuid(id),
                    line_no: u32::try_from(r.line_no).map_err(|_| bad("line"))?,
                    sku: Sku::parse(&r.sku).map_err(|_| bad("sku"))?,
                    warehouse: WarehouseId::from_uuid(r.warehouse_id),
                    quantity: Quantity::new(r.quantity).map_err(|_| bad("quantity"))?,
                })
            })
            .collect()
    }

    /// The staff member's queue: assigned or in progress, earliest ship-by then oldest.
    pub async fn tasks_of(
        &self,
        tenant: TenantId,
        staff: &str,
    ) -> Result<Vec<WarehouseTask>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = warehouse_task::Entity::find()
            .filter(warehouse_task::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse_task::Column::Assignee.eq(staff))
            .filter(warehouse_task::Column::Status.is_in([
                TaskStatus::Assigned.as_str(),
                TaskStatus::InProgress.as_str(),
            ]))
            .order_by_asc(warehouse_task::Column::CreatedAt)
            .order_by_asc(warehouse_task::Column::Id)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        let mut tasks = rows
            .into_iter()
            .map(to_task)
            .collect::<Result<Vec<_>, _>>()?;
        tasks.sort_by_key(|t| (t.ship_by.is_none(), t.ship_by, t.created_at, t.id));
        Ok(tasks)
    }

    /// Hands `staff` the next open task (of `kind`, if given) by [`claim_next`]; `None` when
    /// the queue is empty. The candidates are locked, so two claims never get the same task.
    pub async fn claim_task(
        &self,
        tenant: TenantId,
        staff: &str,
        kind: Option<TaskKind>,
    ) -> Result<Option<WarehouseTask>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let mut query = warehouse_task::Entity::find()
            .filter(warehouse_task::Column::TenantId.eq(tenant.into_uuid()))
            .filter(warehouse_task::Column::Status.eq(TaskStatus::Open.as_str()));
        if let Some(kind) = kind {
            query = query.filter(warehouse_task::Column::Kind.eq(kind.as_str()));
        }
        // Deadlines first on both backends (SQLite sorts NULL first, PostgreSQL last).
        let open = query
            .order_by(
                Expr::col(warehouse_task::Column::ShipBy).is_null(),
                sea_orm::Order::Asc,
            )
            .order_by_asc(warehouse_task::Column::ShipBy)
            .order_by_asc(warehouse_task::Column::CreatedAt)
            .limit(500)
            .lock_exclusive()
            .all(&tx)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_task)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(next) = claim_next(&open) else {
            return Ok(None);
        };
        let mut task = next.clone();
        task.assign(staff)
            .map_err(|e| StoreError::new(format!("an open task refused a claim: {e}")))?;
        save_task(&tx, &task).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(Some(task))
    }

    /// Locks a task, applies `step` (start, complete) and saves it. `Ok(None)`: no such task.
    pub async fn change_task(
        &self,
        tenant: TenantId,
        id: Uuid,
        step: impl FnOnce(&mut WarehouseTask) -> Result<(), TaskError> + Send,
    ) -> Result<Option<Result<WarehouseTask, TaskError>>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let Some(row) = warehouse_task::Entity::find_by_id(id)
            .filter(warehouse_task::Column::TenantId.eq(tenant.into_uuid()))
            .lock_exclusive()
            .one(&tx)
            .await
            .map_err(store_err)?
        else {
            return Ok(None);
        };
        let mut task = to_task(row)?;
        if let Err(e) = step(&mut task) {
            return Ok(Some(Err(e)));
        }
        save_task(&tx, &task).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(Some(Ok(task)))
    }

    /// The current quantity of a SKU in one bin (0 when it holds none); for tests and checks.
    pub async fn bin_quantity(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
        code: &BinCode,
        sku: &Sku,
    ) -> Result<i64, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let Some(b) = find_bin(&tx, tenant, warehouse, code).await? else {
            return Ok(0);
        };
        let row = bin_stock::Entity::find_by_id((tenant.into_uuid(), b.id, sku.to_string()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(row.map_or(0, |r| r.quantity))
    }
}

pub(super) async fn save_task(tx: &Tx, task: &WarehouseTask) -> Result<(), StoreError> {
    let mut row = task_row(task);
    row.id = sea_orm::ActiveValue::NotSet;
    row.tenant_id = sea_orm::ActiveValue::NotSet;
    warehouse_task::Entity::update_many()
        .set(row)
        .filter(warehouse_task::Column::TenantId.eq(task.tenant_id.into_uuid()))
        .filter(warehouse_task::Column::Id.eq(task.id))
        .exec(tx)
        .await
        .map_err(store_err)?;
    Ok(())
}

/// A short pick (see `OrderTransaction::write_off_reserved`): takes the units out of the
/// order line's reservation in `warehouse` and off its on hand, with adjustment movements
/// and `inventory.changed` events.
pub(crate) async fn write_off_reserved(
    tx: &Tx,
    tenant: TenantId,
    request: &order::ports::StockRequest,
    warehouse: WarehouseId,
    reason: &str,
) -> Result<(), order::OrderError> {
    use crate::entities::stock_movement;
    use inventory::{MovementKind, StockMovement};
    let mut skus: Vec<Sku> = request.lines.iter().map(|(_, s, _)| s.clone()).collect();
    skus.sort();
    skus.dedup();
    crate::stock_ledger::lock_stock(tx, tenant, &skus).await?;
    let code = warehouse_row::Entity::find_by_id(warehouse.into_uuid())
        .one(tx)
        .await
        .map_err(store_err)?
        .map(|w| w.code)
        .unwrap_or_default();
    let ctx = kernel::RequestContext {
        tenant_id: tenant,
        actor: request.actor.clone(),
        correlation_id: request.correlation_id.unwrap_or_default(),
    };
    let mut events = Vec::new();
    for (line_no, sku, units) in &request.lines {
        let n = units.as_i64();
        let key = (
            tenant.into_uuid(),
            request.reference.clone(),
            *line_no as i32,
            sku.to_string(),
            warehouse.into_uuid(),
        );
        let held = stock_allocation::Entity::find_by_id(key.clone())
            .one(tx)
            .await
            .map_err(store_err)?
            .map_or(0, |a| a.quantity);
        if held < n {
            return Err(kernel::ValidationErrors::single(
                "found",
                format!("line {line_no} holds only {held} units of {sku} in this warehouse"),
            )
            .into());
        }
        if held == n {
            stock_allocation::Entity::delete_by_id(key)
                .exec(tx)
                .await
                .map_err(store_err)?;
        } else {
            stock_allocation::Entity::update_many()
                .col_expr(stock_allocation::Column::Quantity, (held - n).into())
                .filter(stock_allocation::Column::TenantId.eq(tenant.into_uuid()))
                .filter(stock_allocation::Column::Owner.eq(request.reference.as_str()))
                .filter(stock_allocation::Column::LineNo.eq(*line_no as i32))
                .filter(stock_allocation::Column::Sku.eq(sku.as_str()))
                .filter(stock_allocation::Column::WarehouseId.eq(warehouse.into_uuid()))
                .exec(tx)
                .await
                .map_err(store_err)?;
        }
        crate::stock_ledger::move_stock(tx, tenant, (sku, warehouse), -n, -n, request.at).await?;
        stock_movement::Entity::insert(crate::inventory::movement_row(&StockMovement {
            id: kernel::MovementId::new(),
            tenant_id: tenant,
            warehouse_id: warehouse,
            sku: sku.clone(),
            kind: MovementKind::Adjustment,
            on_hand_delta: -n,
            reserved_delta: -n,
            incoming_delta: 0,
            reason: Some(reason.to_owned()),
            reference: Some(request.reference.clone()),
            actor: Some(request.actor.clone()),
            occurred_at: request.at,
        }))
        .exec_without_returning(tx)
        .await
        .map_err(store_err)?;
        events.push(inventory::service::sku_event(
            &ctx,
            "inventory.changed",
            sku,
            request.at,
            serde_json::json!({
                "sku": sku, "warehouse": code, "on_hand_delta": -n, "cause": "short_pick",
                "reason": reason,
            }),
        ));
    }
    outbox::append(tx, &events).await?;
    Ok(())
}
