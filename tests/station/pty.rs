//! The real binary in a pseudo-terminal, typed into at scanner speed, its screen read back
//! through a terminal emulator: what an operator's station really goes through.

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Pty {
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Pty {
    fn start(db: &Path, station: &str) -> Pty {
        let pty = native_pty_system()
            .openpty(PtySize { rows: 24, cols: 80, pixel_width: 0, pixel_height: 0 })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_returns-dock"));
        cmd.args(["--db", db.to_str().unwrap(), "station", "--station", station]);
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(db.parent().unwrap());
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(24, 80, 0)));
        let parser = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
            }
        });
        let writer = pty.master.take_writer().unwrap();
        // The master must outlive the child; leak it into the reader's lifetime.
        std::mem::forget(pty.master);
        Pty { writer, screen, child }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, text: &str, within: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if self.contents().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Types like a scanner: one character every 2 ms, then the suffix.
    fn scan(&mut self, code: &str, suffix: &str) {
        for b in code.bytes().chain(suffix.bytes()) {
            self.writer.write_all(&[b]).unwrap();
            self.writer.flush().unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A shift's scans from the database itself: for each return alone in its box, its RMA, each
/// unit (and its serial when the product has one), an accept for each, and the signature.
fn shift(conn: &rusqlite::Connection, at_least: usize) -> (Vec<String>, i64, i64) {
    let mut stmt = conn
        .prepare(
            "SELECT r.id, r.rma_no FROM returns r WHERE r.tracking_no IS NOT NULL
               AND (SELECT count(*) FROM returns x WHERE x.tracking_no = r.tracking_no) = 1
             ORDER BY r.id",
        )
        .unwrap();
    let returns: Vec<(i64, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let (mut scans, mut units, mut parcels) = (vec!["OP-DEMO".to_string()], 0i64, 0i64);
    let mut serial_no = 0;
    for (id, rma) in returns {
        if scans.len() >= at_least {
            break;
        }
        scans.push(rma);
        let lines: Vec<(String, i64, Option<String>, bool)> = conn
            .prepare(
                "SELECT b.code, l.qty, l.serials, p.serialised FROM return_lines l
                 JOIN products p ON p.sku = l.sku JOIN product_barcodes b ON b.sku = l.sku
                 WHERE l.return_id = ?1 ORDER BY l.line_no",
            )
            .unwrap()
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (code, qty, serials, serialised) in lines {
            let listed: Vec<String> =
                serials.map(|s| s.split(';').map(String::from).collect()).unwrap_or_default();
            for i in 0..qty as usize {
                scans.push(code.clone());
                if serialised {
                    serial_no += 1;
                    scans.push(listed.get(i).cloned().unwrap_or_else(|| format!("E2E-{serial_no:06}")));
                }
                scans.push("CMD-ACCEPT".into());
                units += 1;
            }
        }
        scans.push("CMD-SIGN".into());
        parcels += 1;
    }
    (scans, units, parcels)
}

fn run_shift(suffix: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dock.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
        .current_dir(dir.path())
        .args(["gen", "--returns", "400", "--seed", "5", "--out", "g.csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    for (what, file) in [("users", "users.csv"), ("catalog", "g.catalog.csv"), ("returns", "g.csv")] {
        if what == "users" {
            std::fs::write(dir.path().join(file), "id,name\nDEMO,Demo Operator\n").unwrap();
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .current_dir(dir.path())
            .args(["--db", "dock.db", "import", what, file])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (scans, units, parcels) = shift(&conn, 300);
    assert!(scans.len() >= 300, "a 300-scan shift: {}", scans.len());

    let mut pty = Pty::start(&db, "ST01");
    assert!(pty.wait_for("Scan your badge", Duration::from_secs(20)), "{}", pty.contents());
    let mut errors = 0;
    for s in &scans {
        pty.scan(s, suffix);
        if pty.contents().contains("ERROR") {
            errors += 1;
        }
    }
    // Every scan the scanner sent is handled: all units recorded once, every parcel signed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    while Instant::now() < deadline && count("SELECT count(*) FROM parcels WHERE state = 'signed'") < parcels
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let screen = pty.contents();
    let signed = count("SELECT count(*) FROM parcels WHERE state = 'signed'");
    let open: String = conn
        .query_row(
            "SELECT coalesce(group_concat(id || ':' || scan), '') FROM parcels WHERE state = 'open'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(signed, parcels, "open: {open}; {} scans\n{screen}", scans.len());
    assert_eq!(count("SELECT count(*) FROM units"), units, "each unit once: {screen}");
    assert_eq!(count("SELECT count(*) FROM units WHERE outcome = 'accept'"), units);
    assert_eq!(count("SELECT count(*) FROM parcels WHERE state = 'open'"), 0);
    assert_eq!(errors, 0, "an error band appeared during the shift: {screen}");
    // The commit comes before the frame that shows it: wait for the dock screen.
    assert!(pty.wait_for("Scan a parcel", Duration::from_secs(10)), "{}", pty.contents());
}

#[test]
fn a_300_scan_shift_at_scanner_speed_with_cr() {
    run_shift("\r");
}

#[test]
fn a_300_scan_shift_at_scanner_speed_with_cr_lf() {
    run_shift("\r\n");
}
