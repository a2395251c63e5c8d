//! Buying labels and following parcels: the application service that joins the warehouse
//! context (carriers, rate shopping, labels, tracking) to the order context (a shipment takes
//! its units out of stock; a delivered parcel delivers the order). The rules live in the
//! domain crates; this module only sequences them and compensates when a step after a
//! purchase fails (the label is voided).

use crate::config::Settings;
use crate::state::{Inventory, Orders};
use chrono::Utc;
use inventory::InventoryError;
use kernel::{
    Address, Currency, OrderId, RequestContext, ShipmentId, SystemClock, TenantId, ValidationErrors,
};
use order::{NewShipment, Order, OrderError, OrderStatus, Shipment};
use sql::SqlStore;
use std::sync::Arc;
use warehouse::labels::{LabelStore, ShipmentLabel, current_status, new_events, shipment_updated};
use warehouse::{
    CarrierError, CustomsLine, Parcel, Rate, RateRequest, RateTable, ServiceLevel, ShipFrom,
    ShipTo, ShippingCarrier, TableRateCarrier, TrackingEvent, TrackingStatus, shop_rates,
};

/// `ShipmentLabel::provider` of labels bought from the tenant's own rate table.
pub const TABLE_RATE: &str = "table_rate";
/// `ShipmentLabel::provider` of labels bought through EasyPost.
pub const EASYPOST: &str = "easypost";

#[derive(Debug, thiserror::Error)]
pub enum ShippingError {
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error("the request is not valid")]
    Invalid(ValidationErrors),
    #[error("no carrier offers a {level} rate for this parcel{}", failures_text(.failures))]
    NoRate {
        level: ServiceLevel,
        failures: Vec<(String, CarrierError)>,
    },
    #[error("the carrier refused: {0}")]
    Carrier(#[from] CarrierError),
    #[error("shipment {0} has no label")]
    NoLabel(ShipmentId),
    #[error("{0}")]
    Label(String),
    #[error(transparent)]
    Store(#[from] kernel::StoreError),
}

fn failures_text(failures: &[(String, CarrierError)]) -> String {
    if failures.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = failures.iter().map(|(c, e)| format!("{c}: {e}")).collect();
    format!(" (could not ask: {})", parts.join("; "))
}

impl From<ValidationErrors> for ShippingError {
    fn from(v: ValidationErrors) -> Self {
        Self::Invalid(v)
    }
}

/// What the packer asks for: which units leave in this parcel and what it weighs.
#[derive(Debug, Clone)]
pub struct LabelRequest {
    /// `(line_no, quantity)`.
    pub lines: Vec<(u32, i64)>,
    pub parcel: Parcel,
    /// Defaults to the order's service level.
    pub service_level: Option<ServiceLevel>,
    /// Defaults to the address of the default warehouse.
    pub ship_from: Option<Address>,
    /// Why the goods cross a border (`merchandise`, `gift`, `sample`, `return`).
    pub customs_reason: Option<String>,
}

/// A bought label, the shipment it belongs to and the order after it.
pub struct Bought {
    pub order: Order,
    pub shipment: Shipment,
    pub label: ShipmentLabel,
    pub rate: Rate,
}

pub struct Shipping {
    store: SqlStore,
    easypost: Option<Arc<carriers::EasyPost>>,
    /// Where the public tracking page lives, for the tracking link.
    public_url: String,
}

impl Shipping {
    pub fn new(store: SqlStore, settings: &Settings) -> Result<Self, CarrierError> {
        let easypost = match &settings.easypost_api_key {
            Some(key) => {
                let mut config = carriers::EasyPostConfig::new(key.expose());
                config.base_url = settings.easypost_url.clone();
                Some(Arc::new(carriers::EasyPost::new(config)?))
            }
            None => None,
        };
        Ok(Self {
            store,
            easypost,
            public_url: settings.public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Whether any carrier here can be polled for tracking (the table-rate one is pushed to).
    pub fn can_poll(&self) -> bool {
        self.easypost.is_some()
    }

    pub fn tracking_url(&self, public_id: &str) -> String {
        format!("{}/track/{public_id}", self.public_url)
    }

    /// The carriers this tenant can ship with, each with its provider name.
    async fn carriers(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<(&'static str, Arc<dyn ShippingCarrier>)>, ShippingError> {
        let mut list: Vec<(&'static str, Arc<dyn ShippingCarrier>)> = Vec::new();
        if let Some(table) = self.store.rate_table(tenant).await? {
            list.push((TABLE_RATE, Arc::new(table_carrier(table)?)));
        }
        if let Some(ep) = &self.easypost {
            list.push((EASYPOST, ep.clone()));
        }
        Ok(list)
    }

    /// Rate-shops every carrier of the tenant, buys the cheapest rate that meets the service
    /// level, records the shipment (its units leave stock) and keeps the label for reprints.
    /// If recording fails, the label is voided so nothing is paid for a parcel that never was.
    pub async fn buy_label(
        &self,
        orders: &Orders,
        inventory: &Inventory,
        ctx: &RequestContext,
        order_id: OrderId,
        request: LabelRequest,
    ) -> Result<Bought, ShippingError> {
        let order = orders.get(ctx, order_id).await?;
        let level = request
            .service_level
            .unwrap_or_else(|| shipping_level(order.service_level));
        let ship_from = match request.ship_from.clone() {
            Some(address) => {
                let mut errors = ValidationErrors::new();
                let a = address.normalise("ship_from", &mut errors);
                errors.into_result()?;
                a
            }
            None => default_ship_from(inventory, ctx).await?,
        };
        let rate_request = RateRequest {
            shipment_id: ShipmentId::new(),
            reference: order
                .external_id
                .clone()
                .unwrap_or_else(|| order.id.to_string()),
            ship_to: ShipTo(order.ship_to.clone()),
            customs: Vec::new(),
            parcel: check_parcel(request.parcel)?,
            currency: order.total.currency,
            ship_from: ShipFrom(ship_from),
        };
        let mut rate_request = rate_request;
        if rate_request.is_international() {
            rate_request.customs = customs_lines(inventory, ctx, &order, &request.lines).await?;
        }
        let carriers = self.carriers(ctx.tenant_id).await?;
        if carriers.is_empty() {
            return Err(ValidationErrors::single(
                "carrier",
                "no carrier is set up: PUT /api/v1/shipping/rate-table, or set TOTE_EASYPOST_API_KEY",
            )
            .into());
        }
        let refs: Vec<&dyn ShippingCarrier> = carriers.iter().map(|(_, c)| c.as_ref()).collect();
        let shopped = shop_rates(&refs, &rate_request, level).await;
        let Some((index, rate)) = shopped.chosen else {
            return Err(ShippingError::NoRate {
                level,
                failures: shopped.failures,
            });
        };
        let (provider, carrier) = &carriers[index];
        let purchase = carrier.buy(&rate_request, &rate).await?;
        let mut label = ShipmentLabel::bought(
            provider,
            ctx.tenant_id,
            order.id,
            level,
            &rate_request,
            &purchase,
            Utc::now(),
        );
        let shipment = NewShipment {
            carrier: purchase.carrier.clone(),
            service: Some(purchase.service.clone()),
            tracking_number: Some(purchase.tracking_number.clone()),
            tracking_url: Some(self.tracking_url(&label.public_id)),
            lines: request.lines,
        };
        let (order, shipment) = match orders.ship(ctx, order.id, shipment).await {
            Ok(done) => done,
            Err(e) => {
                if let Err(void) = carrier.void(&purchase).await {
                    tracing::error!(error = %void, tracking = %purchase.tracking_number,
                        "label bought for a shipment that failed, and voiding it failed: void it at the carrier");
                }
                return Err(e.into());
            }
        };
        label.shipment_id = shipment.id;
        if let Err(e) = self.store.save_label(&label).await {
            // The parcel is recorded and its units left stock; only the reprint copy is lost.
            tracing::error!(error = %e, shipment = %shipment.id, "label bought and shipment recorded, but the label was not stored");
            return Err(e.into());
        }
        Ok(Bought {
            order,
            shipment,
            label,
            rate,
        })
    }

    pub async fn label(
        &self,
        ctx: &RequestContext,
        shipment: ShipmentId,
    ) -> Result<ShipmentLabel, ShippingError> {
        self.store
            .label(ctx.tenant_id, shipment)
            .await?
            .ok_or(ShippingError::NoLabel(shipment))
    }

    pub async fn events(
        &self,
        ctx: &RequestContext,
        shipment: ShipmentId,
    ) -> Result<Vec<TrackingEvent>, ShippingError> {
        Ok(self.store.tracking_events(ctx.tenant_id, shipment).await?)
    }

    /// The public page's view: the label and its events, found by the public id alone.
    pub async fn public_tracking(
        &self,
        public_id: &str,
    ) -> Result<Option<(ShipmentLabel, Vec<TrackingEvent>)>, ShippingError> {
        let Some(label) = self.store.label_by_public_id(public_id).await? else {
            return Ok(None);
        };
        let events = self
            .store
            .tracking_events(label.tenant_id, label.shipment_id)
            .await?;
        Ok(Some((label, events)))
    }

    /// Applies tracking events (pushed by the seller's courier or polled from the carrier):
    /// new ones are stored, the parcel's status follows the latest, and when every labelled
    /// parcel of a shipped order is delivered the order becomes `delivered`.
    pub async fn apply_tracking(
        &self,
        orders: &Orders,
        ctx: &RequestContext,
        shipment: ShipmentId,
        events: Vec<TrackingEvent>,
    ) -> Result<(ShipmentLabel, Vec<TrackingEvent>), ShippingError> {
        let label = self.label(ctx, shipment).await?;
        let stored = self.store.tracking_events(ctx.tenant_id, shipment).await?;
        let new = new_events(&stored, &events);
        if new.is_empty() {
            return Ok((label, stored));
        }
        let mut all = stored.clone();
        all.extend(new.iter().cloned());
        let Some((status, at)) = current_status(&all) else {
            return Ok((label, stored));
        };
        let delivered_at = (status == TrackingStatus::Delivered).then_some(at);
        let announce = shipment_updated(
            &label,
            status,
            &new,
            stored.len(),
            Some(ctx.correlation_id),
            Utc::now(),
        );
        self.store
            .record_tracking(
                ctx.tenant_id,
                shipment,
                &new,
                status,
                delivered_at,
                &[announce],
            )
            .await?;
        if status == TrackingStatus::Delivered {
            self.deliver_order_if_done(orders, ctx, label.order_id)
                .await?;
        }
        let label = self.label(ctx, shipment).await?;
        let events = self.store.tracking_events(ctx.tenant_id, shipment).await?;
        Ok((label, events))
    }

    /// Asks the carrier that sold the label where the parcel is.
    pub async fn refresh_tracking(
        &self,
        orders: &Orders,
        ctx: &RequestContext,
        shipment: ShipmentId,
    ) -> Result<(ShipmentLabel, Vec<TrackingEvent>), ShippingError> {
        let label = self.label(ctx, shipment).await?;
        let tracking = warehouse::TrackingRef {
            tracking_number: label.tracking_number.clone(),
            carrier: label.carrier.clone(),
            tracker_id: label.tracker_id.clone(),
        };
        let events = match label.provider.as_str() {
            EASYPOST => match &self.easypost {
                Some(ep) => ep.track(&tracking).await?,
                None => {
                    return Err(ShippingError::Label(
                        "this label was bought through EasyPost, which is not configured now \
                         (TOTE_EASYPOST_API_KEY)"
                            .into(),
                    ));
                }
            },
            // The seller's own courier has no tracking API: its scans are pushed to us.
            _ => Vec::new(),
        };
        self.apply_tracking(orders, ctx, shipment, events).await
    }

    /// Polls the carriers for parcels still on their way (the worker calls this).
    pub async fn poll_in_transit(
        &self,
        orders: &Orders,
        limit: u64,
    ) -> Result<usize, ShippingError> {
        let mut updated = 0;
        for label in self.store.labels_in_transit(limit).await? {
            if label.provider != EASYPOST {
                continue;
            }
            let ctx = RequestContext::new(label.tenant_id, "system:tracking");
            match self.refresh_tracking(orders, &ctx, label.shipment_id).await {
                Ok(_) => updated += 1,
                Err(e) => {
                    tracing::warn!(error = %e, shipment = %label.shipment_id, "tracking poll failed")
                }
            }
        }
        Ok(updated)
    }

    async fn deliver_order_if_done(
        &self,
        orders: &Orders,
        ctx: &RequestContext,
        order_id: OrderId,
    ) -> Result<(), ShippingError> {
        let order = orders.get(ctx, order_id).await?;
        if order.status != OrderStatus::Shipped {
            return Ok(());
        }
        let labels = self.store.labels_of_order(ctx.tenant_id, order_id).await?;
        let shipments = orders.shipments(ctx, order_id).await?;
        let every_parcel_delivered = shipments.iter().all(|s| {
            labels
                .iter()
                .any(|l| l.shipment_id == s.id && l.status == TrackingStatus::Delivered)
        });
        if every_parcel_delivered {
            match orders.deliver(ctx, order_id).await {
                Ok(_) | Err(OrderError::IllegalTransition { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    pub async fn rate_table(&self, tenant: TenantId) -> Result<Option<RateTable>, ShippingError> {
        Ok(self.store.rate_table(tenant).await?)
    }

    /// Checks and saves the tenant's rate table.
    pub async fn set_rate_table(
        &self,
        tenant: TenantId,
        table: RateTable,
    ) -> Result<RateTable, ShippingError> {
        table.validate()?;
        self.store
            .save_rate_table(tenant, &table, Utc::now())
            .await?;
        Ok(table)
    }

    /// The public quote (`None`: no such shop, or it has no rate table): the tenant's table prices a parcel of these SKUs to that address.
    pub async fn quote(
        &self,
        inventory: &Inventory,
        tenant: TenantId,
        ship_to: &ShipTo,
        lines: &[(String, i64)],
    ) -> Result<Option<Vec<Rate>>, ShippingError> {
        let Some(table) = self.store.rate_table(tenant).await? else {
            return Ok(None);
        };
        let ctx = RequestContext::new(tenant, "public:quote");
        let weight = parcel_weight(inventory, &ctx, lines).await?;
        let currency = table
            .currency()
            .unwrap_or(Currency::parse("USD").expect("USD"));
        let mut rates = table.quote(ship_to, weight, currency);
        rates.sort_by_key(|r| r.price.amount_minor);
        Ok(Some(rates))
    }
}

fn table_carrier(table: RateTable) -> Result<TableRateCarrier, ShippingError> {
    Ok(TableRateCarrier::new(table, Arc::new(SystemClock))?)
}

pub fn shipping_level(level: order::ServiceLevel) -> ServiceLevel {
    match level {
        order::ServiceLevel::Standard => ServiceLevel::Standard,
        order::ServiceLevel::Expedited => ServiceLevel::Expedited,
        order::ServiceLevel::Overnight => ServiceLevel::Overnight,
    }
}

fn check_parcel(p: Parcel) -> Result<Parcel, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    for (field, value, max) in [
        ("parcel.weight_g", p.weight_g, 70_000),
        ("parcel.length_mm", p.length_mm, 3_000),
        ("parcel.width_mm", p.width_mm, 3_000),
        ("parcel.height_mm", p.height_mm, 3_000),
    ] {
        if value == 0 || value > max {
            errors.add(field, format!("{field} must be 1 to {max}"));
        }
    }
    errors.into_result().map(|()| p)
}

async fn default_ship_from(
    inventory: &Inventory,
    ctx: &RequestContext,
) -> Result<Address, ShippingError> {
    let warehouses = inventory.warehouses(ctx).await?;
    warehouses
        .into_iter()
        .find(|w| w.is_default)
        .and_then(|w| w.address)
        .ok_or_else(|| {
            ValidationErrors::single(
                "ship_from",
                "the default warehouse has no address: send \"ship_from\" with this label",
            )
            .into()
        })
}

/// One customs line per order line in the parcel: description, HS code and origin from the
/// catalogue, value at the price paid. A product without an HS code or origin is named.
async fn customs_lines(
    inventory: &Inventory,
    ctx: &RequestContext,
    order: &Order,
    lines: &[(u32, i64)],
) -> Result<Vec<CustomsLine>, ShippingError> {
    let mut errors = ValidationErrors::new();
    let mut out = Vec::new();
    for (i, (line_no, quantity)) in lines.iter().enumerate() {
        let Some(line) = order.lines.iter().find(|l| l.line_no == *line_no) else {
            continue; // the shipment's own check names it
        };
        let product = inventory.product(ctx, &line.sku).await?;
        let (Some(hs_code), Some(origin)) =
            (product.hs_code.clone(), product.country_of_origin.clone())
        else {
            errors.add(
                format!("lines[{i}]"),
                format!(
                    "{} needs an hs_code and a country_of_origin to cross a border: PATCH /api/v1/products/{}",
                    line.sku, line.sku
                ),
            );
            continue;
        };
        let quantity = u32::try_from(*quantity).unwrap_or(0);
        out.push(CustomsLine {
            description: product.name.clone(),
            hs_code,
            origin_country: origin,
            quantity,
            value: line
                .unit_price
                .checked_mul(i64::from(quantity))
                .unwrap_or(line.unit_price),
            weight_g: product.weight_grams.unwrap_or(0).saturating_mul(quantity),
        });
    }
    errors.into_result()?;
    Ok(out)
}

async fn parcel_weight(
    inventory: &Inventory,
    ctx: &RequestContext,
    lines: &[(String, i64)],
) -> Result<u32, ShippingError> {
    let mut errors = ValidationErrors::new();
    if lines.is_empty() || lines.len() > 100 {
        errors.add("lines", "a quote needs 1 to 100 lines");
    }
    let mut total: u32 = 0;
    for (i, (sku, quantity)) in lines.iter().enumerate() {
        let Some(sku) = errors.check(format!("lines[{i}].sku"), kernel::Sku::parse(sku)) else {
            continue;
        };
        if !(1..=10_000).contains(quantity) {
            errors.add(
                format!("lines[{i}].quantity"),
                "quantity must be 1 to 10000",
            );
            continue;
        }
        match inventory.product(ctx, &sku).await {
            Ok(p) => match p.weight_grams {
                Some(w) => {
                    total = total.saturating_add(w.saturating_mul(*quantity as u32));
                }
                None => errors.add(
                    format!("lines[{i}].sku"),
                    format!("{sku} has no weight to quote by"),
                ),
            },
            Err(InventoryError::UnknownSku(_)) => {
                errors.add(format!("lines[{i}].sku"), format!("{sku} is not sold here"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    errors.into_result()?;
    Ok(total)
}

/// Polls the carriers for parcels on their way, every `poll`, when a pollable carrier is set up.
pub fn spawn_tracking_poll(
    store: SqlStore,
    settings: &Settings,
    poll: std::time::Duration,
) -> Result<Option<tokio::task::JoinHandle<()>>, CarrierError> {
    let shipping = Shipping::new(store.clone(), settings)?;
    if !shipping.can_poll() {
        return Ok(None);
    }
    let orders: Orders = order::service::OrderService::new(store.clone(), store, SystemClock);
    Ok(Some(tokio::spawn(async move {
        loop {
            tokio::time::sleep(poll).await;
            match shipping.poll_in_transit(&orders, 500).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(parcels = n, "tracking polled"),
                Err(e) => tracing::warn!(error = %e, "tracking poll failed; will retry"),
            }
        }
    })))
}
