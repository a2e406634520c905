//! Pages as PNG: drawn to whole pixels, so bars stay sharp and a scanner reads them from a
//! screen or an office printer. Text uses the Unifont bitmap glyphs (every Chinese character
//! of the interface included), scaled by whole pixels; no system font is needed.

use super::layout::{self, Item, Page};
use super::{encode_png, BarcodeError};

/// Pixels a millimetre for the command sheet and badges: 254 dpi, where their 0.2 and 0.3 mm
/// modules are 2 and 3 whole pixels.
pub const SHEET_PX_PER_MM: f64 = 10.0;

/// Unifont's cell: 16 pixels high, 8 or 16 wide; the baseline is 14 pixels down.
const CELL: usize = 16;
const ASCENT: usize = 14;

/// A greyscale canvas, 0 black, 255 white.
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Canvas {
    pub fn new(width: usize, height: usize) -> Canvas {
        Canvas { width, height, pixels: vec![255; width * height] }
    }

    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize) {
        for row in y.min(self.height)..(y + h).min(self.height) {
            let start = row * self.width;
            self.pixels[start + x.min(self.width)..start + (x + w).min(self.width)].fill(0);
        }
    }

    /// Pixels across `text` at `scale`.
    fn text_width(text: &str, scale: usize) -> usize {
        text.chars().map(|c| glyph_width(c) * scale).sum()
    }

    /// `text` with its top-left corner at (x, y), each font pixel `scale` pixels square.
    fn text(&mut self, x: usize, y: usize, scale: usize, bold: bool, text: &str) {
        let mut pen = x;
        for c in text.chars() {
            let g = unifont::get_glyph(c).or_else(|| unifont::get_glyph('?'));
            let w = glyph_width(c);
            if let Some(g) = g {
                for gy in 0..CELL {
                    for gx in 0..g.get_width() {
                        if g.get_pixel(gx, gy) {
                            let thick = if bold { scale + scale.div_ceil(3) } else { scale };
                            self.fill(pen + gx * scale, y + gy * scale, thick, scale);
                        }
                    }
                }
            }
            pen += w * scale;
        }
    }
}

fn glyph_width(c: char) -> usize {
    unifont::get_glyph(c).map_or(8, |g| g.get_width())
}

fn px(mm: f64, ppm: f64) -> usize {
    (mm * ppm).round().max(0.0) as usize
}

/// Where a barcode lands in pixels: its quiet zone starts at `x`, `module` pixels a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub x: usize,
    pub y: usize,
    pub module: usize,
    /// Across, quiet zones included.
    pub width: usize,
    pub height: usize,
}

/// A barcode's place on a canvas `canvas_width` wide: the nearest whole module, or the one
/// below when the nearest would run off the page.
pub fn place(
    code: &super::Barcode,
    x: f64,
    y: f64,
    module: f64,
    height: f64,
    ppm: f64,
    canvas_width: usize,
) -> Placed {
    let left = px(x, ppm);
    let mut m = px(module, ppm).max(1);
    if m > 1 && left + code.width_modules() * m > canvas_width {
        m = ((module * ppm).floor() as usize).max(1);
    }
    Placed { x: left, y: px(y, ppm), module: m, width: code.width_modules() * m, height: px(height, ppm) }
}

/// The barcodes of a page and where they land at `ppm`.
pub fn barcodes(page: &Page, ppm: f64) -> Vec<(String, Placed)> {
    let width = px(page.width_mm, ppm).max(1);
    page.items
        .iter()
        .filter_map(|item| match item {
            Item::Bars { x, y, module, height, code } => {
                Some((code.text.clone(), place(code, *x, *y, *module, *height, ppm, width)))
            }
            Item::Text { .. } => None,
        })
        .collect()
}

/// Draws a laid-out page at `ppm` pixels a millimetre.
pub fn render(page: &Page, ppm: f64) -> Canvas {
    let mut c = Canvas::new(px(page.width_mm, ppm).max(1), px(page.height_mm, ppm).max(1));
    for item in &page.items {
        match item {
            Item::Bars { x, y, module, height, code } => {
                let p = place(code, *x, *y, *module, *height, ppm, c.width);
                let left = p.x + super::QUIET_MODULES * p.module;
                for (i, dark) in code.modules.iter().enumerate() {
                    if *dark == 1 {
                        c.fill(left + i * p.module, p.y, p.module, p.height);
                    }
                }
            }
            Item::Text { x, y, size, bold, centre, text, .. } => {
                // The largest whole scale near the size that still fits across the page.
                let mut scale = ((size * ppm) / CELL as f64).round().max(1.0) as usize;
                let room = |s: usize| {
                    let w = Canvas::text_width(text, s);
                    let left = if *centre { (x * ppm) - w as f64 / 2.0 } else { x * ppm };
                    left >= 0.0 && left + w as f64 <= c.width as f64
                };
                while scale > 1 && !room(scale) {
                    scale -= 1;
                }
                let w = Canvas::text_width(text, scale) as f64;
                let left = if *centre { x * ppm - w / 2.0 } else { x * ppm };
                let top = (y * ppm - (ASCENT * scale) as f64).max(0.0);
                c.text(left.max(0.0).round() as usize, top.round() as usize, scale, *bold, text);
            }
        }
    }
    c
}

/// A page as PNG bytes.
pub fn png(page: &Page, ppm: f64) -> Vec<u8> {
    let c = render(page, ppm);
    encode_png(&c.pixels, c.width, c.height)
}

/// Every command and reason code on one A4 page, as PNG at 254 dpi.
pub fn command_sheet() -> Result<Vec<u8>, BarcodeError> {
    layout::command_sheet().map(|p| png(&p, SHEET_PX_PER_MM))
}

/// A badge as PNG at 254 dpi.
pub fn badge(id: &str, name: &str, role_en: &str, role_zh: &str) -> Result<Vec<u8>, BarcodeError> {
    layout::badge(id, name, role_en, role_zh).map(|p| png(&p, SHEET_PX_PER_MM))
}

/// A unit label as PNG at the label printer's resolution.
pub fn unit_label(l: &super::zpl::UnitLabel, size: super::zpl::LabelSize) -> Result<Vec<u8>, BarcodeError> {
    let page = layout::unit_label(l, f64::from(size.width_mm), f64::from(size.height_mm))?;
    Ok(png(&page, f64::from(size.dpi) / 25.4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_draws_full_cells() {
        assert_eq!(Canvas::text_width("退款", 1), 32);
        assert_eq!(Canvas::text_width("AB", 2), 32);
        let mut c = Canvas::new(40, 20);
        c.text(0, 0, 1, false, "退");
        assert!(c.pixels.contains(&0), "the glyph has ink");
    }
}
