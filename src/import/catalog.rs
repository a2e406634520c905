//! Importing the product catalog: SKU, name, barcodes, serialised or not, supplier, value.

use super::check;
use super::fields::{catalog as f, CATALOG};
use super::rejected::Rejected;
use super::source::Source;
use super::{ImportOptions, ImportReport, Pass, Problem};
use crate::domain::text::on_screen;
use crate::store::catalog::{check_product, write_product};
use crate::store::{ProductWrite, ProductWritten, Store, StoreError};
use std::collections::HashMap;

pub fn import(
    store: &mut Store,
    sources: &[Source],
    opts: &ImportOptions,
) -> Result<ImportReport, StoreError> {
    // Barcodes given by the earlier files of the run: the check pass writes nothing, so it
    // finds a barcode taken by an earlier file here rather than in the database.
    let mut run_codes: HashMap<String, String> = HashMap::new();
    super::run_import(store, sources, opts, "catalog", |job, report| {
        let (store, source, opts) = (job.store, job.source, job.opts);
        if job.index == 0 {
            run_codes.clear();
        }
        let display = source.display();
        let (table, mut file) = super::open_table(source, CATALOG, opts, &mut report.errors);
        let Some(table) = table else { return Ok(file) };
        let mut rejected = match job.pass {
            Pass::Check => Rejected::for_source(source, CATALOG, opts),
            Pass::Write(_) => None,
        };
        let mut seen_sku: HashMap<String, u64> = HashMap::new();
        let mut seen_code: HashMap<String, (String, u64)> = HashMap::new();
        for row in table.rows {
            file.rows += 1;
            let (row, result) = match row {
                Err(p) => (None, Err(vec![p.message.clone()]).map_err(|m| (p.line, m))),
                Ok(row) => {
                    let r = validate(&row).map_err(|m| (Some(row.line), m));
                    (Some(row), r)
                }
            };
            let result = result.and_then(|p| {
                let line = row.as_ref().map(|r| r.line).unwrap_or(0);
                if let Some(first) = seen_sku.insert(p.sku.clone(), line) {
                    return Err((
                        Some(line),
                        vec![format!("SKU {} is listed twice (first on line {first})", on_screen(&p.sku))],
                    ));
                }
                for code in &p.barcodes {
                    if let Some((other, l)) = seen_code.get(code).filter(|(o, _)| o != &p.sku) {
                        return Err((
                            Some(line),
                            vec![format!(
                                "barcode {code} is also given to SKU {} on line {l}",
                                on_screen(other)
                            )],
                        ));
                    }
                    seen_code.insert(code.clone(), (p.sku.clone(), line));
                }
                Ok(p)
            });
            let written = match result {
                Ok(p) => {
                    let w = match &job.pass {
                        Pass::Check => {
                            let earlier = p.barcodes.iter().find_map(|c| {
                                run_codes.get(c).filter(|s| **s != p.sku).map(|s| (c.clone(), s.clone()))
                            });
                            match earlier {
                                Some((code, other_sku)) => ProductWritten::BarcodeTaken { code, other_sku },
                                None => check_product(store, &p)?,
                            }
                        }
                        Pass::Write(chunks) => {
                            chunks.begin()?;
                            let w = write_product(chunks, &p, opts.now)?;
                            chunks.tick()?;
                            w
                        }
                    };
                    match w {
                        ProductWritten::BarcodeTaken { code, other_sku } => Err((
                            row.as_ref().map(|r| r.line),
                            vec![format!("barcode {code} already belongs to SKU {}", on_screen(&other_sku))],
                        )),
                        w => {
                            for code in &p.barcodes {
                                run_codes.entry(code.clone()).or_insert_with(|| p.sku.clone());
                            }
                            Ok(w)
                        }
                    }
                }
                Err(e) => Err(e),
            };
            match written {
                Ok(ProductWritten::Created) => file.created += 1,
                Ok(ProductWritten::Updated) => file.updated += 1,
                Ok(_) => file.unchanged += 1,
                Err((line, msgs)) => {
                    file.refused += 1;
                    file.refused_rows += 1;
                    if let Some(r) = &mut rejected {
                        let _ = r.write(row.as_ref(), line, &msgs.join("; "), CATALOG.len());
                    }
                    for m in msgs {
                        report.errors.push(Problem::new(&display, line, m));
                    }
                }
            }
        }
        if let Some(r) = rejected.filter(|r| r.rows > 0) {
            file.rejected_file = r.finish().ok().map(|p| p.display().to_string());
        }
        Ok(file)
    })
}

fn validate(row: &super::table::Row) -> Result<ProductWrite, Vec<String>> {
    let mut errors = check::Errors::default();
    let sku = errors.take(check::required_identifier("sku", row.get(f::SKU)));
    let name = errors.take(
        check::text("name", row.get(f::NAME)).and_then(|n| n.ok_or_else(|| "name is missing".to_string())),
    );
    let mut barcodes = Vec::new();
    for code in check::split_list(row.get(f::BARCODES)) {
        if let Some(Some(c)) = errors.take(check::barcode(code)) {
            if !barcodes.contains(&c) {
                barcodes.push(c);
            }
        }
    }
    let serialised =
        errors.take(check::yes_no("serialised", row.get(f::SERIALISED))).flatten().unwrap_or(false);
    let supplier = errors.take(check::text("supplier", row.get(f::SUPPLIER))).flatten();
    let unit_value_cents = errors.take(check::amount("unit_value", row.get(f::UNIT_VALUE))).flatten();
    let boxes = errors.take(check::boxes(row.get(f::BOXES))).unwrap_or(1);
    match (sku, name) {
        (Some(sku), Some(name)) if errors.is_empty() => {
            Ok(ProductWrite { sku, name, barcodes, serialised, supplier, unit_value_cents, boxes })
        }
        _ => Err(errors.0),
    }
}
