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
#[path = "support/photos.rs"]
mod photos;
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
        /// The dock the stations stand at.
        dock: &'static str,
    }

    impl Day {
        fn now(&mut self) -> DateTime<FixedOffset> {
            self.tick += 1;
            DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap() + Duration::seconds(self.tick)
        }

        fn actor(&mut self, station: &str) -> Actor {
            Actor { station: station.into(), dock: self.dock.into(), user: "DEMO".into(), now: self.now() }
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
        let mut d = Day { store, tick: 0, dock: "NORTH" };
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
            dock: None,
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
            dock: None,
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
        assert!(String::from_utf8_lossy(&out.stderr).contains("already holds the records of dock NORTH"));
    }

    /// Photos on both engines: the bytes beside the file or in the central database's row, the
    /// same picture kept once, the evidence bundle read back from either, a picture changed
    /// behind the program found by `audit verify`, and `db copy` carrying the pictures over.
    #[test]
    fn photos_are_kept_checked_and_copied_on_both_engines() {
        use super::photos::jpeg;
        use returns_dock::evidence::picture;
        use returns_dock::store::photos::Target;
        let dir = tempfile::tempdir().unwrap();
        let url = super::fresh_database();
        let file = dir.path().join("dock.db");
        let mut shas = Vec::new();
        for store in [Store::open(&file).unwrap(), Store::open(Path::new(&url)).unwrap()] {
            let mut d = Day { store, tick: 0, dock: "NORTH" };
            returns_dock::cli::seed_demo_into(&mut d.store).unwrap();
            let p = d.open("ST01", "RMA-2026-0009");
            let u = d.unit(p, "6901234500059", None, Outcome::Refuse);
            let (one, two) = (jpeg(1), jpeg(2));
            for (bytes, name, target) in [
                (&one, "IMG_1.jpg", Target { parcel: p, unit: Some(u) }),
                (&one, "IMG_1 (1).jpg", Target { parcel: p, unit: Some(u) }),
                (&two, "IMG_2.jpg", Target { parcel: p, unit: None }),
            ] {
                let pic = picture::examine(bytes).unwrap();
                let a = d.actor("ST01");
                let (done, view) = d.store.attach_photo(&a, target, name, &pic, bytes).unwrap();
                assert_eq!(done.again, name == "IMG_1 (1).jpg", "{name}");
                assert_eq!(view.units[0].photos, 1);
            }
            let count = |s: &Store, sql: &str| {
                returns_dock::store::sql::SqlExt::one::<i64>(s.db(), sql, &[]).unwrap()
            };
            assert_eq!(count(&d.store, "SELECT count(*) FROM pictures"), 2);
            assert_eq!(count(&d.store, "SELECT count(*) FROM photos"), 2);
            let v = d.store.verify_audit().unwrap();
            assert!(v.ok() && v.photos == 2, "{:?}", v.problems);
            // The bundle reads the pictures back, whichever engine keeps them.
            let zip = dir.path().join(format!("ev-{}.zip", d.store.is_central()));
            let b = returns_dock::evidence::bundle::write(
                &d.store,
                "RMA-2026-0009",
                &zip,
                "",
                returns_dock::domain::codes::Lang::En,
                chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap(),
            )
            .unwrap();
            assert_eq!((b.units, b.photos, b.resized), (1, 2, 0));
            let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
            let mut got = Vec::new();
            std::io::Read::read_to_end(
                &mut z.by_name(&format!("photos/{}.jpg", picture::sha256_hex(&one))).unwrap(),
                &mut got,
            )
            .unwrap();
            assert_eq!(got, one);
            shas = vec![picture::sha256_hex(&one), picture::sha256_hex(&two)];
        }
        // A picture changed in the central database's row is found.
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.execute("UPDATE pictures SET data = data || '\\x00'::bytea WHERE sha256 = $1", &[&shas[1]])
            .unwrap();
        let central = Store::open(Path::new(&url)).unwrap();
        let v = central.verify_audit().unwrap();
        assert!(
            v.problems.iter().any(|p| p.contains(&shas[1]) && p.contains("changed behind")),
            "{:?}",
            v.problems
        );
        drop(central);
        // The file's history, photos and all, into an empty central database.
        let to = super::fresh_database();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .current_dir(dir.path())
            .args(["db", "copy", "--from", "dock.db", "--to", &to])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let copied = Store::open(Path::new(&to)).unwrap();
        let v = copied.verify_audit().unwrap();
        assert!(v.ok() && v.photos == 2, "{:?}", v.problems);
        let data: Vec<u8> = returns_dock::store::sql::SqlExt::one(
            copied.db(),
            "SELECT data FROM pictures WHERE sha256 = ?1",
            &[&shas[0]],
        )
        .unwrap();
        assert_eq!(data, jpeg(1), "the bytes of the file beside the dock's database, in the row");
    }

    /// Found: two copies of one file run at once into one empty database both found it empty;
    /// the second then failed on a duplicate key ("database error: …meta_pkey"). Both are
    /// held at the appenders' lock here: one copies, the other is refused as a second copy
    /// is, naming the dock.
    #[test]
    fn two_copies_at_once_into_one_database_copy_once() {
        let dir = tempfile::tempdir().unwrap();
        a_day(Store::open(&dir.path().join("dock.db")).unwrap(), dir.path());
        let url = super::fresh_database();
        let mut holder = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        holder
            .execute("SELECT pg_advisory_lock($1)", &[&returns_dock::store::chain::AUDIT_LOG_LOCK])
            .unwrap();
        let copies: Vec<_> = (0..2)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
                    .current_dir(dir.path())
                    .args(["db", "copy", "--from", "dock.db", "--to", &url])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let waiting = |c: &mut postgres::Client| -> i64 {
            c.query_one("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", &[])
                .unwrap()
                .get(0)
        };
        let start = std::time::Instant::now();
        while waiting(&mut holder) < 2 {
            assert!(start.elapsed() < std::time::Duration::from_secs(60), "both copies at the lock");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        holder
            .execute("SELECT pg_advisory_unlock($1)", &[&returns_dock::store::chain::AUDIT_LOG_LOCK])
            .unwrap();
        let outs: Vec<_> = copies.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
        let said = |o: &std::process::Output| {
            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
        };
        assert_eq!(
            outs.iter().filter(|o| o.status.success()).count(),
            1,
            "{}",
            said(&outs[0]) + &said(&outs[1])
        );
        let refused = outs.iter().find(|o| !o.status.success()).unwrap();
        assert!(said(refused).contains("already holds the records of dock NORTH"), "{}", said(refused));
        let central = Store::open(Path::new(&url)).unwrap();
        let verdict = central.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
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

    /// Two docks on one database, each exporting and reporting its own: `export --dock`
    /// takes that dock's parcels and marks only them, a batch made again keeps its dock, an
    /// export of every dock afterwards takes only what no dock's export took, and the feedback
    /// sheet of a dock counts its own units. What each step gave, as text, to compare engines.
    fn two_docks(store: Store, dir: &Path, cli_db: &str) -> String {
        let mut d = Day { store, tick: 0, dock: "NORTH" };
        returns_dock::cli::seed_demo_into(&mut d.store).unwrap();
        let mut said = Vec::new();
        let sign = |d: &mut Day, p: i64| {
            let a = d.actor("ST01");
            let shown = d.store.parcel(p).unwrap().discrepancies();
            d.store
                .sign(&a, p, true, &shown, &Policy::default(), returns_dock::store::boxes::Rest::Missing)
                .unwrap()
                .0
                .unwrap();
        };
        let north = d.open("ST01", "RMA-2026-0009");
        d.unit(north, "6901234500059", None, Outcome::Accept);
        sign(&mut d, north);
        d.dock = "SOUTH";
        let south = d.open("ST01", "RMA-2026-0002");
        d.unit(south, "6901234500011", Some("RB5-0000123"), Outcome::Refuse);
        sign(&mut d, south);
        let mut export = |d: &mut Day, name: &str, span: Span, dock: Option<&str>| {
            let opts = ExportOptions {
                format: Format::Csv,
                span,
                excel: false,
                now: d.now(),
                by: None,
                dock: dock.map(String::from),
            };
            match export::export(&mut d.store, &dir.join(name), &opts) {
                Ok(done) => {
                    let bytes = std::fs::read_to_string(dir.join(name)).unwrap();
                    let mut ids: Vec<&str> =
                        bytes.lines().skip(1).filter_map(|l| l.split(',').nth(3)).collect();
                    ids.dedup();
                    said.push(format!("{name}: batch {} parcels {ids:?}", done.batch));
                    (Some(done.batch), ids.iter().map(|s| s.to_string()).collect::<Vec<_>>(), bytes)
                }
                Err(export::ExportError::NothingNew { last }) => {
                    said.push(format!("{name}: nothing new since {last:?}"));
                    (None, Vec::new(), format!("nothing new since {last:?}"))
                }
                Err(e) => panic!("{name}: {e}"),
            }
        };
        let (b1, ids, north_bytes) = export(&mut d, "north.csv", Span::SinceLast, Some("NORTH"));
        assert_eq!(ids, vec![format!("P{north}")], "NORTH's export holds NORTH's parcel only");
        assert!(export(&mut d, "north-again.csv", Span::SinceLast, Some("NORTH")).0.is_none());
        let (_, ids, _) = export(&mut d, "south.csv", Span::SinceLast, Some("SOUTH"));
        assert_eq!(ids, vec![format!("P{south}")], "SOUTH's parcel was left for SOUTH's export");
        // Nothing new at NORTH since NORTH's own batch (not since SOUTH's, the newest).
        let (none, _, why) = export(&mut d, "north-3.csv", Span::SinceLast, Some("NORTH"));
        assert_eq!((none, why), (None, format!("nothing new since {b1:?}")));
        assert!(
            export(&mut d, "every.csv", Span::SinceLast, None).0.is_none(),
            "every dock's export after each dock's: nothing left"
        );
        // A third parcel at NORTH goes in the next export of every dock, and only it.
        d.dock = "NORTH";
        let third = d.open("ST01", "RMA-2026-0011");
        let a = d.actor("ST01");
        d.store.refuse_parcel(&a, third, Reason::OutsidePolicy, None).unwrap().0.unwrap();
        let (_, ids, _) = export(&mut d, "every-2.csv", Span::SinceLast, None);
        assert_eq!(ids, vec![format!("P{third}")]);
        // NORTH's first batch made again: the same bytes, NORTH's parcel only.
        let (_, _, again) = export(&mut d, "b1-again.csv", Span::Batch(b1.unwrap()), None);
        assert_eq!(again, north_bytes);
        // Everything closed at SOUTH, and that batch made again keeps its dock.
        let (all, ids, _) = export(&mut d, "south-all.csv", Span::All, Some("SOUTH"));
        assert_eq!(ids, vec![format!("P{south}")]);
        let (_, ids, _) = export(&mut d, "south-all-again.csv", Span::Batch(all.unwrap()), None);
        assert_eq!(ids, vec![format!("P{south}")], "an --all --dock batch made again is of its dock");
        // Each dock's feedback sheet counts its own units; every dock's counts both.
        let now = d.now();
        let day = now.date_naive();
        for dock in [Some("NORTH"), Some("SOUTH"), None] {
            let f = export::feedback::feedback_at(&mut d.store, day, day, 3, now, dock).unwrap();
            said.push(format!("feedback {dock:?}: {} units, {} signed", f.units, f.parcels_signed));
            let expected = if dock.is_some() { (1, 1) } else { (2, 2) };
            assert_eq!((f.units, f.parcels_signed), expected, "{dock:?}");
            assert_eq!(f.dock.as_deref(), dock);
        }
        let verdict = d.store.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
        drop(d);
        // The same from the command line: the sheet's JSON names its dock; an empty dock and a
        // dock with --batch are refused as usage.
        let run = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
                .current_dir(dir)
                .arg("--db")
                .arg(cli_db)
                .args(args)
                .output()
                .unwrap()
        };
        let out = run(&[
            "report",
            "feedback",
            "--from",
            "2026-11-22",
            "--to",
            "2026-11-22",
            "--format",
            "json",
            "--dock",
            "SOUTH",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let sheet: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((sheet["dock"].as_str(), sheet["units"].as_i64()), (Some("SOUTH"), Some(1)));
        let out = run(&["export", "--dock", " ", "--out", "x.csv"]);
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        let out = run(&["export", "--dock", "NORTH", "--batch", "1", "--out", "x.csv"]);
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        let out = run(&["report", "feedback", "--format", "csv", "--dock", "SOUTH"]);
        let csv = String::from_utf8_lossy(&out.stdout);
        assert!(csv.lines().nth(1) == Some("dock,SOUTH,,,"), "{csv}");
        // The review queue as text names each entry's dock.
        let out = run(&["review", "list", "--dock", "SOUTH"]);
        let listed = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && listed.contains(" · at dock SOUTH]"), "{listed}");
        // A dock no parcel names (a typo, another letter case) is refused, naming the docks
        // there are, by each command that takes one; no batch is recorded.
        let batches = || {
            let store = Store::open(Path::new(cli_db)).unwrap();
            returns_dock::store::sql::SqlExt::one::<i64>(
                store.db(),
                "SELECT count(*) FROM export_batches",
                &[],
            )
            .unwrap()
        };
        let before = batches();
        for args in [
            &["export", "--dock", "NORHT", "--out", "x.csv"][..],
            &["export", "--dock", "north", "--all", "--out", "x.csv"],
            &["report", "feedback", "--dock", "NORHT"],
            &["review", "list", "--dock", "NORHT"],
        ] {
            let out = run(args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                err.contains("no parcel was received at that dock; the docks on record: NORTH, SOUTH"),
                "{err}"
            );
        }
        assert!(!dir.join("x.csv").exists());
        assert_eq!(batches(), before, "no batch recorded");
        said.join("\n")
    }

    /// A central database made before the log carried a parcel's dock (schema 3): opening it
    /// logs each such parcel with its dock, and a parcel edited behind the program before is
    /// still reported by `audit verify`.
    #[test]
    fn a_central_database_from_before_docks_were_logged_is_brought_up_to_date() {
        let url = super::fresh_database();
        let mut d = Day { store: Store::open(Path::new(&url)).unwrap(), tick: 0, dock: "" };
        returns_dock::cli::seed_demo_into(&mut d.store).unwrap();
        let mut parcels = Vec::new();
        for rma in ["RMA-2026-0009", "RMA-2026-0011"] {
            let p = d.open("ST01", rma);
            let a = d.actor("ST01");
            d.store.refuse_parcel(&a, p, Reason::OutsidePolicy, None).unwrap().0.unwrap();
            parcels.push(p);
        }
        drop(d);
        // As schema 3 left it: the dock on the record, not in the logged states.
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "UPDATE parcels SET dock = 'NORTH';
             UPDATE parcels SET note = 'edited behind the program' WHERE id = {};
             ALTER TABLE export_batches DROP COLUMN dock; ALTER TABLE units DROP COLUMN destination; ALTER TABLE unit_steps DROP COLUMN destination; DROP TABLE photos; DROP TABLE pictures; DROP TABLE shipments;
             DROP FUNCTION audit_log_head(BIGINT);
             DROP TABLE manifest_units; DROP TABLE manifests;
             UPDATE returns_dock_meta SET value = '3' WHERE key = 'schema_version';",
            parcels[1]
        ))
        .unwrap();
        let store = Store::open(Path::new(&url)).unwrap();
        let verdict = store.verify_audit().unwrap();
        assert_eq!(verdict.problems.len(), 1, "{:?}", verdict.problems);
        assert!(verdict.problems[0].contains(&format!("P{}", parcels[1])), "{:?}", verdict.problems);
        let logged: String = c
            .query_one(
                "SELECT detail FROM audit_log WHERE subject = $1 AND action = 'parcel' ORDER BY id DESC LIMIT 1",
                &[&format!("P{}", parcels[0])],
            )
            .unwrap()
            .get(0);
        assert!(logged.contains(r#""dock":"NORTH""#), "{logged}");
    }

    /// Stations that connect as a role of their own, given by `db grants --apply`: a dock's
    /// whole day runs as it, and the server itself (not only the triggers) refuses it any change
    /// to the history and to the schema's version.
    #[test]
    fn a_station_role_runs_the_day_but_cannot_rewrite_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let url = super::fresh_database();
        drop(Store::open(Path::new(&url)).unwrap());
        let role = format!("station_{}", url.rsplit('/').next().unwrap());
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("CREATE ROLE {role} LOGIN")).unwrap();
        let run = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock")).args(args).output().unwrap()
        };
        let printed = run(&["db", "grants", "--role", "we\"ird"]);
        let sql = String::from_utf8_lossy(&printed.stdout);
        assert!(
            sql.contains(r#"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, unit_steps FROM "we""ird";"#),
            "{sql}"
        );
        let out = run(&["--db", &url, "db", "grants", "--role", &role, "--apply"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let as_station = url.replacen("returns_dock@", &format!("{role}@"), 1);
        assert_ne!(as_station, url);
        a_day(Store::open(Path::new(&as_station)).unwrap(), dir.path());
        let mut station = postgres::Client::connect(&as_station, postgres::NoTls).unwrap();
        for change in [
            "UPDATE audit_log SET detail = 'rewritten' WHERE id = 1",
            "DELETE FROM unit_steps",
            "TRUNCATE audit_log",
            "UPDATE returns_dock_meta SET value = '99'",
        ] {
            let e = station.batch_execute(change).unwrap_err();
            assert_eq!(e.code(), Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE), "{change}: {e}");
        }
        let verdict = Store::open(Path::new(&url)).unwrap().verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
    }

    /// `audit verify` run while a station works: what the station writes meanwhile (units
    /// scanned and inspected, with their entries) is never taken for an edit behind the program.
    fn verify_while_a_station_works(db: &str) {
        let mut seed = Store::open(Path::new(db)).unwrap();
        returns_dock::cli::seed_demo_into(&mut seed).unwrap();
        let mut d = Day { store: seed, tick: 0, dock: "NORTH" };
        let parcel = d.open("ST01", "RMA-2026-0009");
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..60 {
                    d.unit(parcel, "6901234500059", None, Outcome::Accept);
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            let auditor = Store::open(Path::new(db)).unwrap();
            let mut runs = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || runs == 0 {
                let verdict = auditor.verify_audit().unwrap();
                assert!(verdict.ok(), "run {runs}: {:?}", verdict.problems);
                runs += 1;
            }
            assert!(runs > 1, "the audit ran while the station worked");
        });
    }

    #[test]
    fn audit_verify_while_a_station_works_finds_nothing_wrong_on_both_engines() {
        let dir = tempfile::tempdir().unwrap();
        verify_while_a_station_works(&dir.path().join("dock.db").display().to_string());
        verify_while_a_station_works(&super::fresh_database());
    }

    #[test]
    fn two_docks_export_and_report_each_their_own_on_both_engines() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dock.db");
        let sqlite = two_docks(Store::open(&file).unwrap(), dir.path(), &file.display().to_string());
        let pg_dir = dir.path().join("pg");
        std::fs::create_dir(&pg_dir).unwrap();
        let url = super::fresh_database();
        let central = two_docks(Store::open(Path::new(&url)).unwrap(), &pg_dir, &url);
        assert_eq!(sqlite, central);
    }
}

/// Stations writing at once on a central database, where no single writer lock orders them:
/// the database decides. Three stations on two docks race for the same return again and
/// again, one wins each time and the others are told which station at which dock has it; units scanned at the same moment in different
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
        // Two docks: ST01 and ST02 at NORTH, ST03 at SOUTH.
        let stations = ["ST01", "ST02", "ST03"];
        let dock_of = |station: &str| if station == "ST03" { "SOUTH" } else { "NORTH" };
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
                                dock: dock_of(station).into(),
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
            let winners: Vec<usize> = (0..stations.len()).filter(|s| outcomes[*s].is_ok()).collect();
            assert_eq!(winners.len(), 1, "{rma}: {outcomes:?}");
            // The others are told the winner's station and dock.
            let winner = stations[winners[0]];
            for r in outcomes.iter().filter(|r| r.is_err()) {
                assert!(
                    matches!(r, Err(Refusal::TakenBy(seen))
                        if seen.station == winner && seen.dock.as_deref() == Some(dock_of(winner))),
                    "{rma}: won by {winner}, told {r:?}"
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
                            dock: dock_of(stations[*station]).into(),
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

/// Imports on both engines: the same files give the same report (counts, refusals and
/// warnings, each naming its file and line) and the same stored returns and lines, whether a
/// dock's file writes them a return at a time or a central database a set at a time.
mod imports {
    use chrono::{DateTime, FixedOffset};
    use returns_dock::import::{self, ImportOptions, ImportReport, Source};
    use returns_dock::store::sql::{Cell, SqlExt};
    use returns_dock::store::station::{Actor, ParcelLookup};
    use returns_dock::store::Store;
    use std::path::{Path, PathBuf};

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap()
    }

    /// A time as an instant in UTC: a file keeps the text an import was given, a server its
    /// own form of the same instant.
    fn instant(c: &Cell) -> String {
        match c {
            Cell::Text(t) => DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&chrono::Utc).to_rfc3339())
                .unwrap_or_else(|_| t.clone()),
            other => format!("{other:?}"),
        }
    }

    /// Every return (with the file of the import that last had it) and every line as stored,
    /// sorted, without ids; with the times the imports wrote unless `times` is off.
    pub(super) fn stored(store: &Store, times: bool) -> Vec<String> {
        let cells = |sql: &str, time_columns: &[usize]| -> Vec<String> {
            let mut rows: Vec<String> = store
                .db()
                .map(sql, &[], |r| {
                    let n = sql.split(" FROM ").next().unwrap().matches(',').count() + 1;
                    let mut out = Vec::with_capacity(n);
                    for i in 0..n {
                        let c: Cell = r.get(i)?;
                        out.push(if time_columns.contains(&i) { instant(&c) } else { format!("{c:?}") });
                    }
                    Ok(out.join("|"))
                })
                .unwrap();
            rows.sort();
            rows
        };
        let header = if times {
            "SELECT r.rma_no, r.rma_key, r.order_no, r.order_key, r.tracking_no, r.tracking_key, r.carrier,
                    r.customer, r.phone, r.reason, r.resolution, r.requested_at, r.content_hash, i.file,
                    r.created_at, r.updated_at FROM returns r LEFT JOIN imports i ON i.id = r.import_id"
        } else {
            "SELECT r.rma_no, r.rma_key, r.order_no, r.order_key, r.tracking_no, r.tracking_key, r.carrier,
                    r.customer, r.phone, r.reason, r.resolution, r.requested_at, r.content_hash, i.file
             FROM returns r LEFT JOIN imports i ON i.id = r.import_id"
        };
        let mut out = cells(header, &[11, 14, 15]);
        out.extend(cells(
            "SELECT r.rma_no, l.line_no, l.sku, l.barcode, l.title, l.qty, l.serials, l.unit_value_cents
             FROM return_lines l JOIN returns r ON r.id = l.return_id",
            &[],
        ));
        out
    }

    /// What a user is told: the summary, the details, each refusal and warning (the folder
    /// taken off the files' names), and each file's counts.
    fn said(report: &ImportReport, dir: &Path) -> Vec<String> {
        let prefix = format!("{}/", dir.display());
        let mut out = vec![report.summary()];
        out.extend(report.details());
        out.extend(report.errors.iter().map(|p| format!("error {p}")));
        out.extend(report.warnings.iter().map(|p| format!("warning {p}")));
        for f in &report.files {
            out.push(format!(
                "{}: {} rows, {} created, {} updated, {} unchanged, {} refused ({} rows), {} conflicts",
                f.file, f.rows, f.created, f.updated, f.unchanged, f.refused, f.refused_rows, f.conflicts
            ));
        }
        out.into_iter().map(|l| l.replace(&prefix, "")).collect()
    }

    /// The same dock on a file and on a central database, importing from one folder.
    struct Docks {
        dir: tempfile::TempDir,
        engines: Vec<(&'static str, Store)>,
    }

    impl Docks {
        fn new() -> Docks {
            let dir = tempfile::tempdir().unwrap();
            let file = Store::open(&dir.path().join("dock.db")).unwrap();
            let central = Store::open(Path::new(&super::fresh_database())).unwrap();
            let docks = Docks { dir, engines: vec![("SQLite", file), ("PostgreSQL", central)] };
            let users = docks.file("users.csv", "id,name\nOP1,Op One\n");
            for (_, store) in &docks.engines {
                let mut store = store.reopen().unwrap();
                import::users::import(&mut store, &[Source::File(users.clone())], &ImportOptions::new(now()))
                    .unwrap();
            }
            docks
        }

        fn file(&self, name: &str, body: &str) -> PathBuf {
            let p = self.dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            p
        }

        /// Imports `files` into each engine: what the user is told, the same on both.
        fn import(&mut self, files: &[&Path], skip_invalid: bool) -> Vec<String> {
            let sources: Vec<Source> = files.iter().map(|p| Source::File(p.to_path_buf())).collect();
            let mut opts = ImportOptions::new(now());
            opts.skip_invalid = skip_invalid;
            let dir = self.dir.path().to_path_buf();
            let told: Vec<Vec<String>> = self
                .engines
                .iter_mut()
                .map(|(_, store)| said(&import::returns::import(store, &sources, &opts).unwrap(), &dir))
                .collect();
            assert_eq!(told[0], told[1], "SQLite, then PostgreSQL");
            told[0].clone()
        }

        /// What is stored, the same on both engines.
        fn stored(&self) -> Vec<String> {
            let rows: Vec<Vec<String>> = self.engines.iter().map(|(_, s)| stored(s, true)).collect();
            assert_eq!(rows[0], rows[1], "SQLite, then PostgreSQL");
            rows[0].clone()
        }

        fn count(&self, sql: &str) -> i64 {
            let counts: Vec<i64> = self.engines.iter().map(|(_, s)| s.db().one(sql, &[]).unwrap()).collect();
            assert_eq!(counts[0], counts[1], "{sql}: SQLite, then PostgreSQL");
            counts[0]
        }
    }

    const H: &str = "rma_no,order_no,tracking_no,carrier,customer,phone,reason,resolution,created_at,sku,barcode,title,qty,serials,unit_value\n";

    /// Four returns: one of two lines, one with serials, one whose numbers are not their own
    /// lookup keys, one in another zone.
    fn first() -> String {
        format!(
            "{H}R-1,O-1,SF1234567890123,顺丰速运,张三,13812345678,质量问题,refund,2026-11-20 14:30:00,SKU-A,4006381333931,蓝牙耳机,1,SN-1,199.00\n\
             R-1,O-1,SF1234567890123,顺丰速运,张三,13812345678,质量问题,refund,2026-11-20 14:30:00,SKU-B,,数据线,2,,29.9\n\
             R-2,O-2,SF1234567890123,顺丰速运,张三,,不想要了,exchange,2026-11-20T06:30:00+00:00,SKU-C,,T恤,2,SN-7;SN-8,79\n\
             r-3x,o-3x,yt-7300000000001,圆通速递,李四,,,repair,,SKU-A,,,1,,\n\
             R-4,O-4,,,,,,,2026-11-21T09:15:00-05:00,SKU-D,,,3,,\n"
        )
    }

    #[test]
    fn the_same_files_give_the_same_reports_and_rows_on_both_engines() {
        let mut d = Docks::new();
        let first = d.file("first.csv", &first());
        let told = d.import(&[&first], false);
        assert!(told[0].starts_with("imported 4 returns from 1 file (5 rows): 4 created"), "{told:?}");
        let loaded = d.stored();
        assert_eq!(d.count("SELECT count(*) FROM return_lines"), 5);
        assert_eq!(
            d.count("SELECT count(*) FROM returns WHERE rma_key IS NOT NULL"),
            4,
            "a dash makes a key of its own"
        );

        // Again: nothing changes, not even a time.
        let told = d.import(&[&first], false);
        assert!(told[0].contains("0 created, 0 updated, 4 unchanged, 0 refused"), "{told:?}");
        let again = d.stored();
        let without_file =
            |rows: &[String]| -> Vec<String> { rows.iter().map(|r| r.replace("first.csv", "")).collect() };
        assert_eq!(without_file(&again), without_file(&loaded));

        // R-1 changed (one line left, another quantity), R-2 as it was, R-5 new.
        let changed = d.file(
            "changed.csv",
            &format!(
                "{H}R-1,O-1,SF1234567890123,顺丰速运,张三,13812345678,质量问题,refund,2026-11-20 14:30:00,SKU-B,,数据线,5,,29.9\n\
                 R-2,O-2,SF1234567890123,顺丰速运,张三,,不想要了,exchange,2026-11-20T06:30:00+00:00,SKU-C,,T恤,2,SN-7;SN-8,79\n\
                 R-5,O-5,,,,,,,,SKU-E,,,1,,\n"
            ),
        );
        let told = d.import(&[&changed], false);
        assert!(told[0].contains("1 created, 1 updated, 1 unchanged, 0 refused"), "{told:?}");
        d.stored();
        assert_eq!(
            d.count("SELECT count(*) FROM return_lines l JOIN returns r ON r.id = l.return_id WHERE r.rma_no = 'R-1'"),
            1,
            "R-1's lines replaced"
        );
        assert_eq!(
            d.count(
                "SELECT qty FROM return_lines l JOIN returns r ON r.id = l.return_id WHERE r.rma_no = 'R-1'"
            ),
            5
        );

        // Rows of one RMA apart in a file load as one return; an RMA written in two ways in one
        // file is refused (the rest loads with --skip-invalid).
        let scattered = d.file(
            "scattered.csv",
            &format!("{H}R-6,O-6,,,,,,,,SKU-A,,,1,,\nR-7,O-7,,,,,,,,SKU-B,,,1,,\nR-6,O-6,,,,,,,,SKU-C,,,2,,\nR-8,O-8,,,,,,,,SKU-A,,,1,,\nＲ-8,O-8,,,,,,,,SKU-B,,,1,,\n"),
        );
        let told = d.import(&[&scattered], true);
        assert!(told.iter().any(|l| l.contains("R-8 is written in two ways")), "{told:?}");
        assert!(told[0].contains("3 created, 0 updated, 0 unchanged, 1 refused"), "{told:?}");
        d.stored();
        assert_eq!(
            d.count("SELECT count(*) FROM return_lines l JOIN returns r ON r.id = l.return_id WHERE r.rma_no = 'R-6'"),
            2
        );

        // One RMA in two files of one run: with other content, refused (nothing is written);
        // alike, loaded once.
        let a = d.file("a.csv", &format!("{H}R-9,O-9,,,,,,,,SKU-A,,,1,,\nR-10,O-10,,,,,,,,SKU-A,,,1,,\n"));
        let b = d.file("b.csv", &format!("{H}R-9,O-9,,,,,,,,SKU-B,,,1,,\nR-10,O-10,,,,,,,,SKU-A,,,1,,\n"));
        let told = d.import(&[&a, &b], false);
        assert!(told[0].starts_with("refused, nothing written"), "{told:?}");
        assert!(told.contains(&"error b.csv:2: RMA R-9 is also in a.csv, with other content: one RMA must come from one file".to_string()), "{told:?}");
        assert_eq!(d.count("SELECT count(*) FROM returns WHERE rma_no IN ('R-9', 'R-10')"), 0);
        let told = d.import(&[&a, &b], true);
        assert!(told[0].contains("2 created, 0 updated, 1 unchanged, 1 refused"), "{told:?}");
        d.stored();

        // R-2's parcel arrives at a station; then after-sales sends R-2 again, changed: what was
        // received is kept, and the warning names the parcel and when it came.
        for (_, store) in &mut d.engines {
            let ids = match store.lookup_parcel("ST01", "R-2").unwrap() {
                ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
                other => panic!("{other:?}"),
            };
            let a = Actor { station: "ST01".into(), dock: "NORTH".into(), user: "OP1".into(), now: now() };
            store.open_parcel(&a, "R-2", &ids).unwrap().unwrap();
        }
        let received = d.file(
            "received.csv",
            &format!("{H}R-2,O-2,SF1234567890123,顺丰速运,张三,,不想要了,exchange,2026-11-20T06:30:00+00:00,SKU-Q,,T恤,9,,79\n"),
        );
        let told = d.import(&[&received], false);
        assert!(told[0].contains("0 created, 0 updated, 1 unchanged, 0 refused, 1 conflicts"), "{told:?}");
        assert!(
            told.contains(&"warning received.csv:2: RMA R-2 changed, but its parcel P1 was received at 2026-11-22T02:00:00.000Z: what was received is kept and the change was not applied".to_string()),
            "{told:?}"
        );
        let rows = d.stored();
        assert!(rows.iter().any(|r| r.starts_with("Text(\"R-2\")|Int(1)|Text(\"SKU-C\")")), "{rows:?}");
        assert_eq!(d.count("SELECT count(*) FROM imports WHERE finished_at IS NULL"), 0);
    }

    /// The writer itself, given returns a batch at a time (a set at a time on PostgreSQL, one
    /// by one on SQLite): an RMA twice in one batch is written once and then found seen in
    /// this import; one an earlier file of the run wrote with other content is refused with
    /// that file's name; one the run left alike is unchanged; one from an earlier run, changed,
    /// is updated. The same outcomes, in order, on both engines.
    #[test]
    fn a_batch_is_decided_return_by_return_as_one_return_is() {
        use returns_dock::domain::codes::Resolution;
        use returns_dock::store::imports::{start_run, Chunks};
        use returns_dock::store::returns::ReturnWriter;
        use returns_dock::store::{LineWrite, ReturnWrite, ReturnWritten};
        let ret = |rma: &str, sku: &str| ReturnWrite {
            rma_no: rma.into(),
            order_no: format!("O{rma}"),
            tracking_no: None,
            carrier: None,
            customer: Some("张三".into()),
            phone: None,
            reason: None,
            resolution: Resolution::Refund,
            requested_at: Some("2026-11-20T14:30:00+08:00".into()),
            lines: vec![LineWrite {
                sku: sku.into(),
                barcode: None,
                title: None,
                qty: 1,
                serials: vec![],
                unit_value_cents: Some(100),
            }],
        };
        let d = Docks::new();
        let mut outcomes = Vec::new();
        for (_, store) in &d.engines {
            let chunks = Chunks::new(store).unwrap();
            chunks.begin().unwrap();
            let (old, _) = start_run(&chunks, "returns", &["old.csv".into()], now()).unwrap();
            let mut w = ReturnWriter::new(&chunks, old[0], now()).unwrap();
            let earlier = ret("E1", "A");
            assert_eq!(
                w.write_batch(&[(&earlier, earlier.fingerprint())]).unwrap(),
                [ReturnWritten::Created]
            );
            chunks.commit().unwrap();
            chunks.begin().unwrap();
            let (ids, _) =
                start_run(&chunks, "returns", &["one.csv".into(), "two.csv".into()], now()).unwrap();
            let mut one = ReturnWriter::new(&chunks, ids[0], now()).unwrap().in_run_from(ids[0]);
            let batch = [ret("A1", "A"), ret("B1", "A"), ret("A1", "B"), ret("C1", "A")];
            let pairs: Vec<(&ReturnWrite, i64)> = batch.iter().map(|r| (r, r.fingerprint())).collect();
            let mut got = one.write_batch(&pairs).unwrap();
            let mut two = ReturnWriter::new(&chunks, ids[1], now()).unwrap().in_run_from(ids[0]);
            let batch = [ret("B1", "Z"), ret("C1", "A"), ret("E1", "Z"), ret("D1", "A")];
            let pairs: Vec<(&ReturnWrite, i64)> = batch.iter().map(|r| (r, r.fingerprint())).collect();
            got.extend(two.write_batch(&pairs).unwrap());
            chunks.commit().unwrap();
            outcomes.push(got);
        }
        assert_eq!(outcomes[0], outcomes[1], "SQLite, then PostgreSQL");
        assert_eq!(
            outcomes[0],
            [
                ReturnWritten::Created,
                ReturnWritten::Created,
                ReturnWritten::SeenEarlierInThisImport,
                ReturnWritten::Created,
                ReturnWritten::InEarlierFile { file: "one.csv".into() },
                ReturnWritten::Unchanged,
                ReturnWritten::Updated,
                ReturnWritten::Created,
            ]
        );
        let rows = d.stored();
        assert!(
            rows.contains(&"Text(\"A1\")|Int(1)|Text(\"A\")|Null|Null|Int(1)|Null|Int(100)".to_string()),
            "{rows:?}"
        );
        assert!(
            rows.contains(&"Text(\"E1\")|Int(1)|Text(\"Z\")|Null|Null|Int(1)|Null|Int(100)".to_string()),
            "{rows:?}"
        );
    }

    /// Another writer inserts a return of the set while the set is being written (its row
    /// not yet committed): the set's insert waits for it, leaves it alone, and the return is
    /// then decided against what the other wrote, as a return written alone would be.
    #[test]
    fn a_return_another_writer_inserted_meanwhile_is_decided_against_it() {
        use postgres::{Client, NoTls};
        let url = super::fresh_database();
        let mut store = Store::open(Path::new(&url)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.csv");
        std::fs::write(
            &file,
            format!(
                "{H}R-1,O-1,,,,,,,,SKU-A,,,1,,\nR-2,O-2,,,,,,,,SKU-B,,,2,,\nR-3,O-3,,,,,,,,SKU-C,,,1,,\n"
            ),
        )
        .unwrap();
        let mut other = Client::connect(&url, NoTls).unwrap();
        let mut tx = other.transaction().unwrap();
        tx.batch_execute(
            "INSERT INTO returns (rma_no, order_no, content_hash, created_at, updated_at)
             VALUES ('R-2', 'O-OTHER', 42, now(), now())",
        )
        .unwrap();
        let report = std::thread::scope(|s| {
            let import = s.spawn(|| {
                import::returns::import(&mut store, &[Source::File(file.clone())], &ImportOptions::new(now()))
                    .unwrap()
            });
            // The import waits for the other writer's row.
            let mut watch = Client::connect(&url, NoTls).unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                let waiting: i64 = watch
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                           AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO returns%'",
                        &[],
                    )
                    .unwrap()
                    .get(0);
                if waiting > 0 {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "the import never met the other row");
                assert!(!import.is_finished(), "the import did not wait for the other writer");
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            tx.commit().unwrap();
            import.join().unwrap()
        });
        let f = &report.files[0];
        assert_eq!((f.created, f.updated, f.unchanged, f.refused), (2, 1, 0, 0), "{:?}", report.errors);
        let store = Store::open(Path::new(&url)).unwrap();
        let rows = stored(&store, false);
        assert!(rows.iter().any(|r| r.starts_with("Text(\"R-2\")|Text(\"R2\")|Text(\"O-2\")")), "{rows:?}");
        assert!(
            rows.contains(&"Text(\"R-2\")|Int(1)|Text(\"SKU-B\")|Null|Null|Int(2)|Null|Null".to_string()),
            "{rows:?}"
        );
        assert_eq!(store.db().one::<i64>("SELECT count(*) FROM returns", &[]).unwrap(), 3);
    }

    /// An import killed midway (SIGKILL) committed only whole returns, and running it again
    /// completes it, on each engine: the same returns and lines as an import never interrupted,
    /// and the same on both.
    #[test]
    fn an_import_killed_midway_is_completed_by_running_it_again_on_both_engines() {
        use std::process::{Command, Stdio};
        use std::time::{Duration, Instant};
        const BIN: &str = env!("CARGO_BIN_EXE_returns-dock");
        let dir = tempfile::tempdir().unwrap();
        let dock = |db: &str, args: &[&str]| {
            Command::new(BIN).current_dir(dir.path()).arg("--db").arg(db).args(args).output().unwrap()
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let out = dock("gen.db", &["gen", "--returns", "20000", "--seed", "3", "--out", "g.csv"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        // A count read from outside, as another program would (none while the schema is not there).
        let count = |db: &str, sql: &str| -> Option<i64> {
            if super::central::is_address(db) {
                let mut c = postgres::Client::connect(db, postgres::NoTls).ok()?;
                c.query_one(sql, &[]).ok().map(|r| r.get(0))
            } else {
                let path = dir.path().join(db);
                if !path.exists() {
                    return None;
                }
                let c = rusqlite::Connection::open(path).ok()?;
                c.busy_timeout(Duration::from_secs(10)).ok()?;
                c.query_row(sql, [], |r| r.get(0)).ok()
            }
        };
        let open = |db: &str| {
            let path = if super::central::is_address(db) { PathBuf::from(db) } else { dir.path().join(db) };
            Store::open(&path).unwrap()
        };
        let mut kept = Vec::new();
        for (engine, whole, cut) in [
            ("SQLite", "whole.db".to_string(), "cut.db".to_string()),
            ("PostgreSQL", super::fresh_database(), super::fresh_database()),
        ] {
            let out = dock(&whole, &["import", "returns", "g.csv"]);
            assert!(out.status.success(), "{engine}: {}", text(&out.stderr));
            let mut child = Command::new(BIN)
                .current_dir(dir.path())
                .args(["--db", &cut, "import", "returns", "g.csv"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(120);
            while count(&cut, "SELECT count(*) FROM returns").unwrap_or(0) == 0 {
                assert!(Instant::now() < deadline, "{engine}: the import never wrote");
                std::thread::sleep(Duration::from_millis(5));
            }
            child.kill().unwrap();
            child.wait().unwrap();
            let loaded = count(&cut, "SELECT count(*) FROM returns").unwrap();
            assert!(loaded > 0 && loaded < 20_000, "{engine}: killed midway, {loaded} returns loaded");
            let bare = count(
                &cut,
                "SELECT count(*) FROM returns r WHERE NOT EXISTS (SELECT 1 FROM return_lines l WHERE l.return_id = r.id)",
            );
            assert_eq!(bare, Some(0), "{engine}: only whole returns were committed");
            assert_eq!(count(&cut, "SELECT count(*) FROM imports WHERE finished_at IS NULL"), Some(1));
            let again = dock(&cut, &["import", "returns", "g.csv"]);
            assert!(again.status.success(), "{engine}: {}", text(&again.stderr));
            let summary = text(&again.stdout);
            assert!(
                summary.contains(&format!("{} created, 0 updated, {loaded} unchanged", 20_000 - loaded)),
                "{engine}: {summary}"
            );
            assert!(
                summary.contains("; resumed an import of g.csv interrupted after it started at "),
                "{summary}"
            );
            let rows = stored(&open(&cut), false);
            assert_eq!(
                rows,
                stored(&open(&whole), false),
                "{engine}: the same as an import never interrupted"
            );
            kept.push(rows);
        }
        assert_eq!(kept[0], kept[1], "SQLite, then PostgreSQL");
    }

    /// A station at work on a central database while a large import runs there: every step
    /// it takes (find a parcel, open it, refuse it) goes through, and at no moment does it see a
    /// return without its lines.
    #[test]
    fn a_station_works_on_while_a_large_import_runs() {
        use returns_dock::domain::codes::Reason;
        use std::sync::atomic::{AtomicBool, Ordering};
        let url = super::fresh_database();
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            Source::File(p)
        };
        let opts = ImportOptions::new(now());
        let mut store = Store::open(Path::new(&url)).unwrap();
        import::users::import(&mut store, &[write("users.csv", b"id,name\nOP1,Op One\n")], &opts).unwrap();
        let mut early = H.to_string();
        for i in 1..=60 {
            early.push_str(&format!("S-{i},O-S{i},,,,,,,,SKU-A,,,1,,\n"));
        }
        import::returns::import(&mut store, &[write("early.csv", early.as_bytes())], &opts).unwrap();
        let (mut big, mut catalog) = (Vec::new(), Vec::new());
        let gen = returns_dock::gen::GenOptions { returns: 20_000, seed: 5, max_lines: None };
        returns_dock::gen::generate(&gen, &mut big, &mut catalog).unwrap();
        let big = write("big.csv", &big);
        let done = AtomicBool::new(false);
        let (report, steps) = std::thread::scope(|s| {
            let import = s.spawn(|| {
                let r = import::returns::import(&mut store, &[big], &opts);
                done.store(true, Ordering::Release);
                r.unwrap()
            });
            let mut station = Store::open(Path::new(&url)).unwrap();
            let a = Actor { station: "ST01".into(), dock: "NORTH".into(), user: "OP1".into(), now: now() };
            let mut steps = 0;
            for i in 1..=60 {
                if done.load(Ordering::Acquire) {
                    break;
                }
                let rma = format!("S-{i}");
                let ids = match station.lookup_parcel("ST01", &rma).unwrap() {
                    ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
                    other => panic!("{rma}: {other:?}"),
                };
                let parcel = station.open_parcel(&a, &rma, &ids).unwrap().unwrap().id;
                station.refuse_parcel(&a, parcel, Reason::OutsidePolicy, None).unwrap().0.unwrap();
                let bare: i64 = station
                    .db()
                    .one(
                        "SELECT count(*) FROM returns r
                         WHERE NOT EXISTS (SELECT 1 FROM return_lines l WHERE l.return_id = r.id)",
                        &[],
                    )
                    .unwrap();
                assert_eq!(bare, 0, "a return seen without its lines");
                steps += 1;
            }
            (import.join().unwrap(), steps)
        });
        assert!(report.committed && report.errors.is_empty(), "{:?}", report.errors.first());
        assert_eq!(report.files[0].created, 20_000);
        assert!(steps >= 5, "the station worked while the import ran: {steps} steps");
        let refused: i64 = Store::open(Path::new(&url))
            .unwrap()
            .db()
            .one("SELECT count(*) FROM parcels WHERE state = 'refused'", &[])
            .unwrap();
        assert_eq!(refused, steps, "every step the station took was kept");
    }

    /// The catalog on both engines (a product a time on a file, a set at a time on a server):
    /// the same reports and the same products and barcodes, through a load, the same file
    /// again, changes (a barcode dropped from the file is kept), a barcode another product has
    /// in the database or in an earlier file of the run, and a file that repeats itself.
    #[test]
    fn the_same_catalogs_give_the_same_reports_and_products_on_both_engines() {
        let mut d = Docks::new();
        let catalog = |d: &mut Docks, files: &[(&str, &str)], skip_invalid: bool| -> Vec<String> {
            let sources: Vec<Source> =
                files.iter().map(|(name, body)| Source::File(d.file(name, body))).collect();
            let mut opts = ImportOptions::new(now());
            opts.skip_invalid = skip_invalid;
            let dir = d.dir.path().to_path_buf();
            let told: Vec<Vec<String>> = d
                .engines
                .iter_mut()
                .map(|(_, store)| said(&import::catalog::import(store, &sources, &opts).unwrap(), &dir))
                .collect();
            assert_eq!(told[0], told[1], "SQLite, then PostgreSQL");
            let rows: Vec<Vec<String>> = d
                .engines
                .iter()
                .map(|(_, s)| {
                    let mut rows = s
                        .db()
                        .map(
                            "SELECT p.sku, p.name, p.serialised, p.supplier, p.unit_value_cents, p.boxes, p.updated_at,
                                    b.code FROM products p LEFT JOIN product_barcodes b ON b.sku = p.sku",
                            &[],
                            |r| {
                                let cells: Vec<String> = (0..8)
                                    .map(|i| r.get::<Cell>(i).map(|c| if i == 6 { instant(&c) } else { format!("{c:?}") }))
                                    .collect::<Result<_, _>>()?;
                                Ok(cells.join("|"))
                            },
                        )
                        .unwrap();
                    rows.sort();
                    rows
                })
                .collect();
            assert_eq!(rows[0], rows[1], "SQLite, then PostgreSQL");
            told[0].clone()
        };
        let first = "sku,name,barcodes,serialised,supplier,unit_value,boxes\n\
                     S1,耳机,6901234500011;4006381333931,yes,Acme,199.00,1\n\
                     S2,Cable,,no,,9.9,1\n\
                     S3,Sofa,X-SOFA-1,no,Home,999,3\n";
        let told = catalog(&mut d, &[("cat.csv", first)], false);
        assert!(told[0].contains("3 created, 0 updated, 0 unchanged, 0 refused"), "{told:?}");
        let told = catalog(&mut d, &[("cat.csv", first)], false);
        assert!(told[0].contains("0 created, 0 updated, 3 unchanged, 0 refused"), "{told:?}");
        // S1 renamed and with one barcode less (kept), S2 given a barcode, S4 new; S5 takes S1's
        // barcode and S6 is listed twice (refused, the rest loads with --skip-invalid).
        let second = "sku,name,barcodes,serialised,supplier,unit_value,boxes\n\
                      S1,Earphones,6901234500011,yes,Acme,199.00,1\n\
                      S2,Cable,X-CABLE,no,,9.9,1\n\
                      S4,Lamp,X-LAMP,no,,20,1\n\
                      S5,Fake,4006381333931,no,,1,1\n\
                      S6,Six,,no,,1,1\n\
                      S6,Six again,,no,,1,1\n";
        let told = catalog(&mut d, &[("second.csv", second)], true);
        assert!(told[0].contains("2 created, 2 updated, 0 unchanged, 2 refused"), "{told:?}");
        assert!(
            told.contains(
                &"error second.csv:5: barcode 04006381333931 already belongs to SKU S1".to_string()
            ),
            "{told:?}"
        );
        assert!(
            told.contains(&"error second.csv:7: SKU S6 is listed twice (first on line 6)".to_string()),
            "{told:?}"
        );
        assert_eq!(
            d.count("SELECT count(*) FROM product_barcodes WHERE sku = 'S1'"),
            2,
            "the dropped barcode is kept"
        );
        // Two files of one run: the second gives a barcode of the first to another SKU.
        let a = "sku,name,barcodes\nS7,Seven,X-SEVEN\n";
        let b = "sku,name,barcodes\nS8,Eight,X-SEVEN\nS9,Nine,X-NINE\n";
        let told = catalog(&mut d, &[("a.csv", a), ("b.csv", b)], false);
        assert!(
            told.contains(&"error b.csv:2: barcode X-SEVEN already belongs to SKU S7".to_string()),
            "{told:?}"
        );
        assert!(told[0].starts_with("refused, nothing written"), "{told:?}");
        let told = catalog(&mut d, &[("a.csv", a), ("b.csv", b)], true);
        assert!(told[0].contains("2 created, 0 updated, 0 unchanged, 1 refused"), "{told:?}");
        assert_eq!(d.count("SELECT count(*) FROM products"), 7, "S1 to S4, S6, S7 and S9");
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
