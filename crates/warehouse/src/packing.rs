//! Packing: choose a box from the tenant's catalogue, verify every unit by scan, weigh, finish.

use chrono::{DateTime, Utc};
use kernel::{Money, OrderId, Quantity, Sku};
use std::collections::HashMap;
use uuid::Uuid;

/// A box in the tenant's catalogue, by its inner dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxType {
    pub code: String,
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
    pub max_weight_g: u32,
    pub cost: Money,
}

impl BoxType {
    pub fn volume_mm3(&self) -> u64 {
        volume(self.length_mm, self.width_mm, self.height_mm)
    }

    fn sorted_dims(&self) -> [u32; 3] {
        sorted([self.length_mm, self.width_mm, self.height_mm])
    }
}

/// One product going in the box: its dimensions and weight per unit, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemDims {
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
    pub weight_g: u32,
    pub qty: u32,
}

/// The smallest box (by inner volume) that holds the items' total volume and weight and in
/// which every item fits when both are turned longest side to longest side. Ties go to the
/// cheaper box, then to the lower code. `None` when no box will do.
///
/// Volume is a lower bound, not a packing proof: the packer may still step up a size.
pub fn choose_box(items: &[ItemDims], boxes: &[BoxType]) -> Option<BoxType> {
    let total_volume: u64 = items
        .iter()
        .map(|i| volume(i.length_mm, i.width_mm, i.height_mm) * u64::from(i.qty))
        .sum();
    let total_weight: u64 = items
        .iter()
        .map(|i| u64::from(i.weight_g) * u64::from(i.qty))
        .sum();
    boxes
        .iter()
        .filter(|b| b.volume_mm3() >= total_volume && u64::from(b.max_weight_g) >= total_weight)
        .filter(|b| {
            let inner = b.sorted_dims();
            items.iter().filter(|i| i.qty > 0).all(|i| {
                let dims = sorted([i.length_mm, i.width_mm, i.height_mm]);
                dims.iter().zip(inner).all(|(d, b)| *d <= b)
            })
        })
        .min_by(|a, b| {
            a.volume_mm3()
                .cmp(&b.volume_mm3())
                .then_with(|| a.cost.amount_minor.cmp(&b.cost.amount_minor))
                .then_with(|| a.code.cmp(&b.code))
        })
        .cloned()
}

fn volume(l: u32, w: u32, h: u32) -> u64 {
    u64::from(l) * u64::from(w) * u64::from(h)
}

fn sorted(mut dims: [u32; 3]) -> [u32; 3] {
    dims.sort_unstable();
    dims
}

/// One SKU the order needs packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackItem {
    pub sku: Sku,
    pub barcode: Option<String>,
    pub expected: Quantity,
    pub scanned: Quantity,
}

impl PackItem {
    pub fn remaining(&self) -> Quantity {
        self.expected.saturating_sub(self.scanned)
    }

    fn matches(&self, scanned: &str) -> bool {
        let scanned = scanned.trim();
        self.sku.as_str().eq_ignore_ascii_case(scanned)
            || self
                .barcode
                .as_deref()
                .is_some_and(|b| b.eq_ignore_ascii_case(scanned))
    }
}

/// What a pack scan left to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackProgress {
    pub sku: Sku,
    /// Units of this SKU still to scan.
    pub remaining: Quantity,
    /// Units of the whole order still to scan.
    pub remaining_total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackStatus {
    Open,
    Packed,
}

impl PackStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Packed => "packed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "open" => Some(Self::Open),
            "packed" => Some(Self::Packed),
            _ => None,
        }
    }
}

/// Every message is written for a packing-station screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("wrong item: {0} is not in this order")]
    WrongItem(String),
    #[error("too many: only {remaining} more of {sku} go in this box")]
    TooMany { sku: Sku, remaining: Quantity },
    #[error("scan at least one unit")]
    ZeroQuantity,
    #[error("a parcel must weigh more than 0 g")]
    ZeroWeight,
    #[error("{remaining} units still to scan")]
    NotAllScanned { remaining: u64 },
    #[error("choose a box first")]
    NoBox,
    #[error("weigh the parcel first")]
    NoWeight,
    #[error("this order is already packed")]
    AlreadyPacked,
}

/// Packing one order at one station.
#[derive(Debug, Clone, PartialEq)]
pub struct PackSession {
    id: Uuid,
    order_id: OrderId,
    status: PackStatus,
    items: Vec<PackItem>,
    scans: HashMap<Uuid, PackProgress>,
    box_code: Option<String>,
    weight_g: Option<u32>,
    version: i64,
    packed_at: Option<DateTime<Utc>>,
}

impl PackSession {
    /// A session expecting `(sku, gtin, units)`; one SKU listed twice is expected once, summed.
    pub fn open(order_id: OrderId, expected: Vec<(Sku, Option<String>, Quantity)>) -> Self {
        let mut items: Vec<PackItem> = Vec::new();
        let mut index: HashMap<Sku, usize> = HashMap::new();
        for (sku, barcode, quantity) in expected {
            match index.get(&sku) {
                Some(&i) => items[i].expected = items[i].expected.saturating_add(quantity),
                None => {
                    index.insert(sku.clone(), items.len());
                    items.push(PackItem {
                        sku,
                        barcode,
                        expected: quantity,
                        scanned: Quantity::ZERO,
                    });
                }
            }
        }
        Self {
            id: Uuid::now_v7(),
            order_id,
            status: PackStatus::Open,
            items,
            scans: HashMap::new(),
            box_code: None,
            weight_g: None,
            version: 1,
            packed_at: None,
        }
    }

    /// Rebuilds a stored session (for adapters).
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        id: Uuid,
        order_id: OrderId,
        status: PackStatus,
        items: Vec<PackItem>,
        scans: Vec<(Uuid, PackProgress)>,
        box_code: Option<String>,
        weight_g: Option<u32>,
        version: i64,
        packed_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            id,
            order_id,
            status,
            items,
            scans: scans.into_iter().collect(),
            box_code,
            weight_g,
            version,
            packed_at,
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn order_id(&self) -> OrderId {
        self.order_id
    }
    pub fn status(&self) -> PackStatus {
        self.status
    }
    pub fn items(&self) -> &[PackItem] {
        &self.items
    }
    /// Applied scans with what each answered, for storage.
    pub fn scans(&self) -> impl Iterator<Item = (&Uuid, &PackProgress)> {
        self.scans.iter()
    }
    pub fn box_code(&self) -> Option<&str> {
        self.box_code.as_deref()
    }
    pub fn weight_g(&self) -> Option<u32> {
        self.weight_g
    }
    pub fn version(&self) -> i64 {
        self.version
    }
    pub fn packed_at(&self) -> Option<DateTime<Utc>> {
        self.packed_at
    }

    pub fn remaining_total(&self) -> u64 {
        self.items
            .iter()
            .map(|i| u64::from(i.remaining().get()))
            .sum()
    }

    /// Verifies units by their SKU or GTIN. A replayed `scan_id` answers as it did the first
    /// time and changes nothing; a wrong scan changes nothing.
    pub fn scan(
        &mut self,
        scan_id: Uuid,
        barcode: &str,
        qty: u32,
    ) -> Result<PackProgress, PackError> {
        if let Some(progress) = self.scans.get(&scan_id) {
            return Ok(progress.clone());
        }
        self.ensure_open()?;
        if qty == 0 {
            return Err(PackError::ZeroQuantity);
        }
        let item = self
            .items
            .iter_mut()
            .find(|i| i.matches(barcode))
            .ok_or_else(|| PackError::WrongItem(barcode.trim().to_owned()))?;
        let remaining = item.remaining();
        if qty > remaining.get() {
            return Err(PackError::TooMany {
                sku: item.sku.clone(),
                remaining,
            });
        }
        item.scanned = item
            .scanned
            .saturating_add(Quantity::new(i64::from(qty)).unwrap_or_default());
        let (sku, remaining) = (item.sku.clone(), item.remaining());
        self.version += 1;
        let progress = PackProgress {
            sku,
            remaining,
            remaining_total: self.remaining_total(),
        };
        self.scans.insert(scan_id, progress.clone());
        Ok(progress)
    }

    /// Records the box used (the packer may overrule [`choose_box`]).
    pub fn use_box(&mut self, box_type: &BoxType) -> Result<(), PackError> {
        self.ensure_open()?;
        self.box_code = Some(box_type.code.clone());
        self.version += 1;
        Ok(())
    }

    /// Records the parcel's weight from the scale; a later weighing replaces it.
    pub fn record_weight(&mut self, grams: u32) -> Result<(), PackError> {
        self.ensure_open()?;
        if grams == 0 {
            return Err(PackError::ZeroWeight);
        }
        self.weight_g = Some(grams);
        self.version += 1;
        Ok(())
    }

    /// Closes the session once every unit is scanned and a box and weight are recorded.
    pub fn finish(&mut self, now: DateTime<Utc>) -> Result<(), PackError> {
        self.ensure_open()?;
        let remaining = self.remaining_total();
        if remaining > 0 {
            return Err(PackError::NotAllScanned { remaining });
        }
        if self.box_code.is_none() {
            return Err(PackError::NoBox);
        }
        if self.weight_g.is_none() {
            return Err(PackError::NoWeight);
        }
        self.status = PackStatus::Packed;
        self.packed_at = Some(now);
        self.version += 1;
        Ok(())
    }

    fn ensure_open(&self) -> Result<(), PackError> {
        match self.status {
            PackStatus::Open => Ok(()),
            PackStatus::Packed => Err(PackError::AlreadyPacked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Currency;

    fn usd(cents: i64) -> Money {
        Money::new(cents, Currency::parse("USD").unwrap())
    }

    fn boxed(code: &str, l: u32, w: u32, h: u32, max_g: u32, cents: i64) -> BoxType {
        BoxType {
            code: code.into(),
            length_mm: l,
            width_mm: w,
            height_mm: h,
            max_weight_g: max_g,
            cost: usd(cents),
        }
    }

    fn item(l: u32, w: u32, h: u32, weight_g: u32, qty: u32) -> ItemDims {
        ItemDims {
            length_mm: l,
            width_mm: w,
            height_mm: h,
            weight_g,
            qty,
        }
    }

    fn catalogue() -> Vec<BoxType> {
        vec![
            boxed("L", 400, 300, 300, 20_000, 150),
            boxed("S", 200, 150, 100, 2_000, 50),
            boxed("M", 300, 200, 150, 5_000, 90),
        ]
    }

    fn code(b: Option<BoxType>) -> Option<String> {
        b.map(|b| b.code)
    }

    #[test]
    fn the_smallest_box_that_holds_the_volume_is_chosen() {
        // 4 × 100×100×50 = 2,000,000 mm³: S holds 3,000,000.
        assert_eq!(
            code(choose_box(&[item(100, 100, 50, 100, 4)], &catalogue())),
            Some("S".into())
        );
    }

    #[test]
    fn a_box_too_weak_for_the_weight_is_passed_over() {
        assert_eq!(
            code(choose_box(&[item(100, 100, 50, 600, 4)], &catalogue())),
            Some("M".into())
        );
    }

    #[test]
    fn an_item_longer_than_the_box_is_passed_over_even_when_the_volume_fits() {
        // 250 mm long: too long for S (200) whichever way it is turned.
        assert_eq!(
            code(choose_box(&[item(20, 250, 20, 50, 1)], &catalogue())),
            Some("M".into())
        );
    }

    #[test]
    fn an_item_turned_on_its_side_fits() {
        assert_eq!(
            code(choose_box(&[item(90, 140, 190, 50, 1)], &catalogue())),
            Some("S".into())
        );
    }

    #[test]
    fn ties_in_volume_go_to_the_cheaper_box_then_the_lower_code() {
        let boxes = [
            boxed("B", 100, 100, 100, 1_000, 40),
            boxed("A", 100, 100, 100, 1_000, 60),
            boxed("C", 100, 100, 100, 1_000, 40),
        ];
        assert_eq!(
            code(choose_box(&[item(10, 10, 10, 1, 1)], &boxes)),
            Some("B".into())
        );
    }

    #[test]
    fn no_box_is_chosen_when_none_will_do() {
        assert_eq!(choose_box(&[item(500, 10, 10, 1, 1)], &catalogue()), None);
    }

    fn session() -> PackSession {
        PackSession::open(
            OrderId::from_uuid(Uuid::from_u128(1)),
            vec![
                (
                    Sku::parse("TEE").unwrap(),
                    Some("0123".into()),
                    Quantity::new(2).unwrap(),
                ),
                (Sku::parse("MUG").unwrap(), None, Quantity::new(1).unwrap()),
            ],
        )
    }

    fn now() -> DateTime<Utc> {
        "2025-03-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn each_scan_says_what_is_left_of_the_item_and_of_the_order() {
        let mut s = session();
        let p = s.scan(Uuid::from_u128(1), "0123", 1).unwrap();
        assert_eq!(
            (p.sku.as_str(), p.remaining.get(), p.remaining_total),
            ("TEE", 1, 2)
        );
    }

    #[test]
    fn a_replayed_pack_scan_applies_nothing() {
        let mut s = session();
        let first = s.scan(Uuid::from_u128(1), "TEE", 2).unwrap();
        assert_eq!(s.scan(Uuid::from_u128(1), "TEE", 2).unwrap(), first);
        assert_eq!(s.remaining_total(), 1);
    }

    #[test]
    fn a_wrong_item_or_too_many_is_refused_with_a_clear_message() {
        let mut s = session();
        let wrong = s.scan(Uuid::from_u128(1), "CAP", 1).unwrap_err();
        assert_eq!(wrong.to_string(), "wrong item: CAP is not in this order");
        let many = s.scan(Uuid::from_u128(2), "MUG", 2).unwrap_err();
        assert_eq!(
            many.to_string(),
            "too many: only 1 more of MUG go in this box"
        );
        assert_eq!(s.remaining_total(), 3);
    }

    #[test]
    fn finishing_needs_every_unit_a_box_and_a_weight() {
        let mut s = session();
        s.scan(Uuid::from_u128(1), "TEE", 2).unwrap();
        assert_eq!(
            s.finish(now()),
            Err(PackError::NotAllScanned { remaining: 1 })
        );
        s.scan(Uuid::from_u128(2), "mug", 1).unwrap();
        assert_eq!(s.finish(now()), Err(PackError::NoBox));
        s.use_box(&catalogue()[1]).unwrap();
        assert_eq!(s.finish(now()), Err(PackError::NoWeight));
        assert_eq!(s.record_weight(0), Err(PackError::ZeroWeight));
        s.record_weight(640).unwrap();
        s.finish(now()).unwrap();
        assert_eq!(s.status(), PackStatus::Packed);
        assert_eq!((s.box_code(), s.weight_g()), (Some("S"), Some(640)));
        assert_eq!(s.finish(now()), Err(PackError::AlreadyPacked));
    }

    #[test]
    fn one_sku_listed_twice_is_expected_once_summed() {
        let tee = Sku::parse("TEE").unwrap();
        let s = PackSession::open(
            OrderId::new(),
            vec![
                (tee.clone(), None, Quantity::new(1).unwrap()),
                (tee, None, Quantity::new(2).unwrap()),
            ],
        );
        assert_eq!(s.items().len(), 1);
        assert_eq!(s.remaining_total(), 3);
    }

    #[test]
    fn pack_statuses_round_trip_through_their_stored_names() {
        for st in [PackStatus::Open, PackStatus::Packed] {
            assert_eq!(PackStatus::parse(st.as_str()), Some(st));
        }
    }
}
