use super::*;
use kernel::FixedClock;

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::parse("USD").unwrap())
}

fn rate(carrier: &str, price: i64, days: Option<u32>) -> Rate {
    Rate {
        carrier: carrier.into(),
        service: "svc".into(),
        price: usd(price),
        transit_days: days,
        rate_id: format!("{carrier}-{price}"),
    }
}

#[test]
fn rate_shopping_picks_the_cheapest_rate_that_meets_the_level() {
    struct Case {
        name: &'static str,
        rates: Vec<Rate>,
        level: ServiceLevel,
        want: Option<&'static str>,
    }
    let cases = [
        Case {
            name: "cheapest overall for standard",
            rates: vec![rate("A", 900, Some(3)), rate("B", 700, Some(5))],
            level: ServiceLevel::Standard,
            want: Some("B-700"),
        },
        Case {
            name: "too slow is skipped however cheap",
            rates: vec![rate("A", 900, Some(2)), rate("B", 700, Some(3))],
            level: ServiceLevel::Expedited,
            want: Some("A-900"),
        },
        Case {
            name: "unknown transit meets standard",
            rates: vec![rate("A", 900, Some(1)), rate("B", 500, None)],
            level: ServiceLevel::Standard,
            want: Some("B-500"),
        },
        Case {
            name: "unknown transit does not meet expedited",
            rates: vec![rate("B", 500, None)],
            level: ServiceLevel::Expedited,
            want: None,
        },
        Case {
            name: "nothing fast enough for overnight",
            rates: vec![rate("A", 900, Some(2))],
            level: ServiceLevel::Overnight,
            want: None,
        },
        Case {
            name: "a price tie goes to the faster rate",
            rates: vec![rate("A", 700, Some(4)), rate("B", 700, Some(2))],
            level: ServiceLevel::Standard,
            want: Some("B-700"),
        },
        Case {
            name: "a full tie goes to the carrier first in the alphabet",
            rates: vec![rate("Zed", 700, Some(2)), rate("Acme", 700, Some(2))],
            level: ServiceLevel::Standard,
            want: Some("Acme-700"),
        },
        Case {
            name: "known transit beats unknown on a price tie",
            rates: vec![rate("A", 700, None), rate("B", 700, Some(5))],
            level: ServiceLevel::Standard,
            want: Some("B-700"),
        },
        Case {
            name: "no rates, no pick",
            rates: vec![],
            level: ServiceLevel::Standard,
            want: None,
        },
    ];
    for case in cases {
        let got = pick_rate(&case.rates, case.level).map(|r| r.rate_id.as_str());
        assert_eq!(got, case.want, "{}", case.name);
    }
}

#[test]
fn service_levels_allow_five_two_and_one_days() {
    let days: Vec<u32> = ServiceLevel::ALL
        .iter()
        .map(|l| l.max_transit_days())
        .collect();
    assert_eq!(days, vec![5, 2, 1]);
}

fn table() -> RateTable {
    RateTable {
        carrier: "Acme Courier".into(),
        zones: vec![
            Zone {
                name: "domestic".into(),
                countries: vec!["US".into()],
                postcode_prefixes: vec![],
            },
            Zone {
                name: "local".into(),
                countries: vec!["US".into()],
                postcode_prefixes: vec!["100".into(), "1001".into()],
            },
            Zone {
                name: "manhattan-core".into(),
                countries: vec!["US".into()],
                postcode_prefixes: vec!["10012".into()],
            },
            Zone {
                name: "europe".into(),
                countries: vec!["DE".into(), "FR".into()],
                postcode_prefixes: vec![],
            },
        ],
        bands: vec![
            ServiceBands {
                zone: "domestic".into(),
                service: ServiceLevel::Standard,
                transit_days: Some(5),
                bands: vec![
                    WeightBand {
                        up_to_g: 500,
                        price: usd(500),
                    },
                    WeightBand {
                        up_to_g: 2_000,
                        price: usd(900),
                    },
                ],
            },
            ServiceBands {
                zone: "domestic".into(),
                service: ServiceLevel::Expedited,
                transit_days: Some(2),
                bands: vec![WeightBand {
                    up_to_g: 2_000,
                    price: usd(1_500),
                }],
            },
            ServiceBands {
                zone: "local".into(),
                service: ServiceLevel::Overnight,
                transit_days: Some(1),
                bands: vec![WeightBand {
                    up_to_g: 5_000,
                    price: usd(800),
                }],
            },
            ServiceBands {
                zone: "manhattan-core".into(),
                service: ServiceLevel::Overnight,
                transit_days: Some(1),
                bands: vec![WeightBand {
                    up_to_g: 5_000,
                    price: usd(600),
                }],
            },
            ServiceBands {
                zone: "europe".into(),
                service: ServiceLevel::Standard,
                transit_days: None,
                bands: vec![WeightBand {
                    up_to_g: 1_000,
                    price: usd(2_500),
                }],
            },
        ],
    }
}

fn to(country: &str, postcode: Option<&str>) -> ShipTo {
    ShipTo(Address {
        name: "Ada".into(),
        line1: "1 Main St".into(),
        city: "Town".into(),
        country: country.into(),
        postal_code: postcode.map(str::to_owned),
        ..Default::default()
    })
}

#[test]
fn the_example_table_is_valid() {
    assert_eq!(table().validate(), Ok(()));
    assert_eq!(
        table_services(&table()).into_iter().collect::<Vec<_>>(),
        ServiceLevel::ALL.to_vec()
    );
}

#[test]
fn the_most_specific_postcode_prefix_wins() {
    let t = table();
    let cases = [
        ("US", Some("10012"), Some("manhattan-core")),
        ("US", Some("10013"), Some("local")),
        ("US", Some("100 99"), Some("local")),
        ("US", Some("94103"), Some("domestic")),
        ("US", None, Some("domestic")),
        ("us", Some("10012-1234"), Some("manhattan-core")),
        ("FR", Some("75001"), Some("europe")),
        ("GB", Some("SW1A 1AA"), None),
    ];
    for (country, postcode, want) in cases {
        assert_eq!(
            t.zone_for(country, postcode).map(|z| z.name.as_str()),
            want,
            "{country} {postcode:?}"
        );
    }
}

#[test]
fn a_quote_takes_the_first_band_that_holds_the_weight() {
    let t = table();
    let usd_c = Currency::parse("USD").unwrap();
    let prices = |weight| {
        t.quote(&to("US", Some("94103")), weight, usd_c)
            .into_iter()
            .map(|r| (r.service, r.price.amount_minor))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        prices(500),
        vec![("standard".into(), 500), ("expedited".into(), 1_500)]
    );
    assert_eq!(
        prices(501),
        vec![("standard".into(), 900), ("expedited".into(), 1_500)]
    );
    assert!(prices(2_001).is_empty(), "heavier than every band");
    assert!(
        t.quote(&to("US", None), 100, Currency::parse("EUR").unwrap())
            .is_empty(),
        "wrong currency"
    );
    assert!(t.quote(&to("GB", None), 100, usd_c).is_empty(), "no zone");
    let overnight = t.quote(&to("US", Some("10012")), 100, usd_c);
    assert_eq!(overnight.len(), 1);
    assert_eq!(overnight[0].price, usd(600));
    assert_eq!(
        overnight[0].rate_id,
        "Acme Courier:manhattan-core:overnight:5000"
    );
}

#[test]
fn a_broken_table_reports_every_problem_by_field() {
    let mut t = table();
    t.zones[3].countries.push("gb".into());
    t.zones.push(Zone {
        name: "domestic".into(),
        countries: vec!["US".into()],
        postcode_prefixes: vec!["1001".into()],
    });
    t.bands[0].bands.push(WeightBand {
        up_to_g: 1_000,
        price: Money::new(100, Currency::parse("EUR").unwrap()),
    });
    t.bands[1].zone = "mars".into();
    t.bands[2].bands[0].price = usd(-1);
    t.bands.push(ServiceBands {
        zone: "europe".into(),
        service: ServiceLevel::Standard,
        transit_days: None,
        bands: vec![],
    });
    let errors = t.validate().unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "zones[3].countries[2]",
            "zones[4].name",
            "zones[4]",
            "bands[0].bands[2].up_to_g",
            "bands[0].bands[2].price.currency",
            "bands[1].zone",
            "bands[2].bands[0].price",
            "bands[5]",
            "bands[5].bands",
        ],
        "{errors}"
    );
}

#[test]
fn tracking_numbers_are_deterministic_and_carry_a_check_digit() {
    let id = ShipmentId::new();
    let number = table_rate_tracking_number(id);
    assert_eq!(number, table_rate_tracking_number(id));
    assert_eq!(number.len(), 13);
    assert!(number.starts_with("TT"));
    assert!(is_table_rate_tracking_number(&number));
    // Any single mistyped digit is caught.
    let bytes = number.as_bytes();
    for i in 2..bytes.len() {
        let mut typo = bytes.to_vec();
        typo[i] = if typo[i] == b'9' { b'0' } else { typo[i] + 1 };
        assert!(!is_table_rate_tracking_number(
            std::str::from_utf8(&typo).unwrap()
        ));
    }
    assert!(!is_table_rate_tracking_number("XX12345678901"));
    assert_eq!(luhn_check_digit("7992739871"), '3');
}

fn request(postcode: &str) -> RateRequest {
    RateRequest {
        shipment_id: ShipmentId::new(),
        reference: "ORD-1".into(),
        ship_from: ShipFrom(to("US", Some("94103")).0),
        ship_to: to("US", Some(postcode)),
        parcel: Parcel {
            weight_g: 400,
            length_mm: 200,
            width_mm: 150,
            height_mm: 100,
        },
        customs: vec![],
        currency: Currency::parse("USD").unwrap(),
    }
}

#[tokio::test]
async fn the_table_rate_carrier_quotes_buys_and_tracks_without_io() {
    let now = "2026-03-01T10:00:00Z".parse().unwrap();
    let carrier = TableRateCarrier::new(table(), Arc::new(FixedClock::at(now))).unwrap();
    let req = request("10012");
    assert!(!req.is_international());
    let rates = carrier.rates(&req).await.unwrap();
    let chosen = pick_rate(&rates, ServiceLevel::Overnight).unwrap();
    assert_eq!(chosen.price, usd(600));
    let purchase = carrier.buy(&req, chosen).await.unwrap();
    assert_eq!(
        purchase.tracking_number,
        table_rate_tracking_number(req.shipment_id)
    );
    assert_eq!(purchase.label, LabelDocument::SelfRendered);
    assert_eq!(purchase.carrier, "Acme Courier");
    let events = carrier.track(&purchase.tracking_ref()).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, TrackingStatus::PreTransit);
    assert_eq!(events[0].at, now);
    carrier.void(&purchase).await.unwrap();
}

#[tokio::test]
async fn a_rate_the_table_no_longer_offers_cannot_be_bought() {
    let carrier = TableRateCarrier::new(table(), Arc::new(FixedClock::at(Utc::now()))).unwrap();
    let req = request("94103");
    let mut stale = carrier.rates(&req).await.unwrap().remove(0);
    stale.rate_id = "Acme Courier:domestic:standard:250".into();
    let err = carrier.buy(&req, &stale).await.unwrap_err();
    assert!(matches!(err, CarrierError::Rejected { .. }));
    assert!(err.to_string().contains("ask for rates again"));
    let err = carrier
        .track(&TrackingRef {
            tracking_number: "TT00000000001".into(),
            carrier: "Acme Courier".into(),
            tracker_id: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, CarrierError::NotFound { .. }));
    assert!(!err.is_retryable());
}

#[test]
fn an_invalid_table_makes_no_carrier() {
    let mut t = table();
    t.bands[0].bands.reverse();
    assert!(TableRateCarrier::new(t, Arc::new(FixedClock::at(Utc::now()))).is_err());
}

#[tokio::test]
async fn the_port_can_be_mocked() {
    let mut mock = MockShippingCarrier::new();
    mock.expect_rates().returning(|_| {
        Err(CarrierError::Unavailable {
            message: "down".into(),
        })
    });
    let err = mock.rates(&request("1")).await.unwrap_err();
    assert!(err.is_retryable());
}

#[tokio::test]
async fn shopping_skips_a_failing_carrier_and_foreign_currencies() {
    let table = TableRateCarrier::new(table(), Arc::new(FixedClock::at(Utc::now()))).unwrap();
    let mut down = MockShippingCarrier::new();
    down.expect_name().return_const("Down".to_owned());
    down.expect_rates().returning(|_| {
        Err(CarrierError::Unavailable {
            message: "down".into(),
        })
    });
    let mut cheap = MockShippingCarrier::new();
    cheap.expect_name().return_const("Cheap".to_owned());
    cheap.expect_rates().returning(|_| {
        Ok(vec![
            Rate {
                carrier: "Cheap".into(),
                service: "eco".into(),
                price: Money::new(1, Currency::parse("EUR").unwrap()),
                transit_days: Some(1),
                rate_id: "eur".into(),
            },
            rate("Cheap", 550, Some(1)),
        ])
    });
    let req = request("10012");
    let shopped = shop_rates(&[&down, &table, &cheap], &req, ServiceLevel::Overnight).await;
    let (index, chosen) = shopped.chosen.unwrap();
    assert_eq!((index, chosen.rate_id.as_str()), (2, "Cheap-550"));
    assert_eq!(shopped.failures.len(), 1);
    assert_eq!(shopped.failures[0].0, "Down");
    assert_eq!(shopped.other_currency, 1);

    let shopped = shop_rates(&[&down, &table], &req, ServiceLevel::Overnight).await;
    assert_eq!(shopped.chosen.unwrap().1.price, usd(600));
}
