//! Labels and invoices are checked by reading the PDF back: the barcode is decoded from the
//! rectangles actually drawn, so a label that renders without bars (or with wrong ones) fails.

mod support;

use carriers::label::{
    BARCODE_HEIGHT_PT, BARCODE_Y_PT, InvoiceData, LabelData, Paper, code128_modules,
    commercial_invoice_pdf, label_pdf, label_zpl,
};
use support::{code128, pdf, request, usd};
use warehouse::{CustomsLine, ShipFrom, ShipTo};

fn label(tracking: &str) -> LabelData {
    let req = request("US", 1_250);
    LabelData {
        ship_from: req.ship_from,
        ship_to: req.ship_to,
        carrier: "USPS".into(),
        service: "Priority".into(),
        weight_g: 1_250,
        reference: "ORD-1042".into(),
        tracking_number: tracking.into(),
    }
}

fn decoded_barcode(bytes: &[u8]) -> String {
    let drawn = pdf::read(bytes);
    let row = drawn.barcode_row();
    assert!(
        row.len() > 20,
        "the barcode row has only {} bars",
        row.len()
    );
    for bar in &row {
        assert_eq!(bar.y, BARCODE_Y_PT);
        assert_eq!(bar.height, BARCODE_HEIGHT_PT);
    }
    code128::decode(&code128::element_widths(&row)).unwrap()
}

#[test]
fn the_label_pdf_carries_the_tracking_number_as_a_barcode_that_decodes() {
    for tracking in [
        "TT48213075592",
        "9400111899223197428490",
        "1Z999AA10123456784",
        "EZ1000000001",
        "abc-123 XYZ/9",
    ] {
        let bytes = label_pdf(&label(tracking)).unwrap();
        assert_eq!(decoded_barcode(&bytes), tracking);
    }
}

#[test]
fn the_label_pdf_shows_addresses_service_weight_and_reference() {
    let bytes = label_pdf(&label("TT48213075592")).unwrap();
    let drawn = pdf::read(&bytes);
    assert_eq!(drawn.pages, 1);
    let text = drawn.all_text();
    for expected in [
        "Tote Fulfilment",
        "Reno NV 89501",
        "SHIP TO",
        "Ada Lovelace",
        "New York NY 10012",
        "USPS Priority",
        "Weight: 1.250 kg",
        "Ref: ORD-1042",
        "TT48 2130 7559 2",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // Every bar fits inside the 4-inch width with its quiet zone.
    let row = drawn.barcode_row();
    assert!(row.first().unwrap().x >= 10.0);
    let last = row.last().unwrap();
    assert!(last.x + last.width <= 278.0);
}

#[test]
fn a_tracking_number_that_cannot_be_encoded_is_an_error_not_a_blank_label() {
    assert!(label_pdf(&label("caf\u{e9}")).is_err());
    assert!(label_pdf(&label(&"X".repeat(80))).is_err());
    assert!(label_zpl(&label("caf\u{e9}")).is_err());
    assert!(code128_modules("").is_err());
}

#[test]
fn the_zpl_label_has_a_code_128_field_with_the_tracking_number() {
    let zpl = label_zpl(&label("TT48213075592")).unwrap();
    assert!(zpl.starts_with("^XA"));
    assert!(zpl.trim_end().ends_with("^XZ"));
    assert!(zpl.contains("^BCN,200,Y,N,N"));
    assert!(zpl.contains("^FDTT48213075592^FS"));
    assert!(zpl.contains("^FDAda Lovelace^FS"));
    assert!(zpl.contains("^FDUSPS Priority^FS"));
    // A caret in customer data cannot start a ZPL command.
    let mut evil = label("TT48213075592");
    evil.ship_to.0.name = "Eve ^XZ^XA".into();
    let zpl = label_zpl(&evil).unwrap();
    assert_eq!(zpl.matches("^XZ").count(), 1);
}

fn invoice(lines: Vec<CustomsLine>) -> InvoiceData {
    let req = request("GB", 800);
    InvoiceData {
        number: "ORD-1042".into(),
        date: "2026-03-01".parse().unwrap(),
        exporter: ShipFrom(req.ship_from.0),
        consignee: ShipTo(req.ship_to.0),
        tracking_number: Some("EZ1000000001".into()),
        reason: "merchandise".into(),
        lines,
        currency: kernel::Currency::parse("USD").unwrap(),
    }
}

fn line(description: &str, hs: &str, qty: u32, value: i64, weight_g: u32) -> CustomsLine {
    CustomsLine {
        description: description.into(),
        hs_code: hs.into(),
        origin_country: "US".into(),
        quantity: qty,
        value: usd(value),
        weight_g,
    }
}

#[test]
fn the_commercial_invoice_lists_hs_codes_origins_and_the_total() {
    let inv = invoice(vec![
        line("Cotton T-shirt", "6109.10", 2, 3_000, 400),
        line("Leather wallet", "4202.31", 1, 124_950, 150),
    ]);
    for paper in [Paper::A4, Paper::Letter] {
        let drawn = pdf::read(&commercial_invoice_pdf(&inv, paper).unwrap());
        let text = drawn.all_text();
        for expected in [
            "COMMERCIAL INVOICE",
            "6109.10",
            "4202.31",
            "Cotton T-shirt",
            "USD 30.00",
            "USD 1,249.50",
            "Total value: USD 1,279.50",
            "Total units: 3",
            "Total weight: 0.550 kg",
            "London",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }
}

#[test]
fn a_long_invoice_runs_onto_more_pages_with_the_total_on_the_last() {
    let lines = (0..60)
        .map(|i| line(&format!("Item {i}"), "9503.00", 1, 100, 10))
        .collect();
    let drawn = pdf::read(&commercial_invoice_pdf(&invoice(lines), Paper::A4).unwrap());
    assert_eq!(drawn.pages, 3);
    let text = drawn.all_text();
    assert!(text.contains("Item 59"));
    assert!(text.contains("Page 3 of 3"));
    assert_eq!(text.matches("Total value: USD 60.00").count(), 1);
}

#[test]
fn an_invoice_in_two_currencies_is_refused() {
    let mut eur = line("Book", "4901.99", 1, 1_000, 300);
    eur.value = kernel::Money::new(1_000, kernel::Currency::parse("EUR").unwrap());
    assert!(commercial_invoice_pdf(&invoice(vec![eur]), Paper::A4).is_err());
}
