//! Shipping labels, their tracking events and each tenant's rate table (migration 000012).
//! Tenant-scoped calls run in a tenant transaction; the public tracking page and the polling
//! sweep deliberately look across tenants.

use crate::{SqlStore, is_unique_violation, store_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Currency, Money, OrderId, ShipmentId, StoreError, TenantId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use warehouse::labels::{LabelStore, ShipmentLabel};
use warehouse::{RateTable, ServiceLevel, TrackingEvent, TrackingStatus};

pub mod rate_table {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "rate_tables")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        pub body: Json,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod label_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "shipment_labels")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub shipment_id: Uuid,
        pub tenant_id: Uuid,
        pub order_id: Uuid,
        pub public_id: String,
        pub provider: String,
        pub carrier: String,
        pub service: String,
        pub service_level: String,
        pub tracking_number: String,
        pub carrier_shipment_id: String,
        pub tracker_id: Option<String>,
        pub price_minor: i64,
        pub currency: String,
        pub carrier_label_url: Option<String>,
        pub reference: String,
        pub details: Json,
        pub status: String,
        pub delivered_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tracking_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "tracking_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub tenant_id: Uuid,
        pub shipment_id: Uuid,
        pub at: DateTimeUtc,
        pub status: String,
        pub message: String,
        pub location: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}
}

fn bad(what: &str) -> StoreError {
    StoreError::new(format!("stored shipment label has a bad {what}"))
}

fn status_of(raw: &str) -> Result<TrackingStatus, StoreError> {
    serde_json::from_value(Value::String(raw.to_owned())).map_err(|_| bad("status"))
}

fn to_label(m: label_row::Model) -> Result<ShipmentLabel, StoreError> {
    fn part<T: serde::de::DeserializeOwned>(d: &Value, key: &str) -> Result<T, StoreError> {
        serde_json::from_value(d[key].clone()).map_err(|_| bad(key))
    }
    let d = &m.details;
    Ok(ShipmentLabel {
        shipment_id: ShipmentId::from_uuid(m.shipment_id),
        tenant_id: TenantId::from_uuid(m.tenant_id),
        order_id: OrderId::from_uuid(m.order_id),
        public_id: m.public_id,
        provider: m.provider,
        carrier: m.carrier,
        service: m.service,
        service_level: serde_json::from_value::<ServiceLevel>(Value::String(m.service_level))
            .map_err(|_| bad("service level"))?,
        tracking_number: m.tracking_number,
        carrier_shipment_id: m.carrier_shipment_id,
        tracker_id: m.tracker_id,
        price: Money::new(
            m.price_minor,
            Currency::parse(&m.currency).map_err(|_| bad("currency"))?,
        ),
        carrier_label_url: m.carrier_label_url,
        reference: m.reference,
        ship_from: part(d, "ship_from")?,
        ship_to: part(d, "ship_to")?,
        parcel: part(d, "parcel")?,
        customs: part(d, "customs")?,
        status: status_of(&m.status)?,
        delivered_at: m.delivered_at,
        created_at: m.created_at,
    })
}

fn to_row(l: &ShipmentLabel) -> label_row::ActiveModel {
    label_row::ActiveModel {
        shipment_id: Set(l.shipment_id.into_uuid()),
        tenant_id: Set(l.tenant_id.into_uuid()),
        order_id: Set(l.order_id.into_uuid()),
        public_id: Set(l.public_id.clone()),
        provider: Set(l.provider.clone()),
        carrier: Set(l.carrier.clone()),
        service: Set(l.service.clone()),
        service_level: Set(l.service_level.as_str().to_owned()),
        tracking_number: Set(l.tracking_number.clone()),
        carrier_shipment_id: Set(l.carrier_shipment_id.clone()),
        tracker_id: Set(l.tracker_id.clone()),
        price_minor: Set(l.price.amount_minor),
        currency: Set(l.price.currency.to_string()),
        carrier_label_url: Set(l.carrier_label_url.clone()),
        reference: Set(l.reference.clone()),
        details: Set(json!({
            "ship_from": l.ship_from, "ship_to": l.ship_to,
            "parcel": l.parcel, "customs": l.customs,
        })),
        status: Set(l.status.as_str().to_owned()),
        delivered_at: Set(l.delivered_at),
        created_at: Set(l.created_at),
    }
}

fn to_event(m: tracking_row::Model) -> Result<TrackingEvent, StoreError> {
    Ok(TrackingEvent {
        at: m.at,
        status: status_of(&m.status)?,
        message: m.message,
        location: m.location,
    })
}

#[async_trait]
impl LabelStore for SqlStore {
    async fn save_label(&self, label: &ShipmentLabel) -> Result<(), StoreError> {
        let tx = self.begin_tenant(label.tenant_id).await?;
        label_row::Entity::insert(to_row(label))
            .exec_without_returning(&tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::new("this shipment already has a label")
                } else {
                    store_err(e)
                }
            })?;
        tx.commit().await.map_err(store_err)
    }

    async fn label(
        &self,
        tenant: TenantId,
        shipment: ShipmentId,
    ) -> Result<Option<ShipmentLabel>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = label_row::Entity::find_by_id(shipment.into_uuid())
            .filter(label_row::Column::TenantId.eq(tenant.into_uuid()))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(to_label).transpose()
    }

    async fn label_by_public_id(
        &self,
        public_id: &str,
    ) -> Result<Option<ShipmentLabel>, StoreError> {
        // The public tracking page knows no tenant: the unguessable id is the key.
        let tx = self.begin_all_tenants().await?;
        let row = label_row::Entity::find()
            .filter(label_row::Column::PublicId.eq(public_id))
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(to_label).transpose()
    }

    async fn labels_of_order(
        &self,
        tenant: TenantId,
        order: OrderId,
    ) -> Result<Vec<ShipmentLabel>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = label_row::Entity::find()
            .filter(label_row::Column::TenantId.eq(tenant.into_uuid()))
            .filter(label_row::Column::OrderId.eq(order.into_uuid()))
            .order_by_asc(label_row::Column::CreatedAt)
            .limit(500)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.into_iter().map(to_label).collect()
    }

    async fn record_tracking(
        &self,
        tenant: TenantId,
        shipment: ShipmentId,
        events: &[TrackingEvent],
        status: TrackingStatus,
        delivered_at: Option<DateTime<Utc>>,
        announce: &[kernel::EventEnvelope],
    ) -> Result<usize, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let mut added = 0;
        for e in events {
            let done = tracking_row::Entity::insert(tracking_row::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                tenant_id: Set(tenant.into_uuid()),
                shipment_id: Set(shipment.into_uuid()),
                at: Set(e.at),
                status: Set(e.status.as_str().to_owned()),
                message: Set(e.message.chars().take(500).collect()),
                location: Set(e.location.as_ref().map(|l| l.chars().take(200).collect())),
            })
            .on_conflict(
                OnConflict::columns([
                    tracking_row::Column::ShipmentId,
                    tracking_row::Column::At,
                    tracking_row::Column::Status,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&tx)
            .await
            .map_err(store_err)?;
            added += done as usize;
        }
        label_row::Entity::update_many()
            .col_expr(
                label_row::Column::Status,
                sea_orm::sea_query::Expr::value(status.as_str()),
            )
            .col_expr(
                label_row::Column::DeliveredAt,
                sea_orm::sea_query::Expr::value(delivered_at),
            )
            .filter(label_row::Column::TenantId.eq(tenant.into_uuid()))
            .filter(label_row::Column::ShipmentId.eq(shipment.into_uuid()))
            .exec(&tx)
            .await
            .map_err(store_err)?;
        crate::outbox::append(&tx, announce).await?;
        tx.commit().await.map_err(store_err)?;
        Ok(added)
    }

    async fn tracking_events(
        &self,
        tenant: TenantId,
        shipment: ShipmentId,
    ) -> Result<Vec<TrackingEvent>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let rows = tracking_row::Entity::find()
            .filter(tracking_row::Column::TenantId.eq(tenant.into_uuid()))
            .filter(tracking_row::Column::ShipmentId.eq(shipment.into_uuid()))
            .order_by_asc(tracking_row::Column::At)
            .limit(500)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.into_iter().map(to_event).collect()
    }

    async fn labels_in_transit(&self, limit: u64) -> Result<Vec<ShipmentLabel>, StoreError> {
        // The polling sweep serves every tenant.
        let tx = self.begin_all_tenants().await?;
        let open = [
            TrackingStatus::PreTransit,
            TrackingStatus::InTransit,
            TrackingStatus::OutForDelivery,
            TrackingStatus::Failure,
        ];
        let rows = label_row::Entity::find()
            .filter(label_row::Column::Status.is_in(open.iter().map(|s| s.as_str())))
            .order_by_asc(label_row::Column::CreatedAt)
            .limit(limit)
            .all(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        rows.into_iter().map(to_label).collect()
    }

    async fn rate_table(&self, tenant: TenantId) -> Result<Option<RateTable>, StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        let row = rate_table::Entity::find_by_id(tenant.into_uuid())
            .one(&tx)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        row.map(|r| serde_json::from_value(r.body).map_err(|_| bad("rate table")))
            .transpose()
    }

    async fn save_rate_table(
        &self,
        tenant: TenantId,
        table: &RateTable,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.begin_tenant(tenant).await?;
        rate_table::Entity::insert(rate_table::ActiveModel {
            tenant_id: Set(tenant.into_uuid()),
            body: Set(serde_json::to_value(table).map_err(StoreError::from_source)?),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(rate_table::Column::TenantId)
                .update_columns([rate_table::Column::Body, rate_table::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }
}
