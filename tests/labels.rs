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

mod zpl {
    use returns_dock::labels::printer::Printer;
    use returns_dock::labels::zpl::{unit_label, LabelSize, UnitLabel};
    use std::io::Read;

    fn label() -> UnitLabel {
        UnitLabel {
            unit_id: "U00000042".into(),
            outcome: "second_hand".into(),
            grade: "B".into(),
            sku: "SKU_1001^X~".into(),
            rma: "RMA-2026-0002".into(),
            date: "2026-11-22".into(),
        }
    }

    #[test]
    fn the_unit_label_matches_its_golden_file() {
        let z = unit_label(&label(), LabelSize::default());
        let golden = include_str!("golden/unit_label_60x40_203dpi.zpl");
        assert_eq!(z, golden);
        assert!(z.starts_with("^XA\n^CI28\n^PW480\n^LL320\n"));
        assert!(z.contains("^FDSKU SKU_5F1001_5EX_7E^FS"), "text escaped");
    }

    #[test]
    fn a_label_reaches_a_raw_tcp_printer_byte_for_byte() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let got = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).unwrap();
            buf
        });
        let z = unit_label(&label(), LabelSize::default());
        Printer::Tcp(addr).send(z.as_bytes()).unwrap();
        assert_eq!(got.join().unwrap(), z.as_bytes());
    }

    #[test]
    fn a_command_printer_and_failing_printers() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("printed.zpl");
        Printer::Command(format!("cat > '{}'", out.display())).send(b"^XA^XZ").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"^XA^XZ");
        let err = Printer::Command("exit 3".into()).send(b"x").unwrap_err();
        assert!(err.contains("printer command exit 3"), "{err}");
        // A port nobody listens on: refused at once, said plainly.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
        let err = Printer::Tcp(free.clone()).send(b"x").unwrap_err();
        assert!(err.starts_with(&format!("printer {free}:")), "{err}");
    }
}

mod svg {
    use returns_dock::domain::codes::{Coded, Reason};
    use returns_dock::domain::scan::Command;
    use returns_dock::labels::{svg, Barcode};

    #[test]
    fn the_command_sheet_carries_every_command_in_both_languages_without_crowding() {
        let sheet = svg::command_sheet().unwrap();
        assert!(
            sheet.starts_with("<svg") && sheet.contains("width=\"210mm\" height=\"297mm\""),
            "one A4 page"
        );
        for c in Command::all() {
            assert!(sheet.contains(&format!(">{}</text>", c.barcode())), "{}", c.barcode());
            // Neighbours never share a quiet zone: every barcode fits its column.
            let col = if matches!(c, Command::Reason(_)) { 95.0 } else { 190.0 / 3.0 };
            let width = Barcode::code128(&c.barcode()).unwrap().width_modules() as f64 * 0.2;
            assert!(width < col, "{} is {width} mm in a {col} mm column", c.barcode());
        }
        for r in Reason::ALL {
            assert!(sheet.contains(r.zh()), "{}", r.zh());
        }
    }

    #[test]
    fn svg_bars_are_the_barcode_modules() {
        let b = Barcode::code128("U00000042").unwrap();
        let bars = b.svg_bars(0.0, 0.0, 1.0, 10.0);
        let dark: f64 = bars
            .split("width=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().parse::<f64>().unwrap())
            .sum();
        assert_eq!(dark as usize, b.modules.iter().filter(|m| **m == 1).count());
        assert!(bars.starts_with("<rect x=\"10.000\""), "the first bar after ten quiet modules: {bars}");
    }
}

#[test]
fn the_labels_commands() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["demo"]).status.success());
    let ok = run(&["labels", "commands", "--out", "sheet.svg"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(std::fs::read_to_string(dir.path().join("sheet.svg")).unwrap().contains("CMD-REASON-OTHER"));
    let png = run(&["labels", "commands", "--out", "sheet.png"]);
    assert_eq!(png.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&png.stderr).contains("only .svg in this version"));
    let badge = run(&["--db", "returns-dock-demo.db", "labels", "badge", "SUP1", "--out", "b.svg"]);
    assert!(badge.status.success(), "{}", String::from_utf8_lossy(&badge.stderr));
    let text = std::fs::read_to_string(dir.path().join("b.svg")).unwrap();
    assert!(
        text.contains("王主管") && text.contains("OP-SUP1") && text.contains("Supervisor · 主管"),
        "{text}"
    );
    let none = run(&["--db", "returns-dock-demo.db", "labels", "unit", "U00000099"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no unit U00000099"));
}
