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
            name: "Anker 735 USB-C Charger 65W".into(),
            supplier: None,
            destination: None,
        }
    }

    /// Compares with `tests/golden/NAME`; `GOLDEN_WRITE=1` writes it instead (then review the diff).
    fn golden(name: &str, got: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
        if std::env::var_os("GOLDEN_WRITE").is_some() {
            std::fs::write(&path, got).unwrap();
        }
        assert_eq!(got, std::fs::read_to_string(&path).unwrap(), "{name}");
    }

    #[test]
    fn unit_labels_match_their_golden_files() {
        let z = unit_label(&label(), LabelSize::default());
        golden("unit_label_60x40_203dpi.zpl", &z);
        assert!(z.starts_with("^XA\n^CI28\n^PW480\n^LL320\n"));
        assert!(z.contains("^FDSKU SKU_5F1001_5EX_7E  2026-11-22^FS"), "text escaped");
        let big = LabelSize { width_mm: 100, height_mm: 150, dpi: 300 };
        let chinese = UnitLabel {
            outcome: "return to supplier".into(),
            grade: String::new(),
            rma: String::new(),
            name: "小米 Redmi Buds 5 蓝牙耳机 黑色".into(),
            supplier: Some("Dongguan Tech Ltd.".into()),
            destination: None,
            ..label()
        };
        let z = unit_label(&chinese, big);
        golden("unit_label_100x150_300dpi.zpl", &z);
        assert!(z.contains("^PW1181\n^LL1772\n") && z.contains("^BY3^BC"), "dots at 300 dpi, 3-dot modules");
        assert!(z.contains("^FDno RMA^FS") && z.contains("^FDSupplier: Dongguan Tech Ltd.^FS"), "{z}");
        assert!(z.contains("^FDRedmi Buds 5^FS"), "the name without what font 0 has no glyph for: {z}");
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

mod pages {
    use returns_dock::domain::scan::Command;
    use returns_dock::labels::zpl::{LabelSize, UnitLabel};
    use returns_dock::labels::{layout, raster, QUIET_MODULES};
    use rxing::multi::{GenericMultipleBarcodeReader, MultipleBarcodeReader};

    /// Every barcode a scanner finds on a whole page, as written (no margins added), sorted.
    pub fn decode_all(png_bytes: &[u8]) -> Vec<String> {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        let source = rxing::Luma8LuminanceSource::new(buf, info.width, info.height).unwrap();
        let mut image = rxing::BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
        let hints = rxing::DecodeHints {
            TryHarder: Some(true),
            PossibleFormats: Some([rxing::BarcodeFormat::CODE_128].into()),
            ..Default::default()
        };
        let mut reader = GenericMultipleBarcodeReader::new(rxing::MultiFormatReader::default());
        let mut found: Vec<String> = reader
            .decode_multiple_with_hints(&mut image, &hints)
            .map(|v| v.iter().map(|r| r.getText().to_string()).collect())
            .unwrap_or_default();
        found.sort();
        found.dedup();
        found
    }

    /// Each barcode of a page cut out exactly where the program says it put it, quiet zones
    /// and all: the quiet zones must be clean of any ink, and the cut-out must read back.
    pub fn each_barcode_reads_back(page: &layout::Page, ppm: f64) -> usize {
        let c = raster::render(page, ppm);
        let placed = raster::barcodes(page, ppm);
        for (text, p) in &placed {
            assert!(p.x + p.width <= c.width && p.y + p.height <= c.height, "{text} is on the page");
            let mut cut = Vec::with_capacity(p.width * p.height);
            for row in p.y..p.y + p.height {
                cut.extend_from_slice(&c.pixels[row * c.width + p.x..row * c.width + p.x + p.width]);
            }
            let quiet = QUIET_MODULES * p.module;
            for row in cut.chunks(p.width) {
                assert!(
                    row[..quiet].iter().chain(&row[p.width - quiet..]).all(|v| *v == 255),
                    "{text}: quiet zone"
                );
            }
            let got = rxing::helpers::detect_in_luma(
                cut,
                p.width as u32,
                p.height as u32,
                Some(rxing::BarcodeFormat::CODE_128),
            )
            .map(|r| r.getText().to_string());
            assert_eq!(got.ok().as_deref(), Some(text.as_str()), "{text}");
        }
        placed.len()
    }

    #[test]
    fn the_command_sheet_png_reads_back_every_command_and_reason() {
        let page = layout::command_sheet().unwrap();
        assert_eq!(each_barcode_reads_back(&page, raster::SHEET_PX_PER_MM), Command::all().len());
        // And from the whole page as written, with no cutting: a scanner finds most of them.
        let found = decode_all(&raster::command_sheet().unwrap());
        assert!(found.len() * 10 >= Command::all().len() * 8, "{found:?}");
    }

    #[test]
    fn badges_read_back_including_long_ids_and_chinese_names() {
        for (id, name) in [("DEMO", "演示"), ("ZHANG01", "张伟"), ("SUPERVISOR-NIGHT-02", "Night supervisor")]
        {
            let found = decode_all(&raster::badge(id, name, "Operator", "操作员").unwrap());
            assert_eq!(found, [format!("OP-{id}")], "{id}");
            let page = layout::badge(id, name, "Operator", "操作员").unwrap();
            assert_eq!(each_barcode_reads_back(&page, raster::SHEET_PX_PER_MM), 1);
        }
    }

    #[test]
    fn unit_labels_read_back_at_203_and_300_dpi() {
        let sizes = [(60, 40, 203), (60, 40, 300), (100, 150, 203)];
        for ((unit_id, (w, h, dpi)), name) in
            ["U00000042", "U00000042", "U00123456789"].into_iter().zip(sizes).zip([
                "小米 Redmi Buds 5 蓝牙耳机 黑色 降噪",
                "Anker 735 USB-C Charger 65W",
                "膳魔师 保温杯 500ml",
            ])
        {
            let label = UnitLabel {
                unit_id: unit_id.into(),
                outcome: "return to supplier".into(),
                sku: "SKU-1001".into(),
                rma: "RMA-2026-0002".into(),
                date: "2026-11-22".into(),
                name: name.into(),
                supplier: Some("深圳市华强电子有限公司".into()),
                destination: None,
                ..UnitLabel::default()
            };
            let size = LabelSize { width_mm: w, height_mm: h, dpi };
            let bytes = raster::unit_label(&label, size).unwrap();
            assert_eq!(decode_all(&bytes), [unit_id], "{unit_id} at {dpi} dpi");
            let page = layout::unit_label(&label, f64::from(w), f64::from(h)).unwrap();
            let ppm = f64::from(dpi) / 25.4;
            assert_eq!(each_barcode_reads_back(&page, ppm), 1);
            let info = png::Decoder::new(std::io::Cursor::new(&bytes)).read_info().unwrap().info().clone();
            assert_eq!((info.width, info.height), (size.dots(w), size.dots(h)), "the label's dots");
            lines_keep_apart(&page, ppm, &format!("{w}x{h} at {dpi} dpi"));
        }
    }

    /// The rows of ink of each line of a drawn label, top to bottom, never overlap, and the
    /// unit id's digits stand at least 5 mm tall.
    fn lines_keep_apart(page: &layout::Page, ppm: f64, what: &str) {
        let mut spans = Vec::new();
        for (i, item) in page.items.iter().enumerate() {
            let alone = layout::Page { items: vec![item.clone()], ..page.clone() };
            let c = raster::render(&alone, ppm);
            let inked: Vec<usize> =
                (0..c.height).filter(|y| c.pixels[y * c.width..(y + 1) * c.width].contains(&0)).collect();
            let (top, bottom) = (*inked.first().unwrap(), *inked.last().unwrap());
            if let layout::Item::Text { text, .. } = item {
                if text.starts_with('U') && text.len() == 9 {
                    let mm = (bottom - top + 1) as f64 / ppm;
                    assert!(mm >= 5.0, "{what}: the unit id's digits are {mm:.1} mm tall");
                }
            }
            spans.push((top, bottom, i));
        }
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 < pair[1].0,
                "{what}: items {} and {} overlap: {spans:?}",
                pair[0].2,
                pair[1].2
            );
        }
    }
}

/// The demo sheet, written by the real binary before and after `demo`: the same file, every
/// barcode on it reads back, and they are the codes the demo's station expects.
mod demo_sheet {
    use returns_dock::labels::{layout, raster};
    use returns_dock::store::demo::{self, WaitingReturn};
    use returns_dock::store::station::{self as st, ParcelLookup};
    use returns_dock::store::Store;

    fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .current_dir(dir)
            .env_remove("RETURNS_DOCK_DB")
            .args(args)
            .output()
            .unwrap()
    }

    /// What a scanner should find on the sheet, in the order it is laid out: the two badges,
    /// then for each return shown its RMA, its products' barcodes and the serial numbers it lists.
    fn expected(shown: &[WaitingReturn]) -> Vec<String> {
        let mut codes = vec!["OP-DEMO".to_string(), "OP-SUP1".to_string()];
        for r in shown {
            codes.push(r.rma.clone());
            for l in &r.lines {
                codes.push(l.code.clone());
                codes.extend(l.serials.iter().cloned());
            }
        }
        codes
    }

    fn texts(page: &layout::Page) -> Vec<String> {
        raster::barcodes(page, raster::SHEET_PX_PER_MM).into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn the_sheet_made_before_demo_is_the_one_demo_expects_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        // No demo database yet: one is seeded aside for the sheet, and nothing is left here.
        let before = run(dir.path(), &["labels", "demo", "--out", "before.png"]);
        assert!(before.status.success(), "{}", String::from_utf8_lossy(&before.stderr));
        let said = String::from_utf8_lossy(&before.stdout).to_string();
        assert!(said.contains("demo sheet written to before.png: 18 of 40 parcels still to come"), "{said}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["before.png"], "only the sheet");
        // Then the newcomer's demo, and the sheet again from the database it left.
        assert!(run(dir.path(), &["demo"]).status.success());
        let after = run(dir.path(), &["labels", "demo", "--out", "after.png"]);
        assert!(after.status.success(), "{}", String::from_utf8_lossy(&after.stderr));
        let png = std::fs::read(dir.path().join("after.png")).unwrap();
        assert!(png == std::fs::read(dir.path().join("before.png")).unwrap(), "the same sheet, bar for bar");

        let store = Store::open(&dir.path().join("returns-dock-demo.db")).unwrap();
        let waiting = demo::waiting(store.conn(), None).unwrap();
        assert_eq!(waiting.len(), 40);
        let shown = &waiting[..18];
        // The file is this page, and each of its barcodes reads back, quiet zones clean.
        let badges = returns_dock::cli::demo_badges(&store).unwrap();
        let (page, n) = layout::demo_sheet(&badges, &waiting).unwrap();
        assert_eq!(n, 18);
        assert!(raster::png(&page, raster::SHEET_PX_PER_MM) == png, "the command wrote this page");
        assert_eq!(texts(&page), expected(shown));
        assert_eq!(
            super::pages::each_barcode_reads_back(&page, raster::SHEET_PX_PER_MM),
            expected(shown).len()
        );
        // From the whole page as printed, with no cutting, a scanner finds nearly all of them
        // and nothing else.
        let mut all = expected(shown);
        all.sort();
        all.dedup();
        let found = super::pages::decode_all(&png);
        assert!(found.iter().all(|f| all.contains(f)) && found.len() * 10 >= all.len() * 9, "{found:?}");
        let svg = run(dir.path(), &["labels", "demo", "--out", "sheet.svg"]);
        assert!(svg.status.success());
        let svg = std::fs::read_to_string(dir.path().join("sheet.svg")).unwrap();
        assert!(svg.contains(">PIN 2468</text>") && svg.contains("王主管"), "the supervisor's badge and PIN");
        // What the dock screen offers to try is on the sheet, in the same order.
        let screen = st::demo_waiting(store.conn(), 3).unwrap();
        for ((rma, codes), r) in screen.iter().zip(shown) {
            assert_eq!(rma, &r.rma);
            assert_eq!(
                codes.iter().map(|c| c.0.clone()).collect::<Vec<_>>(),
                r.lines.iter().map(|l| l.code.clone()).collect::<Vec<_>>()
            );
        }
        // Read at the station, each RMA opens its expected return and each product code is
        // the product its line expects.
        for r in shown {
            match st::lookup_parcel(store.conn(), "ST01", &r.rma).unwrap() {
                ParcelLookup::Expected(found) => {
                    assert!(found.iter().any(|f| f.rma_no == r.rma), "{}", r.rma)
                }
                other => panic!("{}: {other:?}", r.rma),
            }
            for l in &r.lines {
                let p =
                    st::find_product(store.conn(), &l.code).unwrap().unwrap_or_else(|| panic!("{}", l.code));
                assert_eq!(p.sku, l.sku);
            }
        }
        // The serials the demo's returns list come on the sheet too, once those returns are due.
        let with_serials: Vec<_> =
            waiting.iter().filter(|r| r.lines.iter().any(|l| !l.serials.is_empty())).collect();
        assert!(!with_serials.is_empty());
    }

    #[test]
    fn every_barcode_of_the_sheet_has_its_quiet_zone_and_serials_come_with_their_products() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.db");
        returns_dock::cli::seed_demo(&db).unwrap_or_else(|_| panic!("the demo seeds"));
        let store = Store::open(&db).unwrap();
        // The returns that list serial numbers first, so the page shows them.
        let mut waiting = demo::waiting(store.conn(), None).unwrap();
        waiting.sort_by_key(|r| !r.lines.iter().any(|l| !l.serials.is_empty()));
        let badge = |id: &str, pin: Option<&str>| layout::SheetBadge {
            id: id.into(),
            name: "王主管".into(),
            role_en: "Supervisor".into(),
            role_zh: "主管".into(),
            pin: pin.map(String::from),
        };
        let (page, shown) =
            layout::demo_sheet(&[badge("DEMO", None), badge("SUP1", Some("2468"))], &waiting).unwrap();
        assert!(shown >= 10, "{shown}");
        assert_eq!(texts(&page), expected(&waiting[..shown]), "each serial under its product");
        assert!(texts(&page).contains(&"BS20K-60003".to_string()), "all three serials of RMA-2026-0014");
        let n = super::pages::each_barcode_reads_back(&page, raster::SHEET_PX_PER_MM);
        assert_eq!(n, expected(&waiting[..shown]).len());
        let svg = returns_dock::labels::svg::render(&page);
        assert!(svg.contains(">PIN 2468</text>") && svg.contains(">HWGT5-A1B2C3D4</text>"), "{svg}");
        assert!(svg.contains("more to come"), "the page says that the sheet goes on");
    }

    #[test]
    fn a_database_that_is_not_a_demo_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("users.csv"), "id,name,role,pin\nA1,Ann,operator,\n").unwrap();
        assert!(run(dir.path(), &["--db", "dock.db", "import", "users", "users.csv"]).status.success());
        let out = run(dir.path(), &["--db", "dock.db", "labels", "demo", "--out", "sheet.svg"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("dock.db: not a demo database"), "{err}");
        assert!(!dir.path().join("sheet.svg").exists());
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
    assert!(png.status.success(), "{}", String::from_utf8_lossy(&png.stderr));
    let found = pages::decode_all(&std::fs::read(dir.path().join("sheet.png")).unwrap());
    assert!(found.contains(&"CMD-REASON-OTHER".to_string()), "the sheet written by the command: {found:?}");
    let pdf = run(&["labels", "commands", "--out", "sheet.pdf"]);
    assert_eq!(pdf.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&pdf.stderr).contains("sheet.pdf: the file must end in .svg or .png"));
    let badge = run(&["--db", "returns-dock-demo.db", "labels", "badge", "ZHANG01", "--out", "z.png"]);
    assert!(badge.status.success(), "{}", String::from_utf8_lossy(&badge.stderr));
    let found = pages::decode_all(&std::fs::read(dir.path().join("z.png")).unwrap());
    assert_eq!(found, ["OP-ZHANG01"]);
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
