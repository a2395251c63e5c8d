//! Building pick lists: which bins give which units to which order lines.
//!
//! For each SKU, units come from its preferred bins first, then in walk order, split across
//! bins when one lacks enough; what no bin has is an upfront shortage. Lines are sorted by bin
//! walk order, then bin code, then SKU. Everything is hashed by SKU and bin, so a batch of
//! hundreds of orders builds in linear time.

use crate::location::Bin;
use crate::picking::{Allocation, PickLine, PickList, Unallocated};
use chrono::{DateTime, Utc};
use kernel::{OrderId, Quantity, Sku};
use std::collections::HashMap;

/// An allocated order ready to pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickableOrder {
    pub order_id: OrderId,
    pub ship_by: DateTime<Utc>,
    pub carrier: Option<String>,
    /// `(line_no, sku, quantity)`.
    pub lines: Vec<(u32, Sku, Quantity)>,
}

/// What one bin holds of one SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinStock {
    pub sku: Sku,
    pub bin: Bin,
    /// The product's GTIN, if it has one.
    pub barcode: Option<String>,
    pub on_hand: Quantity,
    /// The SKU's home bin(s): emptied before any other.
    pub preferred: bool,
}

/// A pick list for one order.
pub fn plan_single(order: &PickableOrder, stock: &[BinStock], now: DateTime<Utc>) -> PickList {
    let mut planner = Planner::new(stock);
    planner.plan(std::slice::from_ref(order), now)
}

/// Batch pick lists: orders are taken earliest ship-by first (then by id) and cut into lists
/// of at most `max_orders` orders (at least one). The lists draw on the same stock, so no two
/// of them count on the same unit; the earlier ones are served first.
pub fn plan_batch(
    orders: &[PickableOrder],
    stock: &[BinStock],
    max_orders: usize,
    now: DateTime<Utc>,
) -> Vec<PickList> {
    plan_groups(
        std::slice::from_ref(&orders.to_vec()),
        stock,
        max_orders,
        now,
    )
}

/// Batch pick lists for groups of orders (waves), each group planned as [`plan_batch`] does,
/// group after group, all drawing on the same stock: no two lists count on the same unit.
pub fn plan_groups(
    groups: &[Vec<PickableOrder>],
    stock: &[BinStock],
    max_orders: usize,
    now: DateTime<Utc>,
) -> Vec<PickList> {
    let mut planner = Planner::new(stock);
    let mut lists = Vec::new();
    for orders in groups {
        let mut sorted: Vec<&PickableOrder> = orders.iter().collect();
        sorted.sort_by_key(|o| (o.ship_by, o.order_id));
        for chunk in sorted.chunks(max_orders.max(1)) {
            let chunk: Vec<PickableOrder> = chunk.iter().map(|o| (*o).clone()).collect();
            lists.push(planner.plan(&chunk, now));
        }
    }
    lists
}

/// Bins per SKU in the order they are emptied, with what is still free in each.
struct Planner<'a> {
    stock: &'a [BinStock],
    /// Indexes into `stock`, per SKU, preferred first then walk order.
    bins_by_sku: HashMap<&'a Sku, Vec<usize>>,
    /// How far along each SKU's bins the exhausted ones reach.
    cursor: HashMap<&'a Sku, usize>,
    free: Vec<u32>,
}

impl<'a> Planner<'a> {
    fn new(stock: &'a [BinStock]) -> Self {
        let mut bins_by_sku: HashMap<&Sku, Vec<usize>> = HashMap::new();
        for (i, s) in stock.iter().enumerate() {
            bins_by_sku.entry(&s.sku).or_default().push(i);
        }
        for bins in bins_by_sku.values_mut() {
            bins.sort_by(|&a, &b| {
                let (a, b) = (&stock[a], &stock[b]);
                b.preferred
                    .cmp(&a.preferred)
                    .then_with(|| a.bin.walk_cmp(&b.bin))
            });
        }
        Self {
            stock,
            bins_by_sku,
            cursor: HashMap::new(),
            free: stock.iter().map(|s| s.on_hand.get()).collect(),
        }
    }

    fn plan(&mut self, orders: &[PickableOrder], now: DateTime<Utc>) -> PickList {
        // Pick line per stock entry, and what is missing per SKU, each in first-seen order.
        let mut line_of: HashMap<usize, usize> = HashMap::new();
        let mut lines: Vec<PickLine> = Vec::new();
        let mut missing_of: HashMap<Sku, usize> = HashMap::new();
        let mut unallocated: Vec<Unallocated> = Vec::new();

        for order in orders {
            for (line_no, sku, quantity) in &order.lines {
                let mut need = quantity.get();
                let bins = self.bins_by_sku.get(sku).map(Vec::as_slice).unwrap_or(&[]);
                let cursor = self.cursor.get(sku).copied().unwrap_or(0);
                let mut at = cursor;
                while need > 0 && at < bins.len() {
                    let index = bins[at];
                    let take = need.min(self.free[index]);
                    if take > 0 {
                        self.free[index] -= take;
                        need -= take;
                        let slot = *line_of.entry(index).or_insert_with(|| {
                            lines.push(new_line(&self.stock[index]));
                            lines.len() - 1
                        });
                        add(&mut lines[slot], order.order_id, *line_no, take);
                    }
                    if self.free[index] == 0 {
                        at += 1;
                    }
                }
                if at != cursor {
                    let key = &self.stock[bins[0]].sku;
                    self.cursor.insert(key, at);
                }
                if need > 0 {
                    let slot = *missing_of.entry(sku.clone()).or_insert_with(|| {
                        unallocated.push(Unallocated {
                            sku: sku.clone(),
                            missing: Quantity::ZERO,
                            affected: Vec::new(),
                        });
                        unallocated.len() - 1
                    });
                    let entry = &mut unallocated[slot];
                    let units = units(need);
                    entry.missing = entry.missing.saturating_add(units);
                    entry.affected.push(Allocation {
                        order_id: order.order_id,
                        line_no: *line_no,
                        quantity: units,
                    });
                }
            }
        }

        lines.sort_by(|a, b| a.bin.walk_cmp(&b.bin).then_with(|| a.sku.cmp(&b.sku)));
        let order_ids = orders.iter().map(|o| o.order_id).collect();
        PickList::new(order_ids, lines, unallocated, now)
    }
}

fn new_line(stock: &BinStock) -> PickLine {
    PickLine {
        seq: 0,
        bin: stock.bin.clone(),
        sku: stock.sku.clone(),
        barcode: stock.barcode.clone(),
        quantity: Quantity::ZERO,
        picked: Quantity::ZERO,
        short: Quantity::ZERO,
        allocations: Vec::new(),
    }
}

fn add(line: &mut PickLine, order_id: OrderId, line_no: u32, take: u32) {
    let units = units(take);
    line.quantity = line.quantity.saturating_add(units);
    line.allocations.push(Allocation {
        order_id,
        line_no,
        quantity: units,
    });
}

/// Never fails: every count here is at most some [`Quantity`] it was taken from.
fn units(n: u32) -> Quantity {
    Quantity::new(i64::from(n)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::tests::bin;
    use crate::picking::PickStatus;
    use uuid::Uuid;

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn id(n: u128) -> OrderId {
        OrderId::from_uuid(Uuid::from_u128(n))
    }

    fn at(hour: u32) -> DateTime<Utc> {
        format!("2025-03-01T{hour:02}:00:00Z").parse().unwrap()
    }

    fn order(n: u128, ship_hour: u32, lines: &[(u32, &str, i64)]) -> PickableOrder {
        PickableOrder {
            order_id: id(n),
            ship_by: at(ship_hour),
            carrier: None,
            lines: lines
                .iter()
                .map(|(no, s, qty)| (*no, sku(s), q(*qty)))
                .collect(),
        }
    }

    fn stock(s: &str, code: &str, walk: u32, on_hand: i64, preferred: bool) -> BinStock {
        BinStock {
            sku: sku(s),
            bin: bin(code, walk),
            barcode: None,
            on_hand: q(on_hand),
            preferred,
        }
    }

    fn summary(list: &PickList) -> Vec<(u32, String, String, u32)> {
        list.lines()
            .iter()
            .map(|l| {
                (
                    l.seq,
                    l.bin.code.to_string(),
                    l.sku.to_string(),
                    l.quantity.get(),
                )
            })
            .collect()
    }

    #[test]
    fn a_single_order_is_picked_in_walk_order() {
        let stock = [
            stock("MUG", "C-01", 30, 5, false),
            stock("TEE", "A-01", 10, 5, false),
            stock("CAP", "B-01", 20, 5, false),
        ];
        let o = order(1, 9, &[(1, "TEE", 1), (2, "MUG", 2), (3, "CAP", 1)]);
        let list = plan_single(&o, &stock, at(8));
        assert_eq!(
            summary(&list),
            [
                (1, "A-01".into(), "TEE".into(), 1),
                (2, "B-01".into(), "CAP".into(), 1),
                (3, "C-01".into(), "MUG".into(), 2),
            ]
        );
        assert_eq!(list.status(), PickStatus::Open);
        assert!(list.unallocated().is_empty());
    }

    #[test]
    fn a_preferred_bin_is_emptied_first_even_when_it_is_further_along_the_walk() {
        let stock = [
            stock("TEE", "A-01", 10, 5, false),
            stock("TEE", "D-01", 40, 5, true),
        ];
        let list = plan_single(&order(1, 9, &[(1, "TEE", 3)]), &stock, at(8));
        assert_eq!(summary(&list), [(1, "D-01".into(), "TEE".into(), 3)]);
    }

    #[test]
    fn units_split_across_bins_when_one_lacks_enough_and_the_rest_is_short_upfront() {
        let stock = [
            stock("TEE", "B-01", 20, 2, false),
            stock("TEE", "A-01", 10, 3, false),
        ];
        let list = plan_single(&order(1, 9, &[(1, "TEE", 7)]), &stock, at(8));
        assert_eq!(
            summary(&list),
            [
                (1, "A-01".into(), "TEE".into(), 3),
                (2, "B-01".into(), "TEE".into(), 2),
            ]
        );
        let short = &list.unallocated()[0];
        assert_eq!((short.sku.as_str(), short.missing), ("TEE", q(2)));
        assert_eq!(short.affected[0].line_no, 1);
    }

    #[test]
    fn a_sku_no_bin_holds_is_wholly_short() {
        let list = plan_single(&order(1, 9, &[(1, "GHOST", 2)]), &[], at(8));
        assert!(list.lines().is_empty());
        assert_eq!(list.unallocated()[0].missing, q(2));
        assert_eq!(list.status(), PickStatus::Complete);
    }

    #[test]
    fn ties_in_walk_order_are_broken_by_bin_code_then_sku() {
        let stock = [
            stock("MUG", "B-01", 10, 5, false),
            stock("TEE", "A-01", 10, 5, false),
            stock("CAP", "A-01", 10, 5, false),
        ];
        let o = order(1, 9, &[(1, "MUG", 1), (2, "TEE", 1), (3, "CAP", 1)]);
        let list = plan_single(&o, &stock, at(8));
        assert_eq!(
            summary(&list),
            [
                (1, "A-01".into(), "CAP".into(), 1),
                (2, "A-01".into(), "TEE".into(), 1),
                (3, "B-01".into(), "MUG".into(), 1),
            ]
        );
    }

    #[test]
    fn a_batch_merges_one_sku_in_one_bin_into_one_line_with_each_orders_share() {
        let stock = [stock("TEE", "A-01", 10, 10, false)];
        let orders = [order(1, 9, &[(1, "TEE", 2)]), order(2, 9, &[(1, "TEE", 3)])];
        let lists = plan_batch(&orders, &stock, 10, at(8));
        assert_eq!(lists.len(), 1);
        let line = &lists[0].lines()[0];
        assert_eq!(line.quantity, q(5));
        let shares: Vec<(OrderId, u32)> = line
            .allocations
            .iter()
            .map(|a| (a.order_id, a.quantity.get()))
            .collect();
        assert_eq!(shares, [(id(1), 2), (id(2), 3)]);
    }

    #[test]
    fn scarce_stock_goes_to_the_order_that_ships_first() {
        let stock = [stock("TEE", "A-01", 10, 2, false)];
        let orders = [
            order(1, 15, &[(1, "TEE", 2)]),
            order(2, 10, &[(1, "TEE", 2)]),
        ];
        let lists = plan_batch(&orders, &stock, 10, at(8));
        assert_eq!(lists[0].orders(), [id(2), id(1)]);
        assert_eq!(lists[0].lines()[0].allocations[0].order_id, id(2));
        assert_eq!(lists[0].unallocated()[0].affected[0].order_id, id(1));
    }

    #[test]
    fn a_batch_is_cut_into_lists_of_at_most_max_orders_sharing_the_stock() {
        let stock = [stock("TEE", "A-01", 10, 3, false)];
        let orders = [
            order(1, 9, &[(1, "TEE", 1)]),
            order(2, 10, &[(1, "TEE", 1)]),
            order(3, 11, &[(1, "TEE", 2)]),
        ];
        let lists = plan_batch(&orders, &stock, 2, at(8));
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].orders(), [id(1), id(2)]);
        assert_eq!(lists[1].orders(), [id(3)]);
        assert_eq!(lists[1].lines()[0].quantity, q(1));
        assert_eq!(lists[1].unallocated()[0].missing, q(1));
    }

    #[test]
    fn groups_share_the_stock_so_a_later_wave_never_counts_on_an_earlier_waves_units() {
        let stock = [stock("TEE", "A-01", 10, 3, false)];
        let groups = vec![
            vec![order(1, 15, &[(1, "TEE", 2)])],
            vec![order(2, 9, &[(1, "TEE", 2)])],
        ];
        let lists = plan_groups(&groups, &stock, 10, at(8));
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].orders(), [id(1)]);
        assert_eq!(lists[0].total_units(), 2);
        assert_eq!(lists[1].total_units(), 1);
        assert_eq!(lists[1].unallocated()[0].missing, q(1));
    }

    #[test]
    fn a_batch_of_500_orders_with_3_lines_each_accounts_for_every_unit() {
        // 50 SKUs in 100 bins (a preferred bin of 20 and an overflow bin of 20 each): 2,000
        // units on hand. 500 orders × 3 lines ask for 2,250: 30 units of each even SKU and 60
        // of each odd one, so the 25 odd SKUs are 20 short each.
        let skus: Vec<String> = (0..50).map(|i| format!("SKU-{i:02}")).collect();
        let mut stock_rows = Vec::new();
        for (i, s) in skus.iter().enumerate() {
            let i = i as u32;
            stock_rows.push(stock(s, &format!("A-{i:02}"), i, 20, true));
            stock_rows.push(stock(s, &format!("B-{i:02}"), 100 + i, 20, false));
        }
        let orders: Vec<PickableOrder> = (0..500u32)
            .map(|n| PickableOrder {
                order_id: id(u128::from(n) + 1),
                ship_by: at(9 + n % 8),
                carrier: None,
                lines: (0..3u32)
                    .map(|l| {
                        let s = &skus[((n * 3 + l) % 50) as usize];
                        (l + 1, sku(s), q(i64::from(1 + (n + l) % 2)))
                    })
                    .collect(),
            })
            .collect();
        let lists = plan_batch(&orders, &stock_rows, 500, at(8));
        assert_eq!(lists.len(), 1);
        let list = &lists[0];
        assert_eq!(list.orders().len(), 500);
        let asked: u64 = orders
            .iter()
            .flat_map(|o| &o.lines)
            .map(|(_, _, qty)| u64::from(qty.get()))
            .sum();
        let missing: u64 = list
            .unallocated()
            .iter()
            .map(|u| u64::from(u.missing.get()))
            .sum();
        assert_eq!(asked, 2_250);
        assert_eq!(list.total_units(), 1_750);
        assert_eq!(missing, 500);
        assert_eq!(list.lines().len(), 100);
        let allocated: u64 = list
            .lines()
            .iter()
            .flat_map(|l| &l.allocations)
            .map(|a| u64::from(a.quantity.get()))
            .sum();
        assert_eq!(allocated, 1_750);
        assert!(
            list.lines()
                .windows(2)
                .all(|w| w[0].bin.walk_order <= w[1].bin.walk_order)
        );
    }
}
