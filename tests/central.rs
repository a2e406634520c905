//! The central database (PostgreSQL): opened as an SQLite file is, with the same refusals.
//!
//! The tests use the server `RETURNS_DOCK_TEST_PG` names (`.ci/run` starts one), else start a
//! private one themselves with `.ci/pg-server` (initdb into a temporary folder, a free
//! loopback port), stopped when the tests end. Each test gets a database of its own.

use postgres::{Client, NoTls};
use returns_dock::store::central::{self, Central, SCHEMA_VERSION};
use returns_dock::store::StoreError;

#[path = "support/pg.rs"]
mod pg;
use pg::fresh_database;

#[test]
fn a_fresh_database_is_made_ours_once_and_opens_again() {
    let url = fresh_database();
    let mut c = Central::open(&url).unwrap();
    assert_eq!(c.schema_version().unwrap(), SCHEMA_VERSION);
    drop(c);
    let mut again = Central::open(&url).unwrap();
    assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
    let mut raw = Client::connect(&url, NoTls).unwrap();
    let marks: i64 = raw.query_one("SELECT count(*) FROM returns_dock_meta", &[]).unwrap().get(0);
    assert_eq!(marks, 2, "the mark and the version, written once");
}

#[test]
fn a_database_with_tables_of_its_own_is_refused_and_left_untouched() {
    let url = fresh_database();
    let mut raw = Client::connect(&url, NoTls).unwrap();
    raw.batch_execute(
        "CREATE TABLE invoices (id int PRIMARY KEY, total numeric); INSERT INTO invoices VALUES (1, 9.5)",
    )
    .unwrap();
    let err = Central::open(&url).err().expect("refused");
    assert!(matches!(err, StoreError::NotOurs { .. }), "{err}");
    assert!(err.to_string().contains("not a returns-dock database"), "{err}");
    assert!(err.to_string().contains("left untouched"), "{err}");
    let tables: Vec<String> = raw
        .query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables, ["invoices"], "nothing of ours was added");
    let n: i64 = raw.query_one("SELECT count(*) FROM invoices", &[]).unwrap().get(0);
    assert_eq!(n, 1);
}

#[test]
fn a_database_made_by_a_newer_program_is_refused_and_left_as_it_is() {
    let url = fresh_database();
    Central::open(&url).unwrap();
    let mut raw = Client::connect(&url, NoTls).unwrap();
    raw.execute("UPDATE returns_dock_meta SET value = '999' WHERE key = 'schema_version'", &[]).unwrap();
    let err = Central::open(&url).err().expect("refused");
    assert!(matches!(err, StoreError::TooNew { found: 999, .. }), "{err}");
    assert!(err.to_string().contains("use the newer program"), "{err}");
    let v: String = raw
        .query_one("SELECT value FROM returns_dock_meta WHERE key = 'schema_version'", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, "999");
}

/// Stations started together against a new database: one migrates it, the others wait for it
/// and find it ready; none fails.
#[test]
fn stations_starting_at_once_migrate_a_new_database_once() {
    let url = fresh_database();
    let opened: Vec<Result<u32, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    Central::open(&url).and_then(|mut c| c.schema_version()).map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(opened.iter().all(|r| r.as_ref() == Ok(&SCHEMA_VERSION)), "{opened:?}");
    let mut raw = Client::connect(&url, NoTls).unwrap();
    let marks: i64 = raw.query_one("SELECT count(*) FROM returns_dock_meta", &[]).unwrap().get(0);
    assert_eq!(marks, 2);
}

/// No server there: said in one line naming the address, never its password.
#[test]
fn an_unreachable_server_is_said_without_its_password() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgresql://dock:s3cret@127.0.0.1:{free}/returns?connect_timeout=5");
    let err = Central::open(&url).err().expect("refused");
    let said = err.to_string();
    assert!(matches!(err, StoreError::CannotOpen { .. }), "{said}");
    assert!(said.contains(&format!("127.0.0.1:{free}")) && !said.contains("s3cret"), "{said}");
    assert!(!said.contains('\n'), "{said}");
    assert!(central::is_address(&url));
}

/// The commands take a server's address as they take a file: one they cannot reach is said in
/// one line, without its password, and nothing is made in its place; one they reach keeps what
/// they record (a user added there is in its log, which checks out).
#[test]
fn the_commands_keep_their_records_on_a_server_given_its_address() {
    let dir = tempfile::tempdir().unwrap();
    let dock = |db: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .current_dir(dir.path())
            .arg("--db")
            .arg(db)
            .args(args)
            .output()
            .unwrap()
    };
    for args in [&["review", "list"][..], &["users", "add", "--id", "X", "--name", "Y"][..]] {
        let out = dock("postgresql://dock:s3cret@127.0.0.1:1/returns", args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("postgresql://dock:***@127.0.0.1:1/returns") && !err.contains("s3cret"),
            "{err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file made");
    let url = fresh_database();
    let out = dock(&url, &["users", "add", "--id", "OP7", "--name", "Ada"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = dock(&url, &["audit", "verify"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.starts_with("audit log intact: 1 entries chained"), "{said}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "still no file: the records are on the server"
    );
    // Found by an outside pass: a command that only reads, given an empty (or mistyped)
    // database, made the schema in it and answered as from an empty dock.
    let empty = fresh_database();
    for args in [&["export"][..], &["review", "list"][..], &["audit", "verify"][..]] {
        let out = dock(&empty, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("no database there") && err.contains("nothing was created"), "{err}");
    }
    let tables: i64 = Client::connect(&empty, NoTls)
        .unwrap()
        .query_one("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", &[])
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "nothing made in it");
    // A password given in the address is never printed, in either form (the test server
    // trusts every connection, so it is accepted and ignored).
    let (scheme_user, host_db) = url.split_once('@').unwrap();
    let with_password = format!("{scheme_user}:s3cret@{host_db}?password=s3cret");
    let out = dock(&with_password, &["audit", "verify"]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !all.contains("s3cret"), "{all}");
    let (base, _) = with_password.rsplit_once('/').unwrap();
    let out = dock(&format!("{base}/no_such_db?password=s3cret"), &["export"]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && !all.contains("s3cret") && all.contains("***"), "{all}");
}

/// The store speaks one SQL to both engines (`store::sql`): the same statements, with the same
/// arguments, read back the same values from SQLite and from PostgreSQL, times included
/// (text on one, `timestamptz` on the other, the same text out of both).
mod one_sql {
    use returns_dock::store::sql::{args, Engine, Pg, Sql, SqlExt};

    fn exercise(db: &dyn Sql) {
        db.batch(match db.engine() {
            Engine::Sqlite => "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, at TEXT, flag INTEGER NOT NULL, share REAL)",
            Engine::Postgres => {
                "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT,
                 at TIMESTAMPTZ, flag BOOLEAN NOT NULL, share DOUBLE PRECISION)"
            }
        })
        .unwrap();
        let insert = "INSERT INTO t (name, at, flag, share) VALUES (?1, ?2, ?3, ?4) RETURNING id";
        let first: i64 = db.one(insert, args!["Zoë 张", "2026-11-22T01:15:02.123Z", true, 0.25]).unwrap();
        let second: i64 =
            db.one(insert, args![Option::<&str>::None, Option::<String>::None, false, 1.0]).unwrap();
        assert_eq!((first, second), (1, 2));
        let rows = db
            .map("SELECT id, name, at, flag, share FROM t WHERE id >= ?1 ORDER BY id", args![1], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<Option<String>>(2)?,
                    r.get::<bool>(3)?,
                    r.get::<f64>(4)?,
                ))
            })
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (1, Some("Zoë 张".to_string()), Some("2026-11-22T01:15:02.123Z".to_string()), true, 0.25),
                (2, None, None, false, 1.0),
            ]
        );
        // Times compare as times, given as the dock writes them; a parameter used twice.
        let n: i64 = db
            .one(
                "SELECT count(*) FROM t WHERE at > ?1 OR (at IS NULL AND ?2 = ?2)",
                args!["2026-11-22T01:15:02.122Z", 7],
            )
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(db.exec("UPDATE t SET flag = ?1 WHERE name = ?2", args![false, "Zoë 张"]).unwrap(), 1);
        let flagged: i64 = db.one("SELECT count(*) FROM t WHERE flag = ?1", args![true]).unwrap();
        assert_eq!(flagged, 0);
        assert_eq!(
            db.value::<i64>("SELECT id FROM t WHERE name = '?1 is text'", args![]).unwrap(),
            None,
            "a ? in quotes is text"
        );
        let wrong = db.one::<i64>("SELECT name FROM t WHERE id = 1", args![]).unwrap_err();
        assert!(wrong.to_string().contains("column 0"), "{wrong}");
    }

    #[test]
    fn the_same_statements_read_the_same_on_both_engines() {
        exercise(&rusqlite::Connection::open_in_memory().unwrap());
        let client = postgres::Client::connect(&super::fresh_database(), postgres::NoTls).unwrap();
        exercise(&Pg::new(client));
    }
}

/// The central schema keeps the rules the file keeps: the log is append-only and sealed, user
/// ids are told apart without regard to case, one box of a return is open at a time, and a
/// closed parcel is due for export in the transaction that closed it.
#[test]
fn the_central_schema_keeps_the_rules_of_the_file() {
    let url = fresh_database();
    drop(Central::open(&url).unwrap());
    let mut c = Client::connect(&url, NoTls).unwrap();
    let t = "2026-11-22T01:00:00Z";
    c.batch_execute(&format!(
        "INSERT INTO users (id, name, role, created_at, updated_at) VALUES ('DEMO', 'Demo', 'operator', '{t}', '{t}');
         INSERT INTO audit_log (at, action, hash) VALUES ('{t}', 'sign_in', 'h1');
         INSERT INTO returns (rma_no, order_no, content_hash, created_at, updated_at) VALUES ('R1', 'O1', 0, '{t}', '{t}');
         INSERT INTO parcels (scan, station, operator, received_at) VALUES ('R1', 'ST01', 'demo', '{t}');
         INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (1, 1, '{t}', 'demo');
         INSERT INTO parcels (scan, station, operator, received_at) VALUES ('R1', 'ST02', 'Demo', '{t}');"
    ))
    .unwrap();
    let refused = |c: &mut Client, sql: &str| {
        c.batch_execute(sql)
            .err()
            .map(|e| e.as_db_error().map(|d| d.message().to_string()).unwrap_or_default())
    };
    assert_eq!(
        refused(&mut c, "UPDATE audit_log SET detail = 'x'").as_deref(),
        Some("audit_log is append-only")
    );
    assert_eq!(refused(&mut c, "DELETE FROM audit_log").as_deref(), Some("audit_log is append-only"));
    assert!(
        refused(&mut c, &format!("INSERT INTO audit_log (at, action) VALUES ('{t}', 'x')")).is_some(),
        "no entry without its hash"
    );
    assert!(
        refused(&mut c, &format!("INSERT INTO users (id, name, role, created_at, updated_at) VALUES ('demo', 'Again', 'operator', '{t}', '{t}')")).is_some(),
        "DEMO and demo are one user"
    );
    let second_box = refused(&mut c, &format!("INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (2, 1, '{t}', 'demo')"));
    assert!(second_box.is_some_and(|m| m.contains("parcel_returns_one_open_box")), "one open box per return");
    c.batch_execute(&format!(
        "UPDATE parcels SET state = 'signed', closed_at = '{t}', closed_audit_id = 1 WHERE id = 1"
    ))
    .unwrap();
    let due: i64 = c
        .query_one("SELECT count(*) FROM export_due WHERE parcel_id = 1 AND batch_id IS NULL", &[])
        .unwrap()
        .get(0);
    assert_eq!(due, 1, "signed, so due for export");
    c.batch_execute(&format!("INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by) VALUES (2, 1, '{t}', 'demo')")).unwrap();
}

/// One contract for the store, run on both engines: a dock's day through the store's own
/// operations (seed, sign in, open, scan, inspect, sign, refuse, review, export, feedback,
/// audit), and the files it gives after-sales are the same bytes from SQLite and from
/// PostgreSQL.
mod contract {
    use chrono::{DateTime, Duration, FixedOffset};
    use returns_dock::domain::codes::{Cause, Grade, Outcome, Reason};
    use returns_dock::export::{self, ExportOptions, Format, Span};
    use returns_dock::store::review::{Decision, Supervisor};
    use returns_dock::store::station::{Actor, Inspection, NewUnit, ParcelLookup, Policy, Refusal};
    use returns_dock::store::Store;
    use std::path::Path;

    struct Day {
        store: Store,
        tick: i64,
    }

    impl Day {
        fn now(&mut self) -> DateTime<FixedOffset> {
            self.tick += 1;
            DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap() + Duration::seconds(self.tick)
        }

        fn actor(&mut self, station: &str) -> Actor {
            Actor { station: station.into(), dock: "NORTH".into(), user: "DEMO".into(), now: self.now() }
        }

        fn open(&mut self, station: &str, scan: &str) -> i64 {
            let ids = match self.store.lookup_parcel(station, scan).unwrap() {
                ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
                other => panic!("{scan}: {other:?}"),
            };
            let a = self.actor(station);
            self.store.open_parcel(&a, scan, &ids).unwrap().unwrap().id
        }

        fn unit(&mut self, parcel: i64, code: &str, serial: Option<&str>, outcome: Outcome) -> i64 {
            let sku = self.store.find_product_box(code).unwrap().map(|(p, _)| p.sku);
            let a = self.actor("ST01");
            let u =
                NewUnit { scan: code.into(), sku, serial: serial.map(String::from), ..NewUnit::default() };
            let ((id, _), _) = {
                let (r, v) = self.store.record_unit(&a, parcel, &u).unwrap();
                (r.unwrap(), v)
            };
            let a = self.actor("ST01");
            let reason = (outcome == Outcome::Refuse).then_some(Reason::CustomerDamage);
            let i = Inspection::new(outcome, Some(Grade::A), reason, Cause::ChangedMind);
            self.store.inspect(&a, parcel, id, &i).unwrap().0.unwrap();
            id
        }
    }

    /// The day on `store`; the export's bytes and what was checked on the way.
    fn a_day(store: Store, dir: &Path) -> Vec<u8> {
        let mut d = Day { store, tick: 0 };
        returns_dock::cli::seed_demo_into(&mut d.store).unwrap();
        let now = d.now();
        let signed = d.store.sign_in("OP-DEMO", "ST01", now, 14).unwrap();
        assert_eq!(signed.user.map(|u| u.id).as_deref(), Some("DEMO"));
        // A clean parcel, signed.
        let p1 = d.open("ST01", "RMA-2026-0009");
        d.unit(p1, "6901234500059", None, Outcome::Accept);
        let a = d.actor("ST01");
        let (signed, _, _) = d
            .store
            .sign(&a, p1, false, &[], &Policy::default(), returns_dock::store::boxes::Rest::Missing)
            .unwrap();
        signed.unwrap();
        // Scanned again at another station: a duplicate, saying where.
        match d.store.lookup_parcel("ST02", "RMA-2026-0009").unwrap() {
            ParcelLookup::Duplicate(seen) => {
                assert_eq!((seen.station.as_str(), seen.dock.as_deref()), ("ST01", Some("NORTH")))
            }
            other => panic!("{other:?}"),
        }
        // A parcel with a unit refused and one missing: confirmed at signing, reviewed.
        let p2 = d.open("ST01", "RMA-2026-0002");
        d.unit(p2, "6901234500011", Some("RB5-0000123"), Outcome::Refuse);
        let a = d.actor("ST01");
        let view = d.store.parcel(p2).unwrap();
        let shown = view.discrepancies();
        let (refused, _, _) = d
            .store
            .sign(&a, p2, false, &shown, &Policy::default(), returns_dock::store::boxes::Rest::Missing)
            .unwrap();
        assert_eq!(refused.err(), Some(Refusal::NotConfirmed));
        let a = d.actor("ST01");
        d.store
            .sign(&a, p2, true, &shown, &Policy::default(), returns_dock::store::boxes::Rest::Missing)
            .unwrap()
            .0
            .unwrap();
        // The other station cannot open a return that is open here.
        let p3 = d.open("ST01", "RMA-2026-0011");
        let a = d.actor("ST02");
        let ids: Vec<i64> = d.store.parcel(p3).unwrap().returns.iter().map(|r| r.id).collect();
        assert!(matches!(d.store.open_parcel(&a, "RMA-2026-0011", &ids).unwrap(), Err(Refusal::TakenBy(_))));
        let a = d.actor("ST01");
        d.store.refuse_parcel(&a, p3, Reason::OutsidePolicy, None).unwrap().0.unwrap();
        // The supervisor decides every review.
        let now = d.now();
        let proof =
            d.store.check_pin("SUP1", "2468", Some("ST01"), now, &Default::default()).unwrap().unwrap();
        let reviews = d.store.open_reviews().unwrap();
        assert!(reviews.len() >= 2, "{reviews:?}");
        // The queue of one dock: these parcels were received at NORTH.
        assert_eq!(d.store.open_reviews_at(Some("NORTH")).unwrap(), reviews);
        assert!(d.store.open_reviews_at(Some("SOUTH")).unwrap().is_empty());
        assert!(reviews.iter().all(|r| r.dock.as_deref() == Some("NORTH")));
        for r in &reviews {
            let now = d.now();
            let sup = Supervisor { who: &proof, station: Some("ST01") };
            d.store.decide(sup, r.id, &Decision::Confirm, Some("seen"), now).unwrap().unwrap();
        }
        assert!(d.store.open_reviews().unwrap().is_empty());
        // The export, and nothing new after it.
        let out = dir.join("export.csv");
        let opts = ExportOptions {
            format: Format::Csv,
            span: Span::SinceLast,
            excel: false,
            now: d.now(),
            by: None,
        };
        let done = export::export(&mut d.store, &out, &opts).unwrap();
        assert_eq!(done.parcels, 3);
        let again = export::export(&mut d.store, &dir.join("again.csv"), &opts);
        assert!(matches!(again, Err(export::ExportError::NothingNew { last: Some(b) }) if b == done.batch));
        // The week's sheet counts what was inspected.
        let now = d.now();
        let sheet =
            export::feedback::feedback(&mut d.store, now.date_naive(), now.date_naive(), 3, now).unwrap();
        assert_eq!(sheet.units, 2, "the two units inspected");
        let verdict = d.store.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
        std::fs::read(&out).unwrap()
    }

    /// A dock moves: its file's whole history copied into a central database (`db copy`), the
    /// chain verified there, the same export made again from there, and a second copy refused.
    #[test]
    fn a_dock_copied_into_a_central_database_keeps_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dock.db");
        let exported = a_day(Store::open(&file).unwrap(), dir.path());
        let url = super::fresh_database();
        let run = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
                .current_dir(dir.path())
                .args(args)
                .output()
                .unwrap()
        };
        let out = run(&["db", "copy", "--from", "dock.db", "--to", &url]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
        assert!(said.contains("counts checked"), "{said}");
        let file_store = Store::open(&file).unwrap();
        let mut central = Store::open(Path::new(&url)).unwrap();
        for table in
            ["audit_log", "parcels", "units", "unit_steps", "reviews", "export_batches", "export_due"]
        {
            let count = |s: &Store| {
                returns_dock::store::sql::SqlExt::one::<i64>(
                    s.db(),
                    &format!("SELECT count(*) FROM {table}"),
                    &[],
                )
                .unwrap()
            };
            assert_eq!(count(&file_store), count(&central), "{table}");
        }
        let verdict = central.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
        assert_eq!(verdict.head, file_store.verify_audit().unwrap().head, "the same chain, to its head");
        // The batch the dock made is made again from the central database, the same bytes.
        let again = dir.path().join("again.csv");
        let opts = ExportOptions {
            format: Format::Csv,
            span: Span::Batch(1),
            excel: false,
            now: DateTime::parse_from_rfc3339("2026-11-22T09:00:40+08:00").unwrap(),
            by: None,
        };
        export::export(&mut central, &again, &opts).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&std::fs::read(&again).unwrap()),
            String::from_utf8_lossy(&exported)
        );
        // New records there carry on from the copied ids.
        let a = Actor {
            station: "ST09".into(),
            dock: String::new(),
            user: "DEMO".into(),
            now: DateTime::parse_from_rfc3339("2026-11-23T09:00:00+08:00").unwrap(),
        };
        let returns = match central.lookup_parcel("ST09", "RMA-2026-0001").unwrap() {
            ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let view = central.open_parcel(&a, "RMA-2026-0001", &returns).unwrap().unwrap();
        assert_eq!(view.id, 4, "after the three parcels copied");
        let out = run(&["db", "copy", "--from", "dock.db", "--to", &url]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a dock's records"));
    }

    #[test]
    fn a_day_at_the_dock_reads_the_same_from_both_engines() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = a_day(Store::open(&dir.path().join("dock.db")).unwrap(), dir.path());
        let pg_dir = dir.path().join("pg");
        std::fs::create_dir(&pg_dir).unwrap();
        let central = a_day(Store::open(Path::new(&super::fresh_database())).unwrap(), &pg_dir);
        assert_eq!(String::from_utf8_lossy(&sqlite), String::from_utf8_lossy(&central));
    }
}

/// Stations writing at once on a central database, where no single writer lock orders them:
/// the database decides. Three stations race for the same return again and again, one wins
/// each time and the others are told who has it; units scanned at the same moment in different
/// parcels all get ids of their own; two exports at once neither repeat nor lose a parcel.
mod races {
    use chrono::{DateTime, Duration, FixedOffset};
    use returns_dock::store::station::{Actor, NewUnit, ParcelLookup, Refusal};
    use returns_dock::store::Store;
    use std::path::Path;
    use std::sync::Barrier;

    fn at(tick: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap() + Duration::seconds(tick)
    }

    #[test]
    fn three_stations_racing_for_one_return_one_wins_each_time() {
        let url = super::fresh_database();
        let mut seed = Store::open(Path::new(&url)).unwrap();
        returns_dock::cli::seed_demo_into(&mut seed).unwrap();
        let rmas = ["RMA-2026-0009", "RMA-2026-0011", "RMA-2026-0002", "RMA-2026-0001"];
        let ids: Vec<Vec<i64>> = rmas
            .iter()
            .map(|rma| match seed.lookup_parcel("ST01", rma).unwrap() {
                ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect(),
                other => panic!("{rma}: {other:?}"),
            })
            .collect();
        let stations = ["ST01", "ST02", "ST03"];
        let barrier = Barrier::new(stations.len());
        let results: Vec<Vec<Result<i64, Refusal>>> = std::thread::scope(|s| {
            let handles: Vec<_> = stations
                .iter()
                .map(|station| {
                    let (url, ids, barrier) = (&url, &ids, &barrier);
                    s.spawn(move || {
                        let mut store = Store::open(Path::new(url)).unwrap();
                        let mut won = Vec::new();
                        for (i, (rma, returns)) in rmas.iter().zip(ids).enumerate() {
                            barrier.wait();
                            let a = Actor {
                                station: station.to_string(),
                                dock: String::new(),
                                user: "DEMO".into(),
                                now: at(i as i64),
                            };
                            won.push(store.open_parcel(&a, rma, returns).unwrap().map(|v| v.id));
                        }
                        won
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (i, rma) in rmas.iter().enumerate() {
            let outcomes: Vec<&Result<i64, Refusal>> = results.iter().map(|r| &r[i]).collect();
            let winners = outcomes.iter().filter(|r| r.is_ok()).count();
            assert_eq!(winners, 1, "{rma}: {outcomes:?}");
            for r in outcomes.iter().filter(|r| r.is_err()) {
                assert!(
                    matches!(r, Err(Refusal::TakenBy(seen)) if stations.contains(&seen.station.as_str())),
                    "{rma}: {r:?}"
                );
            }
        }
        // The winners scan a unit each, all at the same moment: every unit is saved, each with
        // its own id.
        let parcels: Vec<(usize, i64)> = results
            .iter()
            .enumerate()
            .flat_map(|(s, won)| won.iter().filter_map(move |r| r.as_ref().ok().map(|p| (s, *p))))
            .collect();
        let barrier = Barrier::new(parcels.len());
        let units: Vec<i64> = std::thread::scope(|s| {
            let handles: Vec<_> = parcels
                .iter()
                .map(|(station, parcel)| {
                    let (url, barrier) = (&url, &barrier);
                    s.spawn(move || {
                        let mut store = Store::open(Path::new(url)).unwrap();
                        let a = Actor {
                            station: stations[*station].to_string(),
                            dock: String::new(),
                            user: "DEMO".into(),
                            now: at(60),
                        };
                        let u = NewUnit { scan: "6901234500059".into(), ..NewUnit::default() };
                        barrier.wait();
                        store.record_unit(&a, *parcel, &u).unwrap().0.unwrap().0
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut distinct = units.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), rmas.len(), "{units:?}");
        let verdict = seed.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
    }
}

/// What a station's step costs on a server, and the rules the fewer round trips keep: each
/// statement is a round trip, and a step of twenty to forty of them was slow enough to see.
mod steps {
    use chrono::{DateTime, Duration, FixedOffset};
    use returns_dock::domain::codes::{Cause, Grade, Outcome};
    use returns_dock::store::boxes::Rest;
    use returns_dock::store::station::{
        self as st, Actor, Inspection, NewUnit, ParcelLookup, Policy, Refusal,
    };
    use returns_dock::store::Store;
    use std::path::Path;

    fn at(tick: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap() + Duration::seconds(tick)
    }

    fn actor(station: &str, tick: i64) -> Actor {
        Actor { station: station.into(), dock: String::new(), user: "DEMO".into(), now: at(tick) }
    }

    fn seeded() -> String {
        let url = super::fresh_database();
        let mut store = Store::open(Path::new(&url)).unwrap();
        returns_dock::cli::seed_demo_into(&mut store).unwrap();
        // A dock's own database: no demo returns to list beside the figures.
        store.set_meta("demo", "0").unwrap();
        url
    }

    /// Until `holds` says so of the server (another connection waiting on a lock), or ten
    /// seconds.
    fn until(url: &str, holds: &str) {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !c.query_one(holds, &[]).unwrap().get::<_, bool>(0) {
            assert!(std::time::Instant::now() < deadline, "never: {holds}");
            std::thread::yield_now();
        }
    }

    const SOMEONE_WAITS: &str = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)";

    /// A parcel of return `rma` through a station's steps (sign in, find, open, scan, inspect,
    /// sign), each step's round trips to the server.
    fn take(store: &mut Store, rma: &str, tick: i64) -> Vec<(&'static str, u64)> {
        let mut trips = Vec::new();
        let mut step = |store: &mut Store, name: &'static str, f: &mut dyn FnMut(&mut Store)| {
            let before = store.round_trips().unwrap();
            f(store);
            trips.push((name, store.round_trips().unwrap() - before));
        };
        step(store, "sign in", &mut |s| {
            s.sign_in("OP-DEMO", "ST01", at(tick), 7).unwrap();
        });
        let mut returns = Vec::new();
        step(store, "find", &mut |s| match s.lookup_parcel("ST01", rma).unwrap() {
            ParcelLookup::Expected(rs) => returns = rs.iter().map(|r| r.id).collect(),
            other => panic!("{other:?}"),
        });
        let mut view = None;
        step(store, "open", &mut |s| {
            view = Some(s.open_parcel(&actor("ST01", tick + 1), rma, &returns).unwrap().unwrap())
        });
        let view = view.unwrap();
        let sku = view.lines[0].sku.clone();
        let mut unit = 0;
        step(store, "scan", &mut |s| {
            let u = NewUnit { scan: sku.clone(), sku: Some(sku.clone()), ..NewUnit::default() };
            unit = s.record_unit(&actor("ST01", tick + 2), view.id, &u).unwrap().0.unwrap().0;
        });
        let mut shown = Vec::new();
        step(store, "inspect", &mut |s| {
            let i = Inspection::new(Outcome::Accept, Some(Grade::A), None, Cause::ChangedMind);
            let (done, after) = s.inspect(&actor("ST01", tick + 3), view.id, unit, &i).unwrap();
            done.unwrap();
            shown = after.discrepancies();
        });
        step(store, "sign", &mut |s| {
            let a = actor("ST01", tick + 4);
            s.sign(&a, view.id, true, &shown, &Policy::default(), Rest::Missing).unwrap().0.unwrap();
        });
        trips
    }

    /// Each step of a parcel in the round trips it takes, once its statements are prepared (a
    /// station prepares each once): 5 to 40 a step before (the signature 40).
    #[test]
    fn a_station_step_is_a_few_round_trips_to_the_server() {
        let url = seeded();
        let mut store = Store::open(Path::new(&url)).unwrap();
        take(&mut store, "RMA-2026-0011", 0);
        let trips = take(&mut store, "RMA-2026-0009", 10);
        // Each write: BEGIN and COMMIT, the step's own statements, the chain's head read once
        // under its lock, and the screen read back in one statement.
        let most = [("sign in", 11), ("find", 1), ("open", 9), ("scan", 9), ("inspect", 10), ("sign", 14)];
        for ((name, n), (_, limit)) in trips.iter().zip(most) {
            assert!(*n <= limit, "{name}: {n} round trips (at most {limit}): {trips:?}");
        }
        let verdict = store.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
    }

    /// Appending is taken in turn: a writer that waited for another's appends seals onto the
    /// entry committed meanwhile, and a writer's later appends follow its own (the head kept,
    /// not read again), so the chain neither forks nor skips.
    #[test]
    fn a_writer_that_waited_to_append_seals_onto_the_entry_committed_meanwhile() {
        let url = super::fresh_database();
        let first = Store::open(Path::new(&url)).unwrap();
        let probe = |store: &Store, tick: i64, what: &str| {
            returns_dock::store::audit(store.db(), at(tick), Some("ST01"), Some("DEMO"), what, None, None)
                .unwrap()
        };
        first.db().batch("BEGIN").unwrap();
        let a1 = probe(&first, 1, "first");
        let waiting = std::thread::scope(|s| {
            let other = s.spawn(|| {
                let second = Store::open(Path::new(&url)).unwrap();
                second.db().batch("BEGIN").unwrap();
                let ids = [probe(&second, 2, "second"), probe(&second, 3, "second again")];
                second.db().batch("COMMIT").unwrap();
                ids
            });
            until(&url, SOMEONE_WAITS);
            let a2 = probe(&first, 4, "first again");
            first.db().batch("COMMIT").unwrap();
            assert_eq!(a2, a1 + 1);
            other.join().unwrap()
        });
        assert_eq!(waiting, [a1 + 2, a1 + 3], "after the entries committed while it waited");
        let verdict = first.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
        assert_eq!(verdict.entries, 4);
    }

    /// Two stations open a box of the same return at the same moment: the one whose box the
    /// unique index refuses (it waited there for the other's commit) has its whole step undone
    /// and is told who has the return; nothing of its attempt stays.
    #[test]
    fn a_box_refused_by_the_index_undoes_the_step_and_names_who_has_the_return() {
        let url = seeded();
        let first = Store::open(Path::new(&url)).unwrap();
        let returns = match first.lookup_parcel("ST01", "RMA-2026-0009").unwrap() {
            ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let count =
            |s: &Store, sql: &str| returns_dock::store::sql::SqlExt::one::<i64>(s.db(), sql, &[]).unwrap();
        let (parcels, entries) =
            (count(&first, "SELECT count(*) FROM parcels"), count(&first, "SELECT count(*) FROM audit_log"));
        first.db().batch("BEGIN").unwrap();
        let won =
            st::open_parcel_in(first.db(), &actor("ST01", 1), "RMA-2026-0009", &returns).unwrap().unwrap();
        let taken_by = std::thread::scope(|s| {
            let other = s.spawn(|| {
                let mut second = Store::open(Path::new(&url)).unwrap();
                match second.open_parcel(&actor("ST02", 1), "RMA-2026-0009", &returns).unwrap() {
                    Err(Refusal::TakenBy(seen)) => (seen.parcel_id, seen.station),
                    other => panic!("{other:?}"),
                }
            });
            until(&url, SOMEONE_WAITS);
            first.db().batch("COMMIT").unwrap();
            other.join().unwrap()
        });
        assert_eq!(taken_by, (won, "ST01".to_string()));
        assert_eq!(count(&first, "SELECT count(*) FROM parcels"), parcels + 1, "the winner's box only");
        assert_eq!(count(&first, "SELECT count(*) FROM audit_log"), entries + 2, "the winner's entries only");
        let verdict = first.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
    }
}
