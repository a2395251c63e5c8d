use crate::stock::StockDelta;
use chrono::{DateTime, Utc};
use kernel::{MovementId, Sku, TenantId, WarehouseId};
use serde::{Deserialize, Serialize};

/// Why stock moved. Stored as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Receipt,
    Adjustment,
    Reservation,
    Release,
    Pick,
    Ship,
    Return,
    Transfer,
    Count,
}

impl MovementKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Adjustment => "adjustment",
            Self::Reservation => "reservation",
            Self::Release => "release",
            Self::Pick => "pick",
            Self::Ship => "ship",
            Self::Return => "return",
            Self::Transfer => "transfer",
            Self::Count => "count",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "receipt" => Self::Receipt,
            "adjustment" => Self::Adjustment,
            "reservation" => Self::Reservation,
            "release" => Self::Release,
            "pick" => Self::Pick,
            "ship" => Self::Ship,
            "return" => Self::Return,
            "transfer" => Self::Transfer,
            "count" => Self::Count,
            _ => return None,
        })
    }
}

/// One immutable ledger entry. Stock levels are the running sum of these deltas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMovement {
    pub id: MovementId,
    pub tenant_id: TenantId,
    pub warehouse_id: WarehouseId,
    pub sku: Sku,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub incoming_delta: i64,
    pub reason: Option<String>,
    /// What caused it, e.g. `order:<id>`.
    pub reference: Option<String>,
    /// Who caused it, e.g. `api_key:<id>`.
    pub actor: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl StockMovement {
    pub fn delta(&self) -> StockDelta {
        StockDelta {
            on_hand: self.on_hand_delta,
            reserved: self.reserved_delta,
            incoming: self.incoming_delta,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        use MovementKind::*;
        for kind in [
            Receipt,
            Adjustment,
            Reservation,
            Release,
            Pick,
            Ship,
            Return,
            Transfer,
            Count,
        ] {
            assert_eq!(MovementKind::parse(kind.as_str()), Some(kind));
        }
    }
}
