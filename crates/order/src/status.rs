use serde::{Deserialize, Serialize};

/// Where an order is in its life. Stored and shown as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Allocated,
    PartiallyAllocated,
    Backordered,
    OnHold,
    Picking,
    Packed,
    PartiallyShipped,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 11] = [
        Self::Pending,
        Self::Allocated,
        Self::PartiallyAllocated,
        Self::Backordered,
        Self::OnHold,
        Self::Picking,
        Self::Packed,
        Self::PartiallyShipped,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Allocated => "allocated",
            Self::PartiallyAllocated => "partially_allocated",
            Self::Backordered => "backordered",
            Self::OnHold => "on_hold",
            Self::Picking => "picking",
            Self::Packed => "packed",
            Self::PartiallyShipped => "partially_shipped",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// The one table of legal transitions. Everything not listed is illegal.
    ///
    /// Allocation statuses move among themselves when stock arrives or an edit re-plans the
    /// order; shipping may start from any allocated status (a seller who packs at the desk
    /// skips picking); cancelling is possible until the first parcel leaves.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (
                Pending,
                Allocated | PartiallyAllocated | Backordered | OnHold | Cancelled
            ) | (
                Backordered,
                Allocated | PartiallyAllocated | OnHold | Cancelled
            ) | (
                PartiallyAllocated,
                Allocated | Backordered | OnHold | Picking | PartiallyShipped | Cancelled
            ) | (
                Allocated,
                PartiallyAllocated
                    | Backordered
                    | OnHold
                    | Picking
                    | PartiallyShipped
                    | Shipped
                    | Cancelled
            ) | (
                OnHold,
                Pending | Allocated | PartiallyAllocated | Backordered | Cancelled
            ) | (
                Picking,
                Packed | PartiallyShipped | Shipped | Allocated | Backordered | Cancelled
            ) | (Packed, PartiallyShipped | Shipped | Cancelled)
                | (PartiallyShipped, Picking | Shipped)
                | (Shipped, Delivered)
        )
    }

    /// Before picking starts, the order can still be edited.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            Self::Pending
                | Self::Backordered
                | Self::PartiallyAllocated
                | Self::Allocated
                | Self::OnHold
        )
    }

    /// Once here, nothing more happens to the order.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::{self, *};

    #[test]
    fn every_status_round_trips_through_its_name() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OrderStatus::parse("lost"), None);
    }

    /// The whole matrix: each legal pair is listed once; every other pair must be refused.
    #[test]
    fn exactly_the_listed_transitions_are_legal() {
        let legal = [
            (Pending, Allocated),
            (Pending, PartiallyAllocated),
            (Pending, Backordered),
            (Pending, OnHold),
            (Pending, Cancelled),
            (Backordered, Allocated),
            (Backordered, PartiallyAllocated),
            (Backordered, OnHold),
            (Backordered, Cancelled),
            (PartiallyAllocated, Allocated),
            (PartiallyAllocated, Backordered),
            (PartiallyAllocated, OnHold),
            (PartiallyAllocated, Picking),
            (PartiallyAllocated, PartiallyShipped),
            (PartiallyAllocated, Cancelled),
            (Allocated, PartiallyAllocated),
            (Allocated, Backordered),
            (Allocated, OnHold),
            (Allocated, Picking),
            (Allocated, PartiallyShipped),
            (Allocated, Shipped),
            (Allocated, Cancelled),
            (OnHold, Pending),
            (OnHold, Allocated),
            (OnHold, PartiallyAllocated),
            (OnHold, Backordered),
            (OnHold, Cancelled),
            (Picking, Packed),
            (Picking, PartiallyShipped),
            (Picking, Shipped),
            (Picking, Allocated),
            (Picking, Backordered),
            (Picking, Cancelled),
            (Packed, PartiallyShipped),
            (Packed, Shipped),
            (Packed, Cancelled),
            (PartiallyShipped, Picking),
            (PartiallyShipped, Shipped),
            (Shipped, Delivered),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    legal.contains(&(from, to)),
                    "{} -> {}",
                    from.as_str(),
                    to.as_str()
                );
            }
        }
    }

    #[test]
    fn final_statuses_lead_nowhere() {
        for status in OrderStatus::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(
                OrderStatus::ALL
                    .into_iter()
                    .all(|to| !status.can_become(to))
            );
        }
    }
}
