//! Pages as SVG for screens and office printers. Sizes are in millimetres; the text is drawn by
//! the viewer's fonts, so Chinese shows wherever a CJK font is installed.

use super::layout::{self, Item, Page};
use super::{xml, BarcodeError};

/// A laid-out page as an SVG document.
pub fn render(page: &Page) -> String {
    let (w, h) = (page.width_mm, page.height_mm);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}mm\" height=\"{h}mm\" viewBox=\"0 0 {w} {h}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<g font-family=\"sans-serif\">\n"
    );
    for item in &page.items {
        match item {
            Item::Text { x, y, size, bold, mono, centre, text } => {
                out.push_str(&format!("<text x=\"{x:.2}\" y=\"{y:.2}\" font-size=\"{size:.2}\""));
                if *bold {
                    out.push_str(" font-weight=\"bold\"");
                }
                if *mono {
                    out.push_str(" font-family=\"monospace\"");
                }
                if *centre {
                    out.push_str(" text-anchor=\"middle\"");
                }
                out.push_str(&format!(">{}</text>\n", xml(text)));
            }
            Item::Bars { x, y, module, height, code } => {
                out.push_str(&format!("<g fill=\"black\">{}</g>\n", code.svg_bars(*x, *y, *module, *height)));
            }
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}

/// Every command and reason code on one A4 page.
pub fn command_sheet() -> Result<String, BarcodeError> {
    layout::command_sheet().map(|p| render(&p))
}

/// A badge (credit-card size).
pub fn badge(id: &str, name: &str, role_en: &str, role_zh: &str) -> Result<String, BarcodeError> {
    layout::badge(id, name, role_en, role_zh).map(|p| render(&p))
}

/// A unit label.
pub fn unit_label(l: &super::zpl::UnitLabel, width_mm: f64, height_mm: f64) -> Result<String, BarcodeError> {
    layout::unit_label(l, width_mm, height_mm).map(|p| render(&p))
}
