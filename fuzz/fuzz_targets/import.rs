//! The returns import on any bytes, as CSV, TSV, JSON or JSON Lines: it never panics, and it
//! either loads (no errors) or refuses and leaves the database empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use returns_dock::import::{self, ImportOptions, Source};
use returns_dock::store::Store;

const NAMES: [&str; 4] = ["x.csv", "x.tsv", "x.json", "x.jsonl"];

fuzz_target!(|data: &[u8]| {
    let Some((first, bytes)) = data.split_first() else { return };
    let name = NAMES[*first as usize % NAMES.len()];
    let mut store = Store::open_in_memory().unwrap();
    let source = Source::Bytes { name: name.to_string(), bytes: bytes.to_vec().into() };
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00+08:00").unwrap();
    let report = import::returns::import(&mut store, &[source], &ImportOptions::new(now)).unwrap();
    let returns: i64 = store.conn().query_row("SELECT count(*) FROM returns", [], |r| r.get(0)).unwrap();
    assert_eq!(report.committed, report.errors.is_empty());
    if !report.committed {
        assert_eq!(returns, 0);
    }
});
