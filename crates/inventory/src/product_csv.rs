//! Product CSV import and export: pure parsing and formatting, no files or sockets.
//!
//! **Import** reads a header row and then one product per row, streaming: [`ProductCsvReader`]
//! is an iterator that yields one `Result` per row, so a caller can stop, collect a per-row
//! error report, or import "best effort". Columns may come in any order and their names are
//! matched without regard to case or surrounding spaces; `sku` and `name` are required, the rest
//! ([`PRODUCT_CSV_COLUMNS`]) optional; an unknown or repeated column refuses the whole file (a
//! typo in a header would otherwise silently drop a column). Every row is checked by
//! [`NewProduct::validate`], so CSV and API accept exactly the same products; a SKU seen
//! earlier in the same file is an error. Malformed input never panics: a row with the wrong
//! number of columns, bytes that are not UTF-8, a field longer than [`MAX_FIELD_BYTES`] or a
//! field with a line break or control character (the usual sign of an unterminated quote,
//! which otherwise swallows the rows after it) is reported against its line.
//!
//! The parser holds one record in memory at a time (plus the set of SKUs seen); the caller
//! bounds the total size of what it feeds in (the HTTP body limit).
//!
//! **Export** is the reverse: [`product_csv_header`] once, then [`product_csv_row`] per product,
//! each a complete CSV line, so a response can stream row by row. What export writes, import
//! reads back unchanged.

use crate::product::{NewProduct, Product};
use chrono::{DateTime, Utc};
use kernel::{ProductId, Quantity, TenantId};
use std::collections::HashMap;
use std::fmt;
use std::io;

/// Every column the product CSV knows, in export order.
pub const PRODUCT_CSV_COLUMNS: [&str; 13] = [
    "sku",
    "name",
    "barcode",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "unit_cost_minor",
    "currency",
    "hs_code",
    "country_of_origin",
    "low_stock_threshold",
    "active",
];

/// Columns a file must have.
pub const REQUIRED_COLUMNS: [&str; 2] = ["sku", "name"];

/// The longest field accepted, in bytes. Longer ones are reported, not copied.
pub const MAX_FIELD_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Sku,
    Name,
    Barcode,
    Weight,
    Length,
    Width,
    Height,
    CostMinor,
    Currency,
    HsCode,
    Country,
    LowStock,
    Active,
}

const COLS: [Col; 13] = [
    Col::Sku,
    Col::Name,
    Col::Barcode,
    Col::Weight,
    Col::Length,
    Col::Width,
    Col::Height,
    Col::CostMinor,
    Col::Currency,
    Col::HsCode,
    Col::Country,
    Col::LowStock,
    Col::Active,
];

impl Col {
    fn name(self) -> &'static str {
        PRODUCT_CSV_COLUMNS[self as usize]
    }
}

/// The header row makes the whole file unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvHeaderError {
    #[error("the file is empty: expected a header row naming the columns")]
    Empty,
    #[error("the header row is not valid CSV: {0}")]
    Malformed(String),
    #[error("column {0} of the header row is not valid UTF-8")]
    NotUtf8(usize),
    #[error("unknown column(s) {}: expected some of {}", .0.join(", "), PRODUCT_CSV_COLUMNS.join(", "))]
    UnknownColumns(Vec<String>),
    #[error("missing required column(s) {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("column {0} appears more than once")]
    DuplicateColumn(String),
}

/// One problem with one row (and, when it is about one column, that column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The CSV column at fault; `None` when the row as a whole is.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, {}: {}", self.line, field, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A valid product row, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedProduct {
    pub line: u64,
    pub product: Product,
    pub low_stock_threshold: Option<Quantity>,
    pub active: bool,
}

/// One row's outcome: the product, or every problem found in the row.
pub type RowResult = Result<ImportedProduct, Vec<RowError>>;

/// Streams products out of a CSV, one [`RowResult`] per data row.
pub struct ProductCsvReader<R> {
    records: csv::ByteRecordsIntoIter<R>,
    /// Which known column each CSV column is.
    columns: Vec<Col>,
    tenant_id: TenantId,
    now: DateTime<Utc>,
    /// SKU → line where it first appeared.
    seen: HashMap<String, u64>,
    finished: bool,
}

impl<R: io::Read> ProductCsvReader<R> {
    /// Reads and checks the header row. Products get fresh ids, `tenant_id` and `now` as their
    /// creation time.
    pub fn new(input: R, tenant_id: TenantId, now: DateTime<Utc>) -> Result<Self, CsvHeaderError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let header = reader
            .byte_headers()
            .map_err(|e| CsvHeaderError::Malformed(e.to_string()))?
            .clone();
        if header.is_empty() || (header.len() == 1 && header[0].trim_ascii().is_empty()) {
            return Err(CsvHeaderError::Empty);
        }
        let mut columns = Vec::with_capacity(header.len());
        let mut unknown = Vec::new();
        for (i, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw)
                .map_err(|_| CsvHeaderError::NotUtf8(i + 1))?
                .trim()
                .to_ascii_lowercase();
            match COLS.iter().find(|c| c.name() == name) {
                Some(col) if columns.contains(col) => {
                    return Err(CsvHeaderError::DuplicateColumn(name));
                }
                Some(col) => columns.push(*col),
                None => unknown.push(truncate(&name, 64)),
            }
        }
        if !unknown.is_empty() {
            return Err(CsvHeaderError::UnknownColumns(unknown));
        }
        let missing: Vec<String> = REQUIRED_COLUMNS
            .iter()
            .filter(|r| !columns.iter().any(|c| c.name() == **r))
            .map(|r| (*r).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(CsvHeaderError::MissingColumns(missing));
        }
        Ok(Self {
            records: reader.into_byte_records(),
            columns,
            tenant_id,
            now,
            seen: HashMap::new(),
            finished: false,
        })
    }
}

impl<R: io::Read> Iterator for ProductCsvReader<R> {
    type Item = RowResult;

    fn next(&mut self) -> Option<RowResult> {
        if self.finished {
            return None;
        }
        match self.records.next()? {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                Some(self.row(line, &record))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("expected {expected_len} columns, found {len}"),
                    csv::ErrorKind::Io(_) => {
                        // A reader that failed once may fail forever: stop here.
                        self.finished = true;
                        format!("the file could not be read past this point: {e}")
                    }
                    _ => e.to_string(),
                };
                Some(Err(vec![RowError {
                    line,
                    field: None,
                    message,
                }]))
            }
        }
    }
}

impl<R> ProductCsvReader<R> {
    fn row(&mut self, line: u64, record: &csv::ByteRecord) -> RowResult {
        let mut errors = Vec::new();
        let mut cells: [Option<&str>; 13] = [None; 13];
        for (col, raw) in self.columns.iter().zip(record.iter()) {
            let mut fail = |message: &str| {
                errors.push(RowError {
                    line,
                    field: Some(col.name().to_owned()),
                    message: message.to_owned(),
                })
            };
            if raw.len() > MAX_FIELD_BYTES {
                fail(&format!("is longer than {MAX_FIELD_BYTES} bytes"));
                continue;
            }
            let Ok(text) = std::str::from_utf8(raw) else {
                fail("is not valid UTF-8 text (save the file as UTF-8)");
                continue;
            };
            if text.chars().any(char::is_control) {
                fail("contains a line break or control character (is a quote left open?)");
                continue;
            }
            let text = text.trim();
            cells[*col as usize] = (!text.is_empty()).then_some(text);
        }
        let get = |col: Col| cells[col as usize];
        let mut fail = |col: Col, message: String| {
            errors.push(RowError {
                line,
                field: Some(col.name().to_owned()),
                message,
            })
        };
        let mut int = |col: Col| -> Option<i64> {
            let text = get(col)?;
            text.parse::<i64>()
                .map_err(|_| fail(col, format!("must be a whole number (got {text:?})")))
                .ok()
        };
        let weight_grams = int(Col::Weight);
        let (length, width, height) = (int(Col::Length), int(Col::Width), int(Col::Height));
        let cost_minor = int(Col::CostMinor);
        let low_stock = int(Col::LowStock);

        let dims = [
            (Col::Length, get(Col::Length)),
            (Col::Width, get(Col::Width)),
            (Col::Height, get(Col::Height)),
        ];
        let given = dims.iter().filter(|(_, v)| v.is_some()).count();
        let dimensions = match (length, width, height) {
            (Some(l), Some(w), Some(h)) => Some((l, w, h)),
            _ => {
                if given > 0 && given < 3 {
                    for (col, value) in dims {
                        if value.is_none() {
                            fail(
                                col,
                                "is required when any of length_mm, width_mm, height_mm is given"
                                    .into(),
                            );
                        }
                    }
                }
                None
            }
        };
        let currency = get(Col::Currency).map(str::to_ascii_uppercase);
        let unit_cost = match (get(Col::CostMinor), currency) {
            (Some(_), Some(currency)) => cost_minor.map(|amount| (amount, currency)),
            (Some(_), None) => {
                fail(Col::Currency, "is required with unit_cost_minor".into());
                None
            }
            (None, Some(_)) => {
                fail(Col::CostMinor, "is required with currency".into());
                None
            }
            (None, None) => None,
        };
        let low_stock_threshold = low_stock.and_then(|n| {
            Quantity::new(n)
                .map_err(|e| fail(Col::LowStock, e.to_string()))
                .ok()
        });
        let active = match get(Col::Active).map(str::to_ascii_lowercase).as_deref() {
            None | Some("true" | "yes" | "y" | "1") => true,
            Some("false" | "no" | "n" | "0") => false,
            Some(other) => {
                fail(
                    Col::Active,
                    format!("must be true or false (got {other:?})"),
                );
                true
            }
        };
        if let Some(sku) = get(Col::Sku) {
            if let Some(first) = self.seen.get(sku) {
                fail(
                    Col::Sku,
                    format!("{sku} appears more than once in the file (first on line {first})"),
                );
            } else {
                self.seen.insert(sku.to_owned(), line);
            }
        }
        // Kits are not imported by CSV (their recipe needs the components to exist first).
        let draft = NewProduct {
            sku: get(Col::Sku).unwrap_or_default().to_owned(),
            name: get(Col::Name).unwrap_or_default().to_owned(),
            barcode: get(Col::Barcode).map(str::to_owned),
            weight_grams,
            dimensions,
            unit_cost,
            hs_code: get(Col::HsCode).map(str::to_owned),
            country_of_origin: get(Col::Country).map(str::to_owned),
            low_stock_threshold: low_stock_threshold.map(Quantity::as_i64),
            ..Default::default()
        };
        let product = match draft.validate(ProductId::new(), self.tenant_id, self.now) {
            Ok(mut product) => {
                product.active = active;
                Some(product)
            }
            Err(invalid) => {
                for e in invalid.0 {
                    let field = csv_column_of(&e.field);
                    // A cell already reported unreadable would only be reported again as
                    // missing.
                    if !errors
                        .iter()
                        .any(|r| r.field.as_deref() == Some(field.as_str()))
                    {
                        errors.push(RowError {
                            line,
                            field: Some(field),
                            message: e.message,
                        });
                    }
                }
                None
            }
        };
        match product {
            Some(product) if errors.is_empty() => Ok(ImportedProduct {
                line,
                product,
                low_stock_threshold,
                active,
            }),
            _ => Err(errors),
        }
    }
}

/// The CSV column for a field path of [`NewProduct::validate`].
fn csv_column_of(field: &str) -> String {
    match field {
        "unit_cost.amount_minor" => "unit_cost_minor".into(),
        "unit_cost.currency" => "currency".into(),
        other => other.strip_prefix("dimensions.").unwrap_or(other).into(),
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Parses a whole CSV held in memory; see [`ProductCsvReader`] to stream.
pub fn parse_product_csv(
    input: &[u8],
    tenant_id: TenantId,
    now: DateTime<Utc>,
) -> Result<Vec<RowResult>, CsvHeaderError> {
    Ok(ProductCsvReader::new(input, tenant_id, now)?.collect())
}

/// Splits row outcomes into the valid products and a flat error report (in file order), for an
/// all-or-nothing import (store nothing unless the report is empty) or a best-effort one.
pub fn partition_rows(
    rows: impl IntoIterator<Item = RowResult>,
) -> (Vec<ImportedProduct>, Vec<RowError>) {
    let mut products = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        match row {
            Ok(product) => products.push(product),
            Err(row_errors) => errors.extend(row_errors),
        }
    }
    (products, errors)
}

/// The header line of a product export (with its line terminator).
pub fn product_csv_header() -> String {
    csv_line(PRODUCT_CSV_COLUMNS.iter().map(|c| (*c).to_owned()))
}

/// One product as a CSV line (with its line terminator), columns as [`product_csv_header`].
pub fn product_csv_row(
    product: &Product,
    low_stock_threshold: Option<Quantity>,
    active: bool,
) -> String {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let dims = product.dimensions;
    csv_line([
        product.sku.as_str().to_owned(),
        product.name.clone(),
        opt(product.barcode.clone()),
        opt(product.weight_grams.map(|w| w.to_string())),
        opt(dims.map(|d| d.length_mm.to_string())),
        opt(dims.map(|d| d.width_mm.to_string())),
        opt(dims.map(|d| d.height_mm.to_string())),
        opt(product.unit_cost.map(|m| m.amount_minor.to_string())),
        opt(product.unit_cost.map(|m| m.currency.to_string())),
        opt(product.hs_code.clone()),
        opt(product.country_of_origin.clone()),
        opt(low_stock_threshold.map(|q| q.to_string())),
        active.to_string(),
    ])
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let fields: Vec<String> = fields.into_iter().collect();
    // Writing to a Vec cannot fail, and our fields are valid UTF-8.
    let bytes = writer
        .write_record(&fields)
        .and_then(|()| writer.flush().map_err(csv::Error::from))
        .ok()
        .and_then(|()| writer.into_inner().ok())
        .unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &[u8]) -> Result<Vec<RowResult>, CsvHeaderError> {
        parse_product_csv(input, TenantId::new(), Utc::now())
    }

    fn errors(row: &RowResult) -> Vec<(u64, Option<&str>)> {
        match row {
            Ok(p) => panic!("expected errors, got {p:?}"),
            Err(errors) => errors
                .iter()
                .map(|e| (e.line, e.field.as_deref()))
                .collect(),
        }
    }

    const FULL: &str = "sku,name,barcode,weight_grams,length_mm,width_mm,height_mm,\
unit_cost_minor,currency,hs_code,country_of_origin,low_stock_threshold,active\n\
TEE-BLUE-M,\"Blue tee, M\",4006381333931,180,300,200,20,450,USD,6109.10,bd,5,true\n\
MUG,Mug,,,,,,,,,,,\n";

    #[test]
    fn a_full_file_is_read_into_valid_products() {
        let rows = parse(FULL.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        let tee = rows[0].as_ref().unwrap();
        assert_eq!(tee.line, 2);
        assert_eq!(tee.product.sku.as_str(), "TEE-BLUE-M");
        assert_eq!(tee.product.name, "Blue tee, M");
        assert_eq!(tee.product.barcode.as_deref(), Some("4006381333931"));
        assert_eq!(tee.product.weight_grams, Some(180));
        assert_eq!(tee.product.dimensions.unwrap().width_mm, 200);
        assert_eq!(tee.product.unit_cost.unwrap().amount_minor, 450);
        assert_eq!(tee.product.hs_code.as_deref(), Some("610910"));
        assert_eq!(tee.product.country_of_origin.as_deref(), Some("BD"));
        assert_eq!(tee.low_stock_threshold, Some(Quantity::new(5).unwrap()));
        assert!(tee.active);
        let mug = rows[1].as_ref().unwrap();
        assert_eq!(mug.line, 3);
        assert_eq!(mug.product.dimensions, None);
        assert_eq!(mug.low_stock_threshold, None);
    }

    #[test]
    fn columns_may_come_in_any_order_and_case() {
        let rows = parse(b" Name ,active,SKU\nMug,no,MUG\n").unwrap();
        let mug = rows[0].as_ref().unwrap();
        assert_eq!(mug.product.sku.as_str(), "MUG");
        assert!(!mug.active);
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let rows = parse(b"\xEF\xBB\xBFsku,name\nMUG,Mug\n").unwrap();
        assert!(rows[0].is_ok());
    }

    #[test]
    fn header_problems_refuse_the_whole_file() {
        assert_eq!(parse(b"").unwrap_err(), CsvHeaderError::Empty);
        assert_eq!(
            parse(b"sku,name,colour\n").unwrap_err(),
            CsvHeaderError::UnknownColumns(vec!["colour".into()])
        );
        assert_eq!(
            parse(b"sku,barcode\n").unwrap_err(),
            CsvHeaderError::MissingColumns(vec!["name".into()])
        );
        assert_eq!(
            parse(b"sku,name,SKU\n").unwrap_err(),
            CsvHeaderError::DuplicateColumn("sku".into())
        );
        assert_eq!(
            parse(b"sku,name,\xff\n").unwrap_err(),
            CsvHeaderError::NotUtf8(3)
        );
    }

    #[test]
    fn a_header_without_rows_is_an_empty_import() {
        assert!(parse(b"sku,name\n").unwrap().is_empty());
    }

    #[test]
    fn every_problem_in_a_row_is_reported_with_its_line_and_column() {
        let file = "sku,name,barcode,weight_grams,country_of_origin\n\
                    OK-1,Fine,,,\n\
                    bad sku,,4006381333932,heavy,Germany\n";
        let rows = parse(file.as_bytes()).unwrap();
        assert!(rows[0].is_ok());
        assert_eq!(
            errors(&rows[1]),
            vec![
                (3, Some("weight_grams")),
                (3, Some("sku")),
                (3, Some("name")),
                (3, Some("barcode")),
                (3, Some("country_of_origin")),
            ]
        );
    }

    #[test]
    fn validation_field_paths_are_mapped_to_csv_columns() {
        let file = "sku,name,length_mm,width_mm,height_mm,unit_cost_minor,currency\n\
                    A,A,0,10,10,-5,usd\n\
                    B,B,10,,,100,\n\
                    C,C,,,,,EURO\n";
        let rows = parse(file.as_bytes()).unwrap();
        assert_eq!(
            errors(&rows[0]),
            vec![(2, Some("length_mm")), (2, Some("unit_cost_minor"))]
        );
        assert_eq!(
            errors(&rows[1]),
            vec![
                (3, Some("width_mm")),
                (3, Some("height_mm")),
                (3, Some("currency"))
            ]
        );
        assert_eq!(errors(&rows[2]), vec![(4, Some("unit_cost_minor"))]);
    }

    #[test]
    fn a_currency_in_lower_case_is_accepted() {
        let rows = parse(b"sku,name,unit_cost_minor,currency\nA,A,199,eur\n").unwrap();
        let cost = rows[0].as_ref().unwrap().product.unit_cost.unwrap();
        assert_eq!(cost.currency.as_str(), "EUR");
    }

    #[test]
    fn a_sku_repeated_in_the_file_is_reported_on_each_repeat() {
        let rows = parse(b"sku,name\nMUG,Mug\nTEE,Tee\nMUG,Mug again\nMUG,Thrice\n").unwrap();
        assert!(rows[0].is_ok() && rows[1].is_ok());
        for row in &rows[2..] {
            let Err(errors) = row else {
                panic!("expected a duplicate")
            };
            assert_eq!(errors[0].field.as_deref(), Some("sku"));
            assert!(errors[0].message.contains("first on line 2"), "{errors:?}");
        }
    }

    #[test]
    fn a_row_with_the_wrong_number_of_columns_is_reported_and_reading_goes_on() {
        let rows = parse(b"sku,name\nA,A,extra\nB\nC,C\n").unwrap();
        assert_eq!(rows.len(), 3);
        let Err(e) = &rows[0] else { panic!() };
        assert_eq!(e[0].line, 2);
        assert_eq!(e[0].field, None);
        assert_eq!(e[0].message, "expected 2 columns, found 3");
        assert_eq!(errors(&rows[1]), vec![(3, None)]);
        assert_eq!(rows[2].as_ref().unwrap().line, 4);
    }

    #[test]
    fn an_unterminated_quote_is_caught_not_swallowed() {
        // The open quote on line 2 runs to the end of the file, taking line 3 with it.
        let rows = parse(b"sku,name\nA,\"Mug\nB,Tee\n").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(errors(&rows[0]), vec![(2, Some("name"))]);
        // Also in the last column of a wide file, and with no newline at all.
        assert!(parse(b"sku,name\n\"A").unwrap().iter().all(Result::is_err));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_reported_per_field() {
        let rows = parse(b"sku,name\nMUG,Caf\xe9 mug\n").unwrap();
        let Err(e) = &rows[0] else { panic!() };
        assert_eq!(e[0].field.as_deref(), Some("name"));
        assert!(e[0].message.contains("UTF-8"));
    }

    #[test]
    fn a_huge_field_is_refused_without_being_copied() {
        let mut file = b"sku,name\nMUG,".to_vec();
        file.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
        file.extend(b"\nTEE,Tee\n");
        let rows = parse(&file).unwrap();
        let Err(e) = &rows[0] else { panic!() };
        assert_eq!(
            e[0].message,
            format!("is longer than {MAX_FIELD_BYTES} bytes")
        );
        assert!(rows[1].is_ok());
    }

    #[test]
    fn garbage_never_panics() {
        let inputs: [&[u8]; 8] = [
            b"\"",
            b",,,,\n,,,\n",
            b"sku,name\n\"\"\"\n",
            b"sku,name\n\0\0\0,\xff\xfe\n",
            b"sku\"x,name\n",
            b"\n\n\n",
            b"sku,name\r\nA,B\rC,D\r\n",
            b"sku,name\n,\n",
        ];
        for input in inputs {
            let _ = parse(input);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_after_a_valid_header_never_panic(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)
        ) {
            let mut file = b"sku,name,weight_grams,unit_cost_minor,currency\n".to_vec();
            file.extend(body);
            let rows = parse(&file).unwrap();
            for row in rows.iter().flat_map(|r| r.as_ref().err()).flatten() {
                proptest::prop_assert!(row.line >= 2);
            }
        }
    }

    #[test]
    fn rows_split_into_products_and_a_flat_error_report() {
        let rows = parse(b"sku,name\nA,A\nbad sku,\nC,C\n").unwrap();
        let (products, errors) = partition_rows(rows);
        let skus: Vec<_> = products.iter().map(|p| p.product.sku.as_str()).collect();
        assert_eq!(skus, vec!["A", "C"]);
        let report: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            report,
            vec![
                "line 3, sku: SKU may contain only letters, digits and - _ . / (found ' ')",
                "line 3, name: name must not be empty",
            ]
        );
    }

    #[test]
    fn an_error_displays_line_column_and_message() {
        let e = RowError {
            line: 7,
            field: Some("barcode".into()),
            message: "is wrong".into(),
        };
        assert_eq!(e.to_string(), "line 7, barcode: is wrong");
    }

    #[test]
    fn export_writes_a_header_and_one_line_per_product() {
        assert_eq!(
            product_csv_header(),
            "sku,name,barcode,weight_grams,length_mm,width_mm,height_mm,unit_cost_minor,\
             currency,hs_code,country_of_origin,low_stock_threshold,active\r\n"
        );
        let rows = parse(FULL.as_bytes()).unwrap();
        let tee = rows[0].as_ref().unwrap();
        assert_eq!(
            product_csv_row(&tee.product, tee.low_stock_threshold, tee.active),
            "TEE-BLUE-M,\"Blue tee, M\",4006381333931,180,300,200,20,450,USD,610910,BD,5,true\r\n"
        );
        let mug = rows[1].as_ref().unwrap();
        assert_eq!(
            product_csv_row(&mug.product, None, false),
            "MUG,Mug,,,,,,,,,,,false\r\n"
        );
    }

    #[test]
    fn what_export_writes_import_reads_back() {
        let rows = parse(FULL.as_bytes()).unwrap();
        let mut exported = product_csv_header();
        for row in &rows {
            let p = row.as_ref().unwrap();
            exported.push_str(&product_csv_row(
                &p.product,
                p.low_stock_threshold,
                p.active,
            ));
        }
        let again = parse(exported.as_bytes()).unwrap();
        for (a, b) in rows.iter().zip(&again) {
            let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
            assert_eq!(a.product.sku, b.product.sku);
            assert_eq!(a.product.name, b.product.name);
            assert_eq!(a.product.barcode, b.product.barcode);
            assert_eq!(a.product.weight_grams, b.product.weight_grams);
            assert_eq!(a.product.dimensions, b.product.dimensions);
            assert_eq!(a.product.unit_cost, b.product.unit_cost);
            assert_eq!(a.product.hs_code, b.product.hs_code);
            assert_eq!(a.product.country_of_origin, b.product.country_of_origin);
            assert_eq!(a.low_stock_threshold, b.low_stock_threshold);
            assert_eq!(a.active, b.active);
        }
    }
}
