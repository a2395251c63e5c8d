//! Documents that travel with a parcel: the 4×6 inch shipping label (PDF for office printers,
//! ZPL II for thermal printers) and the commercial invoice for customs.
//!
//! The tracking number is a real Code 128 barcode: barcoders encodes it into modules and each
//! run of dark modules becomes one filled rectangle, so any scanner reads it off the PDF.

use crate::money::format_money;
use barcoders::sym::code128::Code128;
use chrono::NaiveDate;
use kernel::{Address, Currency, Money};
use printpdf::{
    BuiltinFont, Color, Greyscale, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Pt, Rect, TextItem, WindingOrder,
};
use warehouse::{CustomsLine, LabelPurchase, RateRequest, ShipFrom, ShipTo};

/// What a shipping label shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    pub ship_from: ShipFrom,
    pub ship_to: ShipTo,
    pub carrier: String,
    pub service: String,
    pub weight_g: u32,
    /// The seller's reference (order number).
    pub reference: String,
    pub tracking_number: String,
}

impl LabelData {
    /// The label of a bought shipment.
    pub fn new(req: &RateRequest, purchase: &LabelPurchase) -> Self {
        Self {
            ship_from: req.ship_from.clone(),
            ship_to: req.ship_to.clone(),
            carrier: purchase.carrier.clone(),
            service: purchase.service.clone(),
            weight_g: req.parcel.weight_g,
            reference: req.reference.clone(),
            tracking_number: purchase.tracking_number.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("tracking number {0:?} cannot be a Code 128 barcode: {1}")]
    Barcode(String, String),
    #[error(
        "tracking number {0:?} is too long to fit a 4x6 label; it needs at most about 40 characters"
    )]
    TooLong(String),
    #[error("the invoice mixes currencies: {0}")]
    Currency(String),
}

/// Page size of the commercial invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    A4,
    Letter,
}

impl Paper {
    fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

/// Label size: 4 × 6 inches, in points (1/72 inch).
pub const LABEL_WIDTH_PT: f32 = 288.0;
pub const LABEL_HEIGHT_PT: f32 = 432.0;
/// Where the barcode sits on the label (its bottom edge) and how tall its bars are.
pub const BARCODE_Y_PT: f32 = 84.0;
pub const BARCODE_HEIGHT_PT: f32 = 72.0;
/// Quiet zone left and right of the bars: at least ten modules, here a quarter inch.
const QUIET_PT: f32 = 18.0;
const MAX_MODULE_PT: f32 = 2.0;
/// Narrower than about 0.5 pt (7 mil) and a 203 dpi printer can no longer draw a module.
const MIN_MODULE_PT: f32 = 0.5;

/// The Code 128 modules (1 dark, 0 light) of `data`, from the start code to the stop pattern.
/// All-digit data of even length uses code set C (two digits a symbol), anything else set B.
pub fn code128_modules(data: &str) -> Result<Vec<u8>, LabelError> {
    let digits = data.bytes().all(|b| b.is_ascii_digit());
    let prefixed = if digits && !data.is_empty() && data.len().is_multiple_of(2) {
        format!("\u{0106}{data}")
    } else {
        format!("\u{0181}{data}")
    };
    if data.is_empty() {
        return Err(LabelError::Barcode(String::new(), "it is empty".into()));
    }
    if !data.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(LabelError::Barcode(
            data.to_owned(),
            "only printable ASCII can be encoded".into(),
        ));
    }
    let code =
        Code128::new(prefixed).map_err(|e| LabelError::Barcode(data.to_owned(), e.to_string()))?;
    Ok(code.encode())
}

/// The bars of a barcode as (x, width) in points, from `left`, `module_pt` per module.
fn bars(modules: &[u8], left: f32, module_pt: f32) -> Vec<(f32, f32)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < modules.len() {
        if modules[i] == 1 {
            let start = i;
            while i < modules.len() && modules[i] == 1 {
                i += 1;
            }
            out.push((
                left + start as f32 * module_pt,
                (i - start) as f32 * module_pt,
            ));
        } else {
            i += 1;
        }
    }
    out
}

fn black() -> Op {
    Op::SetFillColor {
        col: Color::Greyscale(Greyscale {
            percent: 0.0,
            icc_profile: None,
        }),
    }
}

/// A filled rectangle. printpdf draws nothing for a rectangle without a paint mode.
fn filled_rect(x: f32, y: f32, width: f32, height: f32) -> Op {
    Op::DrawRectangle {
        rectangle: Rect {
            x: Pt(x),
            y: Pt(y),
            width: Pt(width),
            height: Pt(height),
            mode: Some(PaintMode::Fill),
            winding_order: Some(WindingOrder::NonZero),
        },
    }
}

fn rule(x1: f32, x2: f32, y: f32) -> [Op; 2] {
    [
        Op::SetOutlineThickness { pt: Pt(1.0) },
        Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point {
                            x: Pt(x1),
                            y: Pt(y),
                        },
                        bezier: false,
                    },
                    LinePoint {
                        p: Point {
                            x: Pt(x2),
                            y: Pt(y),
                        },
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        },
    ]
}

/// Text drawn at one point, left-aligned, in its own text section.
fn text(ops: &mut Vec<Op>, font: BuiltinFont, size: f32, x: f32, y: f32, value: &str) {
    ops.extend([
        Op::StartTextSection,
        Op::SetFont {
            font: PdfFontHandle::Builtin(font),
            size: Pt(size),
        },
        Op::SetTextCursor {
            pos: Point { x: Pt(x), y: Pt(y) },
        },
        Op::ShowText {
            items: vec![TextItem::Text(value.to_owned())],
        },
        Op::EndTextSection,
    ]);
}

/// The address as printed, one line each: name, company, street lines, city line, country.
pub fn address_lines(a: &Address) -> Vec<String> {
    let mut lines = vec![a.name.clone()];
    lines.extend(a.company.clone());
    lines.push(a.line1.clone());
    lines.extend(a.line2.clone());
    let city = [
        Some(a.city.clone()),
        a.region.clone(),
        a.postal_code.clone(),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    lines.push(city);
    lines.push(a.country.clone());
    lines
}

fn weight_text(weight_g: u32) -> String {
    format!("{}.{:03} kg", weight_g / 1000, weight_g % 1000)
}

fn save(title: &str, pages: Vec<PdfPage>) -> Vec<u8> {
    let mut doc = PdfDocument::new(title);
    doc.with_pages(pages);
    let mut warnings = Vec::new();
    let bytes = doc.save(&PdfSaveOptions::default(), &mut warnings);
    for w in warnings {
        tracing::debug!(page = w.page, message = %w.msg, "printpdf warning");
    }
    bytes
}

/// The 4×6 inch label as a one-page PDF.
pub fn label_pdf(label: &LabelData) -> Result<Vec<u8>, LabelError> {
    let modules = code128_modules(&label.tracking_number)?;
    let module_pt = ((LABEL_WIDTH_PT - 2.0 * QUIET_PT) / modules.len() as f32).min(MAX_MODULE_PT);
    if module_pt < MIN_MODULE_PT {
        return Err(LabelError::TooLong(label.tracking_number.clone()));
    }
    let width = module_pt * modules.len() as f32;
    let left = (LABEL_WIDTH_PT - width) / 2.0;

    let mut ops = vec![Op::SaveGraphicsState, black()];
    let margin = 14.0;
    let mut y = LABEL_HEIGHT_PT - 22.0;
    text(&mut ops, BuiltinFont::HelveticaBold, 8.0, margin, y, "FROM");
    for line in address_lines(&label.ship_from.0) {
        y -= 10.0;
        text(&mut ops, BuiltinFont::Helvetica, 8.0, margin, y, &line);
    }
    y -= 10.0;
    ops.extend(rule(margin, LABEL_WIDTH_PT - margin, y));

    y -= 20.0;
    text(
        &mut ops,
        BuiltinFont::HelveticaBold,
        10.0,
        margin,
        y,
        "SHIP TO",
    );
    for line in address_lines(&label.ship_to.0) {
        y -= 16.0;
        text(
            &mut ops,
            BuiltinFont::HelveticaBold,
            13.0,
            margin + 12.0,
            y,
            &line,
        );
    }
    y -= 14.0;
    ops.extend(rule(margin, LABEL_WIDTH_PT - margin, y));

    y -= 18.0;
    let service = format!("{} {}", label.carrier, label.service);
    text(
        &mut ops,
        BuiltinFont::HelveticaBold,
        12.0,
        margin,
        y,
        &service,
    );
    y -= 14.0;
    let weight = format!("Weight: {}", weight_text(label.weight_g));
    text(&mut ops, BuiltinFont::Helvetica, 9.0, margin, y, &weight);
    y -= 12.0;
    let reference = format!("Ref: {}", label.reference);
    text(&mut ops, BuiltinFont::Helvetica, 9.0, margin, y, &reference);

    ops.extend(rule(
        margin,
        LABEL_WIDTH_PT - margin,
        BARCODE_Y_PT + BARCODE_HEIGHT_PT + 14.0,
    ));
    text(
        &mut ops,
        BuiltinFont::HelveticaBold,
        8.0,
        margin,
        BARCODE_Y_PT + BARCODE_HEIGHT_PT + 4.0,
        "TRACKING #",
    );
    for (x, w) in bars(&modules, left, module_pt) {
        ops.push(filled_rect(x, BARCODE_Y_PT, w, BARCODE_HEIGHT_PT));
    }
    let human = spaced(&label.tracking_number);
    // Courier is 0.6 em wide a character: centre the human-readable line under the bars.
    let size = 12.0;
    let text_width = human.chars().count() as f32 * 0.6 * size;
    text(
        &mut ops,
        BuiltinFont::Courier,
        size,
        ((LABEL_WIDTH_PT - text_width) / 2.0).max(margin),
        BARCODE_Y_PT - 16.0,
        &human,
    );
    ops.push(Op::RestoreGraphicsState);

    let page = PdfPage::new(Mm(101.6), Mm(152.4), ops);
    Ok(save(
        &format!("Label {}", label.tracking_number),
        vec![page],
    ))
}

/// Groups of four for people to read out: `TT12 3456 7890 1`.
fn spaced(tracking: &str) -> String {
    tracking
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// ZPL II field data cannot hold `^` or `~` (command prefixes): they become spaces.
fn zpl_field(value: &str) -> String {
    value
        .chars()
        .map(|c| if c == '^' || c == '~' { ' ' } else { c })
        .collect()
}

/// The same label in ZPL II for a 203 dpi thermal printer (812 × 1218 dots), UTF-8 text.
pub fn label_zpl(label: &LabelData) -> Result<String, LabelError> {
    // Refuse what the PDF would refuse, so both formats agree on what is printable.
    code128_modules(&label.tracking_number)?;
    let mut z = String::from("^XA\n^CI28\n^PW812\n^LL1218\n^LH0,0\n");
    let mut y = 30;
    z.push_str(&format!("^FO40,{y}^A0N,22,22^FDFROM^FS\n"));
    for line in address_lines(&label.ship_from.0) {
        y += 26;
        z.push_str(&format!("^FO40,{y}^A0N,22,22^FD{}^FS\n", zpl_field(&line)));
    }
    y += 36;
    z.push_str(&format!("^FO30,{y}^GB752,3,3^FS\n"));
    y += 20;
    z.push_str(&format!("^FO40,{y}^A0N,28,28^FDSHIP TO^FS\n"));
    for line in address_lines(&label.ship_to.0) {
        y += 40;
        z.push_str(&format!("^FO70,{y}^A0N,36,36^FD{}^FS\n", zpl_field(&line)));
    }
    y += 56;
    z.push_str(&format!("^FO30,{y}^GB752,3,3^FS\n"));
    y += 20;
    z.push_str(&format!(
        "^FO40,{y}^A0N,34,34^FD{} {}^FS\n",
        zpl_field(&label.carrier),
        zpl_field(&label.service)
    ));
    y += 44;
    z.push_str(&format!(
        "^FO40,{y}^A0N,26,26^FDWeight: {}^FS\n",
        weight_text(label.weight_g)
    ));
    y += 34;
    z.push_str(&format!(
        "^FO40,{y}^A0N,26,26^FDRef: {}^FS\n",
        zpl_field(&label.reference)
    ));
    // Code 128 (^BC), 200 dots tall, interpretation line below, subsets chosen by the printer.
    z.push_str("^FO30,840^GB752,3,3^FS\n");
    z.push_str(&format!(
        "^FO60,880^BY3,3,200^BCN,200,Y,N,N,A^FD{}^FS\n",
        zpl_field(&label.tracking_number)
    ));
    z.push_str("^XZ\n");
    Ok(z)
}

/// What a commercial invoice declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceData {
    /// Invoice number; the order reference is fine.
    pub number: String,
    pub date: NaiveDate,
    pub exporter: ShipFrom,
    pub consignee: ShipTo,
    pub tracking_number: Option<String>,
    /// `merchandise`, `gift`, `sample`, `return`...
    pub reason: String,
    pub lines: Vec<CustomsLine>,
    pub currency: Currency,
}

impl InvoiceData {
    /// The declared total; every line must be in the invoice's currency.
    pub fn total(&self) -> Result<Money, LabelError> {
        self.lines
            .iter()
            .try_fold(Money::zero(self.currency), |sum, line| {
                sum.checked_add(line.value)
            })
            .map_err(|e| LabelError::Currency(e.to_string()))
    }

    pub fn total_weight_g(&self) -> u32 {
        self.lines.iter().map(|l| l.weight_g).sum()
    }
}

const INVOICE_ROWS_PER_PAGE: usize = 28;

/// The commercial invoice as a PDF, as many pages as its lines need, totals on the last.
pub fn commercial_invoice_pdf(invoice: &InvoiceData, paper: Paper) -> Result<Vec<u8>, LabelError> {
    let total = invoice.total()?;
    let (w, h) = paper.size_pt();
    let margin = 40.0;
    let columns: [(&str, f32); 6] = [
        ("Description", margin),
        ("HS code", margin + 190.0),
        ("Origin", margin + 265.0),
        ("Qty", margin + 315.0),
        ("Weight", margin + 355.0),
        ("Value", margin + 420.0),
    ];
    let chunks: Vec<&[CustomsLine]> = if invoice.lines.is_empty() {
        vec![&[]]
    } else {
        invoice.lines.chunks(INVOICE_ROWS_PER_PAGE).collect()
    };
    let page_count = chunks.len();
    let mut pages = Vec::new();
    for (index, chunk) in chunks.into_iter().enumerate() {
        let mut ops = vec![Op::SaveGraphicsState, black()];
        let mut y = h - margin - 10.0;
        text(
            &mut ops,
            BuiltinFont::HelveticaBold,
            18.0,
            margin,
            y,
            "COMMERCIAL INVOICE",
        );
        let page_no = format!("Page {} of {page_count}", index + 1);
        text(
            &mut ops,
            BuiltinFont::Helvetica,
            9.0,
            w - margin - 70.0,
            y,
            &page_no,
        );
        y -= 20.0;
        let meta = format!(
            "Invoice {}   Date {}   Reason for export: {}",
            invoice.number, invoice.date, invoice.reason
        );
        text(&mut ops, BuiltinFont::Helvetica, 10.0, margin, y, &meta);
        if let Some(tracking) = &invoice.tracking_number {
            y -= 14.0;
            let t = format!("Tracking number: {tracking}");
            text(&mut ops, BuiltinFont::Helvetica, 10.0, margin, y, &t);
        }
        y -= 26.0;
        let top = y;
        text(
            &mut ops,
            BuiltinFont::HelveticaBold,
            10.0,
            margin,
            y,
            "Exporter",
        );
        for line in address_lines(&invoice.exporter.0) {
            y -= 12.0;
            text(&mut ops, BuiltinFont::Helvetica, 9.0, margin, y, &line);
        }
        let mut y2 = top;
        let right = margin + 260.0;
        text(
            &mut ops,
            BuiltinFont::HelveticaBold,
            10.0,
            right,
            y2,
            "Consignee",
        );
        for line in address_lines(&invoice.consignee.0) {
            y2 -= 12.0;
            text(&mut ops, BuiltinFont::Helvetica, 9.0, right, y2, &line);
        }
        y = y.min(y2) - 26.0;
        for (title, x) in columns {
            text(&mut ops, BuiltinFont::HelveticaBold, 9.0, x, y, title);
        }
        y -= 5.0;
        ops.extend(rule(margin, w - margin, y));
        for line in chunk {
            y -= 14.0;
            let cells = [
                truncate(&line.description, 38),
                line.hs_code.clone(),
                line.origin_country.clone(),
                line.quantity.to_string(),
                weight_text(line.weight_g),
                format_money(line.value),
            ];
            for ((_, x), cell) in columns.iter().zip(cells) {
                text(&mut ops, BuiltinFont::Helvetica, 9.0, *x, y, &cell);
            }
        }
        if index + 1 == page_count {
            y -= 8.0;
            ops.extend(rule(margin, w - margin, y));
            y -= 16.0;
            let units: u32 = invoice.lines.iter().map(|l| l.quantity).sum();
            let totals = [
                format!("Total units: {units}"),
                format!("Total weight: {}", weight_text(invoice.total_weight_g())),
                format!("Total value: {}", format_money(total)),
            ];
            for t in totals {
                text(
                    &mut ops,
                    BuiltinFont::HelveticaBold,
                    10.0,
                    margin + 300.0,
                    y,
                    &t,
                );
                y -= 14.0;
            }
            y -= 30.0;
            text(
                &mut ops,
                BuiltinFont::Helvetica,
                9.0,
                margin,
                y,
                "I declare that the information above is true and correct to the best of my knowledge.",
            );
            y -= 30.0;
            text(
                &mut ops,
                BuiltinFont::Helvetica,
                9.0,
                margin,
                y,
                "Signature: ______________________",
            );
        }
        ops.push(Op::RestoreGraphicsState);
        pages.push(PdfPage::new(Mm(w * 25.4 / 72.0), Mm(h * 25.4 / 72.0), ops));
    }
    Ok(save(
        &format!("Commercial invoice {}", invoice.number),
        pages,
    ))
}

fn truncate(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        value.to_owned()
    } else {
        let mut s: String = value.chars().take(max - 1).collect();
        s.push('~');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_even_length_use_code_set_c_and_are_shorter() {
        let c = code128_modules("94001000000000000000").unwrap();
        let b = code128_modules("TT12345678901").unwrap();
        // start + 10 pairs + check = 12 symbols of 11 modules, then the 13-module stop.
        assert_eq!(c.len(), 12 * 11 + 13);
        assert_eq!(b.len(), 15 * 11 + 13);
        assert!(code128_modules("caf\u{e9}").is_err());
    }

    #[test]
    fn runs_of_dark_modules_become_bars() {
        assert_eq!(
            bars(&[1, 1, 0, 1, 0, 0, 1], 10.0, 2.0),
            vec![(10.0, 4.0), (16.0, 2.0), (22.0, 2.0)]
        );
        assert_eq!(spaced("TT123456789012"), "TT12 3456 7890 12");
    }
}
