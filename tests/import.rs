//! The database and the imports, through the library: what lands in the tables, what is
//! refused and with which message, and what never changes.

use chrono::{DateTime, FixedOffset};
use encoding_rs::GB18030;
use returns_dock::import::fields::RETURNS;
use returns_dock::import::{self, ImportOptions, ImportReport, Source};
use returns_dock::store::{Store, StoreError, SCHEMA_VERSION};
use rusqlite::params;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap()
}

struct Dock {
    dir: TempDir,
    store: Store,
}

impl Dock {
    fn new() -> Dock {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("dock.db")).unwrap();
        Dock { dir, store }
    }

    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn returns(&mut self, paths: &[&Path]) -> ImportReport {
        self.returns_with(paths, ImportOptions::new(now()))
    }

    fn returns_with(&mut self, paths: &[&Path], opts: ImportOptions) -> ImportReport {
        let sources: Vec<Source> = paths.iter().map(|p| Source::File(p.to_path_buf())).collect();
        import::returns::import(&mut self.store, &sources, &opts).unwrap()
    }

    /// `returns` from a workbook's first shown sheet.
    fn workbook(&mut self, path: &Path) -> ImportReport {
        import::returns::import(&mut self.store, &[Source::workbook(path, None)], &ImportOptions::new(now()))
            .unwrap()
    }

    /// That `returns` from a workbook are refused with a message beginning `start`, nothing
    /// stored.
    fn workbook_refused(&mut self, path: &Path, start: &str) {
        let report = self.workbook(path);
        let said = self.messages(&report);
        assert!(said.iter().any(|m| m.starts_with(start)), "{start}: {said:?}");
        assert_eq!(self.count("SELECT count(*) FROM returns"), 0, "all or nothing: {said:?}");
    }

    fn count(&self, sql: &str) -> i64 {
        self.store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn text(&self, sql: &str) -> String {
        self.store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// The messages as a user who ran the import from the folder would see them.
    fn messages(&self, report: &ImportReport) -> Vec<String> {
        let prefix = format!("{}/", self.dir.path().display());
        report.errors.iter().chain(&report.warnings).map(|p| p.to_string().replace(&prefix, "")).collect()
    }
}

const CANONICAL: &str = "rma_no,order_no,tracking_no,carrier,customer,phone,reason,resolution,created_at,sku,barcode,title,qty,serials,unit_value\n\
R-1,O-1,SF1234567890123,顺丰速运,张三,13812345678,质量问题,refund,2026-11-20 14:30:00,SKU-A,4006381333931,蓝牙耳机,1,SN-1,199.00\n\
R-1,O-1,SF1234567890123,顺丰速运,张三,13812345678,质量问题,refund,2026-11-20 14:30:00,SKU-B,,数据线,2,,29.9\n\
R-2,O-2,SF1234567890123,顺丰速运,张三,13812345678,不想要了,exchange,2026-11-20T06:30:00+00:00,SKU-C,,T恤,1,,79\n";

fn assert_canonical_loaded(d: &Dock) {
    assert_eq!(d.count("SELECT count(*) FROM returns"), 2);
    assert_eq!(d.count("SELECT count(*) FROM return_lines"), 3);
    assert_eq!(d.count("SELECT sum(qty) FROM return_lines"), 4);
    assert_eq!(d.count("SELECT unit_value_cents FROM return_lines WHERE sku = 'SKU-B'"), 2990);
    assert_eq!(d.text("SELECT barcode FROM return_lines WHERE sku = 'SKU-A'"), "04006381333931");
    assert_eq!(d.text("SELECT serials FROM return_lines WHERE sku = 'SKU-A'"), "SN-1");
    assert_eq!(d.text("SELECT customer FROM returns WHERE rma_no = 'R-1'"), "张三");
    assert_eq!(d.text("SELECT requested_at FROM returns WHERE rma_no = 'R-1'"), "2026-11-20T14:30:00+08:00");
    assert_eq!(d.text("SELECT requested_at FROM returns WHERE rma_no = 'R-2'"), "2026-11-20T06:30:00+00:00");
    assert_eq!(d.text("SELECT resolution FROM returns WHERE rma_no = 'R-2'"), "exchange");
    // Two RMAs in one box: one tracking number.
    assert_eq!(d.count("SELECT count(*) FROM returns WHERE tracking_no = 'SF1234567890123'"), 2);
}

#[test]
fn migrates_a_new_file_and_refuses_a_newer_one() {
    let d = Dock::new();
    assert_eq!(d.store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(d.text("PRAGMA journal_mode"), "wal");
    assert_eq!(d.count("PRAGMA foreign_keys"), 1);
    assert_eq!(d.count("PRAGMA synchronous"), 2, "FULL");
    let path = d.dir.path().join("dock.db");
    d.store.conn().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    drop(d.store);
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { found, .. } if found == SCHEMA_VERSION + 1), "{err}");
    assert!(err.to_string().contains("newer returns-dock"));
}

#[test]
fn a_database_at_the_first_schema_migrates_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_init.sql")).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO users (id, name, role, created_at, updated_at) VALUES ('U1', 'Old', 'operator', 'x', 'x')",
            [],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let name: String =
        store.conn().query_row("SELECT name FROM users WHERE id = 'u1'", [], |r| r.get(0)).unwrap();
    assert_eq!(name, "Old", "ids are case-insensitive, data kept");
    let plan: String = store
        .conn()
        .query_row("EXPLAIN QUERY PLAN SELECT id FROM reviews WHERE parcel_id = 1", [], |r| r.get(3))
        .unwrap();
    assert!(plan.contains("reviews_parcel"), "the second migration's index is used: {plan}");
}

/// A dock's history from before the log was chained is sealed as it stands when the program
/// is updated: its entries keep their content and get their hashes in order, and each unit
/// already recorded gets an entry with its state, so `audit verify` holds from then on.
#[test]
fn a_history_from_before_the_chain_is_sealed_on_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        returns_dock::store::older_schema(&conn, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, name, role, created_at, updated_at) VALUES ('DEMO', 'Old', 'operator', 'x', 'x');
             INSERT INTO audit_log (at, station, actor, action, subject, detail)
               VALUES ('2026-11-01T08:00:00.000Z', 'ST01', 'DEMO', 'sign_in', NULL, NULL);
             INSERT INTO parcels (scan, tracking_no, tracking_key, state, station, operator, received_at)
               VALUES ('T1', 'T1', 'T1', 'open', 'ST01', 'DEMO', '2026-11-01T08:01:00.000Z');
             INSERT INTO units (parcel_id, seq, scan, sku, outcome, grade, cause, station, operator, scanned_at)
               VALUES (1, 1, '690', 'SKU-1', 'accept', 'A', 'CHANGED-MIND', 'ST01', 'DEMO', '2026-11-01T08:02:00.000Z');
             INSERT INTO audit_log (at, station, actor, action, subject, detail)
               VALUES ('2026-11-01T08:03:00.000Z', 'ST01', 'DEMO', 'sign', 'P1', NULL);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let v = returns_dock::store::chain::verify(store.conn()).unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(
        (v.entries, v.units, v.parcels),
        (4, 1, 1),
        "two old entries, the unit's state and the parcel's"
    );
    let kept: String =
        store.conn().query_row("SELECT action FROM audit_log WHERE id = 2", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, "sign", "old entries keep their content");
    drop(store);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE units SET outcome = 'scrap', grade = NULL", [])
        .unwrap();
    let store = Store::open(&path).unwrap();
    let v = returns_dock::store::chain::verify(store.conn()).unwrap();
    assert!(v.problems[0].contains("outcome is scrap but the log says accept"), "{:?}", v.problems);
}

#[test]
fn phones_are_stored_masked_and_a_database_of_whole_numbers_is_masked_by_its_migration() {
    let mut d = Dock::new();
    let file = d.file("r.csv", CANONICAL);
    d.returns(&[&file]);
    assert_eq!(d.count("SELECT count(*) FROM returns WHERE phone = '138****5678'"), 2);
    // A database of schema version 5 held the numbers whole.
    d.store
        .conn()
        .execute_batch(
            "UPDATE returns SET phone = '+86 138 1234 5678', content_hash = 0; DROP TABLE return_receipts;
             ALTER TABLE products DROP COLUMN boxes; ALTER TABLE units DROP COLUMN boxes_in;
             ALTER TABLE units DROP COLUMN box_marks;
             DROP TRIGGER export_due_parcel_closed; DROP TRIGGER export_due_parcel_closed_new; DROP TRIGGER export_due_review_decided;
             DROP TRIGGER IF EXISTS export_due_return_closed; DROP TRIGGER IF EXISTS export_due_return_closed_new;
             DROP TRIGGER export_due_policy_unit; DROP TABLE export_due;
             DROP TRIGGER parcel_returns_open_box; DROP TRIGGER parcels_box_closed;
             DROP INDEX parcel_returns_one_open_box; ALTER TABLE parcel_returns DROP COLUMN open_box; ALTER TABLE parcels DROP COLUMN dock;
             ALTER TABLE export_batches DROP COLUMN dock; ALTER TABLE units DROP COLUMN destination; ALTER TABLE unit_steps DROP COLUMN destination; DROP TABLE photos; DROP TABLE pictures; DROP TABLE shipments;
             DROP TABLE manifest_units; DROP TABLE manifests;
             PRAGMA user_version = 5;",
        )
        .unwrap();
    let path = d.store.path().to_path_buf();
    drop(std::mem::replace(&mut d.store, Store::open_in_memory().unwrap()));
    d.store = Store::open(&path).unwrap();
    assert_eq!(d.count("SELECT count(*) FROM returns WHERE phone = '138****5678'"), 2);
    assert_eq!(d.count("SELECT count(*) FROM returns WHERE phone <> '138****5678'"), 0);
    // Its returns' fingerprints were made again from what is stored: the same file is unchanged.
    let again = d.returns(&[&file]);
    assert!(again.summary().ends_with("0 created, 0 updated, 2 unchanged, 0 refused"), "{}", again.summary());
}

/// Found by a second outside pass: a supervisor deactivated by another while their long
/// users import ran went on adding users, a supervisor among them, under the PIN checked at
/// the start. Each user written checks the authority again.
#[test]
fn a_supervisor_deactivated_meanwhile_changes_no_more_users() {
    use returns_dock::store::auth::{check_pin, PinRules};
    let mut d = Dock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let opts = ImportOptions::new(now());
    import::users::import(&mut d.store, &[Source::File(root.join("data/users.csv"))], &opts).unwrap();
    let rules = PinRules::default();
    let sup1 = check_pin(d.store.conn_mut(), "SUP1", "2468", None, now(), &rules).unwrap().unwrap();
    let as_sup1 = ImportOptions { by: Some(sup1), ..opts.clone() };
    let two = d.file("two.csv", "id,name,role,pin\nSUP2,Two,supervisor,1357\n");
    import::users::import(&mut d.store, &[Source::File(two)], &as_sup1).unwrap();
    let sup2 = check_pin(d.store.conn_mut(), "SUP2", "1357", None, now(), &rules).unwrap().unwrap();
    // SUP1 deactivates SUP2 while SUP2's import (already proven) is about to write.
    let off = d.file("off.csv", "id,name,active\nSUP2,Two,no\n");
    let r = import::users::import(&mut d.store, &[Source::File(off)], &as_sup1).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let evil = d.file("evil.csv", "id,name,role,pin\nEVIL,Eve,supervisor,9999\n");
    let as_sup2 = ImportOptions { by: Some(sup2), ..opts };
    let r = import::users::import(&mut d.store, &[Source::File(evil)], &as_sup2).unwrap();
    assert!(
        r.errors.iter().any(|e| e.to_string().contains("SUP2 is no longer an active supervisor")),
        "{:?} {} active={}",
        r.errors,
        r.summary(),
        d.count("SELECT active FROM users WHERE id = 'SUP2'")
    );
    assert_eq!(d.count("SELECT count(*) FROM users WHERE id = 'EVIL'"), 0);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "shopping list\n").unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::NotSqlite { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "shopping list\n");
    assert!(!dir.path().join("notes.db-wal").exists());
}

#[test]
fn a_damaged_database_is_reported_not_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dock.db");
    drop(Store::open(&path).unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().skip(100).take(4000) {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open(&path).err().expect("damaged file must not open cleanly");
    assert!(matches!(err, StoreError::Damaged { .. } | StoreError::NotSqlite { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the evidence is untouched");
}

#[test]
fn the_audit_log_refuses_update_and_delete() {
    let d = Dock::new();
    returns_dock::store::audit(d.store.conn(), now(), Some("ST01"), Some("U1"), "sign", Some("P1"), None)
        .unwrap();
    let upd = d.store.conn().execute("UPDATE audit_log SET action = 'nothing'", []);
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    let del = d.store.conn().execute("DELETE FROM audit_log", []);
    assert!(del.unwrap_err().to_string().contains("append-only"));
    assert_eq!(d.count("SELECT count(*) FROM audit_log WHERE action = 'sign'"), 1);
}

#[test]
fn csv_utf8_loads_every_field() {
    let mut d = Dock::new();
    let f = d.file("r.csv", CANONICAL);
    let r = d.returns(&[&f]);
    assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
    assert!(r.committed);
    assert_eq!((r.files[0].created, r.files[0].rows), (2, 3));
    assert_canonical_loaded(&d);
}

#[test]
fn the_same_data_in_every_format_and_encoding_loads_the_same() {
    let tsv = CANONICAL.replace(',', "\t");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(CANONICAL.as_bytes());
    let gb = GB18030.encode(CANONICAL).0.into_owned();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(tsv.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let nested = r#"[
  {"rma_no": "R-1", "order_no": "O-1", "tracking_no": "SF1234567890123", "carrier": "顺丰速运",
   "customer": "张三", "phone": "13812345678", "reason": "质量问题", "resolution": "refund",
   "created_at": "2026-11-20 14:30:00",
   "lines": [
     {"sku": "SKU-A", "barcode": "4006381333931", "title": "蓝牙耳机", "qty": 1, "serials": ["SN-1"], "unit_value": 199.00},
     {"sku": "SKU-B", "title": "数据线", "qty": 2, "unit_value": "29.9"}
   ]},
  {"rma_no": "R-2", "order_no": "O-2", "tracking_no": "SF1234567890123", "carrier": "顺丰速运",
   "customer": "张三", "phone": "13812345678", "reason": "不想要了", "resolution": "exchange",
   "created_at": "2026-11-20T06:30:00+00:00",
   "lines": [{"sku": "SKU-C", "title": "T恤", "qty": 1, "unit_value": 79}]}
]"#;
    let mut rdr = csv::Reader::from_reader(CANONICAL.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let jsonl: String = rdr
        .records()
        .map(|rec| {
            let obj: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), serde_json::Value::String(v.to_string())))
                .collect();
            serde_json::to_string(&obj).unwrap() + "\n"
        })
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("r.tsv", tsv.clone().into_bytes(), "TSV", "UTF-8"),
        ("r.csv", bom, "CSV", "UTF-8 with BOM"),
        ("r.csv", gb, "CSV", "GB18030"),
        ("r.txt", utf16, "TSV", "UTF-16LE"),
        ("r.json", nested.as_bytes().to_vec(), "JSON", "UTF-8"),
        ("r.jsonl", jsonl.into_bytes(), "JSON", "UTF-8"),
    ];
    for (name, bytes, format, encoding) in cases {
        let mut d = Dock::new();
        let f = d.file(name, &bytes);
        let r = d.returns(&[&f]);
        assert!(r.errors.is_empty(), "{format} {encoding}: {:?}", d.messages(&r));
        assert_eq!((r.files[0].format.as_str(), r.files[0].encoding.as_str()), (format, encoding));
        assert_canonical_loaded(&d);
    }
}

#[test]
fn every_alias_of_every_field_is_understood() {
    let samples = [
        "R-9",
        "O-9",
        "YT1234567890123",
        "圆通",
        "王五",
        "13900000000",
        "质量问题",
        "维修",
        "2026-11-01 08:00:00",
        "SKU-Z",
        "96385074",
        "保温杯",
        "3",
        "S1;S2",
        "12.50",
    ];
    let check = |d: &Dock| {
        assert_eq!(d.text("SELECT rma_no FROM returns"), "R-9");
        assert_eq!(d.text("SELECT order_no FROM returns"), "O-9");
        assert_eq!(d.text("SELECT tracking_no FROM returns"), "YT1234567890123");
        assert_eq!(d.text("SELECT carrier FROM returns"), "圆通");
        assert_eq!(d.text("SELECT customer FROM returns"), "王五");
        assert_eq!(d.text("SELECT phone FROM returns"), "139****0000", "kept masked only");
        assert_eq!(d.text("SELECT reason FROM returns"), "质量问题");
        assert_eq!(d.text("SELECT resolution FROM returns"), "repair");
        assert_eq!(d.text("SELECT requested_at FROM returns"), "2026-11-01T08:00:00+08:00");
        assert_eq!(d.text("SELECT sku FROM return_lines"), "SKU-Z");
        assert_eq!(d.text("SELECT barcode FROM return_lines"), "00000096385074");
        assert_eq!(d.text("SELECT title FROM return_lines"), "保温杯");
        assert_eq!(d.count("SELECT qty FROM return_lines"), 3);
        assert_eq!(d.text("SELECT serials FROM return_lines"), "S1;S2");
        assert_eq!(d.count("SELECT unit_value_cents FROM return_lines"), 1250);
    };
    for (field_index, field) in RETURNS.iter().enumerate() {
        for alias in std::iter::once(&field.name).chain(field.aliases.iter()) {
            let headers: Vec<String> = RETURNS
                .iter()
                .enumerate()
                .map(|(i, f)| if i == field_index { alias.to_string() } else { f.name.to_string() })
                .collect();
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&headers).unwrap();
            w.write_record(samples).unwrap();
            let mut d = Dock::new();
            let f = d.file("a.csv", w.into_inner().unwrap());
            let r = d.returns(&[&f]);
            assert!(r.errors.is_empty(), "alias {alias} of {}: {:?}", field.name, d.messages(&r));
            assert!(r.files[0].ignored_headers.is_empty(), "alias {alias} ignored");
            check(&d);
        }
    }
}

#[test]
fn the_taobao_and_amazon_samples_load_with_their_quirks() {
    let mut d = Dock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tb = root.join("data/returns-taobao.csv");
    let am = root.join("data/returns-amazon.tsv");
    let r = d.returns(&[&tb, &am]);
    assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
    assert_eq!(r.files[0].encoding, "GB18030");
    assert_eq!(r.files[1].format, "TSV");
    assert!(r.files[0].ignored_headers.contains(&"支付宝交易号".to_string()));
    // Excel's guards are gone: no leading quote or tab on the long numbers.
    assert_eq!(d.count("SELECT count(*) FROM returns WHERE rma_no LIKE '''%' OR order_no LIKE '\t%'"), 0);
    assert_eq!(
        d.text("SELECT order_no FROM returns WHERE rma_no = '268800000000000'"),
        "4012345678901230000"
    );
    assert_eq!(d.text("SELECT tracking_no FROM returns WHERE rma_no = '268800000000000'"), "SF1400000000101");
    // Amazon: the RMA ID column, StandardRefund/Replacement, one RMA with two items.
    assert_eq!(d.text("SELECT resolution FROM returns WHERE rma_no = 'DcW2nV8kRMA'"), "exchange");
    assert_eq!(
        d.count("SELECT count(*) FROM return_lines l JOIN returns r ON r.id = l.return_id WHERE r.rma_no = 'DmP2cK5tRMA'"),
        2
    );
}

fn refused(d: &mut Dock, body: &str) -> Vec<String> {
    let f = d.file("bad.csv", body);
    let r = d.returns(&[&f]);
    assert!(!r.committed, "a refused row loads nothing");
    assert_eq!(d.count("SELECT count(*) FROM returns"), 0);
    d.messages(&r)
}

#[test]
fn each_refusal_names_file_line_and_reason() {
    let mut d = Dock::new();
    let h = "rma_no,order_no,sku,qty,unit_value,created_at\n";
    let cases = [
        ("R1,,S1,1,,\n", "bad.csv:2: order_no is missing"),
        ("R1,O1,,1,,\n", "bad.csv:2: sku is missing"),
        ("R1,O1,S1,1.5,,\n", "bad.csv:2: quantity \"1.5\" is not a whole number"),
        ("R1,O1,S1,-2,,\n", "bad.csv:2: quantity -2 must be at least 1"),
        ("R1,O1,S1,two,,\n", "bad.csv:2: quantity \"two\" is not a positive whole number"),
        ("R1,O1,S1,1,12.345,\n", "bad.csv:2: unit_value \"12.345\" has more than two decimals"),
        ("R1,O1,S1,1,abc,\n", "bad.csv:2: unit_value \"abc\" is not an amount"),
        ("R1,O1,S1,1,,2026-02-30\n", "bad.csv:2: date \"2026-02-30\" is not a date"),
        ("R1,O1,S1,1,,\nR1,O1,S1,2,,\n", "bad.csv:3: duplicate line: RMA R1 already lists SKU S1 on line 2"),
        ("R1,O1,S1,1,,\nR1,O2,S2,1,,\n", "bad.csv:3: RMA R1 has order_no O1 on line 2 but O2 here"),
    ];
    for (rows, expected) in cases {
        let msgs = refused(&mut d, &format!("{h}{rows}"));
        assert!(msgs.iter().any(|m| m.starts_with(expected)), "expected {expected:?} in {msgs:?}");
    }
    let msgs = refused(&mut d, "order_no,sku\nO1,S1\n");
    assert!(msgs[0].starts_with("bad.csv:1: no column for rma_no"), "{msgs:?}");
    let msgs = refused(&mut d, "");
    assert_eq!(msgs, vec!["bad.csv:1: the file is empty"]);
}

#[test]
fn every_error_is_listed_not_just_the_first() {
    let mut d = Dock::new();
    let msgs = refused(&mut d, "rma_no,order_no,sku,qty\nR1,O1,S1,0\nR2,O2,,1\nR3,O3,S3,x\n");
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs[0].starts_with("bad.csv:2:")
            && msgs[1].starts_with("bad.csv:3:")
            && msgs[2].starts_with("bad.csv:4:")
    );
}

/// Found by fuzzing: a file of one byte that could start a GB18030 character panicked (the
/// decoder was given too little room). Now it is refused like any other broken text.
#[test]
fn a_lone_gb18030_lead_byte_is_refused_not_a_crash() {
    let mut d = Dock::new();
    for bytes in [&b"\x8f"[..], b"\x80\x80\x80\x80", b"rma_no\n\x81"] {
        let f = d.file("odd.csv", bytes);
        let r = d.returns(&[&f]);
        assert!(!r.committed, "{bytes:?}");
        assert!(d.messages(&r).iter().all(|m| m.starts_with("odd.csv:")), "{:?}", d.messages(&r));
    }
}

#[test]
fn an_unknown_encoding_is_refused_with_its_line() {
    let mut d = Dock::new();
    let mut bytes = b"rma_no,order_no,sku\nR1,O1,S1\n".to_vec();
    bytes.extend_from_slice(&[b'R', b'2', b',', 0x81, 0x20, 0xFF, b'\n']);
    let f = d.file("weird.csv", &bytes);
    let r = d.returns(&[&f]);
    assert!(!r.committed);
    let msgs = d.messages(&r);
    assert!(msgs[0].starts_with("weird.csv:3: unknown text encoding"), "{msgs:?}");
}

#[test]
fn reimporting_the_same_file_changes_nothing() {
    let mut d = Dock::new();
    let f = d.file("r.csv", CANONICAL);
    d.returns(&[&f]);
    let before: String = d.text("SELECT group_concat(updated_at || content_hash) FROM returns");
    let r = d.returns(&[&f]);
    assert_eq!((r.files[0].created, r.files[0].updated, r.files[0].unchanged), (0, 0, 2));
    assert_eq!(d.text("SELECT group_concat(updated_at || content_hash) FROM returns"), before);
    assert_eq!(d.count("SELECT count(*) FROM return_lines"), 3);
}

#[test]
fn a_changed_return_is_updated_until_its_parcel_is_received() {
    let mut d = Dock::new();
    let f = d.file("r.csv", CANONICAL);
    d.returns(&[&f]);
    let changed = CANONICAL.replace("SKU-B,,数据线,2", "SKU-B,,数据线,3");
    let f2 = d.file("r2.csv", &changed);
    let r = d.returns(&[&f2]);
    assert_eq!((r.files[0].updated, r.files[0].unchanged), (1, 1));
    assert_eq!(d.count("SELECT qty FROM return_lines WHERE sku = 'SKU-B'"), 3);

    // The parcel carrying R-1 arrives; then after-sales sends the return again, changed.
    let conn = d.store.conn();
    conn.execute(
        "INSERT INTO users (id, name, role, created_at, updated_at) VALUES ('OP1', 'Op', 'operator', 'x', 'x')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO parcels (scan, station, operator, received_at) VALUES ('SF1234567890123', 'ST01', 'OP1', '2026-11-22T09:00:00+08:00')",
        [],
    )
    .unwrap();
    let parcel = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO parcel_returns (parcel_id, return_id, linked_at, linked_by)
         SELECT ?1, id, 'x', 'OP1' FROM returns WHERE rma_no = 'R-1'",
        params![parcel],
    )
    .unwrap();
    let again = CANONICAL.replace("SKU-B,,数据线,2", "SKU-B,,数据线,5").replace("SKU-A", "SKU-Q");
    let f3 = d.file("r3.csv", &again);
    let r = d.returns(&[&f3]);
    assert!(r.committed);
    assert_eq!(r.files[0].conflicts, 1);
    assert!(r.warnings[0].to_string().contains("RMA R-1 changed, but its parcel"), "{:?}", r.warnings);
    assert_eq!(d.count("SELECT qty FROM return_lines WHERE sku = 'SKU-B'"), 3, "what was received is kept");
    assert_eq!(d.count("SELECT count(*) FROM return_lines WHERE sku = 'SKU-A'"), 1);
}

#[test]
fn rows_of_one_rma_apart_in_the_file_load_as_one_return() {
    let mut d = Dock::new();
    let body = "rma_no,order_no,sku,qty\nR1,O1,A,1\nR2,O2,B,1\nR1,O1,C,2\nR3,O3,D,1\nR2,O2,E,1\n";
    let f = d.file("sorted-by-excel.csv", body);
    let r = d.returns(&[&f]);
    assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
    assert_eq!(r.files[0].created, 3);
    assert_eq!(d.count("SELECT count(*) FROM returns"), 3);
    assert_eq!(
        d.text("SELECT group_concat(sku || qty, ' ') FROM (SELECT l.sku, l.qty FROM return_lines l JOIN returns r ON r.id = l.return_id WHERE r.rma_no = 'R1' ORDER BY l.line_no)"),
        "A1 C2"
    );
    let r = d.returns(&[&f]);
    assert_eq!(r.files[0].unchanged, 3, "and a re-import of the scattered file changes nothing");
}

#[test]
fn skip_invalid_loads_the_rest_and_writes_the_refused_rows() {
    let mut d = Dock::new();
    let body = "rma_no,order_no,sku,qty\nR1,O1,A,1\nR2,O2,B,0\nR2,O2,C,1\nR3,O3,D,1\n";
    let f = d.file("mixed.csv", body);
    let mut opts = ImportOptions::new(now());
    opts.skip_invalid = true;
    let r = d.returns_with(&[&f], opts);
    assert!(r.committed);
    assert_eq!((r.files[0].created, r.files[0].refused, r.files[0].refused_rows), (2, 1, 2));
    assert_eq!(
        d.count("SELECT count(*) FROM returns WHERE rma_no = 'R2'"),
        0,
        "a return loads whole or not at all"
    );
    let rejected = std::fs::read_to_string(d.dir.path().join("mixed.csv.rejected.csv")).unwrap();
    let lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(lines.len(), 3, "{rejected}");
    assert!(lines[0].ends_with("source_line,refused_because"));
    assert!(lines[1].contains(",3,quantity 0 must be at least 1"), "{}", lines[1]);
    assert!(lines[2].contains(",4,another line of this RMA was refused (line 3)"), "{}", lines[2]);
    // The rejected file, once corrected, imports as it is.
    let fixed = d.file("fixed.csv", rejected.replace(",0,,,3,", ",1,,,3,"));
    let r = d.returns(&[&fixed]);
    assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
    assert_eq!(
        d.count(
            "SELECT count(*) FROM return_lines l JOIN returns r ON r.id = l.return_id WHERE r.rma_no = 'R2'"
        ),
        2
    );
}

#[test]
fn dry_run_reports_and_writes_nothing() {
    let mut d = Dock::new();
    let f = d.file("r.csv", CANONICAL);
    let mut opts = ImportOptions::new(now());
    opts.dry_run = true;
    let r = d.returns_with(&[&f], opts);
    assert!(!r.committed);
    assert_eq!(r.files[0].created, 2);
    assert!(r.summary().starts_with("dry run, nothing written: 2 returns"), "{}", r.summary());
    assert_eq!(d.count("SELECT count(*) FROM returns"), 0);
    assert_eq!(d.count("SELECT count(*) FROM imports"), 0);
}

#[test]
fn catalog_and_users_load_with_hashed_pins() {
    let mut d = Dock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let opts = ImportOptions::new(now());
    let r =
        import::catalog::import(&mut d.store, &[Source::File(root.join("data/catalog.csv"))], &opts).unwrap();
    assert!(r.errors.is_empty() && r.files[0].created == 20, "{:?}", r.errors);
    assert_eq!(
        d.text("SELECT sku FROM product_barcodes WHERE code = '00036000291452'"),
        "SKU-1014",
        "UPC-A as GTIN-14"
    );
    let r = import::users::import(&mut d.store, &[Source::File(root.join("data/users.csv"))], &opts).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let hash = d.text("SELECT pin_hash FROM users WHERE id = 'SUP1'");
    assert!(hash.starts_with("$argon2id$") && !hash.contains("2468"));
    assert!(returns_dock::store::auth::verify_pin(&hash, "2468"));
    assert!(!returns_dock::store::auth::verify_pin(&hash, "1357"));
    // Once there is a supervisor, only a supervisor changes users.
    let r = import::users::import(&mut d.store, &[Source::File(root.join("data/users.csv"))], &opts).unwrap();
    assert!(r.errors[0].to_string().contains("needs a supervisor"), "{:?}", r.errors);
    let rules = returns_dock::store::auth::PinRules::default();
    let who = returns_dock::store::auth::check_pin(d.store.conn_mut(), "SUP1", "2468", None, now(), &rules);
    let opts = ImportOptions { by: Some(who.unwrap().unwrap()), ..opts };
    let r = import::users::import(&mut d.store, &[Source::File(root.join("data/users.csv"))], &opts).unwrap();
    assert_eq!(r.files[0].unchanged, 5, "the same PIN again changes nothing");
    assert_eq!(d.text("SELECT pin_hash FROM users WHERE id = 'SUP1'"), hash);

    let bad =
        d.file("users.csv", "id,name,role,pin\nBOSS,Boss,supervisor,\nX 1,Space,operator,\nY,Why,chef,\n");
    let r = import::users::import(&mut d.store, &[Source::File(bad)], &opts).unwrap();
    let msgs = d.messages(&r);
    assert!(
        msgs.iter().any(|m| m == "users.csv:2: supervisor BOSS needs a pin (4 to 12 digits)"),
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.starts_with("users.csv:3: id \"X 1\" must be letters")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m == "users.csv:4: role \"chef\" is not operator or supervisor"), "{msgs:?}");

    let bad = d.file("cat.csv", "sku,name,barcodes\nS1,One,4006381333932\nS2,Two,6901234500011\n");
    let r = import::catalog::import(&mut d.store, &[Source::File(bad)], &opts).unwrap();
    let msgs = d.messages(&r);
    assert!(
        msgs.contains(
            &"cat.csv:2: barcode 4006381333932 is not a valid GTIN (its check digit should be 1)".into()
        ),
        "{msgs:?}"
    );
    assert!(
        msgs.contains(&"cat.csv:3: barcode 06901234500011 already belongs to SKU SKU-1001".into()),
        "{msgs:?}"
    );
}

#[test]
fn gen_output_imports_cleanly() {
    let mut d = Dock::new();
    let (mut out, mut cat) = (Vec::new(), Vec::new());
    let opts = returns_dock::gen::GenOptions { returns: 2000, seed: 42, max_lines: None };
    let s = returns_dock::gen::generate(&opts, &mut out, &mut cat).unwrap();
    let rf = d.file("g.csv", out);
    let cf = d.file("g.catalog.csv", cat);
    let io = ImportOptions::new(now());
    let r = import::catalog::import(&mut d.store, &[Source::File(cf)], &io).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors.first());
    let r = d.returns(&[&rf]);
    assert!(r.errors.is_empty(), "{:?}", r.errors.first());
    assert_eq!(d.count("SELECT count(*) FROM returns") as u64, s.returns);
    assert_eq!(d.count("SELECT count(*) FROM return_lines") as u64, s.lines);
    assert!(
        d.count("SELECT count(*) FROM (SELECT tracking_key FROM returns GROUP BY 1 HAVING count(*) > 1)") > 0
    );
    // Every line's barcode is in the catalog.
    assert_eq!(
        d.count("SELECT count(*) FROM return_lines WHERE barcode NOT IN (SELECT code FROM product_barcodes)"),
        0
    );
}

/// Files by name and content.
type Files = Vec<(&'static str, Vec<u8>)>;

/// What a hostile or odd input must come to.
enum Expect {
    /// Refused with these messages (each the start of one), and the database as it was.
    Refused(&'static [&'static str]),
    /// Loaded; then each query gives its text.
    Loaded { warning: Option<&'static str>, checks: &'static [(&'static str, &'static str)] },
}

/// The catalogue of bad input: one row per case, each file written as given, imported on top
/// of a database that already holds two returns.
#[test]
fn the_bad_input_catalogue() {
    const H: &str = "rma_no,order_no,sku,qty,title,customer,reason,created_at\n";
    let long_title = format!("{H}R9,O9,S1,1,{},c,r,\n", "x".repeat(10_000));
    let long_rma = format!("{H}{},O9,S1,1,t,c,r,\n", "R".repeat(10_000));
    let mut mixed = format!("{H}R9,O9,S1,1,蓝牙耳机,张三,r,\n").into_bytes();
    mixed.extend(GB18030.encode("R10,O10,S1,1,蓝牙耳机,李四,r,\n").0.iter());
    // 8,000 GB18030 rows (past the 256 KB that decide the encoding), then one in UTF-8.
    let mut mixed_far = GB18030.encode(H).0.into_owned();
    for i in 0..8000 {
        mixed_far
            .extend(GB18030.encode(&format!("G{i},O{i},S1,1,蓝牙耳机 黑色,张三丰,质量问题,\n")).0.iter());
    }
    mixed_far.extend("U1,O1,S1,1,蓝牙耳机,李四,r,\n".as_bytes());
    let mut binary = H.as_bytes().to_vec();
    binary.extend(std::iter::repeat_n(0u8, 400));
    let dates = format!(
        "{H}D1,O1,S1,1,t,c,r,2026-11-20\nD2,O2,S1,1,t,c,r,2026-11-20 14:30:00\n\
         D3,O3,S1,1,t,c,r,2026/11/20 14:30\nD4,O4,S1,1,t,c,r,2026-11-20T14:30:00+01:00\n"
    );
    let cases: Vec<(&str, Files, Expect)> = vec![
        ("empty file", vec![("x.csv", vec![])], Expect::Refused(&["x.csv:1: the file is empty"])),
        (
            "header only",
            vec![("x.csv", H.into())],
            Expect::Loaded { warning: Some("x.csv:1: only a header, no rows"), checks: &[] },
        ),
        (
            "10,000-character title",
            vec![("x.csv", long_title.into())],
            Expect::Refused(&["x.csv:2: title is 10000 characters long (at most 2000)"]),
        ),
        (
            "10,000-character RMA number",
            vec![("x.csv", long_rma.into())],
            Expect::Refused(&["x.csv:2: rma_no is 10000 characters long (at most 100)"]),
        ),
        (
            "a NUL byte in an identifier",
            vec![("x.csv", format!("{H}R9,O9,S\u{0}1,1,t,c,r,\n").into())],
            Expect::Refused(&["x.csv:2: sku contains control characters"]),
        ),
        (
            "a NUL byte in a text",
            vec![("x.csv", format!("{H}R9,O9,S1,1,t\u{0}t,c,r,\n").into())],
            Expect::Refused(&["x.csv:2: title contains a NUL byte"]),
        ),
        ("a binary file", vec![("x.csv", binary)], Expect::Refused(&["x.csv:2: not a text file"])),
        (
            "invalid UTF-8 that is no GB18030 either",
            vec![("x.csv", [H.as_bytes(), b"R9,O9,S1,1,\x81\x20\xff,c,r,\n"].concat())],
            Expect::Refused(&["x.csv:2: unknown text encoding"]),
        ),
        (
            "UTF-8 and GB18030 rows in one file",
            vec![("x.csv", mixed)],
            Expect::Refused(&["x.csv:2: mixed text encodings: this line is UTF-8 but line 3 is GB18030"]),
        ),
        (
            "a UTF-8 row far down a GB18030 file",
            vec![("x.csv", mixed_far)],
            Expect::Refused(&["x.csv:8002: mixed text encodings: this line is UTF-8 but the file is GB18030"]),
        ),
        (
            "a quote left open swallows the rows after it",
            vec![("x.csv", format!("{H}R9,O9,S1,1,\"open,c,r,\nR10,O10,S2,1,t,c,r,\n").into())],
            Expect::Refused(&["x.csv:2: title runs over several lines that look like further rows"]),
        ),
        (
            "terminal escape sequences in names and reasons are kept, never shown raw",
            vec![("x.csv", format!("{H}R9,O9,S1,1,\u{1b}[2J\u{1b}]0;pwn\u{7},\u{1b}[31m王五,\u{9b}31m坏了,\n").into())],
            Expect::Loaded {
                warning: None,
                checks: &[
                    ("SELECT customer FROM returns WHERE rma_no = 'R9'", "\u{1b}[31m王五"),
                    ("SELECT instr(title, char(27)) > 0 FROM return_lines WHERE sku = 'S1'", "1"),
                ],
            },
        ),
        (
            "a formula in every text field is kept as text",
            vec![("x.csv", format!("{H}R9,O9,=cmd|' /c calc'!A0,1,=1+1,+SUM(A1),-2+3,\n").into())],
            Expect::Loaded {
                warning: None,
                checks: &[
                    ("SELECT customer || ' ' || reason FROM returns WHERE rma_no = 'R9'", "+SUM(A1) -2+3"),
                    ("SELECT title FROM return_lines WHERE return_id = (SELECT id FROM returns WHERE rma_no = 'R9')", "=1+1"),
                ],
            },
        ),
        (
            "one RMA in two files with different lines",
            vec![("a.csv", format!("{H}R9,O9,S1,1,t,c,r,\n").into()), ("b.csv", format!("{H}R9,O9,S2,1,t,c,r,\n").into())],
            Expect::Refused(&["b.csv:2: RMA R9 is also in a.csv, with other content"]),
        ),
        (
            "one RMA in two files alike (overlapping exports)",
            vec![("a.csv", format!("{H}R9,O9,S1,1,t,c,r,\n").into()), ("b.csv", format!("{H}R9,O9,S1,1,t,c,r,\n").into())],
            Expect::Loaded { warning: None, checks: &[("SELECT count(*) FROM returns WHERE rma_no = 'R9'", "1")] },
        ),
        (
            "negative and fractional quantities",
            vec![("x.csv", format!("{H}R9,O9,S1,-2,t,c,r,\nR10,O10,S1,1.5,t,c,r,\nR11,O11,S1,0.0,t,c,r,\n").into())],
            Expect::Refused(&[
                "x.csv:2: quantity -2 must be at least 1",
                "x.csv:3: quantity \"1.5\" is not a whole number",
                "x.csv:4: quantity 0 must be at least 1",
            ]),
        ),
        (
            "dates in four forms",
            vec![("x.csv", dates.into())],
            Expect::Loaded {
                warning: None,
                checks: &[(
                    "SELECT group_concat(requested_at, ' ') FROM (SELECT requested_at FROM returns WHERE rma_no LIKE 'D%' ORDER BY rma_no)",
                    "2026-11-20T00:00:00+08:00 2026-11-20T14:30:00+08:00 2026-11-20T14:30:00+08:00 2026-11-20T14:30:00+01:00",
                )],
            },
        ),
        (
            "a day-first date is ambiguous",
            vec![("x.csv", format!("{H}R9,O9,S1,1,t,c,r,03/04/2026\n").into())],
            Expect::Refused(&["x.csv:2: date \"03/04/2026\" is not a date"]),
        ),
        (
            "JSON cut off in the middle",
            vec![("x.json", b"[{\"rma_no\":\"R9\",\"order_no\":\"O9\",\"lines\":[{\"sku\":\"S1\"".to_vec())],
            Expect::Refused(&["x.json:1: invalid JSON: EOF while parsing"]),
        ),
        (
            "JSON with a number where a record should be",
            vec![("x.json", b"[{\"rma_no\":\"R9\",\"order_no\":\"O9\",\"lines\":[{\"sku\":\"S1\"}]}, 5]".to_vec())],
            Expect::Refused(&["x.json:1: expected an object {...}"]),
        ),
    ];
    for (name, files, expect) in cases {
        let mut d = Dock::new();
        let base = d.file("base.csv", CANONICAL);
        assert!(d.returns(&[&base]).committed);
        let snapshot = |d: &Dock| {
            d.text(
                "SELECT (SELECT count(*) FROM returns) || '/' || (SELECT total(content_hash) FROM returns) || '/' ||
                        (SELECT count(*) FROM return_lines) || '/' || (SELECT count(*) FROM imports WHERE finished_at IS NOT NULL)",
            )
        };
        let before = snapshot(&d);
        let paths: Vec<PathBuf> = files.iter().map(|(n, bytes)| d.file(n, bytes)).collect();
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let report = d.returns(&refs);
        let msgs = d.messages(&report);
        match expect {
            Expect::Refused(wanted) => {
                assert!(!report.committed, "{name}: refused");
                assert_eq!(snapshot(&d), before, "{name}: the database as it was");
                for w in wanted {
                    assert!(msgs.iter().any(|m| m.starts_with(w)), "{name}: expected {w:?} in {msgs:?}");
                }
                assert_eq!(msgs.len(), wanted.len(), "{name}: one message a problem: {msgs:?}");
            }
            Expect::Loaded { warning, checks } => {
                assert!(report.committed && report.errors.is_empty(), "{name}: loaded: {msgs:?}");
                match warning {
                    Some(w) => assert!(msgs.iter().any(|m| m.starts_with(w)), "{name}: {w:?} in {msgs:?}"),
                    None => assert!(msgs.is_empty(), "{name}: {msgs:?}"),
                }
                for (sql, want) in checks {
                    let got: String = d
                        .store
                        .conn()
                        .query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
                        .map(|v| match v {
                            rusqlite::types::Value::Text(t) => t,
                            rusqlite::types::Value::Integer(i) => i.to_string(),
                            other => format!("{other:?}"),
                        })
                        .unwrap();
                    assert_eq!(&got, want, "{name}: {sql}");
                }
            }
        }
    }
}

/// Imports of anything: random bytes, and tables built from real headers and hostile values.
/// Whatever comes in, the import either loads it whole (no errors) or refuses it with each
/// message naming the file, and leaves nothing behind; it never panics.
mod property {
    use proptest::prelude::*;
    use returns_dock::import::{self, ImportOptions, Source};
    use returns_dock::store::Store;

    fn import_bytes(name: &str, bytes: Vec<u8>) -> Result<(), TestCaseError> {
        let mut store = Store::open_in_memory().unwrap();
        let source = Source::Bytes { name: name.to_string(), bytes: bytes.into() };
        let report =
            import::returns::import(&mut store, &[source], &ImportOptions::new(super::now())).unwrap();
        let returns: i64 = store.conn().query_row("SELECT count(*) FROM returns", [], |r| r.get(0)).unwrap();
        let lines: i64 =
            store.conn().query_row("SELECT count(*) FROM return_lines", [], |r| r.get(0)).unwrap();
        prop_assert_eq!(report.committed, report.errors.is_empty());
        for e in report.errors.iter().chain(&report.warnings) {
            let text = e.to_string();
            prop_assert!(text.starts_with(&format!("{name}:")), "{}", text);
            prop_assert!(!text.contains('\u{1b}'), "no terminal control in a message: {:?}", text);
        }
        if report.committed {
            let created: u64 = report.files.iter().map(|f| f.created).sum();
            prop_assert_eq!(returns as u64, created);
            prop_assert!(returns == 0 || lines >= returns, "every return has a line");
        } else {
            prop_assert_eq!((returns, lines), (0, 0), "a refused import leaves nothing");
        }
        Ok(())
    }

    const HEADERS: &[&str] = &[
        "rma_no",
        "退款编号",
        "order_no",
        "订单编号",
        "sku",
        "商家编码",
        "qty",
        "数量",
        "title",
        "customer",
        "reason",
        "created_at",
        "unit_value",
        "serials",
        "tracking_no",
        "resolution",
        "barcode",
        "rma_no",
    ];
    const VALUES: &[&str] = &[
        "",
        "R1",
        "R2",
        "O1",
        "S1",
        "1",
        "2",
        "-1",
        "1.5",
        "0",
        "99999999999",
        "2026-11-20",
        "20/11/2026",
        "=1+1",
        "\u{1b}[2J",
        "张三",
        "\"",
        "\"\"",
        "a,b",
        "'R1",
        "=\"R1\"",
        "\t",
        "\u{0}",
        "NaN",
        "1e9",
        "12.345",
        "refund",
        "换货",
        "SN-1;SN-2",
        "4006381333931",
        " R1 ",
        "ＲＭＡ１",
        "\r",
        "\n",
    ];

    prop_compose! {
        fn table()(
            sep in prop::sample::select(vec![",", "\t", ";"]),
            header in prop::collection::vec(prop::sample::select(HEADERS), 0..8),
            rows in prop::collection::vec(prop::collection::vec(prop::sample::select(VALUES), 0..9), 0..12),
            crlf in any::<bool>(),
            bom in any::<bool>(),
        ) -> Vec<u8> {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = header.join(sep) + end;
            for r in rows {
                text.push_str(&r.join(sep));
                text.push_str(end);
            }
            let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { vec![] };
            bytes.extend(text.into_bytes());
            bytes
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1500),
                        name in prop::sample::select(vec!["x.csv", "x.tsv", "x.json", "x.jsonl", "x.txt"])) {
            import_bytes(name, bytes)?;
        }

        #[test]
        fn tables_of_real_headers_and_hostile_values(bytes in table()) {
            import_bytes("x.csv", bytes)?;
        }

        #[test]
        fn json_of_hostile_values(rma in prop::sample::select(VALUES), qty in prop::sample::select(VALUES),
                                  sku in prop::sample::select(VALUES), nested in any::<bool>()) {
            let rec = if nested {
                serde_json::json!([{ "rma_no": rma, "order_no": "O1", "lines": [{ "sku": sku, "qty": qty }] }])
            } else {
                serde_json::json!([{ "rma_no": rma, "order_no": "O1", "sku": sku, "qty": qty }])
            };
            import_bytes("x.json", rec.to_string().into_bytes())?;
        }
    }
}

/// Imports and the write lock: no import holds it for long, a dry run never takes it, and a
/// refused import shows nothing to anyone at any moment.
mod locks {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    /// `gen` output of `returns` returns (about twice as many lines) in the dock's folder.
    fn generated(d: &Dock, returns: u64) -> PathBuf {
        let (mut out, mut cat) = (Vec::new(), Vec::new());
        let opts = returns_dock::gen::GenOptions { returns, seed: 5, max_lines: None };
        returns_dock::gen::generate(&opts, &mut out, &mut cat).unwrap();
        d.file("big.csv", out)
    }

    /// What a station does meanwhile: a small write transaction every few milliseconds on its
    /// own connection (the program's, with its busy handler) until `done`; each one's wait for
    /// the lock (its durable commit, which waits for the disk, not for us, apart), and whether
    /// it went through. `look` runs between writes.
    /// Imports `file` on a thread of its own while a station writes (and `look` runs between its
    /// writes) until the import ends: the report and the station's waits.
    fn import_while_a_station_writes(
        db: &Path,
        file: &Path,
        look: impl FnMut(),
    ) -> (import::ImportReport, Vec<(Duration, bool)>) {
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            let import = s.spawn(|| {
                let mut store = Store::open(db).unwrap();
                let r = import::returns::import(
                    &mut store,
                    &[Source::File(file.to_path_buf())],
                    &ImportOptions::new(now()),
                );
                done.store(true, Ordering::Release);
                r.unwrap()
            });
            let waits = station_writes(db, &done, look);
            (import.join().unwrap(), waits)
        })
    }

    fn station_writes(db: &Path, done: &AtomicBool, mut look: impl FnMut()) -> Vec<(Duration, bool)> {
        let store = Store::open(db).unwrap();
        let mut waits = Vec::new();
        let mut n = 0;
        while !done.load(Ordering::Acquire) {
            n += 1;
            let t = Instant::now();
            let locked = store.conn().execute_batch("BEGIN IMMEDIATE").is_ok();
            let waited = t.elapsed();
            let ok = locked
                && store
                    .conn()
                    .execute_batch(&format!(
                        "INSERT INTO meta (key, value) VALUES ('probe', '{n}')
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value; COMMIT;"
                    ))
                    .is_ok();
            waits.push((waited, ok));
            look();
            std::thread::sleep(Duration::from_millis(3));
        }
        waits
    }

    fn longest(waits: &[(Duration, bool)]) -> Duration {
        waits.iter().map(|w| w.0).max().unwrap_or_default()
    }

    #[test]
    fn a_station_never_waits_long_while_a_large_import_runs() {
        let d = Dock::new();
        let file = generated(&d, 40_000);
        let db = d.dir.path().join("dock.db");
        let (report, waits) = import_while_a_station_writes(&db, &file, || {});
        assert!(report.committed && report.errors.is_empty(), "{:?}", report.errors.first());
        assert_eq!(d.count("SELECT count(*) FROM returns"), 40_000);
        assert!(waits.len() >= 50, "the import ran long enough to be measured: {} writes", waits.len());
        assert!(waits.iter().all(|w| w.1), "no write failed");
        let max = longest(&waits);
        // Generous for a debug build on a busy machine; the import's chunks are 40 ms.
        assert!(max < Duration::from_millis(200), "a station's write waited {max:?} during the import");
    }

    #[test]
    fn a_dry_run_takes_no_lock_and_changes_nothing() {
        let mut d = Dock::new();
        let file = generated(&d, 5_000);
        let db = d.dir.path().join("dock.db");
        let watch = rusqlite::Connection::open(&db).unwrap();
        let version = |c: &rusqlite::Connection| -> i64 {
            c.query_row("PRAGMA data_version", [], |r| r.get(0)).unwrap()
        };
        let before = version(&watch);
        // Another program holds the write lock for the whole dry run: the dry run never needs it.
        let holder = rusqlite::Connection::open(&db).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = Instant::now();
        let mut opts = ImportOptions::new(now());
        opts.dry_run = true;
        let r = d.returns_with(&[&file], opts);
        let took = started.elapsed();
        holder.execute_batch("ROLLBACK").unwrap();
        assert!(r.errors.is_empty() && !r.committed, "{:?}", r.errors.first());
        assert_eq!(r.files[0].created, 5_000);
        assert!(took < Duration::from_secs(9), "it did not wait for the lock: {took:?}");
        assert_eq!(version(&watch), before, "nothing was committed");
        for table in ["returns", "imports", "running_work", "audit_log"] {
            assert_eq!(d.count(&format!("SELECT count(*) FROM {table}")), 0, "{table}");
        }
    }

    #[test]
    fn a_large_import_refused_at_its_last_row_shows_nothing_at_any_moment() {
        let d = Dock::new();
        let file = generated(&d, 30_000);
        // One bad row at the very end: quantity 0.
        let header: Vec<String> = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(String::from)
            .collect();
        let bad: Vec<&str> = header
            .iter()
            .map(|h| match h.as_str() {
                "rma_no" => "BAD-1",
                "order_no" => "O-BAD",
                "sku" => "SKU-BAD",
                "qty" => "0",
                _ => "",
            })
            .collect();
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.extend_from_slice(format!("{}\n", bad.join(",")).as_bytes());
        std::fs::write(&file, bytes).unwrap();
        let db = d.dir.path().join("dock.db");
        let reader = rusqlite::Connection::open(&db).unwrap();
        let mut seen = Vec::new();
        let (report, waits) = import_while_a_station_writes(&db, &file, || {
            seen.push(reader.query_row("SELECT count(*) FROM returns", [], |r| r.get::<_, i64>(0)).unwrap());
        });
        assert!(!report.committed);
        assert_eq!(
            d.messages(&report),
            vec![
                "big.csv:".to_string()
                    + &report.errors[0].line.unwrap().to_string()
                    + ": quantity 0 must be at least 1"
            ]
        );
        assert!(seen.len() >= 20, "sampled while the import ran: {}", seen.len());
        assert!(seen.iter().all(|n| *n == 0), "no return was ever visible");
        assert_eq!(d.count("SELECT count(*) FROM returns"), 0);
        assert_eq!(d.count("SELECT count(*) FROM imports"), 0);
        assert!(
            longest(&waits) < Duration::from_millis(200),
            "checking takes no lock: {:?}",
            longest(&waits)
        );
    }
}

/// Found with the release binary: a message that quotes a hostile file, and the refused rows
/// written back beside it, carried what the file hid in its text. The real binary: a message
/// shows each invisible character as a mark, and the rejected file carries none of them.
#[test]
fn messages_and_the_rejected_file_carry_nothing_a_hostile_file_hid() {
    let d = Dock::new();
    let title = format!("\u{1b}[31mT\u{7}\u{202e}\u{e0041}\u{feff}{}", "\u{301}".repeat(80));
    d.file(
        "evil.csv",
        format!(
            "rma_no,order_no,sku,qty,title,reason\n\
             R1,O1,S1,\u{202e}1\u{1b}[2J,{title},r\n\
             R2,O2,S2,1,蓝牙耳机（黑色）,质量问题\n"
        ),
    );
    d.file("evil.catalog.csv", "sku,name,unit_value\nS1,n,\u{2066}12x\u{7}\n");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_returns-dock"))
            .current_dir(d.dir.path())
            .args(["--db", "dock.db", "import"])
            .args(args)
            .output()
            .unwrap()
    };
    let hidden = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{feff}' | '\u{e0000}'..='\u{e007f}')
    };
    let returns = run(&["returns", "--skip-invalid", "evil.csv"]);
    let said = String::from_utf8(returns.stderr).unwrap();
    assert!(said.contains("quantity \"⟨U+202E⟩1[2J\""), "{said}");
    assert_eq!(said.chars().find(|c| hidden(*c)), None, "{said:?}");
    let catalog = run(&["catalog", "evil.catalog.csv"]);
    assert_eq!(catalog.status.code(), Some(1));
    let said = String::from_utf8(catalog.stderr).unwrap();
    assert!(said.contains("⟨U+2066⟩12x"), "{said}");
    assert_eq!(said.chars().find(|c| hidden(*c)), None, "{said:?}");

    let rejected = std::fs::read_to_string(d.dir.path().join("evil.csv.rejected.csv")).unwrap();
    assert_eq!(rejected.chars().find(|c| hidden(*c) && *c != '\r'), None, "{rejected:?}");
    assert!(rejected.contains(&format!("[31mT{}", "\u{301}".repeat(3))), "{rejected}");
    assert!(!rejected.contains(&"\u{301}".repeat(4)), "{rejected}");
    let store = Store::open(&d.dir.path().join("dock.db")).unwrap();
    let title: String =
        store.conn().query_row("SELECT title FROM return_lines WHERE sku = 'S2'", [], |r| r.get(0)).unwrap();
    assert_eq!(title, "蓝牙耳机（黑色）", "the valid row loaded as it was");
}

/// Workbooks in: each sheet written as an export tool writes it (ids and codes as text, amounts
/// and quantities as numbers, a date as a date), read back with the same header aliases,
/// checks and all-or-nothing as the CSV.
mod workbooks {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime, Workbook};

    /// The rows of a CSV (or TSV) as a workbook's first sheet `sheet`: text as text, except
    /// the columns `numbers` (numbers) and `dates` (dates).
    fn workbook_of(text: &str, delimiter: u8, sheet: &str, numbers: &[&str], dates: &[&str]) -> Vec<u8> {
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        s.set_name(sheet).unwrap();
        let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(text.as_bytes());
        let headers = rdr.headers().unwrap().clone();
        for (c, h) in headers.iter().enumerate() {
            s.write_string(0, c as u16, h).unwrap();
        }
        for (r, rec) in rdr.records().enumerate() {
            for (c, v) in rec.unwrap().iter().enumerate() {
                let (row, col, h) = (r as u32 + 1, c as u16, &headers[c]);
                if v.is_empty() {
                    continue;
                }
                if let Some(n) = v.parse::<f64>().ok().filter(|_| numbers.contains(&h)) {
                    s.write_number(row, col, n).unwrap();
                } else if dates.contains(&h) && v.len() == 19 && !v.contains('T') {
                    let t = ExcelDateTime::parse_from_str(v).unwrap();
                    let shown = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
                    s.write_datetime_with_format(row, col, &t, &shown).unwrap();
                } else {
                    s.write_string(row, col, v).unwrap();
                }
            }
        }
        book.save_to_buffer().unwrap()
    }

    /// A new sheet of `book` with `heads` in its first row.
    fn headed<'a>(book: &'a mut Workbook, heads: &[&str]) -> &'a mut rust_xlsxwriter::Worksheet {
        let s = book.add_worksheet();
        for (c, h) in heads.iter().enumerate() {
            s.write_string(0, c as u16, *h).unwrap();
        }
        s
    }

    fn workbook_source(path: &Path) -> Source {
        Source::workbook(path, None)
    }

    #[test]
    fn the_canonical_file_as_a_workbook_loads_as_its_csv() {
        let mut d = Dock::new();
        let f = d
            .file("r.xlsx", workbook_of(CANONICAL, b',', "Returns", &["qty", "unit_value"], &["created_at"]));
        let r = d.workbook(&f);
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        assert_eq!(r.files[0].format, "workbook");
        assert_canonical_loaded(&d);
        // Headers over the field names again (as this program's own export writes them): the
        // second header row is no row.
        let (head, rest) = CANONICAL.split_once('\n').unwrap();
        let twice = format!("{head}\n{head}\n{rest}");
        let mut d = Dock::new();
        let f = d.file(
            "twice.xlsx",
            workbook_of(&twice, b',', "Returns", &["qty", "unit_value"], &["created_at"]),
        );
        let r = d.workbook(&f);
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        assert_canonical_loaded(&d);
    }

    /// A marketplace's and a shop's real exports (the demo's Taobao file in GB18030, the
    /// Amazon report as TSV), saved as workbooks, store what their text files store.
    #[test]
    fn real_exports_saved_as_workbooks_store_what_their_text_files_store() {
        let dump = |d: &Dock| -> Vec<String> {
            let mut q = d
                .store
                .conn()
                .prepare(
                    "SELECT r.rma_no || '|' || r.order_no || '|' || coalesce(r.tracking_no, '') || '|' || coalesce(r.customer, '')
                            || '|' || coalesce(r.reason, '') || '|' || r.resolution || '|' || coalesce(r.requested_at, '')
                            || '|' || l.sku || '|' || l.qty || '|' || coalesce(l.unit_value_cents, '') || '|' || coalesce(l.title, '')
                     FROM returns r JOIN return_lines l ON l.return_id = r.id ORDER BY r.rma_no, l.line_no",
                )
                .unwrap();
            q.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        let taobao = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/returns-taobao.csv")).unwrap();
        let taobao = GB18030.decode(&taobao).0.into_owned();
        let amazon =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/returns-amazon.tsv")).unwrap();
        for (name, text, delimiter, numbers) in [
            ("returns-taobao", taobao, b',', &["退款金额", "买家实际支付金额"][..]),
            ("returns-amazon", amazon, b'\t', &["Return quantity", "Order Amount", "Order quantity"][..]),
        ] {
            let mut by_text = Dock::new();
            let f = by_text.file(&format!("{name}.txt"), text.as_bytes());
            let r = by_text.returns(&[&f]);
            assert!(r.errors.is_empty(), "{name}: {:?}", by_text.messages(&r));
            let mut by_book = Dock::new();
            let f =
                by_book.file(&format!("{name}.xlsx"), workbook_of(&text, delimiter, "Sheet1", numbers, &[]));
            let r = import::returns::import(
                &mut by_book.store,
                &[workbook_source(&f)],
                &ImportOptions::new(now()),
            )
            .unwrap();
            assert!(r.errors.is_empty(), "{name}: {:?}", by_book.messages(&r));
            let (a, b) = (dump(&by_text), dump(&by_book));
            assert!(!a.is_empty());
            assert_eq!(a, b, "{name}");
        }
    }

    /// An order number saved as a number has lost its last digits (Excel keeps 15): refused,
    /// naming the file, the sheet and the row as Excel numbers it; nothing is stored.
    /// The workbook with its formulas' saved values taken out, as a program that never
    /// calculates writes them (`<f>1+1</f>` and no `<v>`).
    fn without_formula_values(xlsx: Vec<u8>) -> Vec<u8> {
        edited(xlsx, |mut text| {
            while let Some(at) = text.find("</f><v>") {
                let end = at + text[at..].find("</v>").unwrap() + 4;
                text.replace_range(at + 4..end, "");
            }
            text.replace(" t=\"str\"><f>", "><f>")
        })
    }

    /// The workbook with the text of each of its parts passed through `edit`.
    fn edited(xlsx: Vec<u8>, edit: impl Fn(String) -> String) -> Vec<u8> {
        use std::io::{Read, Write};
        let mut from = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
        let mut to = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for i in 0..from.len() {
            let mut entry = from.by_index(i).unwrap();
            let mut text = Vec::new();
            entry.read_to_end(&mut text).unwrap();
            let text = edit(String::from_utf8(text).unwrap());
            to.start_file(entry.name().unwrap().to_string(), zip::write::SimpleFileOptions::default())
                .unwrap();
            to.write_all(text.as_bytes()).unwrap();
        }
        to.finish().unwrap().into_inner()
    }

    /// A sheet is read while its rows are checked, a few hundred rows at a time: a sheet whose
    /// reading fails far down (a file cut short by a full disk or a broken download), or whose
    /// cells are out of order (which would put a row's values under another), is refused by
    /// what went wrong, with nothing stored, however many rows were good before it.
    #[test]
    fn a_sheet_that_fails_far_down_is_refused_whole() {
        let mut book = Workbook::new();
        let s = headed(&mut book, &["rma_no", "order_no", "sku", "qty"]);
        for r in 1..3000u32 {
            s.write_string(r, 0, format!("R-{r}")).unwrap();
            s.write_string(r, 1, format!("O-{r}")).unwrap();
            s.write_string(r, 2, "SKU-A").unwrap();
            s.write_number(r, 3, 1.0).unwrap();
        }
        let xlsx = book.save_to_buffer().unwrap();
        let mut d = Dock::new();
        let whole = d.file("whole.xlsx", xlsx.clone());
        let r = d.workbook(&whole);
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        assert_eq!(d.count("SELECT count(*) FROM returns"), 2999);
        // Cut short in row 2500, its end lost.
        let mut d = Dock::new();
        let cut = d.file(
            "cut.xlsx",
            edited(xlsx.clone(), |text| match text.find("<row r=\"2500\"") {
                Some(at) => text[..at + 30].to_string(),
                None => text,
            }),
        );
        d.workbook_refused(&cut, "cut.xlsx!Sheet1: cannot read the sheet:");
        // Row 2500's cells stored as row 5, after row 2499.
        let moved = d.file(
            "moved.xlsx",
            edited(xlsx, |text| {
                let mut text = text.replace("<row r=\"2500\"", "<row r=\"5\"");
                for col in ["A", "B", "C", "D"] {
                    text = text.replace(&format!("r=\"{col}2500\""), &format!("r=\"{col}5\""));
                }
                text
            }),
        );
        d.workbook_refused(
            &moved,
            "moved.xlsx!Sheet1:5: the sheet's cells are not stored in order (row 5 comes after row 2499)",
        );
    }

    /// Found by an outside pass: a hidden first sheet (a seller tool's sample row) was read
    /// instead of the sheet the workbook shows, and a formula saved without its value (files
    /// made by programs that never calculate) was read as an empty cell: a quantity of 1.
    #[test]
    fn the_shown_sheet_is_read_and_a_formula_without_its_value_is_refused() {
        let mut d = Dock::new();
        let f = d.dir.path().join("tool.xlsx");
        let mut book = Workbook::new();
        let sample = book.add_worksheet();
        sample.set_name("示例").unwrap();
        for (c, v) in ["rma_no", "order_no", "sku", "qty", "SAMPLE-1", "O-0", "SKU-S", "1"].iter().enumerate()
        {
            sample.write_string((c / 4) as u32, (c % 4) as u16, *v).unwrap();
        }
        sample.set_hidden(true);
        let s = book.add_worksheet();
        s.set_name("退货明细").unwrap();
        for (c, h) in ["rma_no", "order_no", "sku", "qty"].iter().enumerate() {
            s.write_string(0, c as u16, *h).unwrap();
        }
        for (r, rma) in ["R-1", "R-2"].iter().enumerate() {
            let row = r as u32 + 1;
            s.write_string(row, 0, *rma).unwrap();
            s.write_string(row, 1, "O-1").unwrap();
            s.write_string(row, 2, "SKU-A").unwrap();
        }
        s.write_number(1, 3, 3.0).unwrap();
        s.write_formula(2, 3, rust_xlsxwriter::Formula::new("=1+1").set_result("")).unwrap();
        s.set_active(true);
        std::fs::write(&f, without_formula_values(book.save_to_buffer().unwrap())).unwrap();
        d.workbook_refused(&f, "tool.xlsx!退货明细:3: qty: the formula =1+1 has no value saved");
        // Calculated (the value saved with it), it loads, from the shown sheet only.
        let mut book = Workbook::new();
        let s = headed(&mut book, &["rma_no", "order_no", "sku", "qty"]);
        s.write_string(1, 0, "R-1").unwrap();
        s.write_string(1, 1, "O-1").unwrap();
        s.write_string(1, 2, "SKU-A").unwrap();
        s.write_formula(1, 3, rust_xlsxwriter::Formula::new("=1+1").set_result("2")).unwrap();
        std::fs::write(&f, book.save_to_buffer().unwrap()).unwrap();
        let r = d.workbook(&f);
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        assert_eq!(d.count("SELECT sum(qty) FROM return_lines"), 2);
    }

    /// Found by an outside pass: one stray cell far from the rest (`XFD1048576`) made the
    /// reader build the whole rectangle up to it (hundreds of gigabytes: the import died), and
    /// a code shown with leading zeros by its format (`00000`) lost them: a SKU 00123 stored
    /// as 123, a supervisor's PIN 0246 as 246, who could then not sign in.
    #[test]
    fn a_stray_far_cell_costs_nothing_and_zeros_a_format_shows_are_kept() {
        use returns_dock::store::auth::{check_pin, PinRules};
        let zeros = rust_xlsxwriter::Format::new().set_num_format("00000");
        let returns = |stray: Option<(u32, u16)>| {
            let mut book = Workbook::new();
            let s = headed(&mut book, &["rma_no", "order_no", "sku", "qty"]);
            s.write_string(1, 0, "R-1").unwrap();
            s.write_string(1, 1, "O-1").unwrap();
            s.write_number_with_format(1, 2, 123.0, &zeros).unwrap();
            s.write_number(1, 3, 2.0).unwrap();
            // A note typed far to the right of a row is beside it, not in it.
            s.write_string(1, 16_000, "checked by Li").unwrap();
            if let Some((row, col)) = stray {
                s.write_string(row, col, "x").unwrap();
            }
            book.save_to_buffer().unwrap()
        };
        let mut d = Dock::new();
        let f = d.file("far.xlsx", returns(Some((1_048_575, 16_383))));
        // The stray cell's row holds no return: refused by its row, nothing stored.
        d.workbook_refused(&f, "far.xlsx!Sheet1:1048576:");
        let f = d.file("near.xlsx", returns(None));
        let r = d.workbook(&f);
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        assert_eq!(d.count("SELECT count(*) FROM return_lines WHERE sku = '00123' AND qty = 2"), 1);
        // A PIN column formatted the same way keeps the PIN as it is shown.
        let mut book = Workbook::new();
        let s = headed(&mut book, &["id", "name", "role", "pin"]);
        s.write_string(1, 0, "SUP9").unwrap();
        s.write_string(1, 1, "Nine").unwrap();
        s.write_string(1, 2, "supervisor").unwrap();
        let four = rust_xlsxwriter::Format::new().set_num_format("0000");
        s.write_number_with_format(1, 3, 246.0, &four).unwrap();
        let f = d.file("users.xlsx", book.save_to_buffer().unwrap());
        let r =
            import::users::import(&mut d.store, &[workbook_source(&f)], &ImportOptions::new(now())).unwrap();
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        let rules = PinRules::default();
        assert!(check_pin(d.store.conn_mut(), "SUP9", "0246", None, now(), &rules).unwrap().is_ok());
        // A CSV renamed `.xlsx` is told as such (it was the zip reader's "EOCD" before).
        let f = d.file("renamed.xlsx", CANONICAL);
        let r = d.workbook(&f);
        let said = d.messages(&r);
        assert!(said.iter().any(|m| m.starts_with("renamed.xlsx: is not a workbook")), "{said:?}");
    }

    /// Found by an outside pass: a seller tool's title row above the header (a banner merged
    /// over the columns, the day below it) made the whole file "no column for rma_no".
    #[test]
    fn title_rows_above_the_header_are_passed_over() {
        let mut d = Dock::new();
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        s.merge_range(0, 0, 0, 3, "退货明细", &rust_xlsxwriter::Format::new()).unwrap();
        s.write_string(1, 0, "导出时间 2026-11-20").unwrap();
        for (c, h) in ["退款编号", "订单编号", "商家编码", "退货数量"].iter().enumerate() {
            s.write_string(3, c as u16, *h).unwrap();
        }
        for (r, (rma, qty)) in [("R-1", 2.0), ("R-2", 0.0)].iter().enumerate() {
            let row = r as u32 + 4;
            s.write_string(row, 0, *rma).unwrap();
            s.write_string(row, 1, "O-1").unwrap();
            s.write_string(row, 2, "SKU-A").unwrap();
            s.write_number(row, 3, *qty).unwrap();
        }
        let f = d.file("seller.xlsx", book.save_to_buffer().unwrap());
        let r = d.workbook(&f);
        let said = d.messages(&r);
        // The header is row 4; the bad quantity is on Excel's row 6.
        assert!(said.iter().any(|m| m.starts_with("seller.xlsx!Sheet1:6: ")), "{said:?}");
        assert_eq!(said.len(), 1, "{said:?}");
        // Without any header among the first ten rows, the first row's complaint is told.
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        for r in 0..12 {
            s.write_string(r, 0, "note").unwrap();
        }
        let f = d.file("notes.xlsx", book.save_to_buffer().unwrap());
        d.workbook_refused(&f, "notes.xlsx!Sheet1:1: no column for rma_no");
    }

    /// Found by a second outside pass on the header search: rows of data above a later header
    /// were dropped as titles; short labels over fuller ones (`RMA, Order, SKU` over `..., qty,
    /// unit_value`) made the short row the header and lost the quantity (all 1) and the value.
    #[test]
    fn nothing_above_a_header_but_titles_is_passed_over_and_a_fuller_second_row_counts() {
        let rows = |s: &mut rust_xlsxwriter::Worksheet, from: u32, rmas: &[&str]| {
            for (r, rma) in rmas.iter().enumerate() {
                let row = from + r as u32;
                for (c, v) in [*rma, "O-1", "SKU-A"].iter().enumerate() {
                    s.write_string(row, c as u16, *v).unwrap();
                }
                s.write_number(row, 3, 3.0).unwrap();
                s.write_number(row, 4, 12.5).unwrap();
            }
        };
        let mut d = Dock::new();
        // Short labels over the fuller header.
        let mut book = Workbook::new();
        let s = headed(&mut book, &["RMA", "Order", "SKU"]);
        for (c, h) in ["RMA", "Order", "SKU", "qty", "unit_value"].iter().enumerate() {
            s.write_string(1, c as u16, *h).unwrap();
        }
        rows(s, 2, &["R-1"]);
        let f = d.file("two.xlsx", book.save_to_buffer().unwrap());
        let r = d.workbook(&f);
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        assert_eq!(d.count("SELECT qty FROM return_lines"), 3, "the quantity is read");
        assert_eq!(d.count("SELECT unit_value_cents FROM return_lines"), 1250);
        // A table above the header, its own header lacking order_no: refused, nothing dropped.
        let mut d = Dock::new();
        let mut book = Workbook::new();
        let s = headed(&mut book, &["rma_no", "sku", "qty"]);
        rows(s, 1, &["R-7", "R-8"]);
        for (c, h) in ["rma_no", "order_no", "sku", "qty", "unit_value"].iter().enumerate() {
            s.write_string(4, c as u16, *h).unwrap();
        }
        rows(s, 5, &["R-9"]);
        let f = d.file("stacked.xlsx", book.save_to_buffer().unwrap());
        d.workbook_refused(&f, "stacked.xlsx!Sheet1:1: no column for order_no");
        // A data row (more than two cells, none a header) above the header: refused too.
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        rows(s, 0, &["R-5"]);
        for (c, h) in ["rma_no", "order_no", "sku", "qty"].iter().enumerate() {
            s.write_string(1, c as u16, *h).unwrap();
        }
        rows(s, 2, &["R-6"]);
        let f = d.file("above.xlsx", book.save_to_buffer().unwrap());
        d.workbook_refused(&f, "above.xlsx!Sheet1:1: no column for rma_no");
        // Below row 10 a header is not looked for.
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        s.write_string(0, 0, "退货明细").unwrap();
        for (c, h) in ["rma_no", "order_no", "sku", "qty"].iter().enumerate() {
            s.write_string(10, c as u16, *h).unwrap();
        }
        rows(s, 11, &["R-4"]);
        let f = d.file("deep.xlsx", book.save_to_buffer().unwrap());
        d.workbook_refused(&f, "deep.xlsx!Sheet1:1: no column for rma_no");
        // A stray cell far to the right of the header widens no row (each was 16,384 cells).
        let mut book = Workbook::new();
        let s = headed(&mut book, &["rma_no", "order_no", "sku", "qty", "unit_value"]);
        s.write_string(0, 16_383, "x").unwrap();
        rows(s, 1, &["R-1", "R-2"]);
        let f = d.file("wide.xlsx", book.save_to_buffer().unwrap());
        let r = d.workbook(&f);
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        assert_eq!(d.count("SELECT count(*) FROM return_lines WHERE qty = 3"), 2);
    }

    /// Files under a workbook's name that are none, each told as what it is; an `.xlsx` saved
    /// as `.xls` (seller tools do) is read by what it is.
    #[test]
    fn what_is_no_workbook_is_told_as_what_it_is() {
        let mut d = Dock::new();
        for (name, bytes, said) in [
            ("empty.xlsx", Vec::new(), "empty.xlsx: is empty"),
            (
                "page.xls",
                b"<html><table><tr><td>rma_no</td></tr></table></html>".to_vec(),
                "page.xls: is a web page (HTML)",
            ),
            ("notes.xlsx", b"rma_no,order_no\n".to_vec(), "notes.xlsx: is not a workbook"),
            (
                "other.xlsx",
                {
                    use std::io::Write;
                    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                    z.start_file("readme.txt", zip::write::SimpleFileOptions::default()).unwrap();
                    z.write_all(b"hello").unwrap();
                    z.finish().unwrap().into_inner()
                },
                "other.xlsx: is a zip archive, but no workbook that can be read",
            ),
        ] {
            let f = d.file(name, bytes);
            d.workbook_refused(&f, said);
        }
        let f = d.file(
            "returns.xls",
            workbook_of(CANONICAL, b',', "Returns", &["qty", "unit_value"], &["created_at"]),
        );
        let r = d.workbook(&f);
        assert!(r.errors.is_empty(), "{:?}", d.messages(&r));
        assert_canonical_loaded(&d);
    }

    #[test]
    fn a_long_number_stored_as_a_number_is_refused_by_file_sheet_and_row() {
        let mut d = Dock::new();
        let f = d.dir.path().join("bad.xlsx");
        // Row 2 keeps its order number as text; row 3 has it as a number, cut to 15 digits.
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        s.set_name("Returns").unwrap();
        for (c, h) in ["rma_no", "order_no", "sku", "qty"].iter().enumerate() {
            s.write_string(0, c as u16, *h).unwrap();
        }
        s.write_string(1, 0, "R-1").unwrap();
        s.write_string(1, 1, "268800000000000123").unwrap();
        s.write_string(1, 2, "SKU-A").unwrap();
        s.write_number(1, 3, 1.0).unwrap();
        s.write_string(2, 0, "R-2").unwrap();
        s.write_number(2, 1, 268800000000000123.0).unwrap();
        s.write_string(2, 2, "SKU-B").unwrap();
        s.write_number(2, 3, 1.0).unwrap();
        std::fs::write(&f, book.save_to_buffer().unwrap()).unwrap();
        d.workbook_refused(&f, "bad.xlsx!Returns:3: order_no: 2.688E+17 is stored as a number");
        // A sheet that is not there is named with the ones that are.
        let r = import::returns::import(
            &mut d.store,
            &[Source::workbook(&f, Some("Orders"))],
            &ImportOptions::new(now()),
        )
        .unwrap();
        assert!(
            d.messages(&r).iter().any(|m| m.contains("no sheet Orders (its sheets: Returns)")),
            "{:?}",
            d.messages(&r)
        );
    }
}
