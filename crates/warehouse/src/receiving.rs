//! Receiving: an inbound shipment (ASN) from a seller, received by scan, closed with its
//! discrepancies, the good units to book as receipts, and where to put them away.

use crate::location::BinCode;
use chrono::{DateTime, Utc};
use kernel::{EventEnvelope, Quantity, RequestContext, Sku, WarehouseId};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundStatus {
    Expected,
    Receiving,
    Closed,
}

impl InboundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expected => "expected",
            Self::Receiving => "receiving",
            Self::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "expected" => Some(Self::Expected),
            "receiving" => Some(Self::Receiving),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// One SKU the seller said is coming, and what has arrived of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundLine {
    pub sku: Sku,
    /// The product's GTIN, when known; scanning it counts as the SKU.
    pub barcode: Option<String>,
    pub expected: Quantity,
    pub received: Quantity,
    pub damaged: Quantity,
}

impl InboundLine {
    fn matches(&self, scanned: &str) -> bool {
        let scanned = scanned.trim();
        self.sku.as_str().eq_ignore_ascii_case(scanned)
            || self
                .barcode
                .as_deref()
                .is_some_and(|b| b.eq_ignore_ascii_case(scanned))
    }
}

/// What one receive scan left the line at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveProgress {
    pub sku: Sku,
    /// Good units received so far.
    pub received: Quantity,
    pub damaged: Quantity,
    pub expected: Quantity,
}

/// Where a SKU's good units differ from the ASN, or arrived damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub sku: Sku,
    pub expected: Quantity,
    /// Good units beyond what was expected.
    pub over: Quantity,
    /// Expected units that did not arrive in good condition (damaged ones count here too).
    pub under: Quantity,
    pub damaged: Quantity,
}

/// Good units to put into a bin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutAway {
    pub sku: Sku,
    pub quantity: Quantity,
    pub bin: BinCode,
}

/// What closing a shipment hands to the app: book `receipts` into stock, create put-away
/// tasks from `put_away`, and record `discrepancies` for the seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundClosed {
    pub discrepancies: Vec<Discrepancy>,
    /// Good units per SKU, in ASN order, none zero.
    pub receipts: Vec<(Sku, Quantity)>,
    pub put_away: Vec<PutAway>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    #[error("{0} is not on this inbound shipment")]
    NotOnShipment(String),
    #[error("receive at least one unit")]
    ZeroQuantity,
    #[error("this inbound shipment is closed")]
    Closed,
    #[error("an inbound shipment needs at least one line")]
    NoLines,
    #[error("{0} is listed twice on the inbound shipment")]
    DuplicateSku(Sku),
    #[error("an inbound shipment needs a reference of 1 to 100 characters")]
    InvalidReference,
}

/// A seller's advance shipping notice, received against on the dock.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundShipment {
    id: Uuid,
    reference: String,
    warehouse: WarehouseId,
    status: InboundStatus,
    lines: Vec<InboundLine>,
    scans: HashMap<Uuid, ReceiveProgress>,
    version: i64,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    closed: Option<InboundClosed>,
}

impl InboundShipment {
    /// A new ASN: `(sku, gtin, expected units)` per line, each SKU once.
    pub fn expect(
        reference: &str,
        warehouse: WarehouseId,
        lines: Vec<(Sku, Option<String>, Quantity)>,
        now: DateTime<Utc>,
    ) -> Result<Self, ReceiveError> {
        let reference = reference.trim();
        if reference.is_empty() || reference.chars().count() > 100 {
            return Err(ReceiveError::InvalidReference);
        }
        if lines.is_empty() {
            return Err(ReceiveError::NoLines);
        }
        let mut seen = std::collections::HashSet::new();
        if let Some((sku, _, _)) = lines.iter().find(|(sku, _, _)| !seen.insert(sku.clone())) {
            return Err(ReceiveError::DuplicateSku(sku.clone()));
        }
        Ok(Self {
            id: Uuid::now_v7(),
            reference: reference.to_owned(),
            warehouse,
            status: InboundStatus::Expected,
            lines: lines
                .into_iter()
                .map(|(sku, barcode, expected)| InboundLine {
                    sku,
                    barcode,
                    expected,
                    received: Quantity::ZERO,
                    damaged: Quantity::ZERO,
                })
                .collect(),
            scans: HashMap::new(),
            version: 1,
            created_at: now,
            closed_at: None,
            closed: None,
        })
    }

    /// Rebuilds a stored shipment (for adapters).
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: Uuid,
        reference: String,
        warehouse: WarehouseId,
        status: InboundStatus,
        lines: Vec<InboundLine>,
        scans: Vec<(Uuid, ReceiveProgress)>,
        version: i64,
        created_at: DateTime<Utc>,
        closed_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            id,
            reference,
            warehouse,
            status,
            lines,
            scans: scans.into_iter().collect(),
            version,
            created_at,
            closed_at,
            closed: None,
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn reference(&self) -> &str {
        &self.reference
    }
    pub fn warehouse(&self) -> WarehouseId {
        self.warehouse
    }
    pub fn status(&self) -> InboundStatus {
        self.status
    }
    pub fn lines(&self) -> &[InboundLine] {
        &self.lines
    }
    /// Applied scans with what each answered, for storage.
    pub fn scans(&self) -> impl Iterator<Item = (&Uuid, &ReceiveProgress)> {
        self.scans.iter()
    }
    pub fn version(&self) -> i64 {
        self.version
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.closed_at
    }

    /// Receives units by SKU or GTIN, good or damaged. A replayed `scan_id` answers as the
    /// first time and changes nothing. Units beyond the expected count are taken (they show
    /// as `over` at close); a code not on the shipment is refused.
    pub fn receive(
        &mut self,
        scan_id: Uuid,
        code: &str,
        qty: u32,
        damaged: bool,
    ) -> Result<ReceiveProgress, ReceiveError> {
        if let Some(progress) = self.scans.get(&scan_id) {
            return Ok(progress.clone());
        }
        if self.status == InboundStatus::Closed {
            return Err(ReceiveError::Closed);
        }
        let units = match Quantity::new(i64::from(qty)) {
            Ok(q) if !q.is_zero() => q,
            _ => return Err(ReceiveError::ZeroQuantity),
        };
        let line = self
            .lines
            .iter_mut()
            .find(|l| l.matches(code))
            .ok_or_else(|| ReceiveError::NotOnShipment(code.trim().to_owned()))?;
        if damaged {
            line.damaged = line.damaged.saturating_add(units);
        } else {
            line.received = line.received.saturating_add(units);
        }
        let progress = ReceiveProgress {
            sku: line.sku.clone(),
            received: line.received,
            damaged: line.damaged,
            expected: line.expected,
        };
        self.status = InboundStatus::Receiving;
        self.version += 1;
        self.scans.insert(scan_id, progress.clone());
        Ok(progress)
    }

    /// Closes the shipment: nothing more can be received. Good units go to the SKU's
    /// preferred bin, else to `default_bin`.
    pub fn close(
        &mut self,
        preferred_bins: &HashMap<Sku, BinCode>,
        default_bin: &BinCode,
        now: DateTime<Utc>,
    ) -> Result<InboundClosed, ReceiveError> {
        if self.status == InboundStatus::Closed {
            return Err(ReceiveError::Closed);
        }
        let discrepancies = self
            .lines
            .iter()
            .map(|l| Discrepancy {
                sku: l.sku.clone(),
                expected: l.expected,
                over: l.received.saturating_sub(l.expected),
                under: l.expected.saturating_sub(l.received),
                damaged: l.damaged,
            })
            .filter(|d| !(d.over.is_zero() && d.under.is_zero() && d.damaged.is_zero()))
            .collect();
        let receipts: Vec<(Sku, Quantity)> = self
            .lines
            .iter()
            .filter(|l| !l.received.is_zero())
            .map(|l| (l.sku.clone(), l.received))
            .collect();
        let put_away = receipts
            .iter()
            .map(|(sku, quantity)| PutAway {
                sku: sku.clone(),
                quantity: *quantity,
                bin: preferred_bins.get(sku).unwrap_or(default_bin).clone(),
            })
            .collect();
        let closed = InboundClosed {
            discrepancies,
            receipts,
            put_away,
        };
        self.status = InboundStatus::Closed;
        self.closed_at = Some(now);
        self.version += 1;
        self.closed = Some(closed.clone());
        Ok(closed)
    }

    /// `inbound.closed`, once the shipment was closed in this session.
    pub fn closed_event(&self, ctx: &RequestContext, now: DateTime<Utc>) -> Option<EventEnvelope> {
        let closed = self.closed.as_ref()?;
        let payload = json!({
            "inbound_id": self.id,
            "reference": self.reference,
            "warehouse_id": self.warehouse,
            "receipts": closed.receipts.iter().map(|(sku, q)| json!({
                "sku": sku, "quantity": q,
            })).collect::<Vec<_>>(),
            "discrepancies": closed.discrepancies.iter().map(|d| json!({
                "sku": d.sku, "expected": d.expected, "over": d.over, "under": d.under,
                "damaged": d.damaged,
            })).collect::<Vec<_>>(),
        });
        Some(EventEnvelope::new(
            "inbound.closed",
            ctx.tenant_id,
            now,
            "inbound_shipment",
            self.id,
            self.version,
            payload,
            Some(ctx.correlation_id),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::TenantId;

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2025-03-01T07:00:00Z".parse().unwrap()
    }

    fn asn() -> InboundShipment {
        InboundShipment::expect(
            "PO-1001",
            WarehouseId::from_uuid(Uuid::from_u128(7)),
            vec![
                (sku("TEE"), Some("0123".into()), q(10)),
                (sku("MUG"), None, q(5)),
                (sku("CAP"), None, q(2)),
            ],
            now(),
        )
        .unwrap()
    }

    fn bin(code: &str) -> BinCode {
        BinCode::parse(code).unwrap()
    }

    #[test]
    fn receiving_by_gtin_or_sku_moves_the_shipment_to_receiving() {
        let mut s = asn();
        assert_eq!(s.status(), InboundStatus::Expected);
        let p = s.receive(Uuid::from_u128(1), "0123", 4, false).unwrap();
        assert_eq!(
            (p.sku.as_str(), p.received, p.expected),
            ("TEE", q(4), q(10))
        );
        s.receive(Uuid::from_u128(2), "tee", 1, true).unwrap();
        assert_eq!(s.status(), InboundStatus::Receiving);
        assert_eq!(s.lines()[0].damaged, q(1));
    }

    #[test]
    fn a_replayed_receive_scan_applies_nothing() {
        let mut s = asn();
        let first = s.receive(Uuid::from_u128(1), "MUG", 3, false).unwrap();
        assert_eq!(
            s.receive(Uuid::from_u128(1), "MUG", 3, false).unwrap(),
            first
        );
        assert_eq!(s.lines()[1].received, q(3));
    }

    #[test]
    fn a_code_not_on_the_shipment_is_refused() {
        let mut s = asn();
        let err = s.receive(Uuid::from_u128(1), "HAT", 1, false).unwrap_err();
        assert_eq!(err.to_string(), "HAT is not on this inbound shipment");
        assert_eq!(s.status(), InboundStatus::Expected);
    }

    #[test]
    fn closing_reports_over_under_and_damaged_and_books_only_good_units() {
        let mut s = asn();
        s.receive(Uuid::from_u128(1), "TEE", 12, false).unwrap();
        s.receive(Uuid::from_u128(2), "MUG", 3, false).unwrap();
        s.receive(Uuid::from_u128(3), "MUG", 1, true).unwrap();
        s.receive(Uuid::from_u128(4), "CAP", 2, false).unwrap();
        let preferred = HashMap::from([(sku("TEE"), bin("A-01-01-A"))]);
        let closed = s.close(&preferred, &bin("RECV"), now()).unwrap();
        assert_eq!(
            closed.discrepancies,
            vec![
                Discrepancy {
                    sku: sku("TEE"),
                    expected: q(10),
                    over: q(2),
                    under: q(0),
                    damaged: q(0),
                },
                Discrepancy {
                    sku: sku("MUG"),
                    expected: q(5),
                    over: q(0),
                    under: q(2),
                    damaged: q(1),
                },
            ]
        );
        assert_eq!(
            closed.receipts,
            vec![(sku("TEE"), q(12)), (sku("MUG"), q(3)), (sku("CAP"), q(2))]
        );
        let bins: Vec<(&str, &str)> = closed
            .put_away
            .iter()
            .map(|p| (p.sku.as_str(), p.bin.as_str()))
            .collect();
        assert_eq!(
            bins,
            [("TEE", "A-01-01-A"), ("MUG", "RECV"), ("CAP", "RECV")]
        );
        assert_eq!(s.status(), InboundStatus::Closed);
    }

    #[test]
    fn a_closed_shipment_takes_no_more_units_and_cannot_close_again() {
        let mut s = asn();
        s.close(&HashMap::new(), &bin("RECV"), now()).unwrap();
        assert_eq!(
            s.receive(Uuid::from_u128(9), "TEE", 1, false),
            Err(ReceiveError::Closed)
        );
        assert_eq!(
            s.close(&HashMap::new(), &bin("RECV"), now()),
            Err(ReceiveError::Closed)
        );
    }

    #[test]
    fn the_closed_event_carries_receipts_and_discrepancies() {
        let mut s = asn();
        assert!(
            s.closed_event(&RequestContext::new(TenantId::new(), "u"), now())
                .is_none()
        );
        s.receive(Uuid::from_u128(1), "TEE", 10, false).unwrap();
        s.close(&HashMap::new(), &bin("RECV"), now()).unwrap();
        let ctx = RequestContext::new(TenantId::new(), "user:ana");
        let e = s.closed_event(&ctx, now()).unwrap();
        assert_eq!(e.event_type, "inbound.closed");
        assert_eq!(e.payload["reference"], "PO-1001");
        assert_eq!(e.payload["receipts"][0]["quantity"], 10);
        assert_eq!(e.payload["discrepancies"][0]["sku"], "MUG");
        assert_eq!(e.payload["discrepancies"][0]["under"], 5);
    }

    #[test]
    fn an_asn_needs_a_reference_lines_and_each_sku_once() {
        let w = WarehouseId::new();
        assert_eq!(
            InboundShipment::expect(" ", w, vec![(sku("A"), None, q(1))], now()),
            Err(ReceiveError::InvalidReference)
        );
        assert_eq!(
            InboundShipment::expect("PO", w, vec![], now()),
            Err(ReceiveError::NoLines)
        );
        assert_eq!(
            InboundShipment::expect(
                "PO",
                w,
                vec![(sku("A"), None, q(1)), (sku("A"), None, q(2))],
                now()
            ),
            Err(ReceiveError::DuplicateSku(sku("A")))
        );
    }
}
