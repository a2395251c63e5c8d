//! A tenant's order routing: the allocation rules, the order warehouses are tried in, and
//! each warehouse's cut-off. Changed in one go, checked whole.

use crate::allocation::AllocationRules;
use crate::warehouse::{Warehouse, parse_cutoff, parse_warehouse_code};
use kernel::{ValidationErrors, WarehouseId};

/// One warehouse in a routing change: its place is its position in the list.
#[derive(Debug, Clone, Default)]
pub struct WarehouseRoute {
    pub code: String,
    /// `HH:MM` UTC; unchanged if not given.
    pub cutoff: Option<String>,
}

/// A routing change. `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct RoutingChange {
    pub prefer_single_warehouse: Option<bool>,
    pub allow_split: Option<bool>,
    /// First choice first. Warehouses not listed keep their order, after the listed ones.
    pub warehouses: Option<Vec<WarehouseRoute>>,
}

/// What a warehouse becomes: its new priority and cut-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarehousePlacement {
    pub id: WarehouseId,
    pub priority: i32,
    pub cutoff_minute: i32,
}

/// Gap between priorities, so one warehouse can later be slotted in between two.
const PRIORITY_STEP: i32 = 10;

impl RoutingChange {
    /// Checks the change against the tenant's warehouses (as listed, by priority) and says
    /// what each warehouse becomes. Every problem at once.
    pub fn apply(
        self,
        current: AllocationRules,
        warehouses: &[Warehouse],
    ) -> Result<(AllocationRules, Vec<WarehousePlacement>), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let rules = AllocationRules {
            prefer_single_warehouse: self
                .prefer_single_warehouse
                .unwrap_or(current.prefer_single_warehouse),
            allow_split: self.allow_split.unwrap_or(current.allow_split),
        };
        let mut listed: Vec<(&Warehouse, i32)> = Vec::new();
        for (i, route) in self.warehouses.unwrap_or_default().into_iter().enumerate() {
            let at = |f: &str| format!("warehouses[{i}].{f}");
            let Some(code) = errors.check(at("code"), parse_warehouse_code(&route.code)) else {
                continue;
            };
            let Some(w) = warehouses.iter().find(|w| w.code == code) else {
                errors.add(at("code"), format!("no warehouse {code}; create it first"));
                continue;
            };
            if listed.iter().any(|(seen, _)| seen.id == w.id) {
                errors.add(at("code"), format!("{code} is listed twice"));
                continue;
            }
            let cutoff = match route.cutoff {
                Some(raw) => match parse_cutoff(&raw) {
                    Ok(m) => m,
                    Err(e) => {
                        errors.add(at("cutoff"), e);
                        continue;
                    }
                },
                None => w.cutoff_minute,
            };
            listed.push((w, cutoff));
        }
        errors.into_result()?;
        let unlisted = warehouses
            .iter()
            .filter(|w| !listed.iter().any(|(l, _)| l.id == w.id))
            .map(|w| (w, w.cutoff_minute));
        let placements = listed
            .clone()
            .into_iter()
            .chain(unlisted)
            .enumerate()
            .map(|(rank, (w, cutoff_minute))| WarehousePlacement {
                id: w.id,
                priority: rank as i32 * PRIORITY_STEP,
                cutoff_minute,
            })
            .collect();
        Ok((rules, placements))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use kernel::TenantId;

    fn warehouse(code: &str, priority: i32) -> Warehouse {
        Warehouse {
            id: WarehouseId::new(),
            tenant_id: TenantId::new(),
            code: code.into(),
            name: code.into(),
            address: None,
            priority,
            is_default: code == "MAIN",
            created_at: Utc::now(),
            cutoff_minute: 900,
        }
    }

    fn route(code: &str, cutoff: Option<&str>) -> WarehouseRoute {
        WarehouseRoute {
            code: code.into(),
            cutoff: cutoff.map(Into::into),
        }
    }

    #[test]
    fn listed_warehouses_come_first_in_list_order_and_the_rest_keep_theirs() {
        let ws = [
            warehouse("MAIN", 0),
            warehouse("EAST", 5),
            warehouse("WEST", 9),
        ];
        let (rules, placed) = RoutingChange {
            allow_split: Some(false),
            warehouses: Some(vec![route("west", Some("13:30"))]),
            ..Default::default()
        }
        .apply(AllocationRules::default(), &ws)
        .unwrap();
        assert!(rules.prefer_single_warehouse);
        assert!(!rules.allow_split);
        let order: Vec<(WarehouseId, i32, i32)> = placed
            .iter()
            .map(|p| (p.id, p.priority, p.cutoff_minute))
            .collect();
        assert_eq!(
            order,
            vec![(ws[2].id, 0, 810), (ws[0].id, 10, 900), (ws[1].id, 20, 900)]
        );
    }

    #[test]
    fn unknown_duplicate_and_badly_timed_warehouses_are_all_reported() {
        let ws = [warehouse("MAIN", 0)];
        let err = RoutingChange {
            warehouses: Some(vec![
                route("MAIN", None),
                route("MAIN", None),
                route("NOPE", None),
                route("bad code", None),
            ]),
            ..Default::default()
        }
        .apply(AllocationRules::default(), &ws)
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "warehouses[1].code",
                "warehouses[2].code",
                "warehouses[3].code"
            ]
        );
        let err = RoutingChange {
            warehouses: Some(vec![route("MAIN", Some("25:00"))]),
            ..Default::default()
        }
        .apply(AllocationRules::default(), &ws)
        .unwrap_err();
        assert_eq!(err.0[0].field, "warehouses[0].cutoff");
    }
}
