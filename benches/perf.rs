//! The figures behind README's performance table. Run: `cargo bench --bench perf` (all), or
//! `cargo bench --bench perf -- import [LINES]`. The central database's figures (`-- central
//! [LINES]`: station steps; `-- central-import [LINES]`: imports while a station writes;
//! `-- central-scan [RETURNS]`: the station on a million returns) use the server
//! `RETURNS_DOCK_BENCH_PG` names (its `postgres` database, for making one of its own), else
//! start a private one with `.ci/pg-server`. `-- workbook-import [LINES]`: returns from a
//! workbook beside the same rows from a CSV.
//!
//! Each figure is printed as `name: value unit (goal: ...)`. Data comes from `gen`, so every
//! run measures the same bytes.

use returns_dock::gen::{self, GenOptions};
use returns_dock::import::{self, ImportOptions, Source};
use returns_dock::store::Store;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

// The same allocator as the program, so the figures are the program's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!("machine: {} cores, {}", cores(), cpu_model());
    if matches!(which, "all" | "import") {
        let lines = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        import_bench(dir.path(), lines);
    }
    if matches!(which, "all" | "export") {
        let units = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
        export_bench(dir.path(), units);
    }
    if matches!(which, "all" | "scan") {
        let returns = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        scan_bench(dir.path(), returns);
    }
    if matches!(which, "all" | "workbook-import") {
        let lines = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200_000);
        workbook_import_bench(dir.path(), lines);
    }
    if which == "write-workbook" {
        write_workbook(Path::new(&args[1]), Path::new(&args[2]));
    }
    if matches!(which, "all" | "labels") {
        let labels = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000);
        labels_bench(labels);
    }
    if matches!(which, "all" | "central") {
        let lines = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
        central_bench(dir.path(), lines);
    }
    if matches!(which, "all" | "central-import") {
        let lines = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        central_import_bench(dir.path(), lines);
    }
    if matches!(which, "all" | "central-scan") {
        let returns = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        central_scan_bench(dir.path(), returns);
    }
    if matches!(which, "all" | "photos") {
        photos_bench(dir.path());
    }
    if matches!(which, "all" | "security") {
        let units = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
        security_bench(dir.path(), units);
    }
}

/// A phone's photo at the bench (4000 x 3000, a few MB): checking it (decoded whole), and
/// attaching it (its SHA-256, its file written and synced, the attachment committed), which
/// the station does between two batches of input; then one return's evidence bundle with a
/// photo over 5 MB made smaller.
fn photos_bench(dir: &Path) {
    use returns_dock::evidence::picture;
    use returns_dock::store::photos::Target;
    let mut x: u32 = 7;
    let img = image::RgbImage::from_fn(4000, 3000, |px, py| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let n = (x >> 24) as u8 / 8;
        image::Rgb([(px / 16) as u8 ^ n, (py / 12) as u8 ^ n, ((px + py) / 28) as u8 ^ n])
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92).encode_image(&img).expect("a JPEG");
    let jpeg = jpeg.into_inner();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let check = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                picture::examine(&jpeg).expect("a picture");
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    );
    let db = dir.join("photos.db");
    returns_dock::cli::seed_demo(&db).expect("the demo");
    let mut store = returns_dock::store::Store::open(&db).expect("the database");
    let now = chrono::Local::now().fixed_offset();
    let actor = returns_dock::store::station::Actor {
        station: "BENCH".into(),
        dock: String::new(),
        user: "DEMO".into(),
        now,
    };
    let returns = match store.lookup_parcel("BENCH", "RMA-2026-0009").expect("a lookup") {
        returns_dock::store::station::ParcelLookup::Expected(rs) => {
            rs.iter().map(|r| r.id).collect::<Vec<_>>()
        }
        other => panic!("{other:?}"),
    };
    let parcel = store.open_parcel(&actor, "RMA-2026-0009", &returns).expect("a parcel").expect("opened").id;
    let attach: Vec<f64> = (0..5u8)
        .map(|i| {
            // Each a different picture (one byte changed before its end marker).
            let mut bytes = jpeg.clone();
            let at = bytes.len() - 3;
            bytes[at] = i;
            let t = Instant::now();
            let pic = picture::examine(&bytes).expect("a picture");
            store
                .attach_photo(&actor, Target { parcel, unit: None }, "IMG.jpg", &pic, &bytes)
                .expect("attached");
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let big = {
        let mut big = std::io::Cursor::new(Vec::new());
        img.write_to(&mut big, image::ImageFormat::Png).expect("a PNG");
        big.into_inner()
    };
    let pic = picture::examine(&big).expect("a picture");
    store.attach_photo(&actor, Target { parcel, unit: None }, "BIG.png", &pic, &big).expect("attached");
    let t = Instant::now();
    let b = returns_dock::evidence::bundle::write(
        &store,
        "RMA-2026-0009",
        &dir.join("evidence.zip"),
        "",
        returns_dock::domain::codes::Lang::En,
        now,
    )
    .expect("the bundle");
    let bundle_s = t.elapsed().as_secs_f64();
    println!(
        "photos: a {:.1} MB 4000x3000 JPEG checked (decoded whole) in {check:.0} ms; attached (checked, hashed, \
         its file synced, committed) median {:.0} ms; evidence of one return with {} photos ({} of {:.1} MB \
         made smaller) in {bundle_s:.2} s",
        jpeg.len() as f64 / 1e6,
        median(attach),
        b.photos,
        b.resized,
        big.len() as f64 / 1e6
    );
}

/// What a guess costs (a PIN checked against its stored hash), and the audit log's checks on
/// a history of `units` units: sealing it when an older database is migrated, `audit verify`
/// over all of it, and the station's check of the newest entries at start.
fn security_bench(dir: &Path, units: u64) {
    use returns_dock::store::{auth, chain};
    let hash = auth::hash_pin("2468");
    let mut times: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            assert!(!auth::verify_pin(&hash, "1357"));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("one PIN guess against its stored hash: median {:.0} ms (goal: >= 50 ms)", times[4]);

    // A database of the schema before the chain, with `units` units in 1,000 parcels.
    let db = dir.join("history.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        returns_dock::store::older_schema(&conn, 4).unwrap();
        conn.execute_batch(&format!(
            "BEGIN;
             INSERT INTO users (id, name, role, created_at, updated_at) VALUES ('DEMO', 'Demo', 'operator', 'x', 'x');
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
             INSERT INTO parcels (id, scan, tracking_no, tracking_key, state, station, operator, received_at)
               SELECT i, 'T' || i, 'T' || i, 'T' || i, 'signed', 'ST01', 'DEMO', '2026-11-01T08:00:00.000Z' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {units})
             INSERT INTO units (id, parcel_id, seq, scan, sku, outcome, grade, cause, station, operator, scanned_at)
               SELECT i, 1 + i % 1000, i, '6901234500011', 'SKU-' || (i % 500), 'accept', 'A', 'CHANGED-MIND',
                      'ST01', 'DEMO', '2026-11-01T08:00:00.000Z' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
             INSERT INTO audit_log (at, station, actor, action, subject)
               SELECT '2026-11-01T08:00:00.000Z', 'ST01', 'DEMO', 'sign', 'P' || i FROM n;
             COMMIT;"
        ))
        .unwrap();
    }
    let t = Instant::now();
    let store = Store::open(&db).unwrap();
    println!(
        "sealing the log of an older database with {units} units (once, at the update): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let v = chain::verify(store.conn()).unwrap();
    assert!(v.ok(), "{:?}", v.problems.first());
    println!(
        "audit verify: {} entries and {} units in {:.2} s",
        v.entries,
        v.units,
        t.elapsed().as_secs_f64()
    );
    let mut tail: Vec<f64> = (0..21)
        .map(|_| {
            let t = Instant::now();
            assert!(chain::verify_tail(store.conn(), 1000).unwrap().is_none());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    tail.sort_by(f64::total_cmp);
    println!("the station's check of the newest 1,000 entries at start: median {:.1} ms", tail[10]);
}

/// Unit labels a second, as ZPL and as PNG (60x40 mm at 203 dpi), each with its own id; and
/// the A4 command sheet as PNG.
fn labels_bench(n: u64) {
    use returns_dock::labels::{raster, zpl};
    let label = |i: u64| zpl::UnitLabel {
        unit_id: format!("U{i:08}"),
        outcome: "second-hand".into(),
        grade: "B".into(),
        sku: format!("SKU-{}", 1000 + i % 50),
        rma: format!("RMA-2026-{i:06}"),
        date: "2026-11-22".into(),
        name: "小米 Redmi Buds 5 蓝牙耳机 黑色".into(),
        supplier: None,
        destination: None,
    };
    let size = zpl::LabelSize::default();
    let t = Instant::now();
    let mut bytes = 0;
    for i in 0..n {
        bytes += zpl::unit_label(&label(i), size).len();
    }
    let zpl_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in 0..n {
        bytes += raster::unit_label(&label(i), size).expect("a label").len();
    }
    let png_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let sheet = raster::command_sheet().expect("the sheet").len();
    let sheet_s = t.elapsed().as_secs_f64();
    println!(
        "labels: {n} ZPL in {zpl_s:.3} s = {:.0}/s (goal: 1,000 in under 1 s); {n} PNG in {png_s:.2} s = {:.0}/s; \
         command sheet PNG (A4, 254 dpi, {} KB) in {sheet_s:.2} s  [{bytes} bytes of labels]",
        n as f64 / zpl_s,
        n as f64 / png_s,
        sheet / 1024
    );
}

/// From a scan's Enter to the next frame, through the real loop (input, state machine,
/// database with its durable commit, drawing) on a database of `returns` expected returns.
fn scan_bench(dir: &Path, returns: u64) {
    let (db, history) = scan_database(dir, returns);
    let scans = shift_scans(&db, returns);
    reset_peak_memory();
    let shift = run_shift(Store::open(&db).unwrap(), &scans);
    let signed: i64 = shift
        .store
        .conn()
        .query_row("SELECT count(*) FROM parcels WHERE state = 'signed' AND scan NOT LIKE 'HIST%'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let (mut times, mut signs) = (shift.times, shift.signs);
    signs.sort_by(|a, b| a.total_cmp(b));
    println!(
        "signing with {history} units of history: {} sign scans, median {:.2} ms, max {:.2} ms",
        signs.len(),
        signs[signs.len() / 2],
        signs[signs.len() - 1]
    );
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "scan to frame, {history} units of history: {} scans ({signed} parcels signed), median {:.2} ms, p99 {:.2} ms, max {:.2} ms (goal: p99 < 5 ms)",
        times.len(),
        pct(0.5),
        pct(0.99),
        times[times.len() - 1]
    );
    println!("station peak memory: {:.0} MB (goal: < 100 MB)", peak_memory_mb());
    startup_bench(&db);
}

/// The station's database of the scan figures, `scan.db` in `dir`: `returns` expected returns
/// from `gen`, imported, and a year of one station's history. Returns its path and how many
/// units of history it holds.
fn scan_database(dir: &Path, returns: u64) -> (std::path::PathBuf, i64) {
    let db = dir.join("scan.db");
    let t = Instant::now();
    {
        let returns_csv = dir.join("scan-returns.csv");
        let catalog_csv = dir.join("scan-returns.catalog.csv");
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&returns_csv).unwrap());
        let mut cat = BufWriter::with_capacity(1 << 20, std::fs::File::create(&catalog_csv).unwrap());
        gen::generate(&GenOptions { returns, seed: 3, max_lines: None }, &mut out, &mut cat).unwrap();
        out.flush().unwrap();
        cat.flush().unwrap();
        drop((out, cat));
        let mut store = Store::open(&db).unwrap();
        let opts = ImportOptions::new(chrono::Local::now().fixed_offset());
        std::fs::write(dir.join("users.csv"), "id,name\nBENCH,Bench Operator\n").unwrap();
        import::users::import(&mut store, &[Source::File(dir.join("users.csv"))], &opts).unwrap();
        import::catalog::import(&mut store, &[Source::File(catalog_csv)], &opts).unwrap();
        let r = import::returns::import(&mut store, &[Source::File(returns_csv.clone())], &opts).unwrap();
        assert!(r.errors.is_empty());
        std::fs::remove_file(returns_csv).ok();
    }
    println!("scan database: {returns} expected returns, built in {:.1} s", t.elapsed().as_secs_f64());
    // A year of this station's history: 100,000 signed parcels of 10 inspected units each, so
    // that the shift's figures (counted at every signature) meet a large units table.
    let t = Instant::now();
    let history = 1_000_000i64;
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("BEGIN").unwrap();
        let first: i64 =
            conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM parcels", [], |r| r.get(0)).unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 / 10 - 1)
             INSERT INTO parcels (id, scan, tracking_no, tracking_key, state, station, operator, received_at, closed_at, closed_by)
             SELECT ?2 + i, 'HIST' || i, 'HIST' || i, 'HIST' || i, 'signed', 'BENCH', 'BENCH',
                    strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 300) || ' seconds'),
                    strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 300 + 120) || ' seconds'), 'BENCH' FROM n",
            rusqlite::params![history, first],
        )
        .unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
             INSERT INTO units (parcel_id, seq, scan, outcome, grade, cause, station, operator, scanned_at, inspected_at)
             SELECT ?2 + i / 10, i % 10 + 1, 'HIST', 'accept', 'A', 'CHANGED-MIND', 'BENCH', 'BENCH',
                    strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30) || ' seconds'),
                    strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30 + 10) || ' seconds') FROM n",
            rusqlite::params![history, first],
        )
        .unwrap();
        conn.execute_batch("COMMIT").unwrap();
    }
    println!(
        "history: {history} inspected units of this station added in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    (db, history)
}

/// Returns spread over the whole database, each alone in its box: up to `n` of them, among
/// every `returns / n`-th id from `1 + offset * returns / n / 2` (offset 1: the ids halfway
/// between those of offset 0).
fn returns_alone(conn: &rusqlite::Connection, returns: u64, n: usize, offset: i64) -> Vec<i64> {
    let step = (returns / n as u64).max(1) as i64;
    let mut found = Vec::new();
    let mut id = 1 + offset * step / 2;
    while found.len() < n && id <= returns as i64 {
        let alone = conn
            .query_row(
                "SELECT 1 FROM returns r WHERE r.id = ?1
                   AND (SELECT count(*) FROM returns x WHERE x.tracking_no = r.tracking_no) = 1",
                [id],
                |_| Ok(()),
            )
            .is_ok();
        if alone {
            found.push(id);
        }
        id += step;
    }
    found
}

/// A shift's scans on the scan database: the badge, then returns spread over the whole
/// database, each alone in its box, every unit scanned and accepted, each parcel signed.
fn shift_scans(db: &Path, returns: u64) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut scans: Vec<String> = vec!["OP-BENCH".into()];
    let mut serial = 0;
    for id in returns_alone(&conn, returns, 150, 0) {
        if scans.len() >= 600 {
            break;
        }
        let rma: String =
            conn.query_row("SELECT rma_no FROM returns WHERE id = ?1", [id], |r| r.get(0)).unwrap();
        scans.push(rma);
        let mut stmt = conn
            .prepare(
                "SELECT b.code, l.qty, p.serialised FROM return_lines l JOIN products p ON p.sku = l.sku
                 JOIN product_barcodes b ON b.sku = l.sku WHERE l.return_id = ?1",
            )
            .unwrap();
        let lines: Vec<(String, i64, bool)> = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (code, qty, serialised) in lines {
            for _ in 0..qty {
                scans.push(code.clone());
                if serialised {
                    serial += 1;
                    scans.push(format!("BENCH-{serial:06}"));
                }
                scans.push("CMD-ACCEPT".into());
            }
        }
        scans.push("CMD-SIGN".into());
        scans.push("CMD-CONFIRM".into());
    }
    scans
}

/// A shift through the real loop: each scan's Enter timed to the drawn frame.
struct Shift {
    store: Store,
    /// Every scan's time, in ms, in order.
    times: Vec<f64>,
    /// The signatures' (CMD-SIGN and CMD-CONFIRM).
    signs: Vec<f64>,
}

fn run_shift(store: Store, scans: &[String]) -> Shift {
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use returns_dock::station::{app::App, exec::Executor, text::Lang};

    let mut app = App::new("BENCH", Lang::En, false, false);
    let mut exec = Executor::new(store, "BENCH", Box::new(|| chrono::Local::now().fixed_offset()));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let key = |c| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
    let mut times: Vec<f64> = Vec::with_capacity(scans.len());
    let mut signs: Vec<f64> = Vec::new();
    for scan in scans {
        // The characters arrive first (a scanner's burst), then the Enter is timed to the frame.
        let chars: Vec<Event> = scan.chars().map(|c| key(KeyCode::Char(c))).collect();
        // A person's scans, a second apart on the station's clock (not double reads).
        let at = std::time::Duration::from_secs(times.len() as u64 + 1);
        let mut batch = Some(returns_dock::station::Batch { events: chars, at });
        returns_dock::station::run_loop(
            &mut terminal,
            &mut app,
            &mut exec,
            &mut || Ok(batch.take()),
            &mut || {},
        )
        .unwrap();
        let mut enter = Some(returns_dock::station::Batch { events: vec![key(KeyCode::Enter)], at });
        let t = Instant::now();
        returns_dock::station::run_loop(
            &mut terminal,
            &mut app,
            &mut exec,
            &mut || Ok(enter.take()),
            &mut || {},
        )
        .unwrap();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        if scan.starts_with("CMD-SIGN") || scan.starts_with("CMD-CONFIRM") {
            signs.push(ms);
        }
    }
    Shift { store: exec.store, times, signs }
}

/// From starting the real binary (this build) in a pseudo-terminal to its first frame on the
/// screen, on the scan database: five starts, the median and the slowest.
fn startup_bench(db: &Path) {
    use portable_pty::{native_pty_system, CommandBuilder, PtySize};
    use std::io::Read;
    let mut times = Vec::new();
    for _ in 0..5 {
        let pty = native_pty_system()
            .openpty(PtySize { rows: 24, cols: 80, pixel_width: 0, pixel_height: 0 })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_returns-dock"));
        cmd.args(["--db", db.to_str().unwrap(), "station", "--station", "BENCH2"]);
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(db.parent().unwrap());
        let t = Instant::now();
        let mut child = pty.slave.spawn_command(cmd).unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let mut parser = vt100::Parser::new(24, 80, 0);
        let mut buf = [0u8; 8192];
        while !parser.screen().contents().contains("Scan your badge") {
            let n = reader.read(&mut buf).unwrap();
            assert!(n > 0, "the station ended before its first frame");
            parser.process(&buf[..n]);
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        child.kill().ok();
        child.wait().ok();
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "startup to first frame: median {:.0} ms, slowest {:.0} ms of 5 starts (goal: < 1 s)",
        times[2], times[4]
    );
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn import_bench(dir: &Path, lines: u64) {
    let returns_csv = dir.join("returns.csv");
    let catalog_csv = dir.join("returns.catalog.csv");
    let t = Instant::now();
    let summary = {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&returns_csv).unwrap());
        let mut cat = BufWriter::with_capacity(1 << 20, std::fs::File::create(&catalog_csv).unwrap());
        let s = gen::generate(
            &GenOptions { returns: lines, seed: 1, max_lines: Some(lines) },
            &mut out,
            &mut cat,
        )
        .unwrap();
        out.flush().unwrap();
        cat.flush().unwrap();
        // On disk before the clock starts: the import is timed, not the write-back of gen's output.
        out.get_ref().sync_all().unwrap();
        s
    };
    let csv_mb = std::fs::metadata(&returns_csv).unwrap().len() as f64 / 1e6;
    println!(
        "gen: {} returns, {} lines, {csv_mb:.1} MB of CSV in {:.2} s",
        summary.returns,
        summary.lines,
        t.elapsed().as_secs_f64()
    );

    let opts = ImportOptions::new(chrono::Local::now().fixed_offset());
    // Peak memory of a tenth of the file, for comparison: an import should stay flat.
    let tenth = dir.join("tenth.csv");
    {
        use std::io::BufRead;
        let input = std::io::BufReader::new(std::fs::File::open(&returns_csv).unwrap());
        let mut out = BufWriter::new(std::fs::File::create(&tenth).unwrap());
        for line in input.lines().take((summary.lines / 10) as usize + 1) {
            writeln!(out, "{}", line.unwrap()).unwrap();
        }
        out.flush().unwrap();
        out.get_ref().sync_all().unwrap();
    }
    let small_db = dir.join("tenth.db");
    let mut store = Store::open(&small_db).unwrap();
    reset_peak_memory();
    import::returns::import(&mut store, &[Source::File(tenth)], &opts).unwrap();
    let small_peak = peak_memory_mb();
    drop(store);

    let db = dir.join("bench.db");
    let mut store = Store::open(&db).unwrap();
    reset_peak_memory();
    // Meanwhile a station writes (one small durable transaction every 100 ms, as a scan does):
    // how long does it wait for the import's lock?
    let station = Station::start(&db);
    let t = Instant::now();
    let report = import::returns::import(&mut store, &[Source::File(returns_csv.clone())], &opts).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let waits = station.stop();
    let peak = peak_memory_mb();
    assert!(report.errors.is_empty(), "gen output must import cleanly: {:?}", report.errors.first());
    drop(store);
    let rate = summary.lines as f64 / secs;
    let db_mb = file_mb(&db) + file_mb(&dir.join("bench.db-wal"));
    println!("import returns: {} lines in {secs:.2} s = {rate:.0} lines/s (goal: >= 200000)", summary.lines);
    println!(
        "import peak memory: {peak:.0} MB for {} lines, {small_peak:.0} MB for a tenth of them ({:.1}x; goal: <= 2x)",
        summary.lines,
        peak / small_peak
    );
    println!(
        "database size: {db_mb:.1} MB for {} returns ({:.0} bytes a line)",
        summary.returns,
        db_mb * 1e6 / summary.lines as f64
    );

    println!("{}", waits.line("a station's write during that import"));
    let mut store = Store::open(&db).unwrap();
    let station = Station::start(&db);
    let t = Instant::now();
    let again = import::returns::import(&mut store, &[Source::File(returns_csv.clone())], &opts).unwrap();
    let reimport_s = t.elapsed().as_secs_f64();
    let waits = station.stop();
    println!(
        "re-import, unchanged: {} lines in {reimport_s:.2} s ({} unchanged)",
        summary.lines, again.files[0].unchanged
    );
    println!("{}", waits.line("a station's write during the re-import"));
    let t = Instant::now();
    let mut dry = opts.clone();
    dry.dry_run = true;
    import::returns::import(&mut store, &[Source::File(returns_csv.clone())], &dry).unwrap();
    println!("dry run of the same file: {:.2} s (no lock taken)", t.elapsed().as_secs_f64());

    match sqlite3_import(dir, &returns_csv) {
        Some(bare) => println!(
            "sqlite3 .import into a bare table: {bare:.2} s; returns-dock takes {:.2}x that (goal: <= 1.6x)",
            secs / bare
        ),
        None => println!("sqlite3 .import: skipped (no sqlite3 on PATH)"),
    }
}

/// A station's writes on a thread of its own: one small durable transaction every 100 ms (as
/// a scan makes), each one's wait for the lock recorded, until stopped.
struct Station {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(f64, f64, bool)>>,
}

/// Each write: its whole time (lock, insert, durable commit), the part spent waiting for the
/// lock, and whether it went through.
struct Waits(Vec<(f64, f64, bool)>);

impl Station {
    /// On a file, the lock is waited for at BEGIN IMMEDIATE; on a central database, where no
    /// writer locks the whole database, at the audit log's own lock (taken in turn by every
    /// writer that appends to it, as a station's every step does), inside the entry's append.
    fn start(db: &Path) -> Station {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (db, done) = (db.to_path_buf(), done.clone());
            std::thread::spawn(move || {
                use returns_dock::store::sql::{in_tx, Mode};
                let mut s = Store::open(&db).unwrap();
                let mut waits = Vec::new();
                let probe = |db: &dyn returns_dock::store::sql::Sql| {
                    returns_dock::store::audit(
                        db,
                        chrono::Local::now().fixed_offset(),
                        Some("BENCH"),
                        None,
                        "probe",
                        None,
                        None,
                    )
                };
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let t = Instant::now();
                    let (locked, ok) = if s.is_central() {
                        let mut locked = 0.0;
                        let ok = in_tx(s.db(), Mode::Write, |db| {
                            let id = probe(db);
                            locked = t.elapsed().as_secs_f64();
                            id
                        });
                        (locked, ok.is_ok())
                    } else {
                        let tx =
                            s.conn_mut().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate);
                        let locked = t.elapsed().as_secs_f64();
                        let ok = tx.map_err(returns_dock::store::DbError::from).and_then(|tx| {
                            probe(&*tx)?;
                            Ok(tx.commit()?)
                        });
                        (locked, ok.is_ok())
                    };
                    waits.push((t.elapsed().as_secs_f64(), locked, ok));
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                waits
            })
        };
        Station { done, thread }
    }

    fn stop(self) -> Waits {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        Waits(self.thread.join().unwrap())
    }
}

impl Waits {
    fn line(&self, what: &str) -> String {
        let sorted = |f: fn(&(f64, f64, bool)) -> f64| {
            let mut ms: Vec<f64> = self.0.iter().map(|w| f(w) * 1000.0).collect();
            ms.sort_by(|a, b| a.total_cmp(b));
            ms
        };
        let pct = |ms: &[f64], p: f64| {
            ms.get(((ms.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0)
        };
        let (whole, lock) = (sorted(|w| w.0), sorted(|w| w.1));
        format!(
            "{what}: {} writes; waiting for the lock: p99 {:.1} ms, longest {:.1} ms; the whole write with its \
             durable commit: median {:.1} ms, p99 {:.1} ms, longest {:.1} ms; {} failed (goal: longest <= 100 ms)",
            whole.len(),
            pct(&lock, 0.99),
            lock.last().copied().unwrap_or(0.0),
            pct(&whole, 0.5),
            pct(&whole, 0.99),
            whole.last().copied().unwrap_or(0.0),
            self.0.iter().filter(|w| !w.2).count()
        )
    }
}

/// The same generated returns imported from a CSV and from a workbook of the same rows (order
/// and tracking numbers as text, quantities as numbers, as a seller tool saves them), each into
/// a fresh database, in one run: the time and the peak memory of each.
fn workbook_import_bench(dir: &Path, lines: u64) {
    let csv_path = dir.join("wb-returns.csv");
    let xlsx_path = dir.join("wb-returns.xlsx");
    {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&csv_path).unwrap());
        let mut cat = std::io::sink();
        gen::generate(&GenOptions { returns: lines, seed: 1, max_lines: Some(lines) }, &mut out, &mut cat)
            .unwrap();
        out.flush().unwrap();
    }
    // Written by a process of its own, so that the memory it takes is not this one's when the
    // imports' peaks are measured.
    let t = Instant::now();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["write-workbook", csv_path.to_str().unwrap(), xlsx_path.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    println!(
        "workbook of {lines} lines: {:.1} MB (the CSV {:.1} MB), written in {:.2} s",
        file_mb(&xlsx_path),
        file_mb(&csv_path),
        t.elapsed().as_secs_f64()
    );
    let opts = ImportOptions::new(chrono::Local::now().fixed_offset());
    for (name, source) in
        [("CSV", Source::File(csv_path.clone())), ("workbook", Source::workbook(&xlsx_path, None))]
    {
        let db = dir.join(format!("wb-{name}.db"));
        let mut store = Store::open(&db).unwrap();
        reset_peak_memory();
        let t = Instant::now();
        let report = import::returns::import(&mut store, &[source], &opts).unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors.first());
        println!(
            "import returns from the {name}: {lines} lines in {secs:.2} s, peak memory {:.0} MB",
            peak_memory_mb()
        );
    }
}

/// The rows of the CSV at `csv_path` as a workbook at `xlsx_path`: text cells, quantities as
/// numbers, its strings shared as Excel saves them.
fn write_workbook(csv_path: &Path, xlsx_path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_low_memory().unwrap();
    let mut input = csv::Reader::from_path(csv_path).unwrap();
    let headers = input.headers().unwrap().clone();
    let qty = headers.iter().position(|h| h == "qty");
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (r, record) in input.records().enumerate() {
        let record = record.unwrap();
        for (c, v) in record.iter().enumerate() {
            let (row, col) = (r as u32 + 1, c as u16);
            match v.parse::<f64>() {
                Ok(n) if Some(c) == qty => {
                    sheet.write_number(row, col, n).unwrap();
                }
                _ if v.is_empty() => {}
                _ => {
                    sheet.write_string(row, col, v).unwrap();
                }
            }
        }
    }
    book.save(xlsx_path).unwrap();
}

/// Resets the kernel's record of this process's peak resident memory (Linux).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset, in MB (VmHWM).
fn peak_memory_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn file_mb(p: &Path) -> f64 {
    std::fs::metadata(p).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0)
}

/// The time the sqlite3 shell takes to load the same CSV into a table with no constraints.
fn sqlite3_import(dir: &Path, csv: &Path) -> Option<f64> {
    let bare = dir.join("bare.db");
    let script = format!(".mode csv\n.import '{}' bare\n", csv.display());
    let t = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg(&bare)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    let status = child.wait().ok()?;
    status.success().then(|| t.elapsed().as_secs_f64())
}

/// The export and the feedback sheet over `units` inspected units: each return of a `gen`
/// data set received as its own signed parcel, one accepted unit per expected line (lines of
/// two or more leave the rest missing, so the export writes those rows too).
fn export_bench(dir: &Path, units: u64) {
    use returns_dock::export::{self, feedback, ExportOptions, Format, Span};
    let db = dir.join("export.db");
    let csv_path = dir.join("export-returns.csv");
    let cat_path = dir.join("export-returns.catalog.csv");
    {
        let mut out = BufWriter::new(std::fs::File::create(&csv_path).unwrap());
        let mut cat = BufWriter::new(std::fs::File::create(&cat_path).unwrap());
        gen::generate(&GenOptions { returns: units, seed: 11, max_lines: Some(units) }, &mut out, &mut cat)
            .unwrap();
        out.flush().unwrap();
        cat.flush().unwrap();
    }
    let now = chrono::Local::now().fixed_offset();
    let mut store = Store::open(&db).unwrap();
    let opts = ImportOptions::new(now);
    import::catalog::import(&mut store, &[Source::File(cat_path)], &opts).unwrap();
    import::returns::import(&mut store, &[Source::File(csv_path)], &opts).unwrap();
    let ts = returns_dock::store::timestamp(now);
    // The entry that closes every parcel, sealed onto the chain as the program appends.
    returns_dock::store::audit(store.conn(), now, None, Some("BENCH"), "bench", None, None).unwrap();
    store
        .conn()
        .execute_batch(&format!(
            "BEGIN;
             INSERT INTO users (id, name, role, created_at, updated_at) VALUES ('BENCH', 'Bench', 'operator', '{ts}', '{ts}');
             INSERT INTO parcels (id, scan, tracking_no, tracking_key, state, station, operator, received_at, closed_at,
                                  closed_by, closed_audit_id)
               SELECT id, rma_no, tracking_no, coalesce(tracking_key, tracking_no), 'signed', 'BENCH', 'BENCH', '{ts}',
                      '{ts}', 'BENCH', (SELECT max(id) FROM audit_log) FROM returns;
             INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) SELECT id, id, '{ts}', 'BENCH' FROM returns;
             INSERT INTO units (parcel_id, seq, return_id, line_no, scan, sku, gtin, outcome, grade, cause, station, operator,
                                scanned_at, inspected_at, unit_value_cents)
               SELECT return_id, line_no, return_id, line_no, coalesce(barcode, sku), sku, barcode, 'accept', 'A',
                      'PRODUCT-DEFECT', 'BENCH', 'BENCH', '{ts}', '{ts}', unit_value_cents FROM return_lines;
             -- Each return closed with its parcel: what the line expected beyond one unit is missing.
             INSERT INTO discrepancies (parcel_id, kind, return_id, line_no, qty, acknowledged_by, acknowledged_at)
               SELECT return_id, 'missing', return_id, line_no, qty - 1, 'BENCH', '{ts}' FROM return_lines WHERE qty > 1;
             COMMIT;"
        ))
        .unwrap();
    let n: i64 = store.conn().query_row("SELECT count(*) FROM units", [], |r| r.get(0)).unwrap();
    let out = dir.join("export.csv");
    // A station writes meanwhile: the batch's record marks every change it took.
    let station = Station::start(&db);
    let t = Instant::now();
    let done = export::export(
        &mut store,
        &out,
        &ExportOptions { format: Format::Csv, span: Span::SinceLast, excel: true, now, by: None, dock: None },
    )
    .unwrap();
    println!(
        "export: {} rows ({} units inspected, {} parcels) in {:.2} s (goal: < 2 s for 100,000 units)",
        done.rows,
        n,
        done.parcels,
        t.elapsed().as_secs_f64()
    );
    println!("{}", station.stop().line("a station's write during that export"));
    // Everything again (--all), while a station writes.
    let station = Station::start(&db);
    let t = Instant::now();
    let all = export::export(
        &mut store,
        &dir.join("export-all.csv"),
        &ExportOptions { format: Format::Csv, span: Span::All, excel: true, now, by: None, dock: None },
    )
    .unwrap();
    let all_s = t.elapsed().as_secs_f64();
    let waits = station.stop();
    println!("export --all: {} rows in {all_s:.2} s", all.rows);
    println!("{}", waits.line("a station's write during export --all"));
    // The same rows as a workbook, beside the CSV again (the machine is noisy: the same run).
    for (name, format) in [
        ("export-all-again.csv", Format::Csv),
        ("export-all.xlsx", Format::Xlsx(returns_dock::domain::codes::Lang::Zh)),
    ] {
        let t = Instant::now();
        let done = export::export(
            &mut store,
            &dir.join(name),
            &ExportOptions { format, span: Span::All, excel: true, now, by: None, dock: None },
        )
        .unwrap();
        let size = std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
        println!(
            "export --all as {}: {} rows in {:.2} s, {:.1} MB (goal for xlsx: < 3 s for 100,000 units)",
            format.code(),
            done.rows,
            t.elapsed().as_secs_f64(),
            size as f64 / 1e6
        );
    }
    let t = Instant::now();
    let today = now.date_naive();
    let sheet = feedback::feedback(&mut store, today - chrono::Duration::days(6), today, 3, now).unwrap();
    println!(
        "feedback sheet: {} units in {:.2} s (goal: < 2 s for 100,000 units)",
        sheet.units,
        t.elapsed().as_secs_f64()
    );
}

/// The central database beside a dock's file, in one run: the same generated returns imported
/// into each, then the same station steps (find the parcel, open it, scan a unit, inspect it,
/// sign) on each, every step a whole transaction as the station makes it.
fn central_bench(dir: &Path, lines: u64) {
    let server = BenchServer::start(dir);
    let central = server.database();
    let returns_csv = dir.join("central-returns.csv");
    let catalog_csv = dir.join("central-returns.catalog.csv");
    {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&returns_csv).unwrap());
        let mut cat = BufWriter::with_capacity(1 << 20, std::fs::File::create(&catalog_csv).unwrap());
        gen::generate(&GenOptions { returns: lines, seed: 5, max_lines: Some(lines) }, &mut out, &mut cat)
            .unwrap();
        out.flush().unwrap();
        cat.flush().unwrap();
    }
    std::fs::write(dir.join("central-users.csv"), "id,name\nBENCH,Bench Operator\n").unwrap();
    let rmas: Vec<String> = {
        let mut r = csv::Reader::from_path(&returns_csv).unwrap();
        let at = r.headers().unwrap().iter().position(|h| h == "rma_no").unwrap();
        let mut seen: Vec<String> = r.records().map(|x| x.unwrap()[at].to_string()).collect();
        seen.dedup();
        seen.into_iter().step_by(97).take(300).collect()
    };
    for (engine, db) in
        [("SQLite", dir.join("central-side.db").display().to_string()), ("PostgreSQL", central)]
    {
        let mut store = Store::open(Path::new(&db)).unwrap();
        let opts = ImportOptions::new(chrono::Local::now().fixed_offset());
        import::users::import(&mut store, &[Source::File(dir.join("central-users.csv"))], &opts).unwrap();
        import::catalog::import(&mut store, &[Source::File(catalog_csv.clone())], &opts).unwrap();
        let t = Instant::now();
        let r = import::returns::import(&mut store, &[Source::File(returns_csv.clone())], &opts).unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(r.errors.is_empty(), "{:?}", &r.errors[..r.errors.len().min(3)]);
        println!(
            "{engine}: import of {lines} lines in {secs:.1} s: {:.0} lines/s (goal: >= 200,000 lines/s)",
            lines as f64 / secs
        );
        let steps = station_steps(&mut store, "ST01", &rmas);
        print_steps(engine, &format!("{lines} lines"), &steps);
    }
}

/// The PostgreSQL server of the central figures: the one `RETURNS_DOCK_BENCH_PG` names, else a
/// private one started here (`.ci/pg-server`) and stopped when dropped.
struct BenchServer {
    url: String,
    started: Option<std::path::PathBuf>,
}

impl BenchServer {
    fn start(dir: &Path) -> BenchServer {
        if let Ok(url) = std::env::var("RETURNS_DOCK_BENCH_PG") {
            return BenchServer { url, started: None };
        }
        let folder = dir.join("pg");
        std::fs::create_dir_all(&folder).unwrap();
        let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/pg-server"))
            .arg("start")
            .arg(&folder)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        BenchServer { url: String::from_utf8(out.stdout).unwrap().trim().to_string(), started: Some(folder) }
    }

    /// A new database of its own on the server: its address.
    fn database(&self) -> String {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name =
            format!("bench{}_{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        postgres::Client::connect(&self.url, postgres::NoTls)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        format!("{}/{name}", self.url.rsplit_once('/').unwrap().0)
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if let Some(folder) = &self.started {
            let _ = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/pg-server"))
                .arg("stop")
                .arg(folder)
                .output();
        }
    }
}

/// An import into each engine in one run, with a station writing meanwhile: the catalog (its
/// products a second), then `lines` generated return lines into a fresh database (lines a
/// second, and how long the station's writes waited), then the same file again, unchanged.
fn central_import_bench(dir: &Path, lines: u64) {
    let server = BenchServer::start(dir);
    let returns_csv = dir.join("central-import.csv");
    let catalog_csv = dir.join("central-import.catalog.csv");
    let summary = {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&returns_csv).unwrap());
        let mut cat = BufWriter::with_capacity(1 << 20, std::fs::File::create(&catalog_csv).unwrap());
        let s = gen::generate(
            &GenOptions { returns: lines, seed: 1, max_lines: Some(lines) },
            &mut out,
            &mut cat,
        )
        .unwrap();
        out.flush().unwrap();
        cat.flush().unwrap();
        out.get_ref().sync_all().unwrap();
        s
    };
    std::fs::write(dir.join("central-import-users.csv"), "id,name\nBENCH,Bench Operator\n").unwrap();
    println!("(on PostgreSQL, a station's wait for the lock is from its BEGIN to its entry appended under the log's lock)");
    println!(
        "central import: {} returns, {} lines, {} products ({:.0} MB of CSV)",
        summary.returns,
        summary.lines,
        summary.products,
        file_mb(&returns_csv)
    );
    for (engine, db) in
        [("SQLite", dir.join("central-import.db").display().to_string()), ("PostgreSQL", server.database())]
    {
        let mut store = Store::open(Path::new(&db)).unwrap();
        let opts = ImportOptions::new(chrono::Local::now().fixed_offset());
        import::users::import(&mut store, &[Source::File(dir.join("central-import-users.csv"))], &opts)
            .unwrap();
        let t = Instant::now();
        let c = import::catalog::import(&mut store, &[Source::File(catalog_csv.clone())], &opts).unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(c.errors.is_empty(), "{:?}", c.errors.first());
        println!(
            "{engine}: catalog of {} products in {secs:.2} s = {:.0} products/s",
            summary.products,
            summary.products as f64 / secs
        );
        for (what, run) in [("import", 0), ("re-import, unchanged,", 1)] {
            let station = Station::start(Path::new(&db));
            let t = Instant::now();
            let r = import::returns::import(&mut store, &[Source::File(returns_csv.clone())], &opts).unwrap();
            let secs = t.elapsed().as_secs_f64();
            let waits = station.stop();
            assert!(r.errors.is_empty(), "{:?}", &r.errors[..r.errors.len().min(3)]);
            let f = &r.files[0];
            assert_eq!(
                (f.created, f.unchanged),
                if run == 0 { (summary.returns, 0) } else { (0, summary.returns) }
            );
            println!(
                "{engine}: {what} of {} lines in {secs:.2} s = {:.0} lines/s (goal: >= 200,000 lines/s)",
                summary.lines,
                summary.lines as f64 / secs
            );
            println!(
                "{}",
                waits.line(&format!(
                    "  {engine}: a station's write during that {}",
                    what.trim_end_matches(',')
                ))
            );
        }
    }
}

/// One station step as timed: which (0 find, 1 open, 2 scan, 3 inspect, 4 sign), its time in
/// ms, and its round trips to the server (0 on a file).
type Step = (usize, f64, u64);

const STEP_NAMES: [&str; 5] = ["find the parcel", "open it", "scan a unit", "inspect it", "sign"];

/// The station's steps for each return of `rmas`, as the station makes them (each a whole
/// transaction of the store): find the parcel by its RMA, open it, scan the first expected
/// unit, accept it, and sign with what the screen shows (the rest of the return missing).
fn station_steps(store: &mut Store, station: &str, rmas: &[String]) -> Vec<Step> {
    use returns_dock::domain::codes::{Cause, Grade, Outcome};
    use returns_dock::store::boxes::Rest;
    use returns_dock::store::station::{Actor, Inspection, NewUnit, ParcelLookup, Policy};
    let mut steps: Vec<Step> = Vec::new();
    let now = chrono::Local::now().fixed_offset();
    let a = Actor { station: station.into(), dock: String::new(), user: "BENCH".into(), now };
    let mut timed = |store: &mut Store, kind: usize, f: &mut dyn FnMut(&mut Store)| {
        let trips = store.round_trips().unwrap_or(0);
        let t = Instant::now();
        f(store);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        steps.push((kind, ms, store.round_trips().unwrap_or(0) - trips));
    };
    for rma in rmas {
        let mut returns = Vec::new();
        timed(store, 0, &mut |s| {
            if let ParcelLookup::Expected(rs) = s.lookup_parcel(station, rma).unwrap() {
                returns = rs.iter().map(|r| r.id).collect();
            }
        });
        // Received already with another return of its box: found, nothing more to do.
        if returns.is_empty() {
            continue;
        }
        let mut view = None;
        timed(store, 1, &mut |s| view = Some(s.open_parcel(&a, rma, &returns).unwrap().unwrap()));
        let view = view.unwrap();
        let line = view.lines.first().expect("a return has lines");
        let unit = NewUnit {
            scan: line.sku.clone(),
            sku: Some(line.sku.clone()),
            serial: line.serials.first().cloned(),
            ..NewUnit::default()
        };
        let mut unit_id = 0;
        timed(store, 2, &mut |s| unit_id = s.record_unit(&a, view.id, &unit).unwrap().0.unwrap().0);
        let mut shown = Vec::new();
        timed(store, 3, &mut |s| {
            let i = Inspection::new(Outcome::Accept, Some(Grade::A), None, Cause::ChangedMind);
            let (done, after) = s.inspect(&a, view.id, unit_id, &i).unwrap();
            done.unwrap();
            shown = after.discrepancies();
        });
        timed(store, 4, &mut |s| {
            s.sign(&a, view.id, true, &shown, &Policy::default(), Rest::Missing).unwrap().0.unwrap();
        });
    }
    steps
}

/// Median, p99 and longest of `times` (ms).
fn spread(mut times: Vec<f64>) -> String {
    times.sort_by(f64::total_cmp);
    let q = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    format!("median {:.2} ms, p99 {:.2} ms, longest {:.2} ms", q(0.5), q(0.99), times[times.len() - 1])
}

/// Prints the steps' figures, overall and by step (with their round trips on a server).
fn print_steps(engine: &str, on: &str, steps: &[Step]) {
    println!(
        "{engine}: {} station steps on {on}: {} (goal: p99 < 5 ms)",
        steps.len(),
        spread(steps.iter().map(|s| s.1).collect())
    );
    for (i, name) in STEP_NAMES.iter().enumerate() {
        let these: Vec<&Step> = steps.iter().filter(|s| s.0 == i).collect();
        let trips = these.iter().map(|s| s.2).sum::<u64>() as f64 / these.len() as f64;
        let trips = if trips > 0.0 { format!("; {trips:.1} round trips") } else { String::new() };
        println!("  {engine} {name}: {}{trips}", spread(these.iter().map(|s| s.1).collect()));
    }
}

/// The station on 1,000,000 expected returns (`returns`) on both engines in one run: the scan
/// database (as `-- scan` makes it, with a year of history) and the same moved into a central
/// database by `db copy`; then on each the same 300 returns taken through the station's steps,
/// each a whole transaction, and a scripted shift through the real loop, scan to frame.
fn central_scan_bench(dir: &Path, returns: u64) {
    use returns_dock::store::central::Central;
    let (db, history) = scan_database(dir, returns);
    let server = BenchServer::start(dir);
    let central = server.database();
    let t = Instant::now();
    {
        let file = Store::open(&db).unwrap();
        let to = Central::open(&central).unwrap();
        let shown = to.address().to_string();
        let copied = returns_dock::store::copy::copy(&file, &to.into_sql().unwrap(), &shown).unwrap();
        println!(
            "PostgreSQL: the scan database copied in by db copy ({} rows) in {:.1} s",
            copied.rows(),
            t.elapsed().as_secs_f64()
        );
    }
    let rmas: Vec<String> = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        returns_alone(&conn, returns, 300, 1)
            .into_iter()
            .map(|id| conn.query_row("SELECT rma_no FROM returns WHERE id = ?1", [id], |r| r.get(0)).unwrap())
            .collect()
    };
    let scans = shift_scans(&db, returns);
    let on = format!("{returns} expected returns and {history} units of history");
    for (engine, at) in [("SQLite", db.display().to_string()), ("PostgreSQL", central)] {
        let mut store = Store::open(Path::new(&at)).unwrap();
        // Signed in as the station is, so the shift's figures count from its start.
        let now = chrono::Local::now().fixed_offset();
        store.sign_in("OP-BENCH", "BENCH", now, 7).unwrap();
        let steps = station_steps(&mut store, "BENCH", &rmas);
        print_steps(engine, &on, &steps);
        let shift = run_shift(store, &scans);
        let trips = shift.store.round_trips().map_or(String::new(), |n| format!(", {n} round trips"));
        println!(
            "{engine}: scan to frame, {} scans of a shift ({} signatures{trips}): {} (goal: p99 < 5 ms)",
            shift.times.len(),
            shift.signs.len(),
            spread(shift.times.clone())
        );
        println!("  {engine} signatures: {}", spread(shift.signs.clone()));
        assert!(
            shift.store.verify_audit_tail(2000).unwrap().is_none(),
            "{engine}: the chain's newest entries"
        );
    }
    drop(server);
}
