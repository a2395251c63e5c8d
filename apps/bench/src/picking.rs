//! Scenario 7: building one batch pick list for many allocated orders (the warehouse domain's
//! planner, in memory: the bin-stock read is a single query the scale scenario already covers).
//! The spec's bar: 500 orders in under 200 ms.

use crate::stats::{Latency, histogram, record};
use chrono::{Duration as Days, Utc};
use kernel::{OrderId, Quantity, Sku, WarehouseId};
use std::time::Instant;
use warehouse::{Bin, BinCode, BinStock, PickableOrder, plan_batch};

pub const TARGET_MS: f64 = 200.0;

#[derive(Debug, Clone)]
pub struct PickingResult {
    pub orders: usize,
    pub lines_per_order: usize,
    pub skus: usize,
    pub bins: usize,
    pub runs: usize,
    /// Pick lines of the plan (one per bin and SKU visited).
    pub pick_lines: usize,
    pub latency: Latency,
}

/// `orders` orders of `lines` lines over `skus` SKUs, each SKU in two bins (one preferred).
pub fn run(orders: usize, lines: usize, skus: usize, runs: usize) -> PickingResult {
    let warehouse = WarehouseId::new();
    let sku = |i: usize| Sku::parse(&format!("SKU-{i:06}")).expect("a valid SKU");
    let mut stock = Vec::with_capacity(skus * 2);
    for i in 0..skus {
        for (slot, preferred) in [(0, true), (1, false)] {
            let code = format!(
                "{}-{:02}-{:02}-{}",
                ["A", "B", "C", "D"][i % 4],
                i / 100 % 100,
                i % 100,
                slot
            );
            let bin = Bin::new(
                BinCode::parse(&code).expect("a valid bin code"),
                warehouse,
                (i * 2 + slot) as u32,
            );
            stock.push(BinStock {
                sku: sku(i),
                bin,
                barcode: None,
                on_hand: Quantity::new(50).expect("a quantity"),
                preferred,
            });
        }
    }
    let now = Utc::now();
    let carriers = ["ups", "dhl", "usps"];
    let batch: Vec<PickableOrder> = (0..orders)
        .map(|o| PickableOrder {
            order_id: OrderId::new(),
            ship_by: now + Days::hours((o % 48) as i64),
            carrier: Some(carriers[o % carriers.len()].to_owned()),
            lines: (0..lines)
                .map(|l| {
                    let q = Quantity::new(1 + (o + l) as i64 % 3).expect("a quantity");
                    ((l + 1) as u32, sku((o * 7 + l * 13) % skus), q)
                })
                .collect(),
        })
        .collect();
    let mut h = histogram();
    let mut pick_lines = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let lists = plan_batch(&batch, &stock, orders, now);
        record(&mut h, started.elapsed());
        pick_lines = lists.iter().map(|l| l.lines().len()).sum();
        std::hint::black_box(lists);
    }
    PickingResult {
        orders,
        lines_per_order: lines,
        skus,
        bins: stock.len(),
        runs: runs.max(1),
        pick_lines,
        latency: Latency::of(&h),
    }
}
