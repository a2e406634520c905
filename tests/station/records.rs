//! The station's records, on a database seeded with the demo data: the flows an operator goes
//! through, each step committed, and what another station or a restart then sees.

use chrono::DateTime;
use returns_dock::domain::codes::{Cause, Grade, Outcome, Reason};
use returns_dock::domain::parcel::{Discrepancy, Placement, UnitFlag};
use returns_dock::store::station::{self as st, Actor, Inspection, NewUnit, ParcelLookup, Refusal, Undone};
use returns_dock::store::Store;
use rusqlite::Connection;
use std::path::PathBuf;

struct Dock {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Store,
    tick: i64,
}

impl Dock {
    fn new() -> Dock {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dock.db");
        returns_dock::cli::seed_demo(&path).unwrap_or_else(|_| panic!("demo data loads"));
        let store = Store::open(&path).unwrap();
        Dock { _dir: dir, path, store, tick: 0 }
    }

    /// An operator at a station, one second later than the last step.
    fn at(&mut self, station: &str, user: &str) -> Actor {
        self.tick += 1;
        let now = DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap()
            + chrono::Duration::seconds(self.tick);
        Actor { station: station.into(), dock: String::new(), user: user.into(), now }
    }

    fn conn(&mut self) -> &mut Connection {
        self.store.conn_mut()
    }

    fn open(&mut self, scan: &str) -> i64 {
        let a = self.at("ST01", "DEMO");
        match st::lookup_parcel(self.store.conn(), "ST01", scan).unwrap() {
            ParcelLookup::Expected(rs) => {
                let ids: Vec<i64> = rs.iter().map(|r| r.id).collect();
                st::open_parcel(self.conn(), &a, scan, &ids).unwrap().unwrap()
            }
            other => panic!("{scan}: {other:?}"),
        }
    }

    fn unit(&mut self, parcel: i64, code: &str, serial: Option<&str>) -> (i64, Placement) {
        let a = self.at("ST01", "DEMO");
        let sku = st::find_product(self.store.conn(), code).unwrap().map(|p| p.sku);
        let u = NewUnit { scan: code.into(), sku, serial: serial.map(String::from), ..NewUnit::default() };
        st::record_unit(self.conn(), &a, parcel, &u).unwrap().unwrap()
    }

    fn inspect(&mut self, unit: i64, outcome: Outcome, reason: Option<Reason>) {
        let a = self.at("ST01", "DEMO");
        let i = Inspection::new(outcome, Some(Grade::A), reason, Cause::ChangedMind);
        st::inspect_unit(self.conn(), &a, unit, &i).unwrap().unwrap();
    }

    fn count(&self, sql: &str) -> i64 {
        self.store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

#[test]
fn a_clean_parcel_is_received_inspected_and_signed() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0009"); // one T-shirt, alone in its box
    let (u, placed) = d.unit(p, "6901234500059", None);
    assert_eq!(placed, Placement::Place { line: Some((placed_return(&d, p), 1)), flag: None });
    d.inspect(u, Outcome::Accept, None);
    let a = d.at("ST01", "DEMO");
    let found = st::sign_parcel(d.conn(), &a, p, false).unwrap().unwrap();
    assert!(found.is_empty());
    assert_eq!(d.count("SELECT count(*) FROM parcels WHERE state = 'signed' AND has_discrepancy = 0"), 1);
    assert_eq!(d.count("SELECT count(*) FROM reviews"), 0, "nothing for the supervisor");
    // The same parcel scanned again is a duplicate, and says where and by whom.
    match st::lookup_parcel(d.store.conn(), "ST02", "RMA-2026-0009").unwrap() {
        ParcelLookup::Duplicate(seen) => {
            assert_eq!(
                (seen.station.as_str(), seen.operator.as_str(), seen.state),
                ("ST01", "DEMO", returns_dock::domain::codes::ParcelState::Signed)
            );
        }
        other => panic!("{other:?}"),
    }
}

fn placed_return(d: &Dock, parcel: i64) -> i64 {
    d.store
        .conn()
        .query_row("SELECT return_id FROM parcel_returns WHERE parcel_id = ?1", [parcel], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_missing_unit_needs_confirmation_and_is_recorded_as_acknowledged() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0002"); // two earbuds (serialised) and a cable
    let (u, _) = d.unit(p, "6901234500011", Some("RB5-0000123"));
    d.inspect(u, Outcome::Accept, None);
    let a = d.at("ST01", "DEMO");
    assert_eq!(st::sign_parcel(d.conn(), &a, p, false).unwrap(), Err(Refusal::NotConfirmed));
    let found = st::sign_parcel(d.conn(), &a, p, true).unwrap().unwrap();
    assert_eq!(found.iter().filter(|x| matches!(x, Discrepancy::Missing { .. })).count(), 2);
    assert_eq!(
        d.count("SELECT sum(qty) FROM discrepancies WHERE kind = 'missing' AND acknowledged_by = 'DEMO'"),
        2
    );
    assert_eq!(d.count("SELECT count(*) FROM reviews WHERE kind = 'discrepancy'"), 1);
}

#[test]
fn wrong_item_and_serial_mismatch_are_flagged_and_refusals_go_to_review() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0001"); // a watch, serial HWGT5-A1B2C3D4
    let (u1, placed) = d.unit(p, "6901234500165", Some("HWGT5-FAKE0001"));
    assert!(matches!(placed, Placement::Place { flag: Some(UnitFlag::SerialMismatch), .. }), "{placed:?}");
    d.inspect(u1, Outcome::Refuse, Some(Reason::SerialMismatch));
    let (u2, placed) = d.unit(p, "6901234500172", None); // face masks: on no line
    assert!(
        matches!(placed, Placement::Place { line: None, flag: Some(UnitFlag::Unexpected) }),
        "{placed:?}"
    );
    d.inspect(u2, Outcome::Refuse, Some(Reason::WrongItem));
    let a = d.at("ST01", "DEMO");
    st::sign_parcel(d.conn(), &a, p, true).unwrap().unwrap();
    assert_eq!(d.count("SELECT count(*) FROM reviews WHERE kind = 'refused_unit'"), 2);
    assert_eq!(
        d.count("SELECT count(*) FROM discrepancies WHERE kind IN ('serial_mismatch', 'unexpected')"),
        2
    );
}

#[test]
fn two_rmas_in_one_box_open_together() {
    let mut d = Dock::new();
    match st::lookup_parcel(d.store.conn(), "ST01", "JT5100000000203").unwrap() {
        ParcelLookup::Expected(rs) => {
            let rmas: Vec<&str> = rs.iter().map(|r| r.rma_no.as_str()).collect();
            assert_eq!(rmas, vec!["RMA-2026-0003", "RMA-2026-0004"]);
        }
        other => panic!("{other:?}"),
    }
    // Scanning one RMA's label brings the other RMA under the same tracking number.
    let p = d.open("rma-2026-0004");
    assert_eq!(st::load_parcel(d.store.conn(), p).unwrap().returns.len(), 2);
}

#[test]
fn a_race_for_one_parcel_has_one_winner_and_a_clear_loser() {
    let mut d = Dock::new();
    let mut other = Store::open(&d.path).unwrap();
    let ids = match st::lookup_parcel(d.store.conn(), "ST01", "SF1400000000209").unwrap() {
        ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
        x => panic!("{x:?}"),
    };
    let a1 = d.at("ST01", "DEMO");
    let a2 = d.at("ST02", "LI02");
    let won = st::open_parcel(d.conn(), &a1, "SF1400000000209", &ids).unwrap();
    let lost = st::open_parcel(other.conn_mut(), &a2, "SF1400000000209", &ids).unwrap();
    assert!(won.is_ok());
    match lost {
        Err(Refusal::TakenBy(seen)) => assert_eq!(seen.station, "ST01"),
        x => panic!("{x:?}"),
    }
    match st::lookup_parcel(other.conn(), "ST02", "SF1400000000209").unwrap() {
        ParcelLookup::OpenElsewhere(seen) => assert_eq!(seen.station, "ST01"),
        x => panic!("{x:?}"),
    }
}

#[test]
fn undo_takes_back_the_last_step_only() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0008"); // two lines
    let (u1, _) = d.unit(p, "6901234500196", None);
    d.inspect(u1, Outcome::Accept, None);
    let (_u2, _) = d.unit(p, "6901234500202", None);
    let a = d.at("ST01", "DEMO");
    assert_eq!(
        st::undo_last(d.conn(), &a, p).unwrap(),
        Ok(Undone::Unit { seq: 2, sku: Some("SKU-1020".into()) })
    );
    let a = d.at("ST01", "DEMO");
    assert_eq!(
        st::undo_last(d.conn(), &a, p).unwrap(),
        Ok(Undone::Inspection {
            seq: 1,
            sku: Some("SKU-1019".into()),
            taken: Some((Outcome::Accept, Some(Grade::A))),
            restored: None
        })
    );
    let view = st::load_parcel(d.store.conn(), p).unwrap();
    assert_eq!(view.units.len(), 1);
    assert_eq!(view.units[0].outcome, None);
    assert_eq!(d.count("SELECT count(*) FROM audit_log WHERE action = 'undo'"), 2);
}

#[test]
fn uninspected_units_block_signing_and_refusing_a_parcel_needs_review() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0006");
    d.unit(p, "6901234500134", Some("LGN-KB-77001"));
    let a = d.at("ST01", "DEMO");
    assert_eq!(st::sign_parcel(d.conn(), &a, p, true).unwrap(), Err(Refusal::Uninspected(1)));
    st::refuse_parcel(d.conn(), &a, p, Reason::OutsidePolicy, Some("box soaked")).unwrap().unwrap();
    assert_eq!(
        d.count("SELECT count(*) FROM parcels WHERE state = 'refused' AND refuse_reason = 'OUTSIDE-POLICY'"),
        1
    );
    assert_eq!(d.count("SELECT count(*) FROM reviews WHERE kind = 'refused_parcel'"), 1);
    let a = d.at("ST01", "DEMO");
    assert_eq!(st::sign_parcel(d.conn(), &a, p, true).unwrap(), Err(Refusal::Closed));
}

#[test]
fn an_unidentified_parcel_is_booked_in_and_found_again() {
    let mut d = Dock::new();
    assert_eq!(st::lookup_parcel(d.store.conn(), "ST01", "YT9999999999999").unwrap(), ParcelLookup::NotFound);
    let a = d.at("ST01", "DEMO");
    let p = st::open_parcel(d.conn(), &a, "YT9999999999999", &[]).unwrap().unwrap();
    let (_, placed) = d.unit(p, "6901234500011", Some("X1"));
    assert_eq!(placed, Placement::Place { line: None, flag: Some(UnitFlag::Unexpected) });
    assert_eq!(
        st::lookup_parcel(d.store.conn(), "ST01", "yt9999999999999").unwrap(),
        ParcelLookup::Resume(p)
    );
}

#[test]
fn a_restarted_station_resumes_its_open_parcel_exactly() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0012");
    let (u, _) = d.unit(p, "6901234500103", None);
    d.inspect(u, Outcome::SecondHand, Some(Reason::Opened));
    d.unit(p, "6901234500059", None);
    let before = st::load_parcel(d.store.conn(), p).unwrap();
    // A new process: nothing but the database file.
    let fresh = Store::open(&d.path).unwrap();
    assert_eq!(st::open_parcel_at(fresh.conn(), "ST01").unwrap(), Some(p));
    assert_eq!(st::open_parcel_at(fresh.conn(), "ST02").unwrap(), None);
    assert_eq!(st::load_parcel(fresh.conn(), p).unwrap(), before);
}

#[test]
fn a_serial_scanned_twice_is_one_unit() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0014"); // three power banks with serials
    d.unit(p, "6901234500127", Some("BS20K-60001"));
    let (id, placed) = d.unit(p, "6901234500127", Some("BS20K-60001"));
    assert_eq!((id, placed), (0, Placement::SerialAlreadyScanned { seq: 1 }));
    assert_eq!(d.count("SELECT count(*) FROM units"), 1);
}

/// Two stations scanning boxes of one return at the same moment on a database with several
/// writers (a central one) are decided by the database itself, not by the station's check
/// alone: a second open box of a return is refused by its unique index, and once the first box
/// is closed another may be linked.
#[test]
fn the_database_allows_one_open_box_per_return() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0002");
    let rid = placed_return(&d, p);
    // Another writer that skipped the check: a second parcel linked to the same return.
    let other = Connection::open(&d.path).unwrap();
    other
        .execute(
            "INSERT INTO parcels (scan, station, operator, received_at) VALUES ('X', 'ST02', 'DEMO', '2026-11-22T01:00:00.000Z')",
            [],
        )
        .unwrap();
    let second = other.last_insert_rowid();
    let refused = other.execute(
        "INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (?1, ?2, 'x', 'DEMO')",
        [second, rid],
    );
    assert!(
        refused.as_ref().is_err_and(|e| e.to_string().contains("UNIQUE constraint failed")),
        "a second open box of return {rid}: {refused:?}"
    );
    // Once the first box is signed, another may be linked to the return.
    let (u, _) = d.unit(p, "6901234500011", Some("RB5-0000123"));
    d.inspect(u, Outcome::Accept, None);
    let a = d.at("ST01", "DEMO");
    st::sign_parcel(d.conn(), &a, p, true).unwrap().unwrap();
    assert_eq!(d.count("SELECT count(*) FROM parcel_returns WHERE open_box = 1"), 0, "no box of it open now");
    other
        .execute(
            "INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (?1, ?2, 'x', 'DEMO')",
            [second, rid],
        )
        .unwrap();
}
