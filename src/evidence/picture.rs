//! What a photo is: a JPEG or PNG picture, whole and readable, and its SHA-256 (the name it is
//! kept under). A camera writes its file a piece at a time, so a file is a picture only once
//! its end is there and it decodes; anything else is refused with the reason.

use image::ImageFormat;
use sha2::{Digest, Sha256};

/// The kinds of picture taken as evidence (the marketplaces take JPEG and PNG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpeg",
            Kind::Png => "png",
        }
    }

    pub fn from_code(s: &str) -> Option<Kind> {
        match s {
            "jpeg" => Some(Kind::Jpeg),
            "png" => Some(Kind::Png),
            _ => None,
        }
    }

    /// The file name's ending.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Png => ImageFormat::Png,
        }
    }
}

/// A picture that passed: what it is, its size in pixels, and its SHA-256 in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub kind: Kind,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub sha256: String,
}

/// Why a file is not taken as a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAPicture {
    Empty,
    /// Neither JPEG nor PNG (by its first bytes, whatever its name says).
    Kind,
    /// It stops before its end: still being written, or cut off.
    Incomplete(Kind),
    /// It has the form but does not decode.
    Unreadable(Kind, String),
    /// Larger than the store takes.
    TooLarge {
        bytes: u64,
        limit: u64,
    },
    /// More pixels than a camera takes: a small file that would need gigabytes to decode.
    TooManyPixels {
        width: u32,
        height: u32,
    },
}

impl std::fmt::Display for NotAPicture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAPicture::Empty => write!(f, "the file is empty"),
            NotAPicture::Kind => write!(f, "not a JPEG or PNG picture"),
            NotAPicture::Incomplete(k) => {
                write!(f, "not a whole {} picture (it stops before its end)", k.code().to_uppercase())
            }
            NotAPicture::Unreadable(k, why) => {
                write!(f, "a damaged {} picture ({why})", k.code().to_uppercase())
            }
            NotAPicture::TooManyPixels { width, height } => {
                write!(
                    f,
                    "{width} x {height} pixels is more than a photo has (at most {} megapixels)",
                    PIXELS / 1_000_000
                )
            }
            NotAPicture::TooLarge { bytes, limit } => write!(
                f,
                "{} MB is more than the {} MB a photo may be",
                bytes.div_ceil(1_000_000),
                limit / 1_000_000
            ),
        }
    }
}

/// The largest photo taken: a phone's is 3-12 MB.
pub const LARGEST: u64 = 40_000_000;

/// The most pixels a photo may have: a 48-megapixel phone's, with room (decoded, 150 MB).
pub const PIXELS: u64 = 50_000_000;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// A PNG ends with its IEND chunk: no data, then the chunk's CRC.
const PNG_END: &[u8] = b"\0\0\0\0IEND\xaeB`\x82";

/// The kind of picture `bytes` begin as, if any.
pub fn kind_of(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Some(Kind::Png)
    } else {
        None
    }
}

/// True when the file's end is there: a JPEG's end-of-image marker (some cameras pad after
/// it with zeros), a PNG's end chunk.
pub fn is_whole(kind: Kind, bytes: &[u8]) -> bool {
    match kind {
        Kind::Jpeg => {
            let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            end >= 4 && bytes[..end].ends_with(&[0xFF, 0xD9])
        }
        Kind::Png => bytes.ends_with(PNG_END),
    }
}

/// SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `bytes` as a photo: JPEG or PNG, whole, decoding without error.
pub fn examine(bytes: &[u8]) -> Result<Picture, NotAPicture> {
    if bytes.is_empty() {
        return Err(NotAPicture::Empty);
    }
    let kind = kind_of(bytes).ok_or(NotAPicture::Kind)?;
    let size = bytes.len() as u64;
    if size > LARGEST {
        return Err(NotAPicture::TooLarge { bytes: size, limit: LARGEST });
    }
    if !is_whole(kind, bytes) {
        return Err(NotAPicture::Incomplete(kind));
    }
    // Decoded whole: a picture damaged inside (a PNG's checksum wrong, a JPEG cut and closed)
    // is refused at the bench and stays in the folder, while it can still be taken again. A
    // phone's 12 megapixels take about a quarter of a second here.
    let img = decode(kind, bytes)?;
    Ok(Picture { kind, width: img.width(), height: img.height(), bytes: size, sha256: sha256_hex(bytes) })
}

/// The picture's size from its header, refused when it is more pixels than a photo has (a
/// small file can claim 15000 x 15000, gigabytes once decoded).
fn dimensions(kind: Kind, bytes: &[u8]) -> Result<(u32, u32), NotAPicture> {
    let (width, height) = image::ImageReader::with_format(std::io::Cursor::new(bytes), kind.format())
        .into_dimensions()
        .map_err(|e| NotAPicture::Unreadable(kind, short(&e.to_string())))?;
    if u64::from(width) * u64::from(height) > PIXELS {
        return Err(NotAPicture::TooManyPixels { width, height });
    }
    Ok((width, height))
}

/// The picture's pixels.
pub fn decode(kind: Kind, bytes: &[u8]) -> Result<image::DynamicImage, NotAPicture> {
    let unreadable = |e: image::ImageError| NotAPicture::Unreadable(kind, short(&e.to_string()));
    dimensions(kind, bytes)?;
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), kind.format());
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    reader.decode().map_err(unreadable)
}

/// The picture on white, without its transparency: what a JPEG and the terminal can show (a
/// transparent corner would come out black).
pub fn on_white(img: &image::DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

fn short(s: &str) -> String {
    let one_line = crate::domain::text::in_file(s);
    one_line.chars().take(120).collect()
}

/// A JPEG of the picture small enough for a marketplace (at most `limit` bytes): the picture
/// itself when it is already a JPEG or PNG under the limit, else made smaller, step by step.
pub fn under(kind: Kind, bytes: &[u8], limit: usize) -> Result<(Kind, Vec<u8>), NotAPicture> {
    if bytes.len() <= limit {
        return Ok((kind, bytes.to_vec()));
    }
    let img = on_white(&decode(kind, bytes)?);
    let (w, h) = img.dimensions();
    // Bytes go roughly with the pixels: start where the area fits, then step down.
    let mut scale = ((limit as f64 / bytes.len() as f64).sqrt() * 1.2).min(1.0);
    loop {
        let (nw, nh) =
            ((w as f64 * scale).round().max(1.0) as u32, (h as f64 * scale).round().max(1.0) as u32);
        let small = image::imageops::resize(&img, nw, nh, image::imageops::FilterType::Triangle);
        let mut out = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        enc.encode_image(&small).map_err(|e| NotAPicture::Unreadable(kind, short(&e.to_string())))?;
        if out.len() <= limit || nw <= 64 {
            return Ok((Kind::Jpeg, out));
        }
        scale *= 0.8;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small real picture of `kind` (a gradient), `w` by `h`.
    pub fn sample(kind: Kind, w: u32, h: u32, seed: u8) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 255 / w.max(1)) as u8 ^ seed, (y * 255 / h.max(1)) as u8, seed])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, kind.format()).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_whole_picture_passes_with_its_size_and_hash() {
        for kind in [Kind::Jpeg, Kind::Png] {
            let bytes = sample(kind, 40, 30, 7);
            let p = examine(&bytes).unwrap();
            assert_eq!((p.kind, p.width, p.height, p.bytes), (kind, 40, 30, bytes.len() as u64));
            assert_eq!(p.sha256, sha256_hex(&bytes));
            assert_eq!(p.sha256.len(), 64);
        }
    }

    #[test]
    fn a_picture_cut_short_or_damaged_or_of_another_kind_is_refused() {
        let jpeg = sample(Kind::Jpeg, 40, 30, 1);
        assert_eq!(examine(&jpeg[..jpeg.len() / 2]), Err(NotAPicture::Incomplete(Kind::Jpeg)));
        let png = sample(Kind::Png, 40, 30, 1);
        assert_eq!(examine(&png[..png.len() - 3]), Err(NotAPicture::Incomplete(Kind::Png)));
        assert_eq!(examine(b"%PDF-1.7 not a photo"), Err(NotAPicture::Kind));
        assert_eq!(examine(b""), Err(NotAPicture::Empty));
        // The form of a JPEG (its start and end markers) around nothing that decodes.
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0];
        fake.extend_from_slice(&[0x12; 100]);
        fake.extend_from_slice(&[0xFF, 0xD9]);
        assert!(
            matches!(examine(&fake), Err(NotAPicture::Unreadable(Kind::Jpeg, _))),
            "{:?}",
            examine(&fake)
        );
        // Padding after a JPEG's end is still a whole JPEG.
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0, 0, 0]);
        assert!(examine(&padded).is_ok());
    }

    /// Found (when the check read the header alone): a PNG whose image data's checksum is
    /// wrong was taken, and only a strict reader found it damaged later.
    #[test]
    fn a_png_damaged_inside_is_refused() {
        let mut png = sample(Kind::Png, 40, 30, 2);
        let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
        png[idat + 6] ^= 0xFF;
        assert!(matches!(examine(&png), Err(NotAPicture::Unreadable(Kind::Png, _))), "{:?}", examine(&png));
    }

    /// Found: a 689 KB PNG of 15000 x 15000 pixels took the station to 682 MB while decoding.
    #[test]
    fn a_picture_of_too_many_pixels_is_refused_before_it_is_decoded() {
        let mut png = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut png, 9000, 9000);
            enc.set_color(png::ColorType::Grayscale);
            let mut w = enc.write_header().unwrap();
            w.write_image_data(&vec![0u8; 9000 * 9000]).unwrap();
        }
        assert_eq!(examine(&png), Err(NotAPicture::TooManyPixels { width: 9000, height: 9000 }));
    }

    #[test]
    fn a_transparent_corner_is_white_in_the_smaller_copy() {
        let img = image::RgbaImage::from_fn(300, 200, |x, _| {
            if x < 150 {
                image::Rgba([0, 0, 0, 0])
            } else {
                image::Rgba([200, 10, 10, 255])
            }
        });
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        let bytes = bytes.into_inner();
        let (_, small) = under(Kind::Png, &bytes, bytes.len() / 2).unwrap();
        let back = decode(Kind::Jpeg, &small).unwrap().to_rgb8();
        let corner = back.get_pixel(2, 2).0;
        assert!(corner.iter().all(|c| *c > 240), "{corner:?}");
    }

    #[test]
    fn a_large_picture_is_made_smaller_than_the_limit() {
        let bytes = sample(Kind::Png, 600, 400, 3);
        let limit = bytes.len() / 4;
        let (kind, small) = under(Kind::Png, &bytes, limit).unwrap();
        assert_eq!(kind, Kind::Jpeg);
        assert!(small.len() <= limit, "{} > {limit}", small.len());
        assert!(examine(&small).is_ok());
        let (same_kind, same) = under(Kind::Png, &bytes, bytes.len()).unwrap();
        assert_eq!((same_kind, same), (Kind::Png, bytes));
    }
}
