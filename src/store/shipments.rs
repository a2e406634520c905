//! Units shipped per SKU and day (`import shipments`): what a product's return rate is set
//! against. A day's figure of a SKU is replaced by the newest import's, so loading a file again
//! changes nothing.

use super::imports::Chunks;
use super::sql::{args, Sql, SqlExt};
use super::DbResult;

/// What writing a day's figure of a SKU did (or would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    Unchanged,
}

fn what(db: &dyn Sql, sku: &str, day: &str, qty: i64) -> DbResult<Written> {
    let had: Option<i64> =
        db.value("SELECT qty FROM shipments WHERE sku = ?1 AND shipped_on = ?2", args![sku, day])?;
    Ok(match had {
        None => Written::Created,
        Some(q) if q == qty => Written::Unchanged,
        Some(_) => Written::Updated,
    })
}

/// What writing would do, writing nothing.
pub fn check(db: &dyn Sql, sku: &str, day: &str, qty: i64) -> DbResult<Written> {
    what(db, sku, day, qty)
}

/// Writes a day's figure of a SKU in the chunk under way.
pub fn write(chunks: &Chunks<'_>, sku: &str, day: &str, qty: i64) -> DbResult<Written> {
    chunks.begin()?;
    let db = chunks.db();
    let done = what(db, sku, day, qty)?;
    if done != Written::Unchanged {
        db.exec(
            "INSERT INTO shipments (sku, shipped_on, qty) VALUES (?1, ?2, ?3)
             ON CONFLICT (sku, shipped_on) DO UPDATE SET qty = excluded.qty",
            args![sku, day, qty],
        )?;
    }
    chunks.tick()?;
    Ok(done)
}

/// How the catalog spells a SKU a shipment names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spelling {
    /// As given; or the catalog is empty, with nothing to compare with.
    Known,
    /// Only in other letters: the catalog's (`SKU-1017` for `sku-1017`).
    OtherCase(String),
    Unknown,
}

pub fn spelling(db: &dyn Sql, sku: &str) -> DbResult<Spelling> {
    if db.value::<String>("SELECT sku FROM products WHERE sku = ?1", args![sku])?.is_some()
        || db.value::<i64>("SELECT 1 FROM products LIMIT 1", args![])?.is_none()
    {
        return Ok(Spelling::Known);
    }
    let other =
        db.value::<String>("SELECT sku FROM products WHERE lower(sku) = lower(?1) LIMIT 1", args![sku])?;
    Ok(other.map_or(Spelling::Unknown, Spelling::OtherCase))
}

/// Units shipped of each SKU from `from` to `to` (days, both included).
pub fn shipped(db: &dyn Sql, from: &str, to: &str) -> DbResult<Vec<(String, i64)>> {
    db.map(
        "SELECT sku, sum(qty) FROM shipments WHERE shipped_on >= ?1 AND shipped_on <= ?2 GROUP BY sku ORDER BY sku",
        args![from, to],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Units returned (inspected, with a cause, as the sheet counts them) of each SKU in the
/// period of two instants, with the catalog's name. A wrong item (a product the return did not
/// name, sent back instead of it) is no return of its own product: it was never sold to them.
/// Every dock's: shipments are not recorded by dock, so one dock's returns set against them
/// would understate a product's rate.
pub fn returned(db: &dyn Sql, start: &str, end: &str) -> DbResult<Vec<(String, String, i64)>> {
    let (Ok(start), Ok(end)) =
        (chrono::DateTime::parse_from_rfc3339(start), chrono::DateTime::parse_from_rfc3339(end))
    else {
        return Ok(Vec::new());
    };
    let (start, end) = (super::timestamp(start), super::timestamp(end));
    db.map(
        "SELECT u.sku, coalesce(k.name, ''), count(*) FROM units u LEFT JOIN products k ON k.sku = u.sku
         WHERE u.cause IS NOT NULL AND u.sku IS NOT NULL AND u.inspected_at >= ?1 AND u.inspected_at < ?2
           AND (u.discrepancy IS NULL OR u.discrepancy <> 'wrong_item')
         GROUP BY u.sku, k.name ORDER BY u.sku",
        args![start, end],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

impl super::Store {
    /// Whether any shipments are on record (the sheet shows return rates only then).
    pub fn has_shipments(&self) -> DbResult<bool> {
        Ok(self.db().value::<i64>("SELECT 1 FROM shipments LIMIT 1", args![])?.is_some())
    }
}
