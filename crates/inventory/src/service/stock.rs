//! Stock figures: counts, receipts, the ledger, rebuilds, replenishment and valuation.

use super::{
    InventoryService, lock_sku_everywhere, low_stock_alert, sku_event, stocked_product,
    warehouse_in,
};
use crate::ledger::{self, Drift};
use crate::ports::{InventoryUnitOfWork, ProductRepository, StockQueries, WarehouseRepository};
use crate::replenishment::{
    self, DemandHistory, ForecastConfig, ReplenishmentPolicy, StockPosition,
};
use crate::{
    InventoryError, InventoryValueReport, MovementKind, ReplenishmentAdvice, StockLevel,
    StockMovement, StockTotals, Warehouse,
};
use kernel::{
    Clock, Currency, Money, MovementId, Page, PageRequest, Quantity, RequestContext, Sku,
    ValidationErrors,
};
use serde_json::json;
use std::collections::BTreeMap;

/// A counted quantity, as a warehouse or seller reports it.
#[derive(Debug, Clone)]
pub struct SetCountedQuantity {
    pub sku: Sku,
    /// The warehouse's code; the default warehouse when absent.
    pub warehouse: Option<String>,
    pub on_hand: Quantity,
    pub reason: String,
    /// From `If-Match`: refuse the change unless the stock is still at this version.
    pub expected_version: Option<i64>,
}

/// Goods that arrived, with what they cost (moves the weighted average cost).
#[derive(Debug, Clone)]
pub struct ReceiveStock {
    pub warehouse: Option<String>,
    /// `(sku, quantity, unit cost)`.
    pub lines: Vec<(String, i64, Option<Money>)>,
    pub reference: Option<String>,
}

/// A SKU's stock everywhere. A kit's figures are derived from its components.
#[derive(Debug, Clone)]
pub struct StockView {
    pub totals: StockTotals,
    pub is_kit: bool,
    /// Per warehouse (empty for a kit).
    pub by_warehouse: Vec<(Warehouse, StockLevel)>,
}

#[derive(Debug, Clone)]
pub struct DriftReport {
    pub levels_checked: usize,
    pub drift: Vec<Drift>,
    /// True when the levels were overwritten with the ledger's sums.
    pub repaired: bool,
}

fn check_reason(reason: &str) -> Result<String, ValidationErrors> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ValidationErrors::single(
            "reason",
            "say why the quantity changes (1 to 500 characters), e.g. \"cycle count\"",
        ));
    }
    Ok(reason)
}

impl<P, W, S, U, C> InventoryService<P, W, S, U, C>
where
    P: ProductRepository,
    W: WarehouseRepository,
    S: StockQueries,
    U: InventoryUnitOfWork,
    C: Clock,
{
    pub async fn stock_view(
        &self,
        ctx: &RequestContext,
        sku: &Sku,
    ) -> Result<StockView, InventoryError> {
        let product = self.product(ctx, sku).await?;
        if product.is_kit() {
            let skus: Vec<Sku> = product.components.iter().map(|c| c.sku.clone()).collect();
            let levels = self.stock.levels_of(ctx.tenant_id, &skus).await?;
            let avail = |s: &Sku| -> i64 {
                levels
                    .iter()
                    .filter(|l| &l.sku == s)
                    .map(|l| l.available().as_i64())
                    .sum()
            };
            let kits = crate::kit::kits_available(&product.components, avail);
            let q = Quantity::new(kits).unwrap_or(Quantity::ZERO);
            return Ok(StockView {
                totals: StockTotals {
                    sku: sku.clone(),
                    on_hand: q,
                    reserved: Quantity::ZERO,
                    incoming: Quantity::ZERO,
                },
                is_kit: true,
                by_warehouse: Vec::new(),
            });
        }
        let levels = self.stock.levels(ctx.tenant_id, sku).await?;
        let warehouses = self.warehouses.list(ctx.tenant_id).await?;
        let totals = StockTotals::of(sku.clone(), &levels);
        let by_warehouse = warehouses
            .into_iter()
            .filter_map(|w| {
                let level = levels.iter().find(|l| l.warehouse_id == w.id)?.clone();
                Some((w, level))
            })
            .collect();
        Ok(StockView {
            totals,
            is_kit: false,
            by_warehouse,
        })
    }

    pub async fn stock_totals(
        &self,
        ctx: &RequestContext,
        page: PageRequest<Sku>,
    ) -> Result<Page<StockTotals, Sku>, InventoryError> {
        Ok(self.stock.totals(ctx.tenant_id, page).await?)
    }

    /// Sets on hand in one warehouse to a counted figure by writing a `count` movement: never
    /// a silent overwrite, and never below what is reserved there.
    pub async fn set_counted_quantity(
        &self,
        ctx: &RequestContext,
        cmd: SetCountedQuantity,
    ) -> Result<StockLevel, InventoryError> {
        let reason = check_reason(&cmd.reason)?;
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        stocked_product(tx.as_mut(), &cmd.sku).await?;
        let warehouse = warehouse_in(tx.as_mut(), cmd.warehouse.as_deref()).await?;
        let (available_before, threshold) = lock_sku_everywhere(tx.as_mut(), &cmd.sku).await?;
        let current = tx
            .lock_level(warehouse.id, &cmd.sku)
            .await?
            .unwrap_or_else(|| StockLevel::empty(warehouse.id, cmd.sku.clone()));
        if let Some(expected) = cmd.expected_version
            && expected != current.version
        {
            return Err(InventoryError::VersionMismatch {
                what: format!("stock of {} in {}", cmd.sku, warehouse.code),
                expected,
                actual: current.version,
            });
        }
        let adjustment = current.count_to(cmd.on_hand)?;
        let now = self.clock.now();
        let level = adjustment.after;
        tx.save_level(&level).await?;
        tx.record_movement(&StockMovement {
            id: MovementId::new(),
            tenant_id: ctx.tenant_id,
            warehouse_id: warehouse.id,
            sku: cmd.sku.clone(),
            kind: MovementKind::Count,
            on_hand_delta: adjustment.on_hand_delta,
            reserved_delta: 0,
            incoming_delta: 0,
            reason: Some(reason),
            reference: None,
            actor: Some(ctx.actor.clone()),
            occurred_at: now,
        })
        .await?;
        let mut events = vec![sku_event(
            ctx,
            "inventory.changed",
            &cmd.sku,
            now,
            json!({
                "sku": level.sku,
                "warehouse": warehouse.code,
                "on_hand": level.on_hand,
                "reserved": level.reserved,
                "available": level.available(),
                "on_hand_delta": adjustment.on_hand_delta,
                "cause": "count",
            }),
        )];
        let after = available_before + adjustment.on_hand_delta;
        events.extend(low_stock_alert(
            ctx,
            &cmd.sku,
            threshold,
            available_before,
            after,
            now,
            "count",
        ));
        tx.append_events(&events).await?;
        tx.commit().await?;
        Ok(level)
    }

    /// Books goods in: on hand rises, a `receipt` movement explains it, and each SKU's weighted
    /// average cost takes the new units' cost into account. All lines or none.
    pub async fn receive_stock(
        &self,
        ctx: &RequestContext,
        cmd: ReceiveStock,
    ) -> Result<Vec<StockLevel>, InventoryError> {
        let mut errors = ValidationErrors::new();
        if cmd.lines.is_empty() || cmd.lines.len() > 500 {
            errors.add("lines", "a receipt needs 1 to 500 lines");
        }
        let mut lines: Vec<(Sku, Quantity, Option<Money>)> = Vec::new();
        for (i, (sku, quantity, cost)) in cmd.lines.into_iter().enumerate() {
            let sku = errors.check(format!("lines[{i}].sku"), Sku::parse(&sku));
            let quantity = crate::validate::positive_quantity(
                &mut errors,
                format!("lines[{i}].quantity"),
                quantity,
            );
            if cost.is_some_and(|c| c.amount_minor < 0) {
                errors.add(
                    format!("lines[{i}].unit_cost"),
                    "unit cost must not be negative",
                );
            }
            if let Some(s) = &sku
                && lines.iter().any(|l| &l.0 == s)
            {
                errors.add(format!("lines[{i}].sku"), format!("{s} is listed twice"));
            }
            if let (Some(sku), Some(quantity)) = (sku, quantity) {
                lines.push((sku, quantity, cost));
            }
        }
        errors.into_result()?;
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        let now = self.clock.now();
        let mut tx = self.uow.begin(ctx.tenant_id).await?;
        let warehouse = warehouse_in(tx.as_mut(), cmd.warehouse.as_deref()).await?;
        let mut levels = Vec::with_capacity(lines.len());
        let mut events = Vec::with_capacity(lines.len());
        for (sku, quantity, cost) in lines {
            let (level, event) = super::floor::book_receipt(
                tx.as_mut(),
                ctx,
                &warehouse,
                &sku,
                quantity,
                cost,
                cmd.reference.clone(),
                now,
            )
            .await?;
            events.push(event);
            levels.push(level);
        }
        tx.append_events(&events).await?;
        tx.commit().await?;
        Ok(levels)
    }

    pub async fn movements(
        &self,
        ctx: &RequestContext,
        sku: &Sku,
        page: PageRequest<MovementId>,
    ) -> Result<Page<StockMovement, MovementId>, InventoryError> {
        self.product(ctx, sku).await?;
        Ok(self.stock.movements(ctx.tenant_id, sku, page).await?)
    }

    /// Compares every live level with the sum of its ledger; with `repair`, overwrites the
    /// drifted levels with the ledger's figures (the ledger is the truth).
    pub async fn rebuild_levels(
        &self,
        ctx: &RequestContext,
        repair: bool,
    ) -> Result<DriftReport, InventoryError> {
        let live = self.stock.all_levels(ctx.tenant_id).await?;
        let sums = self.stock.ledger_sums(ctx.tenant_id).await?;
        let drift = ledger::drift(&live, &sums);
        let repaired = repair && !drift.is_empty();
        if repaired {
            let mut tx = self.uow.begin(ctx.tenant_id).await?;
            for d in &drift {
                tx.overwrite_level(d.warehouse_id, &d.sku, d.ledger).await?;
            }
            tx.commit().await?;
        }
        Ok(DriftReport {
            levels_checked: live.len(),
            drift,
            repaired,
        })
    }

    /// What to reorder and why, for one page of SKUs (by SKU order).
    pub async fn replenishment(
        &self,
        ctx: &RequestContext,
        policy: &ReplenishmentPolicy,
        history_days: u32,
        page: PageRequest<Sku>,
    ) -> Result<Page<ReplenishmentAdvice, Sku>, InventoryError> {
        let totals = self.stock.totals(ctx.tenant_id, page).await?;
        let skus: Vec<Sku> = totals.items.iter().map(|t| t.sku.clone()).collect();
        let demand = self
            .stock
            .daily_demand(ctx.tenant_id, &skus, history_days, self.clock.now())
            .await?;
        let mut advice = Vec::with_capacity(totals.items.len());
        for t in &totals.items {
            let mut sku_policy = *policy;
            if let Some(product) = self.products.get(ctx.tenant_id, &t.sku).await?
                && let Some(days) = product.lead_time_days
            {
                sku_policy.lead_time_days = days as u32;
            }
            let history = DemandHistory::new(demand.get(&t.sku).cloned().unwrap_or_default());
            let position = StockPosition {
                sku: t.sku.clone(),
                available: t.available(),
                incoming: t.incoming,
            };
            advice.push(
                replenishment::advise(&position, &history, &ForecastConfig::default(), &sku_policy)
                    .map_err(|e| ValidationErrors::single("policy", e))?,
            );
        }
        Ok(Page {
            items: advice,
            next_cursor: totals.next_cursor,
        })
    }

    /// Value of what is on hand at weighted average cost, per warehouse, one report per currency.
    pub async fn valuation(
        &self,
        ctx: &RequestContext,
    ) -> Result<Vec<InventoryValueReport>, InventoryError> {
        let rows = self.stock.valuation_rows(ctx.tenant_id).await?;
        let mut by_currency: BTreeMap<String, (Currency, Vec<crate::ValuationRow>)> =
            BTreeMap::new();
        for row in rows {
            let currency = row.average_cost.currency;
            by_currency
                .entry(currency.to_string())
                .or_insert_with(|| (currency, Vec::new()))
                .1
                .push(row);
        }
        by_currency
            .into_values()
            .map(|(currency, rows)| {
                InventoryValueReport::build(currency, rows)
                    .map_err(|e| kernel::StoreError::new(e.to_string()).into())
            })
            .collect()
    }
}
