//! Cycle counts: one bin counted against what the books say, with variances and accuracy.

use crate::location::BinCode;
use chrono::{DateTime, Utc};
use kernel::{EventEnvelope, Quantity, RequestContext, Sku, WarehouseId};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// One SKU's expected and counted units in the counted bin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variance {
    pub sku: Sku,
    pub expected: Quantity,
    pub counted: Quantity,
    /// `counted - expected`: positive when more was found.
    pub delta: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountStatus {
    Open,
    Submitted,
}

impl CountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Submitted => "submitted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "open" => Some(Self::Open),
            "submitted" => Some(Self::Submitted),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("this count is already submitted")]
    AlreadySubmitted,
    #[error("a count needs the name of who counted")]
    NoCounter,
}

/// A count of one bin. Counted SKUs not on the books show with expected zero; SKUs on the
/// books but never counted count as zero found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleCount {
    id: Uuid,
    warehouse: WarehouseId,
    bin: BinCode,
    status: CountStatus,
    expected: Vec<(Sku, Quantity)>,
    counted: Vec<(Sku, Quantity)>,
    counter: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    counted_at: Option<DateTime<Utc>>,
}

impl CycleCount {
    /// A count of `bin` against the book figures in `expected`.
    pub fn open(
        warehouse: WarehouseId,
        bin: BinCode,
        expected: Vec<(Sku, Quantity)>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            warehouse,
            bin,
            status: CountStatus::Open,
            expected: merge(expected),
            counted: Vec::new(),
            counter: None,
            version: 1,
            created_at: now,
            counted_at: None,
        }
    }

    /// Rebuilds a stored count (for adapters).
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: Uuid,
        warehouse: WarehouseId,
        bin: BinCode,
        status: CountStatus,
        expected: Vec<(Sku, Quantity)>,
        counted: Vec<(Sku, Quantity)>,
        counter: Option<String>,
        version: i64,
        created_at: DateTime<Utc>,
        counted_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            id,
            warehouse,
            bin,
            status,
            expected,
            counted,
            counter,
            version,
            created_at,
            counted_at,
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn warehouse(&self) -> WarehouseId {
        self.warehouse
    }
    pub fn bin(&self) -> &BinCode {
        &self.bin
    }
    pub fn status(&self) -> CountStatus {
        self.status
    }
    pub fn expected(&self) -> &[(Sku, Quantity)] {
        &self.expected
    }
    pub fn counted(&self) -> &[(Sku, Quantity)] {
        &self.counted
    }
    pub fn counter(&self) -> Option<&str> {
        self.counter.as_deref()
    }
    pub fn version(&self) -> i64 {
        self.version
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    pub fn counted_at(&self) -> Option<DateTime<Utc>> {
        self.counted_at
    }

    /// Sets what was found of `sku`; a recount replaces the figure, so retries are harmless.
    pub fn record(&mut self, sku: Sku, counted: Quantity) -> Result<(), CountError> {
        if self.status == CountStatus::Submitted {
            return Err(CountError::AlreadySubmitted);
        }
        match self.counted.iter_mut().find(|(s, _)| *s == sku) {
            Some(entry) => entry.1 = counted,
            None => self.counted.push((sku, counted)),
        }
        self.version += 1;
        Ok(())
    }

    /// Ends the count, recording who counted; returns every line with its variance.
    pub fn submit(
        &mut self,
        counter: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Variance>, CountError> {
        if self.status == CountStatus::Submitted {
            return Err(CountError::AlreadySubmitted);
        }
        let counter = counter.trim();
        if counter.is_empty() {
            return Err(CountError::NoCounter);
        }
        self.status = CountStatus::Submitted;
        self.counter = Some(counter.to_owned());
        self.counted_at = Some(now);
        self.version += 1;
        Ok(self.lines())
    }

    /// Every SKU on the books or found, books first then finds, with its variance.
    pub fn lines(&self) -> Vec<Variance> {
        let counted: HashMap<&Sku, Quantity> = self.counted.iter().map(|(s, q)| (s, *q)).collect();
        let expected: HashMap<&Sku, Quantity> =
            self.expected.iter().map(|(s, q)| (s, *q)).collect();
        let books = self
            .expected
            .iter()
            .map(|(sku, e)| variance(sku, *e, counted.get(sku).copied().unwrap_or_default()));
        let finds = self
            .counted
            .iter()
            .filter(|(sku, _)| !expected.contains_key(sku))
            .map(|(sku, c)| variance(sku, Quantity::ZERO, *c));
        books.chain(finds).collect()
    }

    /// Only the lines where the count differs from the books.
    pub fn variances(&self) -> Vec<Variance> {
        self.lines().into_iter().filter(|v| v.delta != 0).collect()
    }

    /// `count.variance`, when a submitted count found differences.
    pub fn variance_event(
        &self,
        ctx: &RequestContext,
        now: DateTime<Utc>,
    ) -> Option<EventEnvelope> {
        let variances = self.variances();
        if self.status != CountStatus::Submitted || variances.is_empty() {
            return None;
        }
        let payload = json!({
            "count_id": self.id,
            "warehouse_id": self.warehouse,
            "bin": self.bin.as_str(),
            "counter": self.counter,
            "variances": variances.iter().map(|v| json!({
                "sku": v.sku, "expected": v.expected, "counted": v.counted, "delta": v.delta,
            })).collect::<Vec<_>>(),
        });
        Some(EventEnvelope::new(
            "count.variance",
            ctx.tenant_id,
            now,
            "cycle_count",
            self.id,
            self.version,
            payload,
            Some(ctx.correlation_id),
        ))
    }
}

fn variance(sku: &Sku, expected: Quantity, counted: Quantity) -> Variance {
    Variance {
        sku: sku.clone(),
        expected,
        counted,
        delta: counted.as_i64() - expected.as_i64(),
    }
}

fn merge(lines: Vec<(Sku, Quantity)>) -> Vec<(Sku, Quantity)> {
    let mut out: Vec<(Sku, Quantity)> = Vec::new();
    let mut index: HashMap<Sku, usize> = HashMap::new();
    for (sku, q) in lines {
        match index.get(&sku) {
            Some(&i) => out[i].1 = out[i].1.saturating_add(q),
            None => {
                index.insert(sku.clone(), out.len());
                out.push((sku, q));
            }
        }
    }
    out
}

/// How well the books matched the shelves, over submitted counts. Shares are in basis points
/// (10,000 = 100 %) so they compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accuracy {
    pub lines: u64,
    pub exact_lines: u64,
    /// Share of counted lines with zero variance.
    pub line_accuracy_bps: u32,
    pub expected_units: u64,
    /// Sum of |delta| over all lines.
    pub variance_units: u64,
    /// `1 - variance_units / expected_units`, floored at zero.
    pub unit_accuracy_bps: u32,
}

/// Accuracy over the submitted counts (open ones are left out). With nothing counted both
/// shares are 100 %.
pub fn accuracy(counts: &[CycleCount]) -> Accuracy {
    let lines: Vec<Variance> = counts
        .iter()
        .filter(|c| c.status == CountStatus::Submitted)
        .flat_map(CycleCount::lines)
        .collect();
    let exact = lines.iter().filter(|v| v.delta == 0).count() as u64;
    let expected_units: u64 = lines.iter().map(|v| u64::from(v.expected.get())).sum();
    let variance_units: u64 = lines.iter().map(|v| v.delta.unsigned_abs()).sum();
    Accuracy {
        lines: lines.len() as u64,
        exact_lines: exact,
        line_accuracy_bps: bps(exact, lines.len() as u64),
        expected_units,
        variance_units,
        unit_accuracy_bps: bps(
            expected_units.saturating_sub(variance_units),
            expected_units,
        ),
    }
}

fn bps(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 10_000;
    }
    (part.min(whole) * 10_000 / whole) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2025-03-01T18:00:00Z".parse().unwrap()
    }

    fn count(expected: &[(&str, i64)], counted: &[(&str, i64)]) -> CycleCount {
        let mut c = CycleCount::open(
            WarehouseId::from_uuid(Uuid::from_u128(7)),
            BinCode::parse("A-01-01-A").unwrap(),
            expected.iter().map(|(s, n)| (sku(s), q(*n))).collect(),
            now(),
        );
        for (s, n) in counted {
            c.record(sku(s), q(*n)).unwrap();
        }
        c
    }

    #[test]
    fn submitting_gives_every_line_with_its_variance_and_records_the_counter() {
        let mut c = count(
            &[("TEE", 10), ("MUG", 4), ("CAP", 2)],
            &[("TEE", 10), ("MUG", 6), ("HAT", 1)],
        );
        let lines = c.submit(" ana ", now()).unwrap();
        let got: Vec<(&str, u32, u32, i64)> = lines
            .iter()
            .map(|v| (v.sku.as_str(), v.expected.get(), v.counted.get(), v.delta))
            .collect();
        assert_eq!(
            got,
            [
                ("TEE", 10, 10, 0),
                ("MUG", 4, 6, 2),
                ("CAP", 2, 0, -2),
                ("HAT", 0, 1, 1)
            ]
        );
        assert_eq!(c.counter(), Some("ana"));
        assert_eq!(c.variances().len(), 3);
    }

    #[test]
    fn a_recount_replaces_the_earlier_figure() {
        let c = count(&[("TEE", 10)], &[("TEE", 8), ("TEE", 10)]);
        assert!(c.variances().is_empty());
    }

    #[test]
    fn a_submitted_count_is_final_and_needs_a_counter() {
        let mut c = count(&[("TEE", 1)], &[]);
        assert_eq!(c.submit(" ", now()), Err(CountError::NoCounter));
        c.submit("ana", now()).unwrap();
        assert_eq!(
            c.record(sku("TEE"), q(1)),
            Err(CountError::AlreadySubmitted)
        );
        assert_eq!(c.submit("ana", now()), Err(CountError::AlreadySubmitted));
    }

    #[test]
    fn accuracy_is_the_share_of_exact_lines_and_of_units_over_submitted_counts() {
        let mut a = count(&[("TEE", 10), ("MUG", 4)], &[("TEE", 10), ("MUG", 6)]);
        a.submit("ana", now()).unwrap();
        let mut b = count(&[("CAP", 6), ("HAT", 0)], &[("CAP", 5), ("HAT", 0)]);
        b.submit("ben", now()).unwrap();
        let open = count(&[("SOCK", 100)], &[]);
        let acc = accuracy(&[a, b, open]);
        assert_eq!(
            acc,
            Accuracy {
                lines: 4,
                exact_lines: 2,
                line_accuracy_bps: 5_000,
                expected_units: 20,
                variance_units: 3,
                unit_accuracy_bps: 8_500,
            }
        );
    }

    #[test]
    fn with_nothing_counted_accuracy_is_full() {
        let acc = accuracy(&[]);
        assert_eq!(
            (acc.line_accuracy_bps, acc.unit_accuracy_bps),
            (10_000, 10_000)
        );
    }

    #[test]
    fn the_variance_event_lists_only_the_differences() {
        let mut c = count(&[("TEE", 10), ("MUG", 4)], &[("TEE", 10), ("MUG", 3)]);
        let ctx = RequestContext::new(kernel::TenantId::new(), "user:ana");
        assert!(c.variance_event(&ctx, now()).is_none());
        c.submit("ana", now()).unwrap();
        let e = c.variance_event(&ctx, now()).unwrap();
        assert_eq!(e.event_type, "count.variance");
        assert_eq!(e.payload["bin"], "A-01-01-A");
        assert_eq!(e.payload["variances"].as_array().unwrap().len(), 1);
        assert_eq!(e.payload["variances"][0]["delta"], -1);
    }
}
