//! Only supervisors decide: supervisor functions at the station need the PIN, a session ends
//! when idle or at the next badge, and wrong PINs lock the supervisor everywhere at once. Each
//! through the real binary, as a curious operator would try it.

use super::pty::Pty;
use super::truth::{count, demo, until};
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// The demo's supervisor: badge, id and PIN.
const BADGE: &str = "OP-SUP1";
const PIN: &str = "2468";

fn station(db: &Path, env: &[(&str, &str)]) -> Pty {
    let pty = Pty::start_with(db, "ST01", env);
    assert!(pty.wait_for("Scan your badge", Duration::from_secs(30)), "{}", pty.contents());
    pty
}

fn sign_in(pty: &mut Pty, who: &str) {
    let band = pty.step(who);
    assert!(band.contains("Signed in"), "{band}");
}

/// Found: typing a supervisor's id at sign-in (no badge, no PIN) gave the dashboard, the
/// station's export and take-over. Now each asks for the PIN, and shows nothing before it.
#[test]
fn a_typed_supervisor_id_opens_nothing_without_the_pin() {
    let (_dir, db) = demo();
    let mut pty = station(&db, &[]);
    sign_in(&mut pty, "SUP1");
    // A parcel signed, so that an export has something to write.
    pty.step("RMA-2026-0009");
    pty.step("6901234500059");
    pty.step("CMD-ACCEPT");
    assert!(pty.step("CMD-SIGN").contains("signed"), "{}", pty.contents());
    pty.send(b"\x04"); // Ctrl+D: the dashboard
    assert!(pty.wait_for("PIN", Duration::from_secs(10)), "{}", pty.contents());
    assert!(
        !pty.contents().contains("First box to the return"),
        "no figures before the PIN:\n{}",
        pty.contents()
    );
    pty.send(b"\x1b"); // Esc: back
    assert!(pty.wait_for("Scan a parcel", Duration::from_secs(10)), "{}", pty.contents());
    pty.send(b"\x05"); // Ctrl+E: the station's export
    assert!(pty.wait_for("export this station", Duration::from_secs(10)), "{}", pty.contents());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(&db, "SELECT count(*) FROM export_batches"), 0, "no export without the PIN");
    let band = pty.step("1111");
    assert!(band.contains("Wrong PIN"), "{band}");
    assert_eq!(count(&db, "SELECT count(*) FROM export_batches"), 0, "no export on a wrong PIN");
    let band = pty.step(PIN);
    assert!(
        pty.wait_for("Export done", Duration::from_secs(20)),
        "the export ran after the PIN: {band}\n{}",
        pty.contents()
    );
    assert_eq!(count(&db, "SELECT count(*) FROM export_batches"), 1);
    // The session is open now: the dashboard comes without asking again.
    pty.send(b"\x04");
    assert!(pty.wait_for("First box to the return", Duration::from_secs(10)), "{}", pty.contents());
    let entries = count(
        &db,
        "SELECT count(*) FROM audit_log WHERE action = 'pin_failed' AND station = 'ST01' AND actor = 'SUP1'",
    );
    assert_eq!(entries, 1, "the wrong PIN is in the log with its station");
}

/// A parcel open at another station is taken over only after the supervisor's PIN.
#[test]
fn take_over_needs_the_pin() {
    let (_dir, db) = demo();
    let mut other = station(&db, &[]);
    sign_in(&mut other, "OP-DEMO");
    let band = other.step("RMA-2026-0009");
    assert!(band.contains("P1") || band.contains("Parcel"), "{band}");
    let mut here = Pty::start_with(&db, "ST02", &[]);
    assert!(here.wait_for("Scan your badge", Duration::from_secs(30)));
    sign_in(&mut here, BADGE);
    let band = here.step("RMA-2026-0009");
    assert!(band.contains("ST01"), "offered a take-over: {band}");
    here.send(b"\x1b[24~"); // F12: CONFIRM
    assert!(here.wait_for("take over the parcel", Duration::from_secs(10)), "{}", here.contents());
    assert_eq!(
        count(&db, "SELECT count(*) FROM parcels WHERE station = 'ST02'"),
        0,
        "not taken before the PIN"
    );
    here.step(PIN);
    let taken = until(&db, "SELECT count(*) FROM parcels WHERE station = 'ST02'", 1);
    assert_eq!(taken, 1, "taken over after the PIN: {}", here.contents());
}

/// The session closes after the idle time (shortened here) and at the next badge scan.
#[test]
fn the_session_ends_when_idle_and_at_the_next_badge() {
    let (_dir, db) = demo();
    let mut pty = station(&db, &[("RETURNS_DOCK_SUPERVISOR_IDLE_MS", "1500")]);
    sign_in(&mut pty, BADGE);
    pty.send(b"\x12"); // Ctrl+R: the review queue
    assert!(pty.wait_for("PIN", Duration::from_secs(10)));
    pty.step(PIN);
    assert!(pty.wait_for("wait for review", Duration::from_secs(10)), "{}", pty.contents());
    // Nobody at the keys: the queue closes by itself.
    assert!(pty.wait_for("closed after", Duration::from_secs(10)), "{}", pty.contents());
    pty.send(b"\x12");
    assert!(pty.wait_for("The PIN to open the review queue", Duration::from_secs(10)), "{}", pty.contents());
    pty.step(PIN);
    assert!(pty.wait_for("wait for review", Duration::from_secs(10)));
    pty.send(b"\x1b");
    assert!(pty.wait_for("Scan a parcel", Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(100));
    // Another badge: the next person proves themselves.
    sign_in(&mut pty, BADGE);
    pty.send(b"\x04");
    assert!(pty.wait_for("The PIN to open the dashboard", Duration::from_secs(10)), "{}", pty.contents());
}

/// Five wrong PINs in a row, some at a station and some on the command line, lock the
/// supervisor everywhere; the right PIN is then refused at both, saying until when.
#[test]
fn wrong_pins_lock_the_supervisor_at_every_station_and_on_the_command_line() {
    let (_dir, db) = demo();
    let mut pty = station(&db, &[]);
    sign_in(&mut pty, BADGE);
    pty.send(b"\x12");
    assert!(pty.wait_for("PIN", Duration::from_secs(10)));
    for guess in ["0000", "1111", "2222"] {
        let band = pty.step(guess);
        assert!(band.contains("Wrong PIN"), "{band}");
    }
    for guess in ["3333", "4444"] {
        let out = super::pty::cli(&db, guess, &["review", "decide", "R1", "confirm", "--by", "SUP1"]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = super::pty::cli(&db, PIN, &["review", "decide", "R1", "confirm", "--by", "SUP1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("locked") && err.contains("until"), "{err}");
    let band = pty.step(PIN);
    assert!(
        band.contains("locked") && band.contains("until"),
        "the right PIN is refused while locked: {band}"
    );
    assert!(!pty.contents().contains("wait for review"), "no queue while locked:\n{}", pty.contents());
    assert_eq!(count(&db, "SELECT count(*) FROM audit_log WHERE action = 'pin_failed'"), 5);
    assert_eq!(count(&db, "SELECT count(*) FROM audit_log WHERE action = 'pin_locked'"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM reviews WHERE decision IS NOT NULL"), 0);
}

/// An entry of the log edited behind the program is said at the station's start.
#[test]
fn the_station_says_so_when_the_log_was_edited() {
    let (_dir, db) = demo();
    {
        let c = Connection::open(&db).unwrap();
        c.execute_batch(
            "DROP TRIGGER audit_log_no_update;
             UPDATE audit_log SET detail = 'nothing happened' WHERE id = (SELECT max(id) FROM audit_log);",
        )
        .unwrap();
    }
    let mut pty = station(&db, &[]);
    assert!(pty.band().contains("AUDIT LOG TAMPERED"), "{}", pty.contents());
    sign_in(&mut pty, "OP-DEMO");
    assert!(pty.header().contains("AUDIT LOG TAMPERED"), "it stays in the header: {}", pty.contents());
}

/// On a terminal the command line asks for the PIN and does not show it as it is typed.
#[test]
fn the_command_line_asks_for_the_pin_without_echo() {
    let (_dir, db) = demo();
    let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_returns-dock"));
    cmd.args(["--db", db.to_str().unwrap(), "review", "decide", "R1", "confirm", "--by", "SUP1"]);
    cmd.env_remove("RETURNS_DOCK_PIN");
    let mut pty = Pty::spawn(cmd);
    assert!(pty.wait_for("PIN for SUP1:", Duration::from_secs(20)), "{}", pty.contents());
    pty.send(b"2468\r");
    assert!(pty.wait_for("no review 1", Duration::from_secs(20)), "the PIN was taken: {}", pty.contents());
    assert!(!pty.contents().contains("2468"), "the PIN is not shown: {}", pty.contents());
    assert_eq!(count(&db, "SELECT count(*) FROM audit_log WHERE action = 'pin_ok' AND station = 'cli'"), 1);
}

/// Found by an outside pass: an operator started a second station under the id of one that
/// had a parcel open and resumed it, a take-over without a supervisor. One id, one station.
#[test]
fn a_second_station_under_a_running_stations_id_does_not_start() {
    let (_dir, db) = demo();
    let mut first = station(&db, &[]);
    sign_in(&mut first, "OP-DEMO");
    first.step("RMA-2026-0009");
    let second = Pty::start_with(&db, "ST01", &[]);
    assert!(second.wait_for("already running", Duration::from_secs(20)), "{}", second.contents());
    first.kill_hard();
    // Once the first is gone, its id is free again and the parcel resumes there.
    let mut again = station(&db, &[]);
    let band = again.step("OP-DEMO");
    assert!(band.contains("P1 resumed"), "{band}");
}

/// Found by an outside pass: unit scans made by habit at the PIN prompt each counted as a
/// wrong PIN and locked the supervisor. What cannot be a PIN is not checked.
#[test]
fn a_barcode_at_the_pin_prompt_is_not_a_guess() {
    let (_dir, db) = demo();
    let mut pty = station(&db, &[]);
    sign_in(&mut pty, BADGE);
    pty.send(b"\x05");
    assert!(pty.wait_for("export this station", Duration::from_secs(10)));
    for _ in 0..6 {
        pty.send(b"06901234500035\r");
        std::thread::sleep(Duration::from_millis(200));
        assert!(pty.band().contains("4 to 12 digits"), "{}", pty.band());
    }
    assert_eq!(count(&db, "SELECT count(*) FROM audit_log WHERE action LIKE 'pin_%'"), 0, "nothing counted");
    pty.step(PIN);
    assert!(
        pty.wait_for("Export done", Duration::from_secs(20)),
        "the right PIN still opens: {}",
        pty.contents()
    );
}

/// Found by a second outside pass: a station started through a link under another name was
/// not recognised as running, so a second one under its id started and resumed its parcel.
#[test]
fn a_station_started_under_another_name_still_holds_its_id() {
    let (dir, db) = demo();
    let link = dir.path().join("dock");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_returns-dock"), &link).unwrap();
    let mut cmd = portable_pty::CommandBuilder::new(&link);
    cmd.args(["--db", db.to_str().unwrap(), "station", "--station", "ST01"]);
    cmd.cwd(dir.path());
    let first = Pty::spawn(cmd);
    assert!(first.wait_for("Scan your badge", Duration::from_secs(30)), "{}", first.contents());
    let second = Pty::start_with(&db, "ST01", &[]);
    assert!(second.wait_for("already running", Duration::from_secs(20)), "{}", second.contents());
}
