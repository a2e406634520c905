//! Products and their barcodes.

use super::imports::Chunks;
use super::{timestamp, DbResult, Store};
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, OptionalExtension};

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
    Ok(plan(store.conn(), p)?.0)
}

/// What writing `p` does, and the barcodes it adds.
fn plan(conn: &Connection, p: &ProductWrite) -> rusqlite::Result<(ProductWritten, Vec<String>)> {
    for code in &p.barcodes {
        let owner: Option<String> = conn
            .prepare_cached("SELECT sku FROM product_barcodes WHERE code = ?1")?
            .query_row([code], |r| r.get(0))
            .optional()?;
        if let Some(other) = owner.filter(|o| o != &p.sku) {
            return Ok((ProductWritten::BarcodeTaken { code: code.clone(), other_sku: other }, Vec::new()));
        }
    }
    type Row = (String, bool, Option<String>, Option<i64>, i64);
    let existing: Option<Row> = conn
        .prepare_cached(
            "SELECT name, serialised, supplier, unit_value_cents, boxes FROM products WHERE sku = ?1",
        )?
        .query_row([&p.sku], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()?;
    let mut codes: Vec<String> = conn
        .prepare_cached("SELECT code FROM product_barcodes WHERE sku = ?1 ORDER BY code")?
        .query_map([&p.sku], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
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
    let conn = chunks.conn();
    let (written, added) = plan(conn, p)?;
    if !matches!(written, ProductWritten::Created | ProductWritten::Updated) {
        return Ok(written);
    }
    let now = timestamp(now);
    conn.prepare_cached(
        "INSERT INTO products (sku, name, serialised, supplier, unit_value_cents, updated_at, boxes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, serialised = excluded.serialised,
            supplier = excluded.supplier, unit_value_cents = excluded.unit_value_cents,
            updated_at = excluded.updated_at, boxes = excluded.boxes",
    )?
    .execute(params![p.sku, p.name, p.serialised, p.supplier, p.unit_value_cents, now, p.boxes])?;
    for code in &added {
        conn.prepare_cached("INSERT INTO product_barcodes (code, sku) VALUES (?1, ?2)")?
            .execute(params![code, p.sku])?;
    }
    Ok(written)
}
