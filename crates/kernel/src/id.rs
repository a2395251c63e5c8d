use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
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
uuid_id!(
    /// An order. Made with [`OrderId::at`] its creation time, so the id's UUIDv7 timestamp is
    /// the order's `created_at` (to the millisecond) and a time window is also an id range.
    OrderId
);

impl OrderId {
    /// The id of an order created at `time`: a UUIDv7 whose timestamp is `time`'s millisecond,
    /// then a process-wide sequence (so ids made in one millisecond, as under a clock that
    /// stands still, still sort in the order they were made), then random bits.
    pub fn at(time: DateTime<Utc>) -> Self {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let millis = u64::try_from(time.timestamp_millis()).unwrap_or(0);
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        // The low 32 bits of a fresh v7 id are random (its counter sits above them).
        let random = Uuid::now_v7().as_u128();
        // rand_a (12 bits) and the top 30 bits of rand_b carry the sequence; the rest is random.
        let counter = (sequence & ((1 << 42) - 1)) as u128;
        let tail = (counter << 32) | (random & 0xFFFF_FFFF);
        let bytes = ((millis as u128) << 80)
            | (0x7 << 76)
            | (((tail >> 62) & 0xFFF) << 64)
            | (0b10 << 62)
            | (tail & ((1 << 62) - 1));
        Self(Uuid::from_u128(bytes))
    }

    /// The smallest order id of the millisecond `time` falls in: every order created in that
    /// millisecond or later has an id at least this (see [`OrderId::at`]).
    pub fn floor_of(time: DateTime<Utc>) -> Uuid {
        let millis = u64::try_from(time.timestamp_millis()).unwrap_or(0);
        Uuid::from_u128((millis as u128) << 80)
    }
}
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
    fn an_order_id_carries_its_creation_millisecond() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:20:30.456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = OrderId::at(at).into_uuid();
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos), (at.timestamp() as u64, 456_000_000));
    }

    #[test]
    fn order_ids_of_one_millisecond_sort_in_the_order_they_were_made() {
        let at = Utc::now();
        let ids: Vec<OrderId> = (0..1000).map(|_| OrderId::at(at)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_floor_of_a_millisecond_bounds_its_ids_and_no_earlier_ones() {
        let at = Utc::now();
        let floor = OrderId::floor_of(at);
        let earlier = at - chrono::Duration::milliseconds(1);
        assert!(OrderId::at(at).into_uuid() >= floor);
        assert!(OrderId::at(at + chrono::Duration::seconds(1)).into_uuid() > floor);
        assert!(OrderId::at(earlier).into_uuid() < floor);
    }

    #[test]
    fn an_id_round_trips_through_its_text_form() {
        let id = TenantId::new();
        assert_eq!(id.to_string().parse::<TenantId>().unwrap(), id);
    }
}
