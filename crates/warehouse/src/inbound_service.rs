//! Receiving, put-away, cycle counts and QC as use cases over [`InboundUnitOfWork`]. Each
//! call is one unit of work: the floor aggregate, the stock it moves (with ledger movements)
//! and its events commit together or not at all.
//!
//! Damaged units received against an ASN are recorded (as a discrepancy) but never booked
//! into on hand: only good units are receipts.

use crate::counting::{Accuracy, CountError, CycleCount, Variance, accuracy};
use crate::inbound_ports::{
    FloorWarehouse, IdempotencyKey, InboundTransaction, InboundUnitOfWork, Inspection, PutAwayTask,
    QuarantineRecord, StockEffectError,
};
use crate::location::{BinCode, BinCodeError};
use crate::qc::{QcChecklist, QcError, QcOutcome, QcStage, QuarantineStatus};
use crate::receiving::{
    Discrepancy, InboundClosed, InboundShipment, InboundStatus, ReceiveError, ReceiveProgress,
};
use crate::task::{TaskError, TaskKind, TaskStatus, WarehouseTask};
use chrono::{DateTime, NaiveDate, Utc};
use kernel::{
    Clock, Page, PageRequest, Quantity, RequestContext, Sku, StoreError, ValidationErrors,
    WarehouseId,
};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("{0} {1} not found")]
    NotFound(&'static str, Uuid),
    #[error("no warehouse {0:?}")]
    UnknownWarehouse(String),
    #[error("unknown SKUs: {}", .0.iter().map(Sku::as_str).collect::<Vec<_>>().join(", "))]
    UnknownSkus(Vec<Sku>),
    #[error("warehouse {warehouse} has no bin {bin}")]
    UnknownBin { warehouse: String, bin: String },
    #[error(
        "no preferred bin for {}: name a default_bin to put them away to",
        .0.iter().map(Sku::as_str).collect::<Vec<_>>().join(", ")
    )]
    NeedDefaultBin(Vec<Sku>),
    #[error(transparent)]
    Receive(#[from] ReceiveError),
    #[error(transparent)]
    Count(#[from] CountError),
    #[error(transparent)]
    Qc(#[from] QcError),
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The inventory rules refused the stock change (`code`: `below-reserved`, ...).
    #[error("{detail}")]
    Stock { code: &'static str, detail: String },
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<StockEffectError> for InboundError {
    fn from(e: StockEffectError) -> Self {
        match e {
            StockEffectError::Refused { code, detail } => Self::Stock { code, detail },
            StockEffectError::Store(s) => Self::Store(s),
        }
    }
}

/// A new ASN as the seller sends it.
#[derive(Debug, Clone)]
pub struct NewInbound {
    pub reference: String,
    pub warehouse: String,
    /// `(sku, expected units)`.
    pub lines: Vec<(String, i64)>,
}

/// One receive scan.
#[derive(Debug, Clone)]
pub struct ReceiveScan {
    pub scan_id: Uuid,
    /// GTIN or SKU.
    pub barcode: String,
    pub quantity: i64,
    pub damaged: bool,
}

/// An inbound shipment with where it is received and, once closed, its discrepancies.
#[derive(Debug, Clone)]
pub struct InboundView {
    pub shipment: InboundShipment,
    pub warehouse: FloorWarehouse,
    pub discrepancies: Vec<Discrepancy>,
    pub put_away: Vec<PutAwayTask>,
}

/// What closing answered.
#[derive(Debug, Clone)]
pub struct ClosedInbound {
    pub view: InboundView,
    pub closed: InboundClosed,
}

/// A QC inspection and, when it failed, the quarantine it opened.
#[derive(Debug, Clone)]
pub struct InspectionOutcome {
    pub inspection: Inspection,
    pub quarantine: Option<QuarantineRecord>,
}

/// A QC inspection as asked for.
#[derive(Debug, Clone)]
pub struct InspectCmd {
    pub checklist: Uuid,
    pub sku: String,
    pub warehouse: String,
    pub quantity: i64,
    pub answers: Vec<bool>,
    pub reference: Option<String>,
}

/// Accuracy of one day's submitted counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyAccuracy {
    pub day: NaiveDate,
    pub counts: usize,
    pub accuracy: Accuracy,
}

/// Over/under/damaged per line of a shipment (what closing reports), lines without any left out.
pub fn discrepancies_of(shipment: &InboundShipment) -> Vec<Discrepancy> {
    shipment
        .lines()
        .iter()
        .map(|l| Discrepancy {
            sku: l.sku.clone(),
            expected: l.expected,
            over: l.received.saturating_sub(l.expected),
            under: l.expected.saturating_sub(l.received),
            damaged: l.damaged,
        })
        .filter(|d| !(d.over.is_zero() && d.under.is_zero() && d.damaged.is_zero()))
        .collect()
}

pub(crate) fn parse_bin(field: &str, raw: &str) -> Result<BinCode, InboundError> {
    BinCode::parse(raw).map_err(|e: BinCodeError| ValidationErrors::single(field, e).into())
}

pub(crate) fn parse_sku(field: &str, raw: &str) -> Result<Sku, InboundError> {
    Sku::parse(raw).map_err(|e| ValidationErrors::single(field, e).into())
}

pub(crate) fn units(field: &str, n: i64, positive: bool) -> Result<Quantity, InboundError> {
    match Quantity::new(n) {
        Ok(q) if !(positive && q.is_zero()) => Ok(q),
        _ => Err(ValidationErrors::single(
            field,
            if positive {
                "must be a whole number of at least 1"
            } else {
                "must be a whole number of at least 0"
            },
        )
        .into()),
    }
}

/// Claims, starts and completes a task for whoever did the work, in one go.
pub(crate) fn finish(
    task: &mut WarehouseTask,
    who: &str,
    now: DateTime<Utc>,
) -> Result<(), TaskError> {
    if task.status != TaskStatus::InProgress {
        task.assign(who)?;
        task.start(who, now)?;
    }
    if task.assignee.as_deref() != Some(who) {
        task.assignee = Some(who.to_owned());
    }
    task.complete(who, now)
}

pub(crate) async fn warehouse_named(
    tx: &mut dyn InboundTransaction,
    code: &str,
) -> Result<FloorWarehouse, InboundError> {
    let code = code.trim().to_ascii_uppercase();
    tx.warehouse(&code)
        .await?
        .ok_or(InboundError::UnknownWarehouse(code))
}

pub(crate) async fn warehouse_of(
    tx: &mut dyn InboundTransaction,
    id: WarehouseId,
) -> Result<FloorWarehouse, InboundError> {
    tx.warehouse_by_id(id)
        .await?
        .ok_or_else(|| InboundError::UnknownWarehouse(id.to_string()))
}

/// Claims `key` for a new `resource_type` with `id`: `Ok(None)` to go on creating it,
/// `Ok(Some(earlier id))` to answer with what the first request created.
pub(crate) async fn claim(
    tx: &mut dyn InboundTransaction,
    key: Option<&IdempotencyKey>,
    resource_type: &str,
    id: Uuid,
) -> Result<Option<Uuid>, InboundError> {
    let Some(key) = key else {
        return Ok(None);
    };
    match tx.claim_idempotency(key, resource_type, id).await? {
        None => Ok(None),
        Some(c) if c.fingerprint == key.fingerprint && c.resource_type == resource_type => {
            Ok(Some(c.resource_id))
        }
        Some(_) => Err(InboundError::IdempotencyKeyReused),
    }
}

pub(crate) async fn bin_in(
    tx: &mut dyn InboundTransaction,
    warehouse: &FloorWarehouse,
    code: &BinCode,
) -> Result<Uuid, InboundError> {
    tx.bin(warehouse.id, code)
        .await?
        .ok_or_else(|| InboundError::UnknownBin {
            warehouse: warehouse.code.clone(),
            bin: code.to_string(),
        })
}

/// The floor's receiving, counting and QC use cases.
pub struct InboundService<U, C> {
    pub(crate) uow: U,
    pub(crate) clock: C,
}

impl<U, C> InboundService<U, C>
where
    U: InboundUnitOfWork,
    C: Clock,
{
    pub fn new(uow: U, clock: C) -> Self {
        Self { uow, clock }
    }

    /// Stores a new ASN. Errors: `UnknownSkus` naming every SKU not in the catalogue.
    pub async fn create_inbound(
        &self,
        ctx: &RequestContext,
        cmd: NewInbound,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<InboundView, InboundError> {
        let mut errors = ValidationErrors::new();
        if cmd.lines.len() > 500 {
            errors.add("lines", "an inbound shipment has at most 500 lines");
        }
        let mut lines = Vec::with_capacity(cmd.lines.len());
        for (i, (sku, expected)) in cmd.lines.iter().enumerate() {
            let sku = errors.check(format!("lines[{i}].sku"), Sku::parse(sku));
            let expected = match units("expected", *expected, true) {
                Ok(q) => Some(q),
                Err(_) => {
                    errors.add(
                        format!("lines[{i}].expected"),
                        "must be a whole number of at least 1",
                    );
                    None
                }
            };
            if let (Some(sku), Some(expected)) = (sku, expected) {
                lines.push((sku, expected));
            }
        }
        errors.into_result()?;
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let warehouse = warehouse_named(tx.as_mut(), &cmd.warehouse).await?;
        let skus: Vec<Sku> = lines.iter().map(|(s, _)| s.clone()).collect();
        let known: HashMap<Sku, Option<String>> = tx.products(&skus).await?.into_iter().collect();
        let unknown: Vec<Sku> = skus
            .iter()
            .filter(|s| !known.contains_key(s))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(InboundError::UnknownSkus(unknown));
        }
        let shipment = InboundShipment::expect(
            &cmd.reference,
            warehouse.id,
            lines
                .into_iter()
                .map(|(sku, q)| {
                    let gtin = known.get(&sku).cloned().flatten();
                    (sku, gtin, q)
                })
                .collect(),
            self.clock.now(),
        )?;
        if let Some(earlier) =
            claim(tx.as_mut(), idempotency, "inbound_shipment", shipment.id()).await?
        {
            let shipment = tx
                .lock_inbound(earlier)
                .await?
                .ok_or(InboundError::NotFound("inbound shipment", earlier))?;
            return view(tx.as_mut(), shipment).await;
        }
        tx.insert_inbound(&shipment).await?;
        tx.commit().await?;
        Ok(InboundView {
            shipment,
            warehouse,
            discrepancies: Vec::new(),
            put_away: Vec::new(),
        })
    }

    pub async fn inbound(
        &self,
        ctx: &RequestContext,
        id: Uuid,
    ) -> Result<InboundView, InboundError> {
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let shipment = tx
            .lock_inbound(id)
            .await?
            .ok_or(InboundError::NotFound("inbound shipment", id))?;
        view(tx.as_mut(), shipment).await
    }

    pub async fn list_inbound(
        &self,
        ctx: &RequestContext,
        status: Option<InboundStatus>,
        page: PageRequest<Uuid>,
    ) -> Result<Page<InboundView, Uuid>, InboundError> {
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let page = tx.list_inbound(status, page).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for shipment in page.items {
            items.push(view(tx.as_mut(), shipment).await?);
        }
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// Applies one receive scan; a replayed scan id answers as the first time and writes
    /// nothing; a code not on the ASN is refused and changes nothing.
    pub async fn receive(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        scan: ReceiveScan,
    ) -> Result<(ReceiveProgress, InboundView), InboundError> {
        let qty = u32::try_from(scan.quantity)
            .ok()
            .filter(|q| *q > 0 && *q <= Quantity::MAX)
            .ok_or_else(|| {
                ValidationErrors::single("quantity", "must be a whole number of at least 1")
            })?;
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut shipment = tx
            .lock_inbound(id)
            .await?
            .ok_or(InboundError::NotFound("inbound shipment", id))?;
        let version = shipment.version();
        let progress = shipment.receive(scan.scan_id, &scan.barcode, qty, scan.damaged)?;
        if shipment.version() != version {
            tx.save_inbound(&shipment).await?;
        }
        let view = view(tx.as_mut(), shipment).await?;
        tx.commit().await?;
        Ok((progress, view))
    }

    /// Closes the shipment: books good units as receipts, opens a put-away task per SKU (to
    /// its preferred bin, else `default_bin`) and raises `inbound.closed`, all together.
    pub async fn close(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        default_bin: Option<String>,
    ) -> Result<ClosedInbound, InboundError> {
        let default_bin = default_bin
            .filter(|b| !b.trim().is_empty())
            .map(|b| parse_bin("default_bin", &b))
            .transpose()?;
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut shipment = tx
            .lock_inbound(id)
            .await?
            .ok_or(InboundError::NotFound("inbound shipment", id))?;
        if shipment.status() == InboundStatus::Closed {
            return Err(ReceiveError::Closed.into());
        }
        let warehouse = warehouse_of(tx.as_mut(), shipment.warehouse()).await?;
        let good: Vec<Sku> = shipment
            .lines()
            .iter()
            .filter(|l| !l.received.is_zero())
            .map(|l| l.sku.clone())
            .collect();
        let preferred: HashMap<Sku, BinCode> = tx
            .preferred_bins(warehouse.id, &good)
            .await?
            .into_iter()
            .collect();
        let homeless: Vec<Sku> = good
            .iter()
            .filter(|s| !preferred.contains_key(*s))
            .cloned()
            .collect();
        let default_bin = match default_bin {
            Some(bin) => {
                bin_in(tx.as_mut(), &warehouse, &bin).await?;
                bin
            }
            None if homeless.is_empty() => {
                // Every SKU has a home: the default is never used.
                preferred
                    .values()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| BinCode::parse("RECEIVING").expect("a valid bin code"))
            }
            None => return Err(InboundError::NeedDefaultBin(homeless)),
        };
        let closed = shipment.close(&preferred, &default_bin, now)?;
        let reference = format!("inbound:{}", shipment.id());
        if !closed.receipts.is_empty() {
            let mut receipts = closed.receipts.clone();
            receipts.sort_by(|a, b| a.0.cmp(&b.0));
            tx.receive_stock(ctx, warehouse.id, &receipts, &reference)
                .await?;
        }
        let mut put_away = Vec::with_capacity(closed.put_away.len());
        for p in &closed.put_away {
            let task = WarehouseTask::open(
                ctx.tenant_id,
                warehouse.id,
                TaskKind::PutAway,
                reference.clone(),
                now,
            );
            let detail = PutAwayTask {
                task,
                inbound_id: shipment.id(),
                sku: p.sku.clone(),
                quantity: p.quantity,
                suggested_bin: p.bin.clone(),
                placed_bin: None,
            };
            tx.insert_task(&detail.task).await?;
            tx.insert_put_away(&detail).await?;
            put_away.push(detail);
        }
        tx.save_inbound(&shipment).await?;
        if let Some(event) = shipment.closed_event(ctx, now) {
            tx.append_events(&[event]).await?;
        }
        tx.commit().await?;
        Ok(ClosedInbound {
            view: InboundView {
                discrepancies: closed.discrepancies.clone(),
                shipment,
                warehouse,
                put_away,
            },
            closed,
        })
    }

    /// Completes a put-away: the units are placed in `bin` (of the task's warehouse).
    pub async fn confirm_put_away(
        &self,
        ctx: &RequestContext,
        task: Uuid,
        bin: &str,
    ) -> Result<PutAwayTask, InboundError> {
        let bin = parse_bin("bin", bin)?;
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let mut put_away = tx
            .lock_put_away(task)
            .await?
            .ok_or(InboundError::NotFound("put-away task", task))?;
        let warehouse = warehouse_of(tx.as_mut(), put_away.task.warehouse).await?;
        let bin_id = bin_in(tx.as_mut(), &warehouse, &bin).await?;
        finish(&mut put_away.task, &ctx.actor, now)?;
        tx.add_bin_stock(bin_id, &put_away.sku, put_away.quantity)
            .await?;
        put_away.placed_bin = Some(bin);
        tx.save_put_away(&put_away).await?;
        tx.commit().await?;
        Ok(put_away)
    }

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

async fn view(
    tx: &mut dyn InboundTransaction,
    shipment: InboundShipment,
) -> Result<InboundView, InboundError> {
    let warehouse = warehouse_of(tx, shipment.warehouse()).await?;
    let closed = shipment.status() == InboundStatus::Closed;
    let put_away = if closed {
        tx.put_aways_of(shipment.id()).await?
    } else {
        Vec::new()
    };
    Ok(InboundView {
        discrepancies: if closed {
            discrepancies_of(&shipment)
        } else {
            Vec::new()
        },
        shipment,
        warehouse,
        put_away,
    })
}

#[cfg(test)]
#[path = "inbound_service/tests.rs"]
mod tests;
