//! The SQL of the deferred writes, rendered straight into one string with numbered
//! placeholders (`$n` on PostgreSQL, `?n` on SQLite) and their values beside it. Names are
//! the entities' own, double-quoted, which both databases read the same way.

use kernel::{Sku, TenantId, WarehouseId};
use sea_orm::{DatabaseBackend, Value};

/// Appends the placeholder of the next value, `values.len() + 1`.
fn placeholder(backend: DatabaseBackend, sql: &mut String, values: &[Value]) {
    sql.push(if backend == DatabaseBackend::Postgres {
        '$'
    } else {
        '?'
    });
    sql.push_str(itoa::Buffer::new().format(values.len() + 1));
}

fn bind(backend: DatabaseBackend, sql: &mut String, values: &mut Vec<Value>, value: Value) {
    placeholder(backend, sql, values);
    values.push(value);
}

fn quoted(sql: &mut String, name: &str) {
    sql.push('"');
    sql.push_str(name);
    sql.push('"');
}

/// `INSERT INTO "table" ("a", "b") VALUES ($1, $2), ($3, $4) [ON CONFLICT …]`.
#[derive(Debug)]
pub(crate) struct InsertRows {
    /// `INSERT INTO "table" ("a", "b") VALUES `.
    head: String,
    columns: usize,
    /// Row after row, `columns` values each.
    values: Vec<Value>,
    on_conflict: Option<&'static str>,
}

impl InsertRows {
    pub(crate) fn new<'a>(table: &str, columns: impl Iterator<Item = &'a str>) -> Self {
        let mut head = String::with_capacity(256);
        head.push_str("INSERT INTO ");
        quoted(&mut head, table);
        head.push_str(" (");
        let mut n = 0;
        for column in columns {
            if n > 0 {
                head.push_str(", ");
            }
            quoted(&mut head, column);
            n += 1;
        }
        head.push_str(") VALUES ");
        Self {
            head,
            columns: n,
            values: Vec::new(),
            on_conflict: None,
        }
    }

    /// Adds a row: one value per column, in the columns' order.
    pub(crate) fn push_row(&mut self, row: impl IntoIterator<Item = Value>) {
        let before = self.values.len();
        self.values.extend(row);
        debug_assert_eq!(
            self.values.len() - before,
            self.columns,
            "one value per column"
        );
    }

    /// What to do when a row collides: SQL after `ON CONFLICT`, the same in both databases.
    pub(crate) fn on_conflict(mut self, clause: &'static str) -> Self {
        self.on_conflict = Some(clause);
        self
    }

    pub(super) fn render_into(
        self,
        backend: DatabaseBackend,
        sql: &mut String,
        values: &mut Vec<Value>,
    ) {
        sql.push_str(&self.head);
        for (i, value) in self.values.into_iter().enumerate() {
            let column = i % self.columns.max(1);
            sql.push_str(match (column, i) {
                (0, 0) => "(",
                (0, _) => "), (",
                _ => ", ",
            });
            bind(backend, sql, values, value);
        }
        sql.push(')');
        if let Some(clause) = self.on_conflict {
            sql.push_str(" ON CONFLICT ");
            sql.push_str(clause);
        }
    }
}

/// Adds to `reserved` on stock rows, each by its own quantity, in one statement:
/// `UPDATE stock_levels … FROM (SELECT sku, warehouse, quantity UNION ALL …)`. Each row at most once
/// (the parts of one write-behind statement must not change a row twice).
#[derive(Debug)]
pub(crate) struct ReserveStock {
    tenant: TenantId,
    at: chrono::DateTime<chrono::Utc>,
    rows: Vec<(Sku, WarehouseId, i64)>,
}

impl ReserveStock {
    pub(crate) fn new(tenant: TenantId, at: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            tenant,
            at,
            rows: Vec::new(),
        }
    }

    /// Reserves `quantity` more on the row, merged with an earlier call for the same row.
    pub(crate) fn add(&mut self, sku: &Sku, warehouse: WarehouseId, quantity: i64) {
        match self
            .rows
            .iter_mut()
            .find(|(s, w, _)| s == sku && *w == warehouse)
        {
            Some((_, _, n)) => *n += quantity,
            None => self.rows.push((sku.clone(), warehouse, quantity)),
        }
    }

    pub(super) fn render_into(
        self,
        backend: DatabaseBackend,
        sql: &mut String,
        values: &mut Vec<Value>,
    ) {
        sql.push_str(
            "UPDATE \"stock_levels\" SET \"reserved\" = \"stock_levels\".\"reserved\" + v.quantity, \
             \"version\" = \"stock_levels\".\"version\" + 1, \"updated_at\" = ",
        );
        bind(backend, sql, values, self.at.into());
        // `SELECT … UNION ALL SELECT …` rather than `VALUES`: SQLite cannot name the columns
        // of a `VALUES` list.
        sql.push_str(" FROM (");
        for (i, (sku, warehouse, quantity)) in self.rows.into_iter().enumerate() {
            sql.push_str(if i == 0 {
                "SELECT "
            } else {
                " UNION ALL SELECT "
            });
            bind(backend, sql, values, sku.as_str().to_owned().into());
            sql.push_str(" AS sku, ");
            bind(backend, sql, values, warehouse.into_uuid().into());
            sql.push_str(" AS warehouse_id, ");
            bind(backend, sql, values, quantity.into());
            sql.push_str(" AS quantity");
        }
        sql.push_str(") AS v WHERE \"stock_levels\".\"tenant_id\" = ");
        bind(backend, sql, values, self.tenant.into_uuid().into());
        sql.push_str(
            " AND \"stock_levels\".\"sku\" = v.sku \
             AND \"stock_levels\".\"warehouse_id\" = v.warehouse_id",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders after one value already bound: the SQL and how many values there are then.
    fn rendered(write: impl FnOnce(&mut String, &mut Vec<Value>)) -> (String, usize) {
        let mut sql = String::new();
        let mut values = vec![Value::Int(Some(0))];
        write(&mut sql, &mut values);
        (sql, values.len())
    }

    #[test]
    fn an_insert_numbers_its_placeholders_on_from_the_values_before_it() {
        let mut insert = InsertRows::new("t", ["a", "b"].into_iter()).on_conflict("DO NOTHING");
        insert.push_row([1i64.into(), "x".into()]);
        insert.push_row([2i64.into(), "y".into()]);
        let (sql, n) = rendered(|s, v| insert.render_into(DatabaseBackend::Postgres, s, v));
        assert_eq!(
            sql,
            r#"INSERT INTO "t" ("a", "b") VALUES ($2, $3), ($4, $5) ON CONFLICT DO NOTHING"#
        );
        assert_eq!(n, 5);
    }

    #[test]
    fn a_reservation_merges_lines_on_one_row_and_numbers_for_sqlite() {
        let tenant = TenantId::new();
        let warehouse = WarehouseId::new();
        let sku = Sku::parse("A-1").unwrap();
        let mut reserve = ReserveStock::new(tenant, chrono::Utc::now());
        reserve.add(&sku, warehouse, 2);
        reserve.add(&sku, warehouse, 3);
        let (sql, n) = rendered(|s, v| {
            reserve.render_into(DatabaseBackend::Sqlite, s, v);
            assert_eq!(v[4], Value::BigInt(Some(5)), "2 + 3 on the one row");
        });
        assert!(
            sql.contains(
                "\"updated_at\" = ?2 FROM (SELECT ?3 AS sku, ?4 AS warehouse_id, ?5 AS quantity) AS v"
            ),
            "{sql}"
        );
        assert!(sql.ends_with("\"tenant_id\" = ?6 AND \"stock_levels\".\"sku\" = v.sku AND \"stock_levels\".\"warehouse_id\" = v.warehouse_id"), "{sql}");
        assert_eq!(n, 6);
    }
}
