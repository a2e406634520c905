//! Labels a real scanner reads: Code 128 barcodes with their quiet zones, drawn as PNG and SVG.
//!
//! The `barcoders` crate gives the bars; it adds no quiet zone and draws one pixel a module,
//! so both are done here: ten modules of white on each side (ISO/IEC 15417 asks for ten), and
//! whole pixels a module, so a 203 dpi printer's dots and a screen's pixels stay sharp.

pub mod layout;
pub mod printer;
pub mod queue;
pub mod raster;
pub mod svg;
pub mod zpl;

use barcoders::sym::code128::Code128;
use std::fmt;

/// White modules on each side of the bars.
pub const QUIET_MODULES: usize = 10;

/// The bars of one Code 128 barcode: 1 a dark module, 0 a light one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    pub text: String,
    pub modules: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BarcodeError {
    /// Code 128 carries ASCII only.
    NotAscii(String),
    Empty,
    Encoder(String),
    /// The barcode, quiet zones and all, does not fit where it must go.
    TooWide(String),
}

impl fmt::Display for BarcodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BarcodeError::NotAscii(t) => write!(f, "{t}: a barcode carries ASCII characters only"),
            BarcodeError::Empty => write!(f, "nothing to put in a barcode"),
            BarcodeError::Encoder(e) => write!(f, "barcode: {e}"),
            BarcodeError::TooWide(t) => write!(f, "{t}: does not fit on the page"),
        }
    }
}

impl Barcode {
    /// Code 128 of `text`: set C (two digits a symbol) for an even run of digits, else set B.
    pub fn code128(text: &str) -> Result<Barcode, BarcodeError> {
        if text.is_empty() {
            return Err(BarcodeError::Empty);
        }
        if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(BarcodeError::NotAscii(text.to_string()));
        }
        let digits =
            text.len() >= 4 && text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_digit());
        let marked = if digits { format!("\u{0106}{text}") } else { format!("\u{0181}{text}") };
        let modules = Code128::new(&marked).map_err(|e| BarcodeError::Encoder(e.to_string()))?.encode();
        Ok(Barcode { text: text.to_string(), modules })
    }

    /// Modules across, quiet zones included.
    pub fn width_modules(&self) -> usize {
        self.modules.len() + 2 * QUIET_MODULES
    }

    /// Grey pixels (0 black, 255 white), `module_px` wide a module, `height_px` high, with the
    /// quiet zones.
    pub fn pixels(&self, module_px: usize, height_px: usize) -> (Vec<u8>, usize, usize) {
        let width = self.width_modules() * module_px;
        let mut row = vec![255u8; width];
        for (i, m) in self.modules.iter().enumerate() {
            if *m == 1 {
                let x = (QUIET_MODULES + i) * module_px;
                row[x..x + module_px].fill(0);
            }
        }
        let mut out = Vec::with_capacity(width * height_px);
        for _ in 0..height_px {
            out.extend_from_slice(&row);
        }
        (out, width, height_px)
    }

    /// A PNG of the barcode alone (greyscale, quiet zones included).
    pub fn png(&self, module_px: usize, height_px: usize) -> Vec<u8> {
        let (pixels, w, h) = self.pixels(module_px, height_px);
        encode_png(&pixels, w, h)
    }

    /// SVG rectangles for the bars, the quiet zone starting at `x` (all in `module` units of
    /// the caller's choosing, e.g. millimetres).
    pub fn svg_bars(&self, x: f64, y: f64, module: f64, height: f64) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.modules.len() {
            if self.modules[i] == 1 {
                let start = i;
                while i < self.modules.len() && self.modules[i] == 1 {
                    i += 1;
                }
                let bx = x + (QUIET_MODULES + start) as f64 * module;
                out.push_str(&format!(
                    "<rect x=\"{bx:.3}\" y=\"{y:.3}\" width=\"{:.3}\" height=\"{height:.3}\"/>",
                    (i - start) as f64 * module
                ));
            } else {
                i += 1;
            }
        }
        out
    }
}

/// Greyscale pixels as PNG bytes.
pub fn encode_png(pixels: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width as u32, height as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        if let Ok(mut w) = enc.write_header() {
            let _ = w.write_image_data(pixels);
        }
    }
    out
}

/// XML text escaped for SVG.
pub fn xml(s: &str) -> String {
    crate::domain::text::in_file(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_zones_and_sets() {
        let b = Barcode::code128("CMD-ACCEPT").unwrap();
        let (px, w, _) = b.pixels(2, 1);
        assert!(px[..QUIET_MODULES * 2].iter().all(|p| *p == 255), "white before the bars");
        assert!(px[w - QUIET_MODULES * 2..].iter().all(|p| *p == 255), "and after");
        let digits = Barcode::code128("12345678").unwrap();
        let text = Barcode::code128("A2345678").unwrap();
        assert!(digits.modules.len() < text.modules.len(), "set C packs digits");
        assert!(matches!(Barcode::code128("退款"), Err(BarcodeError::NotAscii(_))));
    }
}
