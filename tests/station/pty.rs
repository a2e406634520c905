//! The real binary in a pseudo-terminal, typed into at scanner speed, its screen read back
//! through a terminal emulator: what an operator's station really goes through.

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use returns_dock::store::sql::{args, Sql, SqlExt};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    /// Every byte the station wrote, as the terminal got it.
    raw: Arc<Mutex<Vec<u8>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Pty {
    pub fn start(db: &Path, station: &str) -> Pty {
        Pty::start_with(db, station, &[])
    }

    /// A station with these environment variables (a zone, a short busy timeout).
    pub fn start_with(db: &Path, station: &str, env: &[(&str, &str)]) -> Pty {
        Pty::start_in(db.parent().unwrap(), db.to_str().unwrap(), station, env)
    }

    /// A station on the database `db` (a file or a server's address), run in `folder`.
    pub fn start_in(folder: &Path, db: &str, station: &str, env: &[(&str, &str)]) -> Pty {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_returns-dock"));
        cmd.args(["--db", db, "station", "--station", station]);
        cmd.cwd(folder);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Pty::spawn(cmd)
    }

    /// Any command in the pseudo-terminal (80x24).
    pub fn spawn(mut cmd: CommandBuilder) -> Pty {
        let pty = native_pty_system()
            .openpty(PtySize { rows: 24, cols: 80, pixel_width: 0, pixel_height: 0 })
            .unwrap();
        cmd.env("TERM", "xterm-256color");
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(24, 80, 0)));
        let parser = screen.clone();
        let raw = Arc::new(Mutex::new(Vec::new()));
        let bytes = raw.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
                bytes.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let writer = pty.master.take_writer().unwrap();
        // The master must outlive the child; leak it into the reader's lifetime.
        std::mem::forget(pty.master);
        Pty { writer, screen, raw, child }
    }

    /// The bytes written to the terminal so far.
    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    pub fn wait_for(&self, text: &str, within: Duration) -> bool {
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

impl Pty {
    /// The feedback band (the line under the header).
    pub fn band(&self) -> String {
        self.screen.lock().unwrap().screen().rows(0, 80).nth(1).unwrap_or_default().trim_end().to_string()
    }

    /// The header line.
    pub fn header(&self) -> String {
        self.screen.lock().unwrap().screen().rows(0, 80).next().unwrap_or_default()
    }

    /// Writes bytes at once, as a fast scanner's burst arrives.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// A scan and its CR, then the band it brought (the band must change; at most 20 s).
    pub fn step(&mut self, code: &str) -> String {
        let before = self.band();
        self.send(format!("{code}\r").as_bytes());
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let band = self.band();
            if band != before {
                return band;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("no answer to {code}; the band stayed {before:?}\n{}", self.contents());
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("a running station")
    }

    /// SIGKILL: no chance to clean up, as with a power cut.
    pub fn kill_hard(mut self) {
        let pid = self.child.process_id().expect("a running station");
        let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
        assert!(status.success());
        let _ = self.child.wait();
    }
}

/// A database of `returns` generated returns, their catalog and the DEMO operator, imported
/// by the real binary, in a fresh directory.
pub fn generated_dock(returns: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["gen", "--returns", &returns.to_string(), "--seed", "5", "--out", "g.csv"]);
    std::fs::write(
        dir.path().join("users.csv"),
        "id,name\nDEMO,Demo Operator\nOP2,Second Operator\nOP3,Third Operator\n",
    )
    .unwrap();
    for (what, file) in [("users", "users.csv"), ("catalog", "g.catalog.csv"), ("returns", "g.csv")] {
        run(&["--db", "dock.db", "import", what, file]);
    }
    let db = dir.path().join("dock.db");
    (dir, db)
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// An expected return alone in its box, and each unit it should hold: its barcode, and
/// whether the product carries a serial number (with the one the return lists, if any).
#[derive(Debug, Clone)]
pub struct Plan {
    pub rma: String,
    pub return_id: i64,
    pub units: Vec<(String, Option<Option<String>>)>,
}

/// The first `n` returns alone in their boxes, by id; without serialised products when
/// `serials` is false.
pub fn plans(db: &dyn Sql, n: usize, serials: bool) -> Vec<Plan> {
    let returns = db
        .map(
            "SELECT r.id, r.rma_no FROM returns r WHERE r.tracking_no IS NOT NULL
               AND (SELECT count(*) FROM returns x WHERE x.tracking_no = r.tracking_no) = 1
               AND (?2 = 1 OR NOT EXISTS (SELECT 1 FROM return_lines l JOIN products p ON p.sku = l.sku
                                     WHERE l.return_id = r.id AND p.serialised = 1))
             ORDER BY r.id LIMIT ?1",
            args![n as i64, serials],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )
        .unwrap();
    returns
        .into_iter()
        .map(|(return_id, rma)| {
            let mut units = Vec::new();
            let rows = db
                .map(
                    "SELECT (SELECT min(b.code) FROM product_barcodes b WHERE b.sku = l.sku), l.qty, l.serials, p.serialised
                     FROM return_lines l JOIN products p ON p.sku = l.sku WHERE l.return_id = ?1 ORDER BY l.line_no",
                    args![return_id],
                    |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<Option<String>>(2)?, r.get::<bool>(3)?)),
                )
                .unwrap();
            for (code, qty, listed, serialised) in rows {
                let listed: Vec<String> =
                    listed.map(|s| s.split(';').map(String::from).collect()).unwrap_or_default();
                for i in 0..qty as usize {
                    units.push((code.clone(), serialised.then(|| listed.get(i).cloned())));
                }
            }
            Plan { rma, return_id, units }
        })
        .collect()
}

/// A shift's scans from the database itself: for each return alone in its box, its RMA, each
/// unit (and its serial when the product has one), an accept for each, and the signature.
fn shift(conn: &rusqlite::Connection, at_least: usize) -> (Vec<String>, i64, i64) {
    let (mut scans, mut units, mut parcels) = (vec!["OP-DEMO".to_string()], 0i64, 0i64);
    let mut serial_no = 0;
    for plan in plans(conn, usize::MAX >> 1, true) {
        if scans.len() >= at_least {
            break;
        }
        scans.push(plan.rma);
        for (code, serial) in plan.units {
            scans.push(code);
            if let Some(listed) = serial {
                serial_no += 1;
                scans.push(listed.unwrap_or_else(|| format!("E2E-{serial_no:06}")));
            }
            scans.push("CMD-ACCEPT".into());
            units += 1;
        }
        scans.push("CMD-SIGN".into());
        parcels += 1;
    }
    (scans, units, parcels)
}

fn run_shift(suffix: &str) {
    let (_dir, db) = generated_dock(400);
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

/// The real binary's command line on `db`, with a supervisor's PIN in the environment.
pub fn cli(db: &Path, pin: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RETURNS_DOCK_PIN", pin)
        .current_dir(db.parent().unwrap())
        .output()
        .unwrap()
}
