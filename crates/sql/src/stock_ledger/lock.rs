//! Locking stock rows, and the kit look-up that locks ahead when no SKU asked for is a kit.
//!
//! Reserving and shipping ask two things in turn: which of the SKUs are kits, then lock the
//! rows of the physical SKUs (the kits' components in place of the kits). When none is a kit,
//! which is nearly every order, the physical SKUs are the ones asked for, so the kit look-up
//! locks them in the same statement and keeps the rows for the lock that follows: one round
//! trip fewer on the order path. When one is a kit the statement locks nothing and the lock
//! runs on its own, so every writer still takes rows in one (SKU, warehouse) order.

use super::bad;
use crate::store_err;
use crate::tx::Tx;
use inventory::allocation::{AllocationRules, LockedStock};
use inventory::kit::KitComponent;
use kernel::{Quantity, Sku, StoreError, TenantId, WarehouseId};
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult, Statement, Value};
use std::collections::HashMap;

/// What one stock-ledger statement read beyond what its call asked for, kept for the call
/// that follows it within the same unit of work.
#[derive(Debug, Default)]
pub(crate) struct ReadAhead {
    /// Rows the kit look-up locked, with the SKUs they were locked for.
    locked: Option<(Vec<Sku>, Vec<LockedStock>, Option<AllocationRules>)>,
    /// The tenant's routing rules, read with the last lock.
    pub(crate) rules: Option<AllocationRules>,
}

impl ReadAhead {
    /// Keeps what the kit look-up locked for `skus` (`None`: it locked nothing).
    pub(crate) fn locked_for(&mut self, skus: &[Sku], locked: LockedAhead) {
        self.locked = locked.map(|(rows, rules)| (skus.to_vec(), rows, rules));
    }

    /// The rows locked ahead, if they were locked for exactly `skus`.
    pub(crate) fn take_locked(
        &mut self,
        skus: &[Sku],
    ) -> Option<(Vec<LockedStock>, Option<AllocationRules>)> {
        let (locked_for, rows, rules) = self.locked.take()?;
        (sorted(&locked_for) == sorted(skus)).then_some((rows, rules))
    }
}

fn sorted(skus: &[Sku]) -> Vec<&Sku> {
    let mut v: Vec<&Sku> = skus.iter().collect();
    v.sort();
    v.dedup();
    v
}

/// `$n` on PostgreSQL, `?n` on SQLite: numbered, so one value serves every place it appears.
fn placeholder(backend: DatabaseBackend, i: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${i}"),
        _ => format!("?{i}"),
    }
}

/// The SQL parts the lock and the kit look-up share. `$1` is the tenant, `$2..` the SKUs.
struct StockSql {
    tenant: String,
    skus: String,
    lock: &'static str,
}

impl StockSql {
    fn new(backend: DatabaseBackend, n: usize) -> Self {
        let skus: Vec<String> = (0..n).map(|i| placeholder(backend, i + 2)).collect();
        Self {
            tenant: placeholder(backend, 1),
            skus: skus.join(", "),
            lock: match backend {
                DatabaseBackend::Postgres => " FOR UPDATE OF s",
                // SQLite has one writer at a time: the transaction itself is the lock.
                _ => "",
            },
        }
    }

    /// The stock rows of the SKUs, locked in (SKU, warehouse) order, with the routing rules.
    /// The SKUs filter the products too: the planner does not carry an IN list across the
    /// join, and without it a stale estimate can make it walk every product of the tenant
    /// (seen in `make bench`: 1,000 index probes, 5-13 ms, per order).
    fn locked_rows(&self, extra_condition: &str) -> String {
        format!(
            "SELECT s.sku, s.warehouse_id, s.on_hand, s.reserved, w.priority, w.cutoff_minute, \
             p.low_stock_threshold, r.prefer_single_warehouse, r.allow_split \
             FROM stock_levels s \
             JOIN warehouses w ON w.id = s.warehouse_id \
             JOIN products p ON p.tenant_id = s.tenant_id AND p.sku = s.sku \
             LEFT JOIN allocation_rules r ON r.tenant_id = s.tenant_id \
             WHERE s.tenant_id = {t} AND s.sku IN ({l}) AND p.sku IN ({l}) AND p.active{extra_condition} \
             ORDER BY s.sku, s.warehouse_id{lock}",
            t = self.tenant,
            l = self.skus,
            lock = self.lock,
        )
    }
}

/// Runs `sql` with the tenant as `$1` and the SKUs as `$2..`.
async fn query(
    tx: &Tx,
    sql: String,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<Vec<QueryResult>, StoreError> {
    let mut values: Vec<Value> = vec![tenant.into_uuid().into()];
    values.extend(skus.iter().map(|s| Value::from(s.as_str().to_owned())));
    tx.query_all(Statement::from_sql_and_values(
        tx.get_database_backend(),
        sql,
        values,
    ))
    .await
    .map_err(store_err)
}

/// Locks the rows of `skus` in every warehouse, in (SKU, warehouse) order — the one order
/// every writer takes them in, so two transactions never wait on each other in a cycle.
pub(crate) async fn lock_stock(
    tx: &Tx,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<Vec<LockedStock>, StoreError> {
    Ok(lock_stock_and_rules(tx, tenant, skus).await?.0)
}

/// [`lock_stock`], and the tenant's routing rules read by the same statement: `None` when no
/// row came back to carry them.
pub(crate) async fn lock_stock_and_rules(
    tx: &Tx,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<(Vec<LockedStock>, Option<AllocationRules>), StoreError> {
    if skus.is_empty() {
        return Ok((Vec::new(), None));
    }
    let backend = tx.get_database_backend();
    let sql = StockSql::new(backend, skus.len()).locked_rows("");
    let rows = query(tx, sql, tenant, skus).await?;
    stock_and_rules(rows)
}

/// Rows locked by the kit look-up: `None` when one of the SKUs was a kit, and nothing was
/// locked.
type LockedAhead = Option<(Vec<LockedStock>, Option<AllocationRules>)>;

/// The components of those of `skus` that are kits; and, when there are none, the stock rows
/// of `skus` locked as [`lock_stock_and_rules`] locks them, in the same statement.
pub(crate) async fn kits_and_lock(
    tx: &Tx,
    tenant: TenantId,
    skus: &[Sku],
) -> Result<(HashMap<Sku, Vec<KitComponent>>, LockedAhead), StoreError> {
    if skus.is_empty() {
        return Ok((HashMap::new(), None));
    }
    let backend = tx.get_database_backend();
    let parts = StockSql::new(backend, skus.len());
    // `NOT EXISTS (SELECT 1 FROM k)` is evaluated once, before the scan: a kit among the
    // SKUs means no stock row is read, so none is locked out of order.
    let sql = format!(
        "WITH k AS (SELECT kit_sku, component_sku, quantity FROM kit_components \
                    WHERE tenant_id = {t} AND kit_sku IN ({l})), \
         locked AS ({locked}) \
         SELECT 0 AS part, kit_sku AS sku, component_sku, quantity, NULL AS warehouse_id, \
                NULL AS on_hand, NULL AS reserved, NULL AS priority, NULL AS cutoff_minute, \
                NULL AS low_stock_threshold, NULL AS prefer_single_warehouse, NULL AS allow_split \
         FROM k \
         UNION ALL \
         SELECT 1, sku, NULL, NULL, warehouse_id, on_hand, reserved, priority, cutoff_minute, \
                low_stock_threshold, prefer_single_warehouse, allow_split \
         FROM locked \
         ORDER BY 1, 2, 3, 5",
        t = parts.tenant,
        l = parts.skus,
        locked = parts.locked_rows(" AND NOT EXISTS (SELECT 1 FROM k)"),
    );
    let rows = query(tx, sql, tenant, skus).await?;
    let (kit_rows, stock_rows): (Vec<QueryResult>, Vec<QueryResult>) = rows
        .into_iter()
        .partition(|r| r.try_get::<i32>("", "part").is_ok_and(|p| p == 0));
    let mut kits: HashMap<Sku, Vec<KitComponent>> = HashMap::new();
    for r in kit_rows {
        let get = |col: &str| r.try_get::<String>("", col).map_err(store_err);
        kits.entry(Sku::parse(&get("sku")?).map_err(bad)?)
            .or_default()
            .push(KitComponent {
                sku: Sku::parse(&get("component_sku")?).map_err(bad)?,
                quantity: Quantity::new(r.try_get("", "quantity").map_err(store_err)?)
                    .map_err(bad)?,
            });
    }
    if !kits.is_empty() {
        return Ok((kits, None));
    }
    Ok((kits, Some(stock_and_rules(stock_rows)?)))
}

/// Maps locked rows; the rules ride on every row (`None` without a row to carry them).
fn stock_and_rules(
    rows: Vec<QueryResult>,
) -> Result<(Vec<LockedStock>, Option<AllocationRules>), StoreError> {
    let get = |e| store_err(e);
    let rules = match rows.first() {
        Some(r) => Some(
            match (
                r.try_get::<Option<bool>>("", "prefer_single_warehouse")
                    .map_err(get)?,
                r.try_get::<Option<bool>>("", "allow_split").map_err(get)?,
            ) {
                (Some(prefer_single_warehouse), Some(allow_split)) => AllocationRules {
                    prefer_single_warehouse,
                    allow_split,
                },
                _ => AllocationRules::default(),
            },
        ),
        None => None,
    };
    let stock = rows
        .into_iter()
        .map(|r| {
            Ok(LockedStock {
                sku: Sku::parse(&r.try_get::<String>("", "sku").map_err(get)?).map_err(bad)?,
                warehouse_id: WarehouseId::from_uuid(
                    r.try_get::<uuid::Uuid>("", "warehouse_id").map_err(get)?,
                ),
                on_hand: r.try_get("", "on_hand").map_err(get)?,
                reserved: r.try_get("", "reserved").map_err(get)?,
                priority: r.try_get("", "priority").map_err(get)?,
                low_stock_threshold: r.try_get("", "low_stock_threshold").map_err(get)?,
                cutoff_minute: r.try_get("", "cutoff_minute").map_err(get)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((stock, rules))
}
