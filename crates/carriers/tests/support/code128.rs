//! A Code 128 decoder written from the standard's symbol table, independent of the encoder
//! under test: bars (x, width) → module widths → symbol values → checksum → text.

use super::pdf::FilledRect;

/// Bar/space widths of symbol values 0..=106 (106 is the stop, which has a seventh element).
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];

const START_A: u32 = 103;
const START_B: u32 = 104;
const START_C: u32 = 105;
const STOP: u32 = 106;

/// Element widths (bar, space, bar, ...) in modules, from bars drawn left to right. The
/// narrowest bar is taken as one module: every Code 128 start code has a one-module bar.
pub fn element_widths(bars: &[FilledRect]) -> Vec<u32> {
    assert!(!bars.is_empty(), "no bars");
    let module = bars.iter().map(|b| b.width).fold(f32::MAX, f32::min);
    let modules = |w: f32| {
        let m = w / module;
        let r = m.round();
        assert!(
            (m - r).abs() < 0.05,
            "width {w} is not a whole number of {module}-pt modules"
        );
        r as u32
    };
    let mut out = Vec::new();
    for (i, bar) in bars.iter().enumerate() {
        if i > 0 {
            let prev = bars[i - 1];
            out.push(modules(bar.x - (prev.x + prev.width)));
        }
        out.push(modules(bar.width));
    }
    out
}

fn symbol(widths: &[u32]) -> Result<u32, String> {
    let key: String = widths
        .iter()
        .map(|w| char::from_digit(*w, 10).unwrap_or('?'))
        .collect();
    PATTERNS
        .iter()
        .position(|p| *p == key)
        .map(|v| v as u32)
        .ok_or_else(|| format!("no Code 128 symbol has widths {key}"))
}

/// Decodes element widths into the encoded text, checking start, checksum and stop.
pub fn decode(widths: &[u32]) -> Result<String, String> {
    if widths.len() < 6 * 3 + 7 || !(widths.len() - 7).is_multiple_of(6) {
        return Err(format!(
            "{} elements is not a whole Code 128 symbol",
            widths.len()
        ));
    }
    let (body, stop) = widths.split_at(widths.len() - 7);
    if symbol(stop)? != STOP {
        return Err("the last pattern is not the stop pattern".into());
    }
    let values: Vec<u32> = body.chunks(6).map(symbol).collect::<Result<_, _>>()?;
    let (start, rest) = values.split_first().ok_or("empty")?;
    let (check, data) = rest.split_last().ok_or("no checksum")?;
    let sum = data
        .iter()
        .enumerate()
        .fold(*start, |acc, (i, v)| acc + (i as u32 + 1) * v);
    if sum % 103 != *check {
        return Err(format!("checksum {check} does not match {}", sum % 103));
    }
    let mut set = match *start {
        START_A => 'A',
        START_B => 'B',
        START_C => 'C',
        other => return Err(format!("{other} is not a start code")),
    };
    let mut text = String::new();
    for &v in data {
        match (set, v) {
            (_, 99) if set != 'C' => set = 'C',
            ('C', 100) | ('A', 100) => set = 'B',
            ('B', 101) | ('C', 101) => set = 'A',
            ('C', v) if v < 100 => text.push_str(&format!("{v:02}")),
            ('B', v) if v < 96 => text.push(char::from(b' ' + v as u8)),
            ('A', v) if v < 64 => text.push(char::from(b' ' + v as u8)),
            ('A', v) if v < 96 => text.push(char::from(v as u8 - 64)),
            (set, v) => return Err(format!("value {v} in set {set} is not supported here")),
        }
    }
    Ok(text)
}

#[test]
fn the_symbol_table_is_well_formed() {
    use std::collections::HashSet;
    let unique: HashSet<_> = PATTERNS.iter().collect();
    assert_eq!(unique.len(), PATTERNS.len());
    for p in &PATTERNS[..106] {
        let widths: Vec<u32> = p.chars().map(|c| c.to_digit(10).unwrap()).collect();
        assert_eq!(widths.iter().sum::<u32>(), 11, "{p}");
        // Bars (even positions) always add up to an even number of modules.
        assert_eq!((widths[0] + widths[2] + widths[4]) % 2, 0, "{p}");
    }
}
