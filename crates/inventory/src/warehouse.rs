use chrono::{DateTime, Utc};
use kernel::{Address, TenantId, ValidationErrors, WarehouseId};
use serde::{Deserialize, Serialize};

/// A place that holds stock. Orders are allocated from warehouses in `priority` order
/// (lowest first); the default one takes stock changes that name no warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warehouse {
    pub id: WarehouseId,
    pub tenant_id: TenantId,
    pub code: String,
    pub name: String,
    pub address: Option<Address>,
    pub priority: i32,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    /// Daily cut-off, minutes after midnight UTC: orders routed here after it leave the next
    /// working day.
    pub cutoff_minute: i32,
}

/// What a seller supplies to open a warehouse.
#[derive(Debug, Clone, Default)]
pub struct NewWarehouse {
    pub code: String,
    pub name: String,
    pub address: Option<Address>,
    pub priority: Option<i32>,
    /// `HH:MM` UTC; 15:00 if not given.
    pub cutoff: Option<String>,
}

/// The cut-off a warehouse gets when none is given: 15:00 UTC.
pub const DEFAULT_CUTOFF_MINUTE: i32 = 15 * 60;

/// Parses a cut-off `HH:MM` (24-hour, UTC) into minutes after midnight.
pub fn parse_cutoff(raw: &str) -> Result<i32, String> {
    let bad = || format!("cutoff must be a time of day as HH:MM (UTC), not {raw:?}");
    let (h, m) = raw.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..24).contains(&h) || !(0..60).contains(&m) || raw.trim().len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Shows minutes after midnight as `HH:MM`.
pub fn format_cutoff(minute: i32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The code signup gives a tenant's first warehouse.
pub const DEFAULT_WAREHOUSE_CODE: &str = "MAIN";
const MAX_CODE: usize = 20;
const MAX_NAME: usize = 200;

/// Upper-cases a warehouse code and checks it: 1–20 of `A-Z 0-9 - _`.
pub fn parse_warehouse_code(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty() || code.len() > MAX_CODE {
        return Err(format!("code must be 1 to {MAX_CODE} characters"));
    }
    if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("code may contain only letters, digits, '-' and '_'".into());
    }
    Ok(code)
}

impl NewWarehouse {
    pub fn validate(
        self,
        id: WarehouseId,
        tenant_id: TenantId,
        is_default: bool,
        now: DateTime<Utc>,
    ) -> Result<Warehouse, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let code = errors.check("code", parse_warehouse_code(&self.code));
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            errors.add("name", format!("name must be 1 to {MAX_NAME} characters"));
        }
        let address = self.address.map(|a| a.normalise("address", &mut errors));
        let priority = self.priority.unwrap_or(100);
        if !(0..=10_000).contains(&priority) {
            errors.add("priority", "priority must be between 0 and 10000");
        }
        let cutoff = match self.cutoff {
            Some(raw) => errors.check("cutoff", parse_cutoff(&raw)),
            None => Some(DEFAULT_CUTOFF_MINUTE),
        };
        errors.into_result()?;
        Ok(Warehouse {
            id,
            tenant_id,
            code: code.unwrap_or_default(),
            name,
            address,
            priority,
            is_default,
            created_at: now,
            cutoff_minute: cutoff.unwrap_or(DEFAULT_CUTOFF_MINUTE),
        })
    }

    /// The warehouse every tenant starts with.
    pub fn default_for_signup() -> Self {
        Self {
            code: DEFAULT_WAREHOUSE_CODE.into(),
            name: "Main warehouse".into(),
            address: None,
            priority: Some(0),
            cutoff: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_offs_are_times_of_day() {
        assert_eq!(parse_cutoff("14:30"), Ok(870));
        assert_eq!(format_cutoff(870), "14:30");
        for bad in ["24:00", "9:00", "12:60", "noon", "", "12:00:00"] {
            assert!(parse_cutoff(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_are_upper_cased_and_checked() {
        assert_eq!(parse_warehouse_code(" east-1 ").unwrap(), "EAST-1");
        assert!(parse_warehouse_code("").is_err());
        assert!(parse_warehouse_code("with space").is_err());
        assert!(parse_warehouse_code(&"X".repeat(21)).is_err());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = NewWarehouse {
            code: "bad code".into(),
            name: " ".into(),
            address: None,
            priority: Some(-1),
            cutoff: Some("25:00".into()),
        }
        .validate(WarehouseId::new(), TenantId::new(), false, Utc::now())
        .unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["code", "name", "priority", "cutoff"]);
    }
}
