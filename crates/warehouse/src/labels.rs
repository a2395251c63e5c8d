//! A bought label and what happens to its parcel afterwards: the record kept for reprinting
//! (PDF, ZPL, commercial invoice), the public tracking id, and the fold of tracking events into
//! one status. The store behind it is a port.

use crate::carrier::{
    CustomsLine, LabelPurchase, Parcel, RateRequest, RateTable, ServiceLevel, ShipFrom, ShipTo,
    TrackingEvent, TrackingStatus,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Money, OrderId, ShipmentId, StoreError, TenantId};
use uuid::Uuid;

/// A label bought for one shipment of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentLabel {
    pub shipment_id: ShipmentId,
    pub tenant_id: TenantId,
    pub order_id: OrderId,
    /// What the customer's tracking link carries: unguessable, and it names nothing else.
    pub public_id: String,
    /// Which adapter bought it (`ShippingCarrier::name`): the one to ask for tracking.
    pub provider: String,
    pub carrier: String,
    pub service: String,
    pub service_level: ServiceLevel,
    pub tracking_number: String,
    pub carrier_shipment_id: String,
    pub tracker_id: Option<String>,
    pub price: Money,
    /// The carrier's own label file, when it renders one.
    pub carrier_label_url: Option<String>,
    pub reference: String,
    pub ship_from: ShipFrom,
    pub ship_to: ShipTo,
    pub parcel: Parcel,
    pub customs: Vec<CustomsLine>,
    pub status: TrackingStatus,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl ShipmentLabel {
    /// The record of a purchase made for `request`.
    pub fn bought(
        provider: &str,
        tenant_id: TenantId,
        order_id: OrderId,
        level: ServiceLevel,
        request: &RateRequest,
        purchase: &LabelPurchase,
        now: DateTime<Utc>,
    ) -> Self {
        let carrier_label_url = match &purchase.label {
            crate::carrier::LabelDocument::Remote { url, .. } => Some(url.clone()),
            crate::carrier::LabelDocument::SelfRendered => None,
        };
        Self {
            shipment_id: request.shipment_id,
            tenant_id,
            order_id,
            public_id: new_public_id(),
            provider: provider.to_owned(),
            carrier: purchase.carrier.clone(),
            service: purchase.service.clone(),
            service_level: level,
            tracking_number: purchase.tracking_number.clone(),
            carrier_shipment_id: purchase.carrier_shipment_id.clone(),
            tracker_id: purchase.tracker_id.clone(),
            price: purchase.price,
            carrier_label_url,
            reference: request.reference.clone(),
            ship_from: request.ship_from.clone(),
            ship_to: request.ship_to.clone(),
            parcel: request.parcel,
            customs: request.customs.clone(),
            status: TrackingStatus::PreTransit,
            delivered_at: None,
            created_at: now,
        }
    }

    pub fn is_international(&self) -> bool {
        !self
            .ship_from
            .0
            .country
            .eq_ignore_ascii_case(&self.ship_to.0.country)
    }
}

/// 32 hex characters, 74 of whose bits are random: a link nobody can guess or walk.
pub fn new_public_id() -> String {
    format!("trk_{}", Uuid::now_v7().simple())
}

/// Whether `raw` could be a public tracking id (so garbage never reaches the database).
pub fn is_public_id(raw: &str) -> bool {
    raw.len() == 36 && raw.starts_with("trk_") && raw[4..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where a parcel stands after `events` (any order, duplicates allowed): the status of the
/// latest event; once delivered or returned it stays so. `None` when there are no events.
pub fn current_status(events: &[TrackingEvent]) -> Option<(TrackingStatus, DateTime<Utc>)> {
    if let Some(last_final) = events
        .iter()
        .filter(|e| e.status.is_final())
        .min_by_key(|e| e.at)
    {
        return Some((last_final.status, last_final.at));
    }
    events.iter().max_by_key(|e| e.at).map(|e| (e.status, e.at))
}

/// The events in `incoming` not yet in `stored` (same time and status = same event), once each.
pub fn new_events(stored: &[TrackingEvent], incoming: &[TrackingEvent]) -> Vec<TrackingEvent> {
    let mut out: Vec<TrackingEvent> = Vec::new();
    for e in incoming {
        let known = |x: &TrackingEvent| x.at == e.at && x.status == e.status;
        if !stored.iter().any(known) && !out.iter().any(known) {
            out.push(e.clone());
        }
    }
    out
}

/// `shipment.updated`: where the parcel now stands and the scans that moved it. Version 1 is
/// `shipment.created`; each batch of new scans takes the number of scans known so far plus 1,
/// so a shipment's events stay in order. No address, no price.
pub fn shipment_updated(
    label: &ShipmentLabel,
    status: TrackingStatus,
    new: &[TrackingEvent],
    scans_known: usize,
    correlation_id: Option<kernel::CorrelationId>,
    now: DateTime<Utc>,
) -> kernel::EventEnvelope {
    kernel::EventEnvelope::new(
        "shipment.updated",
        label.tenant_id,
        now,
        "shipment",
        label.shipment_id.into_uuid(),
        1 + scans_known as i64,
        serde_json::json!({
            "shipment_id": label.shipment_id,
            "order_id": label.order_id,
            "carrier": label.carrier,
            "tracking_number": label.tracking_number,
            "status": status.as_str(),
            "events": new.iter().map(|e| serde_json::json!({
                "at": e.at, "status": e.status.as_str(), "message": e.message, "location": e.location,
            })).collect::<Vec<_>>(),
        }),
        correlation_id,
    )
}

/// Storage of labels, their tracking events and the tenant's rate table.
#[async_trait]
pub trait LabelStore: Send + Sync {
    /// Errors: the shipment already has a label (`StoreError`).
    async fn save_label(&self, label: &ShipmentLabel) -> Result<(), StoreError>;
    async fn label(
        &self,
        tenant: TenantId,
        shipment: ShipmentId,
    ) -> Result<Option<ShipmentLabel>, StoreError>;
    /// Across tenants by design: the public tracking page knows only this id.
    async fn label_by_public_id(
        &self,
        public_id: &str,
    ) -> Result<Option<ShipmentLabel>, StoreError>;
    async fn labels_of_order(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<ShipmentLabel>, StoreError>;
    /// Adds the events not yet stored (same time and status = same event), sets the label's
    /// status and writes `announce` to the outbox, all in one transaction; returns how many
    /// events were new.
    async fn record_tracking(
        &self,
        tenant: TenantId,
        shipment: ShipmentId,
        events: &[TrackingEvent],
        status: TrackingStatus,
        delivered_at: Option<DateTime<Utc>>,
        announce: &[kernel::EventEnvelope],
    ) -> Result<usize, StoreError>;
    /// Oldest first.
    async fn tracking_events(
        &self,
        tenant: TenantId,
        shipment: ShipmentId,
    ) -> Result<Vec<TrackingEvent>, StoreError>;
    /// Labels still on their way, across tenants (for the polling sweep), oldest first.
    async fn labels_in_transit(&self, limit: u64) -> Result<Vec<ShipmentLabel>, StoreError>;
    async fn rate_table(&self, tenant: TenantId) -> Result<Option<RateTable>, StoreError>;
    async fn save_rate_table(
        &self,
        tenant: TenantId,
        table: &RateTable,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
    }

    fn event(h: u32, status: TrackingStatus) -> TrackingEvent {
        TrackingEvent {
            at: at(h),
            status,
            message: status.as_str().into(),
            location: None,
        }
    }

    #[test]
    fn the_latest_event_decides_the_status_whatever_order_they_come_in() {
        use TrackingStatus::*;
        assert_eq!(current_status(&[]), None);
        let events = [
            event(9, OutForDelivery),
            event(7, PreTransit),
            event(8, InTransit),
        ];
        assert_eq!(current_status(&events), Some((OutForDelivery, at(9))));
    }

    #[test]
    fn once_delivered_a_parcel_stays_delivered_at_the_first_delivery_time() {
        use TrackingStatus::*;
        let events = [
            event(7, InTransit),
            event(10, Delivered),
            event(11, InTransit),
            event(12, Delivered),
        ];
        assert_eq!(current_status(&events), Some((Delivered, at(10))));
    }

    #[test]
    fn only_scans_not_seen_before_are_new_and_each_once() {
        use TrackingStatus::*;
        let stored = [event(7, InTransit)];
        let incoming = [
            event(7, InTransit),
            event(9, Delivered),
            event(9, Delivered),
        ];
        assert_eq!(new_events(&stored, &incoming), vec![event(9, Delivered)]);
        assert!(new_events(&stored, &stored).is_empty());
    }

    #[test]
    fn public_ids_are_distinct_and_recognisable() {
        let (a, b) = (new_public_id(), new_public_id());
        assert_ne!(a, b);
        assert!(is_public_id(&a), "{a}");
        for bad in ["", "trk_", "trk_zz", "../../etc/passwd", &a[..35]] {
            assert!(!is_public_id(bad), "{bad}");
        }
    }
}
