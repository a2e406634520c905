//! The dock's worst day: several real station processes on one database at once, racing for
//! parcels; and a station killed (SIGKILL) at random moments of its shift, again and again.
//! What the screens confirmed must be on disk, every time.

use super::engines::{seed, Dock, Engine, Replay};
use super::pty::{generated_dock, Plan, Pty};
use returns_dock::store::sql::{args, Sql, SqlExt};
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// Returns alone in their boxes whose products carry no serial numbers.
fn plans(db: &dyn Sql, n: usize) -> Vec<Plan> {
    super::pty::plans(db, n, false)
}

/// The next scan of `plan` at `station`, from what the database says is done: the RMA, a
/// unit, an accept or the signature; None when the parcel is closed or open elsewhere.
fn next_scan(db: &dyn Sql, station: &str, plan: &Plan) -> Option<String> {
    let parcel: Option<(i64, String, String)> = db
        .row(
            "SELECT p.id, p.state, p.station FROM parcels p JOIN parcel_returns pr ON pr.parcel_id = p.id
             WHERE pr.return_id = ?1",
            args![plan.return_id],
        )
        .unwrap()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()));
    let Some((id, state, at)) = parcel else { return Some(plan.rma.clone()) };
    if state != "open" || at != station {
        return None;
    }
    let row = db
        .row(
            "SELECT count(*), count(*) FILTER (WHERE outcome IS NULL) FROM units WHERE parcel_id = ?1",
            args![id],
        )
        .unwrap()
        .unwrap();
    let (units, uninspected): (i64, i64) = (row.get(0).unwrap(), row.get(1).unwrap());
    Some(if uninspected > 0 {
        "CMD-ACCEPT".into()
    } else if (units as usize) < plan.units.len() {
        plan.units[units as usize].0.clone()
    } else {
        "CMD-SIGN".into()
    })
}

/// What a loser of a race is told: another station has it, or had it.
fn lost_race(band: &str) -> bool {
    band.contains("is open at station") || band.contains("DUPLICATE") || band.contains("a moment ago")
}

fn count(db: &dyn Sql, sql: &str) -> i64 {
    db.one(sql, args![]).unwrap()
}

/// One station working through its parcels on the database `db` (a file or a server's
/// address), run in `folder`; returns (parcels it won, races it lost).
fn work(folder: &Path, db: &str, station: &str, user: &str, parcels: &[Plan]) -> (usize, usize) {
    let check = returns_dock::store::Store::open(Path::new(db)).unwrap();
    let mut pty = Pty::start_in(folder, db, station, &[]);
    assert!(pty.wait_for("Scan your badge", Duration::from_secs(30)), "{}", pty.contents());
    assert!(pty.step(&format!("OP-{user}")).contains("Signed in"), "{}", pty.contents());
    let (mut won, mut lost) = (0, 0);
    for plan in parcels {
        // The RMA is scanned whatever the others did; the rest follows the database.
        let band = pty.step(&plan.rma);
        if lost_race(&band) {
            lost += 1;
            // Clear the band, so that the next answer shows as a change even if it reads the same.
            pty.step("CMD-CANCEL");
            continue;
        }
        assert!(band.contains("✔ OK"), "{station} {}: {band}\n{}", plan.rma, pty.contents());
        while let Some(scan) = next_scan(check.db(), station, plan) {
            let band = pty.step(&scan);
            assert!(band.contains("✔ OK"), "{station} {scan}: {band}\n{}", pty.contents());
            if scan == "CMD-SIGN" {
                won += 1;
            }
        }
    }
    (won, lost)
}

#[test]
fn three_stations_at_once_through_200_parcels_each_racing_for_some() {
    let (dir, db) = generated_dock(1800);
    three_stations(dir.path(), db.to_str().unwrap(), &Connection::open(&db).unwrap());
}

/// The same three stations on a central database: the dock's file moved there (`db copy`),
/// the race for each parcel decided by the server.
#[test]
fn three_stations_at_once_on_the_central_database() {
    let dock = Dock::generated(Engine::Postgres, 1800);
    three_stations(dock.folder(), &dock.addr, dock.db());
}

/// 190 parcels of its own for each of three stations, and 10 that all three scan at the same
/// point of their shifts: every parcel signed once, each race won once, nothing lost.
fn three_stations(folder: &Path, db: &str, check: &dyn Sql) {
    let all = plans(check, 580);
    assert_eq!(all.len(), 580, "enough lone returns");
    let races: Vec<Plan> = all[570..580].to_vec();
    let shifts: Vec<Vec<Plan>> = (0..3)
        .map(|k| {
            let mut mine = all[k * 190..(k + 1) * 190].to_vec();
            for (i, r) in races.iter().enumerate() {
                mine.insert(i * 20 + 5, r.clone());
            }
            mine
        })
        .collect();
    let results: Vec<(usize, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = [("ST01", "DEMO"), ("ST02", "OP2"), ("ST03", "OP3")]
            .iter()
            .zip(&shifts)
            .map(|((station, user), parcels)| s.spawn(move || work(folder, db, station, user, parcels)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won: usize = results.iter().map(|r| r.0).sum();
    let lost: usize = results.iter().map(|r| r.1).sum();
    assert_eq!(won, 580, "every parcel signed by exactly one station: {results:?}");
    assert_eq!(lost, 20, "each race had one winner and two told so: {results:?}");
    let expected_units: usize = all.iter().map(|p| p.units.len()).sum();
    assert_eq!(count(check, "SELECT count(*) FROM parcels"), 580, "no parcel received twice");
    assert_eq!(
        count(check, "SELECT count(*) FROM parcels WHERE state = 'signed' AND has_discrepancy = 0"),
        580
    );
    assert_eq!(count(check, "SELECT count(*) FROM units WHERE outcome = 'accept'") as usize, expected_units);
    assert_eq!(
        count(check, "SELECT count(*) FROM units") as usize,
        expected_units,
        "no unit lost or doubled"
    );
    assert_eq!(
        count(
            check,
            "SELECT count(*) FROM units u JOIN parcels p ON p.id = u.parcel_id WHERE u.station <> p.station"
        ),
        0,
        "every unit recorded at the station that had its parcel"
    );
}

/// What the screen has confirmed so far: units recorded, units inspected, parcels signed,
/// parcels received.
fn on_disk(db: &dyn Sql) -> (i64, i64, i64, i64) {
    (
        count(db, "SELECT count(*) FROM units"),
        count(db, "SELECT count(*) FROM units WHERE outcome IS NOT NULL"),
        count(db, "SELECT count(*) FROM parcels WHERE state = 'signed'"),
        count(db, "SELECT count(*) FROM parcels"),
    )
}

#[test]
fn a_station_killed_at_random_moments_loses_nothing_it_confirmed() {
    killed_at_random_moments(Engine::Sqlite, "a_station_killed_at_random_moments_loses_nothing_it_confirmed");
}

/// The same shift, killed at the same moments, on a central database: a kill cuts the
/// station's connection, and what the server kept is checked once its session ended.
#[test]
fn a_station_on_the_central_database_killed_at_random_moments_loses_nothing_it_confirmed() {
    killed_at_random_moments(
        Engine::Postgres,
        "a_station_on_the_central_database_killed_at_random_moments_loses_nothing_it_confirmed",
    );
}

/// 40 parcels through one station killed (SIGKILL) every few steps: idle, in the middle of a
/// scan's handling, or halfway through a scan's characters. The moments come from a seed
/// (`RETURNS_DOCK_KILL_SEED`, said on failure), so a failure can be replayed.
fn killed_at_random_moments(engine: Engine, test: &str) {
    let dock = Dock::generated(engine, 300);
    let db = dock.db();
    let parcels = plans(db, 40);
    let first = seed("RETURNS_DOCK_KILL_SEED", 0x5EED_D0C5);
    let _replay = Replay(format!("RETURNS_DOCK_KILL_SEED={first} cargo test --test station load::{test}"));
    let mut seed = first;
    let mut random = move |n: u64| {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    };
    let mut kills = 0;
    let mut next = 0; // the parcel being worked on
    while next < parcels.len() {
        let open_before: Option<i64> =
            db.value("SELECT id FROM parcels WHERE state = 'open' AND station = 'ST01'", args![]).unwrap();
        let mut pty = dock.station("ST01", &[]);
        assert!(pty.wait_for("Scan your badge", Duration::from_secs(30)), "{}", pty.contents());
        let band = pty.step("OP-DEMO");
        if let Some(id) = open_before {
            assert!(
                band.contains(&format!("Parcel P{id} resumed")),
                "after kill {kills}: {band}\n{}",
                pty.contents()
            );
            assert!(pty.header().contains(&format!("· P{id} ·")), "{}", pty.contents());
        }
        // Some steps, each confirmed on screen, then the kill: idle, in the middle of a
        // scan's handling, or halfway through a scan's characters.
        let steps = 1 + random(12);
        let mut confirmed = on_disk(db);
        let mut done = 0;
        while done < steps && next < parcels.len() {
            let Some(scan) = next_scan(db, "ST01", &parcels[next]) else {
                next += 1;
                continue;
            };
            let band = pty.step(&scan);
            assert!(band.contains("✔ OK"), "{scan}: {band}\n{}", pty.contents());
            confirmed = on_disk(db);
            done += 1;
        }
        if next >= parcels.len() {
            break;
        }
        match random(3) {
            0 => {}
            1 => {
                if let Some(scan) = next_scan(db, "ST01", &parcels[next]) {
                    pty.send(format!("{scan}\r").as_bytes());
                }
            }
            _ => {
                if let Some(scan) = next_scan(db, "ST01", &parcels[next]) {
                    pty.send(&scan.as_bytes()[..scan.len() / 2]);
                }
            }
        }
        dock.killed(pty, "ST01");
        kills += 1;
        let after = on_disk(db);
        // Everything confirmed is there; at most the one step in flight was added.
        assert!(
            after.0 >= confirmed.0
                && after.1 >= confirmed.1
                && after.2 >= confirmed.2
                && after.3 >= confirmed.3,
            "kill {kills}: {after:?} < {confirmed:?}"
        );
        assert!(
            (after.0 - confirmed.0)
                + (after.1 - confirmed.1)
                + (after.2 - confirmed.2)
                + (after.3 - confirmed.3)
                <= 1,
            "kill {kills}: {after:?} vs {confirmed:?}"
        );
    }
    assert!(kills >= 20, "killed {kills} times");
    let units: usize = parcels.iter().map(|p| p.units.len()).sum();
    let n = parcels.len() as i64;
    assert_eq!(
        on_disk(db),
        (units as i64, units as i64, n, n),
        "the whole shift, once each; no parcel twice"
    );
}

#[test]
fn a_full_disk_at_the_station_is_said_and_nothing_confirmed_is_lost() {
    // The station's database on a 1 MB tmpfs in a private mount namespace, nearly filled.
    let (dir, db) = generated_dock(300);
    let conn = Connection::open(&db).unwrap();
    let parcels = plans(&conn, 30);
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let size = std::fs::metadata(&db).unwrap().len();
    assert!(size < 700_000, "the seeded database fits: {size}");
    std::fs::create_dir(dir.path().join("small")).unwrap();
    let mut cmd = portable_pty::CommandBuilder::new("unshare");
    let script = format!(
        "set -e; mount -t tmpfs -o size={}k tmpfs small; cp dock.db small/dock.db; \
         head -c {}k /dev/zero > small/fill; exec {} --db small/dock.db station --station ST01",
        1024,
        1024 - size / 1024 - 64,
        env!("CARGO_BIN_EXE_returns-dock")
    );
    cmd.args(["-rm", "sh", "-c", &script]);
    cmd.cwd(dir.path());
    let mut pty = Pty::spawn(cmd);
    assert!(pty.wait_for("Scan your badge", Duration::from_secs(30)), "{}", pty.contents());
    // The station's files are in its own mount namespace: copied out with nsenter to be read.
    let pid = pty.pid().to_string();
    let small = dir.path().join("small");
    let inside = |script: &str| {
        let out = std::process::Command::new("nsenter")
            .args(["-t", &pid, "-U", "-m", "--preserve-credentials", "sh", "-c", script])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let mut copies = 0;
    let mut open_inside = || {
        copies += 1;
        let copy = dir.path().join(format!("copy{copies}.db"));
        inside(&format!(
            "cp {s}/dock.db {c}; if [ -e {s}/dock.db-wal ]; then cp {s}/dock.db-wal {c}-wal; fi",
            s = small.display(),
            c = copy.display()
        ));
        Connection::open(copy).unwrap()
    };
    pty.step("OP-DEMO");
    let mut confirmed = (0, 0, 0, 0);
    let mut full = None;
    'shift: for plan in &parcels {
        loop {
            let here = open_inside();
            let Some(scan) = next_scan(&here, "ST01", plan) else { break };
            let band = pty.step(&scan);
            if band.contains("the disk is full") {
                full = Some(scan);
                break 'shift;
            }
            assert!(band.contains("✔ OK"), "{scan}: {band}\n{}", pty.contents());
            confirmed = on_disk(&open_inside());
        }
    }
    let failed = full.expect("the disk filled up during the shift");
    assert!(pty.contents().contains("✖ ERROR"), "said as an error: {}", pty.contents());
    assert_eq!(on_disk(&open_inside()), confirmed, "all confirmed, nothing of the failed scan");
    // Space is freed: the same scan goes through, and the shift goes on without a restart.
    inside(&format!("rm {}/fill", small.display()));
    let band = pty.step(&failed);
    assert!(band.contains("✔ OK"), "{failed} after space was freed: {band}\n{}", pty.contents());
    assert!(on_disk(&open_inside()) > confirmed);
}
