//! Importing units shipped per SKU and day: the shop's or the warehouse's shipment report
//! (`sku`, `qty`, `date`), one row per order line or per day. The rows of a run are added up by
//! SKU and day, and each day's figure replaces what an earlier import said of it, so loading
//! the same file again changes nothing.

use super::fields::{shipments as f, SHIPMENTS};
use super::source::Source;
use super::{ImportOptions, ImportReport, Pass, Problem};
use crate::store::shipments::{self as st, Written};
use crate::store::{Store, StoreError};
use std::collections::BTreeMap;

/// A shipped quantity: a whole number, 0 or more.
fn qty(v: &str) -> Result<i64, String> {
    let whole = match v.split_once('.') {
        Some((w, f)) if f.bytes().all(|b| b == b'0') => w,
        _ => v,
    };
    match whole.trim().parse::<i64>() {
        Ok(q) if (0..=1_000_000_000).contains(&q) => Ok(q),
        Ok(q) => Err(format!("qty {q} must be 0 to 1000000000")),
        Err(_) => Err(format!("qty \"{}\" is not a whole number", crate::domain::text::on_screen(v))),
    }
}

/// The day of a shipment: `2026-11-20`, `2026/11/20`, `20261120`, or a time on that day
/// (`2026-11-20 10:30`, `2026-11-20T10:30:00+08:00`); anything else after the day (`25:00`,
/// `junk`) is refused, not passed over.
fn day(v: &str) -> Result<String, String> {
    let v = v.trim();
    let (head, time) = match v.split_once([' ', 'T']) {
        Some((h, t)) => (h, Some(t.trim())),
        None => (v, None),
    };
    let time_ok = time.is_none_or(|t| {
        // The clock time, then an optional offset (`+08:00`, `Z`) or fraction of a second.
        let clock = t.split(['+', '-', 'Z', 'z', '.']).next().unwrap_or("");
        ["%H:%M:%S", "%H:%M"].iter().any(|f| chrono::NaiveTime::parse_from_str(clock, f).is_ok())
    });
    for form in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"] {
        if let (Ok(d), true) = (chrono::NaiveDate::parse_from_str(head, form), time_ok) {
            return Ok(d.format("%Y-%m-%d").to_string());
        }
    }
    Err(format!("date \"{}\" is not a day (expected e.g. 2026-11-20)", crate::domain::text::on_screen(v)))
}

/// A shipment row as read: SKU, day, quantity.
type DayRow = (String, String, i64);

pub fn import(
    store: &mut Store,
    sources: &[Source],
    opts: &ImportOptions,
) -> Result<ImportReport, StoreError> {
    // The run's figures by SKU and day, added up over every file in the check pass; the write
    // pass writes, for each file, the run's figure of each day the file names.
    let mut run: BTreeMap<(String, String), i64> = BTreeMap::new();
    // Each file's rows as the check pass read them: a file loaded twice in one run (a second
    // download, `a.csv a.csv`) would double its days.
    let mut seen: Vec<(String, Vec<DayRow>)> = Vec::new();
    super::run_import(store, sources, opts, "shipments", |job, report| {
        let (store, source, opts) = (job.store, job.source, job.opts);
        let (table, mut file) = super::open_table(source, SHIPMENTS, opts, &mut report.errors);
        let display = file.file.clone();
        let Some(table) = table else { return Ok(file) };
        let checking = matches!(job.pass, Pass::Check);
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut rows = Vec::new();
        for row in table.rows {
            file.rows += 1;
            let parsed = row.map_err(|p| (p.line, p.message)).and_then(|row| {
                let at = Some(row.line);
                let sku = super::check::required_identifier("sku", row.get(f::SKU)).map_err(|m| (at, m))?;
                let q = qty(row.get(f::QTY)).map_err(|m| (at, m))?;
                let d = day(row.get(f::DATE)).map_err(|m| (at, m))?;
                Ok((sku, d, q))
            });
            match parsed {
                Ok((sku, d, q)) => {
                    if checking {
                        rows.push((sku.clone(), d.clone(), q));
                    }
                    if !keys.contains(&(sku.clone(), d.clone())) {
                        keys.push((sku, d));
                    }
                }
                Err((line, m)) => {
                    file.refused += 1;
                    file.refused_rows += 1;
                    report.errors.push(Problem::new(&display, line, m));
                }
            }
        }
        if checking {
            rows.sort();
            if let Some((other, _)) = seen.iter().find(|(_, r)| !rows.is_empty() && *r == rows) {
                report.errors.push(Problem::new(
                    &display,
                    None,
                    format!(
                        "the same shipments as {other}, already in this run: loaded twice, each of its \
                         days would count double (load one of them)"
                    ),
                ));
                file.refused += 1;
                return Ok(file);
            }
            for (sku, d, q) in &rows {
                *run.entry((sku.clone(), d.clone())).or_default() += q;
            }
            // A SKU the catalog does not know is kept, but no return will be set against it:
            // said, with the catalog's spelling where only the letter case differs.
            let mut unknown = Vec::new();
            let mut skus: Vec<&String> = rows.iter().map(|r| &r.0).collect();
            skus.dedup();
            for sku in skus {
                match st::spelling(store.db(), sku)? {
                    st::Spelling::Known => {}
                    st::Spelling::OtherCase(name) => unknown.push(format!("{sku} (the catalog has {name})")),
                    st::Spelling::Unknown => unknown.push(sku.clone()),
                }
            }
            if !unknown.is_empty() {
                let shown = unknown.len().min(5);
                let more = if unknown.len() > shown {
                    format!(" and {} more", unknown.len() - shown)
                } else {
                    String::new()
                };
                report.warnings.push(Problem::new(
                    &display,
                    None,
                    format!(
                        "{} SKU(s) not in the catalog, loaded but matched by no return: {}{more}",
                        unknown.len(),
                        unknown[..shown].join(", ")
                    ),
                ));
            }
            seen.push((display.clone(), rows));
        }
        for key in keys {
            let total = run.get(&key).copied().unwrap_or(0);
            let done = match &job.pass {
                Pass::Check => st::check(store.db(), &key.0, &key.1, total)?,
                Pass::Write(chunks) => st::write(chunks, &key.0, &key.1, total)?,
            };
            match done {
                Written::Created => file.created += 1,
                Written::Updated => file.updated += 1,
                Written::Unchanged => file.unchanged += 1,
            }
        }
        if let Pass::Write(chunks) = &job.pass {
            chunks.commit()?;
        }
        Ok(file)
    })
}

#[cfg(test)]
mod tests {
    use super::day;

    #[test]
    fn a_day_with_a_time_is_that_day_and_anything_else_after_it_is_refused() {
        for (given, want) in [
            ("2026-11-03", "2026-11-03"),
            ("2026/11/08", "2026-11-08"),
            ("20261103", "2026-11-03"),
            ("2026-11-05 10:30:00", "2026-11-05"),
            ("2026-11-05 10:30", "2026-11-05"),
            ("2026-11-05T23:59:59+08:00", "2026-11-05"),
            ("2026-11-05T10:30:00.250Z", "2026-11-05"),
            ("2026-11-05T10:30:00-05:00", "2026-11-05"),
        ] {
            assert_eq!(day(given).as_deref(), Ok(want), "{given}");
        }
        for bad in ["2026-11-03 25:00", "20261103 junk", "2026-11-31", "yesterday", "2026-11-03 10"] {
            assert!(day(bad).is_err(), "{bad}");
        }
    }
}
