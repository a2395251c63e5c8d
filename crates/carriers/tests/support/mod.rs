//! Test utilities: read what a PDF draws, decode Code 128, build requests.
#![allow(dead_code)]

pub mod code128;
pub mod pdf;

use kernel::{Address, Currency, Money, ShipmentId};
use warehouse::{CustomsLine, Parcel, RateRequest, ShipFrom, ShipTo};

pub fn usd(amount_minor: i64) -> Money {
    Money::new(amount_minor, Currency::parse("USD").unwrap())
}

pub fn warehouse_address() -> Address {
    Address {
        name: "Tote Fulfilment".into(),
        company: Some("Acme Shop".into()),
        line1: "1 Dock Road".into(),
        city: "Reno".into(),
        region: Some("NV".into()),
        postal_code: Some("89501".into()),
        country: "US".into(),
        phone: Some("+1 775 555 0100".into()),
        ..Default::default()
    }
}

pub fn customer_address(country: &str) -> Address {
    Address {
        name: "Ada Lovelace".into(),
        line1: "12 St James's Square".into(),
        city: if country == "US" {
            "New York".into()
        } else {
            "London".into()
        },
        region: (country == "US").then(|| "NY".into()),
        postal_code: Some(if country == "US" {
            "10012".into()
        } else {
            "SW1Y 4JH".into()
        }),
        country: country.into(),
        email: Some("ada@example.com".into()),
        ..Default::default()
    }
}

pub fn request(country: &str, weight_g: u32) -> RateRequest {
    RateRequest {
        shipment_id: ShipmentId::new(),
        reference: "ORD-1042".into(),
        ship_from: ShipFrom(warehouse_address()),
        ship_to: ShipTo(customer_address(country)),
        parcel: Parcel {
            weight_g,
            length_mm: 254,
            width_mm: 203,
            height_mm: 102,
        },
        customs: if country == "US" {
            vec![]
        } else {
            vec![CustomsLine {
                description: "Cotton T-shirt".into(),
                hs_code: "6109.10".into(),
                origin_country: "US".into(),
                quantity: 2,
                value: usd(3_000),
                weight_g: 400,
            }]
        },
        currency: Currency::parse("USD").unwrap(),
    }
}
