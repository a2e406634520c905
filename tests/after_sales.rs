//! What leaves the dock for after-sales: the export, its batches, and what it must never carry.

use chrono::{DateTime, Duration, FixedOffset};
use returns_dock::domain::codes::{Cause, Grade, Outcome, Reason};
use returns_dock::export::{self, ExportOptions, Format, Span, COLUMNS};
use returns_dock::store::station::{self as st, Actor, Inspection, NewUnit, ParcelLookup};
use returns_dock::store::Store;
use std::path::{Path, PathBuf};

struct Dock {
    dir: tempfile::TempDir,
    db: PathBuf,
    store: Store,
    tick: i64,
}

impl Dock {
    fn new() -> Dock {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("dock.db");
        returns_dock::cli::seed_demo(&db).unwrap_or_else(|_| panic!("demo data loads"));
        let store = Store::open(&db).unwrap();
        Dock { dir, db, store, tick: 0 }
    }

    fn now(&mut self) -> DateTime<FixedOffset> {
        self.tick += 1;
        DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap() + Duration::seconds(self.tick)
    }

    fn actor(&mut self) -> Actor {
        Actor { station: "ST01".into(), dock: String::new(), user: "DEMO".into(), now: self.now() }
    }

    fn open(&mut self, scan: &str) -> i64 {
        let ids = match st::lookup_parcel(self.store.conn(), "ST01", scan).unwrap() {
            ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let a = self.actor();
        st::open_parcel(self.store.conn_mut(), &a, scan, &ids).unwrap().unwrap()
    }

    /// Scans a unit and records its inspection.
    fn unit(
        &mut self,
        parcel: i64,
        code: &str,
        serial: Option<&str>,
        outcome: Outcome,
        reason: Option<Reason>,
        note: Option<&str>,
    ) -> i64 {
        let sku = st::find_product(self.store.conn(), code).unwrap().map(|p| p.sku);
        let a = self.actor();
        let u = NewUnit { scan: code.into(), sku, serial: serial.map(String::from), ..NewUnit::default() };
        let (id, _) = st::record_unit(self.store.conn_mut(), &a, parcel, &u).unwrap().unwrap();
        let a = self.actor();
        let i = Inspection {
            outcome,
            grade: Some(Grade::A),
            reason,
            cause: Cause::ChangedMind,
            note: note.map(String::from),
            cause_chosen: true,
        };
        st::inspect_unit(self.store.conn_mut(), &a, id, &i).unwrap().unwrap();
        id
    }

    fn sign(&mut self, parcel: i64) {
        let a = self.actor();
        st::sign_parcel(self.store.conn_mut(), &a, parcel, true).unwrap().unwrap();
    }

    fn export(
        &mut self,
        name: &str,
        format: Format,
        span: Span,
        excel: bool,
    ) -> (export::ExportDone, PathBuf) {
        let out = self.dir.path().join(name);
        let opts = ExportOptions { format, span, excel, now: self.now(), by: None, dock: None };
        let done = export::export(&mut self.store, &out, &opts).unwrap();
        (done, out)
    }
}

/// The real binary on the dock's database in `dir`, without a PIN in the environment.
fn command(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
        .current_dir(dir)
        .env_remove("RETURNS_DOCK_PIN")
        .args(["--db", "dock.db"])
        .args(args)
        .output()
        .unwrap()
}

fn read_csv(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS.to_vec());
    r.records().map(Result::unwrap).collect()
}

fn col(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).unwrap()
}

/// A parcel with everything that can go wrong: one unit fine, one with a stranger's serial,
/// one that is not on the RMA, and one expected unit missing.
fn troubled_parcel(d: &mut Dock) -> i64 {
    let p = d.open("RMA-2026-0002"); // 2 x SKU-1001 (serialised), 1 x SKU-1003
    d.unit(p, "6901234500011", Some("RB5-0000123"), Outcome::Accept, None, None);
    d.unit(
        p,
        "6901234500011",
        Some("RB5-FAKE999"),
        Outcome::Refuse,
        Some(Reason::SerialMismatch),
        Some("=HYPERLINK(\"http://x\")"),
    );
    d.unit(p, "6901234500172", None, Outcome::Refuse, Some(Reason::WrongItem), None);
    d.sign(p);
    p
}

#[test]
fn rows_of_a_troubled_parcel_match_a_hand_count() {
    let mut d = Dock::new();
    troubled_parcel(&mut d);
    let (done, path) = d.export("x.csv", Format::Csv, Span::SinceLast, false);
    assert_eq!((done.rows, done.parcels), (4, 1));
    let rows = read_csv(&path);
    let summary: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[col("sku")].to_string(),
                r[col("outcome")].to_string(),
                r[col("discrepancy")].to_string(),
                r[col("unit_value")].to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("SKU-1001".into(), "accept".into(), "".into(), "199.00".into()),
            ("SKU-1001".into(), "refuse".into(), "serial_mismatch".into(), "199.00".into()),
            ("SKU-1017".into(), "refuse".into(), "wrong_item".into(), "".into()),
            ("SKU-1003".into(), "missing".into(), "missing".into(), "29.00".into()),
        ]
    );
    for r in &rows {
        assert_eq!(&r[col("rma_no")], "RMA-2026-0002");
        assert_eq!(&r[col("review")], "pending", "refusals and the flagged parcel await the supervisor");
        assert!(r[col("signed_at")].ends_with("+08:00"), "times carry their offset");
    }
    assert_eq!(&rows[3][col("unit_id")], "", "a missing unit has no label");
    assert!(rows[0][col("unit_id")].starts_with('U'));
    assert_eq!(&rows[1][col("serial")], "RB5-FAKE999");
    // The note that looks like a formula is neutralised; no phone number, no customer name.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.contains("13912345678") && !text.contains("陈志强"), "{text}");
    assert!(!d.dir.path().join("x.csv.partial").exists());
}

#[test]
fn batches_never_repeat_or_skip_and_a_later_decision_comes_in_the_next() {
    let mut d = Dock::new();
    let a = d.open("RMA-2026-0009");
    d.unit(a, "6901234500059", None, Outcome::Accept, None, None);
    d.sign(a);
    let (b1, p1) = d.export("b1.csv", Format::Csv, Span::SinceLast, false);
    let b = troubled_parcel(&mut d);
    let (b2, p2) = d.export("b2.csv", Format::Csv, Span::SinceLast, false);
    // Nothing since batch 2: no file and no batch.
    let nothing = |d: &mut Dock, name: &str| {
        let out = d.dir.path().join(name);
        let opts = ExportOptions {
            format: Format::Csv,
            span: Span::SinceLast,
            excel: false,
            now: d.now(),
            by: None,
            dock: None,
        };
        let err = export::export(&mut d.store, &out, &opts).unwrap_err();
        assert!(!out.exists(), "{name} not written");
        err
    };
    let err = nothing(&mut d, "b3.csv");
    assert!(matches!(err, export::ExportError::NothingNew { last: Some(2) }), "{err:?}");
    assert_eq!(err.to_string(), "nothing new since batch 2");
    let c = d.open("RMA-2026-0011");
    d.unit(c, "0194000001232", None, Outcome::Accept, None, None);
    d.sign(c);
    let (b4, p4) = d.export("b4.csv", Format::Csv, Span::SinceLast, false);
    assert_eq!((b1.rows, b2.rows, b4.rows), (1, 4, 1));
    assert_eq!((b1.batch, b2.batch, b4.batch), (1, 2, 3), "the next change is the next batch");
    let ids = |p: &Path| read_csv(p).iter().map(|r| r[col("parcel_id")].to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&p1), vec![format!("P{a}")]);
    assert!(ids(&p2).iter().all(|x| x == &format!("P{b}")));
    assert_eq!(ids(&p4), vec![format!("P{c}")]);

    // The supervisor confirms the refusal of the swapped unit after it was exported: the
    // next export carries the parcel again, with the decision.
    let now = d.now();
    let conn = d.store.conn();
    let audit = returns_dock::store::audit(conn, now, None, Some("SUP1"), "review", None, None).unwrap();
    conn.execute(
        "UPDATE reviews SET decision = 'confirmed', decided_by = 'SUP1', decided_at = ?1, comment = 'swap confirmed',
            decided_audit_id = ?2 WHERE kind = 'refused_unit' AND parcel_id = ?3
            AND unit_id = (SELECT id FROM units WHERE serial = 'RB5-FAKE999')",
        rusqlite::params![returns_dock::store::timestamp(now), audit, b],
    )
    .unwrap();
    let (b5, p5) = d.export("b5.csv", Format::Csv, Span::SinceLast, false);
    assert_eq!(b5.parcels, 1);
    let rows = read_csv(&p5);
    let decided = rows.iter().find(|r| &r[col("serial")] == "RB5-FAKE999").unwrap();
    assert_eq!(
        (&decided[col("review")], &decided[col("reviewed_by")], &decided[col("review_comment")]),
        ("confirmed", "SUP1", "swap confirmed")
    );

    // A lost file comes back: batch 2 again, the same rows.
    let (again, p2b) = d.export("b2-again.csv", Format::Csv, Span::Batch(b2.batch), false);
    assert_eq!((again.batch, again.rows), (b2.batch, 4));
    assert_eq!(ids(&p2b), ids(&p2));
    // --all takes everything and does not move the incremental window.
    let (all, _) = d.export("all.csv", Format::Csv, Span::All, false);
    assert_eq!(all.rows, 6);
    let err = nothing(&mut d, "b6.csv");
    assert!(matches!(err, export::ExportError::NothingNew { last: Some(n) } if n == b5.batch), "{err:?}");
}

#[test]
fn json_and_excel_forms() {
    let mut d = Dock::new();
    troubled_parcel(&mut d);
    let (_, path) = d.export("x.json", Format::Json, Span::All, false);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["unit_value"], "199.00", "amounts as text with two decimals");
    assert_eq!(rows[3]["outcome"], "missing");
    assert_eq!(rows[0].as_object().unwrap().keys().cloned().collect::<Vec<_>>(), COLUMNS.to_vec());
    let (_, path) = d.export("x-excel.csv", Format::Csv, Span::All, true);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFrma_no,order_no"), "BOM, then the header");
    assert!(String::from_utf8_lossy(&bytes).contains("小米 Redmi Buds 5"), "Chinese intact");
}

#[test]
fn a_failed_write_leaves_no_file_and_no_batch() {
    let mut d = Dock::new();
    troubled_parcel(&mut d);
    let out = d.dir.path().join("no-such-dir").join("x.csv");
    let opts = ExportOptions {
        format: Format::Csv,
        span: Span::SinceLast,
        excel: false,
        now: d.now(),
        by: None,
        dock: None,
    };
    let err = export::export(&mut d.store, &out, &opts).unwrap_err();
    assert!(err.to_string().contains("cannot write the export"), "{err}");
    let batches: i64 =
        d.store.conn().query_row("SELECT count(*) FROM export_batches", [], |r| r.get(0)).unwrap();
    assert_eq!(batches, 0);
    let (done, _) = d.export("x.csv", Format::Csv, Span::SinceLast, false);
    assert_eq!(done.rows, 4, "the rows come in the next export");
}

#[test]
fn the_command_line_export() {
    let mut d = Dock::new();
    troubled_parcel(&mut d);
    drop(d.store);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
        .current_dir(d.dir.path())
        .args(["--db", "dock.db", "export", "--excel", "--out", "after-sales.csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("exported 4 rows from 1 parcels as batch 1 to after-sales.csv")
    );
    assert!(std::fs::read(d.dir.path().join("after-sales.csv")).unwrap().starts_with(b"\xEF\xBB\xBF"));
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
        .current_dir(d.dir.path())
        .args(["--db", "dock.db", "export", "--batch", "7"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no export batch 7"));
}

/// Default export names carry the batch, so two exports in one minute never share a file; an
/// export with nothing new writes nothing and records nothing, and the next change is the next
/// batch; `--all` and a batch made again still write.
#[test]
fn default_names_by_batch_and_nothing_new_writes_nothing() {
    let mut d = Dock::new();
    let files = |d: &Dock| {
        let mut names: Vec<String> = std::fs::read_dir(d.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with("returns-export-"))
            .collect();
        names.sort();
        names
    };
    let said = |out: &std::process::Output| {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let batches = |d: &Dock| -> i64 {
        d.store.conn().query_row("SELECT count(*) FROM export_batches", [], |r| r.get(0)).unwrap()
    };
    // Never a batch, nothing signed: nothing to export yet.
    assert_eq!(said(&command(d.dir.path(), &["export"])), "nothing to export yet: no file written");
    assert!(files(&d).is_empty());
    troubled_parcel(&mut d);
    let first = said(&command(d.dir.path(), &["export"]));
    let p = d.open("RMA-2026-0009");
    d.unit(p, "6901234500059", None, Outcome::Accept, None, None);
    d.sign(p);
    let second = said(&command(d.dir.path(), &["export"]));
    let names = files(&d);
    assert_eq!(names.len(), 2, "two files, whatever the minute: {names:?}");
    assert!(names[0].starts_with("returns-export-b0001-") && names[1].starts_with("returns-export-b0002-"));
    assert!(first.ends_with(&format!("as batch 1 to {}", names[0])), "{first}");
    assert!(
        second.starts_with("exported 1 rows from 1 parcels as batch 2 to returns-export-b0002-"),
        "{second}"
    );
    let shape = names[0].strip_prefix("returns-export-b0001-").unwrap();
    assert!(shape.len() == "20261201-1546.csv".len() && shape.ends_with(".csv"), "{shape}");
    // Nothing since batch 2: no file, no batch, exit 0.
    assert_eq!(said(&command(d.dir.path(), &["export"])), "nothing new since batch 2: no file written");
    assert_eq!(files(&d), names);
    assert_eq!(batches(&d), 2);
    // The next real change is batch 3, and only it.
    let p3 = d.open("RMA-2026-0011");
    d.unit(p3, "0194000001232", None, Outcome::Accept, None, None);
    d.sign(p3);
    let third = said(&command(d.dir.path(), &["export", "--format", "json"]));
    assert!(
        third.starts_with("exported 1 rows from 1 parcels as batch 3 to returns-export-b0003-"),
        "{third}"
    );
    let json = files(&d).into_iter().find(|n| n.starts_with("returns-export-b0003-")).unwrap();
    assert!(json.ends_with(".json"));
    let rows: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.dir.path().join(&json)).unwrap()).unwrap();
    assert_eq!(rows[0]["parcel_id"], format!("P{p3}"));
    // Everything, and batch 2 again: both write, each its own file.
    assert!(
        said(&command(d.dir.path(), &["export", "--all"])).contains("as batch 4 to returns-export-b0004-")
    );
    assert!(said(&command(d.dir.path(), &["export", "--batch", "2"]))
        .contains("as batch 2 to returns-export-b0002-"));
    assert!(said(&command(d.dir.path(), &["export", "--batch", "2"]))
        .contains("as batch 2 to returns-export-b0002-"));
    assert_eq!(files(&d).len(), 6, "{:?}", files(&d));
    assert_eq!(said(&command(d.dir.path(), &["export"])), "nothing new since batch 3: no file written");
    assert_eq!(batches(&d), 4);
}

mod review {
    use super::*;
    use returns_dock::store::auth::{self, PinRefusal, PinRules, Proven};
    use returns_dock::store::review::{self as rv, Decision, ReviewRefusal, Supervisor};

    /// The demo supervisor proven by PIN at ST01, or why not.
    fn prove(d: &mut Dock, id: &str, pin: &str) -> Result<Proven, PinRefusal> {
        let now = d.now();
        auth::check_pin(d.store.conn_mut(), id, pin, Some("ST01"), now, &PinRules::default()).unwrap()
    }

    fn kinds(d: &Dock) -> Vec<String> {
        rv::open_reviews(d.store.conn())
            .unwrap()
            .iter()
            .map(|i| returns_dock::domain::codes::Coded::code(i.kind).to_string())
            .collect()
    }

    #[test]
    fn every_kind_enters_the_queue_and_leaves_it_when_decided() {
        let mut d = Dock::new();
        troubled_parcel(&mut d); // two refused units, signed with discrepancies
        let p = d.open("RMA-2026-0009");
        let a = d.actor();
        st::refuse_parcel(d.store.conn_mut(), &a, p, Reason::OutsidePolicy, None).unwrap().unwrap();
        let a = d.actor();
        let u = st::open_parcel(d.store.conn_mut(), &a, "YT0000000000001", &[]).unwrap().unwrap();
        d.unit(u, "6901234500059", None, Outcome::Accept, None, None);
        d.sign(u);
        assert_eq!(
            kinds(&d),
            vec!["refused_unit", "refused_unit", "discrepancy", "refused_parcel", "unidentified"]
        );
        let items = rv::open_reviews(d.store.conn()).unwrap();
        let swapped = items.iter().find(|i| i.serial.as_deref() == Some("RB5-FAKE999")).unwrap();
        assert_eq!(
            (swapped.reason.as_deref(), swapped.discrepancy.as_deref()),
            (Some("SERIAL-MISMATCH"), Some("serial_mismatch"))
        );
        assert_eq!(swapped.customer_reason.as_deref(), Some("七天无理由退换货"));
        let now = d.now();
        let who = prove(&mut d, "SUP1", "2468").unwrap();
        let sup = Supervisor { who: &who, station: Some("ST01") };
        for i in &items {
            let r = if i.kind == returns_dock::domain::codes::ReviewKind::Unidentified {
                // A return received in another parcel is not linked to this one.
                let twice = rv::link(d.store.conn_mut(), sup, i.id, "RMA-2026-0009", now).unwrap();
                assert_eq!(twice, Err(rv::ReviewRefusal::ReturnReceived("RMA-2026-0009".into(), p)));
                rv::link(d.store.conn_mut(), sup, i.id, "268800000000031", now).unwrap()
            } else {
                rv::decide(d.store.conn_mut(), sup, i.id, &Decision::Confirm, None, now).unwrap()
            };
            assert_eq!(r, Ok(()), "{i:?}");
        }
        assert!(kinds(&d).is_empty());
        // The linked parcel's unit sits on the return's line as if scanned in its parcel.
        let (line, flag, value): (Option<i64>, Option<String>, Option<i64>) = d
            .store
            .conn()
            .query_row(
                "SELECT line_no, discrepancy, unit_value_cents FROM units WHERE parcel_id = ?1",
                [u],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((line, flag, value), (Some(1), None, Some(7900)));
        let decided: i64 = d
            .store
            .conn()
            .query_row(
                "SELECT count(*) FROM audit_log WHERE action IN ('review', 'link_parcel') AND actor = 'SUP1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(decided, 5);
    }

    #[test]
    fn only_a_supervisor_with_the_right_pin_decides_and_overturning_needs_a_comment() {
        let mut d = Dock::new();
        troubled_parcel(&mut d);
        let id = rv::open_reviews(d.store.conn()).unwrap()[0].id;
        let now = d.now();
        assert_eq!(prove(&mut d, "DEMO", "2468"), Err(PinRefusal::NotSupervisor("DEMO".into())));
        assert_eq!(prove(&mut d, "SUP1", "1111"), Err(PinRefusal::Wrong { id: "SUP1".into(), left: 4 }));
        let who = prove(&mut d, "SUP1", "2468").unwrap();
        let sup = Supervisor { who: &who, station: Some("ST01") };
        let overturn = Decision::Overturn { outcome: Outcome::Accept, grade: Some(Grade::A) };
        assert_eq!(
            rv::decide(d.store.conn_mut(), sup, id, &overturn, Some("  "), now).unwrap(),
            Err(ReviewRefusal::CommentRequired)
        );
        assert_eq!(kinds(&d).len(), 3, "nothing decided");
        assert_eq!(
            rv::decide(d.store.conn_mut(), sup, id, &overturn, Some("serial was on the box"), now).unwrap(),
            Ok(())
        );
        assert_eq!(
            rv::decide(d.store.conn_mut(), sup, id, &Decision::Confirm, None, now).unwrap(),
            Err(ReviewRefusal::AlreadyDecided(id))
        );
        // The export shows the unit with its new outcome.
        let (_, path) = d.export("x.csv", Format::Csv, Span::All, false);
        let rows = read_csv(&path);
        let row = rows.iter().find(|r| &r[col("review")] == "overturned").unwrap();
        assert_eq!(
            (&row[col("outcome")], &row[col("review_comment")], &row[col("reviewed_by")]),
            ("accept", "serial was on the box", "SUP1")
        );
    }

    #[test]
    fn the_list_names_what_is_missing_what_was_found_instead_and_the_notes() {
        let mut d = Dock::new();
        troubled_parcel(&mut d);
        let a = d.actor();
        let stranger = st::open_parcel(d.store.conn_mut(), &a, "YT0000000000001", &[]).unwrap().unwrap();
        d.unit(stranger, "6901234500059", None, Outcome::Accept, None, Some("no paperwork in the box"));
        d.sign(stranger);
        let items = rv::open_reviews(d.store.conn()).unwrap();
        let unknown =
            items.iter().find(|i| i.kind == returns_dock::domain::codes::ReviewKind::Unidentified).unwrap();
        let units: Vec<(Option<&str>, Option<&str>)> =
            unknown.details.units.iter().map(|u| (u.sku.as_deref(), u.note.as_deref())).collect();
        assert_eq!(units.len(), 1);
        assert_eq!(units[0].1, Some("no paperwork in the box"), "{units:?}");
        let unknown_sku = units[0].0.unwrap().to_string();
        let flagged =
            items.iter().find(|i| i.kind == returns_dock::domain::codes::ReviewKind::Discrepancy).unwrap();
        let details = &flagged.details;
        assert_eq!(details, &rv::review_details(d.store.conn(), flagged.parcel_id).unwrap());
        let missing: Vec<(&str, i64, Option<i64>)> =
            details.missing.iter().map(|m| (m.sku.as_str(), m.qty, m.value_cents)).collect();
        assert_eq!(missing, [("SKU-1003", 1, Some(2900))]);
        let swapped =
            details.units.iter().find(|u| u.discrepancy.as_deref() == Some("serial_mismatch")).unwrap();
        assert_eq!(swapped.serial.as_deref(), Some("RB5-FAKE999"));
        assert!(!swapped.expected_serials.is_empty(), "the serial the RMA expected: {swapped:?}");
        assert!(!swapped.expected_serials.contains(&"RB5-0000123".to_string()), "that one came");
        assert_eq!(
            (details.units.len(), details.received_cents, details.missing_cents),
            (3, 39800 + details.units[2].value_cents.unwrap_or(0), 2900)
        );
        drop(d.store);
        let text = String::from_utf8(command(d.dir.path(), &["review", "list"]).stdout).unwrap();
        let expected = swapped.expected_serials[0].clone();
        for part in [
            "missing: 1 x SKU-1003",
            "serial RB5-FAKE999 [serial mismatch]",
            &format!("expected serial {expected}"),
            "[wrong item]",
            "note \"=HYPERLINK",
            "199.00",
            "value: ",
            &unknown_sku,
            "note \"no paperwork in the box\"",
        ] {
            assert!(text.contains(part), "{part} in:\n{text}");
        }
        let json = command(d.dir.path(), &["review", "list", "--format", "json"]).stdout;
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let entry = json.as_array().unwrap().iter().find(|e| e["kind"] == "discrepancy").unwrap();
        assert_eq!(entry["details"]["missing"][0]["sku"], "SKU-1003");
        assert_eq!(entry["details"]["missing_cents"], 2900);
        assert_eq!(entry["rmas"], "RMA-2026-0002", "the fields there were keep their names");
    }

    /// Codes of files and of the English forms, which Chinese output must say in words.
    const CODES: [&str; 12] = [
        "refused_unit",
        "refused_parcel",
        "unidentified",
        "discrepancy",
        "serial_mismatch",
        "wrong_item",
        "SERIAL-MISMATCH",
        "WRONG-ITEM",
        " refuse",
        " accept",
        "reviews waiting",
        "missing",
    ];

    #[test]
    fn in_chinese_the_queue_decisions_export_sheet_and_log_check_are_words() {
        let mut d = Dock::new();
        troubled_parcel(&mut d);
        drop(d.store);
        let zh = |args: &[&str]| {
            let out = command(d.dir.path(), &[&["--lang", "zh"], args].concat());
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        };
        let list = zh(&["review", "list"]);
        for words in [
            "拒收商品",
            "签收有差异",
            "序列号不符",
            "缺少：1 件 SKU-1003",
            "应为序列号",
            "良品入库",
            "共 3 项待复核",
        ] {
            assert!(list.contains(words), "{words} in:\n{list}");
        }
        for code in CODES {
            assert!(!list.contains(code), "{code} in:\n{list}");
        }
        let first = list.split_whitespace().next().unwrap().to_string();
        let decided = zh(&["review", "decide", &first, "confirm", "--by", "SUP1", "--pin", "2468"]);
        assert_eq!(decided.trim(), format!("复核 {first}：SUP1 已确认"));
        let exported = zh(&["export", "--out", "x.csv"]);
        assert!(exported.starts_with("已导出 4 行（1 个包裹），批次 1"), "{exported}");
        let csv = std::fs::read_to_string(d.dir.path().join("x.csv")).unwrap();
        assert!(csv.contains(",refuse,") && csv.contains("serial_mismatch"), "the file keeps its codes");
        let verified = zh(&["audit", "verify"]);
        assert!(verified.starts_with("审计日志完好"), "{verified}");
        let sheet = zh(&["report", "feedback", "--from", "2026-11-16", "--to", "2026-11-22"]);
        for words in ["售后反馈 2026-11-16 至 2026-11-22", "按原因", "买家不想要了", "处理时长"]
        {
            assert!(sheet.contains(words), "{words} in:\n{sheet}");
        }
        assert!(!sheet.contains("CHANGED-MIND") && !sheet.contains("By cause"), "{sheet}");
        let csv =
            zh(&["report", "feedback", "--from", "2026-11-16", "--to", "2026-11-22", "--format", "csv"]);
        assert!(csv.starts_with("section,code,label,count,share\n"), "{csv}");
        assert!(csv.contains("cause,CHANGED-MIND,买家不想要了,"), "codes stay, labels in Chinese: {csv}");
        // English stays as scripts have read it.
        let en = String::from_utf8(
            command(
                d.dir.path(),
                &["report", "feedback", "--from", "2026-11-16", "--to", "2026-11-22", "--format", "csv"],
            )
            .stdout,
        )
        .unwrap();
        assert!(en.contains("cause,CHANGED-MIND,Customer changed mind,"), "{en}");
    }

    #[test]
    fn the_command_line_queue() {
        let mut d = Dock::new();
        troubled_parcel(&mut d);
        drop(d.store);
        let run = |args: &[&str]| command(d.dir.path(), args);
        let list = run(&["review", "list"]);
        let text = String::from_utf8_lossy(&list.stdout);
        assert!(
            text.contains("refused unit")
                && text.contains("RB5-FAKE999")
                && text.ends_with("3 reviews waiting\n"),
            "{text}"
        );
        let id = text
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .trim_start_matches('R')
            .to_string();
        let no = run(&["review", "decide", &id, "overturn", "--by", "SUP1", "--pin", "2468"]);
        assert_eq!(no.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&no.stderr).contains("overturning needs a comment"));
        let ok =
            run(&["review", "decide", &id, "confirm", "--by", "SUP1", "--pin", "2468", "--comment", "ok"]);
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
        let text = String::from_utf8_lossy(&run(&["review", "list"]).stdout).to_string();
        assert!(text.ends_with("2 reviews waiting\n"), "{text}");
    }
}

/// Where each outcome sends a unit: the defaults on the record as the outcomes were given, a
/// supervisor's overturn by the command line under its own configuration's `[disposition]`
/// (the supplier put in), the unit's label printing it, and a destination that names no place
/// refused with its file and line.
#[test]
fn each_outcome_sends_the_unit_to_its_destination() {
    let mut d = Dock::new();
    troubled_parcel(&mut d);
    let dest = |d: &Dock, serial: &str| -> Option<String> {
        d.store
            .conn()
            .query_row("SELECT destination FROM units WHERE serial = ?1", [serial], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(dest(&d, "RB5-0000123").as_deref(), Some("STOCK"));
    assert_eq!(dest(&d, "RB5-FAKE999").as_deref(), Some("REFUSED-HOLD"));
    let unit: i64 = d
        .store
        .conn()
        .query_row("SELECT id FROM units WHERE serial = 'RB5-FAKE999'", [], |r| r.get(0))
        .unwrap();
    std::fs::write(d.dir.path().join("returns-dock.toml"), "[disposition]\naccept = \"A-{supplier}\"\n")
        .unwrap();
    let run = |args: &[&str]| command(d.dir.path(), args);
    let list = String::from_utf8_lossy(&run(&["review", "list"]).stdout).to_string();
    let id = list
        .lines()
        .find(|l| l.contains("RB5-FAKE999"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let out = run(&[
        "review",
        "decide",
        &id,
        "overturn",
        "--by",
        "SUP1",
        "--pin",
        "2468",
        "--comment",
        "serial on the box",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(dest(&d, "RB5-FAKE999").as_deref(), Some("A-深圳市华强电子有限公司"));
    let label = d.dir.path().join("unit.svg");
    let out = run(&["labels", "unit", &format!("U{unit:08}"), "--out", label.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(&label).unwrap();
    assert!(svg.contains(">ACCEPT A<") && svg.contains(">→ A-深圳市华强电子有限公司<"), "{svg}");
    let zpl = String::from_utf8(run(&["labels", "unit", &format!("U{unit:08}"), "--format", "zpl"]).stdout)
        .unwrap();
    assert!(zpl.contains("^FDACCEPT A^FS") && zpl.contains("^FD-> A-?^FS"), "{zpl}");
    std::fs::write(
        d.dir.path().join("returns-dock.toml"),
        "[disposition]\nscrap = \"SCRAP\"\nrefuse = \" \"\n",
    )
    .unwrap();
    let out = run(&["review", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("returns-dock.toml:3: disposition.refuse: must name a place"), "{err}");
}

mod feedback_sheet {
    use super::*;
    use returns_dock::export::feedback;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    /// Receives `scan`, inspects one unit of `code` with `cause`, signs at `signed`.
    fn parcel(d: &mut Dock, scan: &str, code: &str, cause: Cause, received: &str, signed: &str) {
        let ids = match st::lookup_parcel(d.store.conn(), "ST01", scan).unwrap() {
            ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let a = Actor { station: "ST01".into(), dock: String::new(), user: "DEMO".into(), now: at(received) };
        let p = st::open_parcel(d.store.conn_mut(), &a, scan, &ids).unwrap().unwrap();
        let sku = st::find_product(d.store.conn(), code).unwrap().map(|p| p.sku);
        let u = NewUnit { scan: code.into(), sku, ..NewUnit::default() };
        let (id, _) = st::record_unit(d.store.conn_mut(), &a, p, &u).unwrap().unwrap();
        let i = Inspection {
            outcome: Outcome::ReturnToSupplier,
            grade: None,
            reason: Some(Reason::Defective),
            cause,
            note: None,
            cause_chosen: true,
        };
        st::inspect_unit(d.store.conn_mut(), &a, id, &i).unwrap().unwrap();
        let s = Actor { now: at(signed), ..a };
        st::sign_parcel(d.store.conn_mut(), &s, p, true).unwrap().unwrap();
    }

    #[test]
    fn figures_on_a_fixed_week_equal_the_hand_count() {
        let mut d = Dock::new();
        parcel(
            &mut d,
            "RMA-2026-0001",
            "6901234500165",
            Cause::ProductDefect,
            "2026-11-16T09:00:00+08:00",
            "2026-11-16T11:00:00+08:00",
        );
        parcel(
            &mut d,
            "RMA-2026-0005",
            "0841760001230",
            Cause::ProductDefect,
            "2026-11-17T09:00:00+08:00",
            "2026-11-17T13:00:00+08:00",
        );
        parcel(
            &mut d,
            "RMA-2026-0007",
            "6901234500080",
            Cause::TransitDamage,
            "2026-11-18T10:00:00+08:00",
            "2026-11-18T20:00:00+08:00",
        );
        parcel(
            &mut d,
            "RMA-2026-0009",
            "6901234500059",
            Cause::ChangedMind,
            "2026-11-19T01:00:00+00:00",
            "2026-11-19T02:00:00+00:00",
        );
        // Outside the week: not counted.
        parcel(
            &mut d,
            "RMA-2026-0010",
            "5099200001235",
            Cause::ProductDefect,
            "2026-11-10T09:00:00+08:00",
            "2026-11-10T10:00:00+08:00",
        );
        // Received on the 15th and still open on the 22nd: waiting.
        let a = Actor {
            station: "ST02".into(),
            dock: String::new(),
            user: "DEMO".into(),
            now: at("2026-11-15T08:00:00+08:00"),
        };
        st::open_parcel(d.store.conn_mut(), &a, "YT0000000000009", &[]).unwrap().unwrap();
        let from = day(2026, 11, 16);
        let to = day(2026, 11, 22);
        let f = feedback::feedback(&mut d.store, from, to, 3, at("2026-11-22T18:00:00+08:00")).unwrap();
        assert_eq!((f.units, f.parcels_signed), (4, 4));
        let dept =
            |code: &str| f.by_department.iter().find(|c| c.code == code).map(|c| (c.count, c.share)).unwrap();
        assert_eq!(dept("product"), (2, 0.5));
        assert_eq!(dept("warehouse"), (1, 0.25));
        assert_eq!(dept("customer"), (1, 0.25));
        assert_eq!(dept("product_page"), (0, 0.0));
        assert_eq!(f.by_department[0].code, "product", "largest first");
        assert_eq!(
            f.top_product_skus.iter().map(|k| (k.sku.as_str(), k.count)).collect::<Vec<_>>(),
            vec![("SKU-1016", 1), ("SKU-1018", 1)]
        );
        // Turnarounds 2 h, 4 h, 10 h and 1 h: median (nearest rank) 2 h, 90th percentile 10 h.
        assert_eq!(f.turnaround_median_hours.map(|h| (h * 100.0).round() / 100.0), Some(2.0));
        assert_eq!(f.turnaround_p90_hours.map(|h| (h * 100.0).round() / 100.0), Some(10.0));
        assert_eq!(f.waiting.iter().map(|w| (w.parcel_id, w.days)).collect::<Vec<_>>(), vec![(6, 7)]);
        let text = feedback::text(&f);
        assert!(
            text.contains("Product / supply chain        2   50.0%  ███████████████···············"),
            "{text}"
        );
        assert!(text.contains("median 2.0 h, 90th percentile 10.0 h"), "{text}");
        let csv = feedback::csv(&f);
        assert!(csv.contains("department,product,Product / supply chain,2,0.5000"), "{csv}");
        assert!(csv.contains("turnaround_hours,p90,,10.00,"), "{csv}");
    }

    fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
}

/// Exports and the write lock: an export reads one snapshot while stations keep writing, and
/// records its batch afterwards without repeating or losing anything.
mod locks {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    /// `returns` generated returns, each received as its own signed parcel with one accepted
    /// unit per expected line (as the benchmark builds them).
    fn signed_parcels(d: &mut Dock, returns: u64) {
        let (mut out, mut cat) = (Vec::new(), Vec::new());
        let gen = returns_dock::gen::GenOptions { returns, seed: 11, max_lines: None };
        returns_dock::gen::generate(&gen, &mut out, &mut cat).unwrap();
        let folder = d.dir.path().to_path_buf();
        let name = |n: &str| folder.join(n);
        std::fs::write(name("g.csv"), out).unwrap();
        std::fs::write(name("g.catalog.csv"), cat).unwrap();
        let opts = returns_dock::import::ImportOptions::new(d.now());
        let src = |n: &str| vec![returns_dock::import::Source::File(name(n))];
        returns_dock::import::catalog::import(&mut d.store, &src("g.catalog.csv"), &opts).unwrap();
        returns_dock::import::returns::import(&mut d.store, &src("g.csv"), &opts).unwrap();
        let ts = returns_dock::store::timestamp(d.now());
        d.store
            .conn()
            .execute_batch(&format!(
                "BEGIN;
                 INSERT INTO audit_log (at, action, hash) VALUES ('{ts}', 'test', 'a fixture, not chained');
                 INSERT INTO parcels (scan, tracking_no, tracking_key, state, station, operator, received_at, closed_at,
                                      closed_by, closed_audit_id)
                   SELECT rma_no, tracking_no, 'T' || id, 'signed', 'ST01', 'DEMO', '{ts}', '{ts}', 'DEMO',
                          (SELECT max(id) FROM audit_log) FROM returns WHERE rma_no NOT LIKE 'RMA-%';
                 INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by)
                   SELECT p.id, r.id, '{ts}', 'DEMO' FROM parcels p JOIN returns r ON r.rma_no = p.scan;
                 INSERT INTO units (parcel_id, seq, return_id, line_no, scan, sku, gtin, outcome, grade, cause, station,
                                    operator, scanned_at, inspected_at, unit_value_cents)
                   SELECT pr.parcel_id, l.line_no, l.return_id, l.line_no, coalesce(l.barcode, l.sku), l.sku, l.barcode,
                          'accept', 'A', 'PRODUCT-DEFECT', 'ST01', 'DEMO', '{ts}', '{ts}', l.unit_value_cents
                   FROM return_lines l JOIN parcel_returns pr ON pr.return_id = l.return_id;
                 COMMIT;"
            ))
            .unwrap();
    }

    #[test]
    fn a_station_never_waits_long_while_everything_is_exported() {
        let mut d = Dock::new();
        signed_parcels(&mut d, 15_000);
        let out = d.dir.path().join("all.csv");
        let opts = ExportOptions {
            format: Format::Csv,
            span: Span::All,
            excel: false,
            now: d.now(),
            by: None,
            dock: None,
        };
        let done = AtomicBool::new(false);
        let (db, store) = (d.db.clone(), &mut d.store);
        let (exported, waits) = std::thread::scope(|s| {
            let export = s.spawn(|| {
                let r = export::export(store, &out, &opts);
                done.store(true, Ordering::Release);
                r.unwrap()
            });
            // A station's scans meanwhile: one small write transaction every few milliseconds.
            let station = Store::open(&db).unwrap();
            let mut waits = Vec::new();
            while !done.load(Ordering::Acquire) {
                // The wait for the lock; the durable commit after it waits for the disk.
                let t = Instant::now();
                station.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
                waits.push(t.elapsed());
                station.set_meta("probe", &waits.len().to_string()).unwrap();
                station.conn().execute_batch("COMMIT").unwrap();
                std::thread::sleep(std::time::Duration::from_millis(3));
            }
            (export.join().unwrap(), waits)
        });
        assert!(exported.parcels >= 15_000, "{}", exported.parcels);
        assert!(waits.len() >= 50, "the export ran long enough to be measured: {} writes", waits.len());
        let max = waits.iter().max().unwrap();
        assert!(
            *max < std::time::Duration::from_millis(200),
            "a station's write waited {max:?} during the export"
        );
    }

    #[test]
    fn a_queue_of_hundreds_is_listed_with_every_parcels_units_at_once() {
        let mut d = Dock::new();
        signed_parcels(&mut d, 800);
        d.store
            .conn()
            .execute_batch(
                "INSERT INTO reviews (parcel_id, kind, created_at)
                 SELECT id, 'discrepancy', received_at FROM parcels WHERE scan NOT LIKE 'RMA-%'",
            )
            .unwrap();
        let started = Instant::now();
        let items = returns_dock::store::review::open_reviews(d.store.conn()).unwrap();
        let took = started.elapsed();
        assert!(items.len() >= 800, "{}", items.len());
        assert!(items.iter().all(|i| !i.details.units.is_empty()), "every entry has its parcel's units");
        assert!(took < std::time::Duration::from_secs(2), "the queue took {took:?}");
    }

    #[test]
    fn a_parcel_signed_while_an_export_writes_its_file_is_in_the_next_export() {
        let mut d = Dock::new();
        let first = d.open("RMA-2026-0009");
        d.unit(first, "6901234500059", None, Outcome::Accept, None, None);
        d.sign(first);
        // Opened and inspected before; signed on a station while the export writes its file.
        let late = d.open("RMA-2026-0011");
        d.unit(late, "0194000001232", None, Outcome::Accept, None, None);
        let mut station = Store::open(&d.db).unwrap();
        let a = d.actor();
        let out = d.dir.path().join("b1.csv");
        let opts = ExportOptions {
            format: Format::Csv,
            span: Span::SinceLast,
            excel: false,
            now: d.now(),
            by: None,
            dock: None,
        };
        let b1 = export::export_with(&mut d.store, &out, &opts, &mut || {
            st::sign_parcel(station.conn_mut(), &a, late, true).unwrap().unwrap();
        })
        .unwrap();
        let ids = |p: &Path| read_csv(p).iter().map(|r| r[col("parcel_id")].to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&out), vec![format!("P{first}")], "the snapshot was taken before the signature");
        let (b2, p2) = d.export("b2.csv", Format::Csv, Span::SinceLast, false);
        assert_eq!(ids(&p2), vec![format!("P{late}")], "not skipped: the next export has it");
        assert_eq!(b2.batch, b1.batch + 1);
    }

    #[test]
    fn two_racing_exports_neither_repeat_nor_lose() {
        let mut d = Dock::new();
        let p1 = d.open("RMA-2026-0009");
        d.unit(p1, "6901234500059", None, Outcome::Accept, None, None);
        d.sign(p1);
        let p2 = d.open("RMA-2026-0011");
        d.unit(p2, "0194000001232", None, Outcome::Accept, None, None);
        // Another program's export runs and records its batch while this one writes: this one
        // is made again from the other's end, so no row is in both, and none in neither.
        let mut other = Store::open(&d.db).unwrap();
        let a = d.actor();
        let now = d.now();
        let (theirs, mine) = (d.dir.path().join("theirs.csv"), d.dir.path().join("mine.csv"));
        let opts = ExportOptions {
            format: Format::Csv,
            span: Span::SinceLast,
            excel: false,
            now,
            by: None,
            dock: None,
        };
        let mut raced = false;
        let mut their_batch = None;
        let b = export::export_with(&mut d.store, &mine, &opts, &mut || {
            if !std::mem::replace(&mut raced, true) {
                st::sign_parcel(other.conn_mut(), &a, p2, true).unwrap().unwrap();
                their_batch = Some(export::export(&mut other, &theirs, &opts).unwrap());
            }
        });
        let theirs_done = their_batch.unwrap();
        let ids = |p: &Path| read_csv(p).iter().map(|r| r[col("parcel_id")].to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&theirs), vec![format!("P{p1}"), format!("P{p2}")]);
        // Made again from the other's end, this one finds nothing the other did not take: it
        // leaves no file and records no batch.
        assert!(
            matches!(b, Err(export::ExportError::NothingNew { last: Some(n) }) if n == theirs_done.batch),
            "{b:?}"
        );
        assert!(!mine.exists(), "the first attempt's file is gone");
        // The next change goes to the next batch, from where the other's ended.
        let p3 = d.open("RMA-2026-0002");
        d.unit(p3, "6901234500035", None, Outcome::Accept, None, None);
        d.sign(p3);
        let (next, _) = d.export("next.csv", Format::Csv, Span::SinceLast, false);
        assert_eq!(next.batch, theirs_done.batch + 1);
        let spans: Vec<(i64, i64)> = d
            .store
            .conn()
            .prepare("SELECT from_audit_id, to_audit_id FROM export_batches ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[1].0, spans[0].1, "the second batch starts where the first ended");
    }
}

/// The record as evidence: `audit verify` finds every way of rewriting history behind the
/// program, and names the first entry or record that disagrees.
mod audit {
    use super::*;
    use returns_dock::store::auth::{self, PinRules};
    use returns_dock::store::review::{self as rv, Decision, Supervisor};

    /// A dock with units, an undo and decided reviews (one overturned).
    fn history() -> Dock {
        let mut d = Dock::new();
        let p = troubled_parcel(&mut d);
        let now = d.now();
        let who =
            auth::check_pin(d.store.conn_mut(), "SUP1", "2468", Some("ST01"), now, &PinRules::default())
                .unwrap()
                .unwrap();
        let sup = Supervisor { who: &who, station: Some("ST01") };
        let items = rv::open_reviews(d.store.conn()).unwrap();
        let refused =
            items.iter().find(|i| i.kind == returns_dock::domain::codes::ReviewKind::RefusedUnit).unwrap().id;
        let overturn = Decision::Overturn { outcome: Outcome::Accept, grade: Some(Grade::A) };
        rv::decide(d.store.conn_mut(), sup, refused, &overturn, Some("serial was on the box"), now)
            .unwrap()
            .unwrap();
        let other =
            items.iter().find(|i| i.kind == returns_dock::domain::codes::ReviewKind::Discrepancy).unwrap().id;
        rv::decide(d.store.conn_mut(), sup, other, &Decision::Confirm, None, now).unwrap().unwrap();
        // A second parcel with an undone unit.
        let q = d.open("RMA-2026-0009");
        let a = d.actor();
        d.unit(q, "6901234500059", None, Outcome::Accept, None, None);
        st::undo_last(d.store.conn_mut(), &a, q).unwrap().unwrap();
        let _ = p;
        d
    }

    pub(super) fn verify(d: &Dock) -> (Option<i32>, String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .args(["--db", d.db.to_str().unwrap(), "audit", "verify"])
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    }

    /// Runs SQL as another program would, with the log's protections dropped first where the
    /// edit needs it (and put back after, so nothing shows but the edit).
    fn behind(d: &Dock, sql: &str) {
        let c = rusqlite::Connection::open(&d.db).unwrap();
        c.execute_batch(&format!(
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_sealed;
             DROP TRIGGER unit_steps_no_update; DROP TRIGGER unit_steps_no_delete;
             {sql};
             CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'x'); END;
             CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'x'); END;"
        ))
        .unwrap();
    }

    fn refused_by_verify(d: &Dock, what: &str) -> String {
        let (code, out, err) = verify(d);
        assert_eq!(code, Some(1), "{what}: verify must fail\n{out}{err}");
        err
    }

    #[test]
    fn an_untouched_history_verifies() {
        let d = history();
        let (code, out, err) = verify(&d);
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.starts_with("audit log intact:"), "{out}");
        let units: i64 = d.store.conn().query_row("SELECT count(*) FROM units", [], |r| r.get(0)).unwrap();
        assert!(out.contains(&format!("{units} units")), "{out}");
        let count = |sql: &str| -> i64 { d.store.conn().query_row(sql, [], |r| r.get(0)).unwrap() };
        let (parcels, reviews) =
            (count("SELECT count(*) FROM parcels"), count("SELECT count(*) FROM reviews"));
        assert!(out.contains(&format!("{parcels} parcels, {reviews} reviews,")), "{out}");
        let receipts = count("SELECT count(*) FROM return_receipts");
        assert!(receipts > 0 && out.contains(&format!("{receipts} return receipts and")), "{out}");
    }

    #[test]
    fn a_review_and_its_unit_changed_behind_the_log_are_found() {
        let d = history();
        // What the finding did: the export says something no decision said.
        behind(
            &d,
            "UPDATE reviews SET decision = 'overturned', new_outcome = 'accept' WHERE decision = 'confirmed';
             UPDATE units SET outcome = 'accept', grade = 'A', reason = NULL WHERE outcome = 'refuse'",
        );
        let err = refused_by_verify(&d, "review and unit changed");
        assert!(err.contains("unit U") && err.contains("outcome is accept but the log says refuse"), "{err}");
        assert!(err.contains("says overturned"), "{err}");
    }

    #[test]
    fn an_edited_entry_is_named() {
        let d = history();
        let id: i64 = d
            .store
            .conn()
            .query_row("SELECT id FROM audit_log WHERE action = 'review' ORDER BY id LIMIT 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        behind(&d, &format!("UPDATE audit_log SET detail = 'confirmed' WHERE id = {id}"));
        let err = refused_by_verify(&d, "entry edited");
        assert!(
            err.contains(&format!("entry {id} (review R")) && err.contains("does not match its hash"),
            "{err}"
        );
    }

    #[test]
    fn a_deleted_entry_is_found_in_the_middle_and_at_the_end() {
        let d = history();
        let (mid, last): (i64, i64) = d
            .store
            .conn()
            .query_row(
                // The middle state entry (no record refers to it by its id).
                "SELECT (SELECT min(id) FROM audit_log WHERE action = 'unit' AND id >= (SELECT max(id) / 2 FROM audit_log)),
                        max(id) FROM audit_log",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        behind(&d, &format!("DELETE FROM audit_log WHERE id = {mid}"));
        let err = refused_by_verify(&d, "entry deleted");
        assert!(err.contains(&format!("entries {mid} to {mid} are missing")), "{err}");
        let d = history();
        behind(&d, &format!("DELETE FROM audit_log WHERE id = {last}"));
        let err = refused_by_verify(&d, "last entry deleted");
        assert!(err.contains(&format!("from entry {last}) are missing")), "{err}");
    }

    #[test]
    fn an_inserted_entry_and_a_unit_added_behind_the_log_are_found() {
        let d = history();
        behind(
            &d,
            "INSERT INTO audit_log (at, action, subject, detail, hash)
               VALUES ('2026-11-22T01:00:00.000Z', 'review', 'R1', 'confirmed', 'made up')",
        );
        let err = refused_by_verify(&d, "entry inserted");
        assert!(err.contains("does not match its hash"), "{err}");
        let d = history();
        behind(
            &d,
            "INSERT INTO units (parcel_id, seq, scan, sku, outcome, grade, cause, station, operator, scanned_at)
               SELECT parcel_id, 99, scan, sku, 'accept', 'A', cause, station, operator, scanned_at FROM units LIMIT 1",
        );
        let err = refused_by_verify(&d, "unit inserted");
        assert!(err.contains("has no entry in the log"), "{err}");
        let d = history();
        behind(&d, "DELETE FROM units WHERE id = (SELECT max(id) FROM units)");
        let err = refused_by_verify(&d, "unit removed");
        assert!(err.contains("not in the records"), "{err}");
    }

    /// Found by an outside pass: edits to fields the log did not compare changed the export
    /// and verify said "intact".
    #[test]
    fn every_record_the_export_reads_is_checked() {
        for (what, sql, expect) in [
            (
                "an overturn's outcome",
                "UPDATE reviews SET new_outcome = 'scrap' WHERE decision = 'overturned'",
                "new_outcome is scrap",
            ),
            (
                "a review's comment",
                "UPDATE reviews SET comment = 'nothing' WHERE decision IS NOT NULL",
                "comment is nothing",
            ),
            ("a review removed", "DELETE FROM reviews WHERE decision IS NULL", "not in the records"),
            (
                "a unit moved to another line",
                "UPDATE units SET line_no = NULL, return_id = NULL WHERE id = (SELECT min(id) FROM units)",
                "line_no is (none)",
            ),
            (
                "a unit's value",
                "UPDATE units SET unit_value_cents = 1 WHERE id = (SELECT min(id) FROM units)",
                "unit_value_cents is 1",
            ),
            (
                "a parcel refused after the fact",
                "UPDATE parcels SET state = 'refused', refuse_reason = 'USED' WHERE id = 1",
                "state is refused",
            ),
            (
                "a unit's inspection time",
                "UPDATE units SET inspected_at = '2020-01-01T00:00:00.000Z' WHERE inspected_at IS NOT NULL",
                "inspected_at is 2020-01-01",
            ),
            (
                "the batch a parcel is exported in",
                "UPDATE parcels SET closed_audit_id = NULL WHERE id = 1",
                "closed_audit_id is (none)",
            ),
            (
                "a parcel's tracking number",
                "UPDATE parcels SET tracking_no = 'X' WHERE id = 1",
                "tracking_no is X",
            ),
        ] {
            let d = history();
            behind(&d, sql);
            let err = refused_by_verify(&d, what);
            assert!(err.contains(expect), "{what}: {err}");
        }
    }

    /// Found by an outside pass: a unit edited behind the program, then given its next step at
    /// the station, was logged with the edit as if the program had made it. The step now logs
    /// first what it found, and verify reports that for good.
    #[test]
    fn the_programs_next_step_does_not_seal_an_edit() {
        let mut d = Dock::new();
        let p = d.open("RMA-2026-0002");
        d.unit(p, "6901234500011", Some("RB5-0000123"), Outcome::Accept, None, None);
        behind(&d, "UPDATE units SET serial = 'SN-OTHER' WHERE serial = 'RB5-0000123'");
        let unit: i64 = d.store.conn().query_row("SELECT id FROM units", [], |r| r.get(0)).unwrap();
        let a = d.actor();
        let again = Inspection::new(Outcome::Scrap, None, Some(Reason::Defective), Cause::ProductDefect);
        st::inspect_unit(d.store.conn_mut(), &a, unit, &again).unwrap().unwrap();
        let err = refused_by_verify(&d, "an edit before a step");
        assert!(
            err.contains("found changed behind the program") && err.contains("serial is SN-OTHER"),
            "{err}"
        );
    }

    /// Found by a second outside pass: an import that linked an unidentified parcel logged its
    /// review as the program's own although it had been edited behind the program.
    #[test]
    fn an_import_linking_a_parcel_does_not_seal_an_edit_either() {
        let mut d = Dock::new();
        let a = d.actor();
        let u = st::open_parcel(d.store.conn_mut(), &a, "YT0000000000007", &[]).unwrap().unwrap();
        d.unit(u, "6901234500059", None, Outcome::Accept, None, None);
        d.sign(u);
        behind(&d, "UPDATE reviews SET mandatory = 1 WHERE kind = 'unidentified'");
        let file = d.dir.path().join("late.csv");
        std::fs::write(
            &file,
            "rma_no,order_no,tracking_no,sku,qty\nRMA-LATE-7,WEB-7,YT0000000000007,SKU-1005,1\n",
        )
        .unwrap();
        let opts = returns_dock::import::ImportOptions::new(d.now());
        let report = returns_dock::import::returns::import(
            &mut d.store,
            &[returns_dock::import::Source::File(file)],
            &opts,
        )
        .unwrap();
        assert_eq!(report.linked, 1, "{}", report.summary());
        let err = refused_by_verify(&d, "an edit before an import's link");
        assert!(err.contains("found changed behind the program") && err.contains("mandatory is 1"), "{err}");
    }

    #[test]
    fn units_parcels_and_entries_are_taken_as_printed_or_bare() {
        let mut d = Dock::new();
        let p = troubled_parcel(&mut d);
        let unit: i64 = d
            .store
            .conn()
            .query_row("SELECT id FROM units WHERE serial = 'RB5-FAKE999'", [], |r| r.get(0))
            .unwrap();
        let run = |args: &[&str]| {
            let out = command(d.dir.path(), args);
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        let (printed, bare) = (format!("U{unit:08}"), unit.to_string());
        assert_eq!(run(&["audit", "show", "--unit", &printed]), run(&["audit", "show", "--unit", &bare]));
        let label = run(&["labels", "unit", &printed]);
        assert!(String::from_utf8_lossy(&label).contains(&printed));
        assert_eq!(label, run(&["labels", "unit", &bare]));
        // Found at the end of a session: `--out u.png` wrote ZPL text under a PNG's name. The
        // name now says the format; a --format that contradicts it is refused.
        run(&["labels", "unit", &printed, "--out", "u.png"]);
        assert!(std::fs::read(d.dir.path().join("u.png")).unwrap().starts_with(b"\x89PNG"), "a PNG");
        run(&["labels", "unit", &printed, "--out", "u.zpl"]);
        assert!(std::fs::read(d.dir.path().join("u.zpl")).unwrap().starts_with(b"^XA"), "ZPL");
        let clash = command(d.dir.path(), &["labels", "unit", &printed, "--format", "zpl", "--out", "v.png"]);
        assert_eq!(clash.status.code(), Some(2), "{}", String::from_utf8_lossy(&clash.stderr));
        assert!(!d.dir.path().join("v.png").exists());
        let history = run(&["audit", "show", "--parcel", &format!("P{p}")]);
        assert!(history.len() > 100);
        assert_eq!(history, run(&["audit", "show", "--parcel", &p.to_string()]));
        // The first entry, as `review list` prints it, decided by the supervisor's badge text.
        let list = String::from_utf8_lossy(&run(&["review", "list"])).to_string();
        let first = list.split_whitespace().next().unwrap().to_string();
        assert!(first.starts_with('R'), "{list}");
        let out = command(
            d.dir.path(),
            &["review", "decide", &first, "confirm", "--by", "OP-SUP1", "--pin", "2468", "--comment", "seen"],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("review {first} confirmed by SUP1"));
    }

    #[test]
    fn a_units_history_is_shown() {
        let d = history();
        let unit: i64 = d
            .store
            .conn()
            .query_row("SELECT id FROM units WHERE serial = 'RB5-FAKE999'", [], |r| r.get(0))
            .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .args(["--db", d.db.to_str().unwrap(), "audit", "show", "--unit", &format!("U{unit:08}")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let kinds: Vec<&str> = ["\"kind\":\"scan\"", "\"kind\":\"inspect\"", "\"kind\":\"overturn\""]
            .into_iter()
            .filter(|k| text.contains(k))
            .collect();
        assert_eq!(kinds.len(), 3, "scan, inspection and overturn of the unit:\n{text}");
        assert!(text.contains("SUP1"), "{text}");
    }
}

/// Found with the release binary: ESC and BEL from an imported title reached the CSV export,
/// the JSON export was not cleaned at all, and invisible, reordering and stacked characters
/// reached every file and the supervisor's terminal.
mod hostile_text {
    use super::*;

    /// A title as a hostile catalog or returns file brings it, and what a file may say of it.
    fn hostile_title() -> (String, String) {
        let raw = format!(
            "\u{1b}[31mRED\u{7} \u{202e}gpj.exe \u{2066}iso\u{2069} tag\u{e0041}\u{e007f} \u{feff}bom\u{2028}\u{ad}\u{2060}\u{200b} Z{}",
            "\u{301}".repeat(80)
        );
        let clean = format!("[31mRED gpj.exe iso tag bom Z{}", "\u{301}".repeat(3));
        (raw, clean)
    }

    /// A formula behind blanks (which the import trims) and a zero-width space in front of
    /// them (which it keeps): Excel would run it once the space is gone.
    const FORMULA: &str = "\u{200b}  =HYPERLINK(\"http://evil.example\",\"x\")";
    const FORMULA_IN_A_FILE: &str = "  =HYPERLINK(\"http://evil.example\",\"x\")";
    const CHINESE: &str = "蓝牙耳机（黑色）＋充电盒 👍🏽";

    /// Nothing a file or a terminal should not get: no control character but line ends, none
    /// of the invisible or reordering ones, never four combining marks in a row.
    fn assert_clean(what: &str, text: &str) {
        let text = text.replace("\r\n", "\n");
        let bad = text.chars().find(|c| {
            (c.is_control() && *c != '\n')
                || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
                    | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{e0000}'..='\u{e007f}')
        });
        assert_eq!(bad, None, "{what}: {text:?}");
        assert!(!text.contains(&"\u{301}".repeat(4)), "{what}: four marks on one letter: {text:?}");
        assert!(!text.contains("\\u001b") && !text.contains("\\u0007"), "{what}: an escaped control: {text}");
    }

    /// The demo dock, a hostile catalog and returns file imported by the real binary, and a
    /// parcel of it received: one unit refused (to the supervisor), two expected ones missing.
    fn hostile_dock() -> Dock {
        let mut d = Dock::new();
        let (title, _) = hostile_title();
        let dir = d.dir.path().to_path_buf();
        std::fs::write(
            dir.join("evil.catalog.csv"),
            format!(
                "sku,name,barcodes,serialised,supplier,unit_value\nEVIL-1,{title},4006381333931,no,\u{1b}[5mSupplier\u{202e},10.00\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("evil.csv"),
            format!(
                "rma_no,order_no,tracking_no,sku,qty,title,customer,reason,created_at,unit_value\n\
                 RMA-EVIL-1,O-\u{feff}1,SF9988776655443,EVIL-1,1,{title},张三,\u{202e}坏了\u{1b}[2J,,1234.50\n\
                 RMA-EVIL-1,O-\u{feff}1,SF9988776655443,SKU-1002,1,\"{}\",张三,\u{202e}坏了\u{1b}[2J,,1234.50\n\
                 RMA-EVIL-1,O-\u{feff}1,SF9988776655443,SKU-1003,1,{CHINESE},张三,\u{202e}坏了\u{1b}[2J,,1234.50\n",
                FORMULA.replace('"', "\"\"")
            ),
        )
        .unwrap();
        for (what, file) in [("catalog", "evil.catalog.csv"), ("returns", "evil.csv")] {
            let out = command(d.dir.path(), &["import", what, file]);
            assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
            assert_clean(&format!("import {what} output"), &String::from_utf8_lossy(&out.stdout));
        }
        let p = d.open("SF9988776655443");
        let sku = st::find_product(d.store.conn(), "4006381333931").unwrap().map(|p| p.sku);
        assert_eq!(sku.as_deref(), Some("EVIL-1"));
        let a = d.actor();
        let u = NewUnit { scan: "4006381333931".into(), sku, ..NewUnit::default() };
        let (id, _) = st::record_unit(d.store.conn_mut(), &a, p, &u).unwrap().unwrap();
        let a = d.actor();
        // A note as an older version may have stored it, straight from a scanner's buffer.
        let i = Inspection {
            outcome: Outcome::Refuse,
            grade: None,
            reason: Some(Reason::Defective),
            cause: Cause::ProductDefect,
            note: Some("\u{1b}]0;pwn\u{7}note\u{202e}".into()),
            cause_chosen: true,
        };
        st::inspect_unit(d.store.conn_mut(), &a, id, &i).unwrap().unwrap();
        d.sign(p);
        d
    }

    fn run(d: &Dock, args: &[&str]) -> String {
        let out = command(d.dir.path(), args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn the_csv_and_json_exports_carry_no_control_invisible_or_stacked_characters() {
        let d = hostile_dock();
        let (_, clean) = hostile_title();
        run(&d, &["export", "--all", "--excel", "--out", "x.csv"]);
        let bytes = std::fs::read(d.dir.path().join("x.csv")).unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_clean("CSV export", &text);
        let rows: Vec<csv::StringRecord> = read_csv(&d.dir.path().join("x.csv"))
            .into_iter()
            .filter(|r| r[col("rma_no")].starts_with("RMA-EVIL"))
            .collect();
        let titles: Vec<&str> = rows.iter().map(|r| &r[col("title")]).collect();
        assert!(titles.contains(&clean.as_str()), "{titles:?}");
        assert!(
            titles.contains(&format!("'{FORMULA_IN_A_FILE}").as_str()),
            "the formula after blanks is guarded: {titles:?}"
        );
        assert!(titles.contains(&CHINESE), "Chinese, full-width and emoji kept: {titles:?}");
        assert!(rows.iter().all(|r| &r[col("order_no")] == "O-1"), "the BOM in the order number is gone");
        let refused = rows.iter().find(|r| &r[col("outcome")] == "refuse").unwrap();
        assert_eq!(&refused[col("note")], "]0;pwnnote");
        assert_eq!(&refused[col("unit_value")], "1234.50", "numbers as they were");

        run(&d, &["export", "--all", "--format", "json", "--out", "x.json"]);
        let json = std::fs::read_to_string(d.dir.path().join("x.json")).unwrap();
        assert_clean("JSON export", &json);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        let titles: Vec<&str> = rows.iter().filter_map(|r| r["title"].as_str()).collect();
        assert!(titles.contains(&clean.as_str()) && titles.contains(&FORMULA_IN_A_FILE), "{titles:?}");
        assert!(titles.contains(&CHINESE), "{titles:?}");
    }

    #[test]
    fn review_list_and_feedback_report_show_marks_and_carry_nothing_hidden() {
        let d = hostile_dock();
        let (_, clean) = hostile_title();
        let list = run(&d, &["review", "list"]);
        assert_clean("review list", &list.replace("⟨U+202E⟩", ""));
        let line = list.lines().find(|l| l.contains("RMA-EVIL-1")).unwrap_or_else(|| panic!("{list}"));
        assert!(line.contains("\"]0;pwnnote⟨U+202E⟩\""), "the note, its override shown: {line}");
        assert!(line.contains("customer: ⟨U+202E⟩坏了[2J"), "{line}");
        let json = run(&d, &["review", "list", "--format", "json"]);
        assert_clean("review list as JSON", &json);

        let period = ["report", "feedback", "--from", "2026-11-16", "--to", "2026-11-22", "--format"];
        for format in ["text", "csv", "json"] {
            let sheet = run(&d, &[&period[..], &[format]].concat());
            assert_clean(&format!("feedback sheet as {format}"), &sheet);
            assert!(sheet.contains(&clean), "{format}: the product's name, cleaned: {sheet}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Outside attack (attack12).
// ---------------------------------------------------------------------------------------------

/// `--lang zh` is for human output: the export says what it wrote in Chinese, but "nothing
/// new" (and "nothing to export yet") stays English.
#[test]
fn nothing_new_is_said_in_chinese_with_lang_zh() {
    let mut d = Dock::new();
    let said = |out: &std::process::Output| {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let yet = said(&command(d.dir.path(), &["--lang", "zh", "export"]));
    assert!(!yet.contains("nothing"), "{yet}");
    troubled_parcel(&mut d);
    let first = said(&command(d.dir.path(), &["--lang", "zh", "export"]));
    assert!(first.starts_with("已导出"), "{first}");
    let again = said(&command(d.dir.path(), &["--lang", "zh", "export"]));
    assert!(!again.contains("nothing new"), "{again}");
    assert!(again.contains('1'), "names the batch: {again}");
}

/// The batch is printed as `b0001` in the file's name; `--batch b0001`, as read off the
/// file, is refused with Rust's "invalid digit found in string".
#[test]
fn a_batch_is_taken_as_printed_in_the_file_name() {
    let mut d = Dock::new();
    troubled_parcel(&mut d);
    let out = command(d.dir.path(), &["export"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = command(d.dir.path(), &["export", "--batch", "b0001", "--out", "again.csv"]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!err.contains("invalid digit"), "{err}");
    assert!(again.status.success(), "{err}");
    assert!(d.dir.path().join("again.csv").exists());
}

/// `review list` is "in words (JSON keeps the codes)": in Chinese the kinds are words, in
/// English they are the codes `refused_unit`, `discrepancy`.
#[test]
fn review_list_in_english_names_kinds_in_words() {
    let mut d = Dock::new();
    troubled_parcel(&mut d);
    let out = command(d.dir.path(), &["review", "list"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for code in ["refused_unit", "refused_parcel", "unidentified "] {
        assert!(!text.contains(code), "{code} in: {text}");
    }
    assert!(
        text.lines().any(|l| l.starts_with("R1 refused unit") || l.starts_with("R1 Refused unit")),
        "{text}"
    );
}

/// A dock updated from schema version 7, where batches were spans of the log: its batches
/// keep their parcels (`--batch N` makes the same file again), and what was signed after the
/// last batch is still due, so the next export takes exactly that.
#[test]
fn batches_made_before_marks_keep_their_parcels_and_the_next_export_takes_the_rest() {
    let mut d = Dock::new();
    let first = d.open("RMA-2026-0009");
    d.unit(first, "6901234500059", None, Outcome::Accept, None, None);
    d.sign(first);
    let (b1, _) = d.export("b1.csv", Format::Csv, Span::SinceLast, false);
    let (all, _) = d.export("all.csv", Format::Csv, Span::All, false);
    let later = d.open("RMA-2026-0011");
    d.unit(later, "0194000001232", None, Outcome::Accept, None, None);
    d.sign(later);
    // Back to version 7 (and before 9): no marks, only the spans the batches recorded.
    d.store
        .conn()
        .execute_batch(
            "DROP TRIGGER export_due_parcel_closed; DROP TRIGGER export_due_parcel_closed_new; DROP TRIGGER export_due_review_decided;
             DROP TRIGGER export_due_return_closed; DROP TRIGGER export_due_return_closed_new;
             DROP TRIGGER export_due_policy_unit; DROP TABLE export_due;
             DROP TRIGGER parcel_returns_open_box; DROP TRIGGER parcels_box_closed;
             DROP INDEX parcel_returns_one_open_box; ALTER TABLE parcel_returns DROP COLUMN open_box; ALTER TABLE parcels DROP COLUMN dock; ALTER TABLE export_batches DROP COLUMN dock; ALTER TABLE units DROP COLUMN destination; ALTER TABLE unit_steps DROP COLUMN destination; DROP TABLE photos; DROP TABLE pictures; DROP TABLE shipments;
             DROP TABLE manifest_units; DROP TABLE manifests;
             PRAGMA user_version = 7;",
        )
        .unwrap();
    drop(std::mem::replace(&mut d.store, Store::open_in_memory().unwrap()));
    d.store = Store::open(&d.db).unwrap();
    let ids = |p: &Path| read_csv(p).iter().map(|r| r[col("parcel_id")].to_string()).collect::<Vec<_>>();
    let (_, again) = d.export("again.csv", Format::Csv, Span::Batch(b1.batch), false);
    assert_eq!(ids(&again), vec![format!("P{first}")], "batch {} as it was", b1.batch);
    let (_, all_again) = d.export("all-again.csv", Format::Csv, Span::Batch(all.batch), false);
    assert_eq!(ids(&all_again), vec![format!("P{first}")], "the --all batch holds what was closed then");
    let (next, p) = d.export("next.csv", Format::Csv, Span::SinceLast, false);
    assert_eq!(ids(&p), vec![format!("P{later}")], "only what came after batch {}", b1.batch);
    assert_eq!(next.batch, all.batch + 1);
    let opts = ExportOptions {
        format: Format::Csv,
        span: Span::SinceLast,
        excel: false,
        now: d.now(),
        by: None,
        dock: None,
    };
    let nothing = export::export(&mut d.store, &d.dir.path().join("none.csv"), &opts);
    assert!(matches!(nothing, Err(export::ExportError::NothingNew { last: Some(n) }) if n == next.batch));
}

/// A dock updated from schema version 10, where a parcel's dock was recorded but the states the
/// log carried left it out: each such parcel gets an entry with its dock, so `audit verify`
/// finds every record what its last entry says, and a parcel also edited behind the program
/// before the update is still reported (the update's own entry does not make the edit look like
/// the program's).
#[test]
fn parcels_received_before_the_log_carried_their_dock_are_logged_with_it_and_an_edit_behind_is_still_seen() {
    let mut d = Dock::new();
    let clean = d.open("RMA-2026-0009");
    d.unit(clean, "6901234500059", None, Outcome::Accept, None, None);
    d.sign(clean);
    let edited = d.open("RMA-2026-0011");
    d.unit(edited, "0194000001232", None, Outcome::Accept, None, None);
    d.sign(edited);
    // As version 10 left them: the dock on the record, not in the logged states. (The units'
    // destinations, which version 12 added, were logged by this build: they are put back on
    // the records after, as they were.)
    let destinations: Vec<(i64, Option<String>)> = {
        let conn = d.store.conn();
        let mut q = conn.prepare("SELECT id, destination FROM units").unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    d.store
        .conn()
        .execute_batch(&format!(
            "UPDATE parcels SET dock = 'NORTH';
             UPDATE parcels SET note = 'edited behind the program' WHERE id = {edited};
             ALTER TABLE export_batches DROP COLUMN dock; ALTER TABLE units DROP COLUMN destination; ALTER TABLE unit_steps DROP COLUMN destination; DROP TABLE photos; DROP TABLE pictures; DROP TABLE shipments;
             DROP TABLE manifest_units; DROP TABLE manifests;
             PRAGMA user_version = 10;"
        ))
        .unwrap();
    drop(std::mem::replace(&mut d.store, Store::open_in_memory().unwrap()));
    d.store = Store::open(&d.db).unwrap();
    for (id, to) in &destinations {
        d.store
            .conn()
            .execute("UPDATE units SET destination = ?2 WHERE id = ?1", rusqlite::params![id, to])
            .unwrap();
    }
    let verdict = d.store.verify_audit().unwrap();
    assert_eq!(verdict.problems.len(), 1, "{:?}", verdict.problems);
    assert!(verdict.problems[0].contains(&format!("P{edited}")), "{:?}", verdict.problems);
    let logged: String = d
        .store
        .conn()
        .query_row(
            "SELECT detail FROM audit_log WHERE subject = ?1 AND action = 'parcel' ORDER BY id DESC LIMIT 1",
            [format!("P{clean}")],
            |r| r.get(0),
        )
        .unwrap();
    assert!(logged.contains(r#""dock":"NORTH""#), "{logged}");
}

/// Found by an outside pass: an export whose batch could not be recorded (here the table is
/// gone from under it) left its finished file in place with no batch, and the next export
/// wrote the same rows again under the same number. No batch, no file.
#[test]
fn an_export_whose_batch_cannot_be_recorded_leaves_no_file() {
    let mut d = Dock::new();
    let p = d.open("RMA-2026-0009");
    d.unit(p, "6901234500059", None, Outcome::Accept, None, None);
    d.sign(p);
    let out = d.dir.path().join("lost.csv");
    let opts = ExportOptions {
        format: Format::Csv,
        span: Span::SinceLast,
        excel: false,
        now: d.now(),
        by: None,
        dock: None,
    };
    let other = rusqlite::Connection::open(&d.db).unwrap();
    let err = export::export_with(&mut d.store, &out, &opts, &mut || {
        other.execute_batch("ALTER TABLE export_batches RENAME TO export_batches_gone").unwrap();
    })
    .unwrap_err();
    assert!(err.to_string().contains("export_batches"), "{err}");
    assert!(!out.exists(), "a file with no batch behind it was left: {}", out.display());
}

#[path = "support/pg.rs"]
mod pg;
#[path = "support/photos.rs"]
mod photos;

/// The manifests (`report rtv`, `report scrap`): which units they list, their totals, and the
/// batches that close them, on a dock's file and on a central database alike.
mod manifests {
    use chrono::{DateTime, Duration, FixedOffset};
    use returns_dock::domain::codes::{Cause, Grade, Outcome, Reason};
    use returns_dock::export::manifest::{self as mf, Kind};
    use returns_dock::store::boxes::Rest;
    use returns_dock::store::manifest::{Filter, Listed};
    use returns_dock::store::review::{Decision, Supervisor};
    use returns_dock::store::sql::SqlExt;
    use returns_dock::store::station::{Actor, Inspection, NewUnit, ParcelLookup, Policy};
    use returns_dock::store::Store;
    use std::path::Path;

    use super::pg;

    /// A bench driven through the store's own steps, as a station drives it.
    struct Bench {
        store: Store,
        tick: i64,
    }

    impl Bench {
        fn on(mut store: Store) -> Bench {
            returns_dock::cli::seed_demo_into(&mut store).unwrap();
            Bench { store, tick: 0 }
        }

        fn now(&mut self) -> DateTime<FixedOffset> {
            self.tick += 1;
            DateTime::parse_from_rfc3339("2026-11-22T09:00:00+08:00").unwrap() + Duration::seconds(self.tick)
        }

        fn actor(&mut self) -> Actor {
            Actor { station: "ST01".into(), dock: "NORTH".into(), user: "DEMO".into(), now: self.now() }
        }

        fn open(&mut self, scan: &str) -> i64 {
            let ids = match self.store.lookup_parcel("ST01", scan).unwrap() {
                ParcelLookup::Expected(rs) => rs.iter().map(|r| r.id).collect::<Vec<_>>(),
                other => panic!("{scan}: {other:?}"),
            };
            let a = self.actor();
            self.store.open_parcel(&a, scan, &ids).unwrap().unwrap().id
        }

        fn unit(
            &mut self,
            parcel: i64,
            code: &str,
            serial: Option<&str>,
            outcome: Outcome,
            reason: Reason,
        ) -> i64 {
            let sku = self.store.find_product_box(code).unwrap().map(|(p, _)| p.sku);
            let a = self.actor();
            let u =
                NewUnit { scan: code.into(), sku, serial: serial.map(String::from), ..NewUnit::default() };
            let ((id, _), _) = {
                let (r, v) = self.store.record_unit(&a, parcel, &u).unwrap();
                (r.unwrap(), v)
            };
            let a = self.actor();
            let reason = (outcome != Outcome::Accept).then_some(reason);
            let i = Inspection::new(outcome, Some(Grade::A), reason, Cause::ProductDefect);
            self.store.inspect(&a, parcel, id, &i).unwrap().0.unwrap();
            id
        }

        fn sign(&mut self, parcel: i64) {
            let a = self.actor();
            let shown = self.store.parcel(parcel).unwrap().discrepancies();
            self.store.sign(&a, parcel, true, &shown, &Policy::default(), Rest::Missing).unwrap().0.unwrap();
        }

        /// The supervisor decides the review of `unit`: overturned to `to`, or confirmed.
        fn decide(&mut self, unit: i64, to: Option<Outcome>) {
            let now = self.now();
            let proof = self
                .store
                .check_pin("SUP1", "2468", Some("ST01"), now, &Default::default())
                .unwrap()
                .unwrap();
            let label = returns_dock::export::unit_label(unit);
            let review =
                self.store.open_reviews().unwrap().into_iter().find(|r| r.unit.as_deref() == Some(&label));
            let review = review.unwrap_or_else(|| panic!("a review of {label}"));
            let sup = Supervisor { who: &proof, station: Some("ST01") };
            let decision = match to {
                Some(outcome) => Decision::Overturn { outcome, grade: None },
                None => Decision::Confirm,
            };
            let now = self.now();
            self.store.decide(sup, review.id, &decision, Some("seen at the bench"), now).unwrap().unwrap();
        }

        /// The supervisor confirms every review of `parcel` (its refused units, its discrepancies).
        fn confirm_every_review_of(&mut self, parcel: i64) {
            let now = self.now();
            let proof = self
                .store
                .check_pin("SUP1", "2468", Some("ST01"), now, &Default::default())
                .unwrap()
                .unwrap();
            for r in self.store.open_reviews().unwrap().into_iter().filter(|r| r.parcel_id == parcel) {
                let sup = Supervisor { who: &proof, station: Some("ST01") };
                let now = self.now();
                self.store.decide(sup, r.id, &Decision::Confirm, Some("seen"), now).unwrap().unwrap();
            }
        }

        fn listed(&mut self, kind: Kind, supplier: Option<&str>) -> Vec<Listed> {
            let filter = Filter { supplier: supplier.map(String::from), dock: None };
            self.store.manifest(kind, &filter).unwrap()
        }

        fn close(&mut self, kind: Kind, supplier: Option<&str>) -> mf::Manifest {
            let filter = Filter { supplier: supplier.map(String::from), dock: None };
            let now = self.now();
            let closed = self
                .store
                .close_manifest(kind, &filter, None, now, &mut |_| Ok(()))
                .map_err(|_| "close")
                .unwrap();
            mf::manifest(kind, &closed.listed, supplier, None, Some(closed.batch))
        }

        fn count(&self, sql: &str) -> i64 {
            self.store.db().one(sql, &[]).unwrap()
        }
    }

    const HUAQIANG: &str = "深圳市华强电子有限公司";

    /// Units by supplier, in the manifest's order: (supplier, unit count, cents, held).
    fn totals(m: &mf::Manifest) -> Vec<(String, usize, i64, usize)> {
        m.groups
            .iter()
            .map(|g| (g.supplier.clone().unwrap_or_default(), g.count, g.value_cents, g.held))
            .collect()
    }

    /// The day behind the tests: returned to their suppliers, two Redmi buds and a cable (华强,
    /// 199.00 + 199.00 + 29.00) and a keyboard (Lenovo, 399.00) in signed boxes; a Nike shoe
    /// (899.00) refused, its review pending; a T-shirt given to its supplier in a box still open
    /// at the bench; a power bank (129.00) scrapped.
    struct Day {
        shoe: i64,
        open_box_shirt: i64,
    }

    fn a_day(b: &mut Bench) -> Day {
        let p1 = b.open("RMA-2026-0002");
        b.unit(p1, "6901234500011", Some("RB5-0000123"), Outcome::ReturnToSupplier, Reason::Defective);
        b.unit(p1, "6901234500011", Some("RB5-0000124"), Outcome::ReturnToSupplier, Reason::Defective);
        b.unit(p1, "6901234500035", None, Outcome::ReturnToSupplier, Reason::TransitDamage);
        b.sign(p1);
        let p2 = b.open("RMA-2026-0006");
        b.unit(p2, "6901234500134", Some("LGN-KB-77001"), Outcome::ReturnToSupplier, Reason::Defective);
        b.unit(p2, "6901234500127", Some("BS20K-55501"), Outcome::Scrap, Reason::Defective);
        b.sign(p2);
        let p3 = b.open("RMA-2026-0011");
        let shoe = b.unit(p3, "0194000001232", None, Outcome::Refuse, Reason::CustomerDamage);
        b.sign(p3);
        let p4 = b.open("RMA-2026-0009");
        let open_box_shirt = b.unit(p4, "6901234500059", None, Outcome::ReturnToSupplier, Reason::Defective);
        Day { shoe, open_box_shirt }
    }

    fn rtv_is_listed_by_supplier_with_its_totals_and_follows_overturns(store: Store) {
        let mut b = Bench::on(store);
        let day = a_day(&mut b);
        let m = mf::manifest(Kind::Rtv, &b.listed(Kind::Rtv, None), None, None, None);
        // Byte order: Latin names before Chinese ones. The box still open is on no list.
        assert_eq!(totals(&m), [("Lenovo".into(), 1, 39900, 0), (HUAQIANG.into(), 3, 42700, 0)]);
        assert_eq!((m.count, m.value_cents, m.held), (4, 82600, 0));
        assert!(m
            .groups
            .iter()
            .flat_map(|g| &g.units)
            .all(|u| u.unit_id != returns_dock::export::unit_label(day.open_box_shirt)));
        let buds = &m.groups[1].units[0];
        assert_eq!(
            (
                buds.sku.as_str(),
                buds.serial.as_str(),
                buds.rma_no.as_str(),
                buds.reason.as_str(),
                buds.destination.as_str()
            ),
            ("SKU-1001", "RB5-0000123", "RMA-2026-0002", "DEFECTIVE", "RTV-深圳市华强电子有限公司")
        );
        assert_eq!(buds.name, "小米 Redmi Buds 5 蓝牙耳机 黑色");
        // The refused shoe is not returned to its supplier; overturned to it, it joins.
        b.decide(day.shoe, Some(Outcome::ReturnToSupplier));
        let m = mf::manifest(Kind::Rtv, &b.listed(Kind::Rtv, None), None, None, None);
        assert_eq!(
            totals(&m),
            [
                ("Lenovo".into(), 1, 39900, 0),
                ("Nike China".into(), 1, 89900, 0),
                (HUAQIANG.into(), 3, 42700, 0)
            ]
        );
        assert_eq!((m.count, m.value_cents), (5, 172500));
        // The text says the same, with a line per supplier and the grand total.
        let text = mf::text_in(&m, returns_dock::domain::codes::Lang::En);
        assert!(text.contains("\nNike China: 1 unit, 899.00\n"), "{text}");
        assert!(text.contains(&format!("\n{HUAQIANG}: 3 units, 427.00\n")), "{text}");
        assert!(text.contains("\nTotal: 5 units, 1725.00 (3 suppliers)\n"), "{text}");
        // Scrap: the power bank only.
        let s = mf::manifest(Kind::Scrap, &b.listed(Kind::Scrap, None), None, None, None);
        assert_eq!((s.count, s.value_cents), (1, 12900));
    }

    #[test]
    fn rtv_is_listed_by_supplier_with_its_totals_and_follows_overturns_on_a_file() {
        let dir = tempfile::tempdir().unwrap();
        rtv_is_listed_by_supplier_with_its_totals_and_follows_overturns(
            Store::open(&dir.path().join("dock.db")).unwrap(),
        );
    }

    #[test]
    fn rtv_is_listed_by_supplier_with_its_totals_and_follows_overturns_on_a_central_database() {
        rtv_is_listed_by_supplier_with_its_totals_and_follows_overturns(
            Store::open(Path::new(&pg::fresh_database())).unwrap(),
        );
    }

    fn a_close_takes_what_is_ready_once_and_the_log_carries_it(store: Store) {
        let mut b = Bench::on(store);
        let day = a_day(&mut b);
        // A unit of a parcel whose review is pending: listed, held, not closed.
        let p5 = b.open("RMA-2026-0005");
        let kindle = b.unit(
            p5,
            "0841760001230",
            Some("G000PW1234567890"),
            Outcome::ReturnToSupplier,
            Reason::Defective,
        );
        b.sign(p5);
        let p6 = b.open("RMA-2026-0013");
        let brush =
            b.unit(p6, "8710100001235", Some("PHX-6730-0042"), Outcome::ReturnToSupplier, Reason::Defective);
        b.unit(p6, "8710100001235", Some("PHX-OTHER"), Outcome::Refuse, Reason::SerialMismatch);
        b.sign(p6);
        let held: Vec<i64> =
            b.listed(Kind::Rtv, None).iter().filter(|u| u.hold.is_some()).map(|u| u.unit_id).collect();
        assert_eq!(held, [brush], "the toothbrush's parcel waits for its review; the kindle's does not");
        // --supplier limits the close: Lenovo's box only.
        let lenovo = b.close(Kind::Rtv, Some("lenovo"));
        assert_eq!((lenovo.batch, lenovo.count, lenovo.value_cents), (Some(1), 1, 39900));
        // Then the rest, but the held unit.
        let rest = b.close(Kind::Rtv, None);
        assert_eq!(rest.batch, Some(2));
        assert_eq!(
            totals(&rest),
            [
                ("Amazon Devices".into(), 1, 106800, 0),
                ("Philips Consumer".into(), 0, 0, 1),
                (HUAQIANG.into(), 3, 42700, 0)
            ]
        );
        assert_eq!((rest.count, rest.value_cents, rest.held), (4, 149500, 1));
        let text = mf::text_in(&rest, returns_dock::domain::codes::Lang::En);
        assert!(text.contains("RTV batch 2: 4 units shipped, 1495.00; 1 unit held back"), "{text}");
        assert!(text.contains("HELD: review pending"), "{text}");
        // What was shipped is never listed again; the held unit is, until its review is decided.
        let left: Vec<i64> = b.listed(Kind::Rtv, None).iter().map(|u| u.unit_id).collect();
        assert_eq!(left, [brush]);
        let nothing = b.close(Kind::Rtv, None);
        assert_eq!((nothing.batch, nothing.held), (None, 1));
        assert!(
            mf::closed_line(&nothing, returns_dock::domain::codes::Lang::En).starts_with("nothing to ship")
        );
        assert_eq!(b.count("SELECT count(*) FROM manifests"), 2, "nothing to ship records no batch");
        b.confirm_every_review_of(p6);
        b.decide(day.shoe, Some(Outcome::ReturnToSupplier));
        let last = b.close(Kind::Rtv, None);
        assert_eq!((last.batch, last.count, last.value_cents), (Some(3), 2, 29900 + 89900));
        // Scrap the same: its own numbers.
        let wo = b.close(Kind::Scrap, None);
        assert_eq!((wo.batch, wo.count, wo.value_cents), (Some(1), 1, 12900));
        assert_eq!(
            mf::closed_line(&wo, returns_dock::domain::codes::Lang::En),
            "write-off batch 1: 1 unit written off, 129.00"
        );
        assert!(b.listed(Kind::Scrap, None).is_empty());
        let _ = kindle;
        // The log carries every batch and unit, and audit verify checks them.
        let verdict = b.store.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
        assert_eq!((verdict.manifests, verdict.shipped), (4, 1 + 4 + 2 + 1));
        assert!(verdict.summary().contains("4 manifest batches with 8 units"), "{}", verdict.summary());
        let shipped_entries = b.count("SELECT count(*) FROM audit_log WHERE action = 'manifest_unit'");
        assert_eq!(shipped_entries, 8);
    }

    #[test]
    fn a_close_takes_what_is_ready_once_and_the_log_carries_it_on_a_file() {
        let dir = tempfile::tempdir().unwrap();
        a_close_takes_what_is_ready_once_and_the_log_carries_it(
            Store::open(&dir.path().join("dock.db")).unwrap(),
        );
    }

    #[test]
    fn a_close_takes_what_is_ready_once_and_the_log_carries_it_on_a_central_database() {
        a_close_takes_what_is_ready_once_and_the_log_carries_it(
            Store::open(Path::new(&pg::fresh_database())).unwrap(),
        );
    }

    /// A shipped row added, changed or removed behind the program is found by `audit verify`.
    #[test]
    fn a_shipped_row_forged_or_removed_behind_the_program_fails_the_audit() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Bench::on(Store::open(&dir.path().join("dock.db")).unwrap());
        let day = a_day(&mut b);
        b.close(Kind::Rtv, None);
        assert!(b.store.verify_audit().unwrap().ok());
        let conn = b.store.conn();
        // Forged: the shirt of the open box "shipped" in batch 1.
        conn.execute(
            "INSERT INTO manifest_units (unit_id, manifest_id, supplier, value_cents) VALUES (?1, 1, 'x', 0)",
            [day.open_box_shirt],
        )
        .unwrap();
        let v = b.store.verify_audit().unwrap();
        let shirt = returns_dock::export::unit_label(day.open_box_shirt);
        assert!(
            v.problems.iter().any(|p| p.contains(&shirt) && p.contains("recorded behind the program")),
            "{:?}",
            v.problems
        );
        b.store
            .conn()
            .execute("DELETE FROM manifest_units WHERE unit_id = ?1", [day.open_box_shirt])
            .unwrap();
        assert!(b.store.verify_audit().unwrap().ok());
        // Removed: a unit of the batch taken out of it (as if it had never left).
        let gone: i64 = b.count("SELECT min(unit_id) FROM manifest_units");
        b.store.conn().execute("DELETE FROM manifest_units WHERE unit_id = ?1", [gone]).unwrap();
        let v = b.store.verify_audit().unwrap();
        let label = returns_dock::export::unit_label(gone);
        assert!(
            v.problems.iter().any(|p| p.contains(&label) && p.contains("removed behind the program")),
            "{:?}",
            v.problems
        );
        // Changed: the batch's value.
        b.store.conn().execute_batch("UPDATE manifests SET value_cents = 1").unwrap();
        let v = b.store.verify_audit().unwrap();
        assert!(
            v.problems.iter().any(|p| p.contains("manifest batch M1") && p.contains("value_cents is 1")),
            "{:?}",
            v.problems
        );
    }

    /// Two closes at once (two terminals on a file, two docks on a server): no unit is in two
    /// batches, none is lost, and the batch numbers differ.
    fn two_closes_at_once_never_share_a_unit(db: &str) {
        let mut b = Bench::on(Store::open(Path::new(db)).unwrap());
        a_day(&mut b);
        for rma in ["RMA-2026-0005", "RMA-2026-0007", "RMA-2026-0010", "RMA-2026-0001"] {
            let p = b.open(rma);
            let code = match rma {
                "RMA-2026-0005" => ("0841760001230", "G000PW1234567890"),
                "RMA-2026-0007" => ("6901234500080", "MD-AF5-900231"),
                "RMA-2026-0010" => ("5099200001233", "2310LZ0ABC12"),
                _ => ("6901234500165", "HWGT5-A1B2C3D4"),
            };
            b.unit(p, code.0, Some(code.1), Outcome::ReturnToSupplier, Reason::Defective);
            b.sign(p);
        }
        let ready = b.listed(Kind::Rtv, None).len();
        assert_eq!(ready, 8);
        let gate = std::sync::Barrier::new(4);
        let batches: Vec<Option<i64>> = std::thread::scope(|s| {
            let closes: Vec<_> = (0..4)
                .map(|i| {
                    let gate = &gate;
                    s.spawn(move || {
                        let mut store = Store::open(Path::new(db)).unwrap();
                        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap()
                            + Duration::seconds(i);
                        gate.wait();
                        let closed = store
                            .close_manifest(Kind::Rtv, &Filter::default(), None, now, &mut |_| Ok(()))
                            .map_err(|_| "close")
                            .unwrap();
                        closed.batch.map(|b| b.number)
                    })
                })
                .collect();
            closes.into_iter().map(|c| c.join().unwrap()).collect()
        });
        let mut numbers: Vec<i64> = batches.iter().flatten().copied().collect();
        numbers.sort();
        let unique = numbers.len();
        numbers.dedup();
        assert_eq!(numbers.len(), unique, "batch numbers are unique: {batches:?}");
        assert!(!numbers.is_empty());
        assert_eq!(b.count("SELECT count(*) FROM manifest_units"), ready as i64, "every unit shipped once");
        assert_eq!(b.count("SELECT count(DISTINCT unit_id) FROM manifest_units"), ready as i64);
        assert_eq!(
            b.count("SELECT CAST(coalesce(sum(units), 0) AS BIGINT) FROM manifests"),
            ready as i64,
            "the batches hold exactly the units shipped"
        );
        let verdict = b.store.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
    }

    #[test]
    fn two_closes_at_once_never_share_a_unit_on_a_file() {
        let dir = tempfile::tempdir().unwrap();
        two_closes_at_once_never_share_a_unit(&dir.path().join("dock.db").display().to_string());
    }

    #[test]
    fn two_closes_at_once_never_share_a_unit_on_a_central_database() {
        two_closes_at_once_never_share_a_unit(&pg::fresh_database());
    }

    fn run(dir: &Path, db: &str, args: &[&str]) -> (Option<i32>, String, String) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .current_dir(dir)
            .env_remove("RETURNS_DOCK_PIN")
            .args(["--db", db])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The commands: the manifest as text, CSV and JSON, closed into a file, and bad flags
    /// refused with their exit codes.
    fn the_commands(db: &str, dir: &Path) {
        let opened =
            if db.starts_with("postgres") { db.to_string() } else { dir.join(db).display().to_string() };
        let mut b = Bench::on(Store::open(Path::new(&opened)).unwrap());
        a_day(&mut b);
        drop(b);
        let (code, text, err) = run(dir, db, &["report", "rtv"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(text.starts_with("Return to supplier: units not yet shipped\n"), "{text}");
        assert!(
            text.contains("\nLenovo: 1 unit, 399.00\n")
                && text.contains("Total: 4 units, 826.00 (2 suppliers)"),
            "{text}"
        );
        let (_, zh, _) = run(dir, db, &["--lang", "zh", "report", "rtv"]);
        assert!(
            zh.contains("退供应商清单")
                && zh.contains("功能故障")
                && zh.contains("合计：4 件，826.00（2 个供应商）"),
            "{zh}"
        );
        let (code, json, err) = run(dir, db, &["report", "rtv", "--format", "json", "--supplier", HUAQIANG]);
        assert_eq!(code, Some(0), "{err}");
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!((json["count"].as_i64(), json["value_cents"].as_i64()), (Some(3), Some(42700)));
        assert_eq!(json["groups"][0]["units"][0]["value_cents"].as_i64(), Some(19900));
        assert_eq!(json["batch"], serde_json::Value::Null);
        // Closed into a file: the batch, in the file and in what is said.
        let (code, said, err) =
            run(dir, db, &["report", "rtv", "--close", "--format", "csv", "--excel", "--out", "rtv.csv"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(said.starts_with("RTV batch 1: 4 units shipped, 826.00 (written to rtv.csv)"), "{said}");
        let bytes = std::fs::read(dir.join("rtv.csv")).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBFline,supplier,unit_id"), "a BOM, then the header");
        let csv = String::from_utf8_lossy(&bytes[3..]).into_owned();
        assert_eq!(csv.lines().filter(|l| l.starts_with("unit,")).count(), 4, "{csv}");
        assert!(
            csv.lines().all(|l| l.starts_with("line,") || l.contains(",1,")),
            "every row of batch 1: {csv}"
        );
        assert!(
            csv.lines().last().unwrap().starts_with("total,,") && csv.trim_end().ends_with(",4,826.00"),
            "{csv}"
        );
        assert!(!dir.join("rtv.csv.partial").exists());
        let (code, said, _) = run(dir, db, &["report", "rtv", "--close", "--out", "again.txt"]);
        assert_eq!((code, said.trim()), (Some(0), "nothing to ship: no batch recorded"));
        assert!(!dir.join("again.txt").exists(), "nothing shipped, no manifest written");
        let (code, json, _) = run(dir, db, &["report", "scrap", "--close", "--format", "json"]);
        assert_eq!(code, Some(0));
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!((json["batch"].as_i64(), json["value_cents"].as_i64()), (Some(1), Some(12900)));
        let (code, said, _) = run(dir, db, &["audit", "verify"]);
        assert_eq!(code, Some(0));
        assert!(said.contains("2 manifest batches with 5 units"), "{said}");
        let (code, shown, _) = run(dir, db, &["audit", "show", "--unit", "U00000001"]);
        assert_eq!(code, Some(0));
        assert!(shown.contains("manifest_unit U00000001"), "a unit's history says it left: {shown}");
        // Bad flags.
        for (args, exit, says) in [
            (&["report", "rtv", "--format", "xml"][..], 2, "invalid value 'xml'"),
            (&["report", "rtv", "--excel"][..], 2, "--excel goes with --format csv"),
            (&["report", "rtv", "--supplier", " "][..], 2, "a supplier's name"),
            (
                &["report", "rtv", "--supplier", "ACME"][..],
                1,
                "--supplier ACME: the catalog names no such supplier",
            ),
            (
                &["report", "scrap", "--dock", "MARS"][..],
                1,
                "--dock MARS: no parcel was received at that dock",
            ),
            (&["report", "rtv", "--close", "--all"][..], 2, "unexpected argument '--all'"),
        ] {
            let (code, _, err) = run(dir, db, args);
            assert_eq!(code, Some(exit), "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
        }
        let (code, _, _) = run(dir, db, &["report", "rtv", "--supplier", "no-supplier"]);
        assert_eq!(code, Some(0), "products without a supplier are under NO-SUPPLIER");
    }

    #[test]
    fn the_commands_list_close_and_refuse_on_a_file() {
        let dir = tempfile::tempdir().unwrap();
        the_commands("dock.db", dir.path());
        let (code, _, err) = run(dir.path(), "dock.db", &["report", "rtv", "--out", "dock.db-wal"]);
        assert_eq!(code, Some(3), "{err}");
        assert!(err.contains("this is the database"), "{err}");
        let (code, _, err) = run(dir.path(), "missing.db", &["report", "scrap"]);
        assert_eq!(code, Some(3), "{err}");
        assert!(!dir.path().join("missing.db").exists());
    }

    /// A dock's batches move with it: `db copy` takes them, `audit verify` passes there, and what
    /// was shipped on the file is not listed again on the server.
    #[test]
    fn batches_closed_on_a_file_are_copied_into_a_central_database() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Bench::on(Store::open(&dir.path().join("dock.db")).unwrap());
        a_day(&mut b);
        b.close(Kind::Rtv, Some("Lenovo"));
        b.close(Kind::Scrap, None);
        drop(b);
        let url = pg::fresh_database();
        let (code, said, err) =
            run(dir.path(), "dock.db", &["db", "copy", "--from", "dock.db", "--to", &url]);
        assert_eq!(code, Some(0), "{err}");
        assert!(said.contains("manifests: 2\n") && said.contains("manifest_units: 2\n"), "{said}");
        let mut central = Bench { store: Store::open(Path::new(&url)).unwrap(), tick: 100 };
        let verdict = central.store.verify_audit().unwrap();
        assert!(verdict.ok(), "{:?}", verdict.problems);
        assert_eq!((verdict.manifests, verdict.shipped), (2, 2));
        let left = mf::manifest(Kind::Rtv, &central.listed(Kind::Rtv, None), None, None, None);
        assert_eq!(totals(&left), [(HUAQIANG.into(), 3, 42700, 0)]);
        let next = central.close(Kind::Rtv, None);
        assert_eq!(next.batch, Some(2), "the numbers go on from the file's");
    }

    #[test]
    fn the_commands_list_close_and_refuse_on_a_central_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = pg::fresh_database();
        let store = Store::open(Path::new(&url)).unwrap();
        drop(store);
        the_commands(&url, dir.path());
    }
}

/// Photos as evidence: in the export by their SHA-256, and in the zip after-sales uploads to the
/// marketplace, with a summary naming the RMA, the reason (and the marketplace's id for it) and
/// the serials expected against found.
mod evidence {
    use super::photos::jpeg;
    use super::*;
    use returns_dock::evidence::picture::{self, Kind};
    use returns_dock::store::photos::Target;
    use std::io::Read;

    /// A PNG of noise larger than the 5 MB a marketplace takes (noise does not compress).
    fn large_png() -> Vec<u8> {
        let mut x: u32 = 12345;
        let img = image::RgbImage::from_fn(1400, 1400, |_, _| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = x.to_be_bytes();
            image::Rgb([b[0], b[1], b[2]])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        let bytes = out.into_inner();
        assert!(bytes.len() > returns_dock::evidence::bundle::PHOTO_LIMIT, "{}", bytes.len());
        bytes
    }

    fn attach(d: &mut Dock, target: Target, name: &str, bytes: &[u8]) -> String {
        let pic = picture::examine(bytes).unwrap();
        let a = d.actor();
        let (done, _) = d.store.attach_photo(&a, target, name, &pic, bytes).unwrap();
        assert!(!done.again);
        pic.sha256
    }

    /// RMA-2026-0002 with its refused unit photographed twice (once very large) and the box once.
    fn photographed(d: &mut Dock) -> (i64, Vec<String>) {
        let p = d.open("RMA-2026-0002");
        d.unit(p, "6901234500011", Some("RB5-0000123"), Outcome::Accept, None, None);
        let refused = d.unit(
            p,
            "6901234500011",
            Some("RB5-FAKE999"),
            Outcome::Refuse,
            Some(Reason::SerialMismatch),
            None,
        );
        let unit = Target { parcel: p, unit: Some(refused) };
        let shas = vec![
            attach(d, unit, "IMG_0001.jpg", &jpeg(1)),
            attach(d, unit, "IMG_0002.png", &large_png()),
            attach(d, Target { parcel: p, unit: None }, "IMG_0003.jpg", &jpeg(3)),
        ];
        d.sign(p);
        (refused, shas)
    }

    #[test]
    fn the_export_and_the_zip_carry_the_photos_the_destination_and_the_marketplaces_id() {
        let mut d = Dock::new();
        let (refused, shas) = photographed(&mut d);
        std::fs::write(
            d.dir.path().join("returns-dock.toml"),
            "[marketplace]\nname = \"Tmall\"\n[marketplace.refusal_ids]\nSERIAL-MISMATCH = \"3007\"\n",
        )
        .unwrap();
        let run = |args: &[&str]| command(d.dir.path(), args);
        let out = run(&["export", "--out", "x.csv"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let rows = read_csv(&d.dir.path().join("x.csv"));
        let of = |unit: &str| rows.iter().find(|r| &r[col("unit_id")] == unit).unwrap();
        let row = of(&format!("U{refused:08}"));
        // The unit's photos in the order taken, then the box's own.
        assert_eq!(&row[col("photos")], shas.join(";"));
        assert_eq!(&row[col("destination")], "REFUSED-HOLD");
        assert_eq!(&row[col("refuse_reason_id")], "3007");
        let accepted = rows.iter().find(|r| &r[col("serial")] == "RB5-0000123").unwrap();
        assert_eq!((&accepted[col("photos")], &accepted[col("destination")]), (shas[2].as_str(), "STOCK"));
        assert_eq!(&accepted[col("refuse_reason_id")], "", "an accepted unit has no refusal id");
        // The contract's 25 keep their names and order; the evidence comes after them.
        assert_eq!(&COLUMNS[..3], ["rma_no", "order_no", "tracking_no"]);
        assert_eq!(&COLUMNS[25..], ["photos", "destination", "refuse_reason_id"]);

        let out = run(&["export", "evidence", "--rma", "RMA-2026-0002", "--out", "ev.zip"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("3 photos (1 made smaller, under 5 MB)"), "{said}");
        let file = std::fs::File::open(d.dir.path().join("ev.zip")).unwrap();
        let mut zip = zip::ZipArchive::new(file).unwrap();
        let mut read = |name: &str| {
            let mut bytes = Vec::new();
            zip.by_name(name)
                .unwrap_or_else(|_| panic!("{name} in the zip"))
                .read_to_end(&mut bytes)
                .unwrap();
            bytes
        };
        let summary: serde_json::Value = serde_json::from_slice(&read("summary.json")).unwrap();
        assert_eq!(summary["rma_no"], "RMA-2026-0002");
        assert_eq!(summary["marketplace"], "Tmall");
        let unit =
            summary["units"].as_array().unwrap().iter().find(|u| u["serial_found"] == "RB5-FAKE999").unwrap();
        assert_eq!(unit["reason"], "SERIAL-MISMATCH");
        assert_eq!(unit["refuse_reason_id"], "3007");
        assert_eq!(unit["serial_matches"], false);
        assert_eq!(unit["serials_expected"], serde_json::json!(["RB5-0000123", "RB5-0000124"]));
        assert_eq!(unit["outcome"], "refuse");
        assert_eq!(unit["photos"].as_array().unwrap().len(), 3);
        // Each photo once, under its SHA-256; the large one made smaller, still a picture.
        let first = read(&format!("photos/{}.jpg", shas[0]));
        assert_eq!(picture::sha256_hex(&first), shas[0], "a small photo goes as it was taken");
        let smaller = read(&format!("photos/{}.jpg", shas[1]));
        assert!(smaller.len() <= returns_dock::evidence::bundle::PHOTO_LIMIT, "{}", smaller.len());
        assert_eq!(picture::examine(&smaller).unwrap().kind, Kind::Jpeg);
        let photos = summary["photos"].as_array().unwrap();
        assert!(photos.iter().any(|p| p["sha256"] == shas[1].as_str() && p["resized"] == true), "{photos:?}");
        let text = String::from_utf8(read("summary.txt")).unwrap();
        assert!(text.contains("Evidence for return RMA-2026-0002"), "{text}");
        assert!(
            text.contains("serial RB5-FAKE999 (expected RB5-0000123, RB5-0000124: DOES NOT MATCH)"),
            "{text}"
        );
        assert!(text.contains("reason SERIAL-MISMATCH") && text.contains("marketplace id 3007"), "{text}");
        // In Chinese.
        let out =
            run(&["--lang", "zh", "export", "evidence", "--rma", "RMA-2026-0002", "--out", "ev-zh.zip"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut zh =
            zip::ZipArchive::new(std::fs::File::open(d.dir.path().join("ev-zh.zip")).unwrap()).unwrap();
        let mut text = String::new();
        zh.by_name("summary.txt").unwrap().read_to_string(&mut text).unwrap();
        assert!(text.contains("退货凭证 RMA-2026-0002") && text.contains("不一致"), "{text}");
        // No such return: refused, nothing written.
        let out = run(&["export", "evidence", "--rma", "RMA-0000-NONE", "--out", "none.zip"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no return RMA-0000-NONE"));
        assert!(!d.dir.path().join("none.zip").exists());
    }

    #[test]
    fn a_picture_changed_or_removed_behind_the_program_fails_the_check() {
        let mut d = Dock::new();
        let (_, shas) = photographed(&mut d);
        let (code, out, err) = super::audit::verify(&d);
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.contains("and 3 photos"), "{out}");
        let folder = returns_dock::store::photos::folder_of(&d.db);
        let first = folder.join(format!("{}.jpg", shas[0]));
        let mut bytes = std::fs::read(&first).unwrap();
        let last = bytes.len() - 10;
        bytes[last] ^= 0xFF;
        std::fs::write(&first, &bytes).unwrap();
        std::fs::remove_file(folder.join(format!("{}.jpg", shas[2]))).unwrap();
        let (code, out, err) = super::audit::verify(&d);
        assert_eq!(code, Some(1), "{out}{err}");
        let all = format!("{out}{err}");
        assert!(all.contains(&shas[0]) && all.contains("changed behind the program"), "{all}");
        assert!(all.contains("(and 1 more)"), "{all}");
    }

    #[test]
    fn a_bad_marketplace_table_or_photo_rule_is_refused_with_its_line() {
        let d = Dock::new();
        for (toml, said) in [
            (
                "[marketplace.refusal_ids]\nDEFECTIVE = \"1\"\nBROKEN = \"2\"\n",
                "returns-dock.toml:3: marketplace.refusal_ids.BROKEN: \"BROKEN\" is not a reason code",
            ),
            (
                "[marketplace.refusal_ids]\nDEFECTIVE = \"a b\"\n",
                "returns-dock.toml:2: marketplace.refusal_ids.DEFECTIVE: must be",
            ),
            (
                "[photos]\nrequired_for = [\"refuse\", \"refused\"]\n",
                "returns-dock.toml:2: photos.required_for: \"refused\" is not an outcome",
            ),
        ] {
            std::fs::write(d.dir.path().join("returns-dock.toml"), toml).unwrap();
            let out = command(d.dir.path(), &["review", "list"]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{err}");
            assert!(err.contains(said), "{err}");
        }
    }
}

/// What an outside pass found in the evidence, each shown the way it was found.
mod evidence_found {
    use super::photos::jpeg;
    use super::*;
    use returns_dock::evidence::picture;
    use returns_dock::store::photos::Target;

    fn attach(d: &mut Dock, target: Target, name: &str, bytes: &[u8]) -> String {
        let pic = picture::examine(bytes).unwrap();
        let a = d.actor();
        d.store.attach_photo(&a, target, name, &pic, bytes).unwrap();
        pic.sha256
    }

    /// Found: the evidence of one return carried the photo of another customer's unit that
    /// came in the same box.
    #[test]
    fn a_box_shared_by_two_returns_gives_each_only_its_own_photos() {
        let mut d = Dock::new();
        let p = d.open("JT5100000000203"); // RMA-2026-0003 and RMA-2026-0004 under one tracking number
        let mine = d.unit(p, "SKU-1006", None, Outcome::Accept, None, None);
        let theirs = d.unit(p, "SKU-1011", None, Outcome::Accept, None, None);
        let mine_sha = attach(&mut d, Target { parcel: p, unit: Some(mine) }, "mine.jpg", &jpeg(1));
        let theirs_sha =
            attach(&mut d, Target { parcel: p, unit: Some(theirs) }, "FLASK_other.jpg", &jpeg(2));
        let box_sha = attach(&mut d, Target { parcel: p, unit: None }, "box.jpg", &jpeg(3));
        d.sign(p);
        let out = command(d.dir.path(), &["export", "evidence", "--rma", "RMA-2026-0003", "--out", "e.zip"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let zip = zip::ZipArchive::new(std::fs::File::open(d.dir.path().join("e.zip")).unwrap()).unwrap();
        let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
        assert!(names.contains(&format!("photos/{mine_sha}.jpg")), "{names:?}");
        assert!(names.contains(&format!("photos/{box_sha}.jpg")), "the box's own photo: {names:?}");
        assert!(!names.iter().any(|n| n.contains(&theirs_sha)), "the other customer's unit: {names:?}");
    }

    /// Found: `--out` inside the photos' folder overwrote a stored picture; a picture row
    /// deleted behind the program passed `audit verify` and left the zip short without a word;
    /// a return never received gave an empty zip.
    #[test]
    fn the_store_is_no_place_for_the_zip_and_a_picture_gone_is_said() {
        let mut d = Dock::new();
        let p = d.open("RMA-2026-0009");
        let u = d.unit(p, "6901234500059", None, Outcome::Refuse, Some(Reason::Used), None);
        let one = attach(&mut d, Target { parcel: p, unit: Some(u) }, "a.jpg", &jpeg(4));
        let two = attach(&mut d, Target { parcel: p, unit: Some(u) }, "b.jpg", &jpeg(5));
        d.sign(p);
        let store = returns_dock::store::photos::folder_of(&d.db);
        let inside = store.join(format!("{one}.jpg"));
        let out = command(
            d.dir.path(),
            &["export", "evidence", "--rma", "RMA-2026-0009", "--out", inside.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("the folder the photos are kept in"));
        assert_eq!(picture::sha256_hex(&std::fs::read(&inside).unwrap()), one, "the picture untouched");
        // A picture's row removed by another program (which does not keep the foreign keys).
        let c = rusqlite::Connection::open(&d.db).unwrap();
        c.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        c.execute("DELETE FROM pictures WHERE sha256 = ?1", [&two]).unwrap();
        drop(c);
        let out = command(d.dir.path(), &["audit", "verify"]);
        let said =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(said.contains(&format!("its picture {two} is not in the database")), "{said}");
        // Its bytes are still what they are named: the photo still goes.
        let out = command(d.dir.path(), &["export", "evidence", "--rma", "RMA-2026-0009", "--out", "e.zip"]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("2 photos"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        // Its file gone too: left out, and said, the other photo still goes.
        std::fs::remove_file(store.join(format!("{two}.jpg"))).unwrap();
        let out = command(d.dir.path(), &["export", "evidence", "--rma", "RMA-2026-0009", "--out", "e.zip"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("1 photos; 1 left out: could not be read"), "{said}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("photo {two} left out of the evidence"))
        );
        // Not received: refused, nothing written.
        let out =
            command(d.dir.path(), &["export", "evidence", "--rma", "RMA-2026-0010", "--out", "none.zip"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("has not been received"));
        assert!(!d.dir.path().join("none.zip").exists());
    }

    /// Found: a camera folder set to the photos' own folder took the pictures kept there for
    /// new ones and removed them.
    #[test]
    fn the_camera_folder_is_never_where_the_database_or_its_photos_are() {
        let d = Dock::new();
        let store = returns_dock::store::photos::folder_of(&d.db);
        std::fs::create_dir(&store).unwrap();
        // Found: `{station}` let a station id such as `../x` put its folder anywhere.
        std::fs::write(d.dir.path().join("returns-dock.toml"), "[photos]\ninbox = \"camera/{station}\"\n")
            .unwrap();
        let out = command(d.dir.path(), &["station", "--station", "../x"]);
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("may not hold /"));
        assert!(!d.dir.path().join("x").exists() && !d.dir.path().join("camera").exists());
        for (inbox, said) in [
            (store.display().to_string(), "where the photos are kept"),
            (".".into(), "where the database is kept"),
        ] {
            std::fs::write(
                d.dir.path().join("returns-dock.toml"),
                format!("[photos]\ninbox = \"{inbox}\"\n"),
            )
            .unwrap();
            let out = command(d.dir.path(), &["station"]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{err}");
            assert!(err.contains(said), "{err}");
        }
    }
}

/// The export as a workbook, read back with a real reader: the JSON's rows exactly, each cell
/// of its kind (amounts numbers, times dates, ids text), no formula anywhere, the headers in
/// the export's language over the contract's field names, frozen and filtered.
mod workbook {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Read;

    fn read(path: &Path) -> (Vec<Vec<Data>>, usize) {
        let mut book: Xlsx<_> = calamine::open_workbook(path).unwrap();
        let sheet = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&sheet).unwrap();
        let formulas = book.worksheet_formula(&sheet).unwrap();
        let live = formulas.used_cells().filter(|(_, _, f)| !f.is_empty()).count();
        (range.rows().map(|r| r.to_vec()).collect(), live)
    }

    fn text(c: &Data) -> String {
        match c {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) => format!("{f:.2}"),
            Data::DateTime(t) => t.as_datetime().unwrap().format("%Y-%m-%dT%H:%M:%S").to_string(),
            other => panic!("a cell of an unexpected kind: {other:?}"),
        }
    }

    #[test]
    fn the_workbook_holds_the_jsons_rows_in_cells_of_their_kind_and_no_formula() {
        let mut d = Dock::new();
        troubled_parcel(&mut d);
        let (_, json) = d.export("x.json", Format::Json, Span::All, false);
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let expected = v.as_array().unwrap();
        let (_, path) =
            d.export("x.xlsx", Format::Xlsx(returns_dock::domain::codes::Lang::Zh), Span::All, false);
        let (rows, live) = read(&path);
        assert_eq!(live, 0, "no cell is a formula");
        assert_eq!(rows[0][0], Data::String("售后单号".into()), "row 1: the headers in Chinese");
        let names: Vec<String> = rows[1].iter().map(text).collect();
        assert_eq!(names, COLUMNS.to_vec(), "row 2: the contract's field names");
        assert_eq!(rows.len() - 2, expected.len());
        for (row, want) in rows[2..].iter().zip(expected) {
            for (i, column) in COLUMNS.iter().enumerate() {
                let want = want[column].as_str().unwrap();
                let got = &row[i];
                match *column {
                    "unit_value" if !want.is_empty() => {
                        assert!(matches!(got, Data::Float(_)), "{column}: {got:?}")
                    }
                    "received_at" | "signed_at" | "reviewed_at" if !want.is_empty() => {
                        assert!(matches!(got, Data::DateTime(_)), "{column}: {got:?}");
                        assert_eq!(text(got), want[..19], "{column}: the clock of the time's own offset");
                        continue;
                    }
                    _ if !want.is_empty() => assert!(matches!(got, Data::String(_)), "{column}: {got:?}"),
                    _ => {}
                }
                assert_eq!(text(got), want, "{column}");
            }
        }
        // The hostile note is the text it was, not a formula and not guarded.
        assert!(rows.iter().flatten().any(|c| *c == Data::String("=HYPERLINK(\"http://x\")".into())));
        // Long order numbers stay text, every digit.
        let order = COLUMNS.iter().position(|c| *c == "order_no").unwrap();
        assert!(rows[2..].iter().all(|r| matches!(r[order], Data::String(_))));
        // Frozen under the two header rows, the filter on the second.
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut sheet = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut sheet).unwrap();
        assert!(sheet.contains("ySplit=\"2\"") && sheet.contains("state=\"frozen\""), "{sheet}");
        assert!(sheet.contains("<autoFilter ref=\"A2:AB"), "{sheet}");
        // Each column as wide as its widest cell (set once the last row was written); Excel
        // gives neighbours of one width one range.
        let attr = |col: &str, name: &str| -> f64 {
            let (_, rest) = format!(" {col}")
                .split_once(&format!(" {name}=\""))
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .unwrap();
            rest.split('"').next().unwrap().parse().unwrap()
        };
        let mut widths = vec![None; COLUMNS.len()];
        for col in sheet.split("<col ").skip(1) {
            for i in attr(col, "min") as usize..=attr(col, "max") as usize {
                widths[i - 1] = Some(attr(col, "width"));
            }
        }
        for (i, column) in COLUMNS.iter().enumerate() {
            let width = widths[i].unwrap_or_else(|| panic!("{column}: no width in {sheet}"));
            let widest = rows.iter().map(|r| text(&r[i]).chars().count()).max().unwrap();
            assert!(width >= widest.min(60) as f64, "{column}: {width} for a cell of {widest}");
        }
        // English headers by default, the same field names under them.
        let (_, en) =
            d.export("x-en.xlsx", Format::Xlsx(returns_dock::domain::codes::Lang::En), Span::All, false);
        let (rows, _) = read(&en);
        assert_eq!(rows[0][0], Data::String("RMA".into()));
        assert_eq!(rows[1].iter().map(text).collect::<Vec<_>>(), COLUMNS.to_vec());
    }

    #[test]
    fn the_command_line_writes_a_workbook_with_a_batch_of_its_own() {
        let mut d = Dock::new();
        troubled_parcel(&mut d);
        let out = command(d.dir.path(), &["--lang", "zh", "export", "--format", "xlsx"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let named = std::fs::read_dir(d.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .find(|n| n.starts_with("returns-export-b0001-") && n.ends_with(".xlsx"))
            .expect("the batch's workbook");
        let (rows, _) = read(&d.dir.path().join(&named));
        assert_eq!(rows[0][1], Data::String("订单号".into()));
        let format: String = d
            .store
            .conn()
            .query_row("SELECT format FROM export_batches WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(format, "xlsx");
        let again =
            command(d.dir.path(), &["export", "--format", "xlsx", "--batch", "1", "--out", "again.xlsx"]);
        assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
        assert_eq!(read(&d.dir.path().join("again.xlsx")).0.len(), rows.len());
    }
}

/// The feedback sheet as a workbook: a summary first, a sheet per section with the JSON's
/// figures in typed cells, native charts, in the sheet's language, no formula.
#[test]
fn the_feedback_workbook_has_the_jsons_figures_and_a_chart_per_comparison() {
    use calamine::{Data, Reader, Xlsx};
    let mut d = Dock::new();
    troubled_parcel(&mut d);
    let span = ["--from", "2026-11-16", "--to", "2026-11-22"];
    let json = command(d.dir.path(), &[&["report", "feedback", "--format", "json"][..], &span].concat());
    let sheet: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let out = command(
        d.dir.path(),
        &[&["--lang", "zh", "report", "feedback", "--format", "xlsx", "--out", "fb.xlsx"][..], &span]
            .concat(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = d.dir.path().join("fb.xlsx");
    let mut book: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names(), ["概要", "部门", "原因", "质量问题SKU", "处理时长", "超时包裹"]);
    for name in book.sheet_names() {
        let formulas = book.worksheet_formula(&name).unwrap();
        assert_eq!(formulas.used_cells().filter(|(_, _, f)| !f.is_empty()).count(), 0, "{name}");
    }
    let summary = book.worksheet_range("概要").unwrap();
    let first = summary.get_value((2, 0)).unwrap().to_string();
    assert_eq!(first, format!("验货 {} 件，签收 {} 个包裹。", sheet["units"], sheet["parcels_signed"]));
    for (name, key) in [("部门", "by_department"), ("原因", "by_cause")] {
        let range = book.worksheet_range(name).unwrap();
        let want = sheet[key].as_array().unwrap();
        for (i, c) in want.iter().enumerate() {
            let r = i as u32 + 1;
            assert_eq!(
                range.get_value((r, 0)),
                Some(&Data::String(c["code"].as_str().unwrap().into())),
                "{name}"
            );
            assert_eq!(range.get_value((r, 2)), Some(&Data::Float(c["count"].as_f64().unwrap())), "{name}");
            let Some(Data::Float(share)) = range.get_value((r, 3)) else { panic!("{name}: a share") };
            assert!((share - c["share"].as_f64().unwrap()).abs() < 1e-9, "{name}");
        }
    }
    // The charts: departments, causes, the defect SKUs (the troubled parcel has none), turnaround.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    // Printed, each table goes across one landscape page (found: two pages for some).
    for i in 2..=6 {
        use std::io::Read;
        let mut xml = String::new();
        zip.by_name(&format!("xl/worksheets/sheet{i}.xml")).unwrap().read_to_string(&mut xml).unwrap();
        assert!(xml.contains("orientation=\"landscape\"") && xml.contains("fitToHeight=\"0\""), "sheet {i}");
    }
    let charts: Vec<String> = zip
        .file_names()
        .map(|n| n.unwrap().to_string())
        .filter(|n| n.starts_with("xl/charts/chart"))
        .collect();
    assert_eq!(
        charts.len(),
        if sheet["top_product_skus"].as_array().unwrap().is_empty() { 3 } else { 4 },
        "{charts:?}"
    );
    // Without --out a workbook is refused (it is not for a terminal).
    let out = command(d.dir.path(), &["report", "feedback", "--format", "xlsx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out FILE.xlsx"));
    // Found by an outside pass: `--out` naming a folder left `folder.partial` behind.
    std::fs::create_dir(d.dir.path().join("reports")).unwrap();
    {
        let args = &["report", "feedback", "--format", "xlsx", "--out", "reports"][..];
        let out = command(d.dir.path(), args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("reports: "), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("is a folder"), "{args:?}");
        let left: Vec<_> = std::fs::read_dir(d.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(left.is_empty(), "{args:?}: {left:?}");
    }
    // An export to a folder takes a fresh name in it, as it does here without `--out`.
    let out = command(d.dir.path(), &["export", "--all", "--format", "xlsx", "--out", "reports"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: Vec<String> = std::fs::read_dir(d.dir.path().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        made.len() == 1 && made[0].starts_with("returns-export-b") && made[0].ends_with(".xlsx"),
        "{made:?}"
    );
    // A week with nothing inspected names no department "most to act on" (it said "(0 units,
    // 0%)"), and one unit is "1 unit".
    let empty = ["report", "feedback", "--from", "2020-01-06", "--to", "2020-01-12", "--format", "xlsx"];
    let out = command(d.dir.path(), &[&empty[..], &["--out", "empty.xlsx"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut book: Xlsx<_> = calamine::open_workbook(d.dir.path().join("empty.xlsx")).unwrap();
    let summary = book.worksheet_range("Summary").unwrap();
    let lines: Vec<String> = summary.rows().map(|r| r[0].to_string()).collect();
    assert!(lines.contains(&"0 units inspected, 0 parcels signed.".to_string()), "{lines:?}");
    assert!(
        !lines.iter().any(|l| l.starts_with("Most to act on") || l.starts_with("First cause")),
        "{lines:?}"
    );
}

/// The return rate per product: a period's returns against the shipments of the same-length
/// period `policy.return_lag_days` earlier, against hand-counted values; shipments imported
/// once however often the file is loaded.
#[test]
fn return_rates_set_returns_against_the_shipments_of_the_period_before() {
    let mut d = Dock::new();
    troubled_parcel(&mut d); // 2 x SKU-1001 and 1 x SKU-1017 inspected on 2026-11-22
    let file = d.dir.path().join("shipments.csv");
    std::fs::write(
        &file,
        "商家编码,发货数量,发货日期\nSKU-1001,30,2026-11-03\nSKU-1001,10,2026-11-03\nSKU-1001,15,2026/11/08\n\
         SKU-1001,999,2026-11-09\nSKU-1001,999,2026-11-01\nSKU-1017,100,2026-11-05 10:30:00\n",
    )
    .unwrap();
    let import = |d: &Dock| command(d.dir.path(), &["import", "shipments", "shipments.csv"]);
    let out = import(&d);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("5 created, 0 updated, 0 unchanged, 0 refused"), "{said}");
    // The same file again changes nothing; the two lines of 2026-11-03 are one day's 40.
    let again = String::from_utf8_lossy(&import(&d).stdout).to_string();
    assert!(again.contains("0 created, 0 updated, 5 unchanged"), "{again}");
    // The same file twice in one run (a second download beside the first) would count each
    // of its days double: refused, nothing changed.
    std::fs::copy(&file, d.dir.path().join("shipments (1).csv")).unwrap();
    let twice = command(d.dir.path(), &["import", "shipments", "shipments.csv", "shipments (1).csv"]);
    let err = String::from_utf8_lossy(&twice.stderr);
    assert_eq!(twice.status.code(), Some(1), "{err}");
    assert!(err.contains("the same shipments as shipments.csv, already in this run"), "{err}");
    let day: i64 = d
        .store
        .conn()
        .query_row(
            "SELECT qty FROM shipments WHERE sku = 'SKU-1001' AND shipped_on = '2026-11-03'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(day, 40);
    // The sheet of the week of 16 to 22 November, with `more` arguments.
    let week = |d: &Dock, more: &[&str]| {
        command(
            d.dir.path(),
            &[&["report", "feedback", "--from", "2026-11-16", "--to", "2026-11-22"][..], more].concat(),
        )
    };
    let sheet = |d: &Dock| -> serde_json::Value {
        serde_json::from_slice(&week(d, &["--format", "json"]).stdout).unwrap()
    };
    let s = sheet(&d);
    let r = &s["return_rates"];
    assert_eq!(
        (r["lag_days"].as_i64(), r["shipped_from"].as_str(), r["shipped_to"].as_str()),
        (Some(14), Some("2026-11-02"), Some("2026-11-08"))
    );
    let skus = r["skus"].as_array().unwrap();
    // SKU-1001: 2 returned / (40 + 15) shipped = 3.6%, over 3%. The SKU-1017 in the box is a
    // wrong item (the return named SKU-1001): no return of SKU-1017, which was never sold to
    // that customer (found: it was counted, and could raise its product's alert).
    assert_eq!(
        (skus[0]["sku"].as_str(), skus[0]["returned"].as_i64(), skus[0]["shipped"].as_i64()),
        (Some("SKU-1001"), Some(2), Some(55))
    );
    assert!((skus[0]["rate"].as_f64().unwrap() - 2.0 / 55.0).abs() < 1e-12);
    assert_eq!(skus[0]["alert"], true);
    assert_eq!(skus.len(), 1, "{skus:?}");
    // A lag of a week sets them against 2026-11-09 to 2026-11-15: 2 / 999.
    std::fs::write(
        d.dir.path().join("returns-dock.toml"),
        "[policy]\nreturn_lag_days = 7\nreturn_rate_alert = 0.5\n",
    )
    .unwrap();
    let s = sheet(&d);
    let first = &s["return_rates"]["skus"][0];
    assert_eq!(
        (first["sku"].as_str(), first["shipped"].as_i64(), first["alert"].as_bool()),
        (Some("SKU-1001"), Some(999), Some(false))
    );

    // A changed figure updates its day; a bad row is refused with its line, nothing written.
    std::fs::write(&file, "sku,qty,date\nSKU-1001,41,2026-11-03\n").unwrap();
    assert!(String::from_utf8_lossy(&import(&d).stdout).contains("0 created, 1 updated"));
    std::fs::write(
        &file,
        "sku,qty,date\nSKU-1001,5,2026-11-04\nSKU-1001,-1,2026-11-05\nSKU-1001,3,yesterday\n",
    )
    .unwrap();
    let out = import(&d);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("shipments.csv:3: qty -1 must be 0 to 1000000000"), "{err}");
    assert!(err.contains("shipments.csv:4: date \"yesterday\" is not a day"), "{err}");
    let n: i64 = d
        .store
        .conn()
        .query_row("SELECT count(*) FROM shipments WHERE shipped_on = '2026-11-04'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0, "all or nothing");
    // In the text sheet, flagged.
    let text = String::from_utf8_lossy(&week(&d, &[]).stdout).to_string();
    assert!(text.contains("Return rate per product") && text.contains("SKU-1001"), "{text}");
    // And in the workbook, a sheet of its own with the figures as numbers.
    let out = week(&d, &["--format", "xlsx", "--out", "fb.xlsx"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(d.dir.path().join("fb.xlsx")).unwrap();
    let range = book.worksheet_range("Return rate").unwrap();
    assert_eq!(range.get_value((1, 0)), Some(&calamine::Data::String("SKU-1001".into())));
    assert_eq!(range.get_value((1, 3)), Some(&calamine::Data::Float(999.0)));

    // Found by an outside pass: one dock's sheet set that dock's returns against every dock's
    // shipments (which are not recorded by dock), so a product's rate fell with each dock
    // added. The rate counts every dock's returns, and says so.
    d.store
        .conn()
        .execute_batch(
            "UPDATE parcels SET dock = 'north';
             INSERT INTO parcels (scan, station, operator, received_at, state, dock)
               SELECT 'JD-SOUTH-1', station, operator, received_at, 'signed', 'south' FROM parcels LIMIT 1;",
        )
        .unwrap();
    let out = week(&d, &["--dock", "south", "--format", "json"]);
    let south: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(south["dock"], "south");
    assert_eq!(south["units"], 0, "the sheet is the south dock's");
    let first = &south["return_rates"]["skus"][0];
    assert_eq!((first["sku"].as_str(), first["returned"].as_i64()), (Some("SKU-1001"), Some(2)), "{south}");
    let text = String::from_utf8_lossy(&week(&d, &["--dock", "south"]).stdout).to_string();
    assert!(text.contains("returned in the period at every dock"), "{text}");
    // A SKU the catalog does not know (or knows in other letters) is loaded, and said.
    std::fs::write(
        &file,
        "sku,qty,date\nsku-1001,5,2026-10-01\nNOPE-1,3,2026-10-01\nSKU-1001,1,2026-10-01\n",
    )
    .unwrap();
    let out = import(&d);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("2 SKU(s) not in the catalog, loaded but matched by no return: NOPE-1, sku-1001 (the catalog has SKU-1001)"),
        "{err}"
    );
}
