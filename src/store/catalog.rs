//! Products and their barcodes.

use super::imports::Chunks;
use super::sql::{args, Sql, SqlExt};
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

/// What writing `p` does, and the barcodes it adds.
fn plan(db: &dyn Sql, p: &ProductWrite) -> DbResult<(ProductWritten, Vec<String>)> {
    for code in &p.barcodes {
        let owner: Option<String> =
            db.value("SELECT sku FROM product_barcodes WHERE code = ?1", args![code])?;
        if let Some(other) = owner.filter(|o| o != &p.sku) {
            return Ok((ProductWritten::BarcodeTaken { code: code.clone(), other_sku: other }, Vec::new()));
        }
    }
    let existing = db
        .row(
            "SELECT name, serialised, supplier, unit_value_cents, boxes FROM products WHERE sku = ?1",
            args![p.sku],
        )?
        .map(|r| {
            Ok::<_, DbError>((
                r.get::<String>(0)?,
                r.get::<bool>(1)?,
                r.get::<Option<String>>(2)?,
                r.get::<Option<i64>>(3)?,
                r.get::<i64>(4)?,
            ))
        })
        .transpose()?;
    let mut codes: Vec<String> =
        db.map("SELECT code FROM product_barcodes WHERE sku = ?1 ORDER BY code", args![p.sku], |r| r.get(0))?;
    let mut wanted = p.barcodes.clone();
    wanted.sort();
    wanted.dedup();
    codes.sort();
    let same_fields = existing.as_ref().is_some_and(|(name, serialised, supplier, value, boxes)| {
        name == &p.name
            && *serialised == p.serialised
            && supplier == &p.supplier
            && value == &p.unit_value_cents
            && *boxes == p.boxes
    });
    if same_fields && codes == wanted {
        return Ok((ProductWritten::Unchanged, Vec::new()));
    }
    // A barcode dropped from the file is kept: old stock with the old label still comes back.
    let added = wanted.into_iter().filter(|c| !codes.contains(c)).collect();
    Ok((if existing.is_some() { ProductWritten::Updated } else { ProductWritten::Created }, added))
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
