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
