//! The table reader alone (encoding sniffing, CSV/TSV/JSON/JSONL, header matching), without a
//! database: many more runs a second than the import target. It never panics, and every
//! problem it reports names the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use returns_dock::import::fields::RETURNS;
use returns_dock::import::table;

const NAMES: [&str; 4] = ["x.csv", "x.tsv", "x.json", "x.jsonl"];

fuzz_target!(|data: &[u8]| {
    let Some((first, bytes)) = data.split_first() else { return };
    let name = NAMES[*first as usize % NAMES.len()];
    match table::from_bytes(bytes.to_vec().into(), name, name, RETURNS) {
        Ok(t) => {
            for row in t.rows.take(10_000) {
                if let Err(p) = row {
                    assert!(p.to_string().starts_with(name));
                }
            }
        }
        Err(p) => assert!(p.to_string().starts_with(name)),
    }
});
