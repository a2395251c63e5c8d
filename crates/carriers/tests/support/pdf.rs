//! What a PDF draws, read back with lopdf: filled rectangles and shown text, per page.

use lopdf::content::Content;
use lopdf::{Document, Object};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilledRect {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

pub struct Drawn {
    pub pages: usize,
    pub rects: Vec<FilledRect>,
    pub texts: Vec<String>,
}

fn number(o: &Object) -> f32 {
    match o {
        Object::Integer(i) => *i as f32,
        Object::Real(r) => *r,
        other => panic!("not a number: {other:?}"),
    }
}

fn string(o: &Object) -> Option<String> {
    match o {
        Object::String(bytes, _) => Some(bytes.iter().map(|&b| b as char).collect()),
        _ => None,
    }
}

/// Parses `bytes` (panicking if it is not a PDF) and lists every rectangle that is filled
/// (`re` followed by `f`, `f*` or `B`) and every string shown with `Tj` or `TJ`.
pub fn read(bytes: &[u8]) -> Drawn {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let doc = Document::load_mem(bytes).expect("the PDF parses");
    let pages = doc.get_pages();
    let mut rects = Vec::new();
    let mut texts = Vec::new();
    for page_id in pages.values() {
        let content = Content::decode(&doc.get_page_content(*page_id)).expect("content decodes");
        let mut pending: Vec<FilledRect> = Vec::new();
        for op in &content.operations {
            match op.operator.as_str() {
                "re" => {
                    let v: Vec<f32> = op.operands.iter().map(number).collect();
                    pending.push(FilledRect {
                        x: v[0],
                        y: v[1],
                        width: v[2],
                        height: v[3],
                    });
                }
                "f" | "F" | "f*" | "B" | "B*" => rects.append(&mut pending),
                "n" | "S" | "W" | "W*" => pending.clear(),
                "Tj" => texts.extend(op.operands.iter().filter_map(string)),
                "TJ" => {
                    if let Some(Object::Array(items)) = op.operands.first() {
                        texts.push(items.iter().filter_map(string).collect());
                    }
                }
                _ => {}
            }
        }
    }
    Drawn {
        pages: pages.len(),
        rects,
        texts,
    }
}

impl Drawn {
    pub fn all_text(&self) -> String {
        self.texts.join("\n")
    }

    /// The rectangles of the barcode: the largest group sharing one baseline and one height,
    /// left to right.
    pub fn barcode_row(&self) -> Vec<FilledRect> {
        let key = |r: &FilledRect| {
            (
                (r.y * 100.0).round() as i64,
                (r.height * 100.0).round() as i64,
            )
        };
        let mut groups: std::collections::BTreeMap<(i64, i64), Vec<FilledRect>> =
            Default::default();
        for r in &self.rects {
            groups.entry(key(r)).or_default().push(*r);
        }
        let mut row = groups
            .into_values()
            .max_by_key(|g| g.len())
            .unwrap_or_default();
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
        row
    }
}
