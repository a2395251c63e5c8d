//! `InboundTransaction` on one database transaction, and the queries it needs.

use super::*;

#[async_trait]
impl InboundTransaction for SqlInboundTx {
    async fn warehouse(&mut self, code: &str) -> Result<Option<FloorWarehouse>, StoreError> {
        Ok(warehouse::Entity::find()
            .filter(warehouse::Column::TenantId.eq(self.tenant()))
            .filter(warehouse::Column::Code.eq(code.trim().to_ascii_uppercase()))
            .one(self.tx())
            .await
            .map_err(store_err)?
            .map(floor_warehouse))
    }

    async fn warehouse_by_id(
        &mut self,
        id: WarehouseId,
    ) -> Result<Option<FloorWarehouse>, StoreError> {
        Ok(warehouse::Entity::find_by_id(id.into_uuid())
            .filter(warehouse::Column::TenantId.eq(self.tenant()))
            .one(self.tx())
            .await
            .map_err(store_err)?
            .map(floor_warehouse))
    }

    async fn products(&mut self, skus: &[Sku]) -> Result<Vec<(Sku, Option<String>)>, StoreError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        product::Entity::find()
            .filter(product::Column::TenantId.eq(self.tenant()))
            .filter(product::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
            .all(self.tx())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|p| Ok((sku_of(&p.sku)?, p.barcode)))
            .collect()
    }

    async fn bin(
        &mut self,
        warehouse: WarehouseId,
        code: &BinCode,
    ) -> Result<Option<Uuid>, StoreError> {
        Ok(bin::Entity::find()
            .filter(bin::Column::TenantId.eq(self.tenant()))
            .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
            .filter(bin::Column::Code.eq(code.as_str()))
            .one(self.tx())
            .await
            .map_err(store_err)?
            .map(|b| b.id))
    }

    async fn preferred_bins(
        &mut self,
        warehouse: WarehouseId,
        skus: &[Sku],
    ) -> Result<Vec<(Sku, BinCode)>, StoreError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        let homes = bin_stock::Entity::find()
            .filter(bin_stock::Column::TenantId.eq(self.tenant()))
            .filter(bin_stock::Column::Preferred.eq(true))
            .filter(bin_stock::Column::Sku.is_in(skus.iter().map(Sku::as_str)))
            .order_by_asc(bin_stock::Column::Sku)
            .all(self.tx())
            .await
            .map_err(store_err)?;
        if homes.is_empty() {
            return Ok(Vec::new());
        }
        let bins = bin::Entity::find()
            .filter(bin::Column::TenantId.eq(self.tenant()))
            .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
            .filter(bin::Column::Id.is_in(homes.iter().map(|h| h.bin_id)))
            .all(self.tx())
            .await
            .map_err(store_err)?;
        let mut out: Vec<(Sku, BinCode)> = Vec::new();
        for h in homes {
            if out.iter().any(|(s, _)| s.as_str() == h.sku) {
                continue;
            }
            if let Some(b) = bins.iter().find(|b| b.id == h.bin_id) {
                out.push((sku_of(&h.sku)?, bin_of(&b.code)?));
            }
        }
        Ok(out)
    }

    async fn bin_contents(&mut self, bin: Uuid) -> Result<Vec<(Sku, Quantity)>, StoreError> {
        bin_stock::Entity::find()
            .filter(bin_stock::Column::TenantId.eq(self.tenant()))
            .filter(bin_stock::Column::BinId.eq(bin))
            .filter(bin_stock::Column::Quantity.gt(0))
            .order_by_asc(bin_stock::Column::Sku)
            .lock_exclusive()
            .all(self.tx())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|r| Ok((sku_of(&r.sku)?, q(r.quantity)?)))
            .collect()
    }

    async fn set_bin_stock(
        &mut self,
        bin: Uuid,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<(), StoreError> {
        upsert_bin_stock(self.tx(), self.tenant(), bin, sku, quantity, false).await
    }

    async fn add_bin_stock(
        &mut self,
        bin: Uuid,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<(), StoreError> {
        upsert_bin_stock(self.tx(), self.tenant(), bin, sku, quantity, true).await
    }

    async fn insert_inbound(&mut self, shipment: &InboundShipment) -> Result<(), StoreError> {
        inbound_shipment::Entity::insert(inbound_row(shipment, self.tenant()))
            .exec_without_returning(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn lock_inbound(&mut self, id: Uuid) -> Result<Option<InboundShipment>, StoreError> {
        inbound_shipment::Entity::find_by_id(id)
            .filter(inbound_shipment::Column::TenantId.eq(self.tenant()))
            .lock_exclusive()
            .one(self.tx())
            .await
            .map_err(store_err)?
            .map(to_inbound)
            .transpose()
    }

    async fn save_inbound(&mut self, shipment: &InboundShipment) -> Result<(), StoreError> {
        inbound_shipment::Entity::update(inbound_row(shipment, self.tenant()))
            .filter(inbound_shipment::Column::TenantId.eq(self.tenant()))
            .exec(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn list_inbound(
        &mut self,
        status: Option<InboundStatus>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<InboundShipment, Uuid>, StoreError> {
        let mut query = inbound_shipment::Entity::find()
            .filter(inbound_shipment::Column::TenantId.eq(self.tenant()))
            .order_by_desc(inbound_shipment::Column::Id)
            .limit(u64::from(page.limit) + 1);
        if let Some(status) = status {
            query = query.filter(inbound_shipment::Column::Status.eq(status.as_str()));
        }
        if let Some(after) = page.after {
            query = query.filter(inbound_shipment::Column::Id.lt(after));
        }
        let rows = query
            .all(self.tx())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_inbound)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(rows, page.limit, InboundShipment::id))
    }

    async fn insert_task(&mut self, task: &WarehouseTask) -> Result<(), StoreError> {
        warehouse_task::Entity::insert(task_row(task))
            .exec_without_returning(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn save_task(&mut self, task: &WarehouseTask) -> Result<(), StoreError> {
        warehouse_task::Entity::update(task_row(task))
            .filter(warehouse_task::Column::TenantId.eq(self.tenant()))
            .exec(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn lock_task_by_reference(
        &mut self,
        reference: &str,
    ) -> Result<Option<WarehouseTask>, StoreError> {
        warehouse_task::Entity::find()
            .filter(warehouse_task::Column::TenantId.eq(self.tenant()))
            .filter(warehouse_task::Column::Kind.eq(TaskKind::Count.as_str()))
            .filter(warehouse_task::Column::Reference.eq(reference))
            .lock_exclusive()
            .one(self.tx())
            .await
            .map_err(store_err)?
            .map(to_task)
            .transpose()
    }

    async fn insert_put_away(&mut self, p: &PutAwayTask) -> Result<(), StoreError> {
        put_away_task::Entity::insert(put_away_task::ActiveModel {
            task_id: Set(p.task.id),
            tenant_id: Set(self.tenant()),
            inbound_id: Set(p.inbound_id),
            sku: Set(p.sku.to_string()),
            quantity: Set(p.quantity.as_i64()),
            suggested_bin: Set(p.suggested_bin.to_string()),
            placed_bin: Set(p.placed_bin.as_ref().map(BinCode::to_string)),
        })
        .exec_without_returning(self.tx())
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn lock_put_away(&mut self, task: Uuid) -> Result<Option<PutAwayTask>, StoreError> {
        let Some(detail) = put_away_task::Entity::find_by_id(task)
            .filter(put_away_task::Column::TenantId.eq(self.tenant()))
            .lock_exclusive()
            .one(self.tx())
            .await
            .map_err(store_err)?
        else {
            return Ok(None);
        };
        let row = warehouse_task::Entity::find_by_id(task)
            .filter(warehouse_task::Column::TenantId.eq(self.tenant()))
            .lock_exclusive()
            .one(self.tx())
            .await
            .map_err(store_err)?
            .ok_or_else(|| StoreError::new(format!("put-away {task} has no task row")))?;
        to_put_away(detail, row).map(Some)
    }

    async fn save_put_away(&mut self, p: &PutAwayTask) -> Result<(), StoreError> {
        self.save_task(&p.task).await?;
        put_away_task::Entity::update_many()
            .col_expr(
                put_away_task::Column::PlacedBin,
                Expr::value(p.placed_bin.as_ref().map(BinCode::to_string)),
            )
            .filter(put_away_task::Column::TenantId.eq(self.tenant()))
            .filter(put_away_task::Column::TaskId.eq(p.task.id))
            .exec(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn put_aways_of(&mut self, inbound: Uuid) -> Result<Vec<PutAwayTask>, StoreError> {
        let details = put_away_task::Entity::find()
            .filter(put_away_task::Column::TenantId.eq(self.tenant()))
            .filter(put_away_task::Column::InboundId.eq(inbound))
            .order_by_asc(put_away_task::Column::TaskId)
            .all(self.tx())
            .await
            .map_err(store_err)?;
        if details.is_empty() {
            return Ok(Vec::new());
        }
        let tasks = warehouse_task::Entity::find()
            .filter(warehouse_task::Column::TenantId.eq(self.tenant()))
            .filter(warehouse_task::Column::Id.is_in(details.iter().map(|d| d.task_id)))
            .all(self.tx())
            .await
            .map_err(store_err)?;
        details
            .into_iter()
            .map(|d| {
                let task = tasks
                    .iter()
                    .find(|t| t.id == d.task_id)
                    .cloned()
                    .ok_or_else(|| StoreError::new("put-away without its task row"))?;
                to_put_away(d, task)
            })
            .collect()
    }

    async fn insert_count(&mut self, count: &CycleCount) -> Result<(), StoreError> {
        cycle_count::Entity::insert(count_row(count, self.tenant()))
            .exec_without_returning(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn lock_count(&mut self, id: Uuid) -> Result<Option<CycleCount>, StoreError> {
        cycle_count::Entity::find_by_id(id)
            .filter(cycle_count::Column::TenantId.eq(self.tenant()))
            .lock_exclusive()
            .one(self.tx())
            .await
            .map_err(store_err)?
            .map(to_count)
            .transpose()
    }

    async fn save_count(&mut self, count: &CycleCount) -> Result<(), StoreError> {
        cycle_count::Entity::update(count_row(count, self.tenant()))
            .filter(cycle_count::Column::TenantId.eq(self.tenant()))
            .exec(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn submitted_counts(
        &mut self,
        warehouse: WarehouseId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CycleCount>, StoreError> {
        cycle_count::Entity::find()
            .filter(cycle_count::Column::TenantId.eq(self.tenant()))
            .filter(cycle_count::Column::WarehouseId.eq(warehouse.into_uuid()))
            .filter(cycle_count::Column::Status.eq(CountStatus::Submitted.as_str()))
            .filter(cycle_count::Column::CountedAt.gte(from))
            .filter(cycle_count::Column::CountedAt.lt(to))
            .order_by_asc(cycle_count::Column::CountedAt)
            .limit(10_000)
            .all(self.tx())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_count)
            .collect()
    }

    async fn insert_checklist(&mut self, c: &QcChecklist) -> Result<(), StoreError> {
        qc_checklist::Entity::insert(qc_checklist::ActiveModel {
            id: Set(c.id),
            tenant_id: Set(self.tenant()),
            name: Set(c.name.clone()),
            stage: Set(c.stage.as_str().to_owned()),
            sku: Set(c.sku.as_ref().map(Sku::to_string)),
            body: Set(json!({ "v": BODY_VERSION, "questions": c.questions })),
            created_at: Set(Utc::now()),
        })
        .exec_without_returning(self.tx())
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn checklists(&mut self) -> Result<Vec<QcChecklist>, StoreError> {
        qc_checklist::Entity::find()
            .filter(qc_checklist::Column::TenantId.eq(self.tenant()))
            .order_by_asc(qc_checklist::Column::Id)
            .limit(1_000)
            .all(self.tx())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_checklist)
            .collect()
    }

    async fn checklist(&mut self, id: Uuid) -> Result<Option<QcChecklist>, StoreError> {
        qc_checklist::Entity::find_by_id(id)
            .filter(qc_checklist::Column::TenantId.eq(self.tenant()))
            .one(self.tx())
            .await
            .map_err(store_err)?
            .map(to_checklist)
            .transpose()
    }

    async fn insert_inspection(&mut self, i: &Inspection) -> Result<(), StoreError> {
        let (outcome, quarantine_id) = match &i.result.outcome {
            QcOutcome::Release => ("released", None),
            QcOutcome::Quarantine(q) => ("quarantined", Some(q.id)),
        };
        qc_result::Entity::insert(qc_result::ActiveModel {
            id: Set(i.id),
            tenant_id: Set(self.tenant()),
            checklist_id: Set(i.result.checklist_id),
            warehouse_id: Set(i.warehouse.into_uuid()),
            stage: Set(i.result.stage.as_str().to_owned()),
            sku: Set(i.result.sku.to_string()),
            quantity: Set(i.result.quantity.as_i64()),
            inspector: Set(i.result.inspector.clone()),
            outcome: Set(outcome.to_owned()),
            quarantine_id: Set(quarantine_id),
            reference: Set(i.reference.clone()),
            inspected_at: Set(i.result.inspected_at),
        })
        .exec_without_returning(self.tx())
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn insert_quarantine(&mut self, record: &QuarantineRecord) -> Result<(), StoreError> {
        quarantine::Entity::insert(quarantine_row(record, self.tenant()))
            .exec_without_returning(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn lock_quarantine(&mut self, id: Uuid) -> Result<Option<QuarantineRecord>, StoreError> {
        quarantine::Entity::find_by_id(id)
            .filter(quarantine::Column::TenantId.eq(self.tenant()))
            .lock_exclusive()
            .one(self.tx())
            .await
            .map_err(store_err)?
            .map(to_quarantine)
            .transpose()
    }

    async fn save_quarantine(&mut self, record: &QuarantineRecord) -> Result<(), StoreError> {
        quarantine::Entity::update(quarantine_row(record, self.tenant()))
            .filter(quarantine::Column::TenantId.eq(self.tenant()))
            .exec(self.tx())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn list_quarantines(
        &mut self,
        status: Option<QuarantineStatus>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<QuarantineRecord, Uuid>, StoreError> {
        let mut query = quarantine::Entity::find()
            .filter(quarantine::Column::TenantId.eq(self.tenant()))
            .order_by_desc(quarantine::Column::Id)
            .limit(u64::from(page.limit) + 1);
        if let Some(status) = status {
            query = query.filter(quarantine::Column::Status.eq(status.as_str()));
        }
        if let Some(after) = page.after {
            query = query.filter(quarantine::Column::Id.lt(after));
        }
        let rows = query
            .all(self.tx())
            .await
            .map_err(store_err)?
            .into_iter()
            .map(to_quarantine)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(rows, page.limit, |r| r.quarantine.id))
    }

    async fn receive_stock(
        &mut self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        lines: &[(Sku, Quantity)],
        reference: &str,
    ) -> Result<(), StockEffectError> {
        let w = self.inventory_warehouse(warehouse).await?;
        let now = Utc::now();
        let mut events = Vec::with_capacity(lines.len());
        for (sku, quantity) in lines {
            let (_, event) = floor::book_receipt(
                &mut self.inv,
                ctx,
                &w,
                sku,
                *quantity,
                None,
                Some(reference.to_owned()),
                now,
            )
            .await
            .map_err(refused)?;
            events.push(event);
        }
        outbox::append(self.tx(), &events).await?;
        Ok(())
    }

    async fn count_variance(
        &mut self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        sku: &Sku,
        delta: i64,
        reason: &str,
        reference: &str,
    ) -> Result<(), StockEffectError> {
        let w = self.inventory_warehouse(warehouse).await?;
        floor::count_variance(
            &mut self.inv,
            ctx,
            &w,
            sku,
            delta,
            reason.to_owned(),
            reference.to_owned(),
            Utc::now(),
        )
        .await
        .map_err(refused)?;
        Ok(())
    }

    async fn quarantine_stock(
        &mut self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        sku: &Sku,
        quantity: Quantity,
        owner: &str,
    ) -> Result<(), StockEffectError> {
        let w = self.inventory_warehouse(warehouse).await?;
        floor::quarantine(&mut self.inv, ctx, &w, sku, quantity, owner, Utc::now())
            .await
            .map_err(refused)
    }

    async fn release_quarantined(
        &mut self,
        ctx: &RequestContext,
        sku: &Sku,
        owner: &str,
    ) -> Result<(), StockEffectError> {
        floor::release_quarantine(&mut self.inv, ctx, sku, owner, Utc::now())
            .await
            .map_err(refused)?;
        Ok(())
    }

    async fn dispose_quarantined(
        &mut self,
        ctx: &RequestContext,
        warehouse: WarehouseId,
        sku: &Sku,
        owner: &str,
    ) -> Result<(), StockEffectError> {
        let w = self.inventory_warehouse(warehouse).await?;
        floor::dispose_quarantined(
            &mut self.inv,
            ctx,
            &w,
            sku,
            owner,
            "disposed after failed QC".to_owned(),
            Utc::now(),
        )
        .await
        .map_err(refused)?;
        Ok(())
    }

    async fn claim_idempotency(
        &mut self,
        key: &IdempotencyKey,
        resource_type: &str,
        resource_id: Uuid,
    ) -> Result<Option<IdempotencyClaim>, StoreError> {
        claim_key(self.tx(), self.tenant(), key, resource_type, resource_id).await
    }

    async fn inspection(
        &mut self,
        id: Uuid,
    ) -> Result<Option<(Inspection, Option<QuarantineRecord>)>, StoreError> {
        load_inspection(self.tx(), self.tenant(), id).await
    }

    async fn append_events(&mut self, events: &[EventEnvelope]) -> Result<(), StoreError> {
        outbox::append(self.tx(), events).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.inv.tx.commit().await.map_err(store_err)
    }
}

pub(super) async fn upsert_bin_stock(
    tx: &Tx,
    tenant: Uuid,
    bin: Uuid,
    sku: &Sku,
    quantity: Quantity,
    add: bool,
) -> Result<(), StoreError> {
    let quantity_value = if add {
        Expr::col((bin_stock::Entity, bin_stock::Column::Quantity))
            .add(Expr::cust("excluded.quantity"))
    } else {
        Expr::cust("excluded.quantity")
    };
    bin_stock::Entity::insert(bin_stock::ActiveModel {
        tenant_id: Set(tenant),
        bin_id: Set(bin),
        sku: Set(sku.to_string()),
        quantity: Set(quantity.as_i64()),
        preferred: Set(false),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            bin_stock::Column::TenantId,
            bin_stock::Column::BinId,
            bin_stock::Column::Sku,
        ])
        .value(bin_stock::Column::Quantity, quantity_value)
        .value(
            bin_stock::Column::UpdatedAt,
            Expr::cust("excluded.updated_at"),
        )
        .to_owned(),
    )
    .exec_without_returning(tx)
    .await
    .map_err(store_err)?;
    Ok(())
}

pub(super) async fn claim_key(
    tx: &Tx,
    tenant: Uuid,
    key: &IdempotencyKey,
    resource_type: &str,
    resource_id: Uuid,
) -> Result<Option<IdempotencyClaim>, StoreError> {
    let inserted = idempotency_record::Entity::insert(idempotency_record::ActiveModel {
        tenant_id: Set(tenant),
        key: Set(key.key.clone()),
        fingerprint: Set(key.fingerprint.clone()),
        resource_type: Set(resource_type.to_owned()),
        resource_id: Set(resource_id),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_record::Column::TenantId,
            idempotency_record::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(tx)
    .await
    .map_err(store_err)?;
    if inserted == 1 {
        return Ok(None);
    }
    let row = idempotency_record::Entity::find_by_id((tenant, key.key.clone()))
        .one(tx)
        .await
        .map_err(store_err)?
        .ok_or_else(|| StoreError::new("idempotency key neither inserted nor found"))?;
    Ok(Some(IdempotencyClaim {
        fingerprint: row.fingerprint,
        resource_type: row.resource_type,
        resource_id: row.resource_id,
    }))
}

pub(super) async fn load_inspection(
    tx: &Tx,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<(Inspection, Option<QuarantineRecord>)>, StoreError> {
    let Some(row) = qc_result::Entity::find_by_id(id)
        .filter(qc_result::Column::TenantId.eq(tenant))
        .one(tx)
        .await
        .map_err(store_err)?
    else {
        return Ok(None);
    };
    let quarantine = match row.quarantine_id {
        Some(q) => quarantine::Entity::find_by_id(q)
            .filter(quarantine::Column::TenantId.eq(tenant))
            .one(tx)
            .await
            .map_err(store_err)?
            .map(to_quarantine)
            .transpose()?,
        None => None,
    };
    let result = QcResult {
        checklist_id: row.checklist_id,
        stage: QcStage::parse(&row.stage)
            .ok_or_else(|| StoreError::new(format!("unknown QC stage {}", row.stage)))?,
        sku: sku_of(&row.sku)?,
        quantity: q(row.quantity)?,
        inspector: row.inspector,
        inspected_at: row.inspected_at,
        outcome: match &quarantine {
            Some(r) => QcOutcome::Quarantine(r.quarantine.clone()),
            None => QcOutcome::Release,
        },
    };
    Ok(Some((
        Inspection {
            id: row.id,
            result,
            warehouse: WarehouseId::from_uuid(row.warehouse_id),
            reference: row.reference,
        },
        quarantine,
    )))
}
