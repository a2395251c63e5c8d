//! The floor unit of work and the bin-stock reader.

use super::*;
use crate::tx::Tx;

/// One floor unit of work: a database transaction scoped to one tenant.
pub struct SqlFloorTx {
    tx: Tx,
    tenant: TenantId,
}

#[async_trait]
impl FloorUnitOfWork for SqlStore {
    async fn begin(&self, tenant: TenantId) -> Result<Box<dyn FloorTransaction>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        Ok(Box::new(SqlFloorTx { tx, tenant }))
    }
}

#[async_trait]
impl FloorTransaction for SqlFloorTx {
    async fn insert_pick_list(&mut self, list: &PickList) -> Result<(), StoreError> {
        let warehouse = list
            .lines()
            .first()
            .map(|l| l.bin.warehouse.into_uuid())
            .unwrap_or_default();
        pick_list::Entity::insert(pick_list::ActiveModel {
            id: Set(list.id()),
            tenant_id: Set(self.tenant.into_uuid()),
            warehouse_id: Set(warehouse),
            status: Set(list.status().as_str().to_owned()),
            body: Set(pick_list_body(list)?),
            version: Set(list.version()),
            created_at: Set(list.created_at()),
            updated_at: Set(list.created_at()),
        })
        .exec_without_returning(&self.tx)
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn lock_pick_list(&mut self, id: Uuid) -> Result<Option<PickList>, StoreError> {
        pick_list::Entity::find_by_id(id)
            .filter(pick_list::Column::TenantId.eq(self.tenant.into_uuid()))
            .lock_exclusive()
            .one(&self.tx)
            .await
            .map_err(store_err)?
            .map(to_pick_list)
            .transpose()
    }

    async fn save_pick_list(&mut self, list: &PickList) -> Result<(), StoreError> {
        let now = list
            .completed_at()
            .unwrap_or_else(Utc::now)
            .max(list.created_at());
        let result = pick_list::Entity::update_many()
            .col_expr(pick_list::Column::Status, list.status().as_str().into())
            .col_expr(pick_list::Column::Body, pick_list_body(list)?.into())
            .col_expr(pick_list::Column::Version, list.version().into())
            .col_expr(pick_list::Column::UpdatedAt, Utc::now().max(now).into())
            .filter(pick_list::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(pick_list::Column::Id.eq(list.id()))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        if result.rows_affected != 1 {
            return Err(StoreError::new("saved a pick list that is not stored"));
        }
        Ok(())
    }

    async fn insert_pack_session(&mut self, session: &PackSession) -> Result<(), StoreError> {
        let now = Utc::now();
        pack_session::Entity::insert(pack_session::ActiveModel {
            id: Set(session.id()),
            tenant_id: Set(self.tenant.into_uuid()),
            order_id: Set(session.order_id().into_uuid()),
            status: Set(session.status().as_str().to_owned()),
            body: Set(pack_session_body(session)?),
            version: Set(session.version()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(&self.tx)
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn lock_pack_session(&mut self, id: Uuid) -> Result<Option<PackSession>, StoreError> {
        pack_session::Entity::find_by_id(id)
            .filter(pack_session::Column::TenantId.eq(self.tenant.into_uuid()))
            .lock_exclusive()
            .one(&self.tx)
            .await
            .map_err(store_err)?
            .map(to_pack_session)
            .transpose()
    }

    async fn save_pack_session(&mut self, session: &PackSession) -> Result<(), StoreError> {
        let result = pack_session::Entity::update_many()
            .col_expr(
                pack_session::Column::Status,
                session.status().as_str().into(),
            )
            .col_expr(
                pack_session::Column::Body,
                pack_session_body(session)?.into(),
            )
            .col_expr(pack_session::Column::Version, session.version().into())
            .col_expr(pack_session::Column::UpdatedAt, Utc::now().into())
            .filter(pack_session::Column::TenantId.eq(self.tenant.into_uuid()))
            .filter(pack_session::Column::Id.eq(session.id()))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        if result.rows_affected != 1 {
            return Err(StoreError::new("saved a pack session that is not stored"));
        }
        Ok(())
    }

    /// Receiving is not stored yet: no inbound shipment exists.
    async fn lock_inbound(&mut self, _id: Uuid) -> Result<Option<InboundShipment>, StoreError> {
        Ok(None)
    }

    async fn save_inbound(&mut self, _shipment: &InboundShipment) -> Result<(), StoreError> {
        Err(StoreError::new("inbound shipments are not stored yet"))
    }

    /// Cycle counts are not stored yet: no count exists.
    async fn lock_count(&mut self, _id: Uuid) -> Result<Option<CycleCount>, StoreError> {
        Ok(None)
    }

    async fn save_count(&mut self, _count: &CycleCount) -> Result<(), StoreError> {
        Err(StoreError::new("cycle counts are not stored yet"))
    }

    async fn take_from_bin(
        &mut self,
        bin_ref: &Bin,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<(), StoreError> {
        let Some(row) = find_bin(&self.tx, self.tenant, bin_ref.warehouse, &bin_ref.code).await?
        else {
            return Ok(());
        };
        let n = quantity.as_i64();
        let scoped = || {
            bin_stock::Entity::update_many()
                .col_expr(bin_stock::Column::UpdatedAt, Utc::now().into())
                .filter(bin_stock::Column::TenantId.eq(self.tenant.into_uuid()))
                .filter(bin_stock::Column::BinId.eq(row.id))
                .filter(bin_stock::Column::Sku.eq(sku.as_str()))
        };
        let taken = scoped()
            .col_expr(
                bin_stock::Column::Quantity,
                Expr::col(bin_stock::Column::Quantity).sub(n),
            )
            .filter(bin_stock::Column::Quantity.gte(n))
            .exec(&self.tx)
            .await
            .map_err(store_err)?;
        if taken.rows_affected == 0 {
            // The bin held fewer than that: it is empty now.
            scoped()
                .col_expr(bin_stock::Column::Quantity, Expr::value(0i64))
                .exec(&self.tx)
                .await
                .map_err(store_err)?;
        }
        Ok(())
    }

    async fn insert_task(&mut self, task: &WarehouseTask) -> Result<(), StoreError> {
        warehouse_task::Entity::insert(task_row(task))
            .exec_without_returning(&self.tx)
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError> {
        outbox::append(&self.tx, events).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(store_err)
    }
}

#[async_trait]
impl BinStockReader for SqlStore {
    async fn bin_stock(
        &self,
        tenant: TenantId,
        warehouse: WarehouseId,
        skus: &[Sku],
    ) -> Result<Vec<BinStock>, StoreError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.begin_tenant(tenant).await?;
        let bins: HashMap<Uuid, bin::Model> = bin::Entity::find()
            .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
            .all(&tx)
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        if bins.is_empty() {
            return Ok(Vec::new());
        }
        let rows = bin_stock::Entity::find()
            .filter(bin_stock::Column::TenantId.eq(tenant.into_uuid()))
            .filter(bin_stock::Column::BinId.is_in(bins.keys().copied()))
            .filter(bin_stock::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
            .filter(bin_stock::Column::Quantity.gt(0))
            .all(&tx)
            .await
            .map_err(store_err)?;
        let barcodes = barcodes(&tx, tenant, skus).await?;
        let planned = planned_on_open_lists(&tx, tenant, warehouse).await?;
        tx.commit().await.map_err(store_err)?;
        let mut stock = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(b) = bins.get(&r.bin_id) else {
                continue;
            };
            let free = r.quantity
                - planned
                    .get(&(b.code.clone(), r.sku.clone()))
                    .copied()
                    .unwrap_or(0);
            if free <= 0 {
                continue;
            }
            stock.push(BinStock {
                sku: Sku::parse(&r.sku).map_err(|_| bad("sku"))?,
                bin: to_bin(b)?,
                barcode: barcodes.get(&r.sku).cloned().flatten(),
                on_hand: Quantity::new(free).map_err(|_| bad("quantity"))?,
                preferred: r.preferred,
            });
        }
        Ok(stock)
    }
}

/// Units that pick lists not yet complete still plan to take, per (bin code, SKU): bin stock
/// leaves only when scanned, so a new plan must not count on them again.
pub(super) async fn planned_on_open_lists(
    tx: &Tx,
    tenant: TenantId,
    warehouse: WarehouseId,
) -> Result<HashMap<(String, String), i64>, StoreError> {
    let open = pick_list::Entity::find()
        .filter(pick_list::Column::TenantId.eq(tenant.into_uuid()))
        .filter(pick_list::Column::WarehouseId.eq(warehouse.into_uuid()))
        .filter(pick_list::Column::Status.ne(PickStatus::Complete.as_str()))
        .all(tx)
        .await
        .map_err(store_err)?;
    let mut planned: HashMap<(String, String), i64> = HashMap::new();
    for row in open {
        for line in to_pick_list(row)?.lines() {
            *planned
                .entry((line.bin.code.to_string(), line.sku.to_string()))
                .or_default() += line.remaining().as_i64();
        }
    }
    Ok(planned)
}

pub(super) async fn barcodes(
    tx: &Tx,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<HashMap<String, Option<String>>, StoreError> {
    let rows: Vec<(String, Option<String>)> = product::Entity::find()
        .select_only()
        .column(product::Column::Sku)
        .column(product::Column::Barcode)
        .filter(product::Column::TenantId.eq(tenant.into_uuid()))
        .filter(product::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
        .into_tuple()
        .all(tx)
        .await
        .map_err(store_err)?;
    Ok(rows.into_iter().collect())
}
