//! Kits (bundles): a SKU with no stock of its own, made of components × quantities.
//! Its availability is derived from its components, and reserving it reserves them.

use kernel::{Quantity, Sku, ValidationErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitComponent {
    pub sku: Sku,
    /// Units of the component in one kit.
    pub quantity: Quantity,
}

/// A kit is picked as one parcel item; beyond this it is a different problem (assembly).
pub const MAX_COMPONENTS: usize = 50;

/// Checks a kit's component list: at least one, no duplicates, not itself, quantities ≥ 1.
/// Components are returned in SKU order, the order their stock is always locked in.
pub fn validate_components(
    kit_sku: Option<&Sku>,
    raw: Vec<(String, i64)>,
) -> Result<Vec<KitComponent>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if raw.is_empty() {
        errors.add("components", "a kit needs at least one component");
    }
    if raw.len() > MAX_COMPONENTS {
        errors.add(
            "components",
            format!("a kit may have at most {MAX_COMPONENTS} components"),
        );
    }
    let mut components: Vec<KitComponent> = Vec::with_capacity(raw.len());
    for (i, (sku, quantity)) in raw.into_iter().enumerate() {
        let sku = errors.check(format!("components[{i}].sku"), Sku::parse(&sku));
        let quantity = crate::validate::positive_quantity(
            &mut errors,
            format!("components[{i}].quantity"),
            quantity,
        );
        if let Some(sku) = &sku {
            if Some(sku) == kit_sku {
                errors.add(
                    format!("components[{i}].sku"),
                    "a kit cannot contain itself",
                );
            }
            if components.iter().any(|c| &c.sku == sku) {
                errors.add(
                    format!("components[{i}].sku"),
                    format!("{sku} is listed twice; give it once with the total quantity"),
                );
            }
        }
        if let (Some(sku), Some(quantity)) = (sku, quantity) {
            components.push(KitComponent { sku, quantity });
        }
    }
    errors.into_result()?;
    components.sort_by(|a, b| a.sku.cmp(&b.sku));
    Ok(components)
}

/// How many whole kits the given component availability makes.
/// `available(sku)` answers for one component; a component it does not know counts as zero.
pub fn kits_available(components: &[KitComponent], available: impl Fn(&Sku) -> i64) -> i64 {
    components
        .iter()
        .map(|c| available(&c.sku).max(0) / c.quantity.as_i64().max(1))
        .min()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    #[test]
    fn components_are_sorted_and_checked() {
        let c =
            validate_components(Some(&sku("KIT")), vec![("B".into(), 2), ("A".into(), 1)]).unwrap();
        assert_eq!(c[0].sku, sku("A"));
        assert_eq!(c[1].quantity.get(), 2);
    }

    #[test]
    fn self_reference_duplicates_and_zero_quantities_are_refused() {
        let err = validate_components(
            Some(&sku("KIT")),
            vec![
                ("KIT".into(), 1),
                ("A".into(), 0),
                ("B".into(), 1),
                ("B".into(), 1),
            ],
        )
        .unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "components[0].sku",
                "components[1].quantity",
                "components[3].sku"
            ]
        );
        assert!(validate_components(None, vec![]).is_err());
    }

    #[test]
    fn a_kit_is_as_available_as_its_scarcest_component() {
        let c = vec![
            KitComponent {
                sku: sku("A"),
                quantity: Quantity::new(2).unwrap(),
            },
            KitComponent {
                sku: sku("B"),
                quantity: Quantity::new(3).unwrap(),
            },
        ];
        // A: 9 / 2 = 4 kits; B: 10 / 3 = 3 kits → 3.
        let avail = |s: &Sku| if s.as_str() == "A" { 9 } else { 10 };
        assert_eq!(kits_available(&c, avail), 3);
        assert_eq!(kits_available(&c, |_| -5), 0);
    }
}
