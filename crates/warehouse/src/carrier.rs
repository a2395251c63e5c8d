//! Shipping: the parcel and its customs lines, the [`ShippingCarrier`] port, rate shopping
//! ([`pick_rate`]) and the table-rate carrier, which needs no I/O and so lives here.
//!
//! Money is always integer minor units ([`Money`]); weights are grams and sizes millimetres.
//! Adapters (EasyPost, labels) live in the `carriers` crate.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kernel::{Address, Clock, Currency, Money, ShipmentId, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;

/// One box as it leaves the packing bench: weighed and measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub weight_g: u32,
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
}

/// The warehouse a parcel leaves from (a distinct type so it cannot be swapped with [`ShipTo`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipFrom(pub Address);

/// The customer a parcel goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipTo(pub Address);

/// One line of a customs declaration (commercial invoice): what is in the box, where it was
/// made, and what it is worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomsLine {
    pub description: String,
    /// Harmonized System tariff code, e.g. `6109.10`.
    pub hs_code: String,
    /// ISO 3166-1 alpha-2 country of manufacture.
    pub origin_country: String,
    pub quantity: u32,
    /// Value of the whole line (all units), not of one unit.
    pub value: Money,
    /// Weight of the whole line.
    pub weight_g: u32,
}

/// How fast the seller promised the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevel {
    Standard,
    Expedited,
    Overnight,
}

impl ServiceLevel {
    pub const ALL: [ServiceLevel; 3] = [Self::Standard, Self::Expedited, Self::Overnight];

    /// The slowest transit, in days, that still meets this level.
    pub const fn max_transit_days(self) -> u32 {
        match self {
            Self::Standard => 5,
            Self::Expedited => 2,
            Self::Overnight => 1,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Expedited => "expedited",
            Self::Overnight => "overnight",
        }
    }

    /// Whether a rate with this transit time meets the level. A rate whose transit time the
    /// carrier does not say only meets `standard`.
    pub fn is_met_by(self, transit_days: Option<u32>) -> bool {
        match transit_days {
            Some(days) => days <= self.max_transit_days(),
            None => self == Self::Standard,
        }
    }
}

impl fmt::Display for ServiceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a carrier is asked to quote and, later, to buy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRequest {
    /// Tote's shipment; carriers that make their own numbers derive them from it.
    pub shipment_id: ShipmentId,
    /// Printed on the label (the order reference).
    pub reference: String,
    pub ship_from: ShipFrom,
    pub ship_to: ShipTo,
    pub parcel: Parcel,
    /// Empty for a domestic shipment.
    pub customs: Vec<CustomsLine>,
    /// The currency the seller wants prices in.
    pub currency: Currency,
}

impl RateRequest {
    pub fn is_international(&self) -> bool {
        !self
            .ship_from
            .0
            .country
            .eq_ignore_ascii_case(&self.ship_to.0.country)
    }
}

/// One price a carrier offers for a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// The carrier as it names itself (`USPS`, or a table-rate carrier's name).
    pub carrier: String,
    /// The carrier's service (`Priority`, `Express`, or a service level for table rates).
    pub service: String,
    pub price: Money,
    /// Business days in transit, when the carrier says.
    pub transit_days: Option<u32>,
    /// The carrier's id for this offer, handed back to [`ShippingCarrier::buy`].
    pub rate_id: String,
}

/// Where the label of a purchase comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LabelDocument {
    /// The carrier made the label; fetch it from `url`.
    Remote { url: String, format: LabelFormat },
    /// The carrier issues no label: Tote renders its own (PDF 4×6 or ZPL) from the purchase.
    SelfRendered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelFormat {
    Pdf,
    Png,
    Zpl,
    Epl2,
}

/// A bought label: what the app stores against the shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelPurchase {
    pub tracking_number: String,
    pub carrier: String,
    pub service: String,
    pub price: Money,
    pub label: LabelDocument,
    /// The carrier's id for the shipment (EasyPost `shp_...`), needed to void it.
    pub carrier_shipment_id: String,
    /// The carrier's tracker, when it has one (EasyPost `trk_...`).
    pub tracker_id: Option<String>,
}

impl LabelPurchase {
    pub fn tracking_ref(&self) -> TrackingRef {
        TrackingRef {
            tracking_number: self.tracking_number.clone(),
            carrier: self.carrier.clone(),
            tracker_id: self.tracker_id.clone(),
        }
    }
}

/// What is needed to ask where a parcel is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingRef {
    pub tracking_number: String,
    pub carrier: String,
    pub tracker_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    PreTransit,
    InTransit,
    OutForDelivery,
    Delivered,
    Failure,
    Returned,
}

impl TrackingStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PreTransit => "pre_transit",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Failure => "failure",
            Self::Returned => "returned",
        }
    }

    /// No further scan will change it.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Returned)
    }
}

/// One scan or status change, oldest first in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub at: DateTime<Utc>,
    pub status: TrackingStatus,
    pub message: String,
    /// `City, Region, Country` as far as the carrier says.
    pub location: Option<String>,
}

/// Why a carrier call failed. Every message says what to do about it.
///
/// - [`Unavailable`](Self::Unavailable): the carrier could not be reached or failed on its side
///   (timeout, connection refused, 5xx). Transient: try again later or another carrier.
/// - [`Unauthorized`](Self::Unauthorized): the carrier refused our credentials. Configuration:
///   retrying will not help until the API key is fixed.
/// - [`Rejected`](Self::Rejected): the carrier refused this request (bad address, parcel too
///   heavy, rate expired, label already used). Fix the input; do not retry as is.
/// - [`NotFound`](Self::NotFound): the shipment, rate or tracking number is unknown to it.
/// - [`Protocol`](Self::Protocol): the carrier answered something we cannot read; a bug or an
///   API change, to be reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierError {
    #[error("{message}")]
    Unavailable { message: String },
    #[error("{message}")]
    Unauthorized { message: String },
    #[error("{message}")]
    Rejected { message: String },
    #[error("{message}")]
    NotFound { message: String },
    #[error("{message}")]
    Protocol { message: String },
}

impl CarrierError {
    /// Only an unavailable carrier is worth asking again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// A carrier (or an aggregator of carriers) that quotes, sells labels and tracks parcels.
///
/// Errors follow [`CarrierError`]'s contract. `buy` is not idempotent at every carrier: callers
/// store the purchase before anything else can fail, and void a label they will not use.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ShippingCarrier: Send + Sync {
    /// The carrier's name as it appears in [`Rate::carrier`] (for an aggregator, its own name).
    fn name(&self) -> &str;

    /// Every rate offered for the request; empty when the carrier does not serve it.
    async fn rates(&self, req: &RateRequest) -> Result<Vec<Rate>, CarrierError>;

    /// Buys the label for `rate`, which came from [`rates`](Self::rates) for this `req`.
    async fn buy(&self, req: &RateRequest, rate: &Rate) -> Result<LabelPurchase, CarrierError>;

    /// Cancels an unused label (refund where the carrier pays one back).
    async fn void(&self, purchase: &LabelPurchase) -> Result<(), CarrierError>;

    /// Where the parcel is: its events, oldest first, never empty for a known parcel.
    async fn track(&self, tracking: &TrackingRef) -> Result<Vec<TrackingEvent>, CarrierError>;
}

/// Rate shopping: the cheapest rate that meets `level`; ties go to the faster one, then to the
/// carrier's name in alphabetical order (so the choice is stable).
///
/// A rate without a transit time only meets `standard`. All rates must be in one currency
/// (the request's); amounts in different currencies are not compared.
pub fn pick_rate(rates: &[Rate], level: ServiceLevel) -> Option<&Rate> {
    rates
        .iter()
        .filter(|r| level.is_met_by(r.transit_days))
        .min_by(|a, b| {
            a.price
                .amount_minor
                .cmp(&b.price.amount_minor)
                .then(
                    a.transit_days
                        .unwrap_or(u32::MAX)
                        .cmp(&b.transit_days.unwrap_or(u32::MAX)),
                )
                .then_with(|| a.carrier.cmp(&b.carrier))
                .then_with(|| a.service.cmp(&b.service))
        })
}

/// What rate shopping across several carriers found.
#[derive(Debug)]
pub struct Shopped {
    /// The index (in the slice given) of the carrier to buy from, and its rate.
    pub chosen: Option<(usize, Rate)>,
    /// Carriers that could not quote, by name; shopping went on without them.
    pub failures: Vec<(String, CarrierError)>,
    /// Rates dropped because they were not in the request's currency.
    pub other_currency: usize,
}

/// Asks every carrier for rates and picks with [`pick_rate`]. A carrier that fails is skipped
/// and reported in [`Shopped::failures`], so one carrier being down never blocks shipping;
/// rates in another currency than the request's are not compared and are dropped.
pub async fn shop_rates(
    carriers: &[&dyn ShippingCarrier],
    req: &RateRequest,
    level: ServiceLevel,
) -> Shopped {
    let mut offers: Vec<(usize, Rate)> = Vec::new();
    let mut failures = Vec::new();
    let mut other_currency = 0;
    for (index, carrier) in carriers.iter().enumerate() {
        match carrier.rates(req).await {
            Ok(rates) => {
                for rate in rates {
                    if rate.price.currency == req.currency {
                        offers.push((index, rate));
                    } else {
                        other_currency += 1;
                    }
                }
            }
            Err(e) => failures.push((carrier.name().to_owned(), e)),
        }
    }
    let rates: Vec<Rate> = offers.iter().map(|(_, r)| r.clone()).collect();
    let chosen = pick_rate(&rates, level).and_then(|best| {
        offers
            .iter()
            .find(|(_, r)| r == best)
            .map(|(i, r)| (*i, r.clone()))
    });
    Shopped {
        chosen,
        failures,
        other_currency,
    }
}

// ---------------------------------------------------------------------------------------------
// Table rates

/// A delivery zone: some countries, optionally narrowed to postcodes starting with a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub name: String,
    /// ISO 3166-1 alpha-2 codes.
    pub countries: Vec<String>,
    /// Empty: the whole of each country. Compared without spaces, case-insensitively.
    pub postcode_prefixes: Vec<String>,
}

/// Parcels up to and including `up_to_g` grams cost `price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightBand {
    pub up_to_g: u32,
    pub price: Money,
}

/// The weight bands of one service in one zone, in ascending order of weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceBands {
    pub zone: String,
    pub service: ServiceLevel,
    pub transit_days: Option<u32>,
    pub bands: Vec<WeightBand>,
}

/// A carrier's (or the seller's own courier's) price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTable {
    pub carrier: String,
    pub zones: Vec<Zone>,
    pub bands: Vec<ServiceBands>,
}

fn normalise_postcode(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl RateTable {
    /// The one currency of every price, if there is any price.
    pub fn currency(&self) -> Option<Currency> {
        self.bands
            .iter()
            .flat_map(|s| s.bands.iter())
            .map(|b| b.price.currency)
            .next()
    }

    /// Every problem with the table, named by field: blank or duplicate zone names, bad country
    /// codes, a postcode prefix claimed by two zones, bands for an unknown zone or twice for one
    /// zone and service, weight limits not strictly ascending (which would overlap), negative
    /// prices, and more than one currency.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.carrier.trim().is_empty() {
            errors.add("carrier", "carrier name is required");
        }
        let mut names = HashSet::new();
        let mut claimed: HashSet<(String, String)> = HashSet::new();
        for (i, zone) in self.zones.iter().enumerate() {
            if zone.name.trim().is_empty() {
                errors.add(format!("zones[{i}].name"), "zone name is required");
            } else if !names.insert(zone.name.as_str()) {
                errors.add(
                    format!("zones[{i}].name"),
                    format!("zone {:?} is defined twice", zone.name),
                );
            }
            if zone.countries.is_empty() {
                errors.add(
                    format!("zones[{i}].countries"),
                    "a zone needs at least one country",
                );
            }
            for (j, country) in zone.countries.iter().enumerate() {
                if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                    errors.add(
                        format!("zones[{i}].countries[{j}]"),
                        "country must be a two-letter upper-case ISO 3166-1 code such as US",
                    );
                }
                let prefixes: Vec<String> = if zone.postcode_prefixes.is_empty() {
                    vec![String::new()]
                } else {
                    zone.postcode_prefixes
                        .iter()
                        .map(|p| normalise_postcode(p))
                        .collect()
                };
                for prefix in prefixes {
                    if !claimed.insert((country.clone(), prefix.clone())) {
                        errors.add(
                            format!("zones[{i}]"),
                            format!(
                                "{country} {} is already in another zone",
                                if prefix.is_empty() {
                                    "(whole country)".to_owned()
                                } else {
                                    format!("postcodes {prefix}*")
                                }
                            ),
                        );
                    }
                }
            }
            for (j, prefix) in zone.postcode_prefixes.iter().enumerate() {
                if normalise_postcode(prefix).is_empty() {
                    errors.add(
                        format!("zones[{i}].postcode_prefixes[{j}]"),
                        "a postcode prefix must not be blank",
                    );
                }
            }
        }
        let currency = self.currency();
        let mut services = HashSet::new();
        for (i, service) in self.bands.iter().enumerate() {
            if !names.contains(service.zone.as_str()) {
                errors.add(
                    format!("bands[{i}].zone"),
                    format!("no zone is named {:?}", service.zone),
                );
            }
            if !services.insert((service.zone.as_str(), service.service)) {
                errors.add(
                    format!("bands[{i}]"),
                    format!(
                        "zone {:?} already has {} bands; merge them",
                        service.zone, service.service
                    ),
                );
            }
            if service.bands.is_empty() {
                errors.add(
                    format!("bands[{i}].bands"),
                    "a service needs at least one weight band",
                );
            }
            let mut previous: Option<u32> = None;
            for (j, band) in service.bands.iter().enumerate() {
                let field = format!("bands[{i}].bands[{j}]");
                if band.up_to_g == 0 {
                    errors.add(format!("{field}.up_to_g"), "up_to_g must be above 0");
                }
                if let Some(previous) = previous
                    && band.up_to_g <= previous
                {
                    errors.add(
                        format!("{field}.up_to_g"),
                        format!(
                            "weight limits must ascend: {} g is not above the previous {previous} g",
                            band.up_to_g
                        ),
                    );
                }
                previous = Some(band.up_to_g);
                if band.price.amount_minor < 0 {
                    errors.add(format!("{field}.price"), "price must not be negative");
                }
                if let Some(currency) = currency
                    && band.price.currency != currency
                {
                    errors.add(
                        format!("{field}.price.currency"),
                        format!(
                            "every price must be in {currency}, like the first (got {})",
                            band.price.currency
                        ),
                    );
                }
            }
        }
        errors.into_result()
    }

    /// The zone for an address: among zones listing its country, the one with the longest
    /// postcode prefix that matches; a zone without prefixes covers the rest of the country.
    pub fn zone_for(&self, country: &str, postcode: Option<&str>) -> Option<&Zone> {
        let postcode = postcode.map(normalise_postcode).unwrap_or_default();
        self.zones
            .iter()
            .filter(|z| z.countries.iter().any(|c| c.eq_ignore_ascii_case(country)))
            .filter_map(|z| {
                if z.postcode_prefixes.is_empty() {
                    return Some((0, z));
                }
                z.postcode_prefixes
                    .iter()
                    .map(|p| normalise_postcode(p))
                    .filter(|p| !p.is_empty() && postcode.starts_with(p.as_str()))
                    .map(|p| p.len())
                    .max()
                    .map(|len| (len, z))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, z)| z)
    }

    /// Rates for a parcel of `weight_g` to `ship_to`, one per service the zone has a band for;
    /// empty when the address is in no zone, the parcel is heavier than every band, or the
    /// table's prices are not in `currency`.
    pub fn quote(&self, ship_to: &ShipTo, weight_g: u32, currency: Currency) -> Vec<Rate> {
        let Some(zone) = self.zone_for(&ship_to.0.country, ship_to.0.postal_code.as_deref()) else {
            return Vec::new();
        };
        let mut rates: Vec<Rate> = self
            .bands
            .iter()
            .filter(|s| s.zone == zone.name)
            .filter_map(|s| {
                let band = s.bands.iter().find(|b| weight_g <= b.up_to_g)?;
                (band.price.currency == currency).then(|| Rate {
                    carrier: self.carrier.clone(),
                    service: s.service.as_str().to_owned(),
                    price: band.price,
                    transit_days: s.transit_days,
                    rate_id: format!(
                        "{}:{}:{}:{}",
                        self.carrier, zone.name, s.service, band.up_to_g
                    ),
                })
            })
            .collect();
        rates.sort_by_key(|r| r.price.amount_minor);
        rates
    }
}

/// A tracking number of the table-rate carrier: `TT`, ten digits from the shipment id, and a
/// Luhn check digit, so a mistyped number is caught before any lookup.
pub fn table_rate_tracking_number(shipment_id: ShipmentId) -> String {
    let digits = format!(
        "{:010}",
        shipment_id.as_uuid().as_u128() % 10_000_000_000u128
    );
    format!("TT{digits}{}", luhn_check_digit(&digits))
}

/// Whether `raw` is a well-formed table-rate tracking number (prefix, length, check digit).
pub fn is_table_rate_tracking_number(raw: &str) -> bool {
    let Some(rest) = raw.strip_prefix("TT") else {
        return false;
    };
    if rest.len() != 11 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (body, check) = rest.split_at(10);
    check.starts_with(luhn_check_digit(body))
}

fn luhn_check_digit(digits: &str) -> char {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap_or('0')
}

/// A carrier priced by a [`RateTable`] (a local courier, the seller's own van). It does no I/O:
/// buying a label makes a tracking number, the label is rendered by Tote, and tracking is
/// `pre_transit` until the app records the courier's scans itself.
pub struct TableRateCarrier {
    table: RateTable,
    clock: Arc<dyn Clock>,
}

impl TableRateCarrier {
    /// Refuses a table that does not [`validate`](RateTable::validate).
    pub fn new(table: RateTable, clock: Arc<dyn Clock>) -> Result<Self, ValidationErrors> {
        table.validate()?;
        Ok(Self { table, clock })
    }

    pub fn table(&self) -> &RateTable {
        &self.table
    }
}

#[async_trait]
impl ShippingCarrier for TableRateCarrier {
    fn name(&self) -> &str {
        &self.table.carrier
    }

    async fn rates(&self, req: &RateRequest) -> Result<Vec<Rate>, CarrierError> {
        Ok(self
            .table
            .quote(&req.ship_to, req.parcel.weight_g, req.currency))
    }

    async fn buy(&self, req: &RateRequest, rate: &Rate) -> Result<LabelPurchase, CarrierError> {
        let current = self.rates(req).await?;
        let Some(rate) = current.iter().find(|r| r.rate_id == rate.rate_id) else {
            return Err(CarrierError::Rejected {
                message: format!(
                    "{} no longer offers rate {} for this parcel; ask for rates again",
                    self.table.carrier, rate.rate_id
                ),
            });
        };
        Ok(LabelPurchase {
            tracking_number: table_rate_tracking_number(req.shipment_id),
            carrier: rate.carrier.clone(),
            service: rate.service.clone(),
            price: rate.price,
            label: LabelDocument::SelfRendered,
            carrier_shipment_id: req.shipment_id.to_string(),
            tracker_id: None,
        })
    }

    async fn void(&self, purchase: &LabelPurchase) -> Result<(), CarrierError> {
        if !is_table_rate_tracking_number(&purchase.tracking_number) {
            return Err(CarrierError::NotFound {
                message: format!(
                    "{} did not issue tracking number {}",
                    self.table.carrier, purchase.tracking_number
                ),
            });
        }
        Ok(())
    }

    async fn track(&self, tracking: &TrackingRef) -> Result<Vec<TrackingEvent>, CarrierError> {
        if !is_table_rate_tracking_number(&tracking.tracking_number) {
            return Err(CarrierError::NotFound {
                message: format!(
                    "{} is not a {} tracking number (TT, ten digits and a check digit); check it for typos",
                    tracking.tracking_number, self.table.carrier
                ),
            });
        }
        Ok(vec![TrackingEvent {
            at: self.clock.now(),
            status: TrackingStatus::PreTransit,
            message: "Label created; waiting for the courier's first scan".to_owned(),
            location: None,
        }])
    }
}

/// Distinct services in a table, for listing what a table-rate carrier can do.
pub fn table_services(table: &RateTable) -> BTreeSet<ServiceLevel> {
    table.bands.iter().map(|s| s.service).collect()
}

#[cfg(test)]
mod tests;
