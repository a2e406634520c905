//! Products and their barcodes.

use super::imports::Chunks;
use super::sql::{args, in_tx, Arg, Cell, Mode, Pg, Sql, SqlExt};
use super::{timestamp, DbError, DbResult, Store};
use chrono::{DateTime, FixedOffset};

#[derive(Debug, Clone, PartialEq)]
pub struct ProductWrite {
    pub sku: String,
    pub name: String,
    /// Normalised codes: 14-digit GTINs, or other codes in upper case.
    pub barcodes: Vec<String>,
    pub serialised: bool,
    pub supplier: Option<String>,
    pub unit_value_cents: Option<i64>,
    /// Boxes one unit of it comes in (1 for most products).
    pub boxes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductWritten {
    Created,
    Updated,
    Unchanged,
    /// A barcode already identifies another product; nothing was written.
    BarcodeTaken {
        code: String,
        other_sku: String,
    },
}

/// What writing `p` would do, found by reading only (a dry run, or the check before writing).
pub fn check_product(store: &Store, p: &ProductWrite) -> DbResult<ProductWritten> {
    Ok(plan(store.db(), p)?.0)
}

/// A product's stored fields: name, serialised, supplier, value, boxes.
type Fields = (String, bool, Option<String>, Option<i64>, i64);

/// What is stored that writing a product depends on.
#[derive(Debug, Default)]
struct Stored {
    /// The product under its SKU.
    product: Option<Fields>,
    /// Its barcodes.
    codes: Vec<String>,
}

/// What writing `p` does, and the barcodes it adds.
fn plan(db: &dyn Sql, p: &ProductWrite) -> DbResult<(ProductWritten, Vec<String>)> {
    let mut owners = Vec::new();
    for code in &p.barcodes {
        let owner: Option<String> =
            db.value("SELECT sku FROM product_barcodes WHERE code = ?1", args![code])?;
        owners.push(owner);
        // The first code another product has decides: what comes after is not asked.
        if owners.last().is_some_and(|o| o.as_ref().is_some_and(|o| o != &p.sku)) {
            return Ok(decide(p, &owners, &Stored::default()));
        }
    }
    let product = db
        .row(
            "SELECT name, serialised, supplier, unit_value_cents, boxes FROM products WHERE sku = ?1",
            args![p.sku],
        )?
        .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .transpose()?;
    let codes =
        db.map("SELECT code FROM product_barcodes WHERE sku = ?1 ORDER BY code", args![p.sku], |r| r.get(0))?;
    Ok(decide(p, &owners, &Stored { product, codes }))
}

/// What writing `p` does, and the barcodes it adds, from the owner of each of its barcodes (in
/// its order) and what is stored under its SKU: the one place this is decided, whether
/// products are written one at a time or a set at once.
fn decide(p: &ProductWrite, owners: &[Option<String>], stored: &Stored) -> (ProductWritten, Vec<String>) {
    for (code, owner) in p.barcodes.iter().zip(owners) {
        if let Some(other) = owner.as_ref().filter(|o| *o != &p.sku) {
            return (
                ProductWritten::BarcodeTaken { code: code.clone(), other_sku: other.clone() },
                Vec::new(),
            );
        }
    }
    let mut codes = stored.codes.clone();
    let mut wanted = p.barcodes.clone();
    wanted.sort();
    wanted.dedup();
    codes.sort();
    let same_fields = stored.product.as_ref().is_some_and(|(name, serialised, supplier, value, boxes)| {
        name == &p.name
            && *serialised == p.serialised
            && supplier == &p.supplier
            && value == &p.unit_value_cents
            && *boxes == p.boxes
    });
    if same_fields && codes == wanted {
        return (ProductWritten::Unchanged, Vec::new());
    }
    // A barcode dropped from the file is kept: old stock with the old label still comes back.
    let added = wanted.into_iter().filter(|c| !codes.contains(c)).collect();
    (if stored.product.is_some() { ProductWritten::Updated } else { ProductWritten::Created }, added)
}

/// Writes `p` inside the chunk under way.
pub fn write_product(
    chunks: &Chunks<'_>,
    p: &ProductWrite,
    now: DateTime<FixedOffset>,
) -> DbResult<ProductWritten> {
    let db = chunks.db();
    let (written, added) = plan(db, p)?;
    if !matches!(written, ProductWritten::Created | ProductWritten::Updated) {
        return Ok(written);
    }
    let now = timestamp(now);
    db.exec(
        "INSERT INTO products (sku, name, serialised, supplier, unit_value_cents, updated_at, boxes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, serialised = excluded.serialised,
            supplier = excluded.supplier, unit_value_cents = excluded.unit_value_cents,
            updated_at = excluded.updated_at, boxes = excluded.boxes",
        args![p.sku, p.name, p.serialised, p.supplier, p.unit_value_cents, now, p.boxes],
    )?;
    for code in &added {
        db.exec("INSERT INTO product_barcodes (code, sku) VALUES (?1, ?2)", args![code, p.sku])?;
    }
    Ok(written)
}

/// How many products one call of [`check_products`] or [`write_products`] should be given:
/// one on SQLite, where a set gains nothing; on PostgreSQL a set whose writing takes a few
/// milliseconds.
pub fn batch_size(store: &Store) -> usize {
    match store.db().as_pg() {
        Some(_) => 500,
        None => 1,
    }
}

/// What writing each of `ps` would do, found by reading only, in order. The products are of
/// distinct SKUs with distinct barcodes (an import refuses a file that repeats one).
pub fn check_products(store: &Store, ps: &[&ProductWrite]) -> DbResult<Vec<ProductWritten>> {
    let Some(pg) = store.db().as_pg() else {
        return ps.iter().map(|p| check_product(store, p)).collect();
    };
    // One snapshot, and a transaction for the set's temporary tables to live in.
    in_tx(pg, Mode::Read, |_| Ok(plan_set(pg, ps)?.into_iter().map(|(w, _)| w).collect()))
}

/// Writes `ps` inside the chunk under way, each as [`write_product`] writes it: what each did,
/// in order. The products are of distinct SKUs with distinct barcodes. On PostgreSQL in a few
/// statements: what is stored under them is read in three queries ([`plan_set`]), the products
/// to create or update are copied into a temporary table and upserted in one statement, and
/// the barcodes they add are copied in.
pub fn write_products(
    chunks: &Chunks<'_>,
    ps: &[&ProductWrite],
    now: DateTime<FixedOffset>,
) -> DbResult<Vec<ProductWritten>> {
    let Some(pg) = chunks.db().as_pg() else {
        return ps.iter().map(|p| write_product(chunks, p, now)).collect();
    };
    let plans = plan_set(pg, ps)?;
    let changed = |w: &ProductWritten| matches!(w, ProductWritten::Created | ProductWritten::Updated);
    if plans.iter().any(|(w, _)| changed(w)) {
        // The set's SKUs make way for what is written of the products.
        pg.exec("DELETE FROM import_products", args![])?;
        pg.copy_in(
            "import_products",
            &names(&["seq", "sku", "name", "serialised", "supplier", "unit_value_cents", "boxes"]),
            &mut |put| {
                for (seq, (p, (w, _))) in ps.iter().zip(&plans).enumerate() {
                    if changed(w) {
                        put(&[
                            Cell::Int(seq as i64),
                            Cell::Text(p.sku.clone()),
                            Cell::Text(p.name.clone()),
                            p.serialised.cell(),
                            p.supplier.cell(),
                            p.unit_value_cents.cell(),
                            Cell::Int(p.boxes),
                        ])?;
                    }
                }
                Ok(())
            },
        )?;
        pg.exec(
            "INSERT INTO products (sku, name, serialised, supplier, unit_value_cents, updated_at, boxes)
             SELECT sku, name, serialised, supplier, unit_value_cents, ?1, boxes
             FROM import_products ORDER BY seq
             ON CONFLICT (sku) DO UPDATE SET name = excluded.name, serialised = excluded.serialised,
                supplier = excluded.supplier, unit_value_cents = excluded.unit_value_cents,
                updated_at = excluded.updated_at, boxes = excluded.boxes",
            args![timestamp(now)],
        )?;
    }
    if plans.iter().any(|(_, added)| !added.is_empty()) {
        pg.copy_in("product_barcodes", &names(&["code", "sku"]), &mut |put| {
            for (p, (_, added)) in ps.iter().zip(&plans) {
                for code in added {
                    put(&[Cell::Text(code.clone()), Cell::Text(p.sku.clone())])?;
                }
            }
            Ok(())
        })?;
    }
    Ok(plans.into_iter().map(|(w, _)| w).collect())
}

/// What writing each of `ps` does, and the barcodes each adds, decided as [`plan`] decides for
/// one, from what three queries read for the whole set: the owners of the barcodes, the
/// products under the SKUs, and their barcodes. Their SKUs and barcodes are copied into
/// temporary tables first, then looked up one by one by index (LATERAL … LIMIT 1, OFFSET 0,
/// a subquery in the select list: never joined to a whole table on a guess of their size).
fn plan_set(pg: &Pg, ps: &[&ProductWrite]) -> DbResult<Vec<(ProductWritten, Vec<String>)>> {
    pg.batch(STAGE)?;
    pg.copy_in("import_products", &names(&["seq", "sku"]), &mut |put| {
        for (seq, p) in ps.iter().enumerate() {
            put(&[Cell::Int(seq as i64), Cell::Text(p.sku.clone())])?;
        }
        Ok(())
    })?;
    pg.copy_in("import_codes", &names(&["seq", "nth", "code"]), &mut |put| {
        for (seq, p) in ps.iter().enumerate() {
            for (nth, code) in p.barcodes.iter().enumerate() {
                put(&[Cell::Int(seq as i64), Cell::Int(nth as i64), Cell::Text(code.clone())])?;
            }
        }
        Ok(())
    })?;
    let mut owners: Vec<Vec<Option<String>>> = ps.iter().map(|p| vec![None; p.barcodes.len()]).collect();
    pg.each(
        "SELECT c.seq, c.nth, b.sku FROM import_codes c
         JOIN LATERAL (SELECT sku FROM product_barcodes WHERE code = c.code LIMIT 1) b ON true",
        args![],
        &mut |r| {
            let (seq, nth): (usize, usize) = (r.get(0)?, r.get(1)?);
            let slot = owners.get_mut(seq).and_then(|o| o.get_mut(nth));
            *slot.ok_or_else(|| DbError::shape(format!("no barcode {nth} of product {seq}")))? =
                Some(r.get(2)?);
            Ok(())
        },
    )?;
    let mut stored: Vec<Stored> = ps.iter().map(|_| Stored::default()).collect();
    pg.each(
        "SELECT k.seq, p.name, p.serialised, p.supplier, p.unit_value_cents, p.boxes FROM import_products k
         JOIN LATERAL (SELECT name, serialised, supplier, unit_value_cents, boxes FROM products
                       WHERE sku = k.sku LIMIT 1) p ON true",
        args![],
        &mut |r| {
            let seq: usize = r.get(0)?;
            let slot = stored.get_mut(seq).ok_or_else(|| DbError::shape(format!("no product {seq}")))?;
            slot.product = Some((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?));
            Ok(())
        },
    )?;
    pg.each(
        "SELECT k.seq, b.code FROM import_products k
         JOIN LATERAL (SELECT code FROM product_barcodes WHERE sku = k.sku OFFSET 0) b ON true",
        args![],
        &mut |r| {
            let seq: usize = r.get(0)?;
            let slot = stored.get_mut(seq).ok_or_else(|| DbError::shape(format!("no product {seq}")))?;
            slot.codes.push(r.get(1)?);
            Ok(())
        },
    )?;
    // A product whose barcode another has is refused whatever is stored under its SKU.
    Ok(ps.iter().zip(&owners).zip(&stored).map(|((p, o), s)| decide(p, o, s)).collect())
}

fn names(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|c| c.to_string()).collect()
}

/// A set's temporary tables (the session's own), made if missing and emptied (a transaction's
/// commit empties them too): the products' SKUs, and then what is written of them
/// (`import_products`), and their barcodes, each with its place in the product's list.
const STAGE: &str = "
    CREATE TEMPORARY TABLE IF NOT EXISTS import_products (
        seq BIGINT NOT NULL, sku TEXT NOT NULL, name TEXT, serialised SMALLINT, supplier TEXT,
        unit_value_cents BIGINT, boxes BIGINT)
        ON COMMIT DELETE ROWS;
    CREATE TEMPORARY TABLE IF NOT EXISTS import_codes (
        seq BIGINT NOT NULL, nth BIGINT NOT NULL, code TEXT NOT NULL)
        ON COMMIT DELETE ROWS;
    DELETE FROM import_products;
    DELETE FROM import_codes;";
