use crate::kit::{KitComponent, validate_components};
use chrono::{DateTime, Utc};
use kernel::{Money, ProductId, Sku, TenantId, ValidationErrors};
use serde::{Deserialize, Serialize};

/// Outer dimensions of one unit, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimensions {
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
}

/// A catalogue entry. Identity within a tenant is the SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub tenant_id: TenantId,
    pub sku: Sku,
    pub name: String,
    pub barcode: Option<String>,
    pub weight_grams: Option<u32>,
    pub dimensions: Option<Dimensions>,
    pub unit_cost: Option<Money>,
    pub hs_code: Option<String>,
    pub country_of_origin: Option<String>,
    /// Archived products stay in history but cannot be ordered or held.
    pub active: bool,
    /// Empty for a simple product; a kit's recipe otherwise (fixed once created).
    pub components: Vec<KitComponent>,
    /// Raise `inventory.low_stock` when total available falls to this or below.
    pub low_stock_threshold: Option<i64>,
    /// Supplier lead time, for reorder points.
    pub lead_time_days: Option<i64>,
    /// Weighted average cost of what is on hand, moved by receipts.
    pub average_cost: Option<Money>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    pub fn is_kit(&self) -> bool {
        !self.components.is_empty()
    }

    /// Applies a partial update, checking the result like a new product. SKU, kind and
    /// components never change: reservations and history refer to them.
    pub fn patched(
        &self,
        patch: ProductPatch,
        now: DateTime<Utc>,
    ) -> Result<Product, ValidationErrors> {
        let draft = NewProduct {
            sku: self.sku.to_string(),
            name: patch.name.unwrap_or_else(|| self.name.clone()),
            barcode: patch.barcode.unwrap_or_else(|| self.barcode.clone()),
            weight_grams: patch
                .weight_grams
                .unwrap_or_else(|| self.weight_grams.map(i64::from)),
            dimensions: patch.dimensions.unwrap_or_else(|| {
                self.dimensions.map(|d| {
                    (
                        i64::from(d.length_mm),
                        i64::from(d.width_mm),
                        i64::from(d.height_mm),
                    )
                })
            }),
            unit_cost: patch.unit_cost.unwrap_or_else(|| {
                self.unit_cost
                    .map(|m| (m.amount_minor, m.currency.to_string()))
            }),
            hs_code: patch.hs_code.unwrap_or_else(|| self.hs_code.clone()),
            country_of_origin: patch
                .country_of_origin
                .unwrap_or_else(|| self.country_of_origin.clone()),
            components: Vec::new(),
            low_stock_threshold: patch
                .low_stock_threshold
                .unwrap_or(self.low_stock_threshold),
            lead_time_days: patch.lead_time_days.unwrap_or(self.lead_time_days),
        };
        let mut next = draft.validate(self.id, self.tenant_id, self.created_at)?;
        next.components = self.components.clone();
        next.active = patch.active.unwrap_or(self.active);
        next.average_cost = self.average_cost;
        next.version = self.version + 1;
        next.updated_at = now;
        Ok(next)
    }
}

/// A partial update: `None` keeps a field; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub barcode: Option<Option<String>>,
    pub weight_grams: Option<Option<i64>>,
    pub dimensions: Option<Option<(i64, i64, i64)>>,
    pub unit_cost: Option<Option<(i64, String)>>,
    pub hs_code: Option<Option<String>>,
    pub country_of_origin: Option<Option<String>>,
    pub low_stock_threshold: Option<Option<i64>>,
    pub lead_time_days: Option<Option<i64>>,
    pub active: Option<bool>,
}

/// What a seller supplies to create a product, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub barcode: Option<String>,
    pub weight_grams: Option<i64>,
    pub dimensions: Option<(i64, i64, i64)>,
    pub unit_cost: Option<(i64, String)>,
    pub hs_code: Option<String>,
    pub country_of_origin: Option<String>,
    /// `(sku, quantity)` per component: non-empty makes the product a kit.
    pub components: Vec<(String, i64)>,
    pub low_stock_threshold: Option<i64>,
    pub lead_time_days: Option<i64>,
}

const MAX_NAME: usize = 200;
const MAX_WEIGHT_GRAMS: i64 = 1_000_000; // one tonne: beyond parcel fulfilment
const MAX_DIMENSION_MM: i64 = 10_000;

impl NewProduct {
    /// Checks every field and reports every problem at once.
    pub fn validate(
        self,
        id: ProductId,
        tenant_id: TenantId,
        now: DateTime<Utc>,
    ) -> Result<Product, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let sku = errors.check("sku", Sku::parse(&self.sku));
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            errors.add("name", "name must not be empty");
        } else if name.chars().count() > MAX_NAME {
            errors.add(
                "name",
                format!("name must be at most {MAX_NAME} characters"),
            );
        }
        let barcode = self
            .barcode
            .and_then(|b| errors.check("barcode", parse_gtin(&b)));
        let weight_grams = self.weight_grams.and_then(|w| {
            errors.check(
                "weight_grams",
                in_range(w, 1, MAX_WEIGHT_GRAMS, "weight_grams"),
            )
        });
        let dimensions = self.dimensions.and_then(|(l, w, h)| {
            let l = errors.check(
                "dimensions.length_mm",
                in_range(l, 1, MAX_DIMENSION_MM, "length_mm"),
            );
            let w = errors.check(
                "dimensions.width_mm",
                in_range(w, 1, MAX_DIMENSION_MM, "width_mm"),
            );
            let h = errors.check(
                "dimensions.height_mm",
                in_range(h, 1, MAX_DIMENSION_MM, "height_mm"),
            );
            Some(Dimensions {
                length_mm: l?,
                width_mm: w?,
                height_mm: h?,
            })
        });
        let unit_cost = self.unit_cost.and_then(|(amount, currency)| {
            let currency = errors.check("unit_cost.currency", kernel::Currency::parse(&currency));
            if amount < 0 {
                errors.add("unit_cost.amount_minor", "unit cost must not be negative");
                return None;
            }
            Some(Money::new(amount, currency?))
        });
        let hs_code = self.hs_code.and_then(|code| {
            let digits: String = code.chars().filter(|c| *c != '.').collect();
            if (6..=10).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
                Some(digits)
            } else {
                errors.add("hs_code", "HS code must be 6 to 10 digits");
                None
            }
        });
        let country_of_origin = self.country_of_origin.and_then(|c| {
            let c = c.trim().to_ascii_uppercase();
            if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                Some(c)
            } else {
                errors.add(
                    "country_of_origin",
                    "country must be a two-letter ISO 3166-1 code such as US",
                );
                None
            }
        });
        let components = if self.components.is_empty() {
            Vec::new()
        } else {
            match validate_components(sku.as_ref(), self.components) {
                Ok(c) => c,
                Err(e) => {
                    errors.0.extend(e.0);
                    Vec::new()
                }
            }
        };
        if self
            .low_stock_threshold
            .is_some_and(|t| !(0..=i64::from(kernel::Quantity::MAX)).contains(&t))
        {
            errors.add(
                "low_stock_threshold",
                "low_stock_threshold must be 0 or more",
            );
        }
        if self.lead_time_days.is_some_and(|d| !(0..=365).contains(&d)) {
            errors.add("lead_time_days", "lead_time_days must be between 0 and 365");
        }
        errors.into_result()?;
        Ok(Product {
            id,
            tenant_id,
            active: true,
            components,
            low_stock_threshold: self.low_stock_threshold,
            lead_time_days: self.lead_time_days,
            average_cost: None,
            updated_at: now,
            sku: sku.expect("checked above"),
            name,
            barcode,
            weight_grams,
            dimensions,
            unit_cost,
            hs_code,
            country_of_origin,
            version: 1,
            created_at: now,
        })
    }
}

fn in_range(value: i64, min: i64, max: i64, what: &str) -> Result<u32, String> {
    if (min..=max).contains(&value) {
        Ok(value as u32)
    } else {
        Err(format!("{what} must be between {min} and {max}"))
    }
}

/// Accepts a GTIN-8, UPC-A (12), EAN-13 or GTIN-14 with a correct check digit.
pub fn parse_gtin(raw: &str) -> Result<String, String> {
    let code = raw.trim();
    if !matches!(code.len(), 8 | 12 | 13 | 14) || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err("barcode must be a GTIN of 8, 12, 13 or 14 digits".into());
    }
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    let (body, check) = digits.split_at(digits.len() - 1);
    // Weights alternate 3,1,3,... starting from the digit next to the check digit.
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    let expected = (10 - sum % 10) % 10;
    if expected == check[0] {
        Ok(code.to_owned())
    } else {
        Err(format!(
            "barcode check digit is wrong (expected {expected}): check for a typo"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> NewProduct {
        NewProduct {
            sku: "TEE-BLUE-M".into(),
            name: "Blue tee, M".into(),
            ..Default::default()
        }
    }

    fn validate(p: NewProduct) -> Result<Product, ValidationErrors> {
        p.validate(ProductId::new(), TenantId::new(), Utc::now())
    }

    #[test]
    fn a_minimal_product_is_valid() {
        let p = validate(draft()).unwrap();
        assert_eq!(p.sku.as_str(), "TEE-BLUE-M");
        assert_eq!(p.version, 1);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let errors = validate(NewProduct {
            sku: "bad sku".into(),
            name: " ".into(),
            weight_grams: Some(-5),
            ..draft()
        })
        .unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["sku", "name", "weight_grams"]);
    }

    #[test]
    fn real_gtins_are_accepted_and_a_typo_is_caught() {
        assert!(parse_gtin("4006381333931").is_ok()); // EAN-13
        assert!(parse_gtin("036000291452").is_ok()); // UPC-A
        assert!(parse_gtin("96385074").is_ok()); // GTIN-8
        assert!(parse_gtin("4006381333932").is_err());
        assert!(parse_gtin("ABC").is_err());
    }

    #[test]
    fn country_is_normalised_to_upper_case() {
        let p = validate(NewProduct {
            country_of_origin: Some("de".into()),
            hs_code: Some("6109.10".into()),
            ..draft()
        })
        .unwrap();
        assert_eq!(p.country_of_origin.as_deref(), Some("DE"));
        assert_eq!(p.hs_code.as_deref(), Some("610910"));
    }
}
