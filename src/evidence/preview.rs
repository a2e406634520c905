//! A photo in the terminal: each character cell shows two pixels, one above the other, as the
//! upper half block (`▀`) in the top pixel's colour on the bottom pixel's. Every terminal with
//! true colour shows it; none needs a graphics protocol.

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};

/// A photo made small once, to be drawn at whatever size the screen gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumb {
    pub width: u32,
    pub height: u32,
    /// RGB, row by row.
    pub rgb: Vec<u8>,
}

/// The largest thumbnail kept: more than a 160-column screen shows.
const MAX: u32 = 320;

/// Decodes `bytes` and keeps a thumbnail of at most 320 by 320 pixels.
pub fn thumb(kind: super::picture::Kind, bytes: &[u8]) -> Result<Thumb, super::picture::NotAPicture> {
    let img = super::picture::decode(kind, bytes)?;
    let small = super::picture::on_white(&img.thumbnail(MAX, MAX));
    let (width, height) = small.dimensions();
    Ok(Thumb { width, height, rgb: small.into_raw() })
}

impl Thumb {
    fn pixel(&self, x: u32, y: u32) -> Color {
        let i = ((y.min(self.height - 1) * self.width + x.min(self.width - 1)) * 3) as usize;
        Color::Rgb(self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])
    }

    /// The lines that draw it in at most `cols` by `rows` cells, its shape kept (a cell is about
    /// twice as high as wide, and holds two pixels one above the other).
    pub fn lines(&self, cols: u16, rows: u16) -> Vec<Line<'static>> {
        if self.width == 0 || self.height == 0 || cols == 0 || rows == 0 {
            return vec![];
        }
        let (w, h) = (self.width as f64, self.height as f64);
        let scale = (f64::from(cols) / w).min(f64::from(rows) * 2.0 / h);
        let out_w = ((w * scale).floor() as u32).max(1);
        let out_h = (((h * scale) / 2.0).floor() as u32).max(1);
        let src = |o: u32, n: u32, of: f64| ((f64::from(o) + 0.5) * of / f64::from(n)) as u32;
        (0..out_h)
            .map(|row| {
                let spans: Vec<Span> = (0..out_w)
                    .map(|col| {
                        let x = src(col, out_w, w);
                        let top = self.pixel(x, src(row * 2, out_h * 2, h));
                        let bottom = self.pixel(x, src(row * 2 + 1, out_h * 2, h));
                        Span::styled("▀", Style::new().fg(top).bg(bottom))
                    })
                    .collect();
                Line::from(spans)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_is_drawn_in_its_colours_and_its_shape_within_the_cells_given() {
        // Red above, blue below, twice as wide as high.
        let img = image::RgbImage::from_fn(200, 100, |_, y| {
            if y < 50 {
                image::Rgb([255, 0, 0])
            } else {
                image::Rgb([0, 0, 255])
            }
        });
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        let t = thumb(super::super::picture::Kind::Png, bytes.get_ref()).unwrap();
        let lines = t.lines(40, 20);
        // 40 cells wide, 10 high (20 pixel rows): the shape kept, inside 40x20.
        assert_eq!(lines.len(), 10);
        assert!(lines.iter().all(|l| l.spans.len() == 40));
        let first = &lines[0].spans[0].style;
        assert_eq!((first.fg, first.bg), (Some(Color::Rgb(255, 0, 0)), Some(Color::Rgb(255, 0, 0))));
        let last = &lines[9].spans[39].style;
        assert_eq!((last.fg, last.bg), (Some(Color::Rgb(0, 0, 255)), Some(Color::Rgb(0, 0, 255))));
        // A narrow area: as wide as it allows, still its shape.
        let narrow = t.lines(10, 20);
        assert_eq!((narrow.len(), narrow[0].spans.len()), (2, 10));
    }
}
