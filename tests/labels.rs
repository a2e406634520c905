//! Labels a real scanner reads: every barcode the program draws is decoded back to its text by
//! a real decoder (rxing, a port of ZXing), from the PNG bytes as written, margins and all as
//! the program made them.

use returns_dock::domain::scan::Command;
use returns_dock::labels::Barcode;

/// Decodes a PNG's first barcode, as a scanner would read the printed label.
fn decode_png(png_bytes: &[u8]) -> Option<String> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    rxing::helpers::detect_in_luma(buf, info.width, info.height, Some(rxing::BarcodeFormat::CODE_128))
        .ok()
        .map(|r| r.getText().to_string())
}

#[test]
fn every_command_and_reason_barcode_decodes_to_its_text() {
    for c in Command::all() {
        let text = c.barcode();
        let png = Barcode::code128(&text).unwrap().png(2, 80);
        assert_eq!(decode_png(&png).as_deref(), Some(text.as_str()), "{text}");
    }
}

#[test]
fn badges_unit_ids_and_long_ids_decode() {
    for text in [
        "OP-DEMO",
        "OP-ZHANG01",
        "U00000042",
        "U00123456789",
        "12345678901234",
        "RMA-2026-0001",
        "SF1400000000101",
    ] {
        let png = Barcode::code128(text).unwrap().png(2, 60);
        assert_eq!(decode_png(&png).as_deref(), Some(text), "{text}");
    }
}
