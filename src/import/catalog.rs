//! Importing the product catalog: SKU, name, barcodes, serialised or not, supplier, value.

use super::check;
use super::fields::{catalog as f, CATALOG};
use super::rejected::Rejected;
use super::source::Source;
use super::{ImportOptions, ImportReport, Pass, Problem};
use crate::domain::text::on_screen;
use crate::store::catalog::{batch_size, check_products, write_products};
use crate::store::{DbError, ProductWrite, ProductWritten, Store, StoreError};
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
        let (table, mut file) = super::open_table(source, CATALOG, opts, &mut report.errors);
        let display = file.file.clone();
        let Some(table) = table else { return Ok(file) };
        let mut rejected = match job.pass {
            Pass::Check => Rejected::for_source(source, CATALOG, opts),
            Pass::Write(_) => None,
        };
        let mut seen_sku: HashMap<String, u64> = HashMap::new();
        let mut seen_code: HashMap<String, (String, u64)> = HashMap::new();
        // Rows read and checked, whose products wait to be looked up (or written) a batch at a
        // time; each is then counted in its turn, so the report reads as row by row.
        let mut pending: Vec<Pending> = Vec::new();
        let (batch, mut products) = (batch_size(store), 0);
        let mut settle = |pending: &mut Vec<Pending>, file: &mut super::FileReport| -> Result<(), DbError> {
            let products: Vec<&ProductWrite> =
                pending.iter().filter_map(|p| p.checked.as_ref().ok()).collect();
            let written = if products.is_empty() {
                Vec::new()
            } else {
                match &job.pass {
                    Pass::Check => {
                        // A barcode an earlier file of the run gives to another SKU is taken there.
                        let earlier: Vec<Option<ProductWritten>> = products
                            .iter()
                            .map(|p| {
                                p.barcodes.iter().find_map(|c| {
                                    run_codes.get(c).filter(|s| **s != p.sku).map(|s| {
                                        ProductWritten::BarcodeTaken { code: c.clone(), other_sku: s.clone() }
                                    })
                                })
                            })
                            .collect();
                        let asked: Vec<&ProductWrite> = products
                            .iter()
                            .zip(&earlier)
                            .filter(|(_, e)| e.is_none())
                            .map(|(p, _)| *p)
                            .collect();
                        let mut found = check_products(store, &asked)?.into_iter();
                        earlier.into_iter().map(|e| e.or_else(|| found.next())).collect::<Option<Vec<_>>>()
                    }
                    Pass::Write(chunks) => {
                        chunks.begin()?;
                        let w = write_products(chunks, &products, opts.now)?;
                        chunks.tick()?;
                        Some(w)
                    }
                }
                .filter(|w| w.len() == products.len())
                .ok_or_else(|| DbError::shape("fewer answers than products".into()))?
            };
            let mut written = written.into_iter();
            for Pending { row, checked } in pending.drain(..) {
                let line = row.as_ref().map(|r| r.line);
                let outcome = match checked {
                    Err(e) => Err(e),
                    Ok(p) => match written.next() {
                        Some(ProductWritten::BarcodeTaken { code, other_sku }) => Err((
                            line,
                            vec![format!("barcode {code} already belongs to SKU {}", on_screen(&other_sku))],
                        )),
                        Some(w) => {
                            for code in &p.barcodes {
                                run_codes.entry(code.clone()).or_insert_with(|| p.sku.clone());
                            }
                            Ok(w)
                        }
                        None => return Err(DbError::shape("fewer answers than products".into())),
                    },
                };
                match outcome {
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
            Ok(())
        };
        for row in table.rows {
            file.rows += 1;
            let (row, result) = match row {
                Err(p) => (None, Err(vec![p.message.clone()]).map_err(|m| (p.line, m))),
                Ok(row) => {
                    let r = validate(&row).map_err(|m| (Some(row.line), m));
                    (Some(row), r)
                }
            };
            let checked = result.and_then(|p| {
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
            products += usize::from(checked.is_ok());
            pending.push(Pending { row, checked });
            if products >= batch {
                settle(&mut pending, &mut file)?;
                products = 0;
            }
        }
        settle(&mut pending, &mut file)?;
        if let Some(r) = rejected.filter(|r| r.rows > 0) {
            file.rejected_file = r.finish().ok().map(|p| p.display().to_string());
        }
        Ok(file)
    })
}

/// A row of the catalog read and checked: its product, or why it is refused (with the line).
struct Pending {
    row: Option<super::table::Row>,
    checked: Result<ProductWrite, (Option<u64>, Vec<String>)>,
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
