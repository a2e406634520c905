//! Pictures for the photo tests: small real JPEGs, a different one for each seed.

/// A 64 x 48 JPEG, different for each `seed`.
pub fn jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x as u8 * 3) ^ seed, y as u8 * 5, seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}
