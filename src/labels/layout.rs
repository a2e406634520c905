//! What is on a page, in millimetres, once: the command sheet, badges and unit labels are laid
//! out here and then drawn as SVG ([`super::svg`]) or PNG ([`super::raster`]), so the two
//! formats cannot drift apart.

use super::zpl::UnitLabel;
use super::{Barcode, BarcodeError};
use crate::domain::codes::{Coded, Reason};
use crate::domain::scan::Command;

/// One thing drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Text with its baseline at `y`; `size` is the em in mm; `centre` puts `x` in its middle.
    Text { x: f64, y: f64, size: f64, bold: bool, mono: bool, centre: bool, text: String },
    /// A barcode whose quiet zone starts at `x`; `module` mm a module.
    Bars { x: f64, y: f64, module: f64, height: f64, code: Barcode },
}

/// A page: its size in millimetres and what is on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub width_mm: f64,
    pub height_mm: f64,
    pub items: Vec<Item>,
}

impl Page {
    fn new(width_mm: f64, height_mm: f64) -> Page {
        Page { width_mm, height_mm, items: Vec::new() }
    }

    fn text(&mut self, x: f64, y: f64, size: f64, bold: bool, text: &str) {
        let text = crate::domain::text::in_file(text).into_owned();
        self.items.push(Item::Text { x, y, size, bold, mono: false, centre: false, text });
    }

    /// A barcode with its quiet zone from `x`, and its text centred under it.
    fn barcode(&mut self, text: &str, x: f64, y: f64, module: f64, height: f64) -> Result<(), BarcodeError> {
        let code = Barcode::code128(text)?;
        let width = code.width_modules() as f64 * module;
        if x + width > self.width_mm + 1e-9 {
            return Err(BarcodeError::TooWide(text.to_string()));
        }
        self.items.push(Item::Bars { x, y, module, height, code });
        self.items.push(Item::Text {
            x: x + width / 2.0,
            y: y + height + 3.2,
            size: 2.6,
            bold: false,
            mono: true,
            centre: true,
            text: text.to_string(),
        });
        Ok(())
    }
}

/// Ems across `text` in a proportional bold face, erring wide: a CJK character is one em,
/// anything else is taken at 0.62.
pub fn ems(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            '\u{300}'..='\u{36f}' => 0.0,
            c if wide(c) => 1.0,
            _ => 0.62,
        })
        .sum()
}

/// Whether a character takes a full cell (CJK and the like).
pub fn wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

/// The largest size up to `max` at which `text` fits in `width` (mm, dots: any unit).
pub fn fit(text: &str, max: f64, width: f64) -> f64 {
    let e = ems(text);
    if e == 0.0 {
        max
    } else {
        max.min(width / e)
    }
}

/// `text` cut to `width` at `size` (same units), ending in "…" when something was cut.
pub fn cut(text: &str, size: f64, width: f64) -> String {
    if ems(text) * size <= width {
        return text.to_string();
    }
    let room = width / size - ems("…");
    let mut used = 0.0;
    let mut out = String::new();
    for c in text.chars() {
        let w = ems(c.encode_utf8(&mut [0; 4]));
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    format!("{}…", out.trim_end())
}

/// The words of a command on the sheet: English / Chinese.
fn words(c: Command) -> (String, String) {
    match c {
        Command::Reason(r) => (r.en().to_string(), r.zh().to_string()),
        Command::SecondHand(g) => (format!("Second-hand {}", g.code()), format!("二手品 {}", g.code())),
        _ => {
            let b = crate::station::keys::binding(crate::station::keys::Action::Command(c));
            let en = b.map_or("", |b| b.en);
            let zh = b.map_or("", |b| b.zh);
            (capitalise(en), zh.to_string())
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Every command and reason code on one A4 page, grouped as an operator uses them.
pub fn command_sheet() -> Result<Page, BarcodeError> {
    let reasons: Vec<Command> = Reason::ALL.iter().map(|r| Command::Reason(*r)).collect();
    // Columns per group: reason codes are long, and neighbouring barcodes must not share
    // their quiet zones, so they get two wide columns.
    let groups: [(&str, Vec<Command>, usize); 3] = [
        ("Outcome of the unit · 处理结果", Command::OUTCOMES.to_vec(), 3),
        ("The parcel · 包裹", Command::PARCEL.to_vec(), 3),
        ("Reason · 原因", reasons, 2),
    ];
    let (module, bar_h, row_h) = (0.2, 9.0, 19.0);
    let mut page = Page::new(210.0, 297.0);
    page.text(10.0, 12.0, 5.0, true, "returns-dock · command sheet · 指令条码");
    let mut y = 18.0;
    for (title, cmds, cols) in groups {
        let col_w = 190.0 / cols as f64;
        page.text(10.0, y + 3.5, 3.6, true, title);
        y += 5.5;
        for row in cmds.chunks(cols) {
            for (i, c) in row.iter().enumerate() {
                let x = 10.0 + i as f64 * col_w;
                let (en, zh) = words(*c);
                page.text(
                    x + super::QUIET_MODULES as f64 * module,
                    y + 3.0,
                    2.8,
                    false,
                    &format!("{en} · {zh}"),
                );
                page.barcode(&c.barcode(), x, y + 4.5, module, bar_h)?;
            }
            y += row_h;
        }
        y += 2.0;
    }
    if y > page.height_mm {
        return Err(BarcodeError::TooWide("the command sheet is longer than one A4 page".into()));
    }
    Ok(page)
}

/// A badge (credit-card size): name, role, and the `OP-<id>` barcode that signs in.
pub fn badge(id: &str, name: &str, role_en: &str, role_zh: &str) -> Result<Page, BarcodeError> {
    let code = format!("OP-{id}");
    let b = Barcode::code128(&code)?;
    let mut page = Page::new(85.6, 54.0);
    // 0.3 mm a module where it fits (3 dots at 254 dpi), else narrower for long ids.
    let module = [0.3, 0.25, 0.2]
        .into_iter()
        .find(|m| b.width_modules() as f64 * m <= page.width_mm - 2.0)
        .ok_or_else(|| BarcodeError::TooWide(code.clone()))?;
    let x = (page.width_mm - b.width_modules() as f64 * module) / 2.0;
    page.text(6.0, 12.0, fit(name, 7.0, page.width_mm - 12.0), true, name);
    page.text(6.0, 19.0, 4.0, false, &format!("{role_en} · {role_zh}"));
    page.barcode(&code, x, 26.0, module, 16.0)?;
    Ok(page)
}

/// A badge on the demo sheet: who signs in with it, and a supervisor's PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetBadge {
    pub id: String,
    pub name: String,
    pub role_en: String,
    pub role_zh: String,
    pub pin: Option<String>,
}

/// The line under a serialised product's barcode when the return lists no serial.
const SERIAL_HINT: f64 = 4.0;

/// The demo sheet: the demo's badges, then its returns still to come, each RMA as a barcode
/// with its products' barcodes (and the serial numbers it expects) under it, in three columns
/// on one A4 page. As many returns as fit, in the dock screen's order; the second value is how
/// many that is.
pub fn demo_sheet(
    badges: &[SheetBadge],
    returns: &[crate::store::demo::WaitingReturn],
) -> Result<(Page, usize), BarcodeError> {
    let (module, bar_h) = (0.2, 8.0);
    let quiet = super::QUIET_MODULES as f64 * module;
    let mut page = Page::new(210.0, 297.0);
    page.text(10.0, 12.0, 5.0, true, "returns-dock · demo sheet · 演示条码");
    page.text(
        10.0,
        18.0,
        2.8,
        false,
        "Sign in with a badge, scan an RMA, then each of its products; the commands are on the command sheet",
    );
    page.text(10.0, 22.0, 2.8, false, "扫工牌登录，扫退货单号，再逐个扫商品；指令条码见指令条码表");
    let col_w = 190.0 / 3.0;
    for (i, b) in badges.iter().take(3).enumerate() {
        let x = 10.0 + i as f64 * col_w;
        let who = format!("{} · {} · {}", b.role_en, b.role_zh, b.name);
        page.text(x + quiet, 29.0, 3.0, true, &cut(&who, 3.0, col_w - quiet - 2.0));
        page.barcode(&format!("OP-{}", b.id), x, 30.5, module, bar_h)?;
        if let Some(pin) = &b.pin {
            page.text(x + quiet, 45.5, 3.0, true, &format!("PIN {pin}"));
        }
    }
    let top = 54.0;
    page.text(10.0, top - 2.0, 3.6, true, "Parcels to come · 待到包裹");
    let bottom = 284.0;
    let (mut col, mut y, mut shown) = (0usize, top + 2.0, 0usize);
    let line_h = 16.0;
    for r in returns {
        let hint = |l: &crate::store::demo::WaitingLine| {
            if l.serialised && l.serials.is_empty() {
                SERIAL_HINT
            } else {
                0.0
            }
        };
        let block = line_h
            + r.lines.iter().map(|l| line_h * (1 + l.serials.len()) as f64 + hint(l)).sum::<f64>()
            + 3.0;
        if y + block > bottom {
            col += 1;
            y = top + 2.0;
            if col == 3 {
                break;
            }
        }
        let x = 10.0 + col as f64 * col_w;
        let units: i64 = r.lines.iter().map(|l| l.qty).sum();
        let head = format!("RMA · 退货单 · {units} unit{}", if units == 1 { "" } else { "s" });
        page.text(x + quiet, y + 3.0, 3.0, true, &head);
        page.barcode(&r.rma, x, y + 4.5, module, bar_h)?;
        y += line_h;
        let inset = 3.0;
        for l in &r.lines {
            let width = col_w - inset - quiet - 2.0;
            let what = cut(&format!("{} ×{} {}", l.sku, l.qty, l.name), 2.6, width);
            page.text(x + inset + quiet, y + 3.0, 2.6, false, &what);
            page.barcode(&l.code, x + inset, y + 4.5, module, bar_h)?;
            y += line_h;
            for serial in &l.serials {
                page.text(x + inset + quiet, y + 3.0, 2.6, false, "serial · 序列号");
                page.barcode(serial, x + inset, y + 4.5, module, bar_h)?;
                y += line_h;
            }
            if l.serialised && l.serials.is_empty() {
                let hint = cut("+ any serial, typed · 手输任意序列号", 2.6, width);
                page.text(x + inset + quiet, y + 2.4, 2.6, false, &hint);
                y += SERIAL_HINT;
            }
        }
        y += 3.0;
        shown += 1;
    }
    let left = returns.len() - shown;
    let foot = if returns.is_empty() {
        "No parcel of the demo is still to come · 演示包裹已全部到货".to_string()
    } else if left > 0 {
        format!(
            "{left} more to come: make this sheet again once these are in · 还有 {left} 个，收完后再打印本页"
        )
    } else {
        "Every parcel of the demo still to come is on this sheet · 演示的待到包裹都在本页".to_string()
    };
    page.text(10.0, 291.0, 2.8, false, &foot);
    Ok((page, shown))
}

/// A unit label: outcome and grade large, the destination bold under the unit id, the unit id as a barcode and again in type a metre
/// away can read, the product's name, SKU and date, the RMA (or "no RMA"), and on a
/// return-to-supplier label the supplier. Refused when the barcode does not fit across.
pub fn unit_label(l: &UnitLabel, width_mm: f64, height_mm: f64) -> Result<Page, BarcodeError> {
    let page = unit_page(l, width_mm, height_mm);
    for item in &page.items {
        if let Item::Bars { x, module, code, .. } = item {
            if x + code.width_modules() as f64 * module > width_mm + 1e-9 {
                return Err(BarcodeError::TooWide(code.text.clone()));
            }
        }
    }
    Ok(page)
}

/// The unit id's type at the 60x40 mm label: an 8 mm em, so its digits stand 5 mm tall.
pub const UNIT_ID_EM_MM: f64 = 8.0;

/// The unit label's page. It is designed at 60x40 mm and scaled as a whole to larger labels
/// (the barcode's module stays 0.25 mm, 2 dots at 203 dpi); lines too long for the width are
/// set smaller (outcome, unit id) or cut with "…" (name, supplier).
pub fn unit_page(l: &UnitLabel, width_mm: f64, height_mm: f64) -> Page {
    let l = &UnitLabel {
        name: crate::domain::text::in_file(&l.name).into_owned(),
        sku: crate::domain::text::in_file(&l.sku).into_owned(),
        rma: crate::domain::text::in_file(&l.rma).into_owned(),
        supplier: l.supplier.as_deref().map(|s| crate::domain::text::in_file(s).into_owned()),
        destination: l.destination.as_deref().map(|s| crate::domain::text::in_file(s).into_owned()),
        ..l.clone()
    };
    let mut page = Page::new(width_mm, height_mm);
    let s = (width_mm / 60.0).min(height_mm / 40.0);
    let room = width_mm - 6.0;
    let headline = format!("{} {}", l.outcome.to_uppercase(), l.grade);
    let headline = headline.trim();
    page.text(3.0, 6.2 * s, fit(headline, 5.6 * s, room), true, headline);
    let bars =
        Barcode::code128(&l.unit_id).unwrap_or_else(|_| Barcode { text: l.unit_id.clone(), modules: vec![] });
    page.items.push(Item::Bars { x: 0.5, y: 7.5 * s, module: 0.25, height: 8.0 * s, code: bars });
    page.text(3.0, 23.3 * s, fit(&l.unit_id, UNIT_ID_EM_MM * s, room), true, &l.unit_id);
    let small = 2.8 * s;
    let rma = if l.rma.trim().is_empty() { "no RMA".to_string() } else { format!("RMA {}", l.rma) };
    // Where the unit goes, bold under its id: the line the bench reads after the outcome.
    let to = l.destination.as_ref().map(|d| format!("→ {d}"));
    let mut lines: Vec<(String, bool)> = Vec::new();
    if let Some(to) = &to {
        // Whole, set smaller where it is long: bins that differ only at the end stay apart.
        lines.push((to.clone(), true));
    }
    lines.push((cut(&l.name, small, room), false));
    lines.push((format!("SKU {}  {}", l.sku, l.date), false));
    lines.push((rma, false));
    // The supplier, unless the destination names it already (`RTV-{supplier}`).
    if let Some(supplier) =
        l.supplier.as_ref().filter(|s| !l.destination.as_ref().is_some_and(|d| d.contains(s.as_str())))
    {
        lines.push((cut(&format!("Supplier: {supplier}"), small, room), false));
    }
    // Four lines fit under the id: the product's name gives way first (the SKU names it).
    if lines.len() > 4 {
        lines.remove(usize::from(to.is_some()));
    }
    for (i, (line, bold)) in lines.iter().enumerate() {
        if !line.is_empty() {
            let size = if *bold { 3.4 * s } else { small };
            page.text(3.0, (27.2 + 3.6 * i as f64) * s + (size - small), fit(line, size, room), *bold, line);
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A return-to-supplier label with its id, SKU, RMA and date.
    fn to_supplier() -> UnitLabel {
        UnitLabel {
            unit_id: "U00000001".into(),
            outcome: "return to supplier".into(),
            sku: "SKU-1".into(),
            rma: "RMA-1".into(),
            date: "2026-11-22".into(),
            ..UnitLabel::default()
        }
    }

    #[test]
    fn long_headlines_shrink_to_the_label() {
        let l = to_supplier();
        let page = unit_label(&l, 60.0, 40.0).unwrap();
        let Item::Text { size, text, .. } = &page.items[0] else { panic!("headline first") };
        assert_eq!(text, "RETURN TO SUPPLIER");
        assert!(*size < 5.6 && ems(text) * size <= 54.0 + 1e-9, "fits 54 mm: {size}");
    }

    /// The destination goes under the id, bold; the outcome stays large. A supplier the
    /// destination names is not said twice; one it does not name is kept, and the product's
    /// name gives way so that everything fits the 40 mm.
    #[test]
    fn the_destination_has_its_own_line() {
        let texts = |l: &UnitLabel| -> Vec<(String, f64, f64)> {
            unit_label(l, 60.0, 40.0)
                .unwrap()
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Text { y, size, text, .. } => Some((text.clone(), *y, *size)),
                    _ => None,
                })
                .collect()
        };
        let l = UnitLabel {
            name: "Kettle".into(),
            supplier: Some("ACME".into()),
            destination: Some("RTV-ACME".into()),
            ..to_supplier()
        };
        let named = texts(&l);
        let lines: Vec<&str> = named.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(
            lines,
            ["RETURN TO SUPPLIER", "U00000001", "→ RTV-ACME", "Kettle", "SKU SKU-1  2026-11-22", "RMA RMA-1"]
        );
        assert!(named[0].2 > 4.0, "the outcome stays large: {named:?}");
        let shelf = texts(&UnitLabel { destination: Some("CAGE-7".into()), ..l.clone() });
        let lines: Vec<&str> = shelf.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(
            lines,
            [
                "RETURN TO SUPPLIER",
                "U00000001",
                "→ CAGE-7",
                "SKU SKU-1  2026-11-22",
                "RMA RMA-1",
                "Supplier: ACME"
            ]
        );
        assert!(shelf.iter().all(|t| t.1 <= 40.0), "inside the label: {shelf:?}");
    }

    #[test]
    fn a_barcode_wider_than_its_page_is_refused() {
        let long = "X".repeat(40);
        assert!(matches!(badge(&long, "n", "operator", "操作员"), Err(BarcodeError::TooWide(_))));
    }
}
