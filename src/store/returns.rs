//! Expected returns: written by imports, one return (with all its lines) at a time.

use super::{timestamp, Fingerprint};
use crate::domain::codes::{Coded, Resolution};
use crate::domain::tracking::tracking_key;
use chrono::{DateTime, FixedOffset};
use rusqlite::{params, Connection, OptionalExtension};

/// One expected return as validated from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnWrite {
    pub rma_no: String,
    pub order_no: String,
    pub tracking_no: Option<String>,
    pub carrier: Option<String>,
    pub customer: Option<String>,
    pub phone: Option<String>,
    pub reason: Option<String>,
    pub resolution: Resolution,
    pub requested_at: Option<String>,
    pub lines: Vec<LineWrite>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineWrite {
    pub sku: String,
    pub barcode: Option<String>,
    pub title: Option<String>,
    pub qty: i64,
    pub serials: Vec<String>,
    pub unit_value_cents: Option<i64>,
}

/// What writing one return did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnWritten {
    Created,
    Updated,
    Unchanged,
    /// The file changes a return whose parcel is already at the dock: what was received is
    /// kept and the change is not applied.
    Conflict {
        parcel_id: i64,
        received_at: String,
    },
    /// The same RMA already came earlier in this very import: the file's rows of one return
    /// are not together. Nothing was written.
    SeenEarlierInThisImport,
}

impl ReturnWrite {
    fn fingerprint(&self) -> i64 {
        let mut f = Fingerprint::default();
        for s in [&self.rma_no, &self.order_no] {
            f.add(s);
        }
        for s in
            [&self.tracking_no, &self.carrier, &self.customer, &self.phone, &self.reason, &self.requested_at]
        {
            f.add_opt(s.as_deref());
        }
        f.add(self.resolution.code());
        for l in &self.lines {
            f.add(&l.sku);
            f.add_opt(l.barcode.as_deref());
            f.add_opt(l.title.as_deref());
            f.add(&l.qty.to_string());
            f.add(&l.serials.join(";"));
            f.add(&l.unit_value_cents.map(|c| c.to_string()).unwrap_or_default());
        }
        f.value()
    }
}

/// Creates, updates or leaves the return, inside the caller's transaction.
pub fn write_return(
    conn: &Connection,
    r: &ReturnWrite,
    import_id: i64,
    now: DateTime<FixedOffset>,
) -> rusqlite::Result<ReturnWritten> {
    let hash = r.fingerprint();
    let existing: Option<(i64, i64, Option<i64>)> = conn
        .prepare_cached("SELECT id, content_hash, import_id FROM returns WHERE rma_no = ?1")?
        .query_row([&r.rma_no], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    let now = timestamp(now);
    let Some((id, old_hash, last_import)) = existing else {
        insert_return(conn, r, hash, import_id, &now)?;
        return Ok(ReturnWritten::Created);
    };
    if last_import == Some(import_id) {
        return Ok(ReturnWritten::SeenEarlierInThisImport);
    }
    let touch = |conn: &Connection| {
        conn.prepare_cached("UPDATE returns SET import_id = ?2 WHERE id = ?1")?
            .execute(params![id, import_id])
    };
    if old_hash == hash {
        touch(conn)?;
        return Ok(ReturnWritten::Unchanged);
    }
    let received: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT p.id, p.received_at FROM parcel_returns pr JOIN parcels p ON p.id = pr.parcel_id
             WHERE pr.return_id = ?1 ORDER BY p.received_at LIMIT 1",
        )?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    if let Some((parcel_id, received_at)) = received {
        touch(conn)?;
        return Ok(ReturnWritten::Conflict { parcel_id, received_at });
    }
    conn.prepare_cached(
        "UPDATE returns SET order_no = ?2, order_key = ?3, tracking_no = ?4, tracking_key = ?5,
            carrier = ?6, customer = ?7, phone = ?8, reason = ?9, resolution = ?10,
            requested_at = ?11, content_hash = ?12, import_id = ?13, updated_at = ?14,
            rma_key = ?15
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        r.order_no,
        tracking_key(&r.order_no),
        r.tracking_no,
        r.tracking_no.as_deref().map(tracking_key),
        r.carrier,
        r.customer,
        r.phone,
        r.reason,
        r.resolution.code(),
        r.requested_at,
        hash,
        import_id,
        now,
        tracking_key(&r.rma_no),
    ])?;
    conn.prepare_cached("DELETE FROM return_lines WHERE return_id = ?1")?.execute([id])?;
    insert_lines(conn, id, &r.lines)?;
    Ok(ReturnWritten::Updated)
}

fn insert_return(
    conn: &Connection,
    r: &ReturnWrite,
    hash: i64,
    import_id: i64,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO returns (rma_no, rma_key, order_no, order_key, tracking_no, tracking_key,
            carrier, customer, phone, reason, resolution, requested_at, content_hash, import_id,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)",
    )?
    .execute(params![
        r.rma_no,
        tracking_key(&r.rma_no),
        r.order_no,
        tracking_key(&r.order_no),
        r.tracking_no,
        r.tracking_no.as_deref().map(tracking_key),
        r.carrier,
        r.customer,
        r.phone,
        r.reason,
        r.resolution.code(),
        r.requested_at,
        hash,
        import_id,
        now,
    ])?;
    let id = conn.last_insert_rowid();
    insert_lines(conn, id, &r.lines)
}

fn insert_lines(conn: &Connection, return_id: i64, lines: &[LineWrite]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO return_lines (return_id, line_no, sku, barcode, title, qty, serials, unit_value_cents)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (i, l) in lines.iter().enumerate() {
        let serials = (!l.serials.is_empty()).then(|| l.serials.join(";"));
        stmt.execute(params![
            return_id,
            i as i64 + 1,
            l.sku,
            l.barcode,
            l.title,
            l.qty,
            serials,
            l.unit_value_cents
        ])?;
    }
    Ok(())
}
