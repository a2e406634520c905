//! The demo database's returns that no box has come for yet, with what to scan for each: the
//! dock screen lists the first few, the demo sheet (`labels demo`) prints them as barcodes.
//! Both read them here, so paper and screen name the same codes.

use super::sql::{args, Sql, SqlExt};
use super::DbResult;

/// A return of the demo still to come, and its lines in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingReturn {
    pub rma: String,
    pub lines: Vec<WaitingLine>,
}

/// One expected line: the barcode a scanner reads off the product, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingLine {
    /// The product's barcode as printed on it (an EAN-13 in 13 digits), else its SKU.
    pub code: String,
    pub sku: String,
    /// The catalog's name, else the line's title, else empty.
    pub name: String,
    pub qty: i64,
    /// The station asks for a serial number after this product.
    pub serialised: bool,
    /// The serial numbers the return expects, if it lists them.
    pub serials: Vec<String>,
}

/// Whether this is a database `demo` seeded (meta `demo=1`).
pub fn is_demo(db: &dyn Sql) -> DbResult<bool> {
    db.one("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'demo' AND value = '1')", args![])
}

/// The demo's returns no box has come for yet, oldest first, at most `limit` of them (all with
/// None); nothing on any other database.
pub fn waiting(db: &dyn Sql, limit: Option<i64>) -> DbResult<Vec<WaitingReturn>> {
    if !is_demo(db)? {
        return Ok(Vec::new());
    }
    // No limit is the largest one (a negative LIMIT means none on SQLite only).
    let returns = db.map(
        "SELECT r.id, r.rma_no FROM returns r
         WHERE NOT EXISTS (SELECT 1 FROM parcel_returns pr WHERE pr.return_id = r.id)
         ORDER BY r.id LIMIT ?1",
        args![limit.filter(|n| *n >= 0).unwrap_or(i64::MAX)],
        |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
    )?;
    let mut out = Vec::new();
    for (id, rma) in returns {
        let lines = db.map(
            "SELECT coalesce((SELECT min(b.code) FROM product_barcodes b WHERE b.sku = l.sku), l.sku), l.sku,
                    coalesce(p.name, l.title, ''), l.qty, coalesce(p.serialised, 0), coalesce(l.serials, '')
             FROM return_lines l LEFT JOIN products p ON p.sku = l.sku
             WHERE l.return_id = ?1 ORDER BY l.line_no",
            args![id],
            |r| {
                let mut line = WaitingLine {
                    code: r.get(0)?,
                    sku: r.get(1)?,
                    name: r.get(2)?,
                    qty: r.get(3)?,
                    serialised: r.get(4)?,
                    serials: r
                        .get::<String>(5)?
                        .split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                };
                // GTINs are stored as 14 digits; the product carries the 13 of an EAN-13.
                if let Some(ean) = line.code.strip_prefix('0').filter(|c| c.len() == 13) {
                    line.code = ean.to_string();
                }
                Ok(line)
            },
        )?;
        out.push(WaitingReturn { rma, lines });
    }
    Ok(out)
}
