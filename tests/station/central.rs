//! The station on a central database (PostgreSQL), the real binary in a pseudo-terminal: what
//! it confirms is on the server, through a kill -9 and through a server restart.

use super::pty::Pty;
use returns_dock::store::station::ParcelLookup;
use returns_dock::store::Store;
use std::path::Path;
use std::time::Duration;

#[path = "../support/pg.rs"]
pub mod pg;

/// A demo's data on a fresh database at `url`.
fn seeded(url: &str) {
    let mut store = Store::open(Path::new(url)).unwrap();
    returns_dock::cli::seed_demo_into(&mut store).unwrap();
}

fn signed_in(folder: &Path, url: &str, env: &[(&str, &str)]) -> Pty {
    let mut pty = Pty::start_in(folder, url, "ST01", env);
    assert!(pty.wait_for("Scan your badge", Duration::from_secs(30)), "{}", pty.contents());
    let band = pty.step("OP-DEMO");
    assert!(band.contains("Signed in"), "{band}");
    pty
}

/// What the server holds of the parcel the RMA opened: its state and its units' outcomes.
fn on_the_server(url: &str, rma: &str) -> (String, Vec<String>) {
    let store = Store::open(Path::new(url)).unwrap();
    let id = match store.lookup_parcel("ST09", rma).unwrap() {
        ParcelLookup::Duplicate(seen) | ParcelLookup::OpenElsewhere(seen) => seen.parcel_id,
        other => panic!("{rma}: {other:?}"),
    };
    let view = store.parcel(id).unwrap();
    let outcomes =
        view.units.iter().map(|u| u.outcome.map(|o| format!("{o:?}")).unwrap_or_default()).collect();
    let verdict = store.verify_audit().unwrap();
    assert!(verdict.ok(), "{:?}", verdict.problems);
    (format!("{:?}", view.state), outcomes)
}

/// Killed mid-parcel, the station comes back to the parcel with every step it confirmed.
#[test]
fn a_station_on_the_central_database_loses_nothing_confirmed_to_a_kill() {
    let url = pg::fresh_database();
    seeded(&url);
    let folder = tempfile::tempdir().unwrap();
    let mut pty = signed_in(folder.path(), &url, &[]);
    pty.step("RMA-2026-0002");
    pty.step("6901234500011");
    let band = pty.step("RB5-0000123");
    assert!(band.contains("OK"), "{band}");
    let band = pty.step("CMD-ACCEPT");
    assert!(band.contains("Accept"), "{band}");
    pty.kill_hard();
    assert_eq!(on_the_server(&url, "RMA-2026-0002"), ("Open".to_string(), vec!["Accept".to_string()]));
    let mut pty = Pty::start_in(folder.path(), &url, "ST01", &[]);
    assert!(pty.wait_for("Scan your badge", Duration::from_secs(30)), "{}", pty.contents());
    pty.step("OP-DEMO");
    assert!(pty.wait_for("RMA-2026-0002", Duration::from_secs(10)), "resumed: {}", pty.contents());
    // Waited for, not read at once: the frame that names the parcel may still be drawing.
    assert!(
        pty.wait_for("✔ Accept", Duration::from_secs(10)),
        "unit 1 as it was confirmed: {}",
        pty.contents()
    );
    // The next earbud, and the parcel signed with the cable missing, confirmed.
    pty.step("6901234500011");
    pty.step("RB5-0000124");
    let band = pty.step("CMD-ACCEPT");
    assert!(band.contains("Accept"), "{band}");
    let band = pty.step("CMD-SIGN");
    assert!(band.contains("Last box?"), "{band}");
    let band = pty.step("CMD-CONFIRM");
    assert!(band.contains("signed"), "{band}");
    pty.kill_hard();
    assert_eq!(
        on_the_server(&url, "RMA-2026-0002"),
        ("Signed".to_string(), vec!["Accept".to_string(), "Accept".to_string()]),
        "both units, across the kill"
    );
}

/// The server restarts under a signed-in station: the scan that finds it gone says it was not
/// saved (and is not confirmed), the next one goes through on a new connection without the
/// station being restarted, and the server holds exactly what the screens confirmed.
#[test]
fn a_station_goes_on_after_the_server_restarts() {
    let server = pg::Private::start();
    let url = server.database("restart");
    seeded(&url);
    let folder = tempfile::tempdir().unwrap();
    let mut pty = signed_in(folder.path(), &url, &[("RETURNS_DOCK_BUSY_TIMEOUT_MS", "2000")]);
    pty.step("RMA-2026-0009");
    server.restart();
    let band = pty.step("6901234500059");
    if !band.contains("OK") {
        assert!(band.to_lowercase().contains("not saved"), "said plainly: {band}");
        let band = pty.step("6901234500059");
        assert!(band.contains("OK"), "the next scan goes through: {band}");
    }
    // Found by an outside pass: when the first step after a restart was a write, its BEGIN
    // failed and the station never connected again (NOT SAVED until it was restarted).
    server.restart();
    let band = pty.step("CMD-ACCEPT");
    if !band.contains("Accept") {
        assert!(band.to_lowercase().contains("not saved"), "said plainly: {band}");
        let band = pty.step("CMD-ACCEPT");
        assert!(band.contains("Accept"), "the next step goes through: {band}");
    }
    let band = pty.step("CMD-SIGN");
    assert!(band.contains("signed"), "{band}");
    pty.kill_hard();
    assert_eq!(on_the_server(&url, "RMA-2026-0009"), ("Signed".to_string(), vec!["Accept".to_string()]));
}

/// Found while moving the model test onto the central database: a station that stopped
/// answering in the middle of a step (frozen here with SIGSTOP; a power cut or a pulled cable
/// is the same to the server) kept the log's append lock, and every other station's writes
/// were not saved until the server noticed the connection gone, hours later by TCP keepalive.
/// Now the server ends a writer idle inside its transaction after the busy timeout (at least
/// 5 s): the other station is saved again while the first is still frozen, and the frozen
/// one's step, never confirmed, is not on the server; once it answers again, it goes on.
#[test]
fn a_station_frozen_in_the_middle_of_a_step_holds_up_the_others_for_seconds_only() {
    use super::engines::{Dock, Engine};
    use returns_dock::store::sql::{args, SqlExt};
    use std::time::Instant;
    let dock = Dock::generated(Engine::Postgres, 50);
    let plans = super::pty::plans(dock.db(), 2, false);
    let sign_in = |station: &str, badge: &str, plan: &super::pty::Plan| {
        let mut pty = dock.station(station, &[("RETURNS_DOCK_BUSY_TIMEOUT_MS", "300")]);
        assert!(pty.wait_for("Scan your badge", Duration::from_secs(30)), "{}", pty.contents());
        assert!(pty.step(badge).contains("Signed in"), "{}", pty.contents());
        assert!(pty.step(&plan.rma).contains("Parcel received"), "{}", pty.contents());
        pty
    };
    let mut a = sign_in("ST01", "OP-DEMO", &plans[0]);
    let mut b = sign_in("ST02", "OP-OP2", &plans[1]);
    let units = |plan: &super::pty::Plan| -> i64 {
        dock.db()
            .one(
                "SELECT count(*) FROM units u JOIN parcel_returns pr ON pr.parcel_id = u.parcel_id WHERE pr.return_id = ?1",
                args![plan.return_id],
            )
            .unwrap()
    };
    let session = |what: &str| -> i64 {
        dock.db()
            .one(
                &format!(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                       AND application_name = 'ST01' AND {what}"
                ),
                args![],
            )
            .unwrap()
    };
    // ST01's unit scan waits for the log's append lock, held here; it is frozen while it waits
    // and the lock let go, so it takes the lock and stops there, inside its transaction.
    let mut holder = postgres::Client::connect(&dock.addr, postgres::NoTls).unwrap();
    holder
        .execute("BEGIN", &[])
        .and_then(|_| {
            holder.execute("SELECT pg_advisory_xact_lock($1)", &[&returns_dock::store::chain::AUDIT_LOG_LOCK])
        })
        .unwrap();
    a.send(format!("{}\r", plans[0].units[0].0).as_bytes());
    let start = Instant::now();
    while session("wait_event_type = 'Lock'") == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "ST01's step never waited: {}", a.contents());
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = a.pid().to_string();
    assert!(std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    holder.execute("ROLLBACK", &[]).unwrap();
    let start = Instant::now();
    while session("state = 'idle in transaction'") == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "ST01 never held the lock");
        std::thread::sleep(Duration::from_millis(2));
    }
    let frozen = Instant::now();
    // ST02 is not saved while the lock is held, then saved, ST01 still frozen.
    let code = &plans[1].units[0].0;
    let band = b.step(code);
    assert!(band.contains("NOT SAVED"), "held up by the frozen station: {band}");
    let saved = loop {
        b.send(format!("{code}\r").as_bytes());
        let sent = Instant::now();
        while sent.elapsed() < Duration::from_secs(1) && !b.band().contains("✔ OK") {
            std::thread::sleep(Duration::from_millis(10));
        }
        if b.band().contains("✔ OK") {
            break frozen.elapsed();
        }
        assert!(frozen.elapsed() < Duration::from_secs(15), "ST02 still not saved: {}", b.band());
    };
    assert!(saved >= Duration::from_secs(4), "the frozen station was given its time: {saved:?}");
    assert_eq!(units(&plans[1]), 1, "ST02's unit is on the server");
    assert_eq!(units(&plans[0]), 0, "ST01's step, never confirmed, is not");
    // ST01 answers again: its step is said not saved, and the same scan then goes through.
    assert!(std::process::Command::new("kill").args(["-CONT", &pid]).status().unwrap().success());
    assert!(a.wait_for("NOT SAVED", Duration::from_secs(10)), "{}", a.contents());
    let band = a.step(&plans[0].units[0].0);
    assert!(band.contains("✔ OK"), "{band}\n{}", a.contents());
    assert_eq!(units(&plans[0]), 1);
}
