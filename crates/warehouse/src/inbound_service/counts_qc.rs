//! Cycle counts, inventory accuracy and QC: the rest of [`InboundService`]'s use cases.

use super::*;

impl<U, C> InboundService<U, C>
where
    U: InboundUnitOfWork,
    C: Clock,
{
    /// Opens a count of one bin against its book figures, with a count task.
    pub async fn open_count(
        &self,
        ctx: &RequestContext,
        warehouse: &str,
        bin: &str,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<CycleCount, InboundError> {
        let bin = parse_bin("bin", bin)?;
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let warehouse = warehouse_named(tx.as_mut(), warehouse).await?;
        let bin_id = bin_in(tx.as_mut(), &warehouse, &bin).await?;
        let expected = tx.bin_contents(bin_id).await?;
        let count = CycleCount::open(warehouse.id, bin, expected, now);
        if let Some(earlier) = claim(tx.as_mut(), idempotency, "cycle_count", count.id()).await? {
            return tx
                .lock_count(earlier)
                .await?
                .ok_or(InboundError::NotFound("count", earlier));
        }
        tx.insert_count(&count).await?;
        let task = WarehouseTask::open(
            ctx.tenant_id,
            warehouse.id,
            TaskKind::Count,
            format!("count:{}", count.id()),
            now,
        );
        tx.insert_task(&task).await?;
        tx.commit().await?;
        Ok(count)
    }

    pub async fn count(&self, ctx: &RequestContext, id: Uuid) -> Result<CycleCount, InboundError> {
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        tx.lock_count(id)
            .await?
            .ok_or(InboundError::NotFound("count", id))
    }

    /// Records what was found of a SKU; a recount replaces the figure.
    pub async fn record_count(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        sku: &str,
        counted: i64,
    ) -> Result<CycleCount, InboundError> {
        let sku = parse_sku("sku", sku)?;
        let counted = units("counted", counted, false)?;
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut count = tx
            .lock_count(id)
            .await?
            .ok_or(InboundError::NotFound("count", id))?;
        if tx.products(std::slice::from_ref(&sku)).await?.is_empty() {
            return Err(InboundError::UnknownSkus(vec![sku]));
        }
        count.record(sku, counted)?;
        tx.save_count(&count).await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Submits a count: each variance moves the warehouse's on hand (a `count` movement by the
    /// counter, naming the bin) and the bin's figure becomes the counted one, together.
    /// Refused whole (`below-reserved`) if any line would leave on hand below reserved.
    pub async fn submit_count(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<(CycleCount, Vec<Variance>), InboundError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut count = tx
            .lock_count(id)
            .await?
            .ok_or(InboundError::NotFound("count", id))?;
        count.submit(&ctx.actor, now)?;
        let warehouse = warehouse_of(tx.as_mut(), count.warehouse()).await?;
        let bin_id = bin_in(tx.as_mut(), &warehouse, count.bin()).await?;
        let mut variances = count.variances();
        // The one lock order: by SKU.
        variances.sort_by(|a, b| a.sku.cmp(&b.sku));
        let reason = format!("cycle count of bin {}", count.bin());
        let reference = format!("count:{}", count.id());
        for v in &variances {
            tx.count_variance(ctx, warehouse.id, &v.sku, v.delta, &reason, &reference)
                .await?;
            tx.set_bin_stock(bin_id, &v.sku, v.counted).await?;
        }
        if let Some(mut task) = tx.lock_task_by_reference(&reference).await?
            && !matches!(task.status, TaskStatus::Done | TaskStatus::Cancelled)
        {
            finish(&mut task, &ctx.actor, now)?;
            tx.save_task(&task).await?;
        }
        tx.save_count(&count).await?;
        if let Some(event) = count.variance_event(ctx, now) {
            tx.append_events(&[event]).await?;
        }
        tx.commit().await?;
        let lines = count.lines();
        Ok((count, lines))
    }

    /// Line and unit accuracy per day (UTC) of the submitted counts of `warehouse` in
    /// `[from, to)`, oldest day first, and over the whole range.
    pub async fn accuracy(
        &self,
        ctx: &RequestContext,
        warehouse: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<DailyAccuracy>, Accuracy), InboundError> {
        if to <= from {
            return Err(ValidationErrors::single("to", "must be after `from`").into());
        }
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let warehouse = warehouse_named(tx.as_mut(), warehouse).await?;
        let counts = tx.submitted_counts(warehouse.id, from, to).await?;
        let mut by_day: BTreeMap<NaiveDate, Vec<CycleCount>> = BTreeMap::new();
        for c in &counts {
            let day = c.counted_at().unwrap_or(c.created_at()).date_naive();
            by_day.entry(day).or_default().push(c.clone());
        }
        let days = by_day
            .into_iter()
            .map(|(day, counts)| DailyAccuracy {
                day,
                counts: counts.len(),
                accuracy: accuracy(&counts),
            })
            .collect();
        Ok((days, accuracy(&counts)))
    }

    pub async fn create_checklist(
        &self,
        ctx: &RequestContext,
        name: &str,
        stage: &str,
        sku: Option<&str>,
        items: Vec<String>,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<QcChecklist, InboundError> {
        let stage = QcStage::parse(stage)
            .ok_or_else(|| ValidationErrors::single("stage", "use `receipt` or `return`"))?;
        let sku = sku
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_sku("sku", s))
            .transpose()?;
        if items.len() > 100 {
            return Err(ValidationErrors::single("items", "at most 100 questions").into());
        }
        let checklist = QcChecklist::new(name, stage, sku.clone(), items)?;
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        if let Some(sku) = sku
            && tx.products(std::slice::from_ref(&sku)).await?.is_empty()
        {
            return Err(InboundError::UnknownSkus(vec![sku]));
        }
        if let Some(earlier) = claim(tx.as_mut(), idempotency, "qc_checklist", checklist.id).await?
        {
            return tx
                .checklist(earlier)
                .await?
                .ok_or(InboundError::NotFound("checklist", earlier));
        }
        tx.insert_checklist(&checklist).await?;
        tx.commit().await?;
        Ok(checklist)
    }

    pub async fn checklists(&self, ctx: &RequestContext) -> Result<Vec<QcChecklist>, InboundError> {
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        Ok(tx.checklists().await?)
    }

    /// Inspects a batch: all pass → released (nothing moves); any fail → the units are
    /// quarantined at once (out of `available`) and `qc.failed` is raised, together.
    pub async fn inspect(
        &self,
        ctx: &RequestContext,
        cmd: InspectCmd,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<InspectionOutcome, InboundError> {
        let sku = parse_sku("sku", &cmd.sku)?;
        let quantity = units("quantity", cmd.quantity, true)?;
        let reference = cmd
            .reference
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reference.as_ref().is_some_and(|r| r.chars().count() > 200) {
            return Err(ValidationErrors::single("reference", "at most 200 characters").into());
        }
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let checklist = tx
            .checklist(cmd.checklist)
            .await?
            .ok_or(InboundError::NotFound("checklist", cmd.checklist))?;
        if checklist.sku.as_ref().is_some_and(|s| *s != sku) {
            return Err(ValidationErrors::single(
                "sku",
                format!(
                    "this checklist is for {}",
                    checklist.sku.as_ref().map_or("", |s| s.as_str())
                ),
            )
            .into());
        }
        let warehouse = warehouse_named(tx.as_mut(), &cmd.warehouse).await?;
        if tx.products(std::slice::from_ref(&sku)).await?.is_empty() {
            return Err(InboundError::UnknownSkus(vec![sku]));
        }
        let result = checklist.inspect(sku, quantity, &cmd.answers, &ctx.actor, now)?;
        let inspection = Inspection {
            id: Uuid::now_v7(),
            result,
            warehouse: warehouse.id,
            reference,
        };
        if let Some(earlier) =
            claim(tx.as_mut(), idempotency, "qc_inspection", inspection.id).await?
        {
            let (inspection, quarantine) = tx
                .inspection(earlier)
                .await?
                .ok_or(InboundError::NotFound("inspection", earlier))?;
            return Ok(InspectionOutcome {
                inspection,
                quarantine,
            });
        }
        tx.insert_inspection(&inspection).await?;
        let quarantine = match &inspection.result.outcome {
            QcOutcome::Release => None,
            QcOutcome::Quarantine(q) => {
                let record = QuarantineRecord {
                    quarantine: q.clone(),
                    warehouse: warehouse.id,
                    inspection_id: inspection.id,
                    created_at: now,
                };
                tx.quarantine_stock(ctx, warehouse.id, &q.sku, q.quantity, &record.owner())
                    .await?;
                tx.insert_quarantine(&record).await?;
                if let Some(event) = inspection.result.failed_event(ctx, now) {
                    tx.append_events(&[event]).await?;
                }
                Some(record)
            }
        };
        tx.commit().await?;
        Ok(InspectionOutcome {
            inspection,
            quarantine,
        })
    }

    /// The quarantined units turned out fine: available again.
    pub async fn release_quarantine(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<QuarantineRecord, InboundError> {
        self.settle(ctx, id, true).await
    }

    /// The quarantined units are written off on hand.
    pub async fn dispose_quarantine(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<QuarantineRecord, InboundError> {
        self.settle(ctx, id, false).await
    }

    async fn settle(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        release: bool,
    ) -> Result<QuarantineRecord, InboundError> {
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut record = tx
            .lock_quarantine(id)
            .await?
            .ok_or(InboundError::NotFound("quarantine", id))?;
        let owner = record.owner();
        let sku = record.quarantine.sku.clone();
        if release {
            record.quarantine.release(now)?;
            tx.release_quarantined(ctx, &sku, &owner).await?;
        } else {
            record.quarantine.dispose(now)?;
            tx.dispose_quarantined(ctx, record.warehouse, &sku, &owner)
                .await?;
        }
        tx.save_quarantine(&record).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn quarantines(
        &self,
        ctx: &RequestContext,
        status: Option<QuarantineStatus>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<QuarantineRecord, Uuid>, InboundError> {
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        Ok(tx.list_quarantines(status, page).await?)
    }
}
