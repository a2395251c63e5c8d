//! Moving stock between a tenant's warehouses: it leaves the source's on hand when shipped,
//! is `incoming` at the destination while in transit, and becomes on hand there on receipt.

use crate::stock::StockDelta;
use chrono::{DateTime, Utc};
use kernel::{Quantity, Sku, TenantId, TransferId, ValidationErrors, WarehouseId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    InTransit,
    Received,
}

impl TransferStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InTransit => "in_transit",
            Self::Received => "received",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in_transit" => Some(Self::InTransit),
            "received" => Some(Self::Received),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: TransferId,
    pub tenant_id: TenantId,
    pub from: WarehouseId,
    pub to: WarehouseId,
    pub status: TransferStatus,
    pub lines: Vec<TransferLine>,
    pub reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("transfer {0} was already received")]
    AlreadyReceived(TransferId),
}

/// A transfer as requested, with warehouses already resolved from their codes.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    pub from: WarehouseId,
    pub to: WarehouseId,
    pub lines: Vec<(String, i64)>,
    pub reference: Option<String>,
}

impl NewTransfer {
    pub fn validate(
        self,
        id: TransferId,
        tenant_id: TenantId,
        now: DateTime<Utc>,
    ) -> Result<Transfer, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.from == self.to {
            errors.add("to", "a transfer goes to a different warehouse");
        }
        if self.lines.is_empty() || self.lines.len() > 500 {
            errors.add("lines", "a transfer needs 1 to 500 lines");
        }
        let mut lines: Vec<TransferLine> = Vec::new();
        for (i, (sku, quantity)) in self.lines.into_iter().enumerate() {
            let sku = errors.check(format!("lines[{i}].sku"), Sku::parse(&sku));
            let quantity = crate::validate::positive_quantity(
                &mut errors,
                format!("lines[{i}].quantity"),
                quantity,
            );
            if let Some(sku) = &sku
                && lines.iter().any(|l| &l.sku == sku)
            {
                errors.add(format!("lines[{i}].sku"), format!("{sku} is listed twice"));
            }
            if let (Some(sku), Some(quantity)) = (sku, quantity) {
                lines.push(TransferLine { sku, quantity });
            }
        }
        errors.into_result()?;
        // Stock rows are always locked in SKU order.
        lines.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(Transfer {
            id,
            tenant_id,
            from: self.from,
            to: self.to,
            status: TransferStatus::InTransit,
            lines,
            reference: self.reference,
            created_at: now,
            received_at: None,
        })
    }
}

impl Transfer {
    /// What shipping it does: out of the source's on hand, into the destination's incoming.
    pub fn dispatch_deltas(&self) -> Vec<(WarehouseId, &Sku, StockDelta)> {
        self.lines
            .iter()
            .flat_map(|l| {
                let q = l.quantity.as_i64();
                [
                    (
                        self.from,
                        &l.sku,
                        StockDelta {
                            on_hand: -q,
                            ..Default::default()
                        },
                    ),
                    (
                        self.to,
                        &l.sku,
                        StockDelta {
                            incoming: q,
                            ..Default::default()
                        },
                    ),
                ]
            })
            .collect()
    }

    /// Receives it: incoming becomes on hand at the destination.
    pub fn receive(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(WarehouseId, &Sku, StockDelta)>, TransferError> {
        if self.status == TransferStatus::Received {
            return Err(TransferError::AlreadyReceived(self.id));
        }
        self.status = TransferStatus::Received;
        self.received_at = Some(now);
        Ok(self
            .lines
            .iter()
            .map(|l| {
                let q = l.quantity.as_i64();
                (
                    self.to,
                    &l.sku,
                    StockDelta {
                        on_hand: q,
                        reserved: 0,
                        incoming: -q,
                    },
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer() -> Transfer {
        NewTransfer {
            from: WarehouseId::new(),
            to: WarehouseId::new(),
            lines: vec![("B".into(), 2), ("A".into(), 3)],
            reference: None,
        }
        .validate(TransferId::new(), TenantId::new(), Utc::now())
        .unwrap()
    }

    #[test]
    fn dispatch_moves_on_hand_out_and_incoming_in_for_every_line_in_sku_order() {
        let t = transfer();
        let d = t.dispatch_deltas();
        assert_eq!(d.len(), 4);
        assert_eq!(d[0].1.as_str(), "A");
        assert_eq!((d[0].0, d[0].2.on_hand), (t.from, -3));
        assert_eq!((d[1].0, d[1].2.incoming), (t.to, 3));
    }

    #[test]
    fn receiving_turns_incoming_into_on_hand_once() {
        let mut t = transfer();
        let deltas: Vec<_> = t
            .receive(Utc::now())
            .unwrap()
            .into_iter()
            .map(|d| d.2)
            .collect();
        assert_eq!(
            deltas[0],
            StockDelta {
                on_hand: 3,
                reserved: 0,
                incoming: -3
            }
        );
        assert!(matches!(
            t.receive(Utc::now()),
            Err(TransferError::AlreadyReceived(_))
        ));
    }

    #[test]
    fn a_transfer_to_the_same_warehouse_is_refused() {
        let w = WarehouseId::new();
        let err = NewTransfer {
            from: w,
            to: w,
            lines: vec![("A".into(), 1)],
            reference: None,
        }
        .validate(TransferId::new(), TenantId::new(), Utc::now())
        .unwrap_err();
        assert_eq!(err.0[0].field, "to");
    }
}
