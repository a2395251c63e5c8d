use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7), so ids sort by creation time.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
            pub const fn into_uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

uuid_id!(
    /// A seller: every row, event and request belongs to exactly one.
    TenantId
);
uuid_id!(OrderId);
uuid_id!(ProductId);
uuid_id!(MovementId);
uuid_id!(EventId);
uuid_id!(ApiKeyId);
uuid_id!(WarehouseId);
uuid_id!(
    /// A storefront's short-lived hold on stock during checkout.
    HoldId
);
uuid_id!(TransferId);
uuid_id!(
    /// One parcel (or pallet) leaving a warehouse for an order.
    ShipmentId
);
uuid_id!(
    /// A return authorisation (RMA).
    ReturnId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_created_later_sort_after_earlier_ones() {
        let first = OrderId::new();
        let second = OrderId::new();
        assert!(first < second);
    }

    #[test]
    fn an_id_round_trips_through_its_text_form() {
        let id = TenantId::new();
        assert_eq!(id.to_string().parse::<TenantId>().unwrap(), id);
    }
}
