//! Unit labels in ZPL for Zebra-compatible printers: the unit id as a Code 128 barcode with
//! its quiet zone, the outcome and grade in large type, the SKU, the RMA and the date.
//! UTF-8 text (`^CI28`), with `^`, `~` and `_` written as `_xx` hex escapes (`^FH`).

/// What a unit label shows.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitLabel {
    pub unit_id: String,
    pub outcome: String,
    pub grade: String,
    pub sku: String,
    pub rma: String,
    pub date: String,
}

impl UnitLabel {
    /// The label of unit `id` as recorded.
    pub fn of(id: i64, f: crate::store::station::UnitFacts) -> UnitLabel {
        use crate::domain::codes::Coded;
        UnitLabel {
            unit_id: crate::export::unit_label(id),
            outcome: f.outcome.map_or("not inspected".into(), |o| o.en().to_string()),
            grade: f.grade.unwrap_or_default(),
            sku: f.sku.unwrap_or_default(),
            rma: f.rma.unwrap_or_default(),
            date: f.at.chars().take(10).collect(),
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

/// The label as ZPL.
pub fn unit_label(l: &UnitLabel, size: LabelSize) -> String {
    let w = size.dots(size.width_mm);
    let h = size.dots(size.height_mm);
    // One module is 2 dots at 203 dpi (0.25 mm), 3 at 300 dpi: sharp on both.
    let module = if size.dpi >= 300 { 3 } else { 2 };
    let quiet = super::QUIET_MODULES as u32 * module;
    // Font 0 is proportional: each line at its size, or smaller where it would run off.
    let room = f64::from(w.saturating_sub(2 * quiet));
    let fit = |text: &str, size: u32| (super::layout::fit(text, f64::from(size), room) as u32).max(10);
    let headline = format!("{} {}", l.outcome.to_uppercase(), l.grade);
    let big = h / 5;
    let small = h / 12;
    let line = |y: u32, font: u32, text: &str| {
        let font = fit(text, font);
        format!("^FO{quiet},{y}^A0N,{font},{font}^FH^FD{}^FS\n", escape(text))
    };
    let mut z = format!("^XA\n^CI28\n^PW{w}\n^LL{h}\n^LH0,0\n");
    z.push_str(&line(h / 20, big, headline.trim()));
    z.push_str(&format!(
        "^FO{quiet},{}^BY{module}^BCN,{},Y,N,N^FH^FD{}^FS\n",
        h / 20 + big + h / 40,
        h / 4,
        escape(&l.unit_id)
    ));
    let below = h / 20 + big + h / 40 + h / 4 + small * 2;
    z.push_str(&line(below, small, &format!("SKU {}", l.sku)));
    z.push_str(&line(below + small + 4, small, &format!("RMA {}  {}", l.rma, l.date)));
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
        assert!(z.contains(&format!("^FDSKU S_5EXAK{}^FS", "\u{301}".repeat(3))), "{z}");
        assert!(z.contains("^FDRMA R1  2026-11-22^FS"), "{z}");
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
        };
        let z = unit_label(&l, LabelSize::default());
        // 440 dots between the quiet margins, 18 characters at 0.62 of the height at most.
        assert!(z.contains("^A0N,39,39^FH^FDRETURN TO SUPPLIER^FS"), "{z}");
    }

    #[test]
    fn sizes_in_dots() {
        let s = LabelSize::default();
        assert_eq!((s.dots(60), s.dots(40)), (480, 320), "60x40 mm at 203 dpi");
        let big = LabelSize { width_mm: 100, height_mm: 150, dpi: 203 };
        assert_eq!((big.dots(100), big.dots(150)), (799, 1199));
    }
}
