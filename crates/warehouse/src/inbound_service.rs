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

#[path = "inbound_service/counts_qc.rs"]
mod counts_qc;

#[cfg(test)]
#[path = "inbound_service/tests.rs"]
mod tests;
