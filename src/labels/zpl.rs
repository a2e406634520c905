//! Unit labels in ZPL for Zebra-compatible printers, drawn from the same layout as their SVG
//! and PNG (`layout::unit_label`): the same lines at the same places and sizes, the unit id as
//! a Code 128 barcode with its quiet zone. UTF-8 text (`^CI28`), with `^`, `~` and `_` written
//! as `_xx` hex escapes (`^FH`). The printer's built-in font 0 has no Chinese: characters it
//! cannot draw are left out of the ZPL (the SVG and PNG keep them).

use super::layout::{self, Item};

/// What a unit label shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UnitLabel {
    pub unit_id: String,
    pub outcome: String,
    pub grade: String,
    pub sku: String,
    /// Empty for a unit on no RMA (the label says "no RMA").
    pub rma: String,
    pub date: String,
    /// The product's name (catalog, else the expected line's title).
    pub name: String,
    /// Who the unit goes back to, on a return-to-supplier label.
    pub supplier: Option<String>,
    /// Where its outcome sent it, printed with the outcome.
    pub destination: Option<String>,
}

impl UnitLabel {
    /// The label of unit `id` as recorded.
    pub fn of(id: i64, f: crate::store::station::UnitFacts) -> UnitLabel {
        use crate::domain::codes::{Coded, Outcome};
        let to_supplier = f.outcome == Some(Outcome::ReturnToSupplier);
        UnitLabel {
            unit_id: crate::export::unit_label(id),
            outcome: f.outcome.map_or("not inspected".into(), |o| o.en().to_string()),
            grade: f.grade.unwrap_or_default(),
            sku: f.sku.unwrap_or_default(),
            rma: f.rma.unwrap_or_default(),
            date: f.at.chars().take(10).collect(),
            name: f.title.unwrap_or_default(),
            supplier: f.supplier.filter(|s| to_supplier && !s.trim().is_empty()),
            destination: f.destination.filter(|d| !d.trim().is_empty()),
        }
    }
}

/// A label's size and the printer's resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelSize {
    pub width_mm: u32,
    pub height_mm: u32,
    pub dpi: u32,
}

impl Default for LabelSize {
    fn default() -> Self {
        LabelSize { width_mm: 60, height_mm: 40, dpi: 203 }
    }
}

impl LabelSize {
    pub fn dots(self, mm: u32) -> u32 {
        (f64::from(mm) * f64::from(self.dpi) / 25.4).round() as u32
    }
}

/// Text for a `^FH` field: the characters ZPL would take as commands, hex-escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in crate::domain::text::in_file(text).chars() {
        match c {
            '_' => out.push_str("_5F"),
            '^' => out.push_str("_5E"),
            '~' => out.push_str("_7E"),
            c => out.push(c),
        }
    }
    out
}

/// Text as font 0 prints it: without the characters it has no glyph for (Chinese and other
/// wide characters), blanks they leave collapsed; "…" as three dots.
pub fn font0(text: &str) -> String {
    let text = text.replace('…', "...").replace('→', "->");
    if !text.chars().any(layout::wide) {
        return text;
    }
    let kept: String = text.chars().filter(|c| !layout::wide(*c)).collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each run of characters font 0 cannot print (see [`font0`]) as one `?`.
fn marked_wide(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if layout::wide(c) {
            if !in_run {
                out.push('?');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

/// A printer font's name as ZPL takes it: a drive, a colon, a file name with its extension
/// (`E:SIMSUN.TTF`); nothing that could end the field or start a command.
pub fn check_font(font: &str) -> Result<(), String> {
    let ok = font.split_once(':').is_some_and(|(drive, file)| {
        matches!(drive, "R" | "E" | "B" | "A" | "Z")
            && file.contains('.')
            && file.len() <= 40
            && file.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("\"{font}\" is not a printer font: a drive, a colon and a file, e.g. \"E:SIMSUN.TTF\""))
    }
}

/// The label as ZPL in the printer's font 0 (no Chinese): see [`unit_label_in`].
pub fn unit_label(l: &UnitLabel, size: LabelSize) -> String {
    unit_label_in(l, size, None)
}

/// The label as ZPL: each line of the layout at its baseline (`^FT`) at its size, in `font`
/// (a font stored on the printer, which prints Chinese) or else in font 0 (Chinese left out);
/// the barcode at its place with the layout's module in whole dots.
pub fn unit_label_in(l: &UnitLabel, size: LabelSize, font: Option<&str>) -> String {
    let page = layout::unit_page(l, f64::from(size.width_mm), f64::from(size.height_mm));
    let dpm = f64::from(size.dpi) / 25.4;
    let dots = |mm: f64| (mm * dpm).round().max(0.0) as u32;
    let mut z =
        format!("^XA\n^CI28\n^PW{}\n^LL{}\n^LH0,0\n", size.dots(size.width_mm), size.dots(size.height_mm));
    for item in &page.items {
        match item {
            Item::Text { x, y, size, text, .. } => {
                let h = dots(*size).max(10);
                let (text, face) = match font {
                    Some(f) => (text.replace('…', "..."), format!("^A@N,{h},{h},{f}")),
                    // The destination's line says where a part font 0 cannot print is
                    // (`RTV-?`), rather than print what is left as if it were the whole.
                    None if text.starts_with('→') => (font0(&marked_wide(text)), format!("^A0N,{h},{h}")),
                    None => (font0(text), format!("^A0N,{h},{h}")),
                };
                // A line of Chinese only has nothing font 0 can print; a line that only named
                // what follows (a "Supplier" with its name left out) is left out with it.
                if text.is_empty() || text.ends_with(':') {
                    continue;
                }
                z.push_str(&format!("^FT{},{}{face}^FH^FD{}^FS\n", dots(*x), dots(*y), escape(&text)));
            }
            Item::Bars { x, y, module, height, code } => {
                // One module is 2 dots at 203 dpi (0.25 mm), 3 at 300 dpi: sharp on both.
                let m = dots(*module).max(1);
                let bars = dots(*x) + super::QUIET_MODULES as u32 * m;
                z.push_str(&format!(
                    "^FO{bars},{}^BY{m}^BCN,{},N,N,N^FH^FD{}^FS\n",
                    dots(*y),
                    dots(*height),
                    escape(&code.text)
                ));
            }
        }
    }
    z.push_str("^XZ\n");
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_zpl_would_run() {
        assert_eq!(escape("A^B~C_D"), "A_5EB_7EC_5FD");
        assert_eq!(escape("退款\u{1b}[2J"), "退款[2J");
    }

    /// ZPL, SVG and the page PNG is drawn from carry a hostile SKU or RMA without what it hid.
    #[test]
    fn label_text_from_outside_is_in_its_file_form() {
        let l = UnitLabel {
            unit_id: "U00000001".into(),
            outcome: "accept".into(),
            grade: "A".into(),
            sku: format!("S\u{1b}^XA\u{7}\u{202e}\u{feff}\u{e0041}\u{2028}K{}", "\u{301}".repeat(80)),
            rma: "R\u{2066}1\u{2069}\u{ad}\u{200b}".into(),
            date: "2026-11-22".into(),
            name: "Case\u{1b}[2J\u{202e}".into(),
            supplier: None,
            destination: None,
        };
        // What the file form leaves as it is has nothing left to take out (its own tests say
        // what it takes out).
        let clean = |what: &str, text: &str| {
            assert_eq!(crate::domain::text::in_file(text), text, "{what}");
            assert!(
                !text.contains(['\u{1b}', '\u{7}', '\u{202e}', '\u{feff}', '\u{e0041}']),
                "{what}: {text:?}"
            );
        };
        let z = unit_label(&l, LabelSize::default());
        z.lines().for_each(|line| clean("ZPL", line));
        assert!(z.contains(&format!("^FDSKU S_5EXAK{}  2026-11-22^FS", "\u{301}".repeat(3))), "{z}");
        assert!(z.contains("^FDRMA R1^FS") && z.contains("^FDCase[2J^FS"), "{z}");
        super::super::svg::unit_label(&l, 60.0, 40.0).unwrap().lines().for_each(|line| clean("SVG", line));
        let page = super::super::layout::unit_label(&l, 60.0, 40.0).unwrap();
        for item in &page.items {
            if let super::super::layout::Item::Text { text, .. } = item {
                clean("the page drawn as PNG", text);
            }
        }
    }

    #[test]
    fn a_long_outcome_shrinks_to_the_label() {
        let l = UnitLabel {
            unit_id: "U00000001".into(),
            outcome: "return to supplier".into(),
            grade: String::new(),
            sku: "S".into(),
            rma: "R".into(),
            date: "2026-11-22".into(),
            ..UnitLabel::default()
        };
        let z = unit_label(&l, LabelSize::default());
        // 54 mm between the margins, 18 characters at 0.62 em: 4.8 mm, 39 dots.
        assert!(z.contains("^A0N,39,39^FH^FDRETURN TO SUPPLIER^FS"), "{z}");
    }

    fn label() -> UnitLabel {
        UnitLabel {
            unit_id: "U00000004".into(),
            outcome: "return to supplier".into(),
            sku: "SKU-1001".into(),
            rma: String::new(),
            date: "2026-11-22".into(),
            name: "小米 Redmi Buds 5 蓝牙耳机 黑色 降噪版 特别长的名字".into(),
            supplier: Some("Dongguan Tech Ltd.".into()),
            destination: None,
            ..UnitLabel::default()
        }
    }

    /// The unit id in type: font 0 at 64 dots (8 mm) at 203 dpi, 94 dots (8 mm) at 300 dpi.
    #[test]
    fn the_unit_id_is_large_and_the_rest_of_the_label_is_there() {
        let z = unit_label(&label(), LabelSize::default());
        assert!(z.contains("^A0N,64,64^FH^FDU00000004^FS"), "{z}");
        assert!(z.contains("^FDno RMA^FS"), "a unit on no RMA says so: {z}");
        assert!(z.contains("^FDSupplier: Dongguan Tech Ltd.^FS"), "{z}");
        // The name keeps what font 0 can print; the Chinese is left out, not printed as boxes.
        let name = z.lines().find(|l| l.contains("Redmi")).unwrap();
        assert!(name.ends_with("^FDRedmi Buds 5 ...^FS") || name.contains("^FDRedmi Buds 5^FS"), "{name}");
        assert!(!z.chars().any(crate::labels::layout::wide), "{z}");
        let big = unit_label(&label(), LabelSize { width_mm: 100, height_mm: 150, dpi: 300 });
        let id = big.lines().find(|l| l.starts_with("^FT") && l.ends_with("^FDU00000004^FS")).unwrap();
        let h: u32 = id.split("^A0N,").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
        assert!(h >= 94, "at least 8 mm at 300 dpi: {id}");
    }

    /// A supplier with a Chinese name only: the line is left out of the ZPL rather than printed
    /// as "Supplier:" and nothing.
    #[test]
    fn a_line_font_0_cannot_print_is_left_out() {
        let l = UnitLabel {
            supplier: Some("深圳市华强电子有限公司".into()),
            destination: None,
            name: "绿联 数据线".into(),
            ..label()
        };
        let z = unit_label(&l, LabelSize::default());
        assert!(!z.contains("Supplier"), "{z}");
        assert_eq!(z.matches("^FT").count(), 4, "outcome, unit id, SKU, no RMA: {z}");
    }

    /// With a printer font that has Chinese, every line prints in it, Chinese and all.
    #[test]
    fn a_printer_font_prints_the_chinese_too() {
        let l = UnitLabel {
            supplier: Some("深圳市华强电子有限公司".into()),
            destination: None,
            name: "优衣库 纯棉圆领T恤 白色 L".into(),
            ..label()
        };
        let z = unit_label_in(&l, LabelSize::default(), Some("E:SIMSUN.TTF"));
        assert!(z.contains("^FD优衣库 纯棉圆领T恤 白色 L^FS"), "{z}");
        assert!(z.contains("深圳市华强电子有限公司"), "{z}");
        assert!(!z.contains("^A0N"), "no line left in font 0: {z}");
        assert_eq!(z.matches("^A@N,").count(), z.matches("^FT").count(), "{z}");
        assert!(z.contains(",E:SIMSUN.TTF^FH^FD"), "{z}");
    }

    #[test]
    fn a_printer_font_is_a_drive_and_a_file() {
        for good in ["E:SIMSUN.TTF", "R:ANMDS.TTF", "Z:msung_light.ttf"] {
            assert_eq!(check_font(good), Ok(()), "{good}");
        }
        for bad in ["SIMSUN.TTF", "E:", "E:SIMSUN", "E:SIM^XZ.TTF", "Q:SIMSUN.TTF", "E:a b.TTF", "E:S~.TTF"] {
            assert!(check_font(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_in_dots() {
        let s = LabelSize::default();
        assert_eq!((s.dots(60), s.dots(40)), (480, 320), "60x40 mm at 203 dpi");
        let big = LabelSize { width_mm: 100, height_mm: 150, dpi: 203 };
        assert_eq!((big.dots(100), big.dots(150)), (799, 1199));
    }
}
